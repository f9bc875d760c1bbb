"""Helpers both SPDX writers (2.3 and 3.0.1) share: ids, licences, dates, dataset relations.

The SPDX 3 ids end in the same fragment the SPDX 2.3 document uses for the same thing, so the two
documents can be cross-read; the licence, date and prose choices are made once, here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from attest import __version__
from attest.errors import InternalError
from attest.facts.licenses import is_spdx_expression, normalize_license
from attest.facts.model import DatasetFact, ModelFacts
from attest.stages.sbom.cyclonedx_card import model_card

DOCUMENT_ID = "SPDXRef-DOCUMENT"
MODEL_ID = "SPDXRef-Model"
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
_SHA256_RE = re.compile(r"^sha256:([0-9a-f]{64})$")


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
