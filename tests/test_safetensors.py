"""safetensors header facts (attest.facts.safetensors) and the committed test models."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from attest.errors import InputError
from attest.facts.safetensors import (
    MAX_HEADER_SIZE,
    format_param_size,
    precision_from_dtypes,
    read_safetensors_header,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT / "testdata"
ITEMSIZE = {"F32": 4, "BF16": 2, "F16": 2, "I64": 8, "U8": 1, "BOOL": 1, "F8_E4M3": 1}


def _header(
    tensors: dict[str, tuple[str, list[int]]], metadata: Any = None
) -> tuple[dict[str, Any], int]:
    """A header dict with contiguous offsets, and the size of the data section."""
    header: dict[str, Any] = {} if metadata is None else {"__metadata__": metadata}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = ITEMSIZE[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    return header, offset


def _write(path: Path, header: Any, data_size: int, *, raw: bytes | None = None) -> Path:
    body = raw if raw is not None else json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    path.write_bytes(struct.pack("<Q", len(body)) + body + b"\1" * data_size)
    return path


def _file(tmp_path: Path, tensors: dict[str, tuple[str, list[int]]], metadata: Any = None) -> Path:
    header, size = _header(tensors, metadata)
    return _write(tmp_path / "m.safetensors", header, size)


# --- reading headers --------------------------------------------------------------------------


def test_reads_counts_dtypes_and_metadata(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        {"w": ("F32", [4, 3]), "b": ("BF16", [3]), "e": ("F32", [2, 2, 2]), "s": ("I64", [])},
        {"format": "pt", "note": "hi"},
    )
    info = read_safetensors_header(path)
    assert info.tensor_count == 4
    assert info.dtypes == ("BF16", "F32", "I64")
    assert info.parameter_count == 12 + 3 + 8 + 1  # a scalar (shape []) holds one value
    assert info.metadata == {"format": "pt", "note": "hi"}
    assert info.path == str(path)
    assert info.header_size % 8 == 0


def test_zero_sized_tensors_and_no_metadata(tmp_path: Path) -> None:
    info = read_safetensors_header(_file(tmp_path, {"empty": ("F32", [0, 5])}))
    assert (info.tensor_count, info.parameter_count, info.metadata) == (1, 0, {})


def test_file_without_tensors(tmp_path: Path) -> None:
    info = read_safetensors_header(_write(tmp_path / "e.safetensors", {}, 0))
    assert (info.tensor_count, info.dtypes, info.parameter_count) == (0, (), 0)


def test_offsets_need_not_follow_header_order(tmp_path: Path) -> None:
    header = {
        "b": {"dtype": "U8", "shape": [2], "data_offsets": [3, 5]},
        "a": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]},
    }
    assert read_safetensors_header(_write(tmp_path / "x", header, 5)).parameter_count == 5


def test_unknown_dtype_is_counted_without_a_size_check(tmp_path: Path) -> None:
    header = {"q": {"dtype": "Q9_FUTURE", "shape": [4, 4], "data_offsets": [0, 3]}}
    info = read_safetensors_header(_write(tmp_path / "x", header, 3))
    assert info.dtypes == ("Q9_FUTURE",) and info.parameter_count == 16


def test_reads_the_header_only(tmp_path: Path) -> None:
    # A 4 GiB sparse "weight": reading facts must not touch (or allocate) the data section.
    n = 2**30
    header = {"big": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(body)) + body)
        f.truncate(8 + len(body) + 4 * n)
    assert read_safetensors_header(path).parameter_count == n


def test_committed_tiny_llm() -> None:
    info = read_safetensors_header(TESTDATA / "models" / "tiny-llm" / "model.safetensors")
    assert info.tensor_count == 12
    assert info.dtypes == ("BF16", "F32")
    assert info.parameter_count == 920
    assert info.metadata == {"format": "pt"}
    assert precision_from_dtypes(info.dtypes) == "bfloat16,float32"
    assert format_param_size(info.parameter_count) == "920"


def test_committed_with_modelfile() -> None:
    info = read_safetensors_header(TESTDATA / "models" / "with-modelfile" / "model.safetensors")
    assert (info.tensor_count, info.dtypes, info.parameter_count) == (3, ("F32",), 146)


def test_the_reference_reader_agrees(tmp_path: Path) -> None:
    # PyPI safetensors (Hugging Face's own reader) as the outside oracle, on the committed models
    # and on a file this module's writer made.
    from safetensors import safe_open

    made = _file(tmp_path, {"a": ("F16", [3, 4]), "b": ("BF16", [5])}, {"k": "v"})
    for path in (
        TESTDATA / "models" / "tiny-llm" / "model.safetensors",
        TESTDATA / "models" / "with-modelfile" / "model.safetensors",
        made,
    ):
        ours = read_safetensors_header(path)
        with safe_open(path, framework="numpy") as f:
            names = list(f.keys())
            slices = [f.get_slice(n) for n in names]
            assert ours.tensor_count == len(names)
            assert set(ours.dtypes) == {s.get_dtype() for s in slices}
            assert ours.parameter_count == sum(math.prod(s.get_shape()) for s in slices)
            assert ours.metadata == (f.metadata() or {})


# --- rejecting bad files ------------------------------------------------------------------------


def _raw_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "too short"),
        (b"\x08\0\0\0", "too short"),
        (struct.pack("<Q", 64) + b"{}", "runs past the end"),
        (struct.pack("<Q", MAX_HEADER_SIZE + 1) + b"{}", "exceeds the"),
        (struct.pack("<Q", 2**64 - 1) + b"{}", "exceeds the"),
        (struct.pack("<Q", 8) + b"{not js}", "not valid JSON"),
        (struct.pack("<Q", 8) + b"[1,2]   ", "does not start with '{'"),
        (struct.pack("<Q", 8) + b"\xff\xfe{}    ", "does not start with '{'"),
        (struct.pack("<Q", 0), "does not start with '{'"),
    ],
)
def test_malformed_files_name_the_file(tmp_path: Path, content: bytes, why: str) -> None:
    path = _raw_file(tmp_path, content)
    with pytest.raises(InputError) as exc:
        read_safetensors_header(path)
    assert str(path) in exc.value.message
    assert why in exc.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read safetensors file .*nope"):
        read_safetensors_header(tmp_path / "nope.safetensors")


@pytest.mark.parametrize(
    ("raw", "data_size", "why"),
    [
        (b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
         b'"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1, "duplicate key 'a'"),
        (b'{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}', 4, "NaN is not JSON"),
        (b'{"__metadata__":{"n":1}}', 0, "__metadata__ must map strings to strings"),
        (b'{"__metadata__":["x"]}', 0, "__metadata__ must map strings to strings"),
        (b'{"a":[1]}', 0, "entry is not an object"),
        (b'{"a":{"shape":[1],"data_offsets":[0,1]}}', 1, "has no dtype"),
        (b'{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', 1, "shape must be"),
        (b'{"a":{"dtype":"U8","shape":[true],"data_offsets":[0,1]}}', 1, "shape must be"),
        (b'{"a":{"dtype":"U8","shape":"1","data_offsets":[0,1]}}', 1, "shape must be"),
        (b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}', 1, "data_offsets must be"),
        (b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}', 1, "data_offsets must be"),
        (b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1.0]}}', 1, "data_offsets must be"),
        (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4, "4 bytes for 2 x F32"),
        (b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', 2, "past the 2-byte data"),
        (b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', 3, "starts at 1, expected 0"),
        (b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
         b'"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', 3, "starts at 1, expected 2"),
        (b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', 5, "cover 2 of 5 data bytes"),
    ],
)  # fmt: skip
def test_inconsistent_headers(tmp_path: Path, raw: bytes, data_size: int, why: str) -> None:
    path = _write(tmp_path / "bad.safetensors", None, data_size, raw=raw)
    with pytest.raises(InputError) as exc:
        read_safetensors_header(path)
    assert why in exc.value.message
    assert str(path) in exc.value.message


# --- paramSize and precision ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0"),
        (920, "920"),
        (999, "999"),
        (1_000, "1K"),
        (4_160, "4.2K"),
        (999_999, "1M"),
        (124_439_808, "124M"),
        (999_950_000, "1B"),
        (1_100_000_000, "1.1B"),
        (6_738_415_616, "6.7B"),
        (7_000_000_000, "7B"),
        (9_960_000_000, "10B"),
        (13_015_864_320, "13B"),
        (70_553_706_496, "71B"),
        (1_500_000_000_000, "1.5T"),
    ],
)
def test_format_param_size(n: int, expected: str) -> None:
    assert format_param_size(n) == expected


def test_format_param_size_rejects_negatives() -> None:
    with pytest.raises(ValueError):
        format_param_size(-1)


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        ({"F32"}, "float32"),
        ({"BF16", "F32"}, "bfloat16,float32"),
        (["F16", "F16"], "float16"),
        (("I8", "F8_E4M3", "U8", "BOOL"), "bool,float8_e4m3fn,int8,uint8"),
        ({"F64", "I64", "C64"}, "complex64,float64,int64"),
        ({"bf16"}, "bfloat16"),
        ({"Q9_FUTURE"}, "q9_future"),
        (set(), ""),
    ],
)
def test_precision_from_dtypes(dtypes: Any, expected: str) -> None:
    assert precision_from_dtypes(dtypes) == expected


# --- the committed test models are reproducible ------------------------------------------------


def test_testdata_models_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_models", TESTDATA / "make_models.py")
    assert spec is not None and spec.loader is not None
    make_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_models)
    assert make_models.check(TESTDATA / "models") == []


def test_testdata_models_are_small() -> None:
    for model in (TESTDATA / "models").iterdir():
        total = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
        assert total < 100 * 1024, model.name
