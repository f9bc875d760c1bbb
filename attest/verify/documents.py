"""Is a plain document (SBOM file, card, MOT YAML) really what a signed statement carries?

A document referrer names the bundle that vouches for it in an *unsigned* annotation
(``dev.attest.statement.digest``): anyone who can push a referrer can write it beside a real
bundle. So the claim counts only when the document's bytes are what the verified statement
carries:

- statements that list their documents by digest (model and data cards: ``markdown`` and
  ``html``; the MOF report: ``configFile``): the document's layer digest and size must be one
  of them;
- statements whose predicate *is* the document (the SBOMs): the document, parsed strictly
  (duplicate keys refused, so no two readers can see two documents), must equal the predicate
  exactly (compared as canonical JSON, so ``1``, ``1.0`` and ``true`` stay distinct).

Anything else carries no document, and vouches for none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from attest.errors import VerificationError
from attest.evidence import table
from attest.oci.store import Descriptor, sha256_bytes
from attest.stages.cards import PREDICATE_TYPES as CARD_TYPES
from attest.stages.sbom.stage import FORMATS as SBOM_FORMATS

# predicate type -> the predicate's fields that describe a document by digest
DOCUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    **{t: ("markdown", "html") for t in CARD_TYPES.values()},
    table.MOF: ("configFile",),
}
# predicate types whose predicate is the JSON document itself
PREDICATE_IS_DOCUMENT = frozenset(f.predicate_type for f in SBOM_FORMATS.values())
MAX_JSON_DOCUMENT = 64 * 1024 * 1024


def check_vouched(
    statement: dict[str, Any], layer: Descriptor, read: Callable[[], bytes]
) -> None:
    """Raise VerificationError unless ``layer`` (the document) is what ``statement`` carries.
    ``read`` fetches the document's bytes; it is called only when the content must be seen."""
    predicate_type = statement.get("predicateType")
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict) or not isinstance(predicate_type, str):
        raise VerificationError("the statement carries no document")
    if predicate_type in DOCUMENT_FIELDS:
        for name in DOCUMENT_FIELDS[predicate_type]:
            entry = predicate.get(name)
            if not isinstance(entry, dict):
                continue
            digest = entry.get("digest")
            if (
                isinstance(digest, dict)
                and f"sha256:{digest.get('sha256')}" == layer.digest
                and entry.get("size") == layer.size
            ):
                return
        raise VerificationError(
            f"its digest {layer.digest} is not among the documents the statement lists"
        )
    if predicate_type in PREDICATE_IS_DOCUMENT:
        if layer.size > MAX_JSON_DOCUMENT:
            raise VerificationError(f"document of {layer.size} bytes is too large to compare")
        data = read()
        if sha256_bytes(data) != layer.digest:
            raise VerificationError("document bytes do not match their descriptor")
        try:
            document = json.loads(data, object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise VerificationError(f"document is not strict JSON: {e}") from None
        if _canonical(document) != _canonical(predicate):
            raise VerificationError("its content is not the signed statement's predicate")
        return
    raise VerificationError(f"a {predicate_type} statement carries no document")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
