"""An OpenSSF model-signing (OMS) statement checked as OMS: against the artifact's layers.

An OMS statement is about the *file tree* (its subject digest is the SHA-256 over the
concatenated per-file digests), not about the manifest, so the manifest-digest check every
other statement gets does not apply. What binds it to this artifact instead: each resource
(path, sha256) must be exactly one raw layer (path annotation, layer digest), every layer the
statement does not explicitly ignore must be listed, and the subject digest must be the one
model_signing computes from that list. A raw layer's digest *is* its file's SHA-256, so no
weight is read.
"""

from __future__ import annotations

import hashlib
from typing import Any

from attest.errors import InputError, VerificationError
from attest.facts.subject import Subject
from attest.sign.oms import file_digests

MAX_IGNORED = 64  # a statement that ignores more than this is not one attest or model_signing made


def check_oms_statement(statement: dict[str, Any], subject: Subject) -> int:
    """Raise VerificationError unless ``statement`` describes exactly ``subject``'s files;
    return how many files it covers."""
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise VerificationError("OMS statement has no predicate")
    serialization = predicate.get("serialization") or {}
    if not isinstance(serialization, dict) or serialization.get("method") != "files" or (
        serialization.get("hash_type") != "sha256"
    ):
        raise VerificationError(
            "OMS statement is not a per-file sha256 serialisation; only that can be checked "
            "against the manifest"
        )
    ignored = serialization.get("ignore_paths") or []
    if (
        not isinstance(ignored, list)
        or len(ignored) > MAX_IGNORED
        or not all(isinstance(p, str) for p in ignored)
    ):
        raise VerificationError("OMS statement: ignore_paths is not a short list of paths")
    try:
        expected = file_digests(subject, ignored)
    except InputError as e:
        raise VerificationError(f"OMS statement cannot be checked: {e.message}") from None
    resources = predicate.get("resources")
    if not isinstance(resources, list):
        raise VerificationError("OMS statement has no resources")
    listed = []
    for r in resources:
        if not isinstance(r, dict) or r.get("algorithm", "sha256") != "sha256":
            raise VerificationError("OMS statement: a resource is not a sha256 file digest")
        listed.append((str(r.get("name")), str(r.get("digest"))))
    want = [(str(path), hexdigest) for path, hexdigest in expected]
    if listed != want:
        missing = sorted(set(want) - set(listed))
        extra = sorted(set(listed) - set(want))
        detail = "order differs"
        if missing:
            detail = f"not signed: {missing[0][0]}"
        elif extra:
            detail = f"not in the artifact: {extra[0][0]}"
        raise VerificationError(f"OMS statement's files are not the artifact's layers ({detail})")
    root = hashlib.sha256(b"".join(bytes.fromhex(h) for _, h in expected)).hexdigest()
    digests = [
        (s.get("digest") or {}).get("sha256")
        for s in statement.get("subject") or []
        if isinstance(s, dict)
    ]
    if root not in digests:
        raise VerificationError(
            f"OMS statement's subject is not the digest of its files (expected sha256:{root})"
        )
    return len(expected)
