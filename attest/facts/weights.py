"""Weight files: their format by name, and their header facts by format.

Two steps, so that a source can take the header bytes when it has the stream (a blob, a tar
member streamed once) and the facts are parsed later from bytes alone:

- :func:`capture_header` reads from an open stream exactly the bytes a format's header needs
  (safetensors: 8 + N; GGUF: up to the end of the tensor infos; ONNX: the structure without
  tensor data) and never more than that bound;
- :func:`weight_facts` turns those bytes into :class:`WeightFacts`.

PyTorch files (``.pt``/``.pth``/``.bin``/``.jit``, zip or legacy pickle) are read by a
restricted unpickler that runs no pickled code (:mod:`attest.facts.torch_pickle`), TFLite by a
bounded FlatBuffer reader (:mod:`attest.facts.tflite`). A format without a header reader
(``.h5``, ``.pb``...) is described by its format alone: honest, and no error.
"""

from __future__ import annotations

import posixpath
import struct
from collections.abc import Callable
from typing import IO

from attest.errors import InputError
from attest.facts.gguf import UnsupportedGGUF, capture_gguf_header, parse_gguf
from attest.facts.model import WeightFacts
from attest.facts.onnx import OnnxUnavailable, parse_onnx, reduce_onnx
from attest.facts.safetensors import MAX_HEADER_SIZE, parse_safetensors_header
from attest.facts.tflite import TFLiteNotRead, capture_tflite, parse_tflite
from attest.facts.torch_pickle import TorchNotRead, capture_torch, parse_torch

# Formats by weight-file extension, as the ModelPack config's `format` names them.
WEIGHT_FORMATS = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".onnx": "onnx",
    ".pt": "pt",
    ".pth": "pt",
    ".bin": "pt",
    ".jit": "pt",  # TorchScript (torch.jit.save): a zip like torch.save's, with code/
    ".h5": "h5",
    ".keras": "keras",
    ".pb": "tensorflow",
    ".tflite": "tflite",
    ".mlmodel": "coreml",
    ".msgpack": "flax",
    ".npz": "npz",
    ".pkl": "pickle",
    ".ckpt": "ckpt",
}

# Formats whose header attest reads.
HEADER_FORMATS = ("safetensors", "gguf", "onnx", "pt", "tflite")


class HeaderNotRead(Exception):
    """The file is a weight of a known format whose facts cannot be read here (why: str)."""


def weight_format(path: str) -> str:
    """The format a weight file's name says (``ModelPack config.format`` words), or ``unknown``."""
    ext = posixpath.splitext(path)[1].lower()
    return WEIGHT_FORMATS.get(ext, "unknown")


def capture_header(fmt: str, stream: IO[bytes], *, path: str, size: int) -> bytes:
    """The header bytes of a ``fmt`` weight file read from ``stream`` (positioned at 0)."""
    if fmt == "safetensors":
        return _capture_safetensors(stream, path=path, size=size)
    if fmt == "gguf":
        return capture_gguf_header(_exact_reader(stream), path=path, file_size=size)
    if fmt == "onnx":
        try:
            return reduce_onnx(stream, path=path, size=size)
        except OnnxUnavailable as exc:
            raise HeaderNotRead(str(exc)) from None
    if fmt in ("pt", "tflite"):
        try:
            capture = capture_torch if fmt == "pt" else capture_tflite
            return capture(stream, path=path, size=size)
        except (TorchNotRead, TFLiteNotRead) as exc:
            raise HeaderNotRead(str(exc)) from None
    raise HeaderNotRead(f"{path}: no header reader for format {fmt!r}")


def weight_facts(fmt: str, header: bytes, *, path: str, size: int) -> WeightFacts:
    """Facts of one weight file from its captured header. InputError when it is corrupt,
    :class:`HeaderNotRead` when it cannot be read here."""
    if fmt == "safetensors":
        (n,) = struct.unpack("<Q", header[:8])
        parsed = parse_safetensors_header(header[8:], data_size=size - 8 - n, path=path)
        return WeightFacts(
            path=path,
            format="safetensors",
            tensor_count=parsed.tensor_count,
            parameter_count=parsed.parameter_count,
            dtypes=parsed.dtypes,
            metadata=dict(sorted(parsed.metadata.items())),
        )
    if fmt == "gguf":
        try:
            return parse_gguf(header, path=path, file_size=len(header))
        except UnsupportedGGUF as exc:
            raise HeaderNotRead(str(exc)) from None
    if fmt == "onnx":
        try:
            return parse_onnx(header, path=path)
        except OnnxUnavailable as exc:
            raise HeaderNotRead(str(exc)) from None
    if fmt == "pt":
        return parse_torch(header, path=path)
    if fmt == "tflite":
        return parse_tflite(header, path=path)
    raise HeaderNotRead(f"{path}: no header reader for format {fmt!r}")


def _capture_safetensors(stream: IO[bytes], *, path: str, size: int) -> bytes:
    read = _exact_reader(stream)
    prefix = read(8)
    if len(prefix) < 8:
        raise InputError(f"invalid safetensors file {path}: {size} bytes, too short for a header")
    (n,) = struct.unpack("<Q", prefix)
    if n > MAX_HEADER_SIZE:
        raise InputError(
            f"invalid safetensors file {path}: header length {n} exceeds the "
            f"{MAX_HEADER_SIZE}-byte limit"
        )
    if n > size - 8:
        raise InputError(
            f"invalid safetensors file {path}: header length {n} runs past the end of the "
            f"{size}-byte file"
        )
    raw = read(n)
    if len(raw) < n:
        raise InputError(f"invalid safetensors file {path}: truncated header")
    return prefix + raw


def _exact_reader(stream: IO[bytes]) -> Callable[[int], bytes]:
    """``read(n)`` that returns n bytes unless the stream ends (network streams read short)."""

    def read(n: int) -> bytes:
        data = stream.read(n)
        while data and len(data) < n:
            more = stream.read(n - len(data))
            if not more:
                break
            data += more
        return data

    return read
