"""Reading an SPDX 2.3 JSON document: its format constants, validation and comparable summary.

Used by the writer (:mod:`attest.stages.sbom.spdx2` checks what it built), by ``verify``'s
summaries, by the report and by lint, none of which need the writer.
"""

from __future__ import annotations

from typing import Any

from spdx_tools.spdx.model import ChecksumAlgorithm, Package, RelationshipType, SpdxNoAssertion
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

SPDX2_MEDIA_TYPE = "application/spdx+json"
SPDX2_PREDICATE_TYPE = "https://spdx.dev/Document/v2.3"
# Both SPDX versions share one media type: a referrer says which one it holds with this.
SPDX2_ANNOTATIONS = {"org.spdx.version": "2.3"}

SPDX_VERSION = "SPDX-2.3"
# The relationship comment's first word is the SPDX 3 relationship type (2.3 has no ML vocabulary).
DATASET_COMMENTS = {
    "trainedOn": "trainedOn: the model was trained on this dataset",
    "testedOn": "testedOn: the model was tested (evaluated) on this dataset",
    "other": "usesDataset: the model's facts name this dataset without saying how it was used",
}


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
    comment_relation = {c.partition(":")[0]: rel for rel, c in DATASET_COMMENTS.items()}
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
        license=license_or_none(model.license_declared),
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


def license_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, SpdxNoAssertion):
        return None
    return str(value)


def _checksum(package: Package, algorithm: ChecksumAlgorithm) -> str:
    return next(c.value for c in package.checksums if c.algorithm == algorithm)
