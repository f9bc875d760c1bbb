"""The OpenSSF model-signing (OMS) v1.0 statement of a ModelPack artifact — from its manifest.

model_signing 1.x signs a directory as an in-toto statement: one resource per file (path,
sha256), sorted by path, and a subject whose digest is the sha256 over the concatenated raw
per-file digests in that order. A raw ModelPack layer's digest *is* its file's sha256, so the
whole statement follows from the manifest: no weight is read, nothing is re-hashed
(model-transparency #434, #568). ``model_signing verify ... DIR`` accepts it on the directory
``attest pull REF --output DIR`` writes.

Serialisation details mirror model_signing 1.1.x (``manifest.py``, ``_signing/signing.py``):
paths sort as ``PurePosixPath`` (component by component, so ``a/b`` precedes ``a-b/c``), the
serialisation block is ``files``/``sha256``/no symlinks, and its ``ignore_paths`` lists what its
own signer ignores (the signature file and git metadata), which the verifier ignores too.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import PurePosixPath
from typing import Any

from attest.errors import InputError
from attest.evidence import table
from attest.facts.subject import Subject
from attest.intoto import validate_statement

log = logging.getLogger(__name__)

DEFAULT_SIGNATURE_NAME = "model.sig"
# model_signing ignores these by default when it hashes a directory (hashing.Config).
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")


def default_model_name(subject: Subject) -> str:
    """The model's name (ModelPack config), else the repository's last path component.

    model_signing records the signed directory's basename here, for information only: its
    verifier does not compare it, so a model pulled into any directory still verifies.
    """
    descriptor = subject.config.get("descriptor") or {}
    name = descriptor.get("name") if isinstance(descriptor, dict) else None
    if isinstance(name, str) and name.strip():
        return name.strip()
    base = subject.reference.split("@", 1)[0].rstrip("/")
    last = base.rsplit("/", 1)[-1].split(":", 1)[0]
    return last or "model"


def ignore_paths(signature_name: str = DEFAULT_SIGNATURE_NAME) -> list[str]:
    return [signature_name, *GIT_PATHS]


def file_digests(subject: Subject, ignored: list[str]) -> list[tuple[PurePosixPath, str]]:
    """(path, sha256 hex) of every file, from the raw layer digests, sorted as model_signing."""
    out: dict[PurePosixPath, str] = {}
    skip = [PurePosixPath(p) for p in ignored]
    for index, layer in enumerate(subject.layers):
        if layer.encoding != "raw" or layer.path is None:
            raise InputError(
                f"{subject.reference}: layer {index} is a {layer.encoding} archive; its files' "
                "digests are not in the manifest",
                hint="an OMS signature is computed from raw layers only (attest pack writes them)",
            )
        alg, _, hexdigest = layer.descriptor.digest.partition(":")
        if alg != "sha256":
            raise InputError(f"{subject.reference}: layer {index} has a {alg} digest, not sha256")
        path = PurePosixPath(layer.path)
        if any(path.is_relative_to(s) for s in skip):
            log.warning("%s is not covered by the OMS signature: model_signing ignores it", path)
            continue
        out[path] = hexdigest
    if not out:
        raise InputError(f"{subject.reference} has no files to sign")
    return sorted(out.items())


def oms_statement(
    subject: Subject,
    *,
    name: str | None = None,
    signature_name: str = DEFAULT_SIGNATURE_NAME,
) -> dict[str, Any]:
    """The OMS v1.0 in-toto statement for ``subject``'s files (manifest only, weights unread)."""
    ignored = ignore_paths(signature_name)
    files = file_digests(subject, ignored)
    root = hashlib.sha256()
    resources = []
    for path, hexdigest in files:
        root.update(bytes.fromhex(hexdigest))
        resources.append({"name": str(path), "algorithm": "sha256", "digest": hexdigest})
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": name or default_model_name(subject), "digest": {"sha256": root.hexdigest()}}
        ],
        "predicateType": table.OMS,
        "predicate": {
            "serialization": {
                "method": "files",
                "hash_type": "sha256",
                "allow_symlinks": False,
                "ignore_paths": ignored,
            },
            "resources": resources,
        },
    }
    validate_statement(statement)
    return statement
