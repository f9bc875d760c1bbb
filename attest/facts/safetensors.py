"""Facts from a safetensors file header, read without touching the weights.

Layout (https://github.com/huggingface/safetensors): 8-byte little-endian unsigned header length
N, N bytes of UTF-8 JSON ``{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
{str: str}}``, then the tensor bytes, offsets relative to the end of the header. The structural
checks below follow the reference (Rust) loader: header size limit, ``{`` first, byte sizes that
fit the dtype, tensors tiling the data section exactly. Stricter: duplicate JSON keys are refused
(parsers disagree on which one wins). More lenient: a dtype attest does not know (a newer one) is
counted without a byte-size check instead of refused.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest import jsonio
from attest.errors import InputError

# The reference loader refuses headers over 100 MB; a bigger one is an attack, not a model.
MAX_HEADER_SIZE = 100 * 1024 * 1024
# Dimensions of one tensor, and the largest one (the reference loader's usize).
MAX_DIMS = 64
MAX_DIM = 2**64 - 1

# Bits per element of each safetensors dtype (sub-byte types pack several per byte).
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "F64": 64, "I64": 64, "U64": 64, "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}  # fmt: skip

# safetensors dtype -> the name Hugging Face `torch_dtype` uses (what modctl copies from
# config.json into PRECISION, e.g. "bfloat16"). Unknown dtypes fall back to lower case.
TORCH_DTYPE_NAMES = {
    "BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "U16": "uint16",
    "I32": "int32", "U32": "uint32", "I64": "int64", "U64": "uint64",
    "F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu",
    "C64": "complex64",
    # ONNX TensorProto names, so one model's precision has one spelling whatever its format
    "FLOAT": "float32", "FLOAT16": "float16", "BFLOAT16": "bfloat16", "DOUBLE": "float64",
    "INT8": "int8", "UINT8": "uint8", "INT16": "int16", "UINT16": "uint16", "INT32": "int32",
    "UINT32": "uint32", "INT64": "int64", "UINT64": "uint64", "COMPLEX64": "complex64",
    "FLOAT8E4M3FN": "float8_e4m3fn", "FLOAT8E5M2": "float8_e5m2",
}  # fmt: skip

# paramSize scale letters, largest first (modctl/Hugging Face style: 125M, 6.7B, 1.5T).
_SCALES = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


@dataclass(frozen=True)
class SafetensorsHeader:
    """What a safetensors header says about its tensors."""

    path: str
    header_size: int  # N, the JSON length (padding included)
    tensor_count: int
    dtypes: tuple[str, ...]  # distinct dtypes as written in the file, sorted ("BF16", "F32")
    parameter_count: int  # sum over tensors of the product of the shape
    metadata: dict[str, str] = field(default_factory=dict)  # "__metadata__", e.g. {"format": "pt"}


def read_safetensors_header(path: str | os.PathLike[str]) -> SafetensorsHeader:
    """Read and check the header of the safetensors file at ``path`` (InputError if invalid)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            prefix = f.read(8)
            if len(prefix) < 8:
                raise _bad(p, f"file is {file_size} bytes, too short for a header")
            (n,) = struct.unpack("<Q", prefix)
            if n > MAX_HEADER_SIZE:
                raise _bad(p, f"header length {n} exceeds the {MAX_HEADER_SIZE}-byte limit")
            if n > file_size - 8:
                raise _bad(p, f"header length {n} runs past the end of the {file_size}-byte file")
            raw = f.read(n)
    except OSError as exc:
        raise InputError(f"cannot read safetensors file {p}: {exc.strerror or exc}") from exc
    return parse_safetensors_header(raw, data_size=file_size - 8 - n, path=p)


