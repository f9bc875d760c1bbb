"""An OCI image layout on disk (as skopeo and oras write it): the embedded store.

Crash safety: blobs are written to a temp file and renamed into place; ``index.json`` is replaced
atomically (temp file, fsync, rename) under a file lock, so a writer killed at any point leaves a
readable layout, and concurrent writers never lose each other's entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from filelock import FileLock

from attest.errors import InputError, NotFoundError
from attest.fileio import atomic_write, fsync_dir, public_mode
from attest.oci import limits
from attest.oci import mediatypes as mt
from attest.oci.store import (
    Descriptor,
    Manifest,
    PushResult,
    parse_json_object,
    sha256_bytes,
    validate_digest,
)

_COPY_CHUNK = 4 * 1024 * 1024
_KERNEL_CHUNK = 64 * 1024 * 1024
_MAX_GRAPH_NODES = 100_000  # manifests visited when walking a layout for referrers
_MAX_GRAPH_DEPTH = 8  # index nesting followed (an index of indexes of ...)


class LayoutStore:
    """One OCI image layout directory. Tags live in ``index.json`` ref.name annotations."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False) -> None:
        self.root = Path(path)
        self.location = f"oci:{path}"
        layout_file = self.root / "oci-layout"
        if not layout_file.is_file():
            if not create:
                raise NotFoundError(
                    f"{self.location} is not an OCI image layout (no oci-layout file)"
                )
            if self.root.exists() and any(self.root.iterdir()):
                raise InputError(
                    f"{self.location}: directory exists, is not empty and is not an OCI layout"
                )
            self._init_layout()
        else:
            try:
                with limits.open_regular(layout_file, f"{self.location}/oci-layout") as f:
                    raw = limits.read_capped(f, 4096, f"{self.location}/oci-layout")
                version = parse_json_object(raw, "oci-layout").get("imageLayoutVersion")
            except (InputError, OSError):
                version = None
            if version != mt.OCI_LAYOUT_VERSION:
                raise InputError(f"{self.location}: unsupported oci-layout version {version!r}")
        self._lock = FileLock(str(self.root / "index.json.lock"))

    # -- layout files -------------------------------------------------------------------------

    def _init_layout(self) -> None:
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        empty_index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
        atomic_write(self.root / "index.json", _dump(empty_index))
        atomic_write(
            self.root / "oci-layout", _dump({"imageLayoutVersion": mt.OCI_LAYOUT_VERSION})
        )

    def _read_index(self) -> dict[str, Any]:
        try:
            with limits.open_regular(self.root / "index.json", f"{self.location}/index.json") as f:
                data = limits.read_capped(
                    f, limits.MAX_LAYOUT_INDEX_SIZE, f"{self.location}/index.json"
                )
        except FileNotFoundError:
            return {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
        index = parse_json_object(data, f"{self.location}/index.json")
        if not isinstance(index.get("manifests", []), list):
            raise InputError(f"{self.location}/index.json: 'manifests' is not a list")
        index.setdefault("manifests", [])
        return index

    @contextlib.contextmanager
    def _editing_index(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write ``index.json`` under the lock; written only if the body changed."""
        with self._lock:
            index = self._read_index()
            before = _dump(index)
            yield index
            after = _dump(index)
            if after != before:
                atomic_write(self.root / "index.json", after)

    def blob_path(self, digest: str) -> Path:
        alg, hexpart = validate_digest(digest)
        return self.root / "blobs" / alg / hexpart

    # -- Store protocol -----------------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def manifest_exists(self, digest: str) -> bool:
        return self.blob_exists(digest)

    def fetch_blob(self, desc: Descriptor) -> bytes:
        # Read only up to the declared size (a manifest of unknown size: up to 4 MiB), so a
        # blob file that is bigger, a FIFO or a device cannot fill memory or hang us.
        limit = desc.size if desc.size >= 0 else limits.MAX_MANIFEST_SIZE
        limits.check_declared_size(limit, limits.MAX_DOCUMENT_SIZE, f"blob {desc.digest}")
        with self._open(desc) as f:
            data = limits.read_capped(f, limit, f"{self.location}: blob {desc.digest}")
        _check_bytes(data, desc, self.location)
        return data

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        f = self._open(desc)
        if desc.size < 0:
            return f
        return limits.bounded(f, desc.size, f"{self.location}: blob {desc.digest}")

    def _open(self, desc: Descriptor) -> IO[bytes]:
        what = f"{self.location}: blob {desc.digest}"
        try:
            return limits.open_regular(self.blob_path(desc.digest), what)
        except FileNotFoundError:
            raise NotFoundError(f"blob {desc.digest} not found in {self.location}") from None
        except OSError as e:
            raise InputError(f"{what} cannot be read: {e.strerror or e}") from None

    def push_blob(self, desc: Descriptor, stream: IO[bytes]) -> bool:
        target = self.blob_path(desc.digest)
        if target.is_file():
            return False
        _write_verified(target, desc, stream.read, self.location)
        return True

    def push_file(self, desc: Descriptor, path: Path, *, progress: Any = None) -> bool:
        """Store the local file ``path`` as ``desc``, whose digest the caller computed from this
        very file (pack hashes first, or its digest cache vouches for it): the kernel copies
        the bytes (``copy_file_range``, a reflink on filesystems that share extents) and
        they are not hashed a second time. A file that changed since (size or mtime) is
        refused. ``progress`` (a :class:`attest.progress.Progress`) advances as bytes land.
        """
        target = self.blob_path(desc.digest)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        public_mode(fd)
        try:
            with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
                before = os.fstat(src.fileno())
                if before.st_size != desc.size:
                    raise InputError(
                        f"{path} has {before.st_size} bytes, not the {desc.size} it was "
                        "hashed with: it changed while packing"
                    )
                _kernel_copy(src.fileno(), dst.fileno(), desc.size, progress)
                dst.flush()
                os.fsync(dst.fileno())
                after = os.fstat(src.fileno())
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise InputError(f"{path} changed while it was copied into {self.location}")
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        fsync_dir(target.parent)
        return True

    def push_bytes(self, desc: Descriptor, data: bytes) -> bool:
        """Store a small blob given whole (configs, documents)."""
        target = self.blob_path(desc.digest)
        if target.is_file():
            return False
        _check_bytes(data, desc, self.location)
        atomic_write(target, data)
        return True

    def get_manifest(self, reference: str, accept: tuple[str, ...] | None = None) -> Manifest:
        if ":" in reference:  # a digest
            entry = next(
                (m for m in self._read_index()["manifests"] if m.get("digest") == reference), None
            )
            desc = Descriptor.from_dict(entry) if entry else Descriptor("", reference, -1)
            limits.check_declared_size(desc.size, limits.MAX_MANIFEST_SIZE, f"manifest {reference}")
            data = self.fetch_blob(desc)
            media_type = desc.media_type or _media_type_of(data, reference)
            return Manifest(Descriptor(media_type, reference, len(data)), data)
        entry = self._find_tag(reference)
        if entry is None:
            raise NotFoundError(f"tag {reference!r} not found in {self.location}")
        desc = Descriptor.from_dict(entry)
        limits.check_declared_size(desc.size, limits.MAX_MANIFEST_SIZE, f"manifest {reference}")
        return Manifest(Descriptor(desc.media_type, desc.digest, desc.size), self.fetch_blob(desc))

    def push_manifest(
        self,
        data: bytes,
        media_type: str,
        *,
        tag: str | None = None,
        if_match: str | None = None,
    ) -> PushResult:
        manifest = parse_json_object(data, "manifest")
        desc = Descriptor.for_bytes(media_type, data)
        self.push_bytes(desc, data)
        entry = desc.to_dict()
        # Referrers are listed with their artifactType and annotations, so discovery and other
        # tools can classify them from index.json alone.
        artifact_type = manifest.get("artifactType") or (manifest.get("config") or {}).get(
            "mediaType"
        )
        if manifest.get("subject") and artifact_type:
            entry["artifactType"] = artifact_type
        annotations = dict(manifest.get("annotations") or {}) if manifest.get("subject") else {}
        if tag:
            annotations[mt.ANNOTATION_REF_NAME] = tag
        if annotations:
            entry["annotations"] = annotations
        with self._editing_index() as index:
            entries = index["manifests"]
            if tag:
                # A tag names one manifest: drop it from wherever it pointed before.
                # An untagged entry of the same manifest is folded into the tagged one.
                entries[:] = [
                    e
                    for e in entries
                    if _tag_of(e) != tag
                    and not (e.get("digest") == desc.digest and _tag_of(e) is None)
                ]
                entries.append(entry)
            elif not any(e.get("digest") == desc.digest for e in entries):
                entries.append(entry)
        subject = (manifest.get("subject") or {}).get("digest")
        # index.json is this store's referrers index: report the subject like a registry with
        # the Referrers API does, so callers never maintain a fallback tag in a layout.
        return PushResult(descriptor=desc, oci_subject=subject)

    def tags(self) -> list[str]:
        return sorted({t for e in self._read_index()["manifests"] if (t := _tag_of(e))})

    def list_referrers(self, subject_digest: str) -> list[Descriptor] | None:
        """Every manifest reachable from ``index.json`` whose subject is ``subject_digest``.

        The graph is walked, as oras-go's layout store does: ``skopeo copy`` of a registry
        keeps referrers only inside the ``sha256-<hex>`` fallback index it copies as a tag.
        """
        found: list[Descriptor] = []
        seen: set[str] = set()
        queue: list[tuple[dict[str, Any], int]] = [(e, 0) for e in self._read_index()["manifests"]]
        while queue and len(seen) < _MAX_GRAPH_NODES:
            entry, depth = queue.pop(0)
            digest = entry.get("digest") if isinstance(entry, dict) else None
            if not isinstance(digest, str) or digest in seen:
                continue
            if entry.get("mediaType") not in mt.ALL_MANIFEST_TYPES:
                continue
            seen.add(digest)
            try:
                desc = Descriptor.from_dict(entry)
                manifest = parse_json_object(self.fetch_blob(desc), f"manifest {digest}")
            except (InputError, NotFoundError):
                continue  # an unreadable entry is not a referrer of anything
            children = manifest.get("manifests")
            if isinstance(children, list) and depth < _MAX_GRAPH_DEPTH:
                queue.extend((c, depth + 1) for c in children if isinstance(c, dict))
            if (manifest.get("subject") or {}).get("digest") != subject_digest:
                continue
            annotations = dict(manifest.get("annotations") or {}) or None
            found.append(
                Descriptor(
                    desc.media_type,
                    desc.digest,
                    desc.size,
                    annotations=annotations,
                    artifact_type=manifest.get("artifactType")
                    or (manifest.get("config") or {}).get("mediaType"),
                )
            )
        return found

    def _find_tag(self, tag: str) -> dict[str, Any] | None:
        matches = [e for e in self._read_index()["manifests"] if _tag_of(e) == tag]
        return matches[-1] if matches else None


def _tag_of(entry: dict[str, Any]) -> str | None:
    return (entry.get("annotations") or {}).get(mt.ANNOTATION_REF_NAME)


def _media_type_of(data: bytes, digest: str) -> str:
    obj = parse_json_object(data, f"manifest {digest}")
    media_type = obj.get("mediaType")
    if media_type in mt.ALL_MANIFEST_TYPES:
        return media_type
    if "manifests" in obj:
        return mt.OCI_INDEX
    if "layers" in obj or "config" in obj:
        return mt.OCI_MANIFEST
    raise InputError(f"{digest} is not a manifest or index")


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=False).encode() + b"\n"


def _check_bytes(data: bytes, desc: Descriptor, where: str) -> None:
    if desc.size >= 0 and len(data) != desc.size:
        raise InputError(f"{where}: blob {desc.digest} has {len(data)} bytes, expected {desc.size}")
    if sha256_bytes(data) != desc.digest and desc.digest.startswith("sha256:"):
        raise InputError(f"{where}: blob content does not match its digest {desc.digest}")


def _kernel_copy(src: int, dst: int, size: int, progress: Any) -> None:
    """Copy ``size`` bytes between file descriptors in the kernel, 64 MiB at a time (so
    progress moves); plain reads and writes where copy_file_range is not available."""
    done = 0
    use_kernel = hasattr(os, "copy_file_range")
    while done < size:
        want = min(_KERNEL_CHUNK, size - done)
        n = 0
        if use_kernel:
            try:
                n = os.copy_file_range(src, dst, want)
            except OSError:  # EXDEV on old kernels, ENOSYS, EINVAL on some filesystems
                use_kernel = False
        if not use_kernel:
            data = os.read(src, min(want, _COPY_CHUNK))
            n = len(data)
            view = memoryview(data)
            while view:
                view = view[os.write(dst, view) :]
        if n == 0:
            raise InputError(f"file ended {size - done} bytes short while copying")
        done += n
        if progress is not None:
            progress.advance(n)
    if os.read(src, 1):
        raise InputError("file grew while it was copied")


def _write_verified(
    target: Path, desc: Descriptor, read: Callable[[int], bytes], where: str
) -> None:
    """Stream a blob into place, checking size and sha256 before it becomes visible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    public_mode(fd)
    hasher = hashlib.sha256()
    written = 0
    try:
        with os.fdopen(fd, "wb") as f:
            while chunk := read(_COPY_CHUNK):
                hasher.update(chunk)
                f.write(chunk)
                written += len(chunk)
            f.flush()
            os.fsync(f.fileno())
        if written != desc.size or "sha256:" + hasher.hexdigest() != desc.digest:
            raise InputError(
                f"{where}: content for {desc.digest} does not match "
                f"(got {written} bytes, sha256:{hasher.hexdigest()[:12]}…)"
            )
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)
