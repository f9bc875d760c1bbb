"""Verify every referrer of a subject and build the VerificationReport.

Cryptography happens here; policy does not. For each Sigstore bundle referrer: signature,
certificate chain and transparency log (keyless, against the given trust root) or the public key
(key bundles); the identity policy; the DSSE payload type; that the statement is about the
subject digest (an OMS statement: that its files are the subject's layers); that its predicate
type is the one the referrer claims. Discovery already drops referrers whose own ``subject`` is
another manifest.

Trust comes only from what the caller names: ``--key`` (or ``allow_dev_key``) for key bundles,
the identity flags for keyless ones. Identity flags that no verified keyless signature matched
are a failure of the whole report, not a silent pass on key bundles. A plain document counts as
vouched for only when a verified statement carries its bytes (``documents``).
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
from attest.evidence import table
from attest.intoto import validate_statement
from attest.oci import mediatypes as mt
from attest.oci.referrers import Referrer, ReferrersMode, discover
from attest.oci.store import Descriptor, Store
from attest.sign.bundle import parse_bundle
from attest.sign.key_signer import key_hint, model_signing_hint, verify_key_bundle
from attest.sign.keyless import certificate_identity, verify_keyless_bundle
from attest.sign.keys import dev_key_path, load_public_key
from attest.verify.documents import check_vouched
from attest.verify.identity import IdentityPolicy
from attest.verify.notation.referrer import verify_notation_referrer
from attest.verify.oms import check_oms_statement
from attest.verify.report import ReferrerResult, SignatureResult, VerificationReport
from attest.verify.summaries import summarize

log = logging.getLogger(__name__)


@dataclass
class VerifyOptions:
    key: Path | None = None
    identity: IdentityPolicy | None = None
    trust_config: Path | None = None
    staging: bool = False
    offline: bool = False
    referrers_mode: ReferrersMode = "auto"
    # the local development key is trusted only when the user says so (--allow-dev-key)
    allow_dev_key: bool = False
    # in-process callers (attest run) may hand over trust material they already hold
    public_key: ec.EllipticCurvePublicKey | None = None
    public_key_kind: str = "key"  # "dev-key" when public_key is the development key
    trusted_root: Any = None
    notation: Any = None  # NotationSettings (trust policy + store) for notation signatures
    # identity flags must be met by a keyless signature; off only where the same options
    # verify something else too (a policy bundle may be key-signed beside a keyless model)
    identity_binds: bool = True


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
    results: list[ReferrerResult] = []
    statements: dict[str, dict[str, Any]] = {}  # bundle referrer digest -> verified statement
    documents: list[tuple[Referrer, ReferrerResult]] = []
    oms = _OmsSubject(store, subject.digest, reference)
    for ref in discover(store, subject.digest, mode=options.referrers_mode):
        if ref.artifact_type == mt.SIGSTORE_BUNDLE_V03:
            if trusted_root is None and _is_keyless(store, ref):
                trusted_root = load_trusted_root(options)
            result, statement = _verify_bundle(
                store, ref, subject.digest, keys, trusted_root, options, oms
            )
            if statement is not None:
                statements[ref.descriptor.digest] = statement
            results.append(result)
        elif ref.artifact_type == mt.NOTATION_SIGNATURE:
            results.append(verify_notation_referrer(store, ref, subject, reference,
                                                    options.notation))  # fmt: skip
        elif ref.artifact_type == mt.INTOTO_JSON:
            results.append(_unsigned_statement(store, ref, subject.digest))
        else:
            result = _document(ref)
            documents.append((ref, result))
            results.append(result)
    # documents after every bundle: a document may be listed before the bundle it names
    for ref, result in documents:
        _check_document(store, ref, result, statements)
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
        errors=_identity_errors(options.identity, results) if options.identity_binds else [],
    )


def _identity_errors(identity: IdentityPolicy | None, results: list[ReferrerResult]) -> list[str]:
    """Identity flags bind: given, they must be matched by a verified keyless signature."""
    flags = identity.flags() if identity is not None else []
    if not flags:
        return []
    signatures = [s for r in results for s in r.signatures]
    if any(s.verified and s.kind == "keyless" for s in signatures):
        return []
    given = " ".join(flags)
    if signatures and all(s.kind in ("key", "dev-key") for s in signatures):
        return [
            f"{given}: only key-signed bundles are attached, and identity flags apply to "
            "keyless signatures only (verify key bundles with --key)"
        ]
    return [f"{given}: no verified keyless signature matches"]


class _OmsSubject:
    """The subject parsed as a ModelPack artifact, read once and only for OMS bundles."""

    def __init__(self, store: Store, digest: str, reference: str) -> None:
        self._args = (store, digest, reference)
        self._subject: Any = None

    def get(self) -> Any:
        if self._subject is None:
            from attest.modelpack.read import read_subject

            try:
                self._subject = read_subject(*self._args)
            except InputError as e:
                raise VerificationError(f"OMS statement: {e.message}") from None
        return self._subject


def _keys(options: VerifyOptions) -> list[tuple[str, ec.EllipticCurvePublicKey]]:
    """Keys to try on key bundles: only those the caller named. ``--key`` is reported as
    "dev-key" when it is the local development key (so policies still flag it)."""
    if options.public_key is not None:
        return [(options.public_key_kind, options.public_key)]
    dev = _dev_public_key(strict=options.allow_dev_key)
    keys: list[tuple[str, ec.EllipticCurvePublicKey]] = []
    if options.key:
        key = load_public_key(options.key)
        is_dev = dev is not None and key_hint(dev) == key_hint(key)
        keys.append(("dev-key" if is_dev else "key", key))
    if options.allow_dev_key:
        if dev is None:
            raise UsageError(
                f"--allow-dev-key: there is no development key at {dev_key_path()}",
                hint="`attest run` creates it on first use",
            )
        if not any(key_hint(k) == key_hint(dev) for _, k in keys):
            keys.append(("dev-key", dev))
    return keys


def _dev_public_key(strict: bool = False) -> ec.EllipticCurvePublicKey | None:
    """The local dev key's public half, if there is one. Only ``--allow-dev-key`` (strict)
    fails on an unreadable file; otherwise it is used only to *name* a key, never to trust."""
    dev_pub = dev_key_path().with_suffix(".pub")
    if not dev_pub.is_file():
        return None
    try:
        return load_public_key(dev_pub)
    except InputError:
        if strict:
            raise
        return None


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
    oms: _OmsSubject,
) -> tuple[ReferrerResult, dict[str, Any] | None]:
    """The bundle's result, and its statement when (and only when) it verified."""
    claimed = ref.annotations.get(table.ANNOTATION_BUNDLE_PREDICATE_TYPE)
    result = ReferrerResult(ref.descriptor.digest, ref.artifact_type, claimed, ref.annotations)
    try:
        data = _layer_bytes(store, ref)
        info = parse_bundle(data)
    except InputError as e:
        result.errors.append(f"unreadable bundle: {e.message}")
        result.signatures.append(SignatureResult(False, "unknown"))
        return result, None
    # an OMS statement is about the file tree: checked against the layers, not the manifest
    is_oms = claimed == table.OMS
    about = None if is_oms else subject_digest
    try:
        if info.kind == "keyless":
            statement, signature = _verify_keyless(data, info, about, claimed,
                                                   trusted_root, options)  # fmt: skip
        else:
            statement, signature = _verify_with_keys(data, info, about, claimed, keys)
        if is_oms:
            files = check_oms_statement(statement, oms.get())
    except (VerificationError, UsageError) as e:
        result.errors.append(e.message)
        result.signatures.append(SignatureResult(False, info.kind))
        return result, None
    result.signatures.append(signature)
    result.predicate_type = statement["predicateType"]
    result.summary = {"files": files} if is_oms else summarize(
        result.predicate_type, statement.get("predicate"))  # fmt: skip
    return result, statement


