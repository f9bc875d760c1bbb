"""Size caps on what attest reads from a store, and a reader that enforces them.

Every byte from a registry or a layout is hostile until checked (ARCHITECTURE.md, "Trust
rules"): a blob body stops at the size its descriptor declares, a manifest at 4 MiB (as
oras-go), a config at its size and at most :data:`MAX_CONFIG_SIZE`. The caps and how to change
them are listed in docs/security.md, "Extraction and reading".
"""

from __future__ import annotations

import io
import os
import stat
from typing import IO, Any, Protocol

from attest.errors import InputError

#: A manifest or index body (oras-go's ``defaultMaxMetadataBytes``).
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
#: A config blob: JSON attest parses whole. Model configs are a few KB.
MAX_CONFIG_SIZE = 4 * 1024 * 1024
#: A blob read whole into memory (a config, an SBOM or statement referrer, a small file).
MAX_DOCUMENT_SIZE = 128 * 1024 * 1024
#: A layout's index.json (it lists every tag and referrer of the layout).
MAX_LAYOUT_INDEX_SIZE = 64 * 1024 * 1024
#: Layers in one model manifest. A 4 MiB manifest holds at most ~30k minimal descriptors.
MAX_LAYERS = 10_000
# One page of a registry list (tags, catalog, referrers): read at most this much of the body.
MAX_LIST_PAGE_SIZE = 16 * 1024 * 1024


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class BoundedReader(io.RawIOBase):
    """At most ``limit`` bytes of ``stream``; one more byte there is an InputError.

    A registry that sends an endless chunked body for a 14-byte layer, or a layout blob bigger
    than its descriptor, is stopped at the declared size instead of filling memory or disk.
    """

    def __init__(self, stream: IO[bytes], limit: int, what: str) -> None:
        super().__init__()
        self._stream = stream
        self._left = limit
        self._limit = limit
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._left <= 0:
            if self._stream.read(1):
                raise InputError(f"{self._what} is longer than its declared {self._limit} bytes")
            return 0
        data = self._stream.read(min(len(view), self._left))
        n = len(data)
        view[:n] = data
        self._left -= n
        return n

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def bounded(stream: IO[bytes], limit: int, what: str) -> IO[bytes]:
    """``stream`` cut at ``limit`` bytes (buffered, closing it closes ``stream``)."""
    return io.BufferedReader(BoundedReader(stream, limit, what), 1024 * 1024)


def read_capped(stream: Readable, limit: int, what: str) -> bytes:
    """All of ``stream`` if it is at most ``limit`` bytes; InputError without reading more."""
    parts: list[bytes] = []
    total = 0
    while True:
        part = stream.read(min(1024 * 1024, limit + 1 - total))
        if not part:
            return b"".join(parts)
        parts.append(part)
        total += len(part)
        if total > limit:
            raise InputError(f"{what} is larger than the {limit}-byte limit; refusing it")


def check_declared_size(size: int, limit: int, what: str) -> None:
    """Refuse a descriptor that declares more than ``limit`` bytes before fetching anything."""
    if size > limit:
        raise InputError(f"{what} declares {size} bytes; at most {limit} are accepted")


def open_regular(path: str | os.PathLike[str], what: str) -> IO[bytes]:
    """Open a file for reading only if it is a regular file.

    A FIFO would block the open (or the reads) forever and a device is endless, so the open is
    non-blocking and the type checked on the open descriptor (no race with a rename).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{what} is not a regular file; refusing it")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
