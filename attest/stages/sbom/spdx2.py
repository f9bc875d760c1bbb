"""SPDX 2.3 SBOM (JSON) from ModelFacts, built, written and validated with ``spdx-tools``.

Choices (the full table is in ``docs/evidence/spdx.md``):

- Files are SPDX *packages* with ``primaryPackagePurpose: FILE``, not SPDX ``File`` elements:
  SPDX 2.3 requires a SHA1 checksum on every ``File`` and attest knows only SHA-256 (the
  ModelPack layer digest; re-hashing weights just for SHA1 is what attest never does). A package
  may carry SHA-256 alone, and ``FILE`` ("the package is a single file") is what 2.3 offers.
- SPDX 2.3 has no ML vocabulary: the model is ``primaryPackagePurpose: OTHER``; training data is
  ``GENERATED_FROM`` and test data ``OTHER``, each with a relationship comment carrying the
  SPDX 3 relationship type (``trainedOn``, ``testedOn``); the base model is ``DESCENDANT_OF``.
- ``created`` is the ModelPack ``createdAt``, else the fixed :data:`UNKNOWN_CREATED` (the Unix
  epoch, as with ``SOURCE_DATE_EPOCH=0``): SPDX 2.3 requires the field and the wall clock would
  make the document differ on every run. The creator comment says which one was used.
- Unknown facts are ``NOASSERTION`` (licences, download locations) or absent; never guessed.

Helpers both SPDX writers use are in :mod:`attest.stages.sbom.spdx_common`; reading and
validating a document is :mod:`attest.sbom_read.spdx2`.
"""

from __future__ import annotations

import io
import json
from typing import Any

from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    ExtractedLicensingInfo,
    Package,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.validation.uri_validators import validate_download_location
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from attest import __version__
from attest.errors import InternalError
from attest.facts.licenses import license_refs, parse_expression
from attest.facts.model import DatasetFact, FileFact, ModelFacts, WeightFacts
from attest.sbom_read.spdx2 import DATASET_COMMENTS, SPDX_VERSION, license_or_none, validate_spdx2
from attest.stages.sbom.cyclonedx import oci_purl
from attest.stages.sbom.spdx_common import (
    DOCUMENT_ID,
    MODEL_ID,
    LicenseInfo,
    base_model_id,
    created_at,
    creation_time,
    dataset_id,
    dataset_relation,
    document_key,
    file_id,
    license_info,
    model_license,
    sha256_hex,
    slug,
    source_info,
    unique_datasets,
)
from attest.stages.sbom.weights import weight_summary

NAMESPACE_BASE = "https://attest.dev/spdxdocs/"
_SPDX2_DATASET_TYPES = {
    # A model is produced from its training data (GENERATED_FROM); 2.3 has no "tested on".
    "trainedOn": RelationshipType.GENERATED_FROM,
    "testedOn": RelationshipType.OTHER,
    "other": RelationshipType.OTHER,
}
BASE_MODEL_COMMENT = "descendantOf: the model derives from this base model"


# -- public API ---------------------------------------------------------------------------------


def build_spdx2(facts: ModelFacts) -> dict[str, Any]:
    """The SPDX 2.3 JSON document for ``facts``, validated by ``spdx-tools``.

    Raises :class:`InternalError` when the validator finds anything: invalid output is a bug.
    """
    document = _document(facts)
    stream = io.StringIO()
    write_document_to_stream(document, stream, validate=False)  # validated below, as JSON
    doc = json.loads(stream.getvalue())
    errors = validate_spdx2(doc)
    if errors:
        raise InternalError(
            "the SPDX 2.3 document attest built is not valid: " + "; ".join(errors[:5]),
            hint="this is a bug in attest; please report it with the model's facts",
        )
    return doc


# -- building the 2.3 document -------------------------------------------------------------


def _document(facts: ModelFacts) -> Document:
    created, created_comment = creation_time(facts)
    key = document_key(facts)
    info = CreationInfo(
        spdx_version=SPDX_VERSION,
        spdx_id=DOCUMENT_ID,
        name=facts.name,
        document_namespace=f"{NAMESPACE_BASE}{slug(facts.name)}-{key}",
        creators=[Actor(ActorType.TOOL, f"attest-{__version__}")],
        created=created,
        creator_comment=created_comment,
    )
    model = _model_package(facts)
    weights = {w.path: w for w in facts.weights}
    files = {f.path: _file_package(f, weights.get(f.path))
             for f in sorted(facts.files, key=lambda f: f.path)}  # fmt: skip
    datasets = unique_datasets(facts.datasets)
    dataset_packages = {name: _dataset_package(facts_) for name, facts_ in datasets.items()}
    base_source = facts.base_model_fact[1] or "the model's facts"
    bases = [_base_model_package(b, base_source) for b in sorted(set(facts.base_models))]

    relationships = [Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, MODEL_ID)]
    relationships += [
        Relationship(MODEL_ID, RelationshipType.CONTAINS, p.spdx_id) for p in files.values()
    ]
    for name, dataset_facts in datasets.items():
        target = dataset_packages[name].spdx_id
        for relation in sorted({dataset_relation(d) for d in dataset_facts}):
            relationships.append(
                Relationship(MODEL_ID, _SPDX2_DATASET_TYPES[relation], target,
                             comment=DATASET_COMMENTS[relation])
            )
        path = next((d.path for d in dataset_facts if d.path), None)
        if path in files:  # a dataset packed with the model: its file is part of it
            relationships.append(
                Relationship(target, RelationshipType.CONTAINS, files[path].spdx_id)
            )
    relationships += [
        Relationship(MODEL_ID, RelationshipType.DESCENDANT_OF, b.spdx_id,
                     comment=BASE_MODEL_COMMENT)
        for b in bases
    ]
    packages = [model, *files.values(), *dataset_packages.values(), *bases]
    return Document(
        creation_info=info,
        packages=packages,
        relationships=relationships,
        extracted_licensing_info=_extracted_licences(facts, packages),
    )


