"""Notation's trust store: ``DIR/x509/{ca|signingAuthority|tsa}/<name>/*`` certificate files.

A trust policy names stores as ``type:name``. Files are PEM (one or more certificates) or DER;
sub-directories, links and unreadable files are errors, as in notation-go. ``ca`` and
``signingAuthority`` stores hold CA certificates or self-signed signing certificates; ``tsa``
stores hold self-signed root CAs only.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from attest.errors import InputError
from attest.verify.notation.chain import describe, is_ca, is_self_signed

STORE_TYPES = ("ca", "signingAuthority", "tsa")
_NAME = re.compile(r"[A-Za-z0-9_.-]+\Z")
_MAX_FILE = 256 * 1024
_MAX_FILES = 1000


@dataclass
class TrustStore:
    root: Path
    _cache: dict[str, list[x509.Certificate]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.root / "x509").is_dir():
            raise InputError(
                f"{self.root}: not a notation trust store (no x509/ directory)",
                hint="give the directory that holds x509/ca/<name>/..., e.g. "
                "~/.config/notation/truststore",
            )

    def certificates(self, reference: str) -> list[x509.Certificate]:
        """The certificates of ``type:name``; a missing store is an error."""
        if reference not in self._cache:
            kind, name = split_reference(reference)
            self._cache[reference] = _load_store(self.root / "x509" / kind / name, kind, name)
        return self._cache[reference]


def split_reference(reference: str) -> tuple[str, str]:
    kind, sep, name = reference.partition(":")
    if not sep or kind not in STORE_TYPES or not _NAME.match(name) or name in (".", ".."):
        raise InputError(f"trust store {reference!r} is not type:name with type ca, "
                         "signingAuthority or tsa")  # fmt: skip
    return kind, name


def _load_store(path: Path, kind: str, name: str) -> list[x509.Certificate]:
    where = f"trust store {name} of type {kind}"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise InputError(f"{where} does not exist ({path})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{where}: {path} is not a directory (links are not followed)")
    entries = sorted(os.scandir(path), key=lambda d: d.name)
    if len(entries) > _MAX_FILES:
        raise InputError(f"{where}: more than {_MAX_FILES} files")
    certs: list[x509.Certificate] = []
    for entry in entries:
        if not entry.is_file(follow_symlinks=False):
            raise InputError(f"{where}: {entry.name} is not a regular file")
        loaded = _read_file(Path(entry.path), f"{entry.name} in {where}")
        for cert in loaded:
            if not _acceptable(cert, kind):
                raise InputError(
                    f"failed to validate the trusted certificate {entry.name} in {where}: "
                    f"{describe(cert)} is not "
                    + ("a root CA certificate" if kind == "tsa"
                       else "a CA certificate or self-signed signing certificate")
                )  # fmt: skip
        certs.extend(loaded)
    if not certs:
        raise InputError(f"{where} holds no certificate")
    return certs


def _read_file(path: Path, what: str) -> list[x509.Certificate]:
    with open(path, "rb") as f:
        data = f.read(_MAX_FILE + 1)
    if len(data) > _MAX_FILE:
        raise InputError(f"{what}: file larger than {_MAX_FILE} bytes")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise InputError(f"failed to read the trusted certificate {what}") from None


def _acceptable(cert: x509.Certificate, kind: str) -> bool:
    if kind == "tsa":
        return cert.issuer == cert.subject and is_self_signed(cert) and is_ca(cert)
    return is_ca(cert) or is_self_signed(cert)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)
