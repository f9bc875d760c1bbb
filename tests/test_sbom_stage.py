"""Issue acceptance for the SBOM stage, on every testdata model and every format:
validates with the format's own validator, lists every file with its layer digest, names
licence and datasets from the card, round-trips, and is attached as referrers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from attest.intoto import validate_statement
from attest.modelpack.facts import facts_for_reference
from attest.modelpack.pack import pack
from attest.oci.layout import LayoutStore
from attest.oci.referrers import discover
from attest.sbom_read import cyclonedx, spdx2, spdx3
from attest.stages.sbom.stage import FORMATS, sbom_evidence
from tests.helpers import REPO_ROOT, make_model_dir, run_attest

MODELS = ["tiny-llm", "tiny-gguf", "tiny-onnx", "with-modelfile"]
VALIDATE = {
    "cyclonedx": cyclonedx.schema_errors,
    "spdx": spdx2.validate_spdx2,
    "spdx3": spdx3.validate_spdx3,
}
READ_BACK = {
    "cyclonedx": cyclonedx.cyclonedx_to_facts,
    "spdx": spdx2.spdx2_to_facts,
    "spdx3": spdx3.spdx3_to_facts,
}


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    out = {}
    for name in MODELS:
        store = LayoutStore(tmp_path_factory.mktemp(name) / "layout", create=True)
        result = pack(REPO_ROOT / "testdata" / "models" / name, store, "v1", creation_time=False)
        facts = facts_for_reference(store, "v1", f"oci:{store.root}:v1")
        out[name] = (store, result, facts)
    return out


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("model", MODELS)
def test_sbom_is_valid_complete_and_round_trips(packed, model: str, fmt: str) -> None:
    store, result, facts = packed[model]
    evidence = sbom_evidence(facts, fmt)
    doc = json.loads(evidence.document)
    assert VALIDATE[fmt](doc) == [], f"{model} {fmt} fails its official validator"
    back = READ_BACK[fmt](doc)
    # every packed file, with the sha256 equal to its raw layer digest
    layers = {
        layer["annotations"]["org.cncf.model.filepath"]: layer["digest"]
        for layer in result.manifest["layers"]
    }
    assert back["files"] == layers
    # the licence and datasets the card (and LICENSE file) state
    expected_license = {"tiny-llm": "Apache-2.0", "tiny-gguf": "MIT", "tiny-onnx": "MIT"}
    if model in expected_license:
        assert expected_license[model] in json.dumps(back["licenses"] if "licenses" in back
                                                     else back.get("license"))  # fmt: skip
    card_datasets = set(facts.card.datasets) if facts.card else set()
    assert card_datasets <= set(back["datasets"])
    if model == "tiny-llm":
        assert "some-org/tiny-corpus" in set(back["datasets"])
    # the statement is about the packed manifest
    validate_statement(evidence.statement)
    assert evidence.statement["subject"][0]["digest"]["sha256"] == result.descriptor.digest[7:]
    assert evidence.statement["predicate"] == doc


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_same_facts_same_bytes(packed, fmt: str) -> None:
    _, _, facts = packed["tiny-llm"]
    assert sbom_evidence(facts, fmt).document == sbom_evidence(facts, fmt).document


def attest(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_attest(*args, cwd=cwd)


def test_sbom_cli_attach_and_run(tmp_path: Path) -> None:
    model = REPO_ROOT / "testdata" / "models" / "tiny-llm"
    ref = f"oci:{tmp_path}/lay:v1"
    assert attest("pack", str(model), "--to", ref).returncode == 0
    out = tmp_path / "bom.json"
    proc = attest("sbom", ref, "--type", "spdx3", "-o", str(out), "--attach")
    assert proc.returncode == 0, proc.stderr
    assert spdx3.validate_spdx3(json.loads(out.read_text())) == []
    store = LayoutStore(tmp_path / "lay")
    subject = store.get_manifest("v1").descriptor
    found = {r.artifact_type: r for r in discover(store, subject.digest)}
    assert set(found) == {"application/spdx+json", "application/vnd.in-toto+json"}
    document, statement_ref = found["application/spdx+json"], found["application/vnd.in-toto+json"]
    assert document.annotations["org.spdx.version"] == "3.0.1"
    # the document names the referrer that carries its statement
    assert document.annotations["dev.attest.statement.digest"] == statement_ref.descriptor.digest
    # attaching the same document again does not pile up copies
    assert attest("sbom", ref, "--type", "spdx3", "--attach").returncode == 0
    assert len(discover(store, subject.digest)) == 2
    statement = json.loads(attest("sbom", ref, "--statement").stdout)
    assert statement["predicateType"] == "https://cyclonedx.org/bom/v1.6"
    # run attaches all three
    proc = attest("run", str(model), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    sbom_stage = next(s for s in summary["stages"] if s["stage"] == "sbom")
    assert {a["predicateType"] for a in sbom_stage["attached"]} == {
        f.predicate_type for f in FORMATS.values()
    }


@pytest.mark.parametrize(
    "breakage,named",
    [
        (lambda d: (d / "model.safetensors").write_bytes(b"\xff" * 16), "model.safetensors"),
        (
            lambda d: (d / "README.md").write_text("---\nlicense: [unclosed\n---\n# x\n"),
            "README.md",
        ),
        (lambda d: (d / "attest.yaml").write_text("bogus_key: 1\n"), "attest.yaml"),
    ],
)
def test_bad_model_input_exits_2_naming_the_file(tmp_path: Path, breakage, named: str) -> None:
    model = make_model_dir(tmp_path / "m")
    breakage(model)
    out = tmp_path / "sbom.json"
    proc = attest("sbom", str(model), "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert named in proc.stderr and proc.stderr.startswith("attest: error:")
    assert not out.exists()  # nothing half-written
