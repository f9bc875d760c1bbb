#!/usr/bin/env python3
"""(Re)create the tiny test models under testdata/models/, byte for byte.

    python testdata/make_models.py            # write testdata/models/
    python testdata/make_models.py --check    # exit 1 if the committed files differ
    python testdata/make_models.py --out DIR  # write somewhere else

Standard library only, no randomness, no clocks: weights come from a fixed integer generator and
are exactly representable in F32, F16 and BF16, so every run on every platform writes the same
bytes. safetensors and GGUF files are written by hand with struct + json, following
https://github.com/huggingface/safetensors (format section) and ggml's docs/gguf.md (v3).
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import struct
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"

# sha256 of the canonical Apache-2.0 text (apache.org LICENSE-2.0.txt, 11358 bytes).
APACHE_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
COPYRIGHT = "2025 The attest authors (test fixture)"

MIT_LICENSE = f"""MIT License

Copyright (c) {COPYRIGHT}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

# --- deterministic weights ---------------------------------------------------------------------


def values(seed: int) -> Iterator[float]:
    """k/1024 with |k| <= 127: 7 significant bits, exact in BF16, F16 and F32."""
    state = seed
    while True:
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        yield ((state >> 33) % 255 - 127) / 1024


def encode(dtype: str, count: int, seed: int) -> bytes:
    gen = values(seed)
    xs = [next(gen) for _ in range(count)]
    if dtype == "F32":
        return struct.pack(f"<{count}f", *xs)
    if dtype == "F16":
        return struct.pack(f"<{count}e", *xs)
    if dtype == "BF16":  # the upper half of the F32 bits; exact for these values
        return b"".join(struct.pack("<f", x)[2:] for x in xs)
    raise ValueError(dtype)


def numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


# --- file writers --------------------------------------------------------------------------------


def safetensors_bytes(tensors: dict[str, tuple[str, list[int]]], metadata: dict[str, str]) -> bytes:
    """A valid safetensors file: F32 tensors first (alignment), then by name, data contiguous."""
    itemsize = {"F32": 4, "F16": 2, "BF16": 2}
    order = sorted(tensors, key=lambda name: (-itemsize[tensors[name][0]], name))
    header: dict[str, Any] = {"__metadata__": metadata}
    data = b""
    for seed, name in enumerate(order, start=1):
        dtype, shape = tensors[name]
        blob = encode(dtype, numel(shape), seed)
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(data), len(data) + len(blob)],
        }
        data += blob
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the reference writer pads the header with spaces to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + data


GGUF_UINT32, GGUF_STRING = 4, 8
GGML_F32, GGML_F16 = 0, 1
GGUF_ALIGNMENT = 32


def gguf_string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_bytes(kvs: list[tuple[str, int, Any]], tensors: list[tuple[str, int, list[int]]]) -> bytes:
    """GGUF v3, little-endian: header, metadata KVs, tensor infos, padding, aligned tensor data.

    ``tensors``: (name, ggml type, dims with ne[0] first, as GGUF stores them).
    """
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += gguf_string(key) + struct.pack("<I", vtype)
        if vtype == GGUF_UINT32:
            out += struct.pack("<I", value)
        elif vtype == GGUF_STRING:
            out += gguf_string(value)
        else:
            raise ValueError(vtype)
    data = b""
    for seed, (name, gtype, dims) in enumerate(tensors, start=1):
        data += b"\0" * (-len(data) % GGUF_ALIGNMENT)
        out += gguf_string(name) + struct.pack("<I", len(dims))
        out += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", gtype, len(data))
        data += encode({GGML_F32: "F32", GGML_F16: "F16"}[gtype], numel(dims), seed)
    out += b"\0" * (-len(out) % GGUF_ALIGNMENT)
    return out + data


def apache_license_text() -> str:
    """The canonical Apache-2.0 text, found locally and checked against its sha256."""
    candidates: list[Callable[[], str | None]] = [
        lambda: _read(MODELS / "tiny-llm" / "LICENSE"),
        lambda: _read(Path("/usr/share/common-licenses/Apache-2.0")),
    ]
    for dist in metadata.distributions():  # many wheels ship it, e.g. sigstore, cryptography
        for f in dist.files or []:
            if "LICENSE" in f.name.upper():
                candidates.append(lambda f=f: _read(Path(str(f.locate()))))
    for get in candidates:
        text = get()
        if text is not None and hashlib.sha256(text.encode()).hexdigest() == APACHE_SHA256:
            return text
    raise SystemExit("no local copy of the Apache-2.0 text with the expected sha256 was found")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


# --- the models ----------------------------------------------------------------------------------

VOCAB = ["<unk>", "<s>", "</s>", "the", "a", "model", "tiny", "test", "is", "hello", "world",
         ".", ",", "data", "of", "to"]  # fmt: skip
HIDDEN, INTERMEDIATE, HEADS, LAYERS, CONTEXT = 8, 16, 2, 1, 64


