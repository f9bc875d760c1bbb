"""Versions of a model made by code for the report/diff tests: a re-quantized GGUF, an added
dataset, a changed licence. Built from testdata/make_models.py's own GGUF writer pieces."""

from __future__ import annotations

import importlib.util
import shutil
import struct
from pathlib import Path
from types import ModuleType

from tests.helpers import REPO_ROOT

TINY_GGUF = REPO_ROOT / "testdata" / "models" / "tiny-gguf"
GGML_Q8_0 = 8
MOSTLY_Q8_0 = 7  # llama_ftype
Q8_0_BLOCK = 32  # elements per block: one f16 scale, 32 int8


def make_models() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_models",
                                                  REPO_ROOT / "testdata" / "make_models.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def q8_0_gguf() -> bytes:
    """tiny.gguf re-quantized: the F16 token embedding as Q8_0, general.file_type MOSTLY_Q8_0."""
    mm = make_models()
    dims_embd = [mm.HIDDEN, len(mm.VOCAB)]
    kvs = [
        ("general.architecture", mm.GGUF_STRING, "llama"),
        ("general.name", mm.GGUF_STRING, "tiny-gguf"),
        ("general.license", mm.GGUF_STRING, "MIT"),
        ("general.file_type", mm.GGUF_UINT32, MOSTLY_Q8_0),
        ("general.alignment", mm.GGUF_UINT32, mm.GGUF_ALIGNMENT),
        ("llama.context_length", mm.GGUF_UINT32, mm.CONTEXT),
        ("llama.embedding_length", mm.GGUF_UINT32, mm.HIDDEN),
    ]
    tensors: list[tuple[str, int, list[int], bytes]] = []
    n = mm.numel(dims_embd)
    assert n % Q8_0_BLOCK == 0
    blocks = b"".join(struct.pack("<e", 0.01) + bytes(range(Q8_0_BLOCK))
                      for _ in range(n // Q8_0_BLOCK))  # fmt: skip
    tensors.append(("token_embd.weight", GGML_Q8_0, dims_embd, blocks))
    tensors.append(("output_norm.weight", mm.GGML_F32, [mm.HIDDEN],
                    mm.encode("F32", mm.HIDDEN, 2)))  # fmt: skip
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += mm.gguf_string(key) + struct.pack("<I", vtype)
        out += struct.pack("<I", value) if vtype == mm.GGUF_UINT32 else mm.gguf_string(value)
    data = b""
    for name, gtype, dims, blob in tensors:
        data += b"\0" * (-len(data) % mm.GGUF_ALIGNMENT)
        out += mm.gguf_string(name) + struct.pack("<I", len(dims))
        out += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", gtype, len(data))
        data += blob
    out += b"\0" * (-len(out) % mm.GGUF_ALIGNMENT)
    return out + data


DATASET_YAML = """\
datasets:
  - name: some-org/tiny-corpus
    use: training
    url: https://huggingface.co/datasets/some-org/tiny-corpus
    license: CC-BY-4.0
"""


def gguf_v1(target: Path) -> Path:
    shutil.copytree(TINY_GGUF, target)
    return target


def gguf_v2(target: Path, *, quantize: bool = True, dataset: bool = True,
            relicense: bool = True) -> Path:  # fmt: skip
    """v1 re-quantized to Q8_0, with a declared training dataset, relicensed Apache-2.0."""
    shutil.copytree(TINY_GGUF, target)
    if quantize:
        (target / "tiny.gguf").write_bytes(q8_0_gguf())
    if dataset:
        (target / "attest.yaml").write_text(DATASET_YAML)
    if relicense:
        (target / "LICENSE").write_text(make_models().apache_license_text())
    return target
