"""What both envelope formats (JWS, COSE) carry, and the header rules they share.

Every envelope parser returns an :class:`Envelope`; :func:`check_headers` then applies the
Notary Project rules on protected headers (signature-specification.md): the payload type, the
signing scheme and the times it requires, and the critical-header list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from attest.errors import InputError
from attest.oci import mediatypes as mt

PAYLOAD_TYPE = mt.NOTATION_PAYLOAD
SCHEME_X509 = "notary.x509"
SCHEME_SIGNING_AUTHORITY = "notary.x509.signingAuthority"
SCHEMES = (SCHEME_X509, SCHEME_SIGNING_AUTHORITY)
ALGORITHMS = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512")

H_SCHEME = "io.cncf.notary.signingScheme"
H_SIGNING_TIME = "io.cncf.notary.signingTime"
H_AUTHENTIC_TIME = "io.cncf.notary.authenticSigningTime"
H_EXPIRY = "io.cncf.notary.expiry"
H_PLUGIN = "io.cncf.notary.verificationPlugin"
H_PLUGIN_MIN = "io.cncf.notary.verificationPluginMinVersion"
H_TIMESTAMP = "io.cncf.notary.timestampSignature"
H_AGENT = "io.cncf.notary.signingAgent"

# An envelope is a few kilobytes (payload, chain, timestamp token); anything far larger is
# hostile. Checked against the layer descriptor before a byte is fetched.
MAX_ENVELOPE_BYTES = 1024 * 1024
MAX_CHAIN = 10


@dataclass
class Envelope:
    """A parsed, not yet verified, notation signature envelope."""

    media_type: str
    alg: str
    content_type: str
    payload: bytes
    signing_scheme: str
    critical: list[str]
    protected: dict[str, Any]  # every protected header, by name (COSE integer labels as str)
    chain: list[bytes]  # DER, leaf first
    signature: bytes
    signed_bytes: bytes  # exactly what the signature covers
    signing_time: datetime | None = None
    authentic_signing_time: datetime | None = None
    expiry: datetime | None = None
    timestamp_token: bytes | None = None
    signing_agent: str | None = None
    extended: dict[str, Any] = field(default_factory=dict)

    @property
    def plugin(self) -> str | None:
        value = self.protected.get(H_PLUGIN)
        return value if isinstance(value, str) else None


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z"
)


def parse_time(value: Any, name: str) -> datetime:
    """An RFC 3339 time with offset (JWS headers), as an aware UTC datetime."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise InputError(f"notation envelope: {name} is not an RFC 3339 time: {value!r:.60}")
    text = value.upper().replace("Z", "+00:00")
    main, _, rest = text.partition(".")
    if rest:  # Python before 3.11 takes at most 6 fraction digits
        digits = re.match(r"\d+", rest)
        assert digits is not None
        text = f"{main}.{digits.group()[:6].ljust(6, '0')}{rest[digits.end():]}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError as e:
        raise InputError(f"notation envelope: {name}: {e}") from None


def check_headers(env: Envelope) -> None:
    """The protected-header rules both formats share. Plugin headers are reported by the
    verifier (they decide a separate step), unknown critical headers here."""
    if env.alg not in ALGORITHMS:
        raise InputError(f"notation envelope: signature algorithm {env.alg!r} is not allowed")
    if env.content_type != PAYLOAD_TYPE:
        raise InputError(f"notation envelope: payload type {env.content_type!r} is not "
                         f"{PAYLOAD_TYPE}")  # fmt: skip
    if env.signing_scheme not in SCHEMES:
        raise InputError(f"notation envelope: unknown signing scheme {env.signing_scheme!r}")
    crit = env.critical
    if len(set(crit)) != len(crit):
        raise InputError("notation envelope: crit lists a header twice")
    if H_SCHEME not in crit:
        raise InputError(f"notation envelope: {H_SCHEME} must be a critical header")
    for name in crit:
        if name not in env.protected:
            raise InputError(f"notation envelope: critical header {name!r} is absent")
    for name in (H_EXPIRY, H_AUTHENTIC_TIME, H_PLUGIN, H_PLUGIN_MIN):
        if name in env.protected and name not in crit:
            raise InputError(f"notation envelope: {name} must be marked critical")
    if env.signing_scheme == SCHEME_X509:
        if env.signing_time is None:
            raise InputError(f"notation envelope: {SCHEME_X509} requires {H_SIGNING_TIME}")
        if env.authentic_signing_time is not None:
            raise InputError(f"notation envelope: {H_AUTHENTIC_TIME} is only for signingAuthority")
    elif env.authentic_signing_time is None:
        raise InputError(f"notation envelope: {SCHEME_SIGNING_AUTHORITY} requires "
                         f"{H_AUTHENTIC_TIME}")  # fmt: skip
    if not env.chain:
        raise InputError("notation envelope: no certificate chain")
    if len(env.chain) > MAX_CHAIN:
        raise InputError(f"notation envelope: certificate chain longer than {MAX_CHAIN}")


KNOWN_CRITICAL = (H_SCHEME, H_EXPIRY, H_AUTHENTIC_TIME, H_PLUGIN, H_PLUGIN_MIN)


def unknown_critical(env: Envelope) -> list[str]:
    """Critical headers attest cannot process (extended attributes meant for a plugin)."""
    cose_std = {"1", "2", "3"}
    return [c for c in env.critical if c not in KNOWN_CRITICAL and c not in cose_std]
