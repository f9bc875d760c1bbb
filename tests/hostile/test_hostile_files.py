"""Hostile model files and documents exit 2 in bounded time and memory (issue 11, item 10):
YAML alias bombs and deep nesting in README front matter, 100k-deep JSON in configs, manifests
and safetensors headers, deeply nested ONNX, symlink loops in a model directory, absurd shapes.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from attest.modelpack import media
from attest.oci import mediatypes as mt
from attest.oci.layout import LayoutStore
from attest.oci.store import Descriptor
from tests.helpers import make_model_dir, push_raw_blob
from tests.hostile.hostile_artifacts import run_cli

pytestmark = pytest.mark.timeout(120)  # a hang guard: before, some of these never returned

DEEP = 100_000


def _alias_bomb(levels: int = 6) -> str:
    """Each level lists the previous one ten times: 10**levels values from a few lines."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


FRONT_MATTER = {
    "alias-bomb": _alias_bomb(),
    "deep-flow": "x: " + "[" * DEEP + "]" * DEEP + "\n",
    "deep-block": "".join("  " * i + f"k{i}:\n" for i in range(2000)) + "  " * 2000 + "v\n",
}


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model_dir(tmp_path / "model")


@pytest.mark.parametrize("case", sorted(FRONT_MATTER))
def test_hostile_front_matter_is_bad_input_for_facts_and_card_lint(
    case: str, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = model / "README.md"
    readme.write_text("---\n" + FRONT_MATTER[case] + "---\n# Tiny\n")
    code, err = run_cli(capsys, "facts", str(model))
    assert code == 2, err
    assert "README.md" in err
    code, err = run_cli(capsys, "card", "lint", str(readme))
    assert code == 2, err


def test_an_alias_bomb_in_attest_yaml_is_bad_input(
    model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (model / "attest.yaml").write_text("name: x\n" + _alias_bomb())
    code, err = run_cli(capsys, "facts", str(model))
    assert code == 2, err


def test_deep_json_in_a_model_config_is_bad_input(
    model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (model / "config.json").write_text('{"a": ' + "[" * DEEP + "]" * DEEP + "}")
    code, err = run_cli(capsys, "facts", str(model))
    assert code == 2, err
    assert "config.json" in err


def _safetensors(path: Path, header: bytes, data: bytes = b"") -> None:
    header += b" " * (-len(header) % 8)
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def test_deep_json_in_a_safetensors_header_is_bad_input(
    model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _safetensors(model / "model.safetensors", b'{"a": ' + b"[" * DEEP + b"]" * DEEP + b"}")
    code, err = run_cli(capsys, "facts", str(model))
    assert code == 2, err
    assert "model.safetensors" in err


def test_an_absurd_safetensors_shape_is_bad_input(
    model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A million dimensions of 2**62: multiplying them out was the attack."""
    shape = ",".join(["4611686018427387904"] * 1_000_000)
    header = '{"w": {"dtype": "F32", "shape": [' + shape + '], "data_offsets": [0, 4]}}'
    _safetensors(model / "model.safetensors", header.encode(), b"\0" * 4)
    code, err = run_cli(capsys, "facts", str(model))
    assert code == 2, err


def _field(number: int, payload: bytes) -> bytes:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)

    return varint(number << 3 | 2) + varint(len(payload)) + payload


def test_deeply_nested_onnx_is_bad_input(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """graph -> node -> attribute -> graph -> ... ten thousand times (a valid wire format)."""
    graph = b""
    for _ in range(10_000):
        attribute = _field(6, graph)  # AttributeProto.g
        node = _field(5, attribute)  # NodeProto.attribute
        graph = _field(1, node)  # GraphProto.node
    (model / "model.onnx").write_bytes(_field(7, graph))  # ModelProto.graph
    code, err = run_cli(capsys, "facts", str(model))
    assert code == 2, err
    assert "model.onnx" in err


@pytest.mark.parametrize("command", ["facts", "pack"])
def test_a_symlink_loop_in_a_model_directory_is_bad_input(
    command: str, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (model / "loop-a").symlink_to("loop-b")
    (model / "loop-b").symlink_to("loop-a")
    args = [command, str(model)]
    if command == "pack":
        args += ["--to", f"oci:{tmp_path / 'out'}:v1"]
    code, err = run_cli(capsys, *args)
    assert code == 2, err
    assert "loop" in err


def _layout_manifest(tmp_path: Path, manifest: bytes, config: bytes | None = None) -> str:
    store = LayoutStore(tmp_path / "layout", create=True)
    if config is not None:
        push_raw_blob(store, config, mt.MODEL_CONFIG)
    desc = Descriptor.for_bytes(mt.OCI_MANIFEST, manifest)
    store.push_bytes(desc, manifest)  # push_manifest would parse it: the bytes go in as they are
    index = json.loads((tmp_path / "layout" / "index.json").read_text())
    entry = desc.to_dict()
    entry["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
    index["manifests"].append(entry)
    (tmp_path / "layout" / "index.json").write_text(json.dumps(index))
    return f"oci:{tmp_path / 'layout'}:v1"


def test_a_deep_manifest_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = b'{"schemaVersion": 2, "x": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    ref = _layout_manifest(tmp_path, deep)
    code, err = run_cli(capsys, "inspect", ref)
    assert code == 2, err


def test_a_deep_config_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    config = b'{"x": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}"
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "artifactType": mt.MODEL_ARTIFACT_TYPE,
        "config": {"mediaType": mt.MODEL_CONFIG, "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": media.model_layer_type("doc", "raw"), "size": 1,
                    "digest": "sha256:" + hashlib.sha256(b"x").hexdigest(),
                    "annotations": {mt.ANNOTATION_FILEPATH: "x.txt"}}],
    }).encode()  # fmt: skip
    ref = _layout_manifest(tmp_path, manifest, config)
    code, err = run_cli(capsys, "inspect", ref)
    assert code == 2, err
