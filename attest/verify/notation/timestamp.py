"""RFC 3161 countersignatures (``io.cncf.notary.timestampSignature``), verified with
rfc3161-client.

Notary stores the bare TimeStampToken; rfc3161-client decodes a TimeStampResp, so the token is
wrapped in ``TimeStampResp{status: granted, token}``. Real TSAs (GlobalSign among them) emit the
token's certificate SET out of DER order, which rfc3161-client's strict parser refuses; that
SET is not covered by the token's signature, so it is re-sorted with asn1crypto first. The
message imprint must be the hash of the envelope's raw signature bytes, and the token must carry
a signing-certificate-v2 attribute naming its signer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import cms, tsp  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import VerifierBuilder, decode_timestamp_response
from rfc3161_client.errors import VerificationError as TSPError

from attest.errors import VerificationError

_MAX_TOKEN = 64 * 1024


@dataclass(frozen=True)
class TimestampResult:
    gen_time: datetime
    earliest: datetime
    latest: datetime
    tsa: str


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _normalized(token: bytes) -> tuple[bytes, cms.SignedData]:
    try:
        info = cms.ContentInfo.load(token, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        certs = [c.dump() for c in signed["certificates"] or []]
        if certs:
            width = max(len(c) for c in certs)
            certs.sort(key=lambda b: b + b"\0" * (width - len(b)))  # DER SET OF order
            signed["certificates"] = cms.CertificateSet(
                [cms.CertificateChoices.load(c) for c in certs]
            )
        return info.dump(), signed
    except (ValueError, TypeError, KeyError) as e:
        raise VerificationError(f"timestamp countersignature is unreadable: {e}") from None


def _check_signing_certificate_v2(signed: cms.SignedData) -> None:
    """The signer info must name the TSA certificate by hash (ESS signing-certificate-v2)."""
    infos = list(signed["signer_infos"])
    if len(infos) != 1:
        raise VerificationError("timestamp token must have exactly one signer")
    sid = infos[0]["sid"]
    attrs = {a["type"].native: a["values"] for a in infos[0]["signed_attrs"] or []}
    values = attrs.get("signing_certificate_v2")
    if not values:
        raise VerificationError("timestamp token lacks the signing-certificate-v2 attribute")
    if sid.name != "issuer_and_serial_number":
        raise VerificationError("timestamp token signer is not named by issuer and serial")
    ias = sid.chosen
    for choice in signed["certificates"] or []:
        cert = choice.chosen
        if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
            first = values[0]["certs"][0]
            algo = first["hash_algorithm"]["algorithm"].native
            if algo not in ("sha256", "sha384", "sha512"):
                raise VerificationError(f"signing-certificate-v2 uses {algo}")
            if hashlib.new(algo, cert.dump()).digest() != first["cert_hash"].native:
                raise VerificationError("signing-certificate-v2 does not match the TSA certificate")
            _check_tsa_leaf(x509.load_der_x509_certificate(cert.dump()))
            return
    raise VerificationError("timestamp token does not contain its signing certificate")


def _check_tsa_leaf(cert: x509.Certificate) -> None:
    """The Notary Project's TSA leaf rule: a critical EKU of timeStamping and nothing else."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise VerificationError("timestamp authority certificate has no EKU") from None
    if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise VerificationError("timestamp authority certificate must have a critical EKU of "
                                "timeStamping only")  # fmt: skip


def verify_timestamp(
    token: bytes, signature: bytes, roots: list[x509.Certificate]
) -> TimestampResult:
    """Verify the token over ``signature`` to one of ``roots`` (tsa trust store) and return
    the time range it vouches for (genTime ± accuracy)."""
    try:
        return _verify_timestamp(token, signature, roots)
    except VerificationError:
        raise
    except Exception as e:  # asn1crypto parses lazily: malformed input surfaces anywhere
        raise VerificationError(f"timestamp countersignature is malformed: {e}") from None


def _verify_timestamp(
    token: bytes, signature: bytes, roots: list[x509.Certificate]
) -> TimestampResult:
    if len(token) > _MAX_TOKEN:
        raise VerificationError("timestamp countersignature too large")
    normalized, signed = _normalized(token)
    _check_signing_certificate_v2(signed)
    body = bytes([0x30, 0x03, 0x02, 0x01, 0x00]) + normalized  # PKIStatusInfo{granted}
    response = bytes([0x30]) + _der_len(len(body)) + body
    try:
        decoded = decode_timestamp_response(response)
        VerifierBuilder(roots=list(roots)).build().verify_message(decoded, signature)
    except (TSPError, ValueError) as e:
        raise VerificationError(f"timestamp countersignature does not verify: {e}") from None
    info = decoded.tst_info
    acc = info.accuracy
    accuracy = timedelta(seconds=1)  # RFC 3161 leaves it open when absent; 1 s is conservative
    if acc is not None and (acc.seconds or acc.millis or acc.micros):
        accuracy = timedelta(seconds=acc.seconds or 0, milliseconds=acc.millis or 0,
                             microseconds=acc.micros or 0)  # fmt: skip
    gen = info.gen_time
    tsa = _tsa_name(signed)
    return TimestampResult(gen, gen - accuracy, gen + accuracy, tsa)


def _tsa_name(signed: cms.SignedData) -> str:
    try:
        content = signed["encap_content_info"]["content"].parsed
        assert isinstance(content, tsp.TSTInfo)
        sid = signed["signer_infos"][0]["sid"].chosen
        for choice in signed["certificates"] or []:
            cert = choice.chosen
            if cert.issuer == sid["issuer"] and cert.serial_number == sid["serial_number"].native:
                return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
    except Exception:  # the name is for messages only
        pass
    return "unknown TSA"


def tsa_chain(token: bytes) -> list[x509.Certificate]:
    """The certificates the token carries (for revocation reporting); called only after the
    token verified."""
    _, signed = _normalized(token)
    return [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"] or []]
