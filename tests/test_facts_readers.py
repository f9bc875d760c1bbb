"""The fact readers on hand-made bytes: GGUF, ONNX, safetensors capture, HF files, cards,
licences, attest.yaml. Every reader is also fed bad input, which must fail naming the file."""

from __future__ import annotations

import io
import json
import logging
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from attest.errors import InputError
from attest.facts import hf
from attest.facts.card import card_license, parse_card, split_front_matter
from attest.facts.declared import load_declared, parse_declared
from attest.facts.gguf import (
    FILE_TYPES,
    GGML_TYPES,
    NeedMoreData,
    UnsupportedGGUF,
    capture_gguf_header,
    parse_gguf,
)
from attest.facts.licenses import (
    LicenseMatch,
    detect_license_text,
    is_license_file,
    normalize_license,
    spdx_header,
)
from attest.facts.onnx import onnx_installed
from attest.facts.weights import HeaderNotRead, capture_header, weight_facts, weight_format
from tests.helpers import REPO_ROOT

MODELS = REPO_ROOT / "testdata" / "models"

# -- GGUF -------------------------------------------------------------------------------------

U32, I32, F32, BOOL, STRING, ARRAY, U64 = 4, 5, 6, 7, 8, 9, 10


def gstr(s: str, e: str = "<") -> bytes:
    raw = s.encode()
    return struct.pack(e + "Q", len(raw)) + raw


