"""CycloneDX 1.6 ML-BOM from ModelFacts.

Built in three steps: the library (``cyclonedx-python-lib``) builds and serialises everything it
models (metadata, components, hashes, licences, pedigree, dependencies); ``modelCard`` and ``data``,
which the library does not model yet (its issues #911-#913), are added to the JSON
(:mod:`attest.stages.sbom.cyclonedx_card`); the final JSON is validated against the 1.6 schema
shipped inside the library (:func:`attest.sbom_read.cyclonedx.schema_errors`). The result is
deterministic: the same facts give byte-identical JSON (written by
:func:`attest.stages.sbom.stage.document_bytes`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Commit, Component, ComponentType, Pedigree
from cyclonedx.model.contact import OrganizationalContact
from cyclonedx.model.license import License
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from jsonschema import Draft7Validator
from packageurl import PackageURL

from attest import __version__
from attest.errors import InputError, InternalError
from attest.facts.model import DatasetFact, FileFact, ModelFacts, WeightFacts
from attest.sbom_read.cyclonedx import schema_errors
from attest.stages.sbom.cyclonedx_card import dataset_data, model_card
from attest.stages.sbom.weights import model_precision, model_quantization, weight_properties

# Fixed namespace so serial numbers are stable across runs and machines (uuid5, not uuid4).
_SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:attest:cyclonedx:serial-number")
_SHA256_RE = re.compile(r"^sha256:([0-9a-f]{64})$")


# -- public API ---------------------------------------------------------------------------------


def build_cyclonedx(facts: ModelFacts) -> dict[str, Any]:
    """Return the CycloneDX 1.6 ML-BOM for ``facts`` as JSON-ready data, schema-validated.

    Raises :class:`InputError` when a declared URL is not a URL, and :class:`InternalError` when
    the document fails the 1.6 schema (that is a bug in this module, never a user error).
    """
    _check_urls(facts)
    datasets = _unique_datasets(facts.datasets)
    doc = _library_json(facts, datasets)
    if facts.created_at is None:
        # The library always stamps wall-clock time; an unknown creation time is left out instead.
        doc["metadata"].pop("timestamp", None)
    card = model_card(facts, [dataset_ref(d) for d in datasets])
    if card:
        doc["metadata"]["component"]["modelCard"] = card
    by_ref = {c["bom-ref"]: c for c in doc.get("components", [])}
    for dataset in datasets:
        by_ref[dataset_ref(dataset)]["data"] = [dataset_data(dataset)]
    _canonical_order(doc)
    errors = schema_errors(doc)
    if errors:
        raise InternalError(
            "the CycloneDX document attest built is not valid CycloneDX 1.6: " + "; ".join(errors),
            hint="this is a bug in attest; please report it with the model's facts",
        )
    return doc


def model_ref(facts: ModelFacts) -> str:
    return f"model:{facts.name}"


def file_ref(path: str) -> str:
    return f"file:{path}"


def dataset_ref(dataset: DatasetFact) -> str:
    return f"dataset:{dataset.name}"


# -- what the library builds ---------------------------------------------------------------------


def _library_json(facts: ModelFacts, datasets: list[DatasetFact]) -> dict[str, Any]:
    model = _model_component(facts)
    weights = {w.path: w for w in facts.weights}
    files = [_file_component(f, weights.get(f.path)) for f in facts.files]
    data = [_dataset_component(d) for d in datasets]
    bom = Bom(
        components=files + data,
        serial_number=serial_number(facts),
        metadata=BomMetaData(
            component=model,
            tools=ToolRepository(components=[_tool_component()]),
            timestamp=facts.created_at,
        ),
    )
    bom.register_dependency(model, files + data)
    return json.loads(JsonV1Dot6(bom).output_as_string())


def serial_number(facts: ModelFacts) -> uuid.UUID:
    """uuid5 over the subject digest, else over the sorted (path, digest) pairs, else the name."""
    if facts.subject:
        seed = facts.subject.digest
    elif facts.files:
        seed = "\n".join(sorted(f"{f.path}\0{f.sha256}" for f in facts.files))
    else:
        seed = f"name:{facts.name}"
    return uuid.uuid5(_SERIAL_NAMESPACE, seed)


def _tool_component() -> Component:
    return Component(type=ComponentType.APPLICATION, name="attest", version=__version__)


def _model_component(facts: ModelFacts) -> Component:
    declared = facts.declared
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=facts.name,
        version=facts.version,
        bom_ref=model_ref(facts),
        description=declared.description if declared else None,
        authors=[OrganizationalContact(name=a) for a in declared.authors] if declared else None,
        purl=oci_purl(facts),
        licenses=_model_licenses(facts),
        external_references=_model_references(facts),
        properties=_model_properties(facts),
        pedigree=_pedigree(facts),
        tags=facts.card.tags if facts.card and facts.card.tags else None,
    )


def oci_purl(facts: ModelFacts) -> PackageURL | None:
    """``pkg:oci/<name>@sha256:<hex>?repository_url=<registry/repo>`` (purl ``oci`` type).

    The name is the repository's last path segment, lower-cased (the type definition says so).
    A local OCI layout is no repository anyone else can reach, so it gives the name only.
    Percent-encoding follows the purl standard as packageurl-python writes it: the ':' in the
    digest stays unencoded (``sha256%3A`` in older examples parses to the same purl).
    """
    subject = facts.subject
    if subject is None:
        return None
    if _is_registry(subject.repository):
        name = subject.repository.rsplit("/", 1)[-1].lower()
        qualifiers = {"repository_url": subject.repository}
    else:
        name, qualifiers = facts.name.lower(), {}
    return PackageURL(type="oci", name=name, version=subject.digest, qualifiers=qualifiers)


def _is_registry(repository: str) -> bool:
    return not repository.startswith("oci:")


def _model_licenses(facts: ModelFacts) -> list[License]:
    factory = LicenseFactory()
    if facts.license:
        return [factory.make_from_string(facts.license)]
    # No SPDX id anywhere: keep what the sources literally said, as named licences.
    names = sorted({lic.name for lic in facts.licenses if lic.name})
    return [factory.make_with_name(name) for name in names]


def _model_references(facts: ModelFacts) -> list[ExternalReference]:
    refs: list[ExternalReference] = []
    subject = facts.subject
    if subject and _is_registry(subject.repository):
        # oci:// form: a bare "127.0.0.1:5000/repo@sha256:..." is not a valid IRI reference.
        url = f"oci://{subject.repository}@{subject.digest}"
        refs.append(_reference(ExternalReferenceType.DISTRIBUTION, url, "OCI manifest"))
    if facts.card:
        card_file = _file_by_path(facts, facts.card.path)
        hashes = [_sha256(card_file)] if card_file else None
        refs.append(ExternalReference(type=ExternalReferenceType.MODEL_CARD,
                                      url=XsUri(facts.card.path), hashes=hashes))
    declared = facts.declared
    if declared and declared.source_repository:
        refs.append(_reference(ExternalReferenceType.VCS, declared.source_repository))
    for url, comment in _documentation_urls(facts):
        refs.append(_reference(ExternalReferenceType.DOCUMENTATION, url, comment))
    return refs


def _documentation_urls(facts: ModelFacts) -> list[tuple[str, str]]:
    declared = facts.declared
    urls: list[tuple[str, str]] = []
    if declared and declared.paper_url:
        urls.append((declared.paper_url, "paper"))
    if declared and declared.technical_report_url:
        urls.append((declared.technical_report_url, "technical report"))
    for link in facts.card.arxiv if facts.card else []:
        if link not in {u for u, _ in urls}:
            urls.append((link, "arXiv paper linked from the model card"))
    return urls


def _reference(kind: ExternalReferenceType, url: str, comment: str | None = None
               ) -> ExternalReference:
    return ExternalReference(type=kind, url=XsUri(url), comment=comment)


def _model_properties(facts: ModelFacts) -> list[Property]:
    props = []
    if facts.parameter_count is not None:
        props.append(Property(name="attest:parameter-count", value=str(facts.parameter_count)))
    if facts.formats:
        props.append(Property(name="attest:format", value=",".join(facts.formats)))
    precision, quantization = model_precision(facts), model_quantization(facts)
    if precision:
        props.append(Property(name="attest:precision", value=precision))
    if quantization:
        props.append(Property(name="attest:quantization", value=quantization))
    # facts the front matter and attest.yaml are silent about, with where they were found
    for key, (values, source) in (("base-model", facts.base_model_fact),
                                  ("languages", facts.language_fact),
                                  ("organization", facts.organization_fact)):
        if not values or not source or source == "attest.yaml" or source.endswith("front matter"):
            continue
        if key != "base-model":  # the base model itself is the pedigree's ancestor
            props.append(Property(name=f"attest:{key}", value=",".join(values)))
        props.append(Property(name=f"attest:{key}-source", value=source))
    return props


def _pedigree(facts: ModelFacts) -> Pedigree | None:
    # "Derived from" in CycloneDX: the base model is an ancestor; the source commit a commit.
    ancestors = [
        Component(type=ComponentType.MACHINE_LEARNING_MODEL, name=b, bom_ref=f"base-model:{b}")
        for b in facts.base_models
    ]
    declared = facts.declared
    commits = []
    if declared and declared.source_commit:
        url = XsUri(declared.source_repository) if declared.source_repository else None
        commits.append(Commit(uid=declared.source_commit, url=url))
    if not ancestors and not commits:
        return None
    return Pedigree(ancestors=ancestors, commits=commits)


def _file_component(file: FileFact, weight: WeightFacts | None = None) -> Component:
    licenses = [LicenseFactory().make_from_string(file.spdx_license)] if file.spdx_license else None
    props = [Property(name="attest:role", value=file.role)]
    if weight is not None:
        props += [Property(name=k, value=v) for k, v in weight_properties(weight)]
    return Component(
        type=ComponentType.FILE,
        name=file.path,
        bom_ref=file_ref(file.path),
        hashes=[_sha256(file)],
        licenses=licenses,
        properties=props,
    )


def _dataset_component(dataset: DatasetFact) -> Component:
    props = []
    if dataset.use != "unknown":
        props.append(Property(name="attest:dataset-use", value=dataset.use))
    if dataset.path:
        props.append(Property(name="attest:path", value=dataset.path))
    hashes = [HashType(alg=HashAlgorithm.SHA_256, content=_hex(dataset.sha256, dataset.name))] \
        if dataset.sha256 else None
    licenses = [LicenseFactory().make_from_string(dataset.license)] if dataset.license else None
    return Component(
        type=ComponentType.DATA,
        name=dataset.name,
        bom_ref=dataset_ref(dataset),
        hashes=hashes,
        licenses=licenses,
        properties=props,
    )


def _sha256(file: FileFact) -> HashType:
    return HashType(alg=HashAlgorithm.SHA_256, content=_hex(file.sha256, file.path))


def _hex(digest: str, what: str) -> str:
    match = _SHA256_RE.match(digest)
    if not match:
        raise InternalError(f"digest of {what!r} is not 'sha256:<64 hex>': {digest!r}")
    return match.group(1)


def _file_by_path(facts: ModelFacts, path: str) -> FileFact | None:
    return next((f for f in facts.files if f.path == path), None)


def _unique_datasets(datasets: Iterable[DatasetFact]) -> list[DatasetFact]:
    # One data component per name: bom-refs must be unique. The merged list puts the most
    # explicit source first, so the first fact for a name wins.
    seen: dict[str, DatasetFact] = {}
    for dataset in datasets:
        seen.setdefault(dataset.name, dataset)
    return list(seen.values())


# -- ordering, validation, input checks -----------------------------------------------------------


def _canonical_order(doc: dict[str, Any]) -> None:
    """Sort what has no meaningful order, so the bytes depend on the facts alone."""
    doc["components"] = sorted(doc.get("components", []), key=lambda c: c["bom-ref"])
    if not doc["components"]:
        del doc["components"]
    for dep in doc.get("dependencies", []):
        if "dependsOn" in dep:
            dep["dependsOn"] = sorted(dep["dependsOn"])
    doc["dependencies"] = sorted(doc.get("dependencies", []), key=lambda d: d["ref"])


def _check_urls(facts: ModelFacts) -> None:
    """A declared URL that is not one is the user's input error, said before building."""
    candidates: list[tuple[str, str | None]] = []
    if facts.declared:
        candidates += [
            ("source_repository", facts.declared.source_repository),
            ("paper_url", facts.declared.paper_url),
            ("technical_report_url", facts.declared.technical_report_url),
        ]
    candidates += [(f"dataset {d.name!r} url", d.url) for d in facts.datasets]
    candidates += [("model card arXiv link", u) for u in (facts.card.arxiv if facts.card else [])]
    # uri-reference (rfc3986-validator), not iri-reference: the IRI checker's dependency costs
    # 1.5 s of import time on every command. Declared URLs are ASCII in practice.
    checker = Draft7Validator.FORMAT_CHECKER
    for field_name, value in candidates:
        if value is not None and not checker.conforms(value, "uri-reference"):
            raise InputError(
                f"{field_name} is not a URL: {value!r}",
                hint="write it as a URL, e.g. https://github.com/org/repo",
            )
