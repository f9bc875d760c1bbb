"""Small parsed facts of each known predicate, for policies (never the whole document).

The keys are camelCase (docs/json-output.md); the Rego library in policies/ reads them by these
names, so a rename here is a rename there (and in the generated deploy/gatekeeper templates).
"""

from __future__ import annotations

from typing import Any

from attest.sbom_read import cyclonedx, spdx2, spdx3
from attest.stages.mof import PREDICATE_TYPE as MOF

ROMAN = {3: "III", 2: "II", 1: "I"}
SBOM_READERS = {
    cyclonedx.PREDICATE_TYPE: cyclonedx.cyclonedx_to_facts,
    spdx2.SPDX2_PREDICATE_TYPE: spdx2.spdx2_to_facts,
    spdx3.SPDX3_PREDICATE_TYPE: spdx3.spdx3_to_facts,
}
PROVENANCE = "https://slsa.dev/provenance/v1"
CARDS = ("https://attest.dev/model-card/v1", "https://attest.dev/data-card/v1")


def summarize(predicate_type: str | None, predicate: Any) -> dict[str, Any]:
    """The summary of one predicate; {} for types attest does not know."""
    if not isinstance(predicate, dict) or predicate_type is None:
        return {}
    try:
        if predicate_type in SBOM_READERS:
            return _sbom(SBOM_READERS[predicate_type](predicate))
        if predicate_type == MOF:
            cls = predicate.get("class")
            return {"class": ROMAN.get(cls) if isinstance(cls, int) else None,
                    "progress": predicate.get("progress", {})}  # fmt: skip
        if predicate_type == PROVENANCE:
            return _provenance(predicate)
        if predicate_type in CARDS:
            missing = predicate.get("requiredSectionsMissing", [])
            return {"sections": list(predicate.get("sectionsPresent", [])),
                    "missingSections": list(missing)}  # fmt: skip
    except Exception as e:  # a malformed predicate is reported, never trusted
        return {"error": f"unreadable {predicate_type} predicate: {e}"}
    return {}


def _sbom(facts: dict[str, Any]) -> dict[str, Any]:
    licenses = facts.get("licenses") if "licenses" in facts else facts.get("license")
    if isinstance(licenses, str):
        licenses = [licenses]
    return {
        "licenses": sorted(set(licenses or [])),
        "components": len(facts.get("files", {})) + len(facts.get("datasets", [])) + 1,
        "files": len(facts.get("files", {})),
        "datasets": sorted(facts.get("datasets", [])),
    }


def _provenance(predicate: dict[str, Any]) -> dict[str, Any]:
    definition = predicate.get("buildDefinition", {})
    builder = predicate.get("runDetails", {}).get("builder", {})
    source_repo, commit = None, None
    for dep in definition.get("resolvedDependencies", []):
        digest = dep.get("digest", {})
        if "gitCommit" in digest:
            source_repo, commit = dep.get("uri"), digest["gitCommit"]
            break
    return {
        "builderId": builder.get("id"),
        "buildType": definition.get("buildType"),
        "sourceRepository": source_repo,
        "sourceCommit": commit,
    }
