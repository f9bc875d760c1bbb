"""Sigstore bundle JSON (v0.3) for both kinds we write and read.

- **keyless**: written by sigstore-python (``Bundle.to_json()``): a Fulcio leaf certificate,
  one Rekor entry, the DSSE envelope. Stored byte for byte as the client produced it.
- **key**: written here: ``verificationMaterial.publicKey.hint`` names the key, no certificate,
  no transparency-log entry; verifiable offline with the public key alone.

Parsing never verifies anything: it says what a bundle claims so that a verifier can check it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from attest import jsonio
from attest.errors import InputError
from attest.oci import mediatypes as mt
from attest.sign.dsse import Envelope

BundleKind = Literal["key", "keyless"]


@dataclass(frozen=True)
class BundleInfo:
    """What a bundle claims, unverified."""

    media_type: str
    kind: BundleKind
    envelope: Envelope
    key_hint: str | None = None  # key bundles
    certificate: bytes | None = None  # keyless: DER of the leaf certificate
    tlog_entries: int = 0

    def statement(self) -> dict[str, Any]:
        return self.envelope.statement()


def key_bundle(envelope: Envelope, hint: str) -> dict[str, Any]:
    """A v0.3 bundle around ``envelope`` naming its key by ``hint``; no Fulcio, no Rekor."""
    return {
        "mediaType": mt.SIGSTORE_BUNDLE_V03,
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
        "dsseEnvelope": envelope.to_dict(),
    }


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The bytes we store for a bundle we built: compact JSON, as sigstore clients emit it."""
    return json.dumps(bundle, separators=(",", ":")).encode()


def parse_bundle(data: bytes) -> BundleInfo:
    """Read a bundle's claims; InputError when it is not a DSSE Sigstore bundle."""
    obj = jsonio.loads(data, "Sigstore bundle")
    if not isinstance(obj, dict):
        raise InputError("Sigstore bundle is not a JSON object")
    media_type = obj.get("mediaType")
    if media_type != mt.SIGSTORE_BUNDLE_V03 and media_type not in mt.SIGSTORE_BUNDLE_LEGACY:
        raise InputError(f"not a Sigstore bundle (mediaType {media_type!r})")
    if "dsseEnvelope" not in obj:
        raise InputError("Sigstore bundle holds no DSSE envelope (a message signature?)")
    envelope = Envelope.from_dict(obj["dsseEnvelope"])
    material = obj.get("verificationMaterial")
    if not isinstance(material, dict):
        raise InputError("Sigstore bundle has no verificationMaterial")
    entries = material.get("tlogEntries") or []
    tlog_count = len(entries) if isinstance(entries, list) else 0
    if "publicKey" in material:
        public_key = material["publicKey"]
        hint = public_key.get("hint") if isinstance(public_key, dict) else None
        return BundleInfo(
            media_type, "key", envelope, key_hint=hint or None, tlog_entries=tlog_count
        )
    cert = _leaf_certificate(material)
    if cert is None:
        raise InputError("Sigstore bundle names neither a public key nor a certificate")
    return BundleInfo(media_type, "keyless", envelope, certificate=cert, tlog_entries=tlog_count)


def _leaf_certificate(material: dict[str, Any]) -> bytes | None:
    raw: Any = None
    if isinstance(material.get("certificate"), dict):  # v0.3
        raw = material["certificate"].get("rawBytes")
    elif isinstance(material.get("x509CertificateChain"), dict):  # v0.1, v0.2
        certs = material["x509CertificateChain"].get("certificates") or []
        raw = certs[0].get("rawBytes") if certs and isinstance(certs[0], dict) else None
    if not isinstance(raw, str):
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("Sigstore bundle certificate is not valid base64") from None
