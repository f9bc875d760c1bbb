"""Reading a CycloneDX 1.6 ML-BOM: its format constants, schema check and comparable summary.

Used by the writer (:mod:`attest.stages.sbom.cyclonedx` checks what it built), by ``verify``'s
summaries, by the report and by lint, none of which need the writer.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

MEDIA_TYPE = "application/vnd.cyclonedx+json"
PREDICATE_TYPE = "https://cyclonedx.org/bom/v1.6"
SPEC_VERSION = "1.6"


def schema_errors(doc: dict[str, Any], limit: int = 5) -> list[str]:
    """Errors of ``doc`` against the CycloneDX 1.6 JSON schema bundled with the library.

    The library resolves its ``$ref``s (SPDX ids, JSF) from package files: no network is used.
    """
    found = _validator().validate_str(json.dumps(doc), all_errors=True)
    messages = []
    for error in found or ():
        data = error.data
        where = getattr(data, "json_path", "$")
        text = getattr(data, "message", str(data))
        messages.append(f"{where}: {text[:300]}")
        if len(messages) >= limit:
            break
    return messages


def cyclonedx_to_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """A small comparable summary of a BOM (the inverse, in part, of
    :func:`attest.stages.sbom.cyclonedx.build_cyclonedx`)."""
    model = doc.get("metadata", {}).get("component", {})
    components = doc.get("components", [])
    card = model.get("modelCard", {})
    params = card.get("modelParameters", {})
    return {
        "name": model.get("name"),
        "version": model.get("version"),
        "licenses": sorted(license_strings(model.get("licenses", []))),
        "datasets": sorted(c["name"] for c in components if c.get("type") == "data"),
        "files": {
            c["name"]: "sha256:" + h["content"]
            for c in components
            if c.get("type") == "file"
            for h in c.get("hashes", [])
            if h.get("alg") == "SHA-256"
        },
        "base_models": sorted(a["name"] for a in model.get("pedigree", {}).get("ancestors", [])),
        "task": params.get("task"),
        "architecture": params.get("modelArchitecture"),
        "metrics": sorted(
            (m.get("type"), m.get("value"), m.get("slice"))
            for m in card.get("quantitativeAnalysis", {}).get("performanceMetrics", [])
        ),
    }


def license_strings(entries: list[dict[str, Any]]) -> list[str]:
    out = []
    for entry in entries:
        if "expression" in entry:
            out.append(entry["expression"])
        elif "license" in entry:
            lic = entry["license"]
            out.append(lic.get("id") or lic.get("name"))
    return out


@functools.lru_cache(maxsize=1)
def _validator() -> JsonStrictValidator:
    # One validator per process: it compiles the 1.6 schema once, on first use.
    return JsonStrictValidator(SchemaVersion.V1_6)
