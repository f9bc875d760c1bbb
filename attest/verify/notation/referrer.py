"""A notation signature referrer in the VerificationReport, beside Sigstore bundles.

The referrer manifest (artifactType ``application/vnd.cncf.notary.signature``, or the legacy
form with that type as ``config.mediaType``) holds exactly one layer, the envelope. Its
``subject`` is already checked by discovery; the envelope's signed ``targetArtifact`` must
equal that subject descriptor. The result is one signature of format ``notation`` whose
identity is the leaf's subject distinguished name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from attest.errors import AttestError, InputError
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import Referrer
from attest.oci.store import Descriptor, Store
from attest.verify.notation.revocation import CrlStore
from attest.verify.notation.trustpolicy import load_trust_policy
from attest.verify.notation.truststore import TrustStore
from attest.verify.notation.verifier import NotationSettings, Outcome, verify_envelope
from attest.verify.report import ReferrerResult, SignatureResult

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class NotationConfig:
    """What the user named: a trust policy file and a trust store directory."""

    trust_policy: Path | None = None
    trust_store: Path | None = None
    unknown_revocation: str = "fail"
    crl_dir: Path | None = None

    @property
    def given(self) -> bool:
        return bool(self.trust_policy or self.trust_store)

    def settings(self) -> NotationSettings:
        if not (self.trust_policy and self.trust_store):
            raise InputError("notation verification needs both --notation-trust-policy FILE "
                             "and --notation-trust-store DIR")  # fmt: skip
        policy = load_trust_policy(self.trust_policy)
        store = TrustStore(self.trust_store)
        for p in policy.policies:  # a store the policy names but cannot load is a config error
            for name in p.trust_stores:
                store.certificates(name)
        crls = CrlStore.load(self.crl_dir) if self.crl_dir else CrlStore()
        return NotationSettings(policy, store, self.unknown_revocation, crls=crls)


def printable(text: str) -> str:
    """One line whatever a certificate or envelope says (control characters escaped)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def repository_of(reference: str) -> str | None:
    """``registry/repository`` for trust-policy scopes; None for an OCI layout (only a ``*``
    policy applies there, as notation's own layout verification has no registry either)."""
    ref = parse_reference(reference)
    return None if ref.is_layout else f"{ref.registry}/{ref.repository}"


def verify_notation_referrer(
    store: Store,
    ref: Referrer,
    subject: Descriptor,
    reference: str,
    settings: NotationSettings | None,
) -> ReferrerResult:
    result = ReferrerResult(ref.descriptor.digest, ref.artifact_type, None, ref.annotations)
    layers = ref.manifest.get("layers") or []
    one = layers[0] if len(layers) == 1 and isinstance(layers[0], dict) else {}
    media_type = one.get("mediaType")
    if media_type not in mt.NOTATION_ENVELOPES:
        result.errors.append("notation signature: not exactly one JWS or COSE envelope layer")
        result.signatures.append(SignatureResult(False, "notation", format="notation"))
        return result
    if settings is None:
        result.errors.append("notation signature: give --notation-trust-policy and "
                             "--notation-trust-store to verify it")  # fmt: skip
        result.signatures.append(SignatureResult(False, "notation", format="notation"))
        return result
    try:
        desc = Descriptor.from_dict(layers[0])
        if desc.size > 1024 * 1024:
            raise InputError(f"notation envelope of {desc.size} bytes is too large")
        data = store.fetch_blob(desc)
        target = {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size}
        outcome = verify_envelope(data, media_type, settings,
                                  repository=repository_of(reference), subject=target)  # fmt: skip
    except AttestError as e:
        result.errors.append(f"notation signature: {printable(e.message)}")
        result.signatures.append(SignatureResult(False, "notation", format="notation"))
        return result
    result.signatures.append(_signature(outcome))
    if outcome.failure:
        result.errors.append(f"notation {outcome.failed_step}: {printable(outcome.failure)}")
    return result


def _signature(out: Outcome) -> SignatureResult:
    details = out.to_details()
    details["logged"] = [printable(m) for m in out.logged]
    if out.subject_attributes:
        details["subjectAttributes"] = {k: printable(v) for k, v in out.subject_attributes.items()}
    return SignatureResult(
        verified=out.passed and out.authentic,
        kind="notation",
        issuer=printable(out.issuer) if out.issuer else None,
        subject=printable(out.subject) if out.subject else None,
        timestamp=out.signing_time,
        format="notation",
        details=details,
    )


def notation_signer(s: SignatureResult) -> str:
    """The text report's signer column for a notation signature."""
    d = s.details or {}
    if s.verified:
        logged = f", {len(d.get('logged') or [])} logged" if d.get("logged") else ""
        return f"notation {s.subject} ({d.get('level')}{logged})"
    if d.get("level") == "skip":
        return f"notation: skipped by trust policy {d.get('policy')!r}"
    if d.get("failedStep") is None and d.get("level") == "audit":
        return f"notation {s.subject}: NOT TRUSTED (audit only logs)"
    return "notation: NOT VERIFIED"
