"""Issue 13 item 8: inference code shipped beside a model is found; Model architecture evidence
is the file that defines the network, not a loader, downloader or training script."""

from __future__ import annotations

import pytest

from attest.facts.model import FileFact
from attest.mof.file_rules import file_components


def components(path: str) -> set[str]:
    f = FileFact(path=path, size=1, sha256="sha256:" + "0" * 64, role="code",
                 media_type="application/octet-stream")
    return {c for c, _ in file_components(f)}


@pytest.mark.parametrize("path", [
    "run.py", "app.py", "main.py", "example_usage.py", "onnx_inference.py", "predict.py",
    "transcribe.py", "examples/quick.py", "demo/app.py", "cli.py", "synthesize.py",
])
def test_inference_code_is_found(path: str) -> None:
    assert "inference-code" in components(path)


@pytest.mark.parametrize("path", ["run_train.py", "main_eval.py", "scripts/train.py"])
def test_training_or_evaluation_scripts_are_not_inference(path: str) -> None:
    assert "inference-code" not in components(path)


@pytest.mark.parametrize("path", [
    "model.py", "modeling_tiny.py", "models/unet.py", "network.py", "model_def.py",
])
def test_architecture_is_the_defining_file(path: str) -> None:
    assert "model-architecture" in components(path)


@pytest.mark.parametrize("path", [
    "models/download.py", "models/loader.py", "model/train.py", "models/__init__.py",
    "models/convert_weights.py", "load_model.py", "download_model.py", "export_model.py",
])
def test_loaders_downloaders_and_training_are_not_architecture(path: str) -> None:
    assert "model-architecture" not in components(path)