def tiny_llm() -> dict[str, bytes | str]:
    v, h, i = len(VOCAB), HIDDEN, INTERMEDIATE
    tensors: dict[str, tuple[str, list[int]]] = {
        "lm_head.weight": ("BF16", [v, h]),
        "model.embed_tokens.weight": ("BF16", [v, h]),
        "model.norm.weight": ("F32", [h]),
    }
    for n in range(LAYERS):
        p = f"model.layers.{n}."
        tensors |= {
            p + "input_layernorm.weight": ("F32", [h]),
            p + "post_attention_layernorm.weight": ("F32", [h]),
            p + "self_attn.q_proj.weight": ("F32", [h, h]),
            p + "self_attn.k_proj.weight": ("F32", [h, h]),
            p + "self_attn.v_proj.weight": ("F32", [h, h]),
            p + "self_attn.o_proj.weight": ("F32", [h, h]),
            p + "mlp.gate_proj.weight": ("F32", [i, h]),
            p + "mlp.up_proj.weight": ("F32", [i, h]),
            p + "mlp.down_proj.weight": ("F32", [h, i]),
        }
    params = sum(numel(shape) for _, shape in tensors.values())
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": v,
        "hidden_size": h,
        "intermediate_size": i,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": HEADS,
        "max_position_embeddings": CONTEXT,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
        "transformers_version": "4.44.0",
    }
    special = [
        {"id": n, "content": VOCAB[n], "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for n in range(3)
    ]  # fmt: skip
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {t: n for n, t in enumerate(VOCAB)},
                  "unk_token": "<unk>"},
    }  # fmt: skip
    tokenizer_config = {
        "added_tokens_decoder": {str(t["id"]): {k: t[k] for k in t if k != "id"} for t in special},
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "model_max_length": CONTEXT,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "clean_up_tokenization_spaces": False,
        "chat_template": (
            "{{ bos_token }}{% for message in messages %}"
            "{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
            "{% if add_generation_prompt %}assistant: {% endif %}"
        ),
    }
    generation_config = {
        "bos_token_id": 1,
        "eos_token_id": 2,
        "do_sample": False,
        "max_new_tokens": 16,
        "transformers_version": "4.44.0",
    }
    modeling = f'''# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: {COPYRIGHT}
"""Stand-in for the custom modelling code a model repository ships (attest never runs it)."""


def count_parameters(config: dict) -> int:
    """Parameters of a Llama model without tied embeddings, from its config.json."""
    h, v, i = config["hidden_size"], config["vocab_size"], config["intermediate_size"]
    layer = 4 * h * h + 3 * h * i + 2 * h
    return 2 * v * h + config["num_hidden_layers"] * layer + h
'''
    return {
        "model.safetensors": safetensors_bytes(tensors, {"format": "pt"}),
        "config.json": dump_json(config),
        "generation_config.json": dump_json(generation_config),
        "tokenizer.json": dump_json(tokenizer),
        "tokenizer_config.json": dump_json(tokenizer_config),
        "README.md": TINY_LLM_README.format(params=params),
        "LICENSE": apache_license_text(),
        "modeling_tiny.py": modeling,
    }


TINY_LLM_README = """---
license: apache-2.0
language:
- en
datasets:
- some-org/tiny-corpus
base_model: some-org/tiny-base
pipeline_tag: text-generation
library_name: transformers
tags:
- llama
- tiny
- test-fixture
model-index:
- name: tiny-llm
  results:
  - task:
      type: text-generation
      name: Text Generation
    dataset:
      name: tiny-corpus
      type: some-org/tiny-corpus
      split: validation
    metrics:
    - type: perplexity
      value: 812.4
      name: Perplexity
---

# tiny-llm

A {params}-parameter Llama-architecture language model made for attest's tests. Its weights are
a fixed pseudo-random sequence, so it produces noise; it exists to be packed, inspected and
attested, not to be run.

## Model details

- Architecture: `LlamaForCausalLM`, 1 decoder layer, hidden size 8, 2 attention heads,
  vocabulary of 16 words, context of 64 tokens.
- Weights: `model.safetensors`, F32 with BF16 embeddings and output head.
- Developed by: the attest authors. Licence: Apache-2.0.
- Fine-tuned from: `some-org/tiny-base` (a fictional base model).

## Intended use

Testing supply-chain tooling: packaging as a CNCF ModelPack artifact, SBOM generation, model card
and openness (MOF) checks. Not for any other use.

## Limitations

The model has not learned anything. Any text it generates is meaningless.

## Training data

Nominally `some-org/tiny-corpus`, a fictional corpus named here so that tools can follow the
dataset reference. No training actually happened.

## Evaluation

Perplexity on the `validation` split of `some-org/tiny-corpus`: 812.4 (a made-up number recorded
in the `model-index` above).

## Citation

```bibtex
@misc{{attest-tiny-llm,
  title  = {{tiny-llm: a test fixture for attest}},
  author = {{The attest authors}},
  year   = {{2025}}
}}
```
"""


