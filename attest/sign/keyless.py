"""Keyless signing with sigstore-python 4.x: an OIDC identity, a Fulcio certificate, Rekor.

Where the identity comes from, in order: ``--identity-token`` / ``SIGSTORE_ID_TOKEN``, the CI's
ambient credential (``detect_credential``: GitHub Actions, GitLab, Buildkite, CircleCI, GCP),
or the interactive browser flow. Which Sigstore: public-good (default), staging, or a private
instance described by one client trust config file.

One :class:`KeylessSigner` holds **one** sigstore signer session (``cache=True``): one
ephemeral key and one certificate sign every statement of a run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sigstore.dsse import Statement as DsseStatement
from sigstore.errors import Error as SigstoreError
from sigstore.errors import NetworkError
from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
from sigstore.oidc import ExpiredIdentity, IdentityToken, Issuer, detect_credential
from sigstore.sign import Signer as SigstoreSigner
from sigstore.sign import SigningContext
from sigstore.verify import Verifier, policy
from sigstore.verify.policy import VerificationPolicy

from attest import jsonio
from attest.errors import InputError, RegistryError, UsageError, VerificationError
from attest.intoto import statement_bytes, validate_statement
from attest.oci import mediatypes as mt
from attest.sign.checks import check_statement

try:  # plain Exceptions in sigstore-python's private client modules
    from sigstore._internal.fulcio.client import ExpiredCertificate, FulcioClientError
    from sigstore._internal.rekor import RekorClientError

    _SERVICE_ERRORS: tuple[type[BaseException], ...] = (
        FulcioClientError,
        RekorClientError,
        ExpiredCertificate,
    )
except ImportError:  # pragma: no cover - a sigstore release that moved them
    _SERVICE_ERRORS = ()

log = logging.getLogger(__name__)

ENV_TOKEN = "SIGSTORE_ID_TOKEN"


# -- trust --------------------------------------------------------------------------------------


def load_trust_config(
    *, staging: bool = False, trust_config: str | Path | None = None, offline: bool = False
) -> ClientTrustConfig:
    """Public-good Sigstore (TUF), staging, or the client trust config in ``trust_config``."""
    if staging and trust_config:
        raise UsageError("--staging and --trust-config are exclusive")
    try:
        if trust_config:
            path = Path(trust_config)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as e:
                raise UsageError(f"cannot read trust config {path}: {e.strerror or e}") from None
            try:
                cfg = ClientTrustConfig.from_json(text)
            except Exception as e:  # the protobuf-models parser raises several types
                raise InputError(f"{path} is not a Sigstore client trust config: {e}") from None
        elif staging:
            cfg = ClientTrustConfig.staging(offline=offline)
        else:
            cfg = ClientTrustConfig.production(offline=offline)
    except (SigstoreError, requests.RequestException) as e:
        raise RegistryError(
            f"cannot load the Sigstore trust root: {e}",
            hint="keyless signing needs the network; use --key for air-gapped signing",
        ) from None
    return prefer_rekor_v1(cfg)


def prefer_rekor_v1(cfg: ClientTrustConfig) -> ClientTrustConfig:
    """Log to a Rekor v1 when the signing config offers one.

    Rekor v1 entries carry a signed integrated time (no TSA needed) and are what cosign,
    sigstore-js and policy controllers have verified longest; a v2-only config still works.
    """
    cfg.force_tlog_version = 1
    try:
        cfg.signing_config  # noqa: B018 - raises when no v1 log is configured
    except SigstoreError:
        cfg.force_tlog_version = None
    return cfg


# -- identity -----------------------------------------------------------------------------------


def explicit_token(identity_token: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """``--identity-token`` or, failing that, ``SIGSTORE_ID_TOKEN``."""
    env = os.environ if env is None else env
    return identity_token or env.get(ENV_TOKEN) or None


def ambient_token() -> str | None:
    """The CI's OIDC token for audience ``sigstore``, or None outside a supported CI.

    Raises UsageError when a CI is detected but will not hand out a token (GitHub Actions
    without ``permissions: id-token: write``), with sigstore's own explanation as the hint.
    """
    try:
        return detect_credential()
    except SigstoreError as e:
        raise UsageError(
            f"a CI identity was detected but no OIDC token could be obtained: {e}",
            hint=" ".join(e.diagnostics().split()),
        ) from None


def parse_token(raw: str) -> IdentityToken:
    try:
        return IdentityToken(raw.strip())
    except SigstoreError as e:
        raise UsageError(f"identity token rejected: {e}") from None


def interactive_token(cfg: ClientTrustConfig) -> IdentityToken:
    """The browser (or out-of-band) OAuth flow against the instance's OIDC issuer."""
    try:
        return Issuer(cfg.signing_config.get_oidc_url()).identity_token()
    except SigstoreError as e:
        raise RegistryError(f"interactive sign-in failed: {e}") from None
    except Exception as e:  # IssuerError and friends are plain Exceptions
        raise RegistryError(f"interactive sign-in failed: {type(e).__name__}: {e}") from None


# -- signing ------------------------------------------------------------------------------------


