"""Registries and producers of the outer loop: the legacy `cnai` namespace Harbor <= 2.15 shows
as a model (`attest pack --media-types cnai`), and AIKit's packager output."""

from __future__ import annotations

import json
from pathlib import Path

from attest.oci.config_schema import validate_image_manifest
from attest.oci.layout import LayoutStore
from tests.helpers import REPO_ROOT, run_attest

MODEL = REPO_ROOT / "testdata" / "models" / "tiny-llm"
AIKIT = REPO_ROOT / "testdata" / "vectors" / "aikit" / "layout"
# what Harbor v2.13-v2.15's cnai processor matches (modelpack.md / homes-and-handoff.md §8.3)
HARBOR_CNAI_ARTIFACT_TYPE = "application/vnd.cnai.model.manifest.v1+json"


def _manifest(layout: Path, tag: str) -> dict:
    store = LayoutStore(str(layout))
    return json.loads(store.get_manifest(tag).data)


def test_pack_cnai_is_the_same_artifact_in_the_legacy_namespace(tmp_path: Path) -> None:
    for ns in ("cncf", "cnai"):
        done = run_attest("pack", str(MODEL), "--to", f"oci:{tmp_path / ns}:v1",
                          "--no-creation-time", "--media-types", ns)  # fmt: skip
        assert done.returncode == 0, done.stderr
    cncf, cnai = _manifest(tmp_path / "cncf", "v1"), _manifest(tmp_path / "cnai", "v1")
    validate_image_manifest(cnai)
    assert cnai["artifactType"] == HARBOR_CNAI_ARTIFACT_TYPE
    assert cnai["config"]["mediaType"] == "application/vnd.cnai.model.config.v1+json"
    assert cnai["config"]["digest"] == cncf["config"]["digest"]
    assert [layer["digest"] for layer in cnai["layers"]] == [
        layer["digest"] for layer in cncf["layers"]]  # fmt: skip
    text = json.dumps(cnai)
    assert "vnd.cncf" not in text and "org.cncf" not in text
    assert all(layer["mediaType"].startswith("application/vnd.cnai.model.")
               and "org.cnai.model.filepath" in layer["annotations"]
               for layer in cnai["layers"])  # fmt: skip
    inspect = run_attest("inspect", f"oci:{tmp_path / 'cnai'}:v1", "--format", "json")
    assert inspect.returncode == 0, inspect.stderr
    info = json.loads(inspect.stdout)
    assert info["flavour"] == "modelpack-legacy"
    assert sorted(f["path"] for f in info["layers"]) == sorted(
        p.name for p in MODEL.iterdir())  # fmt: skip


def test_aikit_output_is_read_from_its_layers(tmp_path: Path) -> None:
    ref = f"oci:{AIKIT}:latest"
    inspect = run_attest("inspect", ref, "--format", "json")
    assert inspect.returncode == 0, inspect.stderr
    info = json.loads(inspect.stdout)
    assert info["flavour"] == "modelpack" and info["config"] == {}
    assert "'descriptor' is a required property" in info["configErrors"][0]
    assert "reading the model from its layers only" in inspect.stderr
    facts = run_attest("facts", ref, "--format", "json")
    assert facts.returncode == 0, facts.stderr
    data = json.loads(facts.stdout)
    text = json.dumps(data)
    assert "model.safetensors" in text and "Apache-2.0" in text