def tiny_gguf() -> dict[str, bytes | str]:
    kvs = [
        ("general.architecture", GGUF_STRING, "llama"),
        ("general.name", GGUF_STRING, "tiny-gguf"),
        ("general.license", GGUF_STRING, "MIT"),
        ("general.file_type", GGUF_UINT32, 1),  # MOSTLY_F16
        ("general.alignment", GGUF_UINT32, GGUF_ALIGNMENT),
        ("llama.context_length", GGUF_UINT32, CONTEXT),
        ("llama.embedding_length", GGUF_UINT32, HIDDEN),
    ]
    tensors = [
        ("token_embd.weight", GGML_F16, [HIDDEN, len(VOCAB)]),  # ne[0] = hidden size
        ("output_norm.weight", GGML_F32, [HIDDEN]),
    ]
    readme = """# tiny-gguf

A two-tensor GGUF v3 file made for attest's tests: `general.architecture=llama`,
`general.name=tiny-gguf`, `general.file_type=1` (mostly F16), `llama.context_length=64`, an F16
token embedding (8 x 16) and an F32 output norm (8). It is not a runnable model (it has no
decoder blocks and no tokenizer).

Licence: MIT (see `LICENSE`).
"""
    return {"tiny.gguf": gguf_bytes(kvs, tensors), "README.md": readme, "LICENSE": MIT_LICENSE}


def with_modelfile() -> dict[str, bytes | str]:
    tensors = {
        "embeddings.weight": ("F32", [len(VOCAB), HIDDEN]),
        "classifier.weight": ("F32", [2, HIDDEN]),
        "classifier.bias": ("F32", [2]),
    }
    params = sum(numel(shape) for _, shape in tensors.values())
    modelfile = f"""# Modelfile for testdata/models/with-modelfile, in modctl's syntax.
# Directive words are case-insensitive ("code" below is deliberate).
NAME tiny-classifier
ARCH transformer
FAMILY bert
FORMAT safetensors
PARAMSIZE {params}
PRECISION float32

CONFIG config.json
MODEL *.safetensors
code scripts/*.py
DOC README.md
DOC LICENSE
DATASET data/*.jsonl

# notes.txt is matched by no directive on purpose: modctl leaves such files out.
"""
    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "vocab_size": len(VOCAB),
        "hidden_size": HIDDEN,
        "num_labels": 2,
        "id2label": {"0": "negative", "1": "positive"},
        "torch_dtype": "float32",
        "transformers_version": "4.44.0",
    }
    rows = [
        {"text": "the tiny model is a test", "label": 1},
        {"text": "hello world", "label": 1},
        {"text": "data of the model", "label": 0},
        {"text": "a test to the world", "label": 0},
    ]
    train = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    script = f'''# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: {COPYRIGHT}
"""Would fine-tune the classifier on data/train.jsonl (a stand-in; never run by attest)."""

import json


def load(path: str = "data/train.jsonl") -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]
'''
    readme = f"""# with-modelfile

A {params}-parameter sentence classifier made for attest's tests, packaged from a `Modelfile`
(modctl syntax) rather than by default file rules. The Modelfile names the weights, config, code,
docs and a `DATASET` (`data/train.jsonl`); `notes.txt` is matched by no directive.

Licence: MIT (see `LICENSE`).
"""
    return {
        "Modelfile": modelfile,
        "model.safetensors": safetensors_bytes(tensors, {"format": "pt"}),
        "config.json": dump_json(config),
        "data/train.jsonl": train,
        "scripts/train.py": script,
        "README.md": readme,
        "LICENSE": MIT_LICENSE,
        "notes.txt": "Scratch notes. No Modelfile directive matches this file.\n",
    }


BUILDERS: dict[str, Callable[[], dict[str, bytes | str]]] = {
    "tiny-llm": tiny_llm,
    "tiny-gguf": tiny_gguf,
    "with-modelfile": with_modelfile,
}


def write_models(out: Path) -> list[Path]:
    written = []
    for model, build in BUILDERS.items():
        for rel, content in build().items():
            path = out / model / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            path.write_bytes(data)
            written.append(path)
    return written


def check(committed: Path) -> list[str]:
    """Relative paths whose committed bytes differ from a fresh build (or are missing/extra)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        write_models(fresh)
        want = {p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file()}
        # only the models this script builds (other generators own other directories)
        have = {
            p.relative_to(committed).as_posix()
            for name in BUILDERS
            for p in (committed / name).rglob("*")
            if p.is_file()
        }
        return sorted(
            rel
            for rel in want | have
            if rel not in want
            or rel not in have
            or not filecmp.cmp(fresh / rel, committed / rel, shallow=False)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODELS, help="output directory")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        diff = check(args.out)
        for rel in diff:
            print(f"differs: {rel}", file=sys.stderr)
        return 1 if diff else 0
    for path in write_models(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
