"""One parameter count per model, by one rule, in the ModelPack config, the SBOMs and the cards
(issue: several exports in one directory were summed; config and SBOM disagreed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attest.facts.model import WeightFacts, model_parameter_count
from attest.modelpack.facts import facts_for_directory
from tests.helpers import run_attest, write_safetensors


def w(path: str, n: int | None, fmt: str = "safetensors") -> WeightFacts:
    return WeightFacts(path=path, format=fmt, parameter_count=n)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([w("model.safetensors", 100)], 100),
        # shards of one checkpoint are summed
        ([w("model-00001-of-00002.safetensors", 60), w("model-00002-of-00002.safetensors", 40)],
         100),
        # the same model exported twice (safetensors + ONNX, two sample rates): not summed
        ([w("model.safetensors", 100), w("model.onnx", 100, "onnx")], 100),
        ([w("model_16k.onnx", 7, "onnx"), w("model_8k.onnx", 7, "onnx")], 7),
        # sharded safetensors beside a single-file export of the same model
        ([w("m-00001-of-00002.safetensors", 60), w("m-00002-of-00002.safetensors", 40),
          w("m.gguf", 100, "gguf")], 100),
        # exports that disagree: no model-level figure (each file keeps its own)
        ([w("model.onnx", 310_000, "onnx"), w("openvino/model.onnx", 1_474_221, "onnx")], None),
        ([w("model.bin", None, "pt")], None),
        ([], None),
    ],
)  # fmt: skip
def test_model_parameter_count(weights: list[WeightFacts], expected: int | None) -> None:
    assert model_parameter_count(weights) == expected


def _sbom_properties(sbom: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in sbom["metadata"]["component"].get("properties", [])}


@pytest.mark.parametrize(("second", "params"), [(False, 12), (True, None)])
def test_config_sbom_and_card_say_the_same_numbers(tmp_path: Path, second: bool,
                                                   params: int | None) -> None:
    model = tmp_path / "m"
    model.mkdir()
    write_safetensors(model / "model.safetensors", {"w": ("BF16", [3, 4])})
    # the same model exported again (equal count) or a different sub-model (different count)
    write_safetensors(model / "export.safetensors",
                      {"w": ("F32", [5, 5]) if second else ("F32", [2, 6])})  # fmt: skip
    (model / "README.md").write_text("# m\n")
    done = run_attest("pack", str(model), "--to", f"oci:{tmp_path / 'lay'}:v1", "--format", "json")
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)["config"]["config"]
    sbom = run_attest("sbom", f"oci:{tmp_path / 'lay'}:v1")
    assert sbom.returncode == 0, sbom.stderr
    props = _sbom_properties(json.loads(sbom.stdout))
    facts = facts_for_directory(model)
    assert facts.parameter_count == params
    if params is None:
        assert "paramSize" not in config and "attest:parameter-count" not in props
    else:
        assert config["paramSize"] == "12" and props["attest:parameter-count"] == "12"
    assert config["precision"] == props["attest:precision"] == "bfloat16,float32"
    per_file = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])}
                for c in json.loads(sbom.stdout)["components"]}  # fmt: skip
    assert per_file["model.safetensors"]["attest:parameter-count"] == "12"


def test_gguf_quantization_reaches_every_sbom(tmp_path: Path) -> None:
    from tests.helpers import REPO_ROOT

    model = REPO_ROOT / "testdata" / "models" / "tiny-gguf"
    cdx = json.loads(run_attest("sbom", str(model)).stdout)
    assert _sbom_properties(cdx)["attest:quantization"] == "MOSTLY_F16"
    spdx = run_attest("sbom", str(model), "--type", "spdx").stdout
    assert "quantization MOSTLY_F16" in spdx
    spdx3 = run_attest("sbom", str(model), "--type", "spdx3").stdout
    assert "quantization MOSTLY_F16" in spdx3
