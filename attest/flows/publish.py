"""Sign what a flow made and attach it: one signer session, then :mod:`attest.evidence`.

``attest run``, ``attest sign`` and ``attest policy push`` hand their statements here: the
signer (``attest.sign``) turns them into bundles, all in one session (one certificate when
keyless), and :mod:`attest.evidence.attach` puts bundles and documents on the wire.
"""

from __future__ import annotations

from attest.errors import InputError, InternalError
from attest.evidence import table
from attest.evidence.attach import (
    Attached,
    SignedEvidence,
    attach_signed,
    attach_unsigned,
    signed_as_attached,
    unique_statements,
)
from attest.oci.referrers import ReferrersMode, one_index_update
from attest.oci.store import Descriptor, Store
from attest.sign.signer import Signer
from attest.stages.statement import Evidence


def check_subject(evidence: list[Evidence], subject: Descriptor) -> None:
    """Every statement must be about ``subject`` (an OMS statement names the file tree)."""
    alg, _, hexdigest = subject.digest.partition(":")
    for e in evidence:
        if e.predicate_type == table.OMS:
            continue
        digests = [(s.get("digest") or {}).get(alg) for s in e.statement.get("subject") or []]
        if hexdigest not in digests:
            raise InputError(
                f"refusing to sign a {e.predicate_type} statement about "
                f"{digests or 'nothing'} to {subject.digest}"
            )


def sign_and_attach(
    store: Store,
    subject: Descriptor,
    evidence: list[Evidence],
    signer: Signer,
    *,
    mode: ReferrersMode = "auto",
) -> list[SignedEvidence]:
    """Sign every statement in one signer session, attach each bundle, then each document."""
    check_subject(evidence, subject)
    subject = Descriptor(subject.media_type, subject.digest, subject.size)
    unique = unique_statements(evidence)
    bundles = signer.sign_statements([e.statement for e in unique.values()])
    if len(bundles) != len(unique):
        raise InternalError(f"signer returned {len(bundles)} bundles for {len(unique)}")
    with one_index_update():  # one fallback-index write for the lot, not one per referrer
        return attach_signed(
            store, subject, evidence, dict(zip(unique, bundles, strict=True)),
            signer_kind=signer.kind, mode=mode,
        )  # fmt: skip


def publish_evidence(
    store: Store,
    subject: Descriptor,
    evidence: list[Evidence],
    *,
    signer: Signer | None = None,
    mode: ReferrersMode = "auto",
) -> list[Attached]:
    """Attach each statement once — as a Sigstore bundle in the cosign layout when ``signer``
    is given (one signing session), else unsigned — and each document, annotated with the
    digest of the referrer holding its statement."""
    if signer is None:
        with one_index_update():
            return attach_unsigned(store, subject, evidence, mode=mode)
    return signed_as_attached(sign_and_attach(store, subject, evidence, signer, mode=mode))