def parse_safetensors_header(
    raw: bytes, *, data_size: int, path: str | os.PathLike[str] = "<bytes>"
) -> SafetensorsHeader:
    """Check header JSON ``raw`` against a data section of ``data_size`` bytes."""
    p = Path(path)
    if not raw.startswith(b"{"):  # the reference loader insists on it too
        raise _bad(p, "header does not start with '{'")
    try:
        header = jsonio.loads_object(raw, "header", object_pairs_hook=_no_duplicates)
    except InputError as exc:
        raise _bad(p, exc.message) from None

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _bad(p, "__metadata__ must map strings to strings")

    spans: list[tuple[int, int, str]] = []
    dtypes: set[str] = set()
    params = 0
    for name, info in header.items():
        dtype, shape, begin, end = _tensor_entry(p, name, info)
        count = math.prod(shape)
        bits = DTYPE_BITS.get(dtype)
        if bits is not None and (count * bits) % 8 == 0 and end - begin != count * bits // 8:
            raise _bad(p, f"tensor {name!r}: {end - begin} bytes for {count} x {dtype}")
        if end > data_size:
            raise _bad(p, f"tensor {name!r} ends at {end}, past the {data_size}-byte data section")
        spans.append((begin, end, name))
        dtypes.add(dtype)
        params += count

    # Like the reference loader: tensors tile the data section exactly, no gaps or overlaps.
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise _bad(p, f"tensor {name!r} starts at {begin}, expected {position}")
        position = end
    if position != data_size:
        raise _bad(p, f"tensors cover {position} of {data_size} data bytes")

    return SafetensorsHeader(
        path=str(p),
        header_size=len(raw),
        tensor_count=len(spans),
        dtypes=tuple(sorted(dtypes)),
        parameter_count=params,
        metadata=dict(metadata),
    )


def format_param_size(n: int) -> str:
    """A parameter count as ModelPack ``paramSize`` in the form modctl writes: ``7B``, ``125M``.

    modctl never computes paramSize, it copies the Modelfile's PARAMSIZE; its docs and tests use
    an upper-case scale letter with at most one decimal (``1.5T``, ``2.7B``, ``13B``, ``125M``).
    Below 10 the value keeps one decimal (``6.7B``), from 10 up it is rounded (``13B``);
    below 1000 the bare count is written.
    """
    if n < 0:
        raise ValueError(f"negative parameter count: {n}")
    for i, (scale, letter) in enumerate(_SCALES):
        if n < scale:
            continue
        value = n / scale
        text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
        if float(text) >= 1000 and i > 0:  # 999.6M rounds up into the next scale: 1.0B
            bigger, bigger_letter = _SCALES[i - 1]
            text, letter = f"{n / bigger:.1f}", bigger_letter
        return text.removesuffix(".0") + letter
    return str(n)


def precision_from_dtypes(dtypes: Iterable[str]) -> str:
    """ModelPack ``precision`` from safetensors or ONNX dtypes: torch names, sorted, joined.

    The spec says precision is the dtype(s) of the weights, comma-joined. modctl writes
    config.json's ``torch_dtype`` (``bfloat16``, ``float16``), so attest maps safetensors names
    to the same torch names (BF16 -> bfloat16, F32 -> float32) and sorts them:
    ``{"F32", "BF16"}`` -> ``"bfloat16,float32"``.
    """
    names = {TORCH_DTYPE_NAMES.get(d.upper(), d.lower()) for d in dtypes}
    return ",".join(sorted(names))


# --- internals -----------------------------------------------------------------------------


def _bad(path: Path, why: str) -> InputError:
    return InputError(f"invalid safetensors file {path}: {why}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two entries for one tensor name would let two readers see two different models.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _is_uint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tensor_entry(path: Path, name: str, info: Any) -> tuple[str, list[int], int, int]:
    if not isinstance(info, dict):
        raise _bad(path, f"tensor {name!r} entry is not an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or not dtype:
        raise _bad(path, f"tensor {name!r} has no dtype")
    if not isinstance(shape, list) or not all(_is_uint(d) and d <= MAX_DIM for d in shape):
        raise _bad(path, f"tensor {name!r} shape must be a list of non-negative 64-bit integers")
    if len(shape) > MAX_DIMS:  # a million dims would make counting the elements the attack
        raise _bad(path, f"tensor {name!r} has {len(shape)} dimensions; at most {MAX_DIMS}")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_uint(o) for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise _bad(path, f"tensor {name!r} data_offsets must be [begin, end] with begin <= end")
    return dtype, shape, offsets[0], offsets[1]
