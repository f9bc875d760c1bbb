"""Writing files so that a crash or an error never leaves one half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def current_umask() -> int:
    """The process umask, read without changing it (Linux exposes it; elsewhere the
    set-and-restore dance, which is not thread-safe, so it runs only there)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def public_mode(fd: int) -> None:
    """Give a file made by ``mkstemp`` (always 0600) the mode ``open()`` would have given it:
    0666 minus the umask, as every other tool's output respects."""
    os.fchmod(fd, 0o666 & ~current_umask())


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``target``, fsync, then rename it into place
    (with the mode the umask gives new files, not mkstemp's 0600)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        public_mode(fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)
