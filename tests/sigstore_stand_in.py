"""A test stand-in for Sigstore's public-good services -- test code only, never shipped.

The public Sigstore instance (Fulcio, Rekor, its OIDC issuer) cannot be reached from the test
machines, so this module runs a loopback copy of the protocols on ``127.0.0.1`` (port 0) for the
test suite. It lives under ``tests/`` and is not part of the ``attest`` package. It follows the wire
formats of the real services closely enough that unmodified clients (sigstore-python 4.x,
sigstore-js) sign against it and independent verifiers accept what it issues:

- **OIDC issuer** (``iss`` = the server URL): ES256 JWTs from its own P-256 key,
  ``/.well-known/openid-configuration`` and ``/jwks``; :meth:`SigstoreStandIn.issue_token`; a
  GitHub Actions style ambient token endpoint (``GET <url>&audience=..`` with
  ``Authorization: bearer <request token>`` -> ``{"value": jwt}``), see
  :meth:`SigstoreStandIn.github_actions_env`.
- **Fulcio v2** ``POST /api/v2/signingCert``: accepts sigstore-python's CSR request and
  sigstore-js's ``publicKeyRequest`` (proof of possession = signature over the principal name), the
  token as bearer header or in ``credentials``. Issues a 10-minute leaf from an intermediate under a
  self-signed root (both P-384, like the public-good CA): empty subject, critical KeyUsage
  digitalSignature, EKU codeSigning, SKI/AKI, critical SAN, issuer extensions ``57264.1.1`` (raw)
  and ``.1.8`` (DER UTF8String), the GitHub workflow extensions when the token carries GitHub
  claims, and an embedded SCT from a local CT log over the RFC 6962 precertificate TBS.
  Identity rules (as Fulcio's issuer types): a token with ``email`` is an email principal
  (``email_verified`` must be true; SAN = email); a token with ``job_workflow_ref`` is a GitHub
  workflow principal (SAN URI ``https://github.com/<job_workflow_ref>``); any other token is a URI
  principal and its ``sub`` must be an absolute URI (SAN URI = ``sub``).
- **Rekor v1**: ``POST /api/v1/log/entries`` for ``hashedrekord`` and ``dsse`` 0.0.1 (signatures
  checked, canonical bodies as Rekor builds them, RFC 8785), an RFC 6962 Merkle tree with inclusion
  proofs, signed checkpoints, signed entry timestamps; ``GET /api/v1/log``,
  ``/api/v1/log/publicKey``, ``/api/v1/log/entries/<uuid>``, ``?logIndex=N`` and
  ``POST /api/v1/log/entries/retrieve``; 409 with ``Location`` for a duplicate entry. Two dummy
  entries are logged first (clients mishandle index 0: sigstore-js omits zero-valued fields).
- :meth:`SigstoreStandIn.client_trust_config`: the combined ClientTrustConfig pointing at it.

Not implemented: the interactive browser flow (``/auth``, ``/token`` answer 501), a TSA, Rekor v2,
RSA/Ed25519 signing keys at Fulcio, consistency proofs. Every request is recorded in
``requests_log`` so a test can prove that an offline step made none.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

AUDIENCE = "sigstore"
GITHUB_SERVER = "https://github.com"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
OPERATOR = "attest-sigstore-stand-in"
LEAF_LIFETIME = timedelta(minutes=10)
CA_LIFETIME = timedelta(days=3650)

# Fulcio certificate extensions, https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md
OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
OID_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
OID_SCT_LIST = "1.3.6.1.4.1.11129.2.4.2"
# Deprecated GitHub extensions: raw bytes, still issued by Fulcio. OID suffix -> claim.
_GITHUB_RAW_EXTENSIONS = {2: "event_name", 3: "sha", 4: "workflow", 5: "repository", 6: "ref"}
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----")


class StandInError(Exception):
    """An error answered as ``{"code": status, "message": ...}`` (grpc-gateway/go-swagger style)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# --- small encoding helpers -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV (definite length, short or long form)."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def der_utf8_string(value: str) -> bytes:
    """DER UTF8String: the encoding of Fulcio's non-deprecated extensions (1.8 onwards)."""
    return _der(0x0C, value.encode())


def spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962 key ID (SHA-256 of the SubjectPublicKeyInfo): Rekor log ID, CT log ID."""
    return hashlib.sha256(spki_der(key)).digest()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def dsse_pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what a DSSE signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _verify_ecdsa(
    key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, algorithm: Any
) -> bool:
    try:
        key.verify(signature, data, ec.ECDSA(algorithm))
    except InvalidSignature:
        return False
    return True


def _now_utc() -> datetime:
    return datetime.now(timezone.utc)


# --- RFC 6962 Merkle tree ---------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (RFC 6962 section 2.1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: list[bytes]) -> bytes:
    """Merkle Tree Hash of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(index: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 audit path, leaf level first."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*_path(index, leaves[:k]), _mth(leaves[k:])]
    return [*_path(index - k, leaves[k:]), _mth(leaves[:k])]


class MerkleTree:
    """An append-only RFC 6962 tree of leaf hashes (small: the suite logs a few hundred)."""

    def __init__(self) -> None:
        self._leaves: list[bytes] = []

    @property
    def size(self) -> int:
        return len(self._leaves)

    def append(self, data: bytes) -> int:
        self._leaves.append(leaf_hash(data))
        return len(self._leaves) - 1

    def root(self, size: int | None = None) -> bytes:
        return _mth(self._leaves[: self.size if size is None else size])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of size {size}")
        return _path(index, self._leaves[:size])


# --- OIDC issuer -----------------------------------------------------------------------------


class OidcIssuer:
    """Signs ES256 identity tokens and checks them (what Fulcio does with the issuer's JWKS)."""

    def __init__(self, url: str, trusted_issuers: tuple[str, ...] = (GITHUB_ISSUER,)) -> None:
        self.url = url
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = key_id(self.key.public_key()).hex()[:16]
        # Issuer names this key may sign for: its own URL, plus GitHub's for tests that need
        # certificates naming the real GitHub issuer (a private Fulcio configured for it).
        self.accepted = (url, *trusted_issuers)

    def issue(self, claims: dict[str, Any], lifetime: int = 600) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + lifetime}
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="ES256", headers={"kid": self.kid})

    def verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key.public_key(),
                algorithms=["ES256"],
                audience=AUDIENCE,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise StandInError(401, f"invalid identity token: {exc}") from exc
        if claims["iss"] not in self.accepted:
            raise StandInError(401, f"unknown issuer {claims['iss']!r}")
        return claims

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
            "authorization_endpoint": f"{self.url}/auth",
            "token_endpoint": f"{self.url}/token",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        }


def github_claims(
    repository: str = "acme/model-repo",
    ref: str = "refs/heads/main",
    sha: str = "8c2a9d1e0f4b7a6c5d3e2f1a0b9c8d7e6f5a4b3c",
    workflow_path: str = ".github/workflows/release.yml",
    event_name: str = "push",
    run_id: str = "7654321098",
    run_attempt: str = "1",
    repository_id: str = "123456789",
    repository_owner_id: str = "987654321",
    runner_environment: str = "github-hosted",
    repository_visibility: str = "public",
    job_workflow_ref: str | None = None,
) -> dict[str, str]:
    """Claims shaped like a GitHub Actions ID token (values are fictitious)."""
    owner = repository.split("/", 1)[0]
    workflow_ref = f"{repository}/{workflow_path}@{ref}"
    return {
        "sub": f"repo:{repository}:ref:{ref}",
        "ref": ref,
        "ref_type": "branch" if ref.startswith("refs/heads/") else "tag",
        "sha": sha,
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": repository_owner_id,
        "repository_id": repository_id,
        "repository_visibility": repository_visibility,
        "run_id": run_id,
        "run_number": "42",
        "run_attempt": run_attempt,
        "actor": "release-bot",
        "actor_id": "55555",
        "workflow": "release",
        "event_name": event_name,
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": job_workflow_ref or workflow_ref,
        "job_workflow_sha": sha,
        "runner_environment": runner_environment,
    }


