"""Write an artifact's files into a directory, never writing outside it (the machinery;
:mod:`attest.modelpack.pull` says which layer becomes which file).

Everything is staged in a temporary directory inside the target and moved into place only when
every layer has been read and verified. The move itself is journalled: the links of the finished
tree are then resolved as the kernel resolves them, and if one now leads outside the target (or
loops), or anything else fails, every move is undone. So bad input (an escaping path, a symlink
chain such as ``s -> .`` then ``p -> s/..``, a corrupt or exploding blob) leaves the target as it
was, and no directory is ever created through a symlink.

Expansion is capped per layer (:func:`attest.modelpack.pull.layer_cap`): a small compressed or
sparse layer cannot write gigabytes. docs/security.md, "Extraction and reading", lists the caps.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any

from attest.errors import InputError
from attest.names import check_file_name

_CHUNK = 4 * 1024 * 1024

#: Without a size in the layer's file metadata, a layer may expand to the larger of these.
DEFAULT_EXPAND_FLOOR = 64 * 1024 * 1024
DEFAULT_EXPAND_RATIO = 32
#: Tar headers, padding and end blocks allowed on top of a declared file size.
TAR_OVERHEAD = 1024 * 1024
#: Entries in one tar layer (each one is a file or link on disk).
MAX_TAR_MEMBERS = 100_000


class HashingReader:
    """Wraps a blob stream: hashes what is read so the layer digest is checked on the fly."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self._hash.update(data)
        self.count += len(data)
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class ExpansionBudget:
    """How many bytes a layer may expand to, counted twice: the decompressed tar stream
    (headers included, so gzip/zstd bombs stop) and the member bytes read out of it (sparse
    members expand holes that are not in the stream)."""

    def __init__(self, limit: int, where: str) -> None:
        self.limit = limit
        self.where = where
        self._used: dict[str, int] = {"stream": 0, "members": 0}

    def spend(self, counter: str, n: int) -> None:
        self._used[counter] += n
        if self._used[counter] > self.limit:
            raise InputError(
                f"{self.where} expands beyond {self.limit} bytes, the cap for this layer; "
                "refusing it",
                hint="if the artifact is trusted, raise the cap with --max-expand SIZE",
            )

    def reader(self, stream: Any, counter: str) -> _CountingReader:
        return _CountingReader(stream, self, counter)


class _CountingReader:
    def __init__(self, stream: Any, budget: ExpansionBudget, counter: str) -> None:
        self._stream = stream
        self._budget = budget
        self._counter = counter

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._stream.read(n)
        self._budget.spend(self._counter, len(data))
        return data

    def close(self) -> None:
        self._stream.close()


def _parents(root: Path, rel: str, what: str) -> Path:
    """The directory of ``rel`` under ``root``, created one level at a time; any existing
    level that is a symlink or not a directory is refused before anything is created below."""
    current = root
    for part in rel.split("/")[:-1]:
        current = current / part
        try:
            os.mkdir(current, 0o755)
            continue
        except FileExistsError:  # made by an earlier entry (or a parallel writer): check it
            st = os.lstat(current)
        if stat.S_ISLNK(st.st_mode):
            raise InputError(f"{what} would be written through the symlink {part!r}; refusing it")
        if not stat.S_ISDIR(st.st_mode):
            raise InputError(f"{what}: {part!r} is a file, not a directory; refusing it")
    return current


def write_file(
    staging: Path, rel: str, reader: Any, mode: int, budget: ExpansionBudget | None
) -> None:
    rel = check_file_name(rel)
    parent = _parents(staging, rel, repr(rel))
    dest = parent / posixpath.basename(rel)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(dest, flags, 0o600)
    except FileExistsError:
        raise InputError(f"{rel} appears twice in the artifact") from None
    with os.fdopen(fd, "wb") as f:
        while chunk := reader.read(_CHUNK):
            if budget is not None:
                budget.spend("members", len(chunk))
            f.write(chunk)
    os.chmod(dest, mode & 0o755 | 0o600)


def open_tar(reader: Any, encoding: str, budget: ExpansionBudget | None = None) -> tarfile.TarFile:
    """A streaming tar reader over ``reader``; the decompressed bytes count against ``budget``."""
    if encoding == "tar":
        stream: Any = reader
    elif encoding == "tar+gzip":
        import gzip

        stream = gzip.GzipFile(fileobj=reader, mode="rb")
    elif encoding == "tar+zstd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(reader)
    else:
        raise InputError(f"unsupported layer encoding {encoding!r}")
    if budget is not None:
        stream = budget.reader(stream, "stream")
    return tarfile.open(fileobj=stream, mode="r|")


def read_errors() -> tuple[type[BaseException], ...]:
    """What a corrupt tar, gzip or zstd stream raises while being read."""
    import zlib

    import zstandard

    return (tarfile.TarError, EOFError, OSError, zlib.error, zstandard.ZstdError)


