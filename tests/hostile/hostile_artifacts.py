"""Builders for hostile artifacts and a way to run the CLI in process, shared by the
extraction and bounded-read tests of tests/hostile/."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from attest.modelpack import media
from attest.oci import mediatypes as mt
from attest.oci.layout import LayoutStore
from attest.oci.store import Descriptor
from tests.helpers import push_artifact, push_raw_blob


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``(exit code, stderr)`` of ``attest ARGS`` run in this process through the real entry
    point (so the exit code mapping is the one users get)."""
    from attest.cli import main

    capsys.readouterr()
    saved = sys.argv
    sys.argv = ["attest", *args]
    try:
        main()
        code: Any = 0
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv = saved
    return int(code or 0), capsys.readouterr().err


def tar_bytes(*entries: tuple[str, str, Any]) -> bytes:
    """A tar of ``("file", name, bytes)``, ``("sym", name, target)``, ``("dir", name, None)``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, value in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
            elif kind == "sym":
                info.type = tarfile.SYMTYPE
                info.linkname = value
                tar.addfile(info)
            else:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
    return buf.getvalue()


def encode(data: bytes, encoding: str) -> bytes:
    if encoding == "tar+gzip":
        return gzip.compress(data, mtime=0)
    if encoding == "tar+zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


def layout_with(tmp_path: Path, layers: list[tuple[bytes, str, dict[str, str] | None]],
                tag: str = "v1") -> str:  # fmt: skip
    """An OCI layout holding one model artifact with ``(blob, encoding, annotations)`` layers;
    returns its reference."""
    store = LayoutStore(tmp_path / "layout", create=True)
    descs: list[Descriptor] = []
    for blob, encoding, layer_annotations in layers:
        media_type = media.model_layer_type("doc", encoding)
        descs.append(push_raw_blob(store, blob, media_type, annotations=layer_annotations))
    push_artifact(store, descs, tag=tag)
    return f"oci:{tmp_path / 'layout'}:{tag}"


def raw_layer(path: str, data: bytes) -> tuple[bytes, str, dict[str, str]]:
    return data, "raw", {mt.ANNOTATION_FILEPATH: path}


def metadata(size: int) -> dict[str, str]:
    meta = {"name": "f", "mode": 0o644, "size": size, "typeflag": ord("0")}
    return {mt.ANNOTATION_FILE_METADATA: json.dumps(meta)}


def snapshot(root: Path) -> dict[str, Any]:
    """Everything under ``root`` (links not followed): path -> content, link target or 'dir'."""
    if not os.path.lexists(root):
        return {"<absent>": True}
    seen: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                seen[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                seen[rel] = "dir"
            else:
                seen[rel] = path.read_bytes()
    return seen


def sparse_tar(name: str, real_size: int) -> bytes:
    """A GNU sparse tar (old format, type 'S') of one member: 512 stored bytes at the end of a
    ``real_size``-byte file, the rest a hole. About 2 KB, however large ``real_size``."""
    info = tarfile.TarInfo(name)
    info.size = 512
    info.type = tarfile.GNUTYPE_SPARSE
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT, encoding="utf-8", errors="strict"))

    def octal(n: int) -> bytes:  # noqa: E306
        return b"%011o\0" % n

    header[386:398] = octal(real_size - 512)  # sparse map entry 0: offset
    header[398:410] = octal(512)  # ... and the bytes stored for it
    header[482] = 0  # no extended sparse headers
    header[483:495] = octal(real_size)  # the file's real size
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:512])
    return bytes(header[:512]) + b"x" * 512 + b"\0" * 1024