# --- Certificate authority and CT log --------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who a certificate is for: the SAN, the name a proof of possession signs, the issuer."""

    san: x509.GeneralName
    name: str
    issuer: str
    claims: dict[str, Any]


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Fulcio's issuer types, chosen by the claims: email, GitHub workflow, URI."""
    issuer = claims["iss"]
    if "email" in claims:
        if claims.get("email_verified") is not True:
            raise StandInError(400, "email_verified claim is not true")
        return Principal(x509.RFC822Name(claims["email"]), claims["email"], issuer, claims)
    if "job_workflow_ref" in claims:
        uri = f"{GITHUB_SERVER}/{claims['job_workflow_ref']}"
        return Principal(x509.UniformResourceIdentifier(uri), claims["sub"], issuer, claims)
    sub = str(claims["sub"])
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", sub):
        raise StandInError(400, f"sub {sub!r} is not a URI and the token has no email claim")
    return Principal(x509.UniformResourceIdentifier(sub), sub, issuer, claims)


def github_extension_values(claims: dict[str, Any]) -> dict[int, str]:
    """Fulcio's DER-encoded GitHub workflow extensions (OID suffix -> value), from the claims."""
    c = claims
    values: dict[int, str | None] = {
        9: f"{GITHUB_SERVER}/{c['job_workflow_ref']}" if "job_workflow_ref" in c else None,
        10: c.get("job_workflow_sha"),
        11: c.get("runner_environment"),
        12: f"{GITHUB_SERVER}/{c['repository']}" if "repository" in c else None,
        13: c.get("sha"),
        14: c.get("ref"),
        15: c.get("repository_id"),
        16: f"{GITHUB_SERVER}/{c['repository_owner']}" if "repository_owner" in c else None,
        17: c.get("repository_owner_id"),
        18: f"{GITHUB_SERVER}/{c['workflow_ref']}" if "workflow_ref" in c else None,
        19: c.get("workflow_sha"),
        20: c.get("event_name"),
        21: (
            f"{GITHUB_SERVER}/{c['repository']}/actions/runs/{c['run_id']}"
            f"/attempts/{c['run_attempt']}"
            if {"repository", "run_id", "run_attempt"} <= c.keys()
            else None
        ),
        22: c.get("repository_visibility"),
    }
    return {k: str(v) for k, v in values.items() if v is not None}


class CTLog:
    """A certificate transparency log that only issues SCTs for precertificates."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = key_id(self.key.public_key())

    def sct(self, issuer_key: ec.EllipticCurvePublicKey, tbs: bytes) -> bytes:
        """A v1 SCT over the RFC 6962 ``PreCert`` (issuer key hash + TBS without the SCT list)."""
        timestamp = int(time.time() * 1000)
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp, 1)  # v1, certificate_timestamp, precert_entry
            + key_id(issuer_key)
            + len(tbs).to_bytes(3, "big")
            + tbs
            + struct.pack("!H", 0)  # no CT extensions
        )
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", 0)
            + self.log_id
            + struct.pack("!QH", timestamp, 0)
            + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
            + signature
        )

    @staticmethod
    def sct_list_extension(scts: list[bytes]) -> x509.UnrecognizedExtension:
        """The X.509 extension: DER OCTET STRING of a TLS ``SignedCertificateTimestampList``."""
        body = b"".join(struct.pack("!H", len(s)) + s for s in scts)
        tls = struct.pack("!H", len(body)) + body
        return x509.UnrecognizedExtension(ObjectIdentifier(OID_SCT_LIST), _der(0x04, tls))


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "attest-stand-in.invalid"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


class FulcioCA:
    """Root and intermediate (P-384, as the public-good CA) issuing Fulcio-profile leaves."""

    def __init__(self, ct_log: CTLog, not_before: datetime) -> None:
        self.ct_log = ct_log
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.root = self._ca_cert(_name("sigstore-stand-in"), self.root_key, None, not_before)
        self.intermediate_key = ec.generate_private_key(ec.SECP384R1())
        self.intermediate = self._ca_cert(
            _name("sigstore-stand-in-intermediate"), self.intermediate_key, 0, not_before
        )

    def _ca_cert(
        self, subject: x509.Name, key: ec.EllipticCurvePrivateKey, path_length: int | None,
        not_before: datetime,
    ) -> x509.Certificate:
        is_root = path_length is None
        issuer_key = key if is_root else self.root_key
        issuer_name = subject if is_root else self.root.subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + CA_LIFETIME)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
            )
        )
        if not is_root:  # the public-good intermediate carries EKU codeSigning too
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA384())

    @property
    def chain(self) -> list[x509.Certificate]:
        """Intermediate then root (the trusted root's ``certChain`` order)."""
        return [self.intermediate, self.root]

    def _leaf_builder(
        self, public_key: ec.EllipticCurvePublicKey, principal: Principal
    ) -> x509.CertificateBuilder:
        now = _now_utc().replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + LEAF_LIFETIME)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()
                ),
                False,
            )
            # Empty subject, so the SAN must be critical (RFC 5280 4.2.1.6).
            .add_extension(x509.SubjectAlternativeName([principal.san]), critical=True)
        )
        for oid, value in self._identity_extensions(principal):
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ObjectIdentifier(oid), value), critical=False
            )
        return builder

    @staticmethod
    def _identity_extensions(principal: Principal) -> list[tuple[str, bytes]]:
        claims = principal.claims
        out = [(OID_ISSUER_V1, principal.issuer.encode())]
        if "job_workflow_ref" in claims:
            for suffix, claim in _GITHUB_RAW_EXTENSIONS.items():
                if claim in claims:
                    out.append((f"1.3.6.1.4.1.57264.1.{suffix}", str(claims[claim]).encode()))
        out.append((OID_ISSUER_V2, der_utf8_string(principal.issuer)))
        if "job_workflow_ref" in claims:
            for suffix, value in sorted(github_extension_values(claims).items()):
                out.append((f"1.3.6.1.4.1.57264.1.{suffix}", der_utf8_string(value)))
        return out

    def issue(
        self, public_key: ec.EllipticCurvePublicKey, principal: Principal
    ) -> x509.Certificate:
        """Sign the precertificate form, get its SCT, then sign the final certificate.

        Both share every TBS field but the SCT list, appended last, so the final certificate's
        TBS minus that extension is exactly what the CT log signed (RFC 6962 section 3.2).
        """
        builder = self._leaf_builder(public_key, principal)
        precert = builder.sign(self.intermediate_key, hashes.SHA384())
        sct = self.ct_log.sct(self.intermediate_key.public_key(), precert.tbs_certificate_bytes)
        leaf = builder.add_extension(CTLog.sct_list_extension([sct]), critical=False).sign(
            self.intermediate_key, hashes.SHA384()
        )
        if leaf.tbs_precertificate_bytes != precert.tbs_certificate_bytes:
            raise AssertionError("precertificate TBS does not match the issued certificate")
        return leaf