def gguf(
    kvs: list[tuple[str, int, Any]],
    tensors: list[tuple[str, int, list[int]]],
    *,
    version: int = 3,
    endian: str = "<",
    data: bytes = b"",
) -> bytes:
    out = b"GGUF" + struct.pack(endian + "IQQ", version, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += gstr(key, endian) + struct.pack(endian + "I", vtype)
        if vtype == STRING:
            out += gstr(value, endian)
        elif vtype == ARRAY:
            item_type, items = value
            out += struct.pack(endian + "IQ", item_type, len(items))
            for item in items:
                if item_type == STRING:
                    out += gstr(item, endian)
                else:
                    out += struct.pack(endian + {U32: "I", I32: "i", F32: "f"}[item_type], item)
        else:
            out += struct.pack(
                endian + {U32: "I", I32: "i", F32: "f", BOOL: "?", U64: "Q"}[vtype], value
            )
    for name, ggml_type, dims in tensors:
        out += gstr(name, endian) + struct.pack(endian + "I", len(dims))
        out += struct.pack(f"{endian}{len(dims)}Q", *dims) + struct.pack(
            endian + "IQ", ggml_type, 0
        )
    out += b"\0" * (-len(out) % 32)
    return out + data


LLAMA_KVS: list[tuple[str, int, Any]] = [
    ("general.architecture", STRING, "llama"),
    ("general.name", STRING, "hand-made"),
    ("general.file_type", U32, 15),
    ("llama.context_length", U32, 4096),
    ("tokenizer.ggml.tokens", ARRAY, (STRING, [f"t{i}" for i in range(100)])),
    ("tokenizer.ggml.scores", ARRAY, (F32, [0.5] * 100)),
    ("tokenizer.chat_template", STRING, "{{ messages }}"),
]
LLAMA_TENSORS = [("token_embd.weight", 12, [64, 100]), ("output_norm.weight", 0, [64])]


def test_gguf_facts_from_header() -> None:
    facts = parse_gguf(gguf(LLAMA_KVS, LLAMA_TENSORS), path="m.gguf")
    assert facts.format == "gguf"
    assert facts.architecture == "llama"
    assert facts.quantization == "MOSTLY_Q4_K_M" == FILE_TYPES[15]
    assert facts.context_length == 4096
    assert facts.tensor_count == 2
    assert facts.parameter_count == 64 * 100 + 64
    assert facts.dtypes == ("F32", "Q4_K")
    assert facts.metadata["general.name"] == "hand-made"
    # A vocabulary is summarised, not copied into the facts; a short template is kept.
    assert facts.metadata["tokenizer.ggml.tokens"] == "<array of 100 str>"
    assert facts.metadata["tokenizer.chat_template"] == "{{ messages }}"
    json.dumps(facts.metadata)


def test_gguf_committed_model() -> None:
    data = (MODELS / "tiny-gguf" / "tiny.gguf").read_bytes()
    facts = parse_gguf(data, path="tiny.gguf", file_size=len(data))
    assert (facts.architecture, facts.quantization, facts.context_length) == (
        "llama",
        "MOSTLY_F16",
        64,
    )
    assert facts.parameter_count == 8 * 16 + 8


def test_gguf_type_tables_match_the_reference_reader() -> None:
    # PyPI gguf (ggml's own Python package, a test dependency) is the outside reference.
    import gguf as reference

    ours = dict(GGML_TYPES)
    assert {t.value: t.name for t in reference.GGMLQuantizationType} == ours
    theirs = {t.value: t.name for t in reference.LlamaFileType}
    # llama.h still defines 4 (LLAMA_FTYPE_MOSTLY_Q4_1_SOME_F16); gguf-py dropped it.
    assert theirs == {k: v for k, v in FILE_TYPES.items() if k != 4}
    assert FILE_TYPES[4] == "MOSTLY_Q4_1_SOME_F16"


def test_gguf_writer_here_and_committed_model_read_by_the_reference_reader(
    tmp_path: Path,
) -> None:
    # The bytes these tests hand-make, and tiny.gguf, are what ggml's own reader sees too.
    from gguf import GGUFReader

    # Quantized rows are whole blocks (Q4_K: 256 values in 144 bytes); both tensors start at 0.
    tensors = [("token_embd.weight", 12, [256, 4]), ("output_norm.weight", 0, [64])]
    hand_made = tmp_path / "m.gguf"
    hand_made.write_bytes(gguf(LLAMA_KVS, tensors, data=b"\0" * (144 * 4)))
    for path in (hand_made, MODELS / "tiny-gguf" / "tiny.gguf"):
        data = path.read_bytes()
        ours = parse_gguf(data, path=path.name, file_size=len(data))
        reader = GGUFReader(path)
        assert ours.tensor_count == len(reader.tensors)
        assert set(ours.dtypes) == {t.tensor_type.name for t in reader.tensors}
        assert ours.parameter_count == sum(int(t.n_elements) for t in reader.tensors)
        file_type = reader.fields["general.file_type"]
        assert ours.quantization == FILE_TYPES[int(file_type.parts[file_type.data[0]][0])]


def test_gguf_unknown_types_are_marked_and_warned(caplog: pytest.LogCaptureFixture) -> None:
    kvs = [("general.architecture", STRING, "llama"), ("general.file_type", U32, 999)]
    with caplog.at_level(logging.WARNING, logger="attest.facts.gguf"):
        facts = parse_gguf(gguf(kvs, [("w", 77, [4]), ("b", 0, [4])]), path="new.gguf")
    assert facts.dtypes == ("F32", "UNKNOWN(77)")  # never a name that looks like a real type
    assert facts.quantization is None
    warned = [r.getMessage() for r in caplog.records]
    assert any("new.gguf: tensor type 77 is unknown" in m for m in warned), warned
    assert any("new.gguf: general.file_type 999 is unknown" in m for m in warned), warned


def test_gguf_big_endian_and_v2() -> None:
    be = parse_gguf(gguf(LLAMA_KVS[:4], LLAMA_TENSORS, endian=">"), path="be.gguf")
    assert be.architecture == "llama" and be.parameter_count == 6464
    v2 = parse_gguf(gguf(LLAMA_KVS[:4], LLAMA_TENSORS, version=2), path="v2.gguf")
    assert v2.metadata["gguf.version"] == 2


def test_gguf_parameter_count_falls_back_to_metadata() -> None:
    kvs = [("general.architecture", STRING, "x"), ("general.parameter_count", U64, 7_000)]
    assert parse_gguf(gguf(kvs, []), path="p.gguf").parameter_count == 7_000


def test_gguf_truncated_asks_for_more_or_fails_naming_the_file() -> None:
    whole = gguf(LLAMA_KVS, LLAMA_TENSORS)
    with pytest.raises(NeedMoreData) as more:
        parse_gguf(whole[:40], path="m.gguf", file_size=10_000)
    assert more.value.needed > 40
    with pytest.raises(InputError, match=r"invalid GGUF file m\.gguf: truncated"):
        parse_gguf(whole[:40], path="m.gguf", file_size=40)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"GGML" + b"\0" * 40, "no GGUF magic"),
        (b"GGUF" + struct.pack("<IQQ", 9, 0, 0), "unknown version 9"),
        (b"GGUF" + struct.pack("<IQQ", 3, 1 << 40, 0), "tensors"),
        (gguf(LLAMA_KVS, LLAMA_TENSORS)[:60], "truncated"),
    ],
)
def test_gguf_corrupt_headers(data: bytes, why: str) -> None:
    with pytest.raises(InputError, match=f"bad.gguf.*{why}"):
        parse_gguf(data, path="bad.gguf", file_size=len(data))


