"""The COSE envelope (``application/cose``): ``COSE_Sign1_Tagged`` read with cbor2.

A small reader instead of pycose: pycose 1.1 cannot decode with cbor2 6 (arrays arrive as
tuples). Input is bounded (size, nesting depth, no duplicate map keys), the structure is
checked field by field, and ``Sig_structure`` is rebuilt from the protected bytes exactly as
transmitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import cbor2

from attest.errors import InputError
from attest.oci import mediatypes as mt
from attest.verify.notation import envelope as e

MEDIA_TYPE = mt.NOTATION_COSE
_TAG_SIGN1 = 18
_LABEL_ALG, _LABEL_CRIT, _LABEL_CTY, _LABEL_X5CHAIN = 1, 2, 3, 33
_ALGS = {-37: "PS256", -38: "PS384", -39: "PS512", -7: "ES256", -35: "ES384", -36: "ES512"}
_MAX_DEPTH = 8


def _loads(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(data, max_depth=_MAX_DEPTH, allow_duplicate_keys=False)
    except Exception as err:  # cbor2 raises several types on malformed input
        raise InputError(f"notation COSE: {what} is not valid CBOR: {err}") from None


def _time(value: Any, name: str) -> datetime:
    # CBOR tag 1 (epoch seconds) decodes to an aware datetime
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InputError(f"notation COSE: {name} is not a CBOR tag-1 time")
    return value.astimezone(timezone.utc)


def _chain(value: Any) -> list[bytes]:
    if isinstance(value, bytes):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(c, bytes) for c in value):
        return list(value)[: e.MAX_CHAIN + 1]
    raise InputError("notation COSE: x5chain is not a byte string or a list of them")


def parse_cose(data: bytes) -> e.Envelope:
    if len(data) > e.MAX_ENVELOPE_BYTES:
        raise InputError("notation COSE: envelope too large")
    item = _loads(data, "envelope")
    if not isinstance(item, cbor2.CBORTag) or item.tag != _TAG_SIGN1:
        raise InputError("notation COSE: not a COSE_Sign1_Tagged item (CBOR tag 18)")
    parts = item.value
    if not isinstance(parts, (list, tuple)) or len(parts) != 4:
        raise InputError("notation COSE: COSE_Sign1 is not a 4-element array")
    protected_bytes, unprotected, payload, signature = parts
    if not isinstance(protected_bytes, bytes) or not protected_bytes:
        raise InputError("notation COSE: protected header is not a non-empty byte string")
    if not isinstance(payload, bytes):
        raise InputError("notation COSE: payload is detached or not a byte string")
    if not isinstance(signature, bytes) or not isinstance(unprotected, Mapping):
        raise InputError("notation COSE: malformed signature or unprotected header")
    protected = _loads(protected_bytes, "protected header")
    if not isinstance(protected, Mapping):
        raise InputError("notation COSE: protected header is not a map")
    alg_label = protected.get(_LABEL_ALG)
    alg = _ALGS.get(alg_label) if isinstance(alg_label, int) else None
    if alg is None:
        raise InputError(f"notation COSE: signature algorithm {protected.get(_LABEL_ALG)!r:.20}")
    crit = protected.get(_LABEL_CRIT)
    if not isinstance(crit, (list, tuple)) or not all(isinstance(c, (str, int)) for c in crit):
        raise InputError("notation COSE: crit is missing or not a list of labels")
    chain_value = unprotected.get(_LABEL_X5CHAIN, protected.get(_LABEL_X5CHAIN))
    if chain_value is None:
        raise InputError("notation COSE: no x5chain (label 33)")
    token = unprotected.get(e.H_TIMESTAMP)
    if token is not None and not isinstance(token, bytes):
        raise InputError(f"notation COSE: {e.H_TIMESTAMP} is not a byte string")
    agent = unprotected.get(e.H_AGENT)
    named = {str(k): v for k, v in protected.items()}
    env = e.Envelope(
        media_type=MEDIA_TYPE,
        alg=alg,
        content_type=str(protected.get(_LABEL_CTY)),
        payload=payload,
        signing_scheme=str(protected.get(e.H_SCHEME)),
        critical=[str(c) for c in crit],
        protected=named,
        chain=_chain(chain_value),
        signature=signature,
        signed_bytes=cbor2.dumps(["Signature1", protected_bytes, b"", payload]),
        timestamp_token=token,
        signing_agent=agent if isinstance(agent, str) else None,
    )
    if e.H_SIGNING_TIME in protected:
        env.signing_time = _time(protected[e.H_SIGNING_TIME], e.H_SIGNING_TIME)
    if e.H_AUTHENTIC_TIME in protected:
        env.authentic_signing_time = _time(protected[e.H_AUTHENTIC_TIME], e.H_AUTHENTIC_TIME)
    if e.H_EXPIRY in protected:
        env.expiry = _time(protected[e.H_EXPIRY], e.H_EXPIRY)
    e.check_headers(env)
    return env
