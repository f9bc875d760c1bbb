"""Copy an artifact and its whole referrer graph between any two stores, byte for byte.

Shaped after oras-go's ``Copy``: walk the graph from a root manifest, copy blobs before the
manifests that name them (children before parents), push every manifest with its exact bytes so
all digests are unchanged, then do the same for referrers, recursively (signatures of SBOMs...).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attest.errors import InputError
from attest.oci import mediatypes as mt
from attest.oci.parallel import run_largest_first
from attest.oci.referrers import ReferrersMode, discover, push_referrer_manifest
from attest.oci.registry import RegistryStore
from attest.oci.store import Descriptor, Manifest, Store
from attest.progress import Progress, ProgressReader

log = logging.getLogger(__name__)


@dataclass
class CopyStats:
    manifests: int = 0
    blobs_copied: int = 0
    blobs_skipped: int = 0
    blobs_mounted: int = 0
    bytes_copied: int = 0
    referrers: list[str] = field(default_factory=list)
    progress: Progress = field(default_factory=lambda: Progress(enabled=False), repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def copy_artifact(
    src: Store,
    src_target: str,
    dst: Store,
    dst_tag: str | None,
    *,
    referrers: bool = True,
    src_mode: ReferrersMode = "auto",
    dst_mode: ReferrersMode = "auto",
    on_blob: Callable[[Descriptor], None] | None = None,
    progress: bool | None = False,
) -> tuple[Descriptor, CopyStats]:
    """Copy the manifest ``src_target`` (tag or digest) to ``dst`` under ``dst_tag``.

    The blobs of each manifest move in parallel (a few streams, largest first); within one
    registry they are mounted from the source repository instead of moved.
    """
    with Progress(0, "copy", enabled=progress) as bar:
        return _copy_artifact(
            src, src_target, dst, dst_tag, CopyStats(progress=bar),
            referrers, src_mode, dst_mode, on_blob,
        )  # fmt: skip


def _copy_artifact(
    src: Store,
    src_target: str,
    dst: Store,
    dst_tag: str | None,
    stats: CopyStats,
    referrers: bool,
    src_mode: ReferrersMode,
    dst_mode: ReferrersMode,
    on_blob: Callable[[Descriptor], None] | None,
) -> tuple[Descriptor, CopyStats]:
    root = src.get_manifest(src_target)
    # The tag comes last: a destination tag means the artifact and its referrers are all there.
    _copy_manifest_graph(src, dst, root, None, stats, on_blob, referrer_mode=None)
    if referrers:
        _copy_referrers(src, dst, root.descriptor.digest, stats, on_blob, src_mode, dst_mode, set())
    if dst_tag:
        dst.push_manifest(root.data, root.descriptor.media_type, tag=dst_tag)
    return root.descriptor, stats


def _copy_referrers(
    src: Store,
    dst: Store,
    subject_digest: str,
    stats: CopyStats,
    on_blob: Callable[[Descriptor], None] | None,
    src_mode: ReferrersMode,
    dst_mode: ReferrersMode,
    visited: set[str],
) -> None:
    for ref in discover(src, subject_digest, mode=src_mode, strict=True):
        if ref.descriptor.digest in visited:  # a cycle cannot occur by digest, but be safe
            continue
        visited.add(ref.descriptor.digest)
        fetched = src.get_manifest(ref.descriptor.digest)
        _copy_manifest_graph(src, dst, fetched, None, stats, on_blob, referrer_mode=dst_mode)
        stats.referrers.append(ref.descriptor.digest)
        _copy_referrers(
            src, dst, ref.descriptor.digest, stats, on_blob, src_mode, dst_mode, visited
        )


def _copy_manifest_graph(
    src: Store,
    dst: Store,
    fetched: Manifest,
    tag: str | None,
    stats: CopyStats,
    on_blob: Callable[[Descriptor], None] | None,
    referrer_mode: ReferrersMode | None,
) -> None:
    manifest = fetched.json()
    media_type = fetched.descriptor.media_type
    if media_type in mt.INDEX_TYPES or "manifests" in manifest:
        for child in manifest.get("manifests") or []:
            child_desc = Descriptor.from_dict(child)
            _copy_manifest_graph(
                src, dst, src.get_manifest(child_desc.digest), None, stats, on_blob, None
            )
    elif media_type in mt.MANIFEST_TYPES:
        config = manifest.get("config")
        if config is None:
            raise InputError(f"manifest {fetched.descriptor.digest} has no config")
        raw: list[dict[str, Any]] = [config, *(manifest.get("layers") or [])]
        blobs = list({d.digest: d for d in map(Descriptor.from_dict, raw)}.values())
        run_largest_first(
            blobs, lambda d: d.size, lambda d: _copy_blob(src, dst, d, stats, on_blob)
        )
    else:
        raise InputError(f"cannot copy {fetched.descriptor.digest}: unknown type {media_type!r}")
    if referrer_mode is not None and manifest.get("subject"):
        push_referrer_manifest(dst, fetched.data, media_type, mode=referrer_mode)
    else:
        dst.push_manifest(fetched.data, media_type, tag=tag)
    stats.manifests += 1


def _copy_blob(
    src: Store,
    dst: Store,
    desc: Descriptor,
    stats: CopyStats,
    on_blob: Callable[[Descriptor], None] | None,
) -> None:
    if dst.blob_exists(desc.digest):
        with stats.lock:
            stats.blobs_skipped += 1
        return
    if _same_registry(src, dst) and dst.mount_blob(desc, src.repository):  # type: ignore[attr-defined]
        with stats.lock:
            stats.blobs_mounted += 1
        return
    with src.open_blob(desc) as stream, stats.progress.blob(desc.digest[7:19], desc.size) as bar:
        # push_blob verifies size and digest while streaming: a corrupt source fails here.
        dst.push_blob(desc, ProgressReader(stream, bar))  # type: ignore[arg-type]
    with stats.lock:
        stats.blobs_copied += 1
        stats.bytes_copied += desc.size
    if on_blob:
        on_blob(desc)


def _same_registry(src: Store, dst: Store) -> bool:
    """Both are repositories of one registry: blobs can be mounted, not moved."""
    return (
        isinstance(src, RegistryStore)
        and isinstance(dst, RegistryStore)
        and src.registry == dst.registry
        and src.plain_http == dst.plain_http
        and src.repository != dst.repository
    )
