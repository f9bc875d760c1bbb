"""The one digest function: streaming sha256, parallel across files, with a persistent cache.

Files are read in fixed-size chunks into one preallocated buffer per thread, so memory stays
flat whatever the model size. hashlib releases the GIL while hashing a large chunk, so a thread
pool hashes several files at once on several cores (one file is inherently sequential).

We read, we never mmap: a file truncated while mapped raises SIGBUS and kills the process,
and mapped pages would count towards our RSS.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from attest.errors import InputError, InternalError
from attest.paths import cache_dir
from attest.progress import Progress

log = logging.getLogger(__name__)

# 1 MiB: measured as fast as 2-8 MiB and faster than smaller chunks (docs/performance.md);
# far above the 2 KiB beyond which hashlib releases the GIL during update().
CHUNK_SIZE = 1024 * 1024

# A file whose mtime is this close to the end of its hashing is not cached: a same-size rewrite
# within the filesystem's timestamp granularity (jiffies on ext4, 1-2 s on some network or FAT
# filesystems) would keep the mtime and serve a stale digest. Git's "racily clean" idea.
RACY_WINDOW_NS = 2_000_000_000

_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
_local = threading.local()
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class _Cancelled(Exception):
    """Raised inside a worker when another file failed and the batch is being abandoned."""


def _buffer() -> tuple[bytearray, memoryview]:
    """The calling thread's read buffer, allocated once per thread."""
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = bytearray(CHUNK_SIZE)
        _local.buf = buf
        _local.view = memoryview(buf)
    return buf, _local.view


