"""The envelope signature: RSASSA-PSS or ECDSA with the leaf key, and ``alg`` tied to that key.

The Notary Project fixes the algorithm by key: RSA 2048/3072/4096 signs with PS256/384/512 and
EC P-256/384/521 with ES256/384/512, so a verifier never lets the envelope pick a weaker one.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from attest.errors import VerificationError

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512,
}  # fmt: skip
_RSA_ALG = {2048: "PS256", 3072: "PS384", 4096: "PS512"}
_EC_ALG = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def expected_alg(cert: x509.Certificate) -> str:
    """The one algorithm the Notary Project allows for this certificate's key."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size in _RSA_ALG:
        return _RSA_ALG[key.key_size]
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALG:
        return _EC_ALG[key.curve.name]
    raise VerificationError(f"signing key type/size is not allowed by the Notary Project: {key!r}")


def verify_signature(leaf: x509.Certificate, alg: str, signed: bytes, signature: bytes) -> None:
    want = expected_alg(leaf)
    if alg != want:
        raise VerificationError(f"envelope algorithm {alg} does not match the signing key ({want})")
    digest = _HASHES[alg[2:]]()
    key = leaf.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            key.verify(signature, signed, pss, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                raise InvalidSignature
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), signed, ec.ECDSA(digest))
    except InvalidSignature:
        raise VerificationError("the envelope signature does not verify (tampered?)") from None
