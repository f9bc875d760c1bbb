"""A read-through view of one registry repository for one verification, warmed in parallel.

``verify_subject`` reads the referrers one after another (list, each manifest, each bundle
layer, some twice). On a cold admission that is ~25 serial round trips. The provider first
discovers the candidates and fetches their manifests and single layers concurrently into this
view, then runs the unchanged verifier over it: the same bytes, digest-checked by the store that
fetched them, in three rounds instead of twenty-five. Writes are refused: verification never
writes. The view lives for one verification only, so nothing in it can go stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import IO, Any

from attest.errors import AttestError, InternalError
from attest.oci.referrers import ReferrersMode, candidate_referrers
from attest.oci.store import Descriptor, Manifest, PushResult, Store

MAX_PREFETCH_BYTES = 4 * 1024 * 1024  # per layer: bundles and statements are small


class PrefetchedStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.location = store.location
        self._manifests: dict[str, Manifest] = {}
        self._blobs: dict[str, bytes] = {}
        self._referrers: dict[str, list[Descriptor] | None] = {}
        self._lock = threading.Lock()

    def seed(self, manifest: Manifest) -> None:
        """A manifest already fetched (the subject, resolved a moment ago)."""
        with self._lock:
            self._manifests[manifest.descriptor.digest] = manifest

    # -- reads: memoised by digest ------------------------------------------------------------

    def get_manifest(self, reference: str, accept: tuple[str, ...] | None = None) -> Manifest:
        with self._lock:
            cached = self._manifests.get(reference)
        if cached is not None and accept is None:
            return cached
        fetched = self._store.get_manifest(reference, accept)
        if reference.startswith("sha256:") and accept is None:
            with self._lock:
                self._manifests[reference] = fetched
        return fetched

    def fetch_blob(self, desc: Descriptor) -> bytes:
        with self._lock:
            cached = self._blobs.get(desc.digest)
        if cached is not None:
            return cached
        data = self._store.fetch_blob(desc)
        with self._lock:
            self._blobs[desc.digest] = data
        return data

    def list_referrers(self, subject_digest: str) -> list[Descriptor] | None:
        with self._lock:
            if subject_digest in self._referrers:
                return self._referrers[subject_digest]
        listed = self._store.list_referrers(subject_digest)
        with self._lock:
            self._referrers[subject_digest] = listed
        return listed

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        return self._store.open_blob(desc)

    def blob_exists(self, digest: str) -> bool:
        return self._store.blob_exists(digest)

    def manifest_exists(self, digest: str) -> bool:
        return digest in self._manifests or self._store.manifest_exists(digest)

    def tags(self) -> list[str]:
        return self._store.tags()

    # -- writes: never during verification ----------------------------------------------------

    def push_blob(self, desc: Descriptor, stream: IO[bytes]) -> bool:
        raise InternalError("verification tried to write a blob")

    def push_manifest(self, data: bytes, media_type: str, *, tag: str | None = None,
                      if_match: str | None = None) -> PushResult:  # fmt: skip
        raise InternalError("verification tried to write a manifest")

    # -- warming --------------------------------------------------------------------------------

    def prefetch(
        self,
        subject_digest: str,
        mode: ReferrersMode,
        executor: Executor,
        store_for_thread: Callable[[], Store],
    ) -> None:
        """Fetch the referrer candidates' manifests, then their single layers, concurrently.
        Failures are left for the verifier to meet (and report) on its own read."""
        candidates = candidate_referrers(self, subject_digest, mode=mode)
        digests = list(dict.fromkeys(c.digest for c in candidates))
        manifests = list(executor.map(lambda d: _try(lambda: store_for_thread().get_manifest(d)),
                                      digests))  # fmt: skip
        layers: list[Descriptor] = []
        with self._lock:
            for digest, fetched in zip(digests, manifests, strict=True):
                if fetched is None:
                    continue
                self._manifests[digest] = fetched
                layer = _single_layer(fetched)
                if layer is not None and layer.size <= MAX_PREFETCH_BYTES:
                    layers.append(layer)
        blobs = list(executor.map(lambda d: _try(lambda: store_for_thread().fetch_blob(d)), layers))
        with self._lock:
            for desc, data in zip(layers, blobs, strict=True):
                if data is not None:
                    self._blobs[desc.digest] = data


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except AttestError:
        return None


def _single_layer(manifest: Manifest) -> Descriptor | None:
    try:
        layers = manifest.json().get("layers") or []
        return Descriptor.from_dict(layers[0]) if len(layers) == 1 else None
    except (AttestError, TypeError, AttributeError):
        return None
