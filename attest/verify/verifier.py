"""Verify every referrer of a subject and build the VerificationReport.

Cryptography happens here; policy does not. For each Sigstore bundle referrer: signature,
certificate chain and transparency log (keyless, against the given trust root) or the public key
(key bundles); the identity policy; the DSSE payload type; that the statement is about the
subject digest; that its predicate type is the one the referrer claims. Discovery already drops
referrers whose own ``subject`` is another manifest.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from attest import __version__, jsonio
from attest.errors import InputError, UsageError, VerificationError
from attest.oci import mediatypes as mt
from attest.oci.referrers import Referrer, ReferrersMode, discover
from attest.oci.store import Descriptor, Store
from attest.publish import STATEMENT_MEDIA_TYPE
from attest.sign.bundle import parse_bundle
from attest.sign.key_signer import verify_key_bundle
from attest.sign.keyless import certificate_identity, verify_keyless_bundle
from attest.sign.keys import dev_key_path, load_public_key
from attest.sign.publish import ANNOTATION_BUNDLE_PREDICATE_TYPE
from attest.stages.statement import validate_statement
from attest.verify.identity import IdentityPolicy
from attest.verify.notation.referrer import verify_notation_referrer
from attest.verify.report import ReferrerResult, SignatureResult, VerificationReport
from attest.verify.summaries import summarize

log = logging.getLogger(__name__)
PREDICATE_ANNOTATION = "dev.attest.predicate-type"


@dataclass
class VerifyOptions:
    key: Path | None = None
    identity: IdentityPolicy | None = None
    trust_config: Path | None = None
    staging: bool = False
    offline: bool = False
    referrers_mode: ReferrersMode = "auto"
    # in-process callers (attest run) may hand over trust material they already hold
    public_key: ec.EllipticCurvePublicKey | None = None
    trusted_root: Any = None
    notation: Any = None  # NotationSettings (trust policy + store) for notation signatures


def load_trusted_root(options: VerifyOptions) -> Any:
    """The trust root for keyless bundles: a private instance's, or public-good Sigstore's
    (``--offline``: the root shipped with sigstore-python, no network at all)."""
    from sigstore.models import ClientTrustConfig

    if options.trusted_root is not None:
        return options.trusted_root
    if options.trust_config:
        try:
            return ClientTrustConfig.from_json(options.trust_config.read_text()).trusted_root
        except Exception as e:
            raise InputError(
                f"{options.trust_config}: not a Sigstore client trust config: {e}"
            ) from None
    if options.staging:
        return ClientTrustConfig.staging(offline=options.offline).trusted_root
    return ClientTrustConfig.production(offline=options.offline).trusted_root


def verify_subject(
    store: Store, subject: Descriptor, reference: str, options: VerifyOptions
) -> VerificationReport:
    manifest = json.loads(store.get_manifest(subject.digest).data)
    keys = _keys(options)
    trusted_root: Any = None
    results = []
    for ref in discover(store, subject.digest, mode=options.referrers_mode):
        if ref.artifact_type == mt.SIGSTORE_BUNDLE_V03:
            if trusted_root is None and _is_keyless(store, ref):
                trusted_root = load_trusted_root(options)
            results.append(_verify_bundle(store, ref, subject.digest, keys, trusted_root, options))
        elif ref.artifact_type == mt.NOTATION_SIGNATURE:
            results.append(verify_notation_referrer(store, ref, subject, reference,
                                                    options.notation))  # fmt: skip
        elif ref.artifact_type == STATEMENT_MEDIA_TYPE:
            results.append(_unsigned_statement(store, ref, subject.digest))
        else:
            results.append(_document(ref))
    return VerificationReport(
        subject={
            "reference": reference,
            "digest": subject.digest,
            "mediaType": subject.media_type,
            "artifactType": manifest.get("artifactType"),
            "annotations": manifest.get("annotations") or {},
        },
        referrers=results,
        verifier={
            "name": "attest",
            "version": __version__,
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )


def _keys(options: VerifyOptions) -> list[tuple[str, ec.EllipticCurvePublicKey]]:
    """Keys to try on key bundles: --key ("key"), else the local dev key ("dev-key")."""
    if options.public_key is not None:
        return [("key", options.public_key)]
    if options.key:
        return [("key", load_public_key(options.key))]
    dev_pub = dev_key_path().with_suffix(".pub")
    return [("dev-key", load_public_key(dev_pub))] if dev_pub.is_file() else []


def _layer_bytes(store: Store, ref: Referrer) -> bytes:
    layers = ref.manifest.get("layers") or []
    if len(layers) != 1:
        raise InputError(f"referrer {ref.descriptor.digest} has {len(layers)} layers, not one")
    return store.fetch_blob(Descriptor.from_dict(layers[0]))


def _is_keyless(store: Store, ref: Referrer) -> bool:
    try:
        return parse_bundle(_layer_bytes(store, ref)).kind == "keyless"
    except InputError:
        return False


def _verify_bundle(
    store: Store,
    ref: Referrer,
    subject_digest: str,
    keys: list[tuple[str, ec.EllipticCurvePublicKey]],
    trusted_root: Any,
    options: VerifyOptions,
) -> ReferrerResult:
    claimed = ref.annotations.get(ANNOTATION_BUNDLE_PREDICATE_TYPE)
    result = ReferrerResult(ref.descriptor.digest, ref.artifact_type, claimed, ref.annotations)
    try:
        data = _layer_bytes(store, ref)
        info = parse_bundle(data)
    except InputError as e:
        result.errors.append(f"unreadable bundle: {e.message}")
        result.signatures.append(SignatureResult(False, "unknown"))
        return result
    try:
        if info.kind == "keyless":
            statement, signature = _verify_keyless(data, info, subject_digest, claimed,
                                                   trusted_root, options)  # fmt: skip
        else:
            statement, signature = _verify_with_keys(data, subject_digest, claimed, keys)
    except (VerificationError, UsageError) as e:
        result.errors.append(e.message)
        result.signatures.append(SignatureResult(False, info.kind))
        return result
    result.signatures.append(signature)
    result.predicate_type = statement["predicateType"]
    result.summary = summarize(result.predicate_type, statement.get("predicate"))
    return result


def _verify_keyless(
    data: bytes,
    info: Any,
    subject_digest: str,
    claimed: str | None,
    trusted_root: Any,
    options: VerifyOptions,
) -> tuple[dict[str, Any], SignatureResult]:
    identity = options.identity or IdentityPolicy()
    statement = verify_keyless_bundle(
        data, trusted_root=trusted_root, verification_policy=identity.sigstore_policy(),
        subject_digest=subject_digest, predicate_type=claimed,
    )  # fmt: skip
    san, issuer = certificate_identity(info.certificate) if info.certificate else (None, None)
    return statement, SignatureResult(
        True, "keyless", issuer=issuer, subject=san, tlog=info.tlog_entries > 0,
        timestamp=_integrated_time(data),
    )  # fmt: skip


def _verify_with_keys(
    data: bytes,
    subject_digest: str,
    claimed: str | None,
    keys: list[tuple[str, ec.EllipticCurvePublicKey]],
) -> tuple[dict[str, Any], SignatureResult]:
    if not keys:
        raise VerificationError("key-signed bundle: give --key PUBLIC_KEY to verify it")
    errors = []
    for kind, key in keys:
        try:
            statement = verify_key_bundle(
                data, key, subject_digest=subject_digest, predicate_type=claimed
            )
        except VerificationError as e:
            errors.append(e.message)
            continue
        return statement, SignatureResult(True, kind, subject=None, issuer=None, tlog=False)
    raise VerificationError("; ".join(errors))


def _integrated_time(data: bytes) -> str | None:
    try:
        entries = jsonio.loads(data, "bundle")["verificationMaterial"]["tlogEntries"]
        seconds = int(entries[0]["integratedTime"])
    except (KeyError, IndexError, ValueError, TypeError, InputError):
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unsigned_statement(store: Store, ref: Referrer, subject_digest: str) -> ReferrerResult:
    result = ReferrerResult(ref.descriptor.digest, ref.artifact_type,
                            ref.annotations.get(PREDICATE_ANNOTATION), ref.annotations)  # fmt: skip
    try:
        statement = jsonio.loads(_layer_bytes(store, ref), "statement")
        validate_statement(statement)
    except (InputError, ValueError) as e:
        result.errors.append(f"unreadable statement: {e}")
        return result
    digests = [s.get("digest", {}).get("sha256") for s in statement.get("subject", [])]
    if subject_digest.split(":", 1)[1] not in digests:
        result.errors.append("statement is about another digest")
        return result
    result.predicate_type = statement.get("predicateType")
    result.summary = summarize(result.predicate_type, statement.get("predicate"))
    return result


def _document(ref: Referrer) -> ReferrerResult:
    """A plain document (SBOM file, card): listed, vouched for by the statement it names."""
    result = ReferrerResult(ref.descriptor.digest, ref.artifact_type,
                            ref.annotations.get(PREDICATE_ANNOTATION), ref.annotations)  # fmt: skip
    vouched = ref.annotations.get("dev.attest.statement.digest")
    if vouched:
        result.summary = {"statement": vouched}
    return result
