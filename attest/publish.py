"""Attach what stages produced to the subject as referrers (the only I/O of evidence)."""

from __future__ import annotations

from attest.errors import InternalError
from attest.oci.referrers import Blob, ReferrersMode, attach, discover
from attest.oci.store import Descriptor, Store
from attest.stages.statement import Evidence, statement_bytes

STATEMENT_MEDIA_TYPE = "application/vnd.in-toto+json"
TITLE = "org.opencontainers.image.title"


def attach_document(
    store: Store, subject: Descriptor, evidence: Evidence, *, mode: ReferrersMode = "auto"
) -> Descriptor:
    """Attach ``evidence.document`` as a plain referrer with its own media type."""
    if evidence.document is None or evidence.media_type is None:
        raise InternalError("evidence has no document to attach")
    return attach_once(
        store, subject, evidence.artifact_type or evidence.media_type, evidence.media_type,
        evidence.document, evidence.annotations, title=evidence.filename or "document", mode=mode,
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
    existing = find_attached(store, subject.digest, artifact_type, layer.digest, mode=mode)
    if existing is not None:
        return existing
    return attach(store, subject, artifact_type, [Blob(layer, data)], annotations, mode=mode)


def find_attached(
    store: Store,
    subject_digest: str,
    artifact_type: str,
    layer_digest: str,
    *,
    mode: ReferrersMode = "auto",
) -> Descriptor | None:
    """A referrer of ``artifact_type`` whose only layer is ``layer_digest``, if attached."""
    for ref in discover(store, subject_digest, artifact_type=artifact_type, mode=mode):
        layers = ref.manifest.get("layers") or []
        if len(layers) == 1 and layers[0].get("digest") == layer_digest:
            return ref.descriptor
    return None
