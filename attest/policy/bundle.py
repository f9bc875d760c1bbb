"""Policies as OPA bundles, as data: build one from a directory, read one back as a Policy.

A bundle is a standard OPA tarball (``.manifest`` with ``roots``, ``rego_version: 1`` and
``revision``; data files; ``*.rego``). Pushing it to and pulling it from a registry (``attest
policy push DIR REF``, ``--policy REF``) is a flow: :mod:`attest.flows.policy_bundle`.

The tarball is reproducible: entries sorted, mtime 0, uid/gid 0, no owner names, mode 0644, a
gzip header without name or time. Pushing the same directory twice gives the same digest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attest.errors import InputError, UsageError
from attest.policy.engine import package_of
from attest.policy.loader import (
    DATA_FILES,
    LIBRARY_MODULE_PREFIX,
    LIBRARY_PREFIX,
    TEST_SUFFIX,
    Policy,
    library_dir,
    merge_data,
    nest,
    parse_data_file,
)

MANIFEST_FILE = ".manifest"
# A policy bundle is text; these bound what a hostile artifact can make us read.
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_FILES = 10_000


@dataclass(frozen=True)
class Bundle:
    """A built bundle: the tar.gz bytes and what went into it."""

    data: bytes
    manifest: dict[str, Any]
    files: tuple[str, ...]

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


# -- build --------------------------------------------------------------------------------------


def collect_files(
    source: Path, *, include_tests: bool = False, library: bool = True
) -> dict[str, bytes]:
    """Bundle path -> bytes: the ``.rego`` modules and data files of ``source`` (a directory
    or one ``.rego`` file), plus the shipped ``lib.*`` packages it does not define itself,
    under ``library/`` (a bundle must be complete: OPA has no built-in attest library)."""
    files: dict[str, bytes] = {}
    if source.is_file():
        if source.suffix != ".rego":
            raise UsageError(f"{source}: a policy file must be a .rego module")
        files[source.name] = source.read_bytes()
    elif source.is_dir():
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            rel = file.relative_to(source)
            if any(part.startswith(".") for part in rel.parts):
                continue
            wanted = file.name in DATA_FILES or (
                file.suffix == ".rego" and (include_tests or not file.name.endswith(TEST_SUFFIX))
            )
            if wanted:
                files[rel.as_posix()] = file.read_bytes()
    else:
        raise UsageError(f"{source}: no such policy file or directory")
    if not any(name.endswith(".rego") for name in files):
        raise UsageError(f"{source}: no .rego modules to publish")
    if library:
        files.update(_library_files(files))
    return files


def _library_files(files: dict[str, bytes]) -> dict[str, bytes]:
    own = {package_of(_text(name, raw)) for name, raw in files.items() if name.endswith(".rego")}
    root = library_dir()
    extra: dict[str, bytes] = {}
    for file in sorted(root.rglob("*.rego")):
        if file.name.endswith(TEST_SUFFIX):
            continue
        package = package_of(file.read_text(encoding="utf-8")) or ""
        if package.startswith(LIBRARY_PREFIX) and package not in own:
            extra[LIBRARY_MODULE_PREFIX + file.relative_to(root).as_posix()] = file.read_bytes()
    return extra


def compute_roots(files: dict[str, bytes]) -> list[str]:
    """The bundle roots: every package path and every top-level data path, minus those
    another root already covers (OPA rejects overlapping roots within one manifest)."""
    paths: set[tuple[str, ...]] = set()
    for name, raw in files.items():
        if name.endswith(".rego"):
            package = package_of(_text(name, raw))
            if not package:
                raise InputError(f"{name}: no package declaration")
            paths.add(tuple(package.split(".")))
        elif posixpath.basename(name) in DATA_FILES:
            directory = [p for p in posixpath.dirname(name).split("/") if p]
            for key in parse_data_file(posixpath.basename(name), raw, name):
                paths.add((*directory, key))
    covered = {p for p in paths for q in paths if q != p and p[: len(q)] == q}
    return sorted("/".join(p) for p in paths - covered)


def build_bundle(
    source: Path,
    *,
    revision: str | None = None,
    roots: list[str] | None = None,
    include_tests: bool = False,
    library: bool = True,
) -> Bundle:
    """A reproducible OPA bundle of ``source``. ``revision`` defaults to a digest of the files."""
    files = collect_files(source, include_tests=include_tests, library=library)
    manifest = {
        "revision": revision or _content_revision(files),
        "roots": roots if roots is not None else compute_roots(files),
        "rego_version": 1,
    }
    entries = {MANIFEST_FILE: _json_bytes(manifest), **files}
    return Bundle(data=_targz(entries), manifest=manifest, files=tuple(sorted(entries)))


def _content_revision(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()[:16]


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, indent=2).encode() + b"\n"


def _targz(entries: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size = len(entries[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(entries[name]))
    out = io.BytesIO()
    # filename="" and mtime=0: nothing in the gzip header varies between runs
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _text(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None


# -- read ---------------------------------------------------------------------------------------


def read_bundle(data: bytes) -> dict[str, bytes]:
    """The regular files of a bundle tarball by normalised path; anything odd is refused."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for info in tar:
                if info.isdir():
                    continue
                if not info.isreg():
                    raise InputError(f"policy bundle entry {info.name!r} is not a regular file")
                name = posixpath.normpath(info.name.lstrip("/"))
                if name.startswith("..") or name in files or name == ".":
                    raise InputError(f"policy bundle entry {info.name!r} is unsafe or repeated")
                total += info.size
                if total > MAX_UNPACKED_BYTES or len(files) >= MAX_FILES:
                    raise InputError("policy bundle is too large")
                member = tar.extractfile(info)
                files[name] = member.read() if member else b""
    except (tarfile.TarError, OSError, EOFError) as e:
        raise InputError(f"policy bundle is not a valid tar.gz: {e}") from None
    return files


def policy_from_bundle(
    files: dict[str, bytes], *, origin: str, digest: str | None, include_tests: bool = False
) -> Policy:
    if MANIFEST_FILE in files:
        manifest = parse_data_file("data.json", files[MANIFEST_FILE], MANIFEST_FILE)
        version = manifest.get("rego_version", 1)
        if version != 1:
            raise InputError(
                f"policy bundle {origin} declares rego_version {version!r}; attest reads Rego v1"
            )
    modules: dict[str, str] = {}
    data: dict[str, Any] = {}
    for name in sorted(files):
        base = posixpath.basename(name)
        if name.endswith(".rego"):
            if include_tests or not base.endswith(TEST_SUFFIX):
                modules[name] = _text(name, files[name])
        elif base in DATA_FILES:
            directory = [p for p in posixpath.dirname(name).split("/") if p]
            doc = nest(directory, parse_data_file(base, files[name], name))
            data = merge_data(data, doc, origin=name)
    if not modules:
        raise InputError(f"policy bundle {origin} holds no .rego modules")
    return Policy(modules=modules, data=data, origin=origin, digest=digest)