def extract_tar(
    reader: HashingReader, encoding: str, staging: Path, where: str, budget: ExpansionBudget
) -> list[str]:
    written: list[str] = []
    try:
        with open_tar(reader, encoding, budget) as tar:
            for count, member in enumerate(tar, 1):
                if count > MAX_TAR_MEMBERS:
                    raise InputError(f"{where}: more than {MAX_TAR_MEMBERS} tar entries")
                name = check_file_name(member.name, f"{where} tar member")
                if member.isdir():
                    _parents(staging, name + "/x", repr(name))
                elif member.isfile():
                    source = tar.extractfile(member)
                    assert source is not None
                    write_file(staging, name, source, mode=member.mode, budget=budget)
                    written.append(name)
                elif member.issym():
                    _symlink(staging, name, member.linkname, where)
                    written.append(name)
                else:  # hard links, devices, fifos: never needed for a model, risky to allow
                    raise InputError(f"{where}: tar member {name!r} has unsupported type")
    except InputError:
        raise
    except read_errors() as e:
        raise InputError(f"{where}: not a readable {encoding} archive: {e}") from None
    return written


def _symlink(staging: Path, name: str, target: str, where: str) -> None:
    """A relative link whose target stays inside the root as written; where it really leads
    (through other links) is checked on the finished tree, in :func:`_place`."""
    if not target or target.startswith("/") or "\x00" in target:
        raise InputError(f"{where}: symlink {name!r} -> {target!r} is absolute; refusing it")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if resolved == ".." or resolved.startswith("../"):
        raise InputError(f"{where}: symlink {name!r} -> {target!r} escapes; refusing it")
    parent = _parents(staging, name, repr(name))
    try:
        os.symlink(target, parent / posixpath.basename(name))
    except FileExistsError:
        raise InputError(f"{name} appears twice in the artifact") from None


# -- placing ----------------------------------------------------------------------------------


class _Journal:
    """Every change made to the target, so that a failure undoes all of them."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.backups: Path | None = None
        self.created: list[Path] = []  # directories, in creation order
        self.placed: list[Path] = []
        self.replaced: list[tuple[Path, Path]] = []  # (where it was, where it is kept)

    def parents(self, rel: str) -> Path:
        current = self.output
        for part in rel.split("/")[:-1]:
            current = current / part
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                os.mkdir(current, 0o755)
                self.created.append(current)
                continue
            if stat.S_ISLNK(st.st_mode):
                raise InputError(f"{rel!r} would be written through the symlink {part!r}")
            if not stat.S_ISDIR(st.st_mode):
                raise InputError(f"{rel!r}: {part!r} is a file, not a directory, in the target")
        return current

    def put(self, source: Path, dest: Path) -> None:
        if os.path.lexists(dest):
            if self.backups is None:
                self.backups = Path(tempfile.mkdtemp(prefix=".attest-replaced-", dir=self.output))
            kept = self.backups / str(len(self.replaced))
            os.replace(dest, kept)
            self.replaced.append((dest, kept))
        os.replace(source, dest)
        self.placed.append(dest)

    def rollback(self) -> None:
        for path in reversed(self.placed):
            with contextlib.suppress(OSError):
                os.unlink(path)
        for dest, kept in reversed(self.replaced):
            with contextlib.suppress(OSError):
                os.replace(kept, dest)
        for directory in reversed(self.created):
            with contextlib.suppress(OSError):
                directory.rmdir()

    def finish(self) -> None:
        if self.backups is not None:
            shutil.rmtree(self.backups, ignore_errors=True)


def place(output: Path, staging: Path, written: list[str]) -> None:
    skip = {staging.name}
    # Only a new link can make the tree lead outside (placing files and creating real
    # directories cannot), so without one the target is not walked.
    links = any(os.path.islink(staging / rel) for rel in written)
    before = _bad_links(output, skip) if links else []
    journal = _Journal(output)
    try:
        for rel in written:
            parent = journal.parents(rel)
            journal.put(staging / rel, parent / posixpath.basename(rel))
        if journal.backups is not None:
            skip.add(journal.backups.name)
        new = sorted(set(_bad_links(output, skip)) - set(before)) if links else []
        if new:
            rel, why = new[0]
            raise InputError(
                f"{rel!r} is a symlink that {why} once the artifact is in place; "
                f"refusing the pull ({output} is left as it was)"
            )
    except BaseException:
        journal.rollback()
        raise
    finally:
        journal.finish()


def _bad_links(output: Path, skip: set[str]) -> list[tuple[str, str]]:
    """Symlinks under ``output`` that resolve outside it or loop, resolved by the kernel's
    rules (:func:`os.path.realpath` follows every link in turn, ``..`` after a link included)."""
    root = os.path.realpath(output)
    bad: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(output, followlinks=False):
        if dirpath == str(output):
            dirnames[:] = [d for d in dirnames if d not in skip]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                continue
            rel = os.path.relpath(path, output)
            try:
                real = os.path.realpath(path, strict=True)
            except OSError as e:
                if e.errno == errno.ELOOP:
                    bad.append((rel, "loops"))
                    continue
                real = os.path.realpath(path)  # dangling: where it would lead
            if real != root and not real.startswith(root + os.sep):
                bad.append((rel, "leads outside the target"))
    return bad
