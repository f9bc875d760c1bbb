"""Certificate rules of the Notary Project and the signing chain's shape.

The chain in the envelope runs leaf first and ends at a self-signed root; each certificate is
signed by the next. Self-signed is decided by the signature, not by comparing names (a leaf
may carry its root's name). cryptography's path builder checks Web PKI rules that code-signing
chains do not follow, so the few rules here are explicit.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from attest.errors import VerificationError

_FORBIDDEN_LEAF_EKU = {
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
}
_FORBIDDEN_LEAF_KU = (
    "key_encipherment", "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
)  # fmt: skip


def describe(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def load_chain(ders: list[bytes]) -> list[x509.Certificate]:
    try:
        return [x509.load_der_x509_certificate(d) for d in ders]
    except ValueError as e:
        raise VerificationError(f"unreadable certificate in the envelope chain: {e}") from None


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return signed_by(cert, cert)


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension | None:
    try:
        return cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None
    except ValueError as e:  # duplicate or malformed extensions
        raise VerificationError(f"certificate {describe(cert)}: {e}") from None


def is_ca(cert: x509.Certificate) -> bool:
    bc = _ext(cert, x509.BasicConstraints)
    return bool(bc and bc.value.ca)


def check_key_size(cert: x509.Certificate) -> None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size >= 256:
        return
    raise VerificationError(f"certificate {describe(cert)}: key too weak or of an unsupported type")


def check_leaf(cert: x509.Certificate) -> None:
    """Signing leaf: keyUsage digitalSignature (and no CA/encryption bits); EKU, when present,
    with codeSigning and none of the purposes a code-signing key must not have."""
    ku = _ext(cert, x509.KeyUsage)
    if ku is None or not ku.value.digital_signature:
        raise VerificationError(
            f"signing certificate {describe(cert)} lacks keyUsage digitalSignature"
        )
    for bit in _FORBIDDEN_LEAF_KU:
        if getattr(ku.value, bit):
            raise VerificationError(f"signing certificate {describe(cert)} has keyUsage {bit}")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is not None:
        usages = list(eku.value)
        for oid in usages:
            if oid in _FORBIDDEN_LEAF_EKU:
                raise VerificationError(
                    f"signing certificate {describe(cert)} has EKU {_FORBIDDEN_LEAF_EKU[oid]}"
                )
        if ExtendedKeyUsageOID.CODE_SIGNING not in usages:
            raise VerificationError(f"signing certificate {describe(cert)} lacks EKU codeSigning")
    check_key_size(cert)


def check_ca(cert: x509.Certificate, below: int) -> None:
    """An issuing certificate: basicConstraints cA with a pathLen that allows ``below``
    intermediate CAs, keyUsage keyCertSign."""
    bc = _ext(cert, x509.BasicConstraints)
    if bc is None or not bc.value.ca:
        raise VerificationError(f"issuing certificate {describe(cert)} is not a CA")
    path_len = bc.value.path_length
    if path_len is not None and below > path_len:
        raise VerificationError(f"issuing certificate {describe(cert)}: pathLen exceeded")
    ku = _ext(cert, x509.KeyUsage)
    if ku is None or not ku.value.key_cert_sign:
        raise VerificationError(f"issuing certificate {describe(cert)} lacks keyUsage keyCertSign")
    check_key_size(cert)


def check_signing_chain(chain: list[x509.Certificate]) -> None:
    """The envelope's chain: leaf rules, each certificate signed by the next, CA rules for the
    issuers, a self-signed last certificate."""
    if not chain:
        raise VerificationError("empty certificate chain")
    check_leaf(chain[0])
    for i, cert in enumerate(chain[:-1]):
        issuer = chain[i + 1]
        if not signed_by(cert, issuer):
            raise VerificationError(
                f"certificate chain is broken: {describe(cert)} is not signed by {describe(issuer)}"
            )
        check_ca(issuer, below=i)
    if not is_self_signed(chain[-1]):
        raise VerificationError(f"certificate chain does not end at a self-signed root: "
                                f"{describe(chain[-1])}")  # fmt: skip


def valid_at(
    chain: list[x509.Certificate], start: datetime, end: datetime | None = None
) -> str | None:
    """None when every certificate is valid over [start, end]; else why not. A certificate is
    still valid at the instant of its notAfter."""
    end = end or start
    for cert in chain:
        if start < cert.not_valid_before_utc:
            when = f"{cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
            return f"certificate {describe(cert)} is not valid before {when}"
        if end > cert.not_valid_after_utc:
            when = f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
            return f"certificate {describe(cert)} expired at {when}"
    return None
