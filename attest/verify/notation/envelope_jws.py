"""The JWS envelope (``application/jose+json``): flattened JSON serialization only.

The signature is checked over ``protected "." payload`` exactly as transmitted, and base64url
is decoded strictly (no padding, no stray characters): a payload with ``=`` appended decodes
to the same bytes under a lenient decoder but is not what was signed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from attest.errors import InputError
from attest.oci import mediatypes as mt
from attest.verify.notation import envelope as e

MEDIA_TYPE = mt.NOTATION_JWS
_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_MEMBERS = {"payload", "protected", "header", "signature"}


def b64url(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _B64URL.match(value) or len(value) % 4 == 1:
        raise InputError(f"notation JWS: {name} is not unpadded base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64std(value: Any, name: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise InputError(f"notation JWS: {name} is not base64") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"notation JWS: duplicate member {key!r}")
        out[key] = value
    return out


def _json(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise InputError(f"notation JWS: {name} is not JSON") from None
    if not isinstance(value, dict):
        raise InputError(f"notation JWS: {name} is not a JSON object")
    return value


def parse_jws(data: bytes) -> e.Envelope:
    if len(data) > e.MAX_ENVELOPE_BYTES:
        raise InputError("notation JWS: envelope too large")
    doc = _json(data, "envelope")
    if set(doc) != _MEMBERS:
        raise InputError(
            "notation JWS: not a flattened JWS with exactly payload, protected, header, signature"
        )
    protected_b64, payload_b64 = doc["protected"], doc["payload"]
    protected = _json(b64url(protected_b64, "protected"), "protected header")
    payload = b64url(payload_b64, "payload")
    signature = b64url(doc["signature"], "signature")
    header = doc["header"]
    if not isinstance(header, dict):
        raise InputError("notation JWS: header is not an object")
    x5c = header.get("x5c")
    if not isinstance(x5c, list):
        raise InputError("notation JWS: header.x5c (the certificate chain) is missing")
    chain = [_b64std(c, "x5c entry") for c in x5c[: e.MAX_CHAIN + 1]]
    token = header.get(e.H_TIMESTAMP)
    crit = protected.get("crit")
    if not isinstance(crit, list) or not all(isinstance(c, str) for c in crit):
        raise InputError("notation JWS: crit is missing or not a list of names")
    agent = header.get(e.H_AGENT)
    env = e.Envelope(
        media_type=MEDIA_TYPE,
        alg=str(protected.get("alg")),
        content_type=str(protected.get("cty")),
        payload=payload,
        signing_scheme=str(protected.get(e.H_SCHEME)),
        critical=list(crit),
        protected=protected,
        chain=chain,
        signature=signature,
        signed_bytes=f"{protected_b64}.{payload_b64}".encode("ascii"),
        timestamp_token=_b64std(token, e.H_TIMESTAMP) if token is not None else None,
        signing_agent=agent if isinstance(agent, str) else None,
    )
    if e.H_SIGNING_TIME in protected:
        env.signing_time = e.parse_time(protected[e.H_SIGNING_TIME], e.H_SIGNING_TIME)
    if e.H_AUTHENTIC_TIME in protected:
        env.authentic_signing_time = e.parse_time(protected[e.H_AUTHENTIC_TIME], e.H_AUTHENTIC_TIME)
    if e.H_EXPIRY in protected:
        env.expiry = e.parse_time(protected[e.H_EXPIRY], e.H_EXPIRY)
    e.check_headers(env)
    return env
