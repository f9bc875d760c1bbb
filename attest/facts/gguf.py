"""Facts from a GGUF file header (ggml docs/gguf.md, versions 2 and 3), parsed by hand.

Layout: magic ``GGUF``, uint32 version, uint64 tensor count, uint64 metadata count, the metadata
key/value pairs, then one info record per tensor (name, dims, ggml type, offset); the tensor data
follows, aligned. Only the region up to the end of the tensor infos is ever read, and it is
bounded by :data:`MAX_HEADER_SIZE`. Files are little-endian unless the version reads byte-swapped
(big-endian GGUF, as written for s390x).

:func:`parse_gguf` is pure over bytes. Since the region's length is known only once it has been
parsed, :func:`capture_gguf_header` pulls bytes from a ``read`` callable until the parse succeeds,
never reading any byte twice.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Callable
from typing import Any

from attest.errors import InputError
from attest.facts.model import WeightFacts

log = logging.getLogger(__name__)

MAGIC = b"GGUF"
# The metadata of real models (a 256k-token vocabulary with merges) stays well under 64 MiB.
MAX_HEADER_SIZE = 128 * 1024 * 1024
FIRST_READ = 64 * 1024  # then doubled: at most ~2x the header is read
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_COUNT = 1 << 24  # tensors or metadata pairs; real models have thousands
MAX_ARRAY_DEPTH = 4
# Metadata kept in WeightFacts.metadata: long strings and arrays (vocabularies) are summarised.
KEEP_STRING = 1024
KEEP_ARRAY = 16

# ggml_type (ggml.h); gaps are types removed from the format. tests/test_facts_readers.py checks
# both tables against the reference reader (PyPI ``gguf``, GGMLQuantizationType/LlamaFileType).
GGML_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4", 41: "Q1_0",
}  # fmt: skip

# llama_ftype (llama.h), the value of general.file_type.
FILE_TYPES = {
    0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1",
    4: "MOSTLY_Q4_1_SOME_F16", 7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0", 9: "MOSTLY_Q5_1",
    10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L",
    14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M",
    18: "MOSTLY_Q6_K", 19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S",
    22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS", 24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL",
    26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S", 29: "MOSTLY_IQ2_M",
    30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16", 36: "MOSTLY_TQ1_0",
    37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE", 39: "MOSTLY_NVFP4", 40: "MOSTLY_Q1_0",
    1024: "GUESSED",
}  # fmt: skip

# Metadata value types: scalar struct codes (type 8 = string, 9 = array).
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9


class NeedMoreData(Exception):
    """The bytes end inside the header; at least ``needed`` bytes in total are required."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"need {needed} bytes")
        self.needed = needed


class UnsupportedGGUF(Exception):
    """A GGUF file attest cannot describe beyond its format (e.g. version 1)."""


class _Reader:
    def __init__(self, data: bytes, endian: str, path: str, complete: bool) -> None:
        self.data, self.pos, self.endian = data, 0, endian
        self.path, self.complete = path, complete

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > MAX_HEADER_SIZE:
            raise InputError(
                f"invalid GGUF file {self.path}: header exceeds {MAX_HEADER_SIZE} bytes"
            )
        if end > len(self.data):
            if self.complete:
                raise InputError(f"invalid GGUF file {self.path}: truncated at byte {self.pos}")
            raise NeedMoreData(end)
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, code: str) -> Any:
        return struct.unpack(self.endian + code, self.take(struct.calcsize(code)))[0]

    def string(self) -> str:
        n = self.unpack("Q")
        raw = self.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(
                f"invalid GGUF file {self.path}: a string at byte {self.pos - n} is not UTF-8"
            ) from None

    def value(self, vtype: int, depth: int = 0) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY and depth < MAX_ARRAY_DEPTH:
            item_type, count = self.unpack("I"), self.unpack("Q")
            if item_type in _SCALARS:  # one unpack for the whole run: vocabularies are long
                code = _SCALARS[item_type]
                raw = self.take(count * struct.calcsize(code))
                return list(struct.unpack(f"{self.endian}{count}{code}", raw))
            if count * 8 > MAX_HEADER_SIZE:  # each element takes 8 bytes or more
                raise InputError(f"invalid GGUF file {self.path}: array of {count} elements")
            return [self.value(item_type, depth + 1) for _ in range(count)]
        raise InputError(f"invalid GGUF file {self.path}: unknown value type {vtype}")


def parse_gguf(data: bytes, *, path: str, file_size: int | None = None) -> WeightFacts:
    """WeightFacts from the first bytes of a GGUF file.

    Raises :class:`NeedMoreData` when ``data`` stops inside the header and more of the file
    exists (``file_size`` unknown or larger than ``data``), :class:`InputError` for a corrupt or
    truncated header, :class:`UnsupportedGGUF` for version 1.
    """
    return _parse(data, path=path, file_size=file_size)[0]