def _model_package(facts: ModelFacts) -> Package:
    lic = model_license(facts)
    purl = oci_purl(facts)
    refs = (
        [ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl.to_string())]
        if purl
        else []
    )
    declared = facts.declared
    return Package(
        spdx_id=MODEL_ID,
        name=facts.name,
        version=facts.version,
        download_location=_download_location(facts),
        files_analyzed=False,  # its files are FILE packages (see the module doc)
        license_declared=_license_value(lic),
        license_concluded=SpdxNoAssertion(),  # attest declares; it does not conclude
        license_comment=lic.note,
        description=declared.description if declared else None,
        source_info=source_info(facts),
        external_references=refs,
        primary_package_purpose=PackagePurpose.OTHER,
        built_date=created_at(facts),
        comment="machine-learning model (SPDX 2.3 has no model purpose; SPDX 3: model)",
    )


def _download_location(facts: ModelFacts) -> str | SpdxNoAssertion:
    """``registry/repo@digest`` when SPDX 2.3 accepts it as a location, else NOASSERTION.

    SPDX 2.3 locations are URLs or VCS locators: a registry reference on a real domain reads
    as a scheme-less URL; ``localhost:5000/...`` and ``oci:`` layouts do not, and say nothing.
    """
    subject = facts.subject
    if subject is None or subject.repository.startswith("oci:"):
        return SpdxNoAssertion()
    location = f"{subject.repository}@{subject.digest}"
    return SpdxNoAssertion() if validate_download_location(location) else location


def _file_package(file: FileFact, weight: WeightFacts | None = None) -> Package:
    lic = license_info(file.spdx_license, f"SPDX header of {file.path}")
    return Package(
        spdx_id=file_id(file.path),
        name=file.path,
        file_name=file.path,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, sha256_hex(file.sha256, file.path))],
        # The file's own SPDX-License-Identifier header is its author's declaration.
        license_declared=_license_value(lic) if file.spdx_license else None,
        license_comment=lic.note,
        primary_package_purpose=PackagePurpose.FILE,
        comment=f"ModelPack file role: {file.role}"
        + (f"; {weight_summary(weight)}" if weight is not None else ""),
    )


def _dataset_package(facts: list[DatasetFact]) -> Package:
    first = facts[0]
    lic = license_info(first.license, f"licence of dataset {first.name}")
    location: str | SpdxNoAssertion = SpdxNoAssertion()
    if first.url and not validate_download_location(first.url):
        location = first.url
    checksums = (
        [Checksum(ChecksumAlgorithm.SHA256, sha256_hex(first.sha256, first.name))]
        if first.sha256
        else []
    )
    return Package(
        spdx_id=dataset_id(first.name),
        name=first.name,
        download_location=location,
        files_analyzed=False,
        checksums=checksums,
        license_declared=_license_value(lic),
        license_concluded=SpdxNoAssertion(),
        license_comment=lic.note,
        description=first.description,
        primary_package_purpose=PackagePurpose.OTHER,
        comment="dataset (SPDX 2.3 has no data purpose; SPDX 3: dataset_DatasetPackage)",
    )


def _base_model_package(name: str, source: str) -> Package:
    return Package(
        spdx_id=base_model_id(name),
        name=name,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        primary_package_purpose=PackagePurpose.OTHER,
        comment=f"base model named by {source}",
    )


def _license_value(lic: LicenseInfo) -> Any:
    if lic.expression is None:
        return SpdxNoAssertion()
    return parse_expression(lic.expression)  # spdx-tools takes license-expression's objects


def _extracted_licences(facts: ModelFacts, packages: list[Package]) -> list[ExtractedLicensingInfo]:
    """Every LicenseRef used needs its entry; attest has the licence's name, not its text."""
    used: set[str] = set()
    for package in packages:
        used.update(license_refs(license_or_none(package.license_declared)))
    names = {lic.spdx_id: lic.name for lic in facts.licenses if lic.spdx_id and lic.name}
    files = {lic.spdx_id: lic.source for lic in facts.licenses if lic.spdx_id and lic.sha256}
    infos = []
    for ref in sorted(used):
        where = f" in the model's file {files[ref]}" if ref in files else ""
        infos.append(
            ExtractedLicensingInfo(
                license_id=ref,
                extracted_text=(
                    f"The text of this licence is not reproduced by attest; it is the licence "
                    f"named {names.get(ref) or ref.removeprefix('LicenseRef-')!r}{where}."
                ),
                license_name=names.get(ref) or ref.removeprefix("LicenseRef-"),
            )
        )
    return infos
