"""Checks on a verified statement that Sigstore verifiers leave to the caller.

sigstore-python, sigstore-js and the key verifier prove *who* signed a payload; none of them
checks *what* it is about. A statement signed for another artifact verifies perfectly, so every
caller must compare the subject digest (and usually the predicate type) itself.
"""

from __future__ import annotations

from typing import Any

from attest.errors import VerificationError


def check_statement(
    statement: dict[str, Any],
    *,
    subject_digest: str | None = None,
    predicate_type: str | None = None,
) -> None:
    """The checks no Sigstore verifier makes for us: subject digest and predicate type."""
    if predicate_type is not None and statement.get("predicateType") != predicate_type:
        raise VerificationError(
            f"statement predicateType is {statement.get('predicateType')!r}, "
            f"expected {predicate_type!r}"
        )
    if subject_digest is not None:
        alg, _, hexdigest = subject_digest.partition(":")
        found = [
            (s.get("digest") or {}).get(alg)
            for s in statement.get("subject") or []
            if isinstance(s, dict)
        ]
        if hexdigest not in found:
            raise VerificationError(
                f"statement is about {', '.join(str(f) for f in found) or 'nothing'}, "
                f"not {subject_digest}"
            )