def _input_error(path: Path, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"file not found: {path}")
    if isinstance(exc, PermissionError):
        return InputError(f"cannot read {path}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"cannot hash {path}: it is a directory")
    return InputError(f"cannot read {path}: {exc.strerror or exc}")


def _stat_regular(path: Path) -> os.stat_result:
    """stat() following symlinks; only regular files may be hashed (a FIFO would block)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _input_error(path, exc) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot hash {path}: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"cannot hash {path}: not a regular file")
    return st


@dataclass(frozen=True)
class _Hashed:
    digest: str
    size: int  # bytes actually hashed
    after: os.stat_result  # fstat of the open file once hashing finished
    stable: bool  # size, mtime and ctime unchanged while hashing
    finished_ns: int  # wall clock when ``after`` was taken, for the racy-mtime check


def _hash_path(
    path: Path, progress: Progress | None, cancel: threading.Event | None = None
) -> _Hashed:
    buf, view = _buffer()
    h = hashlib.sha256()
    size = 0
    try:
        # O_NONBLOCK: should the path have become a FIFO since it was stat()ed, open() must
        # not hang waiting for a writer (the flag has no effect on regular files).
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
        # buffering=0: readinto() goes straight to read(2) into our buffer, no second copy.
        with open(fd, "rb", buffering=0) as f:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise InputError(f"cannot hash {path}: not a regular file")
            if hasattr(os, "posix_fadvise"):
                # Doubles kernel readahead on cold files; harmless when cached.
                with contextlib.suppress(OSError):
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            while n := f.readinto(buf):
                h.update(view[:n])  # a memoryview slice: no copy
                size += n
                if progress is not None:
                    progress.advance(n)
                if cancel is not None and cancel.is_set():
                    raise _Cancelled
            after = os.fstat(fd)
            finished_ns = time.time_ns()
    except OSError as exc:
        raise _input_error(path, exc) from exc
    stable = (
        size == before.st_size == after.st_size
        and before.st_mtime_ns == after.st_mtime_ns
        and before.st_ctime_ns == after.st_ctime_ns
    )
    return _Hashed(f"sha256:{h.hexdigest()}", size, after, stable, finished_ns)


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    """Return ``"sha256:<hex>"`` of the file at ``path``, streamed in ``CHUNK_SIZE`` reads.

    Raises :class:`InputError` naming the file when it is missing, unreadable or not a regular
    file.
    """
    path = Path(path)
    _stat_regular(path)
    return _hash_path(path, progress).digest


@dataclass(frozen=True)
class FileDigest:
    """One hashed file. ``path`` is the relative POSIX path exactly as the caller gave it."""

    path: str
    size: int
    digest: str


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# One cache entry: [size, mtime_ns, inode, digest, last_used_unix_seconds], keyed by real path.
_Entry = list[Any]


class DigestCache:
    """Digests of files already hashed, keyed by (real path, size, mtime_ns, inode).

    Stored as one JSON file. Loaded lazily, saved with a temp file + ``os.replace`` so readers
    never see half a file; on save, entries written meanwhile by another process are merged in
    rather than lost. A missing, corrupt or foreign file reads as an empty cache: the cache is an
    optimisation and must never be the reason a command fails.
    """

    FILENAME = "digests.json"
    VERSION = 1
    MAX_ENTRIES = 100_000
    # A hit refreshes the entry's last-used time only when it is this old, so that a fully
    # cached run does not rewrite the whole file just to bump timestamps.
    _TOUCH_AFTER = 24 * 3600

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_entries: int = MAX_ENTRIES,
        enabled: bool = True,
    ) -> None:
        self.path = Path(path) if path is not None else cache_dir() / self.FILENAME
        self.max_entries = max_entries
        self.enabled = enabled
        self._entries: dict[str, _Entry] | None = None  # None until loaded
        self._dirty: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> DigestCache:
        """The user's cache, or a disabled one when ``ATTEST_NO_CACHE`` is set."""
        if _env_true("ATTEST_NO_CACHE"):
            return cls.disabled()
        return cls()

    @classmethod
    def disabled(cls) -> DigestCache:
        """A cache that never hits and never writes."""
        return cls(Path(os.devnull), enabled=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._load())

    def _read_file(self) -> dict[str, _Entry]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.debug("digest cache %s unreadable: %s", self.path, exc)
            return {}
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            log.debug("digest cache %s is corrupt; starting empty", self.path)
            return {}
        if not isinstance(doc, dict) or doc.get("version") != self.VERSION:
            return {}
        entries = doc.get("entries")
        if not isinstance(entries, dict):
            return {}
        return {k: v for k, v in entries.items() if _valid_entry(v)}

    def _load(self) -> dict[str, _Entry]:
        if self._entries is None:
            self._entries = self._read_file() if self.enabled else {}
        return self._entries

    def lookup(self, realpath: str, st: os.stat_result) -> str | None:
        """The cached digest for this exact file state, or None."""
        if not self.enabled:
            return None
        with self._lock:
            entries = self._load()
            entry = entries.get(realpath)
            if entry is None or entry[:3] != [st.st_size, st.st_mtime_ns, st.st_ino]:
                return None
            now = int(time.time())
            if now - entry[4] > self._TOUCH_AFTER:
                entry = [*entry[:4], now]
                entries[realpath] = entry
                self._dirty[realpath] = entry
            return str(entry[3])

    def store(self, realpath: str, st: os.stat_result, digest: str) -> None:
        """Remember ``digest`` for the file state ``st`` (as seen after hashing)."""
        if not self.enabled:
            return
        entry: _Entry = [st.st_size, st.st_mtime_ns, st.st_ino, digest, int(time.time())]
        with self._lock:
            self._load()[realpath] = entry
            self._dirty[realpath] = entry

    def save(self) -> None:
        """Write new entries to disk, if any. Never raises: failure only costs a re-hash."""
        if not self.enabled:
            return
        with self._lock:
            if not self._dirty:
                return
            # Merge onto what is on disk now, so that concurrent attest runs do not drop each
            # other's entries (last writer still wins per key, which is fine for a cache).
            merged = self._read_file()
            merged.update(self._dirty)
            if len(merged) > self.max_entries:
                keep = sorted(merged.items(), key=lambda kv: kv[1][4], reverse=True)
                merged = dict(keep[: self.max_entries])
            try:
                self._write(merged)
            except OSError as exc:
                log.warning("could not save digest cache %s: %s", self.path, exc)
                return
            self._entries = merged
            self._dirty.clear()

    def _write(self, entries: dict[str, _Entry]) -> None:
        directory = self.path.parent
        # 0o700: the cache lists paths of the user's files.
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(
            {"version": self.VERSION, "entries": entries}, separators=(",", ":")
        ).encode()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.FILENAME}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _valid_entry(v: object) -> bool:
    return (
        isinstance(v, list)
        and len(v) == 5
        and all(isinstance(x, int) and not isinstance(x, bool) for x in (v[0], v[1], v[2], v[4]))
        and isinstance(v[3], str)
        and _DIGEST_RE.fullmatch(v[3]) is not None
    )


