"""DSSE v1: the pre-authentication encoding and the envelope, as JSON dicts.

https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md — the signature covers
``PAE(payloadType, payload)``, never the payload alone, so a payload cannot be replayed under
another type.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from attest import jsonio
from attest.errors import InputError
from attest.oci import mediatypes as mt


def pae(payload_type: str, payload: bytes) -> bytes:
    """``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, lengths in bytes, ASCII decimal."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class DsseSignature:
    sig: bytes
    keyid: str = ""


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope: the exact payload bytes, their type, and one or more signatures."""

    payload: bytes
    payload_type: str
    signatures: tuple[DsseSignature, ...]

    def pae(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def to_dict(self) -> dict[str, Any]:
        sigs: list[dict[str, str]] = []
        for s in self.signatures:
            entry = {"sig": _b64(s.sig)}
            if s.keyid:
                entry["keyid"] = s.keyid
            sigs.append(entry)
        return {
            "payload": _b64(self.payload),
            "payloadType": self.payload_type,
            "signatures": sigs,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        if not isinstance(data, dict):
            raise InputError("DSSE envelope is not a JSON object")
        payload_type = data.get("payloadType")
        if not isinstance(payload_type, str) or not payload_type:
            raise InputError("DSSE envelope has no payloadType")
        raw_sigs = data.get("signatures")
        if not isinstance(raw_sigs, list) or not raw_sigs:
            raise InputError("DSSE envelope has no signatures")
        sigs = []
        for s in raw_sigs:
            if not isinstance(s, dict) or not isinstance(s.get("sig"), str):
                raise InputError("DSSE envelope has a malformed signature entry")
            keyid = s.get("keyid") or ""
            sigs.append(DsseSignature(_unb64(s["sig"], "signature"), str(keyid)))
        payload = data.get("payload")
        if not isinstance(payload, str):
            raise InputError("DSSE envelope has no payload")
        return cls(_unb64(payload, "payload"), payload_type, tuple(sigs))

    def statement(self) -> dict[str, Any]:
        """The in-toto statement the envelope carries (payload type checked)."""
        if self.payload_type != mt.INTOTO_JSON:
            raise InputError(
                f"DSSE payload type is {self.payload_type!r}, not {mt.INTOTO_JSON!r}"
            )
        obj = jsonio.loads(self.payload, "DSSE payload")
        if not isinstance(obj, dict):
            raise InputError("DSSE payload is not a JSON object")
        return obj


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    # Protobuf JSON readers accept both base64 alphabets, so a bundle may carry either.
    padded = (text + "=" * (-len(text) % 4)).encode("ascii", errors="replace")
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"DSSE {what} is not valid base64") from None