def test_gguf_duplicate_key_and_unknown_type() -> None:
    dup = gguf([("k", U32, 1), ("k", U32, 2)], [])
    with pytest.raises(InputError, match="appears twice"):
        parse_gguf(dup, path="d.gguf", file_size=len(dup))
    bad = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gstr("k") + struct.pack("<I", 77)
    with pytest.raises(InputError, match="unknown value type 77"):
        parse_gguf(bad, path="t.gguf", file_size=len(bad))


def test_gguf_version_1_is_described_by_format_only() -> None:
    v1 = b"GGUF" + struct.pack("<III", 1, 0, 0)
    with pytest.raises(UnsupportedGGUF):
        parse_gguf(v1, path="old.gguf")
    header = capture_header("gguf", io.BytesIO(v1), path="old.gguf", size=len(v1))
    with pytest.raises(HeaderNotRead, match="version 1"):
        weight_facts("gguf", header, path="old.gguf", size=len(v1))


def test_gguf_capture_reads_the_header_not_the_weights() -> None:
    # 200 kv strings (~60 KiB of metadata) force the buffer to grow; 4 MiB of tensor data follow.
    kvs = [(f"meta.k{i}", STRING, "v" * 300) for i in range(200)] + LLAMA_KVS
    head = gguf(kvs, LLAMA_TENSORS)
    stream = io.BytesIO(head + b"\x01" * (4 << 20))
    size = len(stream.getbuffer())
    captured = capture_gguf_header(stream.read, path="m.gguf", file_size=size)
    assert head.startswith(captured) and len(captured) <= len(head)
    assert stream.tell() <= 2 * len(head) + 64 * 1024  # doubling: at most ~2x the header
    assert parse_gguf(captured, path="m.gguf", file_size=len(captured)).tensor_count == 2


# -- safetensors capture ----------------------------------------------------------------------


