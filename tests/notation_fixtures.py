"""Notary Project signatures made for tests, independently of attest's verifier.

Nothing here imports ``attest.verify.notation``: envelopes are built from the specification
(signature-envelope-jws.md, signature-envelope-cose.md) with ``cryptography`` and ``cbor2``, and
certificates come from a throwaway test CA with the code-signing profile the spec requires
(leaf: critical keyUsage digitalSignature, EKU codeSigning; CA: critical basicConstraints cA,
keyUsage keyCertSign). The upstream vectors made by notation-go are tested separately.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json"
SCHEME = "io.cncf.notary.signingScheme"
SIGNING_TIME = "io.cncf.notary.signingTime"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Seattle"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])  # fmt: skip


@dataclass
class Signer:
    key: Key
    chain: list[x509.Certificate]  # leaf first, root last

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1]


def make_ca(org: str = "Attest Test") -> tuple[Key, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP384R1())
    name = _name(f"{org} Root", org)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=3650)).not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .sign(key, hashes.SHA384())
    )  # fmt: skip
    return key, cert


def make_signer(
    ca: tuple[Key, x509.Certificate],
    *,
    org: str = "Attest Test",
    cn: str = "model-signer",
    rsa_bits: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    crl_url: str | None = None,
) -> Signer:
    ca_key, ca_cert = ca
    key: Key = (rsa.generate_private_key(65537, rsa_bits) if rsa_bits
                else ec.generate_private_key(ec.SECP256R1()))  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn, org)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    )  # fmt: skip
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        cert = cert.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return Signer(key, [cert.sign(ca_key, hashes.SHA384()), ca_cert])


def make_crl(ca: tuple[Key, x509.Certificate], revoked: list[x509.Certificate],
             *, this_update: datetime | None = None, next_update: datetime | None = None) -> bytes:
    """A CRL of ``ca`` listing ``revoked`` (DER)."""
    ca_key, ca_cert = ca
    builder = (
        x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
        .last_update(this_update or NOW - timedelta(hours=1))
        .next_update(next_update or NOW + timedelta(days=7))
    )  # fmt: skip
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
            .revocation_date(NOW - timedelta(minutes=30)).build()
        )  # fmt: skip
    return builder.sign(ca_key, hashes.SHA384()).public_bytes(Encoding.DER)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _alg(key: Key) -> tuple[str, hashes.HashAlgorithm, int]:
    """JWS name, hash and COSE number of the one algorithm the spec allows for ``key``."""
    if isinstance(key, rsa.RSAPrivateKey):
        bits = {2048: 256, 3072: 384, 4096: 512}[key.key_size]
    else:
        bits = {256: 256, 384: 384, 521: 512}[key.curve.key_size]
    digest = {256: hashes.SHA256(), 384: hashes.SHA384(), 512: hashes.SHA512()}[bits]
    kind = "PS" if isinstance(key, rsa.RSAPrivateKey) else "ES"
    cose = {"PS256": -37, "PS384": -38, "PS512": -39, "ES256": -7, "ES384": -35, "ES512": -36}
    return f"{kind}{bits}", digest, cose[f"{kind}{bits}"]


def _sign(key: Key, data: bytes) -> bytes:
    _, digest, _ = _alg(key)
    if isinstance(key, rsa.RSAPrivateKey):
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        return key.sign(data, pss, digest)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def payload(target: dict[str, Any]) -> bytes:
    desc = {k: target[k] for k in ("mediaType", "digest", "size")}
    return json.dumps({"targetArtifact": desc}, separators=(",", ":")).encode()


def jws(signer: Signer, target: dict[str, Any], *, signing_time: datetime = NOW) -> bytes:
    """A flattened JWS envelope, ``notary.x509``."""
    alg, _, _ = _alg(signer.key)
    protected = {
        "alg": alg, "cty": PAYLOAD_TYPE, "crit": [SCHEME], SCHEME: "notary.x509",
        SIGNING_TIME: signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }  # fmt: skip
    p64, body64 = _b64url(json.dumps(protected).encode()), _b64url(payload(target))
    signature = _sign(signer.key, f"{p64}.{body64}".encode())
    envelope = {
        "payload": body64, "protected": p64,
        "header": {"x5c": [base64.b64encode(_der(c)).decode() for c in signer.chain],
                   "io.cncf.notary.signingAgent": "attest-tests"},
        "signature": _b64url(signature),
    }  # fmt: skip
    return json.dumps(envelope).encode()


def cose(signer: Signer, target: dict[str, Any], *, signing_time: datetime = NOW) -> bytes:
    """A COSE_Sign1_Tagged envelope, ``notary.x509``."""
    _, _, alg = _alg(signer.key)
    protected = cbor2.dumps({
        1: alg, 2: [SCHEME], 3: PAYLOAD_TYPE, SCHEME: "notary.x509",
        SIGNING_TIME: cbor2.CBORTag(1, int(signing_time.timestamp())),
    })  # fmt: skip
    body = payload(target)
    signature = _sign(signer.key, cbor2.dumps(["Signature1", protected, b"", body]))
    unprotected = {33: [_der(c) for c in signer.chain], "io.cncf.notary.signingAgent": "tests"}
    return cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, body, signature]))


def tamper_jws(envelope: bytes, new_target: dict[str, Any]) -> bytes:
    """Swap the payload of a signed JWS (the signature stays)."""
    doc = json.loads(envelope)
    doc["payload"] = _b64url(payload(new_target))
    return json.dumps(doc).encode()


def thumbprints(signer: Signer) -> str:
    return json.dumps([hashlib.sha256(_der(c)).hexdigest() for c in signer.chain])


def write_trust_store(root: Path, name: str, certs: list[x509.Certificate]) -> Path:
    store = root / "x509" / "ca" / name
    store.mkdir(parents=True, exist_ok=True)
    for i, cert in enumerate(certs):
        (store / f"cert{i}.pem").write_bytes(cert.public_bytes(Encoding.PEM))
    return root


def write_policy(path: Path, *, store: str = "ca:test", level: str = "strict",
                 identities: list[str] | None = None, scopes: list[str] | None = None) -> Path:
    policy = {"version": "1.0", "trustPolicies": [{
        "name": "models", "registryScopes": scopes or ["*"],
        "signatureVerification": {"level": level}, "trustStores": [store],
        "trustedIdentities": identities or ["x509.subject: C=US, ST=WA, O=Attest Test"],
    }]}  # fmt: skip
    path.write_text(json.dumps(policy, indent=2))
    return path