class KeylessSigner:
    """Signs statements with a Fulcio certificate for ``token``'s identity, logged in Rekor."""

    kind = "keyless"

    def __init__(self, trust_config: ClientTrustConfig, token: IdentityToken, *, source: str):
        self._context = SigningContext.from_trust_config(trust_config)
        self.trusted_root = trust_config.trusted_root  # so a run can verify what it signed
        self._token = token
        self._session: SigstoreSigner | None = None
        self.source = source  # "--identity-token", "GitHub Actions", "interactive", ...
        self.identity = f"{token.identity} ({token.federated_issuer})"
        self.issuer = token.federated_issuer
        self.subject = token.identity

    @property
    def oidc_claims(self) -> dict[str, Any]:
        """The token's claims (unverified): the provenance stage reads GitHub's from here."""
        return dict(self._token._unverified_claims)

    def describe(self) -> str:
        return f"keyless {self.subject} ({self.issuer}) via {self.source}"

    def _signer(self) -> SigstoreSigner:
        # One session for the signer's lifetime: one key, one certificate, many statements.
        if self._session is None:
            self._session = SigstoreSigner(self._token, self._context, cache=True)
        return self._session

    def sign_statements(self, statements: list[dict[str, Any]]) -> list[bytes]:
        bundles: list[bytes] = []
        try:
            signer = self._signer()
            for statement in statements:
                bundle = signer.sign_dsse(DsseStatement(statement_bytes(statement)))
                bundles.append(bundle.to_json().encode())
                if len(bundles) == 1:  # the certificate says who signed: report that
                    der = bundle.signing_certificate.public_bytes(serialization.Encoding.DER)
                    san, issuer = certificate_identity(der)
                    self.subject, self.issuer = san or self.subject, issuer or self.issuer
                    self.identity = f"{self.subject} ({self.issuer})"
        except ExpiredIdentity:
            raise UsageError(
                "the identity token expired before signing", hint="get a fresh token"
            ) from None
        except NetworkError as e:
            raise RegistryError(f"keyless signing failed: {e}", hint=e.diagnostics()) from None
        except SigstoreError as e:
            raise RegistryError(f"keyless signing failed: {e}") from None
        except (*_SERVICE_ERRORS, requests.RequestException) as e:  # type: ignore[misc]  # starred tuple
            raise RegistryError(f"keyless signing failed: {type(e).__name__}: {e}") from None
        return bundles


def certificate_identity(der: bytes) -> tuple[str | None, str | None]:
    """(SAN, OIDC issuer) of a Fulcio certificate, as verifiers match them."""
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None, None
    names = [*san.get_values_for_type(x509.RFC822Name)]
    names += san.get_values_for_type(x509.UniformResourceIdentifier)
    issuer = None
    for ext in cert.extensions:
        if not isinstance(ext.value, x509.UnrecognizedExtension):
            continue
        raw = ext.value.value
        if ext.oid == _OID_ISSUER_V2:
            issuer = _der_utf8(raw) or issuer
        elif ext.oid == _OID_ISSUER_V1 and issuer is None:
            issuer = raw.decode("utf-8", "replace")
    return (names[0] if names else None), issuer


def _der_utf8(raw: bytes) -> str | None:
    """The text of a DER UTF8String (tag 0x0C, short or long length form)."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return None
    length, start = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(raw[2 : 2 + count], "big"), 2 + count
    return raw[start : start + length].decode("utf-8", "replace")


_OID_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OID_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


# -- verification -------------------------------------------------------------------------------


def verify_keyless_bundle(
    data: bytes,
    *,
    trusted_root: TrustedRoot,
    identity: str | None = None,
    issuer: str | None = None,
    verification_policy: VerificationPolicy | None = None,
    subject_digest: str | None = None,
    predicate_type: str | None = None,
) -> dict[str, Any]:
    """Verify a keyless bundle (chain, SCT, Rekor entry, identity); return its statement.

    Give ``identity`` and ``issuer`` (exact match), or a sigstore ``verification_policy``.
    Then the checks sigstore leaves to us: payload type, statement shape, subject digest.
    """
    if verification_policy is None:
        if not identity or not issuer:
            raise UsageError("keyless verification needs an identity and an issuer")
        verification_policy = policy.Identity(identity=identity, issuer=issuer)
    try:
        bundle = Bundle.from_json(data)
    except Exception as e:  # InvalidBundle, pydantic errors, JSON errors
        raise VerificationError(f"unreadable Sigstore bundle: {e}") from None
    verifier = Verifier(trusted_root=trusted_root)
    try:
        payload_type, payload = verifier.verify_dsse(bundle, verification_policy)
    except SigstoreError as e:
        raise VerificationError(f"Sigstore verification failed: {e}") from None
    if payload_type != mt.INTOTO_JSON:
        raise VerificationError(f"DSSE payload type {payload_type!r} is not in-toto")
    try:
        statement = jsonio.loads(payload, "the signed payload")
        if not isinstance(statement, dict):
            raise ValueError("not a JSON object")
        validate_statement(statement)
    except (ValueError, InputError) as e:
        raise VerificationError(f"signed payload is not an in-toto statement: {e}") from None
    check_statement(statement, subject_digest=subject_digest, predicate_type=predicate_type)
    return statement
