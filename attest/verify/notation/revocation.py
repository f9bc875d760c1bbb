"""Revocation, offline: attest never contacts OCSP responders or CRL distribution points.

As in notation-go, a certificate that names neither an OCSP responder nor a CRL distribution
point is "non-revocable" and passes. A certificate that names one would need the network;
attest reports its status as "unknown" and the trust policy's revocation action decides
(strict: the signature fails; permissive/audit: logged; override ``revocation: skip``: not
looked at). ``unknown_is`` lets an operator who runs offline on purpose accept unknown status
as logged without editing the policy.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from attest.verify.notation.chain import describe


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


def unchecked(chain: list[x509.Certificate]) -> list[str]:
    """Certificates of ``chain`` (all but a self-signed root, which nobody revokes) whose
    revocation status could only be learnt online: what stays unknown."""
    out = []
    for i, cert in enumerate(chain):
        last = i == len(chain) - 1
        if last and len(chain) > 1:
            continue
        if _has_ocsp(cert) or _has_crl(cert):
            out.append(describe(cert))
    return out