def _resolve(root: Path, rel: str) -> Path:
    """``root / rel``, refusing paths that are absolute or climb out of ``root``."""
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or ".." in pure.parts:
        raise InputError(f"invalid file path {rel!r}: must be relative to {root} without '..'")
    return root / pure


def digest_files(
    root: Path,
    relpaths: Sequence[str],
    *,
    workers: int | None = None,
    cache: DigestCache | None = None,
    progress: bool | None = None,
) -> list[FileDigest]:
    """sha256 of each ``root/relpath``, in the order given.

    Files found in ``cache`` (default: :meth:`DigestCache.default`) are not read at all; the
    others are hashed by ``workers`` threads (default ``os.cpu_count()``) and added to the cache,
    which is saved once at the end (also when a file fails, to keep the work done).
    ``progress=None`` shows a progress line when stderr is a TTY and ``CI`` is unset.
    Raises :class:`InputError` naming the first file that is missing or unreadable.
    """
    root = Path(root)
    cache = cache if cache is not None else DigestCache.default()
    results: list[FileDigest | None] = [None] * len(relpaths)
    # Several relpaths may name the same file (symlinks, duplicates): hash it once.
    pending: dict[str, list[int]] = {}
    paths: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    total = 0
    for i, rel in enumerate(relpaths):
        path = _resolve(root, rel)
        st = _stat_regular(path)
        real = os.path.realpath(path)
        if real in pending:
            pending[real].append(i)
            continue
        hit = cache.lookup(real, st)
        if hit is not None:
            results[i] = FileDigest(rel, st.st_size, hit)
            continue
        pending[real] = [i]
        paths[real] = path
        sizes[real] = st.st_size
        total += st.st_size

    def record(real: str, hashed: _Hashed) -> None:
        for i in pending[real]:
            results[i] = FileDigest(relpaths[i], hashed.size, hashed.digest)
        if not hashed.stable:
            log.warning("%s changed while being hashed; its digest is not cached", paths[real])
        elif hashed.finished_ns - hashed.after.st_mtime_ns > RACY_WINDOW_NS:
            cache.store(real, hashed.after, hashed.digest)

    try:
        if pending:
            n_workers = max(1, min(workers or os.cpu_count() or 1, len(pending)))
            with Progress(total, "sha256", enabled=progress) as prog:
                if n_workers == 1:
                    for real, path in paths.items():
                        record(real, _hash_path(path, prog))
                else:
                    # Largest first: a big file started last would leave the other workers
                    # idle while it finishes (longest-processing-time-first scheduling).
                    order = sorted(paths, key=sizes.__getitem__, reverse=True)
                    _hash_parallel({r: paths[r] for r in order}, n_workers, prog, record)
    finally:
        cache.save()
    missing = [relpaths[i] for i, r in enumerate(results) if r is None]
    if missing:  # every index is filled by a cache hit or a hash; anything else is a bug
        raise InternalError(f"no digest computed for {missing[0]}")
    return results  # type: ignore[return-value]


def _hash_parallel(
    paths: dict[str, Path],
    n_workers: int,
    prog: Progress,
    record: Callable[[str, _Hashed], None],
) -> None:
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="attest-sha256")
    try:
        futures: dict[Future[_Hashed], str] = {
            pool.submit(_hash_path, path, prog, cancel): real for real, path in paths.items()
        }
        not_done = set(futures)
        while not_done:
            # Record each file as it finishes, so an interrupt still keeps the work done.
            done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
            for fut in done:
                exc = fut.exception()
                if exc is not None and not isinstance(exc, _Cancelled):
                    raise exc
                if exc is None:
                    record(futures[fut], fut.result())
    finally:
        # Stop running hashes at their next chunk and drop queued ones: on error or Ctrl-C
        # nobody wants to wait for the remaining gigabytes.
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
