"""Facts from an ONNX model: opset, producer, graph inputs/outputs, initializer shapes.

An ONNX file is one protobuf message with the weights inside it (or in external files), and
the facts we want (opset_import, graph inputs/outputs) are serialised *after* the initializers.
So the file is never loaded whole: :func:`reduce_onnx` walks the protobuf wire format and keeps
everything but tensor payloads (initializer data, training info), seeking over them when the
stream can seek. What is kept is a valid, small ModelProto that :func:`parse_onnx` hands to the
``onnx`` package (optional: ``pip install 'attest[onnx]'``) with ``load_external_data=False``.
"""

from __future__ import annotations

import importlib.util
import io
import math
from typing import IO, Any

from attest.errors import InputError
from attest.facts.model import WeightFacts

# What may be kept of the structure (nodes, names, shapes) once tensor data is dropped.
MAX_KEPT = 64 * 1024 * 1024
# Messages nested in messages (protobuf's own parser stops at 100).
MAX_NESTING = 64
# Dimensions of one initializer (ONNX tensors have a handful).
MAX_DIMS = 64
# A stream that cannot seek must be read through to skip tensor data; past this size we do not.
MAX_STREAM_THROUGH = 256 * 1024 * 1024
INSTALL_HINT = "install the onnx extra (pip install 'attest[onnx]') to read ONNX graph facts"
_SKIP_CHUNK = 1024 * 1024
# Integer Constants up to this many elements are shapes, axes or indices, not weights.
_SMALL_CONSTANT = 64

# Wire-format schemas: field number -> sub-schema (walk into it) or None (drop the field).
# Field numbers from onnx.proto; unlisted fields are copied as they are.
_TENSOR: dict[int, Any] = {4: None, 5: None, 6: None, 7: None, 9: None, 10: None, 11: None}
_GRAPH: dict[int, Any] = {5: _TENSOR, 15: None}
_ATTRIBUTE: dict[int, Any] = {5: _TENSOR, 6: _GRAPH, 10: _TENSOR, 11: _GRAPH, 22: None, 23: None}
_NODE: dict[int, Any] = {5: _ATTRIBUTE}
_GRAPH[1] = _NODE
_FUNCTION: dict[int, Any] = {7: _NODE, 11: _ATTRIBUTE}
_MODEL: dict[int, Any] = {7: _GRAPH, 20: None, 25: _FUNCTION}


class OnnxUnavailable(Exception):
    """ONNX facts cannot be read here (the ``onnx`` package is missing, or the file would have
    to be streamed through whole); the message says why."""


def onnx_installed() -> bool:
    return importlib.util.find_spec("onnx") is not None


class _Wire:
    """Reads a protobuf stream forward, tracking the position; skips by seeking if it can."""

    def __init__(self, stream: IO[bytes], path: str, seekable: bool) -> None:
        self.stream, self.path, self.pos, self.seekable = stream, path, 0, seekable

    def read(self, n: int) -> bytes:
        data = self.stream.read(n)
        while len(data) < n:  # streams may return short reads
            more = self.stream.read(n - len(data))
            if not more:
                raise InputError(f"invalid ONNX file {self.path}: truncated at byte {self.pos}")
            data += more
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if self.seekable:
            self.stream.seek(n, io.SEEK_CUR)
            self.pos += n
            return
        left = n
        while left:
            left -= len(self.read(min(left, _SKIP_CHUNK)))

    def varint(self) -> tuple[int, bytes]:
        raw = bytearray()
        value = shift = 0
        while True:
            b = self.read(1)[0]
            raw.append(b)
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value, bytes(raw)
            shift += 7
            if shift > 63:
                raise InputError(f"invalid ONNX file {self.path}: bad varint at byte {self.pos}")


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def reduce_onnx(stream: IO[bytes], *, path: str, size: int) -> bytes:
    """The ModelProto in ``stream`` (``size`` bytes) without tensor payloads.

    Raises :class:`OnnxUnavailable` when the stream cannot seek and is larger than
    :data:`MAX_STREAM_THROUGH`, :class:`InputError` when the bytes are not protobuf.
    """
    try:
        seekable = bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        seekable = False
    if not seekable and size > MAX_STREAM_THROUGH:
        raise OnnxUnavailable(
            f"{path} is {size} bytes and its stream cannot seek; graph facts not read"
        )
    wire = _Wire(stream, path, seekable)
    out = bytearray()
    _walk(wire, size, _MODEL, out, 0)
    return bytes(out)


