"""Attach signed evidence to the subject in the layout cosign v3 and GitHub's attest use.

Each bundle is one referrer manifest: ``artifactType`` and its only layer
``application/vnd.dev.sigstore.bundle.v0.3+json``, config = the empty descriptor, annotations
``dev.sigstore.bundle.content=dsse-envelope``, ``dev.sigstore.bundle.predicateType=<URI>`` and
``org.opencontainers.image.created``. cosign ``verify-attestation``, sigstore-js and policy
controllers find and check it there.

A raw document (SBOM, card) is attached *after* its bundle, as a plain referrer whose
annotation ``dev.attest.statement.digest`` is the bundle referrer's digest: a reader of the
document can find the signed statement that vouches for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attest.errors import InputError, InternalError
from attest.oci import mediatypes as mt
from attest.oci.referrers import Blob, ReferrersMode, attach
from attest.oci.store import Descriptor, Store
from attest.publish import ANNOTATION_STATEMENT, attach_document
from attest.sign.oms import OMS_PREDICATE_TYPE
from attest.sign.signer import Signer
from attest.stages.statement import Evidence, statement_bytes

ANNOTATION_BUNDLE_CONTENT = "dev.sigstore.bundle.content"
ANNOTATION_BUNDLE_PREDICATE_TYPE = "dev.sigstore.bundle.predicateType"
BUNDLE_CONTENT_DSSE = "dsse-envelope"
# attest's own: which signed statement vouches for a document, and which kind of signer
# signed a bundle (a hint for reports only: "dev-key" can only lower trust, never raise it).
ANNOTATION_STATEMENT_DIGEST = ANNOTATION_STATEMENT
ANNOTATION_SIGNER_KIND = "dev.attest.signer.kind"
ANNOTATION_TITLE = "org.opencontainers.image.title"


@dataclass
class SignedEvidence:
    """One statement as signed and attached: its bundle, its referrer, its document's."""

    evidence: Evidence
    bundle: bytes
    statement_ref: Descriptor  # the bundle referrer manifest
    document_ref: Descriptor | None = None

    @property
    def predicate_type(self) -> str:
        return self.evidence.predicate_type

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "predicateType": self.predicate_type,
            "bundle": self.statement_ref.digest,
        }
        if self.document_ref is not None:
            out["document"] = self.document_ref.digest
            out["file"] = self.evidence.filename
        return out


def bundle_annotations(predicate_type: str, signer_kind: str | None = None) -> dict[str, str]:
    notes = {
        ANNOTATION_BUNDLE_CONTENT: BUNDLE_CONTENT_DSSE,
        ANNOTATION_BUNDLE_PREDICATE_TYPE: predicate_type,
    }
    if signer_kind:
        notes[ANNOTATION_SIGNER_KIND] = signer_kind
    return notes  # org.opencontainers.image.created is added by build_referrer_manifest


def attach_bundle(
    store: Store,
    subject: Descriptor,
    bundle: bytes,
    predicate_type: str,
    *,
    signer_kind: str | None = None,
    mode: ReferrersMode = "auto",
) -> Descriptor:
    """Push ``bundle`` as a cosign-layout referrer of ``subject``; its descriptor."""
    layer = Descriptor.for_bytes(mt.SIGSTORE_BUNDLE_V03, bundle)
    return attach(
        store,
        subject,
        mt.SIGSTORE_BUNDLE_V03,
        [Blob(layer, bundle)],
        bundle_annotations(predicate_type, signer_kind),
        mode=mode,
    )


def check_subject(evidence: list[Evidence], subject: Descriptor) -> None:
    """Every statement must be about ``subject`` (an OMS statement names the file tree)."""
    alg, _, hexdigest = subject.digest.partition(":")
    for e in evidence:
        if e.predicate_type == OMS_PREDICATE_TYPE:
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
    """Sign every statement in one signer session, attach each bundle, then each document.

    This is what ``attest run`` and ``attest sign`` call: one certificate (keyless) for all of
    a run's statements, bundles first so that documents can name the statement vouching for
    them.
    """
    check_subject(evidence, subject)
    subject = Descriptor(subject.media_type, subject.digest, subject.size)
    # Evidence items may share one statement (a card's Markdown and HTML): sign each once.
    unique: dict[bytes, Evidence] = {}
    for e in evidence:
        unique.setdefault(statement_bytes(e.statement), e)
    bundles = signer.sign_statements([e.statement for e in unique.values()])
    if len(bundles) != len(unique):
        raise InternalError(f"signer returned {len(bundles)} bundles for {len(unique)}")
    refs: dict[bytes, tuple[bytes, Descriptor]] = {}
    for key, e, bundle in zip(unique, unique.values(), bundles, strict=True):
        ref = attach_bundle(
            store, subject, bundle, e.predicate_type, signer_kind=signer.kind, mode=mode
        )
        refs[key] = (bundle, ref)
    signed: list[SignedEvidence] = []
    for e in evidence:
        bundle, ref = refs[statement_bytes(e.statement)]
        doc = None
        if e.document is not None:
            doc = attach_document(store, subject, e, statement=ref.digest, mode=mode)
        signed.append(SignedEvidence(e, bundle, ref, doc))
    return signed