def _verify_keyless(
    data: bytes,
    info: Any,
    subject_digest: str | None,
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
    info: Any,
    subject_digest: str | None,
    claimed: str | None,
    keys: list[tuple[str, ec.EllipticCurvePublicKey]],
) -> tuple[dict[str, Any], SignatureResult]:
    if not keys:
        dev = _dev_public_key()
        if dev is not None and info.key_hint in _hints(dev):
            raise VerificationError(
                "signed with the local development key, which is trusted only when named: "
                "give --allow-dev-key (or --key with its .pub) — never for a release"
            )
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


def _hints(key: ec.EllipticCurvePublicKey) -> set[str]:
    return {key_hint(key), model_signing_hint(key)}


def _integrated_time(data: bytes) -> str | None:
    try:
        entries = jsonio.loads(data, "bundle")["verificationMaterial"]["tlogEntries"]
        seconds = int(entries[0]["integratedTime"])
    except (KeyError, IndexError, ValueError, TypeError, InputError):
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unsigned_statement(store: Store, ref: Referrer, subject_digest: str) -> ReferrerResult:
    claimed = ref.annotations.get(table.ANNOTATION_PREDICATE_TYPE)
    result = ReferrerResult(ref.descriptor.digest, ref.artifact_type, claimed, ref.annotations)
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
    """A plain document (SBOM file, card): listed; vouched for once ``_check_document`` says."""
    claimed = ref.annotations.get(table.ANNOTATION_PREDICATE_TYPE)
    return ReferrerResult(ref.descriptor.digest, ref.artifact_type, claimed, ref.annotations)


def _check_document(
    store: Store, ref: Referrer, result: ReferrerResult, statements: dict[str, dict[str, Any]]
) -> None:
    """The annotation naming a vouching statement is a claim; it counts only when that
    statement verified and carries this document's bytes."""
    claimed = ref.annotations.get(table.ANNOTATION_STATEMENT)
    if not claimed:
        return
    result.summary = {"claimedStatement": claimed}
    statement = statements.get(claimed)
    if statement is None:
        result.errors.append(f"not vouched for: {claimed} is not a verified statement here")
        return
    layers = ref.manifest.get("layers") or []
    if len(layers) != 1:
        result.errors.append(f"not vouched for: the document has {len(layers)} layers, not one")
        return
    try:
        layer = Descriptor.from_dict(layers[0])
        check_vouched(statement, layer, lambda: store.fetch_blob(layer))
    except (VerificationError, InputError) as e:
        result.errors.append(f"not vouched for by {claimed}: {e.message}")
        return
    result.summary = {"statement": claimed}
