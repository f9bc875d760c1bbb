"""Verify one notation signature envelope under a trust policy, step by step as the Notary
Project specifies (trust-store-trust-policy.md, "Signature verification"):

integrity -> authenticity (trust store, trusted identity) -> expiry -> authentic timestamp ->
revocation -> the signed targetArtifact against the artifact being verified.

Integrity, plugins and the target comparison are always enforced; the other steps are enforced
or logged as the policy's level (and overrides) say. The outcome records every logged failure,
so a report shows what a permissive or audit policy let through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from attest.errors import InputError, VerificationError
from attest.verify.notation import chain as ch
from attest.verify.notation import envelope as e
from attest.verify.notation import revocation
from attest.verify.notation.envelope_cose import MEDIA_TYPE as COSE
from attest.verify.notation.envelope_cose import parse_cose
from attest.verify.notation.envelope_jws import MEDIA_TYPE as JWS
from attest.verify.notation.envelope_jws import parse_jws
from attest.verify.notation.signature import verify_signature
from attest.verify.notation.timestamp import TimestampResult, tsa_chain, verify_timestamp
from attest.verify.notation.trustpolicy import (
    ENFORCE,
    SKIP,
    TrustPolicy,
    TrustPolicyDocument,
    identity_matches,
    parse_dn,
)
from attest.verify.notation.truststore import TrustStore, der


@dataclass
class NotationSettings:
    trust_policy: TrustPolicyDocument
    trust_store: TrustStore
    # "fail": a revocation status attest cannot learn offline counts as a revocation failure
    # (the policy's revocation action decides); "log": it is recorded and accepted.
    unknown_revocation: str = "fail"
    now: datetime | None = None  # fixed verification time (tests, reproducing a past decision)
    crls: revocation.CrlStore = field(default_factory=revocation.CrlStore)


@dataclass
class Outcome:
    """The result of one envelope. ``passed``: the policy accepts it (notation's verdict);
    ``authentic``: the signer is trusted and matched a trusted identity (audit logs instead)."""

    policy: str
    level: str
    passed: bool = False
    authentic: bool = False
    failed_step: str | None = None
    failure: str | None = None
    logged: list[str] = field(default_factory=list)
    media_type: str | None = None
    scheme: str | None = None
    subject: str | None = None  # leaf subject DN (RFC 4514)
    subject_attributes: dict[str, str] | None = None  # the same, parsed (policies match on it)
    issuer: str | None = None
    signing_time: str | None = None  # trusted time: authenticSigningTime or TSA genTime
    timestamp_authority: str | None = None
    revocation: str = "not checked"
    target: dict[str, Any] | None = None

    def to_details(self) -> dict[str, Any]:
        return {
            "policy": self.policy, "level": self.level, "authentic": self.authentic,
            "signingScheme": self.scheme, "envelope": self.media_type,
            "timestampAuthority": self.timestamp_authority, "revocation": self.revocation,
            "logged": list(self.logged), "failedStep": self.failed_step,
            "subjectAttributes": self.subject_attributes,
        }  # fmt: skip


class _Stop(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step, self.message = step, message


def parse_envelope(data: bytes, media_type: str) -> e.Envelope:
    if media_type == JWS:
        return parse_jws(data)
    if media_type == COSE:
        return parse_cose(data)
    raise InputError(f"unknown notation envelope type {media_type!r}")


def verify_envelope(
    data: bytes,
    media_type: str,
    settings: NotationSettings,
    *,
    repository: str | None,
    subject: dict[str, Any] | None,
) -> Outcome:
    """Verify ``data`` for the artifact ``subject`` (an OCI descriptor dict; None compares
    nothing) in ``repository`` (``registry/repo`` selects the policy; None: the ``*`` one)."""
    policy = settings.trust_policy.select(repository)
    out = Outcome(policy.name, policy.level, media_type=media_type)
    if policy.level == "skip":
        out.logged.append(f"trust policy {policy.name!r} skips verification")
        return out
    now = settings.now or datetime.now(timezone.utc)
    try:
        _run(out, data, media_type, policy, settings, now, subject)
        out.passed = True
    except _Stop as stop:
        out.failed_step, out.failure = stop.step, stop.message
    return out


def _act(out: Outcome, policy: TrustPolicy, check: str, message: str) -> None:
    """A failed check: stop when the policy enforces it, else log it."""
    action = policy.actions[check]
    if action == ENFORCE:
        raise _Stop(check, message)
    if action != SKIP:
        out.logged.append(f"{check}: {message}")


def _run(
    out: Outcome,
    data: bytes,
    media_type: str,
    policy: TrustPolicy,
    settings: NotationSettings,
    now: datetime,
    subject: dict[str, Any] | None,
) -> None:
    env, certs = check_integrity(data, media_type)
    out.scheme = env.signing_scheme
    out.subject, out.issuer = certs[0].subject.rfc4514_string(), certs[0].issuer.rfc4514_string()
    try:
        out.subject_attributes = parse_dn(out.subject)
    except InputError:  # a subject notation cannot parse matches no identity
        out.subject_attributes = None
    if env.plugin:
        raise _Stop("plugin", f"the signature requires verification plugin {env.plugin!r}; "
                    "attest does not run notation plugins")  # fmt: skip
    unknown = e.unknown_critical(env)
    if unknown:
        raise _Stop("plugin", f"critical header(s) attest cannot process: {', '.join(unknown)} "
                    "(extended attributes need a notation plugin)")  # fmt: skip
    problem = check_authenticity(env, certs, policy, settings.trust_store)
    if problem:
        _act(out, policy, "authenticity", problem)
    else:
        out.authentic = True
    if env.expiry is not None and now >= env.expiry:
        _act(out, policy, "expiry", f"the signature expired at {env.expiry:%Y-%m-%dT%H:%M:%SZ}")
    ts: TimestampResult | None = None
    try:
        ts = check_authentic_timestamp(env, certs, policy, settings.trust_store, now)
    except VerificationError as err:
        _act(out, policy, "authenticTimestamp", err.message)
    if env.signing_scheme == e.SCHEME_SIGNING_AUTHORITY and env.authentic_signing_time:
        out.signing_time = f"{env.authentic_signing_time:%Y-%m-%dT%H:%M:%SZ}"
    elif ts is not None:
        out.signing_time = f"{ts.gen_time:%Y-%m-%dT%H:%M:%SZ}"
        out.timestamp_authority = ts.tsa
    _revocation(out, env, certs, policy, settings, ts, now)
    if subject is not None:
        check_target(env.payload, subject)
    out.target = _target(env.payload)


def check_integrity(data: bytes, media_type: str) -> tuple[e.Envelope, list[x509.Certificate]]:
    """Parse, check the signature with the leaf key (alg tied to the key), check the chain."""
    try:
        env = parse_envelope(data, media_type)
        certs = ch.load_chain(env.chain)
        verify_signature(certs[0], env.alg, env.signed_bytes, env.signature)
        ch.check_signing_chain(certs)
    except (InputError, VerificationError) as err:
        raise _Stop("integrity", err.message) from None
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:  # a malformed certificate
        raise _Stop("integrity", f"unusable certificate in the envelope chain: {err}") from None
    return env, certs


def check_authenticity(
    env: e.Envelope, certs: list[x509.Certificate], policy: TrustPolicy, store: TrustStore
) -> str | None:
    """None when a chain certificate is in the policy's stores of the scheme's type and the
    leaf matches a trusted identity; else why not."""
    kind = "ca" if env.signing_scheme == e.SCHEME_X509 else "signingAuthority"
    names = policy.stores_of(kind)
    if not names:
        return (f"no trusted certificates: trust policy {policy.name!r} names no {kind} store "
                f"for signing scheme {env.signing_scheme}")  # fmt: skip
    trusted = {der(c) for name in names for c in store.certificates(name)}
    if not any(der(c) in trusted for c in certs):
        return (f"untrusted signer: the certificate chain of {certs[0].subject.rfc4514_string()} "
                f"contains no certificate of trust store(s) {', '.join(names)}")  # fmt: skip
    try:
        if identity_matches(policy.trusted_identities, certs[0].subject.rfc4514_string()):
            return None
    except InputError as err:
        return f"trusted identity check failed: {err.message}"
    return (f"identity mismatch: signer {certs[0].subject.rfc4514_string()!r} matches no trusted "
            f"identity of trust policy {policy.name!r}")  # fmt: skip


def check_authentic_timestamp(
    env: e.Envelope,
    certs: list[x509.Certificate],
    policy: TrustPolicy,
    store: TrustStore,
    now: datetime,
) -> TimestampResult | None:
    """The signing chain must be valid at a trusted time: authenticSigningTime
    (signingAuthority), the RFC 3161 timestamp's range (notary.x509 with a tsa store), else
    now. Raises VerificationError naming the cause."""
    if env.signing_scheme == e.SCHEME_SIGNING_AUTHORITY:
        assert env.authentic_signing_time is not None
        why = ch.valid_at(certs, env.authentic_signing_time)
        if why:
            raise VerificationError(f"at the authentic signing time: {why}")
        return None
    tsa_stores = policy.stores_of("tsa")
    expired_now = any(now > c.not_valid_after_utc for c in certs)
    wanted = bool(tsa_stores) and (policy.verify_timestamp == "always" or expired_now)
    if not wanted:
        why = ch.valid_at(certs, now)
        if why:
            raise VerificationError(f"at verification time: {why} (no trusted timestamp)")
        return None
    if env.timestamp_token is None:
        raise VerificationError("no timestamp countersignature in the envelope, and the trust "
                                "policy requires one (tsa store configured)")  # fmt: skip
    roots = [c for name in tsa_stores for c in store.certificates(name)]
    ts = verify_timestamp(env.timestamp_token, env.signature, roots)
    why = ch.valid_at(certs, ts.earliest, ts.latest)
    if why:
        raise VerificationError(f"at the timestamp {ts.gen_time:%Y-%m-%dT%H:%M:%SZ}: {why}")
    return ts


def _revocation(
    out: Outcome,
    env: e.Envelope,
    certs: list[x509.Certificate],
    policy: TrustPolicy,
    settings: NotationSettings,
    ts: TimestampResult | None,
    now: datetime,
) -> None:
    if policy.actions["revocation"] == SKIP:
        out.revocation = "skipped by trust policy"
        return
    results = revocation.chain_status(certs, settings.crls, now, pool=certs)
    if ts is not None and env.timestamp_token is not None:
        tsa = tsa_chain(env.timestamp_token)
        store = settings.trust_store
        roots = [c for name in policy.stores_of("tsa") for c in store.certificates(name)]
        results += [(s, f"TSA {why}") for s, why in
                    revocation.chain_status(tsa, settings.crls, now, pool=tsa + roots)]  # fmt: skip
    revoked = [why for s, why in results if s == "revoked"]
    unknown = [why for s, why in results if s == "unknown"]
    if revoked:
        out.revocation = "revoked"
        _act(out, policy, "revocation", "; ".join(revoked))
        return
    if not unknown:
        out.revocation = ("good (CRL)" if results
                          else "non-revocable (no OCSP or CRL endpoint)")  # fmt: skip
        return
    out.revocation = "unknown (offline)"
    message = (f"revocation status unknown for {'; '.join(unknown)}: attest does not contact "
               "OCSP or CRL endpoints (give current CRLs with --notation-crl)")  # fmt: skip
    if settings.unknown_revocation == "log":
        out.logged.append(f"revocation: {message}")
        return
    _act(out, policy, "revocation", message)


def _target(payload: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(payload)
    except ValueError:
        raise _Stop("integrity", "the signed payload is not JSON") from None
    target = doc.get("targetArtifact") if isinstance(doc, dict) else None
    if not isinstance(target, dict):
        raise _Stop("integrity", "the signed payload has no targetArtifact")
    if not (isinstance(target.get("mediaType"), str) and isinstance(target.get("digest"), str)
            and isinstance(target.get("size"), int) and not isinstance(target["size"], bool)):
        raise _Stop("integrity", "the signed targetArtifact is not a descriptor")  # fmt: skip
    return target


def check_target(payload: bytes, subject: dict[str, Any]) -> None:
    target = _target(payload)
    for key in ("mediaType", "digest", "size"):
        if target.get(key) != subject.get(key):
            raise _Stop("target", (
                f"wrong target: the signature is for {target.get('mediaType')} "
                f"{target.get('digest')} ({target.get('size')} bytes), not the artifact's "
                f"{key} {subject.get(key)}"
            ))  # fmt: skip
