"""Tensor metadata of a TFLite model, read from its FlatBuffer without reading the weights.

A ``.tflite`` file is one FlatBuffer (schema: tensorflow/compiler/mlir/lite/schema/schema.fbs,
file identifier ``TFL3``): ``Model { version, operator_codes, subgraphs, description, buffers }``,
``SubGraph { tensors, ..., name }``, ``Tensor { shape, type, buffer, name, ... }``,
``Buffer { data, offset, size }``. A weight is a tensor whose buffer holds data (inline, or at
``offset``/``size`` past the FlatBuffer for models over 2 GB). Tables are reached by offsets, so
the file is read at those offsets through a small page cache: the tensors' bytes are never read,
and every count and offset is checked against the file's size and :data:`MAX_TENSORS`.
"""

from __future__ import annotations

import io
import json
import math
import struct
from typing import IO, Any

from attest.errors import InputError
from attest.facts.model import WeightFacts

MAX_TENSORS = 1_000_000
MAX_SUBGRAPHS = 10_000
MAX_IN_MEMORY = 16 * 1024 * 1024  # a stream that cannot seek is read whole up to this size
_PAGE = 64 * 1024
_MAX_PAGES = 256

# schema.fbs enum TensorType, spelt as torch names (the spelling precision_from_dtypes uses).
TENSOR_TYPES = {
    0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
    7: "int16", 8: "complex64", 9: "int8", 10: "float64", 11: "complex128", 12: "uint64",
    13: "resource", 14: "variant", 15: "uint32", 16: "uint16", 17: "int4", 18: "bfloat16",
}  # fmt: skip


class TFLiteNotRead(Exception):
    """The file cannot be read here (a large stream that cannot seek)."""


class _File:
    """Random access to a seekable stream through a bounded page cache."""

    def __init__(self, stream: IO[bytes], size: int, path: str) -> None:
        self.stream, self.size, self.path = stream, size, path
        self.pages: dict[int, bytes] = {}

    def bad(self, why: str) -> InputError:
        return InputError(f"invalid TFLite file {self.path}: {why}")

    def read(self, pos: int, n: int) -> bytes:
        if pos < 0 or pos + n > self.size:
            raise self.bad(f"an offset ({pos}) points outside the {self.size}-byte file")
        out = bytearray()
        while len(out) < n:
            page, within = divmod(pos + len(out), _PAGE)
            if page not in self.pages:
                if len(self.pages) >= _MAX_PAGES:
                    self.pages.pop(next(iter(self.pages)))
                self.stream.seek(page * _PAGE)
                self.pages[page] = self.stream.read(_PAGE)
            chunk = self.pages[page][within : within + n - len(out)]
            if not chunk:
                raise self.bad("truncated")
            out += chunk
        return bytes(out)

    def u32(self, pos: int) -> int:
        return int(struct.unpack("<I", self.read(pos, 4))[0])

    def field(self, table: int, index: int) -> int | None:
        """The position of field ``index`` of the table at ``table``, or None when absent."""
        vtable = table - struct.unpack("<i", self.read(table, 4))[0]
        vsize = struct.unpack("<H", self.read(vtable, 2))[0]
        if 4 + 2 * index + 2 > vsize:
            return None
        off = struct.unpack("<H", self.read(vtable + 4 + 2 * index, 2))[0]
        return table + off if off else None

    def ref(self, table: int, index: int) -> int | None:
        """Where an offset field (table, vector, string) points."""
        pos = self.field(table, index)
        return None if pos is None else pos + self.u32(pos)

    def vector(self, table: int, index: int, width: int, cap: int) -> tuple[int, int]:
        """(first element's position, length) of a vector field; (0, 0) when absent."""
        pos = self.ref(table, index)
        if pos is None:
            return 0, 0
        n = self.u32(pos)
        if n > cap or pos + 4 + n * width > self.size:
            raise self.bad(f"a vector of {n} elements does not fit")
        return pos + 4, n

    def scalar(self, table: int, index: int, fmt: str, default: int) -> int:
        pos = self.field(table, index)
        if pos is None:
            return default
        return int(struct.unpack("<" + fmt, self.read(pos, struct.calcsize(fmt)))[0])

    def string(self, table: int, index: int, cap: int = 4096) -> str | None:
        start, n = self.vector(table, index, 1, 1 << 31)
        return self.read(start, min(n, cap)).decode("utf-8", "replace") if n else None


def capture_tflite(stream: IO[bytes], *, path: str, size: int) -> bytes:
    """A JSON summary of the weight tensors of the TFLite file in ``stream``."""
    try:
        seekable = bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        seekable = False
    if not seekable:
        if size > MAX_IN_MEMORY:
            raise TFLiteNotRead(f"{path}: {size} bytes on a stream that cannot seek; not read")
        stream = io.BytesIO(stream.read(size))
    f = _File(stream, size, path)
    if size < 8 or f.read(4, 4) != b"TFL3":
        raise InputError(f"invalid TFLite file {path}: no TFL3 file identifier")
    model = f.u32(0)
    buf_start, buf_count = f.vector(model, 4, 4, MAX_TENSORS)
    has_data = []
    for i in range(buf_count):
        buffer = buf_start + 4 * i + f.u32(buf_start + 4 * i)
        inline = f.vector(buffer, 0, 1, 1 << 62)[1]
        has_data.append(inline > 0 or f.scalar(buffer, 2, "Q", 0) > 0)
    sub_start, sub_count = f.vector(model, 2, 4, MAX_SUBGRAPHS)
    tensors: list[tuple[str, int]] = []
    for s in range(sub_count):
        subgraph = sub_start + 4 * s + f.u32(sub_start + 4 * s)
        t_start, t_count = f.vector(subgraph, 0, 4, MAX_TENSORS - len(tensors))
        for t in range(t_count):
            tensor = t_start + 4 * t + f.u32(t_start + 4 * t)
            buffer_index = f.scalar(tensor, 2, "I", 0)
            if not (0 < buffer_index < len(has_data) and has_data[buffer_index]):
                continue  # activations, inputs and outputs have no data
            shape_start, rank = f.vector(tensor, 0, 4, 64)
            dims = struct.unpack(f"<{rank}i", f.read(shape_start, 4 * rank)) if rank else ()
            if any(d < 0 for d in dims):
                raise f.bad("a weight tensor with a negative dimension")
            dtype = TENSOR_TYPES.get(f.scalar(tensor, 1, "b", 0), "unknown")
            tensors.append((dtype, math.prod(dims)))
    return json.dumps({
        "version": f.scalar(model, 0, "I", 0),
        "description": f.string(model, 3),
        "tensors": tensors,
    }).encode()


def parse_tflite(summary: bytes, *, path: str) -> WeightFacts:
    """WeightFacts from what :func:`capture_tflite` kept."""
    data: dict[str, Any] = json.loads(summary)
    tensors = data["tensors"]
    metadata: dict[str, Any] = {"schema_version": data["version"]}
    if data["description"]:
        metadata["description"] = data["description"]  # the converter, e.g. "MLIR Converted."
    return WeightFacts(
        path=path,
        format="tflite",
        tensor_count=len(tensors),
        parameter_count=sum(n for _, n in tensors),
        dtypes=tuple(sorted({d for d, _ in tensors})),
        metadata=metadata,
    )
