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

Helpers used by both SPDX writers (summary, licences, ids, dates) live here and are public.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
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
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.validation.uri_validators import validate_download_location
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from attest import __version__
from attest.errors import InternalError
from attest.facts.licenses import (
    is_spdx_expression,
    license_refs,
    normalize_license,
    parse_expression,
)
from attest.facts.model import DatasetFact, FileFact, ModelFacts, WeightFacts
from attest.stages.sbom.cyclonedx import model_card, oci_purl
from attest.stages.sbom.weights import weight_summary

SPDX2_MEDIA_TYPE = "application/spdx+json"
SPDX2_PREDICATE_TYPE = "https://spdx.dev/Document/v2.3"
# Both SPDX versions share one media type: a referrer says which one it holds with this.
SPDX2_ANNOTATIONS = {"org.spdx.version": "2.3"}

SPDX_VERSION = "SPDX-2.3"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
MODEL_ID = "SPDXRef-Model"
NAMESPACE_BASE = "https://attest.dev/spdxdocs/"
# SPDX 2.3 requires ``created``; when the artifact has no createdAt, this fixed value keeps the
# document reproducible (the SOURCE_DATE_EPOCH=0 convention) instead of stamping the wall clock.
UNKNOWN_CREATED = datetime(1970, 1, 1, tzinfo=timezone.utc)

# DatasetFact.use -> the SPDX 3 relationship type; SPDX 2.3 puts it in a relationship comment.
DATASET_RELATIONS = {
    "training": "trainedOn",
    "fine-tuning": "trainedOn",
    "testing": "testedOn",
    "evaluation": "testedOn",
    "unknown": "other",
}
_SPDX2_DATASET_TYPES = {
    # A model is produced from its training data (GENERATED_FROM); 2.3 has no "tested on".
    "trainedOn": RelationshipType.GENERATED_FROM,
    "testedOn": RelationshipType.OTHER,
    "other": RelationshipType.OTHER,
}
_DATASET_COMMENTS = {
    "trainedOn": "trainedOn: the model was trained on this dataset",
    "testedOn": "testedOn: the model was tested (evaluated) on this dataset",
    "other": "usesDataset: the model's facts name this dataset without saying how it was used",
}
BASE_MODEL_COMMENT = "descendantOf: the model derives from this base model"
_SHA256_RE = re.compile(r"^sha256:([0-9a-f]{64})$")


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


def validate_spdx2(doc: dict[str, Any]) -> list[str]:
    """Messages of ``spdx-tools``' parser and full-document validator (empty when valid)."""
    try:
        document = JsonLikeDictParser().parse(doc)
    except SPDXParsingError as exc:
        return [str(m) for m in exc.get_messages()]
    return [m.validation_message for m in validate_full_spdx_document(document, SPDX_VERSION)]


def spdx2_to_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """The comparable summary of an SPDX 2.3 JSON document (tests/sbom_fixtures.py: expected)."""
    document = JsonLikeDictParser().parse(doc)
    packages = {p.spdx_id: p for p in document.packages}
    roots = [
        r.related_spdx_element_id
        for r in document.relationships
        if r.relationship_type == RelationshipType.DESCRIBES
        and r.spdx_element_id == document.creation_info.spdx_id
    ]
    model = packages[str(roots[0])]
    datasets: dict[str, set[str]] = {}
    files: dict[str, str] = {}
    bases: list[str] = []
    # The comment's first word is the SPDX 3 relationship type ("usesDataset" for "other").
    comment_relation = {c.partition(":")[0]: rel for rel, c in _DATASET_COMMENTS.items()}
    for rel in document.relationships:
        if rel.spdx_element_id != model.spdx_id:
            continue
        target = packages.get(str(rel.related_spdx_element_id))
        if target is None:
            continue
        if rel.relationship_type == RelationshipType.CONTAINS:
            files[target.name] = "sha256:" + _checksum(target, ChecksumAlgorithm.SHA256)
        elif rel.relationship_type == RelationshipType.DESCENDANT_OF:
            bases.append(target.name)
        elif (rel.comment or "").partition(":")[0] in comment_relation:
            relation = comment_relation[(rel.comment or "").partition(":")[0]]
            datasets.setdefault(target.name, set()).add(relation)
    return make_summary(
        name=model.name,
        version=model.version,
        license=_license_or_none(model.license_declared),
        datasets=datasets,
        files=files,
        base_models=bases,
        purl=next(
            (r.locator for r in model.external_references if r.reference_type == "purl"), None
        ),
    )


def make_summary(**fields: Any) -> dict[str, Any]:
    """The summary dict with its collections in a canonical order."""
    fields["datasets"] = {k: sorted(v) for k, v in sorted(fields["datasets"].items())}
    fields["files"] = dict(sorted(fields["files"].items()))
    fields["base_models"] = sorted(fields["base_models"])
    return fields


# -- helpers shared with the SPDX 3 writer -------------------------------------------------


@dataclass(frozen=True)
class LicenseInfo:
    """A licence as SPDX can say it: an expression, or NOASSERTION with what the source said."""

    expression: str | None  # a valid SPDX expression (LicenseRef- allowed); None = NOASSERTION
    note: str | None = None  # why there is no expression, or what a LicenseRef stands for


