"""Reading an SPDX 3.0.1 JSON-LD document: format constants, offline validation, summary.

Validation (:func:`validate_spdx3`) works offline. ``spdx3-validate`` cannot: it downloads the
JSON-LD context, the JSON schema and the SHACL model from spdx.org on every run, and no package
ships them. So the checks are the binding's own (it is generated from the 3.0.1 SHACL model:
classes, property types, cardinalities, enumerations, IRI/blank-node kinds), applied by decoding
the final JSON and re-encoding it, plus reference resolution and the AI/Dataset profile rules.

Used by the writer (:mod:`attest.stages.sbom.spdx3` checks what it built), by ``verify``'s
summaries, by the report and by lint, none of which need the writer.
"""

from __future__ import annotations

from typing import Any

from spdx_python_model import v3_0_1 as spdx3

from attest.sbom_read.spdx2 import make_summary

SPDX3_MEDIA_TYPE = "application/spdx+json"
SPDX3_PREDICATE_TYPE = "https://spdx.dev/Document/v3"
# SPDX 3 has no media type of its own yet and shares SPDX 2's: the referrer annotation says which.
SPDX3_ANNOTATIONS = {"org.spdx.version": "3.0.1"}

SPEC_VERSION = "3.0.1"
CONTEXT_URL = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"

_R = spdx3.RelationshipType
# The SPDX 3 relationship a dataset has with the model, by its name.
DATASET_TYPES = {"trainedOn": _R.trainedOn, "testedOn": _R.testedOn, "other": _R.other}
_DATASET = spdx3.dataset_DatasetPackage


def validate_spdx3(doc: dict[str, Any]) -> list[str]:
    """Problems of an SPDX 3.0.1 JSON-LD document, checked offline (empty when valid).

    Decoding with the official binding checks every class, property, value type, enumeration
    value and node kind against the 3.0.1 model; re-encoding checks cardinalities; linking
    finds references to elements the document does not define. Then the document rules (one
    ``SpdxDocument`` with roots, every element listed) and the AI/Dataset profile rules.
    """
    if doc.get("@context") != CONTEXT_URL:
        return [f"@context is {doc.get('@context')!r}, not the SPDX 3.0.1 context {CONTEXT_URL}"]
    objset = spdx3.SHACLObjectSet()
    try:
        spdx3.JSONLDDeserializer().deserialize_data(doc, objset)
    except (KeyError, TypeError, ValueError) as exc:
        return [f"not valid against the SPDX 3.0.1 model: {exc}"]
    errors = [f"reference to an element not in the document: {i}" for i in sorted(objset.link())]
    try:
        spdx3.JSONLDSerializer().serialize_data(objset)
    except (TypeError, ValueError) as exc:
        errors.append(f"not valid against the SPDX 3.0.1 model: {exc}")
    return errors + _document_errors(objset) + _profile_errors(objset)


def spdx3_to_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """The comparable summary (:func:`~attest.sbom_read.spdx2.spdx2_to_facts`) of a document."""
    objset = spdx3.SHACLObjectSet()
    spdx3.JSONLDDeserializer().deserialize_data(doc, objset)
    objset.link()
    document = next(iter(objset.foreach_type(spdx3.SpdxDocument)))
    model: Any = document.rootElement[0]  # an ai_AIPackage once linked (validated above)
    datasets: dict[str, set[str]] = {}
    files: dict[str, str] = {}
    bases: list[str] = []
    license_: str | None = None
    by_type = {v: k for k, v in DATASET_TYPES.items()}
    for rel in objset.foreach_type(spdx3.Relationship):
        if rel.from_ is not model:
            continue
        for target in rel.to:
            if rel.relationshipType == _R.contains and isinstance(target, spdx3.software_File):
                files[str(target.name)] = "sha256:" + _hash(target)
            elif rel.relationshipType == _R.descendantOf:
                bases.append(str(getattr(target, "name", target)))
            elif rel.relationshipType == _R.hasDeclaredLicense:
                license_ = getattr(target, "simplelicensing_licenseExpression", None)
            elif rel.relationshipType in by_type and isinstance(target, _DATASET):
                datasets.setdefault(str(target.name), set()).add(by_type[rel.relationshipType])
    return make_summary(
        name=model.name,
        version=model.software_packageVersion,
        license=license_,
        datasets=datasets,
        files=files,
        base_models=bases,
        purl=model.software_packageUrl,
    )


def _hash(element: Any) -> str:
    return next(h.hashValue for h in element.verifiedUsing
                if h.algorithm == spdx3.HashAlgorithm.sha256)


# -- validation rules beyond the model ------------------------------------------------------------


def _document_errors(objset: Any) -> list[str]:
    documents = list(objset.foreach_type(spdx3.SpdxDocument))
    if len(documents) != 1:
        return [f"expected one SpdxDocument, found {len(documents)}"]
    document = documents[0]
    errors = [] if len(document.rootElement) else ["the SpdxDocument has no rootElement"]
    listed = {_id(e) for e in document.element}
    for element in objset.foreach_type(spdx3.Element):
        if element is not document and element.spdxId not in listed:
            errors.append(f"element {element.spdxId} is not listed in the SpdxDocument")
    return errors


def _profile_errors(objset: Any) -> list[str]:
    """AI and Dataset profile (3.0.1) rules the SHACL shapes do not carry."""
    errors = []
    licensed: dict[tuple[str, str], int] = {}
    for rel in objset.foreach_type(spdx3.Relationship):
        if rel.relationshipType in (_R.hasDeclaredLicense, _R.hasConcludedLicense):
            key = (_id(rel.from_), rel.relationshipType)
            licensed[key] = licensed.get(key, 0) + 1
    for cls in (spdx3.ai_AIPackage, spdx3.dataset_DatasetPackage):
        for package in objset.foreach_type(cls):
            if package.software_primaryPurpose is None:
                errors.append(f"{package.spdxId} has no software_primaryPurpose")
            for kind in (_R.hasDeclaredLicense, _R.hasConcludedLicense):
                if licensed.get((package.spdxId, kind), 0) != 1:
                    errors.append(
                        f"{package.spdxId} needs exactly one {kind.rpartition('/')[2]} relationship"
                    )
    return errors


def _id(value: Any) -> str:
    return value if isinstance(value, str) else value.spdxId
