"""The two places model files come from when facts are gathered: a model directory (files as
``attest pack`` would package them, classified by the Modelfile rules) and a resolved ModelPack
or KitOps artifact (layers read where they are, tar layers streamed once, never extracted)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from attest.errors import InputError
from attest.facts.model import FileFact
from attest.facts.source import (
    HEAD_BYTES,
    WANTED_LIMIT,
    Limited,
    ModelSource,
    fact_role,
    is_wanted,
    read_up_to,
)
from attest.facts.subject import ModelLayer, Subject
from attest.facts.weights import HEADER_FORMATS, capture_header, weight_format
from attest.modelpack import media
from attest.modelpack.files import list_model_files
from attest.modelpack.modelfile import MODELFILE_MAX_SIZE, classify_files, parse_modelfile
from attest.modelpack.pull import layer_cap
from attest.names import check_file_name
from attest.oci import mediatypes as mt
from attest.oci.digest import DigestCache, digest_files
from attest.oci.extract import (  # the one tar-streaming implementation
    ExpansionBudget,
    HashingReader,
    open_tar,
    read_errors,
)
from attest.oci.store import Store
from attest.yamlio import read_user_file


class DirectorySource(ModelSource):
    """A model directory, listed and classified as ``attest pack`` would package it."""

    def __init__(
        self,
        root: str | Path,
        modelfile: str | Path | None = None,
        *,
        cache: DigestCache | None = None,
        workers: int | None = None,
        progress: bool | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"{self.root} is not a directory")
        self.location = str(self.root)
        self._cache, self._workers, self._progress = cache, workers, progress
        self._modelfile_path = Path(modelfile) if modelfile is not None else None
        if self._modelfile_path is None and (self.root / "Modelfile").is_file():
            self._modelfile_path = self.root / "Modelfile"
        self._parsed_modelfile = None
        if self._modelfile_path is not None:
            raw = read_user_file(self._modelfile_path, "a Modelfile", MODELFILE_MAX_SIZE)
            try:
                self.modelfile = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(f"cannot read Modelfile {self._modelfile_path}: {exc}") from None
            self._parsed_modelfile = parse_modelfile(
                self.modelfile, source=str(self._modelfile_path)
            )
        self.default_name = (
            self._parsed_modelfile.name
            if self._parsed_modelfile and self._parsed_modelfile.name
            else self.root.resolve().name
        )
        kitfile = self.root / "Kitfile"
        if kitfile.is_file():
            raw = read_user_file(kitfile, "a Kitfile", MODELFILE_MAX_SIZE)
            self.kitfile = raw.decode("utf-8", errors="replace")

    def _list_files(self) -> list[FileFact]:
        rels = list_model_files(self.root)
        mf = self._modelfile_path
        if mf is not None and mf.resolve().parent == self.root.resolve():
            rels = [r for r in rels if r != mf.name]  # packed as an annotation, not a layer
        sizes = {rel: (self.root / rel).stat().st_size for rel in rels}
        classified = classify_files(rels, self._parsed_modelfile, sizes=sizes)
        paths = [path for path, _, _ in classified]
        digests = digest_files(
            self.root, paths, workers=self._workers, cache=self._cache, progress=self._progress
        )
        return [
            FileFact(
                path=path,
                size=d.size,
                sha256=d.digest,
                role=fact_role(path, kind),
                media_type=media.model_layer_type(kind, "raw"),
            )
            for (path, kind, _), d in zip(classified, digests, strict=True)
        ]

    def open(self, path: str, max_bytes: int | None = None) -> IO[bytes]:
        self.file(path)  # only files of the model
        try:
            stream: IO[bytes] = open(self.root / path, "rb")  # noqa: SIM115 - caller closes
        except OSError as exc:
            raise InputError(f"cannot read {self.root / path}: {exc.strerror or exc}") from None
        return stream if max_bytes is None else cast(IO[bytes], Limited(stream, max_bytes))

    def read_header(self, path: str) -> bytes:
        fact = self.file(path)
        with self.open(path) as f:
            return capture_header(weight_format(path), f, path=path, size=fact.size)


# -- a ModelPack artifact ---------------------------------------------------------------------


@dataclass
class _Member:
    """What a tar-layer scan kept of one file: its content or head, and its weight header."""

    data: bytes  # whole content when ``whole``, else the first HEAD_BYTES
    whole: bool
    header: bytes | None = None
    header_error: Exception | None = field(default=None, repr=False)


class SubjectSource(ModelSource):
    """The files of a resolved ModelPack/KitOps artifact, read through its store."""

    def __init__(self, store: Store, subject: Subject, *, name: str | None = None) -> None:
        super().__init__()
        self.store, self.subject = store, subject
        self.location = subject.reference
        self.modelpack_config = subject.config
        annotations = subject.annotations
        self.modelfile = annotations.get(mt.ANNOTATION_MODELFILE)
        self.kitfile = annotations.get(mt.ANNOTATION_KITFILE)
        self.default_name = name or _name_from_reference(subject.reference)
        self._raw: dict[str, ModelLayer] = {}
        self._members: dict[str, _Member] = {}

    def _list_files(self) -> list[FileFact]:
        facts: list[FileFact] = []
        for index, layer in enumerate(self.subject.layers):
            role = fact_role(layer.path or "", layer.kind)
            media_type = media.model_layer_type(layer.kind, "raw")
            if layer.encoding == "raw":
                assert layer.path is not None  # parse_subject guarantees it
                self._claim(layer.path, index)
                self._raw[layer.path] = layer
                facts.append(
                    FileFact(
                        path=layer.path,
                        size=layer.descriptor.size,
                        sha256=layer.descriptor.digest,  # the raw layer digest: never re-hashed
                        role=role,
                        media_type=media_type,
                        layer_digest=layer.descriptor.digest,
                    )
                )
            else:
                for path, size, digest in self._scan_tar(layer, index):
                    facts.append(
                        FileFact(path, size, digest, fact_role(path, layer.kind), media_type,
                                 layer.descriptor.digest)
                    )
        return facts

    def _claim(self, path: str, index: int) -> None:
        if path in self._raw or path in self._members:
            raise InputError(f"{self.location}: {path!r} appears twice (again in layer {index})")

    def _scan_tar(self, layer: ModelLayer, index: int) -> list[tuple[str, int, str]]:
        """Stream a tar layer once: hash members, keep what facts need, check the digest."""
        where = f"{self.location}: layer {index} ({layer.descriptor.digest[:19]})"
        found: list[tuple[str, int, str]] = []
        with self.store.open_blob(layer.descriptor) as blob:
            hashing = HashingReader(blob)
            budget = ExpansionBudget(layer_cap(layer), where)
            try:
                with open_tar(hashing, layer.encoding, budget) as tar:
                    for member in tar:
                        name = check_file_name(member.name, f"{where} tar member")
                        if member.isdir():
                            continue
                        if not member.isfile():
                            self.warnings.append(
                                f"{where}: tar member {name!r} is not a regular file; not listed"
                            )
                            continue
                        self._claim(name, index)
                        stream = tar.extractfile(member)
                        assert stream is not None
                        counted: Any = budget.reader(stream, "members")
                        digest = self._keep_member(name, member.size, layer.kind, counted)
                        found.append((name, member.size, digest))
            except InputError:
                raise
            except read_errors() as exc:
                raise InputError(
                    f"{where}: not a readable {layer.encoding} archive: {exc}"
                ) from None
            hashing.drain()
        if hashing.digest != layer.descriptor.digest or hashing.count != layer.descriptor.size:
            raise InputError(f"{where}: content does not match its digest")
        return found

    def _keep_member(self, name: str, size: int, kind: str, stream: IO[bytes]) -> str:
        member = HashingReader(stream)
        reader = cast(IO[bytes], member)  # the readers below call only read()
        fmt = weight_format(name)
        if kind == "weight" and fmt in HEADER_FORMATS:
            kept = _Member(b"", whole=False)
            try:
                kept.header = capture_header(fmt, reader, path=name, size=size)
            except Exception as exc:  # re-raised when the header is asked for
                kept.header_error = exc
        elif kind != "weight" and is_wanted(name) and size <= WANTED_LIMIT:
            kept = _Member(read_up_to(reader, size), whole=True)
        elif kind != "weight":
            head = read_up_to(reader, HEAD_BYTES)
            kept = _Member(head, whole=len(head) == size)
        else:
            kept = _Member(b"", whole=False)
        member.drain()
        if member.count != size:
            raise InputError(f"{self.location}: tar member {name!r} is shorter than its header")
        self._members[name] = kept
        return member.digest

    def open(self, path: str, max_bytes: int | None = None) -> IO[bytes]:
        fact = self.file(path)
        if path in self._raw:
            layer = self._raw[path]
            # Whole small files come verified from fetch_blob; anything else is a prefix read.
            if max_bytes is not None and max_bytes >= fact.size and fact.size <= WANTED_LIMIT:
                return io.BytesIO(self.store.fetch_blob(layer.descriptor))
            blob = self.store.open_blob(layer.descriptor)
            return blob if max_bytes is None else cast(IO[bytes], Limited(blob, max_bytes))
        kept = self._members[path]
        wanted = fact.size if max_bytes is None else min(max_bytes, fact.size)
        if not kept.whole and wanted > len(kept.data):
            raise InputError(
                f"{self.location}: {path} sits in a tar layer and only its first "
                f"{len(kept.data)} bytes were kept while streaming it"
            )
        return io.BytesIO(kept.data[:wanted])

    def read_header(self, path: str) -> bytes:
        fact = self.file(path)
        if path in self._raw:
            with self.store.open_blob(self._raw[path].descriptor) as blob:
                return capture_header(weight_format(path), blob, path=path, size=fact.size)
        kept = self._members[path]
        if kept.header_error is not None:
            raise kept.header_error
        if kept.header is None:
            raise InputError(f"{self.location}: no header was captured for {path}")
        return kept.header


def _name_from_reference(reference: str) -> str:
    base = reference.split("@", 1)[0]
    if base.startswith("oci:"):
        base = base[4:]
        head, sep, tail = base.rpartition(":")
        if sep and "/" not in tail:
            base = head
        return Path(base).resolve().name or base
    last = base.rsplit("/", 1)[-1]
    return last.split(":", 1)[0] or reference


# -- stream helpers ---------------------------------------------------------------------------