def license_info(text: str | None, source: str) -> LicenseInfo:
    """``text`` (from ``source``) as an SPDX expression, else NOASSERTION with a note."""
    if not text:
        return LicenseInfo(None)
    match = normalize_license(text)
    if match.spdx_id and is_spdx_expression(match.spdx_id):
        return LicenseInfo(match.spdx_id, f"{source}: {text!r}" if match.name else None)
    return LicenseInfo(None, f"{source}: {text!r} is not an SPDX licence expression")


def model_license(facts: ModelFacts) -> LicenseInfo:
    """The model's declared licence (ModelFacts.license), else what unrecognised sources said."""
    if facts.license:
        return license_info(facts.license, "model licence")
    names = sorted({lic.name for lic in facts.licenses if lic.name and not lic.spdx_id})
    if names:
        said = "; ".join(repr(n) for n in names)
        return LicenseInfo(None, f"licence text not recognised as an SPDX licence: {said}")
    return LicenseInfo(None)


def dataset_relation(dataset: DatasetFact) -> str:
    """The SPDX 3 relationship type for ``dataset.use``: trainedOn, testedOn or other."""
    return DATASET_RELATIONS.get(dataset.use, "other")


def unique_datasets(datasets: Iterable[DatasetFact]) -> dict[str, list[DatasetFact]]:
    """Datasets by name, first fact first (the merged list puts the most explicit source first)."""
    by_name: dict[str, list[DatasetFact]] = {}
    for dataset in datasets:
        by_name.setdefault(dataset.name, []).append(dataset)
    return by_name


def created_at(facts: ModelFacts) -> datetime | None:
    """The ModelPack ``descriptor.createdAt`` (UTC, whole seconds), or None."""
    return facts.created_at


def creation_time(facts: ModelFacts) -> tuple[datetime, str]:
    """``created`` for an SPDX document and a comment saying where it came from."""
    when = created_at(facts)
    if when:
        return when, "created is the ModelPack createdAt of the model"
    return UNKNOWN_CREATED, (
        "created is 1970-01-01T00:00:00Z: the model has no ModelPack createdAt and attest "
        "does not stamp the wall clock (documents must be reproducible)"
    )


def document_key(facts: ModelFacts) -> str:
    """A short, stable key for the document: artifact digest + a fingerprint of the facts.

    The artifact part is the subject manifest digest, else a hash of the file digests; the
    fingerprint changes whenever the facts (or attest's version) change, so every distinct
    document gets its own namespace, as SPDX asks, and the same facts always get the same one.
    """
    if facts.subject:
        artifact = facts.subject.digest.partition(":")[2]
    else:
        lines = "\n".join(sorted(f"{f.path}\0{f.sha256}" for f in facts.files))
        artifact = hashlib.sha256(lines.encode()).hexdigest()
    canonical = json.dumps(facts.to_dict(), sort_keys=True, default=str, separators=(",", ":"))
    fingerprint = hashlib.sha256(f"{__version__}\n{canonical}".encode()).hexdigest()
    return f"{artifact[:32]}-{fingerprint[:12]}"


def slug(text: str) -> str:
    """``text`` reduced to ``[A-Za-z0-9.-]`` (SPDX 2 idstring); a hash suffix keeps it unique."""
    cleaned = re.sub(r"[^A-Za-z0-9.\-]+", "-", text).strip("-") or "x"
    if cleaned == text:
        return cleaned
    return f"{cleaned}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def sha256_hex(digest: str, what: str) -> str:
    match = _SHA256_RE.match(digest)
    if not match:
        raise InternalError(f"digest of {what!r} is not 'sha256:<64 hex>': {digest!r}")
    return match.group(1)


def card_prose(facts: ModelFacts) -> tuple[str | None, str | None]:
    """(intended use, limitations) exactly as the CycloneDX model card says them.

    One source for declared/card prose, so the SBOM formats never disagree.
    """
    considerations = model_card(facts, []).get("considerations", {})
    uses = considerations.get("useCases") or [None]
    limits = considerations.get("technicalLimitations") or [None]
    return uses[0], limits[0]


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
                             comment=_DATASET_COMMENTS[relation])
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


def source_info(facts: ModelFacts) -> str | None:
    declared = facts.declared
    if not declared or not declared.source_repository:
        return None
    at = f" at commit {declared.source_commit}" if declared.source_commit else ""
    return f"built from {declared.source_repository}{at}"


def file_id(path: str) -> str:
    return f"SPDXRef-File-{slug(path)}"


def dataset_id(name: str) -> str:
    return f"SPDXRef-Dataset-{slug(name)}"


def base_model_id(name: str) -> str:
    return f"SPDXRef-BaseModel-{slug(name)}"


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


def _license_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, SpdxNoAssertion):
        return None
    return str(value)


def _extracted_licences(facts: ModelFacts, packages: list[Package]) -> list[ExtractedLicensingInfo]:
    """Every LicenseRef used needs its entry; attest has the licence's name, not its text."""
    used: set[str] = set()
    for package in packages:
        used.update(license_refs(_license_or_none(package.license_declared)))
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


def _checksum(package: Package, algorithm: ChecksumAlgorithm) -> str:
    return next(c.value for c in package.checksums if c.algorithm == algorithm)
