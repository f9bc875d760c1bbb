"""Attach evidence to its subject as OCI referrers, once each: the only I/O of evidence.

A signed statement is one referrer in the layout cosign v3 and GitHub's attest use:
``artifactType`` and its only layer ``application/vnd.dev.sigstore.bundle.v0.3+json``, config
= the empty descriptor, annotations ``dev.sigstore.bundle.content=dsse-envelope``,
``dev.sigstore.bundle.predicateType=<URI>`` and ``org.opencontainers.image.created``; cosign
``verify-attestation``, sigstore-js and policy controllers find and check it there. An
unsigned statement (``--no-sign``) is an ``application/vnd.in-toto+json`` referrer.

A raw document (SBOM, card) is attached *after* its statement, as a plain referrer with its
own media type whose annotation ``dev.attest.statement.digest`` is the digest of the referrer
holding the statement that vouches for it. Signing itself is not done here: the flow hands
in the bundles ``attest.sign`` made (:mod:`attest.flows.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attest.errors import InternalError
from attest.evidence import table
from attest.intoto import statement_bytes
from attest.oci import mediatypes as mt
from attest.oci.referrers import Blob, ReferrersMode, attach, discover
from attest.oci.store import Descriptor, Store
from attest.stages.statement import Evidence


@dataclass(frozen=True)
class Attached:
    """One referrer a run attached: what it is and where."""

    digest: str
    artifact_type: str | None
    predicate_type: str
    file: str

    def to_dict(self) -> dict[str, str | None]:
        return {"digest": self.digest, "artifactType": self.artifact_type,
                "predicateType": self.predicate_type, "file": self.file}  # fmt: skip


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


def unique_statements(evidence: list[Evidence]) -> dict[bytes, Evidence]:
    """Evidence items may share one statement (a card's Markdown and HTML): each statement
    once, by its canonical bytes, in order of first appearance."""
    unique: dict[bytes, Evidence] = {}
    for e in evidence:
        unique.setdefault(statement_bytes(e.statement), e)
    return unique


def attach_signed(
    store: Store,
    subject: Descriptor,
    evidence: list[Evidence],
    bundles: dict[bytes, bytes],
    *,
    signer_kind: str | None = None,
    mode: ReferrersMode = "auto",
) -> list[SignedEvidence]:
    """Attach each statement's bundle (``bundles`` by statement bytes) once, then each
    document naming the bundle referrer that vouches for it (bundles first, so that a
    document never names a statement that is not there yet)."""
    refs: dict[bytes, Descriptor] = {}
    for key, e in unique_statements(evidence).items():
        if key not in bundles:
            raise InternalError(f"no bundle for the {e.predicate_type} statement")
        refs[key] = attach_bundle(
            store, subject, bundles[key], e.predicate_type, signer_kind=signer_kind, mode=mode
        )
    signed: list[SignedEvidence] = []
    for e in evidence:
        key = statement_bytes(e.statement)
        doc = None
        if e.document is not None:
            doc = attach_document(store, subject, e, statement=refs[key].digest, mode=mode)
        signed.append(SignedEvidence(e, bundles[key], refs[key], doc))
    return signed


def attach_unsigned(
    store: Store, subject: Descriptor, evidence: list[Evidence], *, mode: ReferrersMode = "auto"
) -> list[Attached]:
    """``--no-sign``: attach each statement once, unsigned, and each document annotated with
    the digest of the referrer holding its statement."""
    attached: list[Attached] = []
    statement_referrers: dict[bytes, Descriptor] = {}
    for item in evidence:
        key = statement_bytes(item.statement)
        if key not in statement_referrers:
            desc = attach_statement(store, subject, item, mode=mode)
            statement_referrers[key] = desc
            attached.append(Attached(desc.digest, desc.artifact_type, item.predicate_type,
                                     "statement.intoto.json"))  # fmt: skip
        if item.document is not None:
            desc = attach_document(
                store, subject, item, mode=mode, statement=statement_referrers[key].digest
            )
            attached.append(Attached(desc.digest, desc.artifact_type, item.predicate_type,
                                     item.filename or "document"))  # fmt: skip
    return attached


def signed_as_attached(signed: list[SignedEvidence]) -> list[Attached]:
    """What a signed run attached, in the same form as :func:`attach_unsigned` reports it."""
    out: list[Attached] = []
    seen: set[str] = set()
    for s in signed:
        if s.statement_ref.digest not in seen:
            seen.add(s.statement_ref.digest)
            out.append(Attached(s.statement_ref.digest, s.statement_ref.artifact_type,
                                s.predicate_type, "bundle.sigstore.json"))  # fmt: skip
        doc = s.document_ref
        if doc is not None:
            out.append(Attached(doc.digest, doc.artifact_type, s.predicate_type,
                                s.evidence.filename or "document"))  # fmt: skip
    return out


def bundle_annotations(predicate_type: str, signer_kind: str | None = None) -> dict[str, str]:
    notes = {
        table.ANNOTATION_BUNDLE_CONTENT: table.BUNDLE_CONTENT_DSSE,
        table.ANNOTATION_BUNDLE_PREDICATE_TYPE: predicate_type,
    }
    if signer_kind:
        notes[table.ANNOTATION_SIGNER_KIND] = signer_kind
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


def attach_document(
    store: Store,
    subject: Descriptor,
    evidence: Evidence,
    *,
    mode: ReferrersMode = "auto",
    statement: str | None = None,
) -> Descriptor:
    """Attach ``evidence.document`` as a plain referrer with its own media type; ``statement``
    is the digest of the referrer carrying the statement that vouches for it."""
    if evidence.document is None or evidence.media_type is None:
        raise InternalError("evidence has no document to attach")
    annotations = dict(evidence.annotations)
    if statement:
        annotations[table.ANNOTATION_STATEMENT] = statement
    # the same document vouched for by another statement is a new referrer, not a duplicate
    return attach_once(
        store, subject, evidence.artifact_type or evidence.media_type, evidence.media_type,
        evidence.document, annotations, title=evidence.filename or "document", mode=mode,
    )  # fmt: skip


def attach_statement(
    store: Store, subject: Descriptor, evidence: Evidence, *, mode: ReferrersMode = "auto"
) -> Descriptor:
    """Attach the statement itself, unsigned, as an ``application/vnd.in-toto+json`` referrer
    (cosign's attestation layout before bundles). Signed runs attach a bundle instead."""
    annotations = {k: v for k, v in evidence.annotations.items() if k != mt.ANNOTATION_TITLE}
    annotations[table.ANNOTATION_PREDICATE_TYPE] = evidence.predicate_type
    return attach_once(
        store, subject, mt.INTOTO_JSON, mt.INTOTO_JSON,
        statement_bytes(evidence.statement), annotations, title="statement.intoto.json",
        mode=mode,
    )  # fmt: skip


def attach_once(
    store: Store,
    subject: Descriptor,
    artifact_type: str,
    media_type: str,
    data: bytes,
    annotations: dict[str, str],
    *,
    title: str,
    mode: ReferrersMode = "auto",
) -> Descriptor:
    """Attach ``data`` as a one-layer referrer unless the same content is already attached
    with that artifact type (re-running a stage must not pile up copies)."""
    layer = Descriptor.for_bytes(media_type, data, annotations={mt.ANNOTATION_TITLE: title})
    statement = annotations.get(table.ANNOTATION_STATEMENT)
    for ref in discover(store, subject.digest, artifact_type=artifact_type, mode=mode):
        layers = ref.manifest.get("layers") or []
        if (
            len(layers) == 1
            and layers[0].get("digest") == layer.digest
            and ref.annotations.get(table.ANNOTATION_STATEMENT) == statement
        ):
            return ref.descriptor
    return attach(store, subject, artifact_type, [Blob(layer, data)], annotations, mode=mode)
