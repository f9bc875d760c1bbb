"""Tensor metadata of PyTorch files (``.pt``/``.pth``/``.bin``/``.jit``) without running them.

A PyTorch file is a pickle, and unpickling runs whatever callables the pickle names; so
``torch.load`` is never used. Instead a restricted unpickler reads the pickle: every global it
names becomes an inert stand-in (a record of the name), the few that describe tensors
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``...) become records of dtype, shape
and storage, and ``collections.OrderedDict`` is the real (harmless) class. No pickled callable is
ever called. Then the object graph is walked for tensor records.

Two layouts (torch/serialization.py):

- the zip archive torch >= 1.6 writes (and TorchScript's ``torch.jit.save``): ``<root>/data.pkl``
  is the object pickle, tensors' bytes are separate members. Read from a seekable stream, only the
  central directory and ``data.pkl`` (at most :data:`MAX_PICKLE` bytes) are read.
- the legacy stream (``_use_new_zipfile_serialization=False``): pickles of a magic number, the
  protocol version, system info, then the object; the tensors' bytes follow. Reading stops at the
  end of the object pickle, after at most :data:`MAX_PICKLE` bytes.

:func:`capture_torch` does the reading and returns a small JSON summary (the "header" bytes
a source keeps); :func:`parse_torch` turns it into :class:`WeightFacts`.
"""

from __future__ import annotations

import collections
import io
import json
import math
import pickle
import zipfile
from typing import IO, Any

from attest.errors import InputError
from attest.facts.model import WeightFacts

MAX_PICKLE = 64 * 1024 * 1024  # the object pickle of a 100B-parameter checkpoint is far smaller
MAX_MEMBERS = 1_000_000  # zip members (two per tensor at most in torch's layout)
MAX_GLOBALS = 10_000  # distinct stand-in classes one pickle may name
MAX_OBJECTS = 10_000_000  # objects walked looking for tensors
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch.serialization.MAGIC_NUMBER

# Legacy typed storage classes -> torch dtype names (the spelling precision_from_dtypes uses).
STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
    "Float8_e4m3fnStorage": "float8_e4m3fn", "Float8_e5m2Storage": "float8_e5m2",
}  # fmt: skip
# torch dtype objects pickled by name (GLOBAL torch float16), as UntypedStorage checkpoints do.
TORCH_DTYPES = {name for name in STORAGE_DTYPES.values()} | {"uint16", "uint32", "uint64"}
# Functions that rebuild a tensor from (storage, offset, size, ...).
REBUILD_TENSOR = {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
                  "_rebuild_qtensor"}  # fmt: skip


class _Storage:
    """A persistent storage id resolved: dtype and key, never bytes."""

    def __init__(self, dtype: str, key: str) -> None:
        self.dtype, self.key = dtype, key


class _Tensor:
    """What a rebuild call would have made: dtype, shape, where in which storage."""

    def __init__(self, storage: Any, offset: Any, size: Any) -> None:
        self.dtype = storage.dtype if isinstance(storage, _Storage) else "unknown"
        self.key = storage.key if isinstance(storage, _Storage) else None
        self.offset = offset if isinstance(offset, int) else 0
        shape = size if isinstance(size, (tuple, list)) else ()
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ValueError("a tensor's shape is not a list of sizes")
        self.shape = tuple(shape)


class _Opaque:
    """Any class or function a pickle names: takes any arguments and state, does nothing."""

    qualname = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _DType:
    def __init__(self, name: str) -> None:
        self.name = name


def _rebuild_tensor(storage: Any = None, offset: Any = 0, size: Any = (), *_: Any) -> _Tensor:
    return _Tensor(storage, offset, size)


def _rebuild_parameter(data: Any = None, *_: Any) -> Any:
    return data  # a Parameter is its tensor


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    # torch._tensor._rebuild_from_type_v2(func, type, args, state): func is itself a stand-in
    # (one of ours, or an _Opaque class), so calling it runs nothing of the pickle's.
    if func in (_rebuild_tensor, _rebuild_parameter) and isinstance(args, tuple):
        return func(*args)
    return None


class _Unpickler(pickle.Unpickler):
    """Resolves every global to a stand-in; storages from persistent ids to records."""

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)
        self.globals: dict[tuple[str, str], Any] = {}
        self.names: list[str] = []  # classes named, for TorchScript module types

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module.startswith("torch"):
            if name in REBUILD_TENSOR:
                return _rebuild_tensor
            if name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
                return _rebuild_parameter
            if name == "_rebuild_from_type_v2":
                return _rebuild_from_type_v2
            if name == "Size":
                return tuple
            if name in STORAGE_DTYPES or name == "UntypedStorage":
                return _storage_type(STORAGE_DTYPES.get(name, "uint8"))
            if module == "torch" and name in TORCH_DTYPES:
                return _DType(name)
        key = (module, name)
        if key not in self.globals:
            if len(self.globals) >= MAX_GLOBALS:
                raise pickle.UnpicklingError(f"more than {MAX_GLOBALS} globals")
            self.globals[key] = type(name, (_Opaque,), {"qualname": f"{module}.{name}"})
            self.names.append(f"{module}.{name}")
        return self.globals[key]

    def persistent_load(self, pid: Any) -> Any:
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage":
            storage_type = pid[1]
            dtype = getattr(storage_type, "dtype", None)
            if isinstance(storage_type, _DType):  # UntypedStorage pickles name the dtype
                dtype = storage_type.name
            return _Storage(dtype if isinstance(dtype, str) else "unknown", str(pid[2]))
        return None


def _storage_type(dtype: str) -> Any:
    return type(f"Storage_{dtype}", (_Opaque,), {"dtype": dtype})