def safetensors_bytes(header: dict[str, Any], data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def test_safetensors_capture_is_exactly_the_header() -> None:
    blob = safetensors_bytes(
        {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8
    )
    stream = io.BytesIO(blob)
    header = capture_header("safetensors", stream, path="m.safetensors", size=len(blob))
    assert stream.tell() == len(header) == len(blob) - 8
    facts = weight_facts("safetensors", header, path="m.safetensors", size=len(blob))
    assert (facts.tensor_count, facts.parameter_count, facts.dtypes) == (1, 2, ("F32",))


@pytest.mark.parametrize(
    ("blob", "why"),
    [
        (b"\x01\x02", "too short"),
        (struct.pack("<Q", 1 << 40) + b"{}", "exceeds"),
        (struct.pack("<Q", 100) + b"{}", "runs past the end"),
        (
            safetensors_bytes(
                {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8
            ),
            "bytes for",
        ),
        (struct.pack("<Q", 4) + b"nope", "does not start"),
    ],
)
def test_safetensors_corrupt_header_names_the_file(blob: bytes, why: str) -> None:
    with pytest.raises(InputError, match=f"m.safetensors.*{why}") as err:
        header = capture_header(
            "safetensors", io.BytesIO(blob), path="m.safetensors", size=len(blob)
        )
        weight_facts("safetensors", header, path="m.safetensors", size=len(blob))
    assert err.value.exit_code == 2


def test_weight_formats_by_name() -> None:
    assert weight_format("a/model.SAFETENSORS") == "safetensors"
    assert weight_format("pytorch_model.bin") == "pt"
    assert weight_format("x.gguf") == "gguf"
    assert weight_format("weights.data-00001") == "unknown"
    with pytest.raises(HeaderNotRead):
        capture_header("pt", io.BytesIO(b""), path="x.bin", size=0)


# -- ONNX -------------------------------------------------------------------------------------

needs_onnx = pytest.mark.skipif(
    not onnx_installed(), reason="the onnx extra is not installed (test extra; fails under CI)"
)


def onnx_model(n_weights: int = 8) -> bytes:
    from onnx import TensorProto, helper

    w = helper.make_tensor(
        "W", TensorProto.FLOAT, [n_weights // 2, 2], [0.0] * n_weights, raw=False
    )
    w.raw_data = b"\0" * (4 * n_weights)
    del w.float_data[:]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", n_weights // 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        initializer=[w],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="p", producer_version="2"
    )
    return model.SerializeToString()


class NoSeek(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        chunk = self._inner.read(len(buf))
        buf[: len(chunk)] = chunk
        return len(chunk)


@needs_onnx
def test_onnx_facts_without_loading_the_weights() -> None:
    from attest.facts.onnx import reduce_onnx

    blob = onnx_model(1 << 20)  # 4 MiB of weights inside the file
    stream = io.BytesIO(blob)
    reduced = reduce_onnx(stream, path="m.onnx", size=len(blob))
    assert len(reduced) < 1024  # the structure, not the weights
    facts = weight_facts("onnx", reduced, path="m.onnx", size=len(blob))
    assert facts.opset == 13
    assert facts.producer == "p 2"
    assert facts.inputs == ("x: float[n,524288]",)
    assert facts.outputs == ("y: float[n,2]",)
    assert (facts.tensor_count, facts.parameter_count, facts.dtypes) == (1, 1 << 20, ("FLOAT",))
    # Without seek the stream is read through, and the result is the same.
    assert reduce_onnx(NoSeek(blob), path="m.onnx", size=len(blob)) == reduced


@needs_onnx
def test_onnx_committed_model() -> None:
    blob = (MODELS / "tiny-onnx" / "model.onnx").read_bytes()
    header = capture_header("onnx", io.BytesIO(blob), path="model.onnx", size=len(blob))
    facts = weight_facts("onnx", header, path="model.onnx", size=len(blob))
    assert (facts.opset, facts.producer, facts.architecture) == (
        17,
        "attest-testdata 1.0",
        "tiny_linear",
    )
    assert facts.inputs == ("x: float[batch,4]",) and facts.parameter_count == 10


@needs_onnx
def test_onnx_unseekable_and_too_large_is_not_streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    from attest.facts import onnx as onnx_reader

    monkeypatch.setattr(onnx_reader, "MAX_STREAM_THROUGH", 10)
    with pytest.raises(HeaderNotRead, match="cannot seek"):
        capture_header("onnx", NoSeek(onnx_model()), path="m.onnx", size=100)


def test_onnx_corrupt_names_the_file() -> None:
    with pytest.raises(InputError, match="invalid ONNX file bad.onnx"):
        capture_header("onnx", io.BytesIO(b"\x0a\xff\xff\xff"), path="bad.onnx", size=4)
    with pytest.raises(InputError, match="invalid ONNX file bad.onnx"):
        capture_header("onnx", io.BytesIO(b"\x0f\x00"), path="bad.onnx", size=2)


def test_onnx_without_the_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(HeaderNotRead, match=r"attest\[onnx\]"):
        weight_facts("onnx", b"", path="m.onnx", size=0)


# -- Hugging Face files -----------------------------------------------------------------------


def test_hf_json_and_tokenizer_files() -> None:
    assert hf.parse_json_file(b'{"a": NaN}', "config.json") == {"a": "NaN"}
    with pytest.raises(InputError, match=r"config\.json:2:\d+: not valid JSON"):
        hf.parse_json_file(b'{"a": 1,\n oops}', "config.json")
    with pytest.raises(InputError, match="config.json is not a JSON object"):
        hf.parse_json_file(b"[1]", "config.json")
    paths = ["tokenizer.json", "sub/vocab.txt", "model.safetensors", "merges.txt"]
    assert hf.tokenizer_files(paths) == ["merges.txt", "sub/vocab.txt", "tokenizer.json"]


@pytest.mark.parametrize(
    ("config", "paths", "expected"),
    [
        ({"chat_template": "{{ x }}"}, [], True),
        ({"chat_template": "  "}, [], False),
        ({"chat_template": [{"name": "default", "template": "{{ x }}"}]}, [], True),
        ({}, ["chat_template.jinja"], True),
        (None, ["tokenizer.json"], False),
    ],
)
def test_chat_template(config: dict[str, Any] | None, paths: list[str], expected: bool) -> None:
    assert hf.has_chat_template(config, paths) is expected


# -- model card -------------------------------------------------------------------------------

CARD = """---
license: apache-2.0
language: en
library_name: transformers
pipeline_tag: text-generation
tags: [a, arxiv:2106.09685]
datasets:
- org/corpus
base_model: org/base
date: 2024-05-01
model-index:
- name: m
  results:
  - task: {type: text-classification}
    dataset: {name: Eval Set, type: org/eval, split: test}
    metrics:
    - {type: accuracy, value: 0.91, name: Accuracy}
    - {type: f1}
---
# The Model

Intro, see https://arxiv.org/abs/2307.09288v2 and https://arxiv.org/pdf/2307.09288.

## Uses

Do things.

```python
# not a heading
```

### Direct use

Nested text.

## Limitations
Some.
"""


def test_card_front_matter_and_sections() -> None:
    notes: list[str] = []
    card = parse_card(CARD, "README.md", notes)
    assert card.license == "Apache-2.0"  # Hugging Face lower case, normalised
    assert card.language == ["en"] and card.tags == ["a", "arxiv:2106.09685"]
    assert (card.library_name, card.pipeline_tag) == ("transformers", "text-generation")
    assert card.datasets == ["org/corpus"] and card.base_model == ["org/base"]
    assert card.front_matter["date"] == "2024-05-01"  # dates become JSON strings
    assert card.title == "The Model"
    assert list(card.sections) == ["Uses", "Limitations"]
    assert "# not a heading" in card.sections["Uses"] and "Nested text." in card.sections["Uses"]
    assert card.arxiv == ["https://arxiv.org/abs/2307.09288", "https://arxiv.org/abs/2106.09685"]
    [metric] = card.metrics
    assert (metric.type, metric.value, metric.name) == ("accuracy", 0.91, "Accuracy")
    assert (metric.task, metric.dataset, metric.split) == (
        "text-classification",
        "org/eval",
        "test",
    )
    assert any("without type or value" in n for n in notes)
    json.dumps(card.front_matter)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("---\nlicense: mit\ntags: [a, b\n---\n", r"README\.md:4"),
        ("---\nlicense: mit\n  bad: indent\n---\n", r"README\.md:3"),
        ("---\nlicense: mit\n", r"README\.md:1: .*never closed"),
        ("---\n- a list\n---\n", r"README\.md:2: .*not a mapping"),
    ],
)
def test_card_malformed_front_matter_names_file_and_line(text: str, where: str) -> None:
    with pytest.raises(InputError, match=where):
        parse_card(text, "README.md")


def test_card_without_front_matter_and_licence_forms() -> None:
    fm, body, _ = split_front_matter("# Title\n", "README.md")
    assert fm == {} and body == "# Title\n"
    assert card_license({"license": "other", "license_name": "my licence"}).spdx_id == (
        "LicenseRef-my-licence"
    )
    assert card_license({"license": ["mit", "apache-2.0"]}).spdx_id == "MIT AND Apache-2.0"
    notes: list[str] = []
    card = parse_card("---\nlicense: Apache 2.0\n---\n", "README.md", notes)
    assert card.license is None and "not an SPDX id" in notes[0]


# -- licences ---------------------------------------------------------------------------------

BSD_GRANT = (
    "Redistribution and use in source and binary forms, with or without\nmodification, are "
    "permitted provided that the following conditions are met:\n"
)
BSD2 = (
    f"Copyright (c) X\n{BSD_GRANT}1. Redistributions of source code ...\n"
    "2. Redistributions in binary form must reproduce the above"
)
BSD3 = BSD2 + "\n3. Neither the name of the copyright holder nor the names..."


@pytest.mark.parametrize(
    ("text", "spdx"),
    [
        ((MODELS / "tiny-llm" / "LICENSE").read_text(), "Apache-2.0"),
        ((MODELS / "tiny-gguf" / "LICENSE").read_text(), "MIT"),
        (BSD2, "BSD-2-Clause"),
        (BSD3, "BSD-3-Clause"),
        ("GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n...", "GPL-3.0-only"),
        ("GNU GENERAL PUBLIC LICENSE\n   Version 2, June 1991\n", "GPL-2.0-only"),
        ("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n", "LGPL-3.0-only"),
        ("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999\n", "LGPL-2.1-only"),
        ("Mozilla Public License Version 2.0\n==================================\n", "MPL-2.0"),
        ("Creative Commons Attribution 4.0 International Public License\n", "CC-BY-4.0"),
        (
            "Creative Commons Attribution-ShareAlike 4.0 International Public License",
            "CC-BY-SA-4.0",
        ),
        ("Creative Commons Legal Code\n\nCC0 1.0 Universal\n", "CC0-1.0"),
        ("This is free and unencumbered software released into the public domain.\n", "Unlicense"),
        (
            "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date",
            "LicenseRef-llama3.1",
        ),
        ("META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n", "LicenseRef-llama3"),
        ("LLAMA 2 COMMUNITY LICENSE AGREEMENT\n", "LicenseRef-llama2"),
        ("CreativeML Open RAIL-M\ndated August 22, 2022\n", "LicenseRef-creativeml-openrail-m"),
        (
            "BigScience RAIL License v1.0\ndated May 19, 2022",
            "LicenseRef-bigscience-bloom-rail-1.0",
        ),
    ],
)
def test_license_texts(text: str, spdx: str) -> None:
    assert detect_license_text(text).spdx_id == spdx


def test_unknown_license_text_is_not_guessed() -> None:
    match = detect_license_text("\n  ACME Model Licence v2\n\nYou may use this model if ...\n")
    assert match.spdx_id is None and match.name == "ACME Model Licence v2"
    # A licence that mentions another by name is not that licence.
    assert detect_license_text("Unlike the Apache License, this one ...").spdx_id is None


@pytest.mark.parametrize(
    ("given", "spdx", "name"),
    [
        ("apache-2.0", "Apache-2.0", None),
        ("MIT", "MIT", None),
        ("mit OR apache-2.0", "MIT OR Apache-2.0", None),
        ("gpl-3.0", "GPL-3.0-only", None),
        ("llama3", "LicenseRef-llama3", "llama3"),
        ("openrail++", "LicenseRef-openrail-plusplus", "openrail++"),
        ("apache-2.0 OR llama3.1", "Apache-2.0 OR LicenseRef-llama3.1", "apache-2.0 OR llama3.1"),
        ("licenseref-acme", "LicenseRef-acme", None),
        ("Apache 2.0", None, "Apache 2.0"),
        ("other", None, "other"),
        ("MIT License", None, "MIT License"),
    ],
)
def test_normalize_license(given: str, spdx: str | None, name: str | None) -> None:
    assert normalize_license(given) == LicenseMatch(spdx, name)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("# SPDX-License-Identifier: Apache-2.0\nimport x\n", "Apache-2.0"),
        ("/* SPDX-License-Identifier: mit */\n", "MIT"),
        ("// SPDX-License-Identifier: MIT OR Apache-2.0\n", "MIT OR Apache-2.0"),
        ("<!-- SPDX-License-Identifier: CC-BY-4.0 -->", "CC-BY-4.0"),
        ("# SPDX-License-Identifier: Weird Thing\n", "Weird Thing"),
        ("import os\n", None),
    ],
)
def test_spdx_headers(head: str, expected: str | None) -> None:
    assert spdx_header(head) == expected


