"""Attach what stages produced to the subject as referrers (the only I/O of evidence)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from attest.errors import InternalError
from attest.oci.referrers import Blob, ReferrersMode, attach, discover
from attest.oci.store import Descriptor, Store
from attest.stages.statement import Evidence, statement_bytes

if TYPE_CHECKING:
    from attest.sign.signer import Signer

STATEMENT_MEDIA_TYPE = "application/vnd.in-toto+json"
TITLE = "org.opencontainers.image.title"


ANNOTATION_STATEMENT = "dev.attest.statement.digest"


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


def publish_evidence(
    store: Store,
    subject: Descriptor,
    evidence: list[Evidence],
    *,
    signer: Signer | None = None,
    mode: ReferrersMode = "auto",
) -> list[Attached]:
    """Attach each statement once (evidence items may share one) — as a Sigstore bundle in the
    cosign layout when ``signer`` is given (one signing session), else unsigned — and each
    document, annotated with the digest of the referrer holding its statement."""
    if signer is not None:
        from attest.sign.publish import sign_and_attach

        out: list[Attached] = []
        seen: set[str] = set()
        for s in sign_and_attach(store, subject, evidence, signer, mode=mode):
            if s.statement_ref.digest not in seen:
                seen.add(s.statement_ref.digest)
                out.append(Attached(s.statement_ref.digest, s.statement_ref.artifact_type,
                                    s.predicate_type, "bundle.sigstore.json"))  # fmt: skip
            doc = s.document_ref
            if doc is not None:
                name = s.evidence.filename or "document"
                out.append(Attached(doc.digest, doc.artifact_type, s.predicate_type, name))
        return out
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
        annotations[ANNOTATION_STATEMENT] = statement
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
    annotations = {k: v for k, v in evidence.annotations.items() if k != TITLE}
    annotations["dev.attest.predicate-type"] = evidence.predicate_type
    return attach_once(
        store, subject, STATEMENT_MEDIA_TYPE, STATEMENT_MEDIA_TYPE,
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
    layer = Descriptor.for_bytes(media_type, data, annotations={TITLE: title})
    statement = annotations.get(ANNOTATION_STATEMENT)
    for ref in discover(store, subject.digest, artifact_type=artifact_type, mode=mode):
        layers = ref.manifest.get("layers") or []
        if (
            len(layers) == 1
            and layers[0].get("digest") == layer.digest
            and ref.annotations.get(ANNOTATION_STATEMENT) == statement
        ):
            return ref.descriptor
    return attach(store, subject, artifact_type, [Blob(layer, data)], annotations, mode=mode)