class _Bounded(io.RawIOBase):
    """A stream that refuses to give more than ``limit`` bytes (a pickle is read through it)."""

    def __init__(self, stream: IO[bytes], limit: int, path: str) -> None:
        self.stream, self.left, self.path = stream, limit, path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            raise InputError(f"{self.path}: the object pickle exceeds {MAX_PICKLE} bytes")
        data = self.stream.read(min(len(buffer), self.left))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _unpickle(stream: Any, path: str) -> tuple[Any, list[str]]:
    unpickler = _Unpickler(stream)
    try:
        return unpickler.load(), unpickler.names
    except InputError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, MemoryError, RecursionError, UnicodeDecodeError) as exc:
        raise InputError(f"invalid PyTorch file {path}: {type(exc).__name__}: {exc}") from None


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


class TorchNotRead(Exception):
    """The file is not read here (not a PyTorch layout, or a zip on a stream that cannot seek)."""


def capture_torch(stream: IO[bytes], *, path: str, size: int) -> bytes:
    """A JSON summary of the tensors in the PyTorch file ``stream`` (positioned at 0)."""
    head = stream.read(2)
    if head == b"PK":
        if not _seekable(stream):
            raise TorchNotRead(f"{path}: a zip archive on a stream that cannot seek; not read")
        stream.seek(0)
        obj, names, torchscript = _from_zip(stream, path)
        return _summary(obj, names, layout="zip", torchscript=torchscript)
    if head[:1] == b"\x80":  # a pickle protocol opcode: the legacy layout
        first = io.BufferedReader(_Chain(io.BytesIO(head), _Bounded(stream, MAX_PICKLE, path)))
        try:
            magic, _ = _unpickle(first, path)
        except InputError:  # a .bin of some other kind that happens to start with 0x80
            magic = None
        if magic != LEGACY_MAGIC:
            raise TorchNotRead(f"{path}: a pickle, but not a PyTorch checkpoint (no magic number)")
        _unpickle(first, path)  # protocol version
        _unpickle(first, path)  # system info
        obj, names = _unpickle(first, path)
        return _summary(obj, names, layout="legacy")
    raise TorchNotRead(f"{path}: neither a zip archive nor a pickle; not a PyTorch file")


class _Chain(io.RawIOBase):
    """Two streams read one after the other (the two bytes sniffed, then the rest)."""

    def __init__(self, first: Any, second: Any) -> None:
        self.parts = [first, second]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.parts:
            data = self.parts[0].read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self.parts.pop(0)
        return 0


def _from_zip(stream: IO[bytes], path: str) -> tuple[Any, list[str], bool]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"invalid PyTorch file {path}: {exc}") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise InputError(f"{path}: more than {MAX_MEMBERS} zip members")
        pickles = [m for m in members if m.filename.count("/") == 1
                   and m.filename.endswith("/data.pkl")]  # fmt: skip
        if len(pickles) != 1:
            raise TorchNotRead(f"{path}: a zip archive without one <root>/data.pkl; not PyTorch")
        member = pickles[0]
        if member.file_size > MAX_PICKLE:
            raise InputError(f"{path}: data.pkl is {member.file_size} bytes, over {MAX_PICKLE}")
        root = member.filename.split("/")[0]
        torchscript = any(m.filename.startswith(f"{root}/code/") for m in members)
        try:
            with archive.open(member) as f:
                data = f.read(MAX_PICKLE + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise InputError(f"invalid PyTorch file {path}: {exc}") from None
    if len(data) > MAX_PICKLE:
        raise InputError(f"{path}: data.pkl inflates past {MAX_PICKLE} bytes")
    obj, names = _unpickle(io.BytesIO(data), path)
    return obj, names, torchscript


def _tensors(obj: Any) -> list[_Tensor]:
    """Tensor records reachable from ``obj``, each storage view once (tied weights count once)."""
    found: dict[tuple[Any, ...], _Tensor] = {}
    seen: set[int] = set()
    stack = [obj]
    walked = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float, bool, type(None))):
            continue
        seen.add(id(item))
        walked += 1
        if walked > MAX_OBJECTS:
            raise InputError(f"more than {MAX_OBJECTS} objects in the pickle")
        if isinstance(item, _Tensor):
            found.setdefault((item.key, item.offset, item.shape, item.dtype), item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, _Opaque):
            stack.extend(getattr(item, "args", ()))
            stack.append(getattr(item, "state", None))
            stack.extend(v for k, v in vars(item).items() if k not in ("args", "state"))
    return list(found.values())


def _summary(obj: Any, names: list[str], *, layout: str, torchscript: bool = False) -> bytes:
    tensors = _tensors(obj)
    modules = sorted({n for n in names if n.startswith("__torch__.")})
    root = obj.qualname if isinstance(obj, _Opaque) else ""
    return json.dumps({
        "layout": "torchscript" if torchscript else layout,
        # a TorchScript archive's root object is the scripted network's class (__torch__.Net)
        "root": root.removeprefix("__torch__.") if root.startswith("__torch__.") else None,
        "tensors": [[t.dtype, math.prod(t.shape)] for t in tensors],
        "modules": modules[:50],
    }).encode()


def parse_torch(summary: bytes, *, path: str) -> WeightFacts:
    """WeightFacts from what :func:`capture_torch` kept."""
    data = json.loads(summary)
    tensors = data["tensors"]
    metadata: dict[str, Any] = {"layout": data["layout"]}
    if data["modules"]:
        metadata["torchscript_modules"] = data["modules"]
    return WeightFacts(
        path=path,
        format="pt",
        tensor_count=len(tensors),
        parameter_count=sum(n for _, n in tensors),
        dtypes=tuple(sorted({d for d, _ in tensors})),
        architecture=data.get("root"),
        metadata=metadata,
    )