def test_license_file_names() -> None:
    assert all(
        map(is_license_file, ["LICENSE", "LICENSE.txt", "licence.md", "COPYING", "x/LICENSE-MIT"])
    )
    assert not any(map(is_license_file, ["README.md", "licenses.json.bak2x", "unlicensed.py"]))


# -- attest.yaml ------------------------------------------------------------------------------


def test_declared_example_file() -> None:
    declared = load_declared(REPO_ROOT / "testdata" / "attest.example.yaml")
    assert declared.name == "tiny-llm" and declared.version == "0.1.0"
    assert declared.license == "Apache-2.0"
    assert [d.name for d in declared.datasets] == ["some-org/tiny-corpus", "some-org/tiny-eval"]
    assert declared.datasets[0].license == "CC-BY-4.0" and declared.datasets[0].use == "training"
    assert declared.components["Model architecture"] == ["modeling_tiny.py"]
    assert declared.extra == {"contact": "attest@example.org"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nlicence: mit\n", r"attest\.yaml:2: unknown key 'licence'"),
        (
            "datasets:\n  - name: a\n    uze: training\n",
            r"attest\.yaml:3: unknown key 'datasets\[0\]\.uze'",
        ),
        ("name: a\nname: b\n", r"attest\.yaml:2: key 'name' appears twice"),
        ("license: Apache 2.0\n", r"attest\.yaml:1: license: 'Apache 2\.0' is not an SPDX"),
        ("name: a\nsource_commit: XYZ\n", r"attest\.yaml:2: source_commit"),
        ("datasets:\n - name: a\n   bad", r"attest\.yaml:3: not valid YAML"),
        ("components:\n  x: ../up\n", r"attest\.yaml:2: components\.x: .*escapes"),
        ("datasets:\n  - use: training\n", r"attest\.yaml:2: datasets\[0\]: 'name' is a required"),
        ("- a\n", r"attest\.yaml:1: attest\.yaml must be a mapping"),
    ],
)
def test_declared_errors_name_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        parse_declared(text, "attest.yaml")
    assert err.value.exit_code == 2


def test_declared_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_declared(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("")
    assert load_declared(tmp_path / "empty.yaml").name is None
