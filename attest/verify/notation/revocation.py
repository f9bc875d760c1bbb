"""Revocation, offline: attest never contacts OCSP responders or CRL distribution points.

As in notation-go, a certificate that names neither an OCSP responder nor a CRL distribution
point is "non-revocable" and passes. For one that names either, attest can use CRLs the user
downloaded beforehand (``--notation-crl DIR``): a CRL issued and signed by the certificate's
issuer and current at verification time says "good" or "revoked". Without one the status is
"unknown": the trust policy's revocation action decides (strict: the signature fails;
permissive/audit: logged; override ``revocation: skip``: not looked at), unless the operator
accepts unknown status as logged (``--notation-unknown-revocation log``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from attest.errors import InputError
from attest.verify.notation.chain import describe, signed_by

_MAX_CRL_BYTES = 16 * 1024 * 1024
_MAX_CRL_FILES = 1000


def _has_ocsp(cert: x509.Certificate) -> bool:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return any(d.access_method == AuthorityInformationAccessOID.OCSP for d in aia)


def _has_crl(cert: x509.Certificate) -> bool:
    try:
        cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except (x509.ExtensionNotFound, ValueError):
        return False
    return True


def revocable(cert: x509.Certificate) -> bool:
    return _has_ocsp(cert) or _has_crl(cert)


@dataclass
class CrlStore:
    """CRLs the user supplied (PEM or DER files in one directory; links are not followed)."""

    crls: list[x509.CertificateRevocationList] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path) -> CrlStore:
        entries = sorted(os.scandir(directory), key=lambda d: d.name)
        if len(entries) > _MAX_CRL_FILES:
            raise InputError(f"{directory}: more than {_MAX_CRL_FILES} CRL files")
        crls = []
        for entry in entries:
            if not stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                raise InputError(f"{entry.path}: not a regular file")
            with open(entry.path, "rb") as f:
                data = f.read(_MAX_CRL_BYTES + 1)
            if len(data) > _MAX_CRL_BYTES:
                raise InputError(f"{entry.path}: CRL larger than {_MAX_CRL_BYTES} bytes")
            try:
                crls.append(x509.load_pem_x509_crl(data) if b"-----BEGIN" in data
                            else x509.load_der_x509_crl(data))  # fmt: skip
            except ValueError:
                raise InputError(f"{entry.path}: not a CRL (PEM or DER)") from None
        return cls(crls)

    def status(self, cert: x509.Certificate, issuer: x509.Certificate | None,
               now: datetime) -> tuple[str, str]:  # fmt: skip
        """("good" | "revoked" | "unknown", why) from a current CRL signed by ``issuer``."""
        if issuer is None:
            return "unknown", f"{describe(cert)}: issuer not in the chain"
        for crl in self.crls:
            if crl.issuer != cert.issuer:
                continue
            try:
                if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                    continue
            except (TypeError, ValueError):
                continue
            next_update = crl.next_update_utc
            if crl.last_update_utc > now or (next_update is not None and now > next_update):
                continue  # not current: a stale CRL proves nothing
            revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if revoked is not None:
                when = f"{revoked.revocation_date_utc:%Y-%m-%dT%H:%M:%SZ}"
                return "revoked", f"{describe(cert)} is revoked (since {when})"
            return "good", f"{describe(cert)}: not on the CRL of {describe(issuer)}"
        return "unknown", f"{describe(cert)}: no current CRL from its issuer"


def chain_status(
    chain: list[x509.Certificate], crls: CrlStore, now: datetime, *, pool: list[x509.Certificate]
) -> list[tuple[str, str]]:
    """The status of each revocable certificate of ``chain`` (a self-signed root is not
    checked: nobody can revoke it). ``pool`` holds candidate issuers."""
    out = []
    for cert in chain:
        if signed_by(cert, cert) or not revocable(cert):
            continue
        issuer = next((c for c in pool if c is not cert and signed_by(cert, c)), None)
        out.append(crls.status(cert, issuer, now))
    return out
