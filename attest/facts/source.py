"""Where a model's files are: one interface over a directory and a ModelPack artifact.

:class:`ModelSource` lists the files (path, size, sha256, role) and reads small files and weight
headers. Its two implementations (in :mod:`attest.modelpack.sources`, which knows ModelPack)
keep the project's promises about I/O:

- :class:`DirectorySource` hashes every file once, in parallel, through the digest cache, and
  reads a weight header by opening the file and reading only the header.
- :class:`SubjectSource` never re-hashes a raw layer (its digest *is* the file's sha256) and reads
  a raw weight's header by opening the blob and reading only the first bytes. A tar layer is
  streamed once: each member is hashed, small files worth reading are kept, weight headers are
  captured on the way, and the layer digest is checked at the end.
"""

from __future__ import annotations

import io
import posixpath
from abc import ABC, abstractmethod
from typing import IO, Any

from attest.errors import InputError
from attest.facts.hf import tokenizer_files
from attest.facts.licenses import SPDX_HEADER_BYTES, is_license_file
from attest.facts.model import FileFact, Role

# Files read whole to gather facts (base names, case-insensitive), and the size cap for them.
WANTED_FILES = frozenset(
    {
        "config.json",
        "generation_config.json",
        "tokenizer_config.json",
        "chat_template.jinja",
        "readme.md",
        "attest.yaml",
        "modelfile",
        "kitfile",
    }
)
WANTED_LIMIT = 16 * 1024 * 1024
# Any other non-weight file: only its head is read (an SPDX-License-Identifier header).
HEAD_BYTES = SPDX_HEADER_BYTES
_CHUNK = 1024 * 1024

KIND_ROLES: dict[str, Role] = {
    "weight": "weight",
    "weight.config": "weight-config",
    "code": "code",
    "doc": "doc",
    "dataset": "dataset",
}


TORCHSCRIPT_SUFFIXES = frozenset({".jit", ".torchscript", ".ptl"})


def fact_role(path: str, kind: str) -> Role:
    """The role facts give a file. The layer kind follows modctl, which files `vocab.txt` and
    `merges.txt` (any ``*.txt``) as documentation; for the evidence they are the tokenizer's
    vocabulary, a weight config, as `tokenizer.json` is. The layer media type is left as packed."""
    role = KIND_ROLES[kind]
    if role == "doc" and tokenizer_files([path]):
        return "weight-config"
    # modctl has no pattern for TorchScript's .jit and guesses "code" for a small one; it is a
    # weight file (a zip of tensors and the TorchScript that runs them), as .pt is.
    if role == "code" and posixpath.splitext(path)[1].lower() in TORCHSCRIPT_SUFFIXES:
        return "weight"
    return role


def is_wanted(path: str) -> bool:
    """Whether facts are read from the whole of ``path`` (a card, a config, a licence...)."""
    return posixpath.basename(path).lower() in WANTED_FILES or is_license_file(path)


class ModelSource(ABC):
    """The files of one model and bounded reads of them. Subclasses list and open files."""

    #: where the files are, for messages ("./my-model", "oci:out@sha256:...")
    location: str
    #: the model's name when nothing better is known (directory name, repository name)
    default_name: str
    #: the Modelfile / Kitfile text that goes with the model, if any
    modelfile: str | None = None
    kitfile: str | None = None
    #: the ModelPack (or KitOps) config blob, for artifacts
    modelpack_config: dict[str, Any] | None = None

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._files: list[FileFact] | None = None
        self._by_path: dict[str, FileFact] = {}

    def files(self) -> list[FileFact]:
        """Every file of the model, sorted by path; hashed at most once per source."""
        if self._files is None:
            self._files = sorted(self._list_files(), key=lambda f: f.path)
            self._by_path = {f.path: f for f in self._files}
        return list(self._files)

    def file(self, path: str) -> FileFact:
        self.files()
        try:
            return self._by_path[path]
        except KeyError:
            raise InputError(f"{self.location} has no file {path!r}") from None

    @abstractmethod
    def _list_files(self) -> list[FileFact]: ...

    @abstractmethod
    def open(self, path: str, max_bytes: int | None = None) -> IO[bytes]:
        """A stream of ``path``'s content, ending after ``max_bytes`` when given."""

    @abstractmethod
    def read_header(self, path: str) -> bytes:
        """The header bytes of weight ``path`` (see :func:`attest.facts.weights.capture_header`)."""

    def read_head(self, path: str, n: int) -> bytes:
        """The first ``n`` bytes of ``path`` (fewer if it is shorter)."""
        with self.open(path, max_bytes=n) as f:
            return read_up_to(f, n)

    def read_all(self, path: str, limit: int) -> bytes:
        """All of small file ``path``; InputError when it is larger than ``limit``."""
        size = self.file(path).size
        if size > limit:
            raise InputError(
                f"{self.location}: {path} is {size} bytes, over the {limit}-byte limit"
            )
        with self.open(path, max_bytes=limit) as f:
            return read_up_to(f, limit)


# -- a directory ------------------------------------------------------------------------------


def read_up_to(stream: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes: stop only at EOF, not at a short read."""
    parts: list[bytes] = []
    left = n
    while left > 0:
        chunk = stream.read(min(left, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class Limited(io.RawIOBase):
    """A stream that ends after ``limit`` bytes of ``inner``; closing it closes ``inner``."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        super().__init__()
        self._inner, self._left = inner, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._inner.read(min(len(buf), self._left))
        buf[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()
