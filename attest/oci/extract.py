"""Extract a model artifact's files into a directory, never writing outside it.

Everything is staged in a temporary directory inside the target and moved into place only when
every layer has been read and verified, so bad input (an escaping path, a symlink out, a corrupt
blob) leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import IO

from attest.errors import InputError
from attest.oci.modelpack import ModelLayer, Subject, safe_relpath
from attest.oci.parallel import run_largest_first
from attest.oci.store import Store
from attest.progress import Progress, ProgressReader

_CHUNK = 4 * 1024 * 1024


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


def pull(
    subject: Subject,
    store: Store,
    output: Path,
    *,
    overwrite: bool = False,
    progress: bool | None = False,
) -> list[str]:
    """Write every file of ``subject`` under ``output``; return the relative paths written.

    Raw layers (one file each, as ``pack`` makes them) are fetched a few at a time, largest
    first; tar layers in order, as a later one may depend on what an earlier one made.
    """
    output.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".attest-pull-", dir=output))
    total = sum(layer.descriptor.size for layer in subject.layers)
    try:
        with Progress(total, "pull", enabled=progress) as bar:
            layers = list(enumerate(subject.layers))
            if all(layer.encoding == "raw" for layer in subject.layers):
                parts = run_largest_first(
                    layers,
                    lambda item: item[1].descriptor.size,
                    lambda item: _extract_layer(store, item[1], item[0], staging, bar),
                )
            else:
                parts = [_extract_layer(store, la, i, staging, bar) for i, la in layers]
        written = [rel for part in parts for rel in part]
        if not overwrite:
            clashes = [p for p in written if (output / p).exists()]
            if clashes:
                raise InputError(
                    f"{output} already has {clashes[0]}"
                    + (f" and {len(clashes) - 1} more" if len(clashes) > 1 else "")
                    + "; use --overwrite to replace"
                )
        for rel in written:
            dest = output / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            _check_inside(output, dest.parent, rel)
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            os.replace(staging / rel, dest)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_layer(
    store: Store, layer: ModelLayer, index: int, staging: Path, bar: Progress
) -> list[str]:
    where = f"layer {index} ({layer.descriptor.digest[:19]})"
    with store.open_blob(layer.descriptor) as raw:
        reader = HashingReader(ProgressReader(raw, bar))  # type: ignore[arg-type]
        if layer.encoding == "raw":
            assert layer.path is not None  # parse_subject guarantees it
            _write_file(staging, layer.path, reader, mode=_mode(layer))
            written = [layer.path]
        else:
            written = _extract_tar(reader, layer.encoding, staging, where)
        reader.drain()
    if reader.digest != layer.descriptor.digest or reader.count != layer.descriptor.size:
        raise InputError(f"{where}: content does not match its digest; nothing was written")
    return written


def _mode(layer: ModelLayer) -> int:
    mode = (layer.metadata or {}).get("mode")
    return (mode & 0o777) if isinstance(mode, int) else 0o644


def _write_file(staging: Path, rel: str, reader: HashingReader | IO[bytes], mode: int) -> None:
    rel = safe_relpath(rel)
    dest = staging / rel
    _check_inside(staging, dest.parent, rel)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _check_inside(staging, dest.parent, rel)  # a staged symlink must not redirect us
    if dest.is_symlink() or dest.exists():
        raise InputError(f"{rel} appears twice in the artifact")
    with open(dest, "xb") as f:
        while chunk := reader.read(_CHUNK):
            f.write(chunk)
    os.chmod(dest, mode & 0o755 | 0o600)


def _check_inside(root: Path, path: Path, rel: str) -> None:
    if not path.resolve().is_relative_to(root.resolve()):
        raise InputError(f"{rel!r} would be written outside the target directory; refusing it")
    # Writing through a symlink (even one pointing inside) would make the staged tree differ
    # from the archive's names: refuse any symlink among the parents.
    current = root
    for part in path.relative_to(root).parts if path.is_relative_to(root) else ():
        current = current / part
        if current.is_symlink():
            raise InputError(f"{rel!r} would be written through the symlink {part!r}; refusing it")


def open_tar(reader: HashingReader, encoding: str) -> tarfile.TarFile:
    if encoding == "tar":
        return tarfile.open(fileobj=reader, mode="r|")  # type: ignore[call-overload]  # only read()
    if encoding == "tar+gzip":
        return tarfile.open(fileobj=reader, mode="r|gz")  # type: ignore[call-overload]
    if encoding == "tar+zstd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(reader)  # type: ignore[arg-type]
        return tarfile.open(fileobj=stream, mode="r|")
    raise InputError(f"unsupported layer encoding {encoding!r}")


def _extract_tar(reader: HashingReader, encoding: str, staging: Path, where: str) -> list[str]:
    written: list[str] = []
    try:
        with open_tar(reader, encoding) as tar:
            for member in tar:
                name = safe_relpath(member.name, f"{where} tar member")
                if member.isdir():
                    (staging / name).mkdir(parents=True, exist_ok=True)
                    _check_inside(staging, staging / name, name)
                elif member.isfile():
                    source = tar.extractfile(member)
                    assert source is not None
                    _write_file(staging, name, source, mode=member.mode)
                    written.append(name)
                elif member.issym():
                    _symlink(staging, name, member.linkname, where)
                    written.append(name)
                else:  # hard links, devices, fifos: never needed for a model, risky to allow
                    raise InputError(f"{where}: tar member {name!r} has unsupported type")
    except (tarfile.TarError, EOFError, OSError) as e:
        raise InputError(f"{where}: not a readable {encoding} archive: {e}") from None
    return written


def _symlink(staging: Path, name: str, target: str, where: str) -> None:
    """Allow only relative links whose target stays inside the extraction root."""
    if target.startswith("/") or not target:
        raise InputError(f"{where}: symlink {name!r} -> {target!r} is absolute; refusing it")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if resolved == ".." or resolved.startswith("../"):
        raise InputError(f"{where}: symlink {name!r} -> {target!r} escapes; refusing it")
    dest = staging / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    _check_inside(staging, dest.parent, name)
    with contextlib.suppress(FileNotFoundError):
        if dest.is_symlink() or dest.exists():
            raise InputError(f"{name} appears twice in the artifact")
    os.symlink(target, dest)