# --- Rekor v1 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    index: int
    uuid: str
    body: bytes
    integrated_time: int
    set_signature: bytes


def _load_verifier_pem(pem: bytes) -> tuple[ec.EllipticCurvePublicKey, bytes]:
    """A Rekor ``verifier``: a PEM certificate or public key -> (key, canonical PEM)."""
    try:
        if _PEM_CERT.search(pem):
            cert = x509.load_pem_x509_certificate(pem)
            key, canonical = cert.public_key(), cert.public_bytes(serialization.Encoding.PEM)
        else:
            key = serialization.load_pem_public_key(pem)
            canonical = key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
    except ValueError as exc:
        raise StandInError(400, f"could not parse verifier: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise StandInError(400, "only ECDSA verifiers are supported by the stand-in")
    return key, canonical


_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _canonical_hashedrekord(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        algorithm = spec["data"]["hash"]["algorithm"]
        digest = bytes.fromhex(spec["data"]["hash"]["value"])
        signature = base64.b64decode(spec["signature"]["content"], validate=True)
        verifier = base64.b64decode(spec["signature"]["publicKey"]["content"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise StandInError(400, f"invalid hashedrekord spec: {exc}") from exc
    if algorithm not in _HASHES or len(digest) != _HASHES[algorithm]().digest_size:
        raise StandInError(400, f"unsupported or malformed hash {algorithm!r}")
    key, canonical_pem = _load_verifier_pem(verifier)
    if not _verify_ecdsa(key, signature, digest, Prehashed(_HASHES[algorithm]())):
        raise StandInError(400, "signature does not verify against the digest")
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": algorithm, "value": digest.hex()}},
            "signature": {
                "content": _b64(signature),
                "publicKey": {"content": _b64(canonical_pem)},
            },
        },
    }


def _canonical_dsse(spec: dict[str, Any]) -> dict[str, Any]:
    """Rekor's dsse 0.0.1: every envelope signature must verify under one of the verifiers."""
    try:
        raw_envelope: str = spec["proposedContent"]["envelope"]
        verifier_pems = [
            base64.b64decode(v, validate=True) for v in spec["proposedContent"]["verifiers"]
        ]
        envelope = json.loads(raw_envelope)
        payload = base64.b64decode(envelope["payload"], validate=True)
        pae = dsse_pae(envelope["payloadType"], payload)
        sigs = [
            (s["sig"], base64.b64decode(s["sig"], validate=True)) for s in envelope["signatures"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise StandInError(400, f"invalid dsse spec: {exc}") from exc
    verifiers = [_load_verifier_pem(pem) for pem in verifier_pems]
    if not sigs or not verifiers:
        raise StandInError(400, "dsse entry needs at least one signature and one verifier")
    signatures = []
    for sig_b64, sig in sigs:
        match = next(
            (pem for key, pem in verifiers if _verify_ecdsa(key, sig, pae, hashes.SHA256())), None
        )
        if match is None:
            raise StandInError(400, "all signatures must have a key that verifies it")
        signatures.append({"signature": sig_b64, "verifier": _b64(match)})
    signatures.sort(key=lambda s: s["signature"])
    return {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {
                "algorithm": "sha256",
                "value": hashlib.sha256(raw_envelope.encode()).hexdigest(),
            },
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": signatures,
        },
    }


def canonical_body(proposed: dict[str, Any], *, insert: bool = True) -> bytes:
    """The RFC 8785 body Rekor logs for a proposed entry (after checking its signatures).

    ``insert=False`` (search) also takes a dsse entry already in canonical form, which Rekor
    refuses to insert: nothing would prove its signatures.
    """
    kind, version = proposed.get("kind"), proposed.get("apiVersion")
    spec = proposed.get("spec")
    if not isinstance(spec, dict):
        raise StandInError(400, "entry has no spec")
    if (kind, version) == ("hashedrekord", "0.0.1"):
        return rfc8785.dumps(_canonical_hashedrekord(spec))
    if (kind, version) == ("dsse", "0.0.1"):
        if "proposedContent" not in spec:
            if insert:
                raise StandInError(400, "dsse entry without proposedContent is not insertable")
            return rfc8785.dumps({"apiVersion": version, "kind": kind, "spec": spec})
        return rfc8785.dumps(_canonical_dsse(spec))
    raise StandInError(400, f"unsupported entry type {kind}/{version}")


class RekorLog:
    """Rekor v1: one shard, integrated synchronously, SETs and checkpoints from one P-256 key."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.host = urlsplit(url).netloc
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = key_id(self.key.public_key())
        self.tree_id = secrets.randbelow(2**62) + 2**62
        self.tree = MerkleTree()
        self.clock_skew = 0  # seconds added to integrated times (tests of expiry)
        self.entries: list[LogEntry] = []
        self._by_uuid: dict[str, LogEntry] = {}
        self._lock = threading.Lock()
        self._seed()

    def _seed(self) -> None:
        """Two throwaway hashedrekord entries: real clients must cope with a non-empty log."""
        for n in range(2):
            key = ec.generate_private_key(ec.SECP256R1())
            digest = hashlib.sha256(b"stand-in seed %d" % n).digest()
            signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            pem = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            self.submit(
                {
                    "apiVersion": "0.0.1",
                    "kind": "hashedrekord",
                    "spec": {
                        "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                        "signature": {
                            "content": _b64(signature),
                            "publicKey": {"content": _b64(pem)},
                        },
                    },
                }
            )

    def _sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def submit(self, proposed: dict[str, Any]) -> dict[str, Any]:
        body = canonical_body(proposed)
        with self._lock:
            uuid = f"{self.tree_id:016x}{leaf_hash(body).hex()}"
            if uuid in self._by_uuid:
                raise StandInError(
                    409,
                    f"an equivalent entry already exists in the transparency log with UUID {uuid}",
                    {"Location": f"/api/v1/log/entries/{uuid}"},
                )
            index = self.tree.append(body)
            # clock_skew lets a test make a log whose time is past the certificate's validity
            integrated_time = int(time.time()) + self.clock_skew
            set_payload = rfc8785.dumps(
                {
                    "body": _b64(body),
                    "integratedTime": integrated_time,
                    "logID": self.log_id.hex(),
                    "logIndex": index,
                }
            )
            entry = LogEntry(index, uuid, body, integrated_time, self._sign(set_payload))
            self.entries.append(entry)
            self._by_uuid[uuid] = entry
            return self._view(entry)

    def checkpoint(self, size: int) -> str:
        """A signed note: ``origin\\nsize\\nroot\\n`` + blank line + ``— name b64(hint+sig)``."""
        note = f"{self.host} - {self.tree_id}\n{size}\n{_b64(self.tree.root(size))}\n"
        signature = self.log_id[:4] + self._sign(note.encode())
        # The name must match the trusted root's baseUrl (sigstore-js) and hold no spaces.
        return f"{note}\n\u2014 {self.host} {_b64(signature)}\n"

    def _view(self, entry: LogEntry) -> dict[str, Any]:
        """The v1 ``LogEntry`` JSON (caller holds the lock): proof against the current tree."""
        size = self.tree.size
        proof = self.tree.inclusion_proof(entry.index, size)
        return {
            entry.uuid: {
                "body": _b64(entry.body),
                "integratedTime": entry.integrated_time,
                "logID": self.log_id.hex(),
                "logIndex": entry.index,
                "verification": {
                    "inclusionProof": {
                        "checkpoint": self.checkpoint(size),
                        "hashes": [h.hex() for h in proof],
                        "logIndex": entry.index,
                        "rootHash": self.tree.root(size).hex(),
                        "treeSize": size,
                    },
                    "signedEntryTimestamp": _b64(entry.set_signature),
                },
            }
        }

    def get(self, uuid: str | None = None, index: int | None = None) -> dict[str, Any]:
        with self._lock:
            entry = None
            if uuid is not None:
                # Accept the bare leaf hash as well as the sharded entry ID, as Rekor does.
                entry = self._by_uuid.get(uuid) or self._by_uuid.get(f"{self.tree_id:016x}{uuid}")
            elif index is not None and 0 <= index < len(self.entries):
                entry = self.entries[index]
            if entry is None:
                raise StandInError(404, "entry not found")
            return self._view(entry)

    def retrieve(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for uuid in request.get("entryUUIDs") or []:
            found.extend(self._try(lambda u=uuid: self.get(uuid=u)))
        for index in request.get("logIndexes") or []:
            found.extend(self._try(lambda i=index: self.get(index=int(i))))
        for proposed in request.get("entries") or []:
            uuid = f"{self.tree_id:016x}{leaf_hash(canonical_body(proposed, insert=False)).hex()}"
            found.extend(self._try(lambda u=uuid: self.get(uuid=u)))
        return found

    @staticmethod
    def _try(fetch: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            return [fetch()]
        except StandInError:
            return []

    def log_info(self) -> dict[str, Any]:
        with self._lock:
            size = self.tree.size
            return {
                "rootHash": self.tree.root(size).hex(),
                "treeSize": size,
                "signedTreeHead": self.checkpoint(size),
                "treeID": str(self.tree_id),
                "inactiveShards": [],
            }


# --- HTTP front end --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse sessions
    stand_in: SigstoreStandIn

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        self.stand_in._record(method, url.path)
        try:
            status, body, headers = self.stand_in._route(
                method, url.path, parse_qs(url.query), raw, self.headers
            )
        except StandInError as exc:
            status, headers = exc.status, exc.headers
            body = {"code": exc.status, "message": exc.message}
        self._send(status, body, headers)

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        content_type = headers.pop("Content-Type", "application/json")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise StandInError(400, f"request body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise StandInError(400, "request body must be a JSON object")
    return value


def _bearer(headers: Any) -> str | None:
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


Response = tuple[int, Any, dict[str, str]]


class SigstoreStandIn:
    """The loopback services on one port. Use as a context manager or call :meth:`close`.

    Attributes a test uses: ``url`` (= OIDC issuer = Fulcio = Rekor base URL), ``issuer``
    (the ``iss`` of its tokens), ``fulcio_url``, ``rekor_url``, ``github_token_url``,
    ``requests_log`` ((method, path) of every request), ``oidc``/``ca``/``ct_log``/``rekor``.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = ThreadingHTTPServer((host, 0), type("Handler", (_Handler,), {}))
        self._server.daemon_threads = True
        self._server.RequestHandlerClass.stand_in = self  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self.issuer = self.fulcio_url = self.rekor_url = self.url
        self.github_token_url = f"{self.url}/_apis/idtoken?api-version=2.0"
        self.created = _now_utc().replace(microsecond=0) - timedelta(minutes=5)
        self.oidc = OidcIssuer(self.url)
        self.ct_log = CTLog()
        self.ca = FulcioCA(self.ct_log, self.created)
        self.rekor = RekorLog(self.url)
        self.requests_log: list[tuple[str, str]] = []
        self._log_lock = threading.Lock()
        self._ambient: dict[str, dict[str, Any]] = {}
        # A short poll interval keeps close() (and so a throwaway second instance) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # -- lifecycle

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SigstoreStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, method: str, path: str) -> None:
        with self._log_lock:
            self.requests_log.append((method, path))

    # -- tokens

    def issue_token(
        self,
        sub: str = "https://attest.invalid/users/signer",
        email: str | None = None,
        extra_claims: dict[str, Any] | None = None,
        *,
        audience: str = AUDIENCE,
        issuer: str | None = None,
        lifetime: int = 600,
    ) -> str:
        """An ES256 identity token. With ``email`` the certificate identity is the email, else
        (no GitHub claims) ``sub``, which must then be a URI. ``issuer`` overrides ``iss``: this
        Fulcio accepts its own URL and :data:`GITHUB_ISSUER` (for tests that need certificates
        naming GitHub's issuer); ``extra_claims`` are added last and win."""
        claims: dict[str, Any] = {"sub": sub, "aud": audience}
        if email is not None:
            claims.update(email=email, email_verified=True)
        if issuer is not None:
            claims["iss"] = issuer
        claims.update(extra_claims or {})
        return self.oidc.issue(claims, lifetime)

    def issue_github_token(self, **overrides: str) -> str:
        """A GitHub Actions style token; ``overrides`` go to :func:`github_claims`."""
        return self.oidc.issue(github_claims(**overrides))

    def github_identity(self, claims: dict[str, Any] | None = None) -> str:
        """The certificate identity (SAN URI) Fulcio gives a GitHub workflow token."""
        return f"{GITHUB_SERVER}/{(claims or github_claims())['job_workflow_ref']}"

    def github_actions_env(self, claims: dict[str, Any] | None = None) -> dict[str, str]:
        """Environment of a GitHub Actions job with ``id-token: write`` served by this stand-in.

        The ambient token endpoint answers the returned request token with a JWT carrying
        ``claims`` (default :func:`github_claims`; an ``iss`` there overrides the issuer) and the
        requested audience. Apply with ``monkeypatch.setenv`` for each item.
        """
        request_token = secrets.token_urlsafe(24)
        self._ambient[request_token] = dict(claims or github_claims())
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.github_token_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
        }

    # -- trust material

    def trusted_root(self) -> dict[str, Any]:
        start = {"start": _rfc3339(self.created)}

        def log(url: str, key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(spki_der(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": start,
                },
                "logId": {"keyId": _b64(key_id(key))},
            }

        return {
            "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": [log(self.rekor_url, self.rekor.key.public_key())],
            "certificateAuthorities": [
                {
                    "subject": {
                        "organization": "attest-stand-in.invalid",
                        "commonName": "sigstore-stand-in",
                    },
                    "uri": self.fulcio_url,
                    "certChain": {
                        "certificates": [
                            {"rawBytes": _b64(c.public_bytes(serialization.Encoding.DER))}
                            for c in self.ca.chain
                        ]
                    },
                    "validFor": start,
                }
            ],
            "ctlogs": [log(f"{self.url}/ct", self.ct_log.key.public_key())],
            "timestampAuthorities": [],
        }

    def signing_config(self) -> dict[str, Any]:
        def service(url: str) -> dict[str, Any]:
            return {
                "url": url,
                "majorApiVersion": 1,
                "validFor": {"start": _rfc3339(self.created)},
                "operator": OPERATOR,
            }

        # No tsaConfig: sigstore-js rejects a TSA selector with no TSA URLs.
        return {
            "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": [service(self.fulcio_url)],
            "oidcUrls": [service(self.issuer)],
            "rekorTlogUrls": [service(self.rekor_url)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
        }

    def client_trust_config(self) -> dict[str, Any]:
        """The combined ClientTrustConfig (``ClientTrustConfig.from_json``, ``--trust-config``)."""
        return {
            "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            "trustedRoot": self.trusted_root(),
            "signingConfig": self.signing_config(),
        }

    def write_trust_config(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.client_trust_config(), indent=2) + "\n")
        return path

    def write_trusted_root(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.trusted_root(), indent=2) + "\n")
        return path

    # -- routing

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], raw: bytes, headers: Any
    ) -> Response:
        if method == "GET":
            return self._get(path, query, headers)
        if path == "/api/v2/signingCert":
            return 201, self._signing_cert(_json_body(raw), headers), {}
        if path == "/api/v1/log/entries":
            entry = self.rekor.submit(_json_body(raw))
            location = f"/api/v1/log/entries/{next(iter(entry))}"
            return 201, entry, {"Location": location}
        if path == "/api/v1/log/entries/retrieve":
            return 200, self.rekor.retrieve(_json_body(raw)), {}
        if path in ("/auth", "/token"):
            raise StandInError(501, "the interactive OIDC flow is not implemented by the stand-in")
        raise StandInError(404, f"no route for POST {path}")

    def _get(self, path: str, query: dict[str, list[str]], headers: Any) -> Response:
        simple: dict[str, Callable[[], Any]] = {
            "/.well-known/openid-configuration": self.oidc.discovery,
            "/jwks": self.oidc.jwks,
            "/api/v2/trustBundle": lambda: {
                "chains": [{"certificates": [_cert_pem(c) for c in self.ca.chain]}]
            },
            "/api/v1/log": self.rekor.log_info,
        }
        if path in simple:
            return 200, simple[path](), {}
        if path == "/_apis/idtoken":
            return 200, self._ambient_token(query, headers), {}
        if path == "/api/v1/log/publicKey":
            pem = self.rekor.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return 200, pem, {"Content-Type": "application/x-pem-file"}
        if path == "/api/v1/log/entries" and "logIndex" in query:
            return 200, self.rekor.get(index=int(query["logIndex"][0])), {}
        if path.startswith("/api/v1/log/entries/"):
            return 200, self.rekor.get(uuid=path.rsplit("/", 1)[1]), {}
        raise StandInError(404, f"no route for GET {path}")

    def _ambient_token(self, query: dict[str, list[str]], headers: Any) -> dict[str, Any]:
        """GitHub's ``ACTIONS_ID_TOKEN_REQUEST_URL``: bearer request token in, ``{"value"}`` out."""
        claims = self._ambient.get(_bearer(headers) or "")
        if claims is None:
            raise StandInError(401, "bad or missing ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        audience = (query.get("audience") or [AUDIENCE])[0]
        return {"count": 1, "value": self.oidc.issue({**claims, "aud": audience})}

    def _signing_cert(self, request: dict[str, Any], headers: Any) -> dict[str, Any]:
        token = _bearer(headers) or (request.get("credentials") or {}).get("oidcIdentityToken")
        if not token:
            raise StandInError(401, "no identity token (Authorization header or credentials)")
        principal = principal_from_claims(self.oidc.verify(token))
        public_key = self._requested_key(request, principal)
        leaf = self.ca.issue(public_key, principal)
        chain = [_cert_pem(c) for c in (leaf, *self.ca.chain)]
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}

    @staticmethod
    def _requested_key(request: dict[str, Any], principal: Principal) -> ec.EllipticCurvePublicKey:
        """The key to certify, after its proof of possession (CSR signature or signed name)."""
        if "certificateSigningRequest" in request:
            try:
                pem = base64.b64decode(request["certificateSigningRequest"], validate=True)
                csr = x509.load_pem_x509_csr(pem)
            except ValueError as exc:
                raise StandInError(400, f"invalid certificate signing request: {exc}") from exc
            if not csr.is_signature_valid:
                raise StandInError(400, "CSR signature does not verify")
            key = csr.public_key()
        else:
            try:
                key_request = request["publicKeyRequest"]
                key = serialization.load_pem_public_key(
                    key_request["publicKey"]["content"].encode()
                )
                proof = base64.b64decode(key_request["proofOfPossession"], validate=True)
            except (KeyError, TypeError, ValueError) as exc:
                raise StandInError(400, f"invalid publicKeyRequest: {exc}") from exc
            if not isinstance(key, ec.EllipticCurvePublicKey) or not _verify_ecdsa(
                key, proof, principal.name.encode(), hashes.SHA256()
            ):
                raise StandInError(400, "proof of possession does not verify")
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise StandInError(400, "only ECDSA keys are certified by the stand-in")
        return key