def _walk(wire: _Wire, end: int, schema: dict[int, Any], out: bytearray, depth: int) -> None:
    if depth > MAX_NESTING:  # graphs inside attributes inside nodes inside graphs...
        raise InputError(f"invalid ONNX file {wire.path}: nested deeper than {MAX_NESTING}")
    while wire.pos < end:
        tag, tag_raw = wire.varint()
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            out += tag_raw + wire.varint()[1]
        elif wire_type == 1:
            out += tag_raw + wire.read(8)
        elif wire_type == 5:
            out += tag_raw + wire.read(4)
        elif wire_type == 2:
            length, length_raw = wire.varint()
            if wire.pos + length > end:
                raise InputError(f"invalid ONNX file {wire.path}: field {field} runs past its end")
            if field in schema and schema[field] is None:
                wire.skip(length)
            elif field in schema:
                inner = bytearray()
                _walk(wire, wire.pos + length, schema[field], inner, depth + 1)
                out += tag_raw + _encode_varint(len(inner)) + inner
            else:
                out += tag_raw + length_raw + wire.read(length)
        else:  # groups (3, 4) do not occur in onnx.proto; 6 and 7 do not exist
            raise InputError(f"invalid ONNX file {wire.path}: wire type {wire_type} at {wire.pos}")
        if len(out) > MAX_KEPT:
            raise OnnxUnavailable(f"{wire.path}: graph structure exceeds {MAX_KEPT} bytes")
    if wire.pos != end:
        raise InputError(f"invalid ONNX file {wire.path}: a field runs past its message")


def parse_onnx(data: bytes, *, path: str) -> WeightFacts:
    """WeightFacts from a reduced ModelProto (or a whole small one). Needs the ``onnx`` package:
    raises :class:`OnnxUnavailable` without it."""
    try:
        import onnx
        from google.protobuf.message import DecodeError
    except ImportError:
        raise OnnxUnavailable(f"{path}: {INSTALL_HINT}") from None
    try:
        model = onnx.load(io.BytesIO(data), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise InputError(f"invalid ONNX file {path}: {exc}") from None
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p) or None
    initializers = list(graph.initializer)
    weight_names = {t.name for t in initializers}
    weights = _weight_tensors(graph)
    dtypes = {onnx.TensorProto.DataType.Name(t.data_type) for t in weights}
    metadata: dict[str, Any] = {"ir_version": model.ir_version}
    if model.domain:
        metadata["domain"] = model.domain
    if model.model_version:
        metadata["model_version"] = model.model_version
    if graph.name:  # an exporter's label ("main_graph", "spox_graph", "torch_jit"), not a network
        metadata["graph_name"] = graph.name
    metadata.update({p.key: p.value for p in model.metadata_props})
    external = sorted(
        {e.value for t in initializers for e in t.external_data if e.key == "location"}
    )
    if external:
        metadata["external_data"] = external
    return WeightFacts(
        path=path,
        format="onnx",
        tensor_count=len(weights),
        parameter_count=sum(_element_count(t.dims, t.name, path) for t in weights),
        dtypes=tuple(sorted(dtypes)),
        architecture=None,
        opset=opset,
        producer=producer,
        # IR < 4 lists initializers among the inputs: they are weights, not inputs.
        inputs=tuple(_value_info(v) for v in graph.input if v.name not in weight_names),
        outputs=tuple(_value_info(v) for v in graph.output),
        metadata=metadata,
    )


def _weight_tensors(graph: Any) -> list[Any]:
    """The weights of ``graph`` and of every subgraph (``If`` branches, ``Loop``/``Scan``
    bodies): its initializers and the tensors of its ``Constant`` nodes (exporters such as spox
    and the torch dynamo exporter store weights that way).

    A Constant that is a small integer or boolean tensor (a shape, axes, indices) is not a
    weight. The walk uses its own stack, so nesting costs no Python recursion; the protobuf
    parser already refused anything nested deeper than its recursion limit.
    """
    import onnx

    small_ints = {onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.BOOL}
    found: list[Any] = []
    stack = [graph]
    while stack:
        g = stack.pop()
        found.extend(g.initializer)
        for node in g.node:
            for attr in node.attribute:
                stack.extend([attr.g] if attr.HasField("g") else [])
                stack.extend(attr.graphs)
            if node.op_type != "Constant" or node.domain not in ("", "ai.onnx"):
                continue
            for attr in node.attribute:
                if attr.name != "value" or not attr.HasField("t"):
                    continue  # value_float(s)/value_int(s) are scalars and short lists
                tensor = attr.t
                small = len(tensor.dims) <= 8 and math.prod(tensor.dims) <= _SMALL_CONSTANT
                if tensor.data_type in small_ints and small:
                    continue
                found.append(tensor)
    return found


def _element_count(dims: Any, name: str, path: str) -> int:
    if len(dims) > MAX_DIMS or any(d < 0 for d in dims):
        raise InputError(f"invalid ONNX file {path}: initializer {name!r} has an absurd shape")
    return math.prod(dims)


def _value_info(value: Any) -> str:
    """``name: float[batch,3,224,224]`` for a tensor; the type's kind otherwise."""
    import onnx

    kind = value.type.WhichOneof("value")
    if kind != "tensor_type":
        return f"{value.name}: {kind or 'unknown'}"
    tensor = value.type.tensor_type
    dtype = onnx.TensorProto.DataType.Name(tensor.elem_type).lower()
    if not tensor.HasField("shape"):
        return f"{value.name}: {dtype}"
    dims = [
        d.dim_param or (str(d.dim_value) if d.HasField("dim_value") else "?")
        for d in tensor.shape.dim
    ]
    return f"{value.name}: {dtype}[{','.join(dims)}]"
