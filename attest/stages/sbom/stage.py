"""The SBOM stage: ModelFacts -> the three SBOM documents and their in-toto statements.

One mapping from ModelFacts per format (``cyclonedx.py``, ``spdx2.py``, ``spdx3.py``); this
module only names the formats, serialises, and wraps each document as evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attest.errors import UsageError
from attest.facts.model import ModelFacts
from attest.sbom_read import cyclonedx, spdx2, spdx3
from attest.stages.sbom.cyclonedx import build_cyclonedx
from attest.stages.sbom.spdx2 import build_spdx2
from attest.stages.sbom.spdx3 import build_spdx3
from attest.stages.statement import Evidence, make_statement

# Annotations on the plain document referrers (draft CNCF profile key + our own precise one).
ANNOTATION_CNCF_SBOM_FORMAT = "org.cncf.ai.security.sbom.format"
ANNOTATION_SBOM_FORMAT = "dev.attest.sbom.format"
ANNOTATION_PREDICATE_TYPE = "dev.attest.predicate-type"


@dataclass(frozen=True)
class SbomFormat:
    name: str  # the CLI name
    label: str  # "CycloneDX 1.6"
    build: Callable[[ModelFacts], dict[str, Any]]
    media_type: str
    predicate_type: str
    family: str  # draft CNCF profile value: cyclonedx | spdx
    version: str
    filename: str


FORMATS: dict[str, SbomFormat] = {
    "cyclonedx": SbomFormat(
        "cyclonedx", "CycloneDX 1.6", build_cyclonedx, cyclonedx.MEDIA_TYPE,
        cyclonedx.PREDICATE_TYPE, "cyclonedx", "1.6", "sbom.cdx.json",
    ),
    "spdx": SbomFormat(
        "spdx", "SPDX 2.3", build_spdx2, spdx2.SPDX2_MEDIA_TYPE,
        spdx2.SPDX2_PREDICATE_TYPE, "spdx", "2.3", "sbom.spdx.json",
    ),
    "spdx3": SbomFormat(
        "spdx3", "SPDX 3.0.1", build_spdx3, spdx3.SPDX3_MEDIA_TYPE,
        spdx3.SPDX3_PREDICATE_TYPE, "spdx", "3.0.1", "sbom.spdx3.jsonld",
    ),
}  # fmt: skip


def document_bytes(doc: dict[str, Any]) -> bytes:
    """Canonical bytes of a JSON document: sorted keys, 2-space indent, trailing newline."""
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def sbom_format(name: str) -> SbomFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown SBOM format {name!r} ({', '.join(FORMATS)})") from None


def build_document(facts: ModelFacts, name: str) -> tuple[SbomFormat, dict[str, Any]]:
    fmt = sbom_format(name)
    return fmt, fmt.build(facts)


def sbom_evidence(facts: ModelFacts, name: str) -> Evidence:
    """The document and its statement (predicate = the document) for a packed subject."""
    fmt, doc = build_document(facts, name)
    if facts.subject is None:
        raise UsageError("an SBOM statement needs a ModelPack subject: give a reference")
    annotations = {
        ANNOTATION_CNCF_SBOM_FORMAT: fmt.family,
        ANNOTATION_SBOM_FORMAT: f"{fmt.name}-{fmt.version}",
        ANNOTATION_PREDICATE_TYPE: fmt.predicate_type,
        "org.opencontainers.image.title": fmt.filename,
    }
    if fmt.family == "spdx":
        annotations["org.spdx.version"] = fmt.version
    return Evidence(
        statement=make_statement(facts.subject, fmt.predicate_type, doc),
        document=document_bytes(doc),
        media_type=fmt.media_type,
        artifact_type=fmt.media_type,
        annotations=annotations,
        filename=fmt.filename,
    )


def run_sbom_stage(facts: ModelFacts) -> list[Evidence]:
    """All three SBOMs, in a fixed order."""
    return [sbom_evidence(facts, name) for name in FORMATS]
