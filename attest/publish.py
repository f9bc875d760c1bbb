"""Attach what stages produced to the subject as referrers (the only I/O of evidence)."""

from __future__ import annotations

from attest.errors import InternalError
from attest.oci.referrers import Blob, ReferrersMode, attach, discover
from attest.oci.store import Descriptor, Store
from attest.stages.statement import Evidence


def attach_document(
    store: Store, subject: Descriptor, evidence: Evidence, *, mode: ReferrersMode = "auto"
) -> Descriptor:
    """Attach ``evidence.document`` as a plain referrer with its own media type."""
    if evidence.document is None or evidence.media_type is None:
        raise InternalError("evidence has no document to attach")
    existing = find_attached(store, subject.digest, evidence.artifact_type or evidence.media_type,
                             Descriptor.for_bytes(evidence.media_type, evidence.document).digest,
                             mode=mode)  # fmt: skip
    if existing is not None:  # the same document is already attached: do not pile up copies
        return existing
    layer = Descriptor.for_bytes(
        evidence.media_type,
        evidence.document,
        annotations={"org.opencontainers.image.title": evidence.filename or "document"},
    )
    return attach(
        store,
        subject,
        evidence.artifact_type or evidence.media_type,
        [Blob(layer, evidence.document)],
        evidence.annotations,
        mode=mode,
    )


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