def capture_gguf_header(
    read: Callable[[int], bytes], *, path: str, file_size: int | None = None
) -> bytes:
    """Read the header region through ``read(n)`` (a stream's read), growing the buffer until
    it parses; return exactly the header bytes (what :func:`parse_gguf` needs)."""
    buf = bytearray()
    want = FIRST_READ if file_size is None else min(FIRST_READ, file_size)
    while True:
        while len(buf) < want:
            chunk = read(want - len(buf))
            if not chunk:
                break
            buf += chunk
        eof = len(buf) < want or (file_size is not None and len(buf) >= file_size)
        try:
            _, end = _parse(bytes(buf), path=path, file_size=len(buf) if eof else file_size)
        except NeedMoreData as more:
            want = max(more.needed, 2 * len(buf))
            if file_size is not None:
                want = min(want, file_size)
            want = min(want, MAX_HEADER_SIZE)
            continue
        except UnsupportedGGUF:
            return bytes(buf[:8])
        return bytes(buf[:end])


def _parse(data: bytes, *, path: str, file_size: int | None) -> tuple[WeightFacts, int]:
    complete = file_size is not None and len(data) >= file_size
    head = _Reader(data, "<", path, complete)
    if head.take(4) != MAGIC:
        raise InputError(f"invalid GGUF file {path}: no GGUF magic")
    version = head.unpack("I")
    endian = "<"
    if version not in (1, 2, 3) and struct.unpack(">I", struct.pack("<I", version))[0] in (2, 3):
        endian, version = ">", struct.unpack(">I", struct.pack("<I", version))[0]
    if version == 1:
        raise UnsupportedGGUF(f"{path} is GGUF version 1 (superseded in 2023); not read")
    if version not in (2, 3):
        raise InputError(f"invalid GGUF file {path}: unknown version {version}")
    r = _Reader(data, endian, path, complete)
    r.pos = head.pos
    n_tensors, n_kv = r.unpack("Q"), r.unpack("Q")
    if n_tensors > MAX_COUNT or n_kv > MAX_COUNT:
        raise InputError(f"invalid GGUF file {path}: {n_tensors} tensors, {n_kv} metadata pairs")

    kv: dict[str, Any] = {}
    for _ in range(n_kv):
        key = r.string()
        if key in kv:
            raise InputError(f"invalid GGUF file {path}: metadata key {key!r} appears twice")
        kv[key] = r.value(r.unpack("I"))

    params = 0
    dtypes: set[str] = set()
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.unpack("I")
        if n_dims > MAX_DIMS:
            raise InputError(f"invalid GGUF file {path}: tensor {name!r} has {n_dims} dims")
        dims = [r.unpack("Q") for _ in range(n_dims)]
        ggml_type = r.unpack("I")
        r.unpack("Q")  # offset into the data section: not needed for facts
        params += math.prod(dims)
        dtypes.add(_dtype_name(ggml_type, path))

    arch = kv.get("general.architecture")
    arch = arch if isinstance(arch, str) else None
    file_type = kv.get("general.file_type")
    context = kv.get(f"{arch}.context_length") if arch else None
    declared_params = kv.get("general.parameter_count")
    facts = WeightFacts(
        path=path,
        format="gguf",
        tensor_count=n_tensors,
        parameter_count=params if n_tensors else _int_or_none(declared_params),
        dtypes=tuple(sorted(dtypes)),
        architecture=arch,
        quantization=_file_type_name(file_type, path),
        context_length=_int_or_none(context),
        metadata={"gguf.version": version, **{k: _summary(v) for k, v in sorted(kv.items())}},
    )
    return facts, r.pos


def unknown_name(code: int) -> str:
    """How a type code newer than the tables is recorded: plainly not a real type name."""
    return f"UNKNOWN({code})"


def _dtype_name(ggml_type: int, path: str) -> str:
    name = GGML_TYPES.get(ggml_type)
    if name is None:
        name = unknown_name(ggml_type)
        log.warning("%s: tensor type %d is unknown to attest (a newer ggml?); recorded as %s",
                    path, ggml_type, name)  # fmt: skip
    return name


def _file_type_name(file_type: Any, path: str) -> str | None:
    if not isinstance(file_type, int) or isinstance(file_type, bool):
        return None
    name = FILE_TYPES.get(file_type)
    if name is None:
        log.warning("%s: general.file_type %d is unknown to attest (a newer llama.cpp?); "
                    "no quantization recorded", path, file_type)  # fmt: skip
    return name


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _summary(value: Any) -> Any:
    """Metadata as kept in the facts: JSON-ready, vocabularies and long texts summarised."""
    if isinstance(value, str) and len(value) > KEEP_STRING:
        return f"<string of {len(value)} characters>"
    if isinstance(value, list):
        if len(value) > KEEP_ARRAY:
            kind = type(value[0]).__name__ if value else "empty"
            return f"<array of {len(value)} {kind}>"
        return [_summary(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
