"""The MOF stage on the testdata models through the real gatherer, the `attest mof` command,
and the evidence it attaches."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from attest.evidence.table import MOF as PREDICATE_TYPE
from attest.modelpack.facts import facts_for_directory, facts_for_reference
from attest.modelpack.pack import pack
from attest.mof import framework, parse_mot_yaml, score
from attest.oci.layout import LayoutStore
from attest.oci.referrers import discover
from attest.stages.mof import mof_evidence, mof_report
from tests.helpers import REPO_ROOT, run_attest

MODELS = REPO_ROOT / "testdata" / "models"


def status(report, component: str) -> tuple[str, list[str]]:
    c = report.component(component)
    return c.status, [e.path for e in c.evidence if e.kind != "license" and e.path]


def test_open_llm_is_class_iii_and_says_why() -> None:
    report = mof_report(facts_for_directory(MODELS / "open-llm"))
    assert report.mof_class == 3 and report.label == "Class III - Open Model"
    # modeling_*.py is the architecture code, Apache-2.0 by its SPDX header
    assert status(report, "model-architecture") == ("included", ["modeling_tiny.py"])
    assert report.component("model-architecture").license == "Apache-2.0"
    # the only weight file is the final parameters
    assert status(report, "final-model-parameters") == ("included", ["model.safetensors"])
    # the README is the model card, and its model-index holds evaluation results
    assert status(report, "model-card") == ("included", ["README.md"])
    assert status(report, "evaluation-results")[0] == "included"
    # DATA_CARD.md is the data card; its licence is declared in attest.yaml
    assert status(report, "data-card") == ("included", ["DATA_CARD.md"])
    assert report.component("data-card").license == "CC-BY-4.0"
    # the technical report exists only as a declared URL, with a declared open licence
    tech = report.component("technical-report")
    assert tech.status == "included" and tech.license == "CC-BY-4.0"
    assert any("technical-report.pdf" in (e.path or "") for e in tech.evidence)
    # no training, inference or evaluation code ships: Class II is out of reach
    assert report.component("training-code").status == "missing"
    assert not report.meets(2)


def test_tiny_llm_lacks_report_and_data_card() -> None:
    report = mof_report(facts_for_directory(MODELS / "tiny-llm"))
    assert report.mof_class is None
    needed = {c.id for c in report.needed_for(3)}
    # no technical report or paper is declared or linked, and there is no data card
    assert needed == {"technical-report", "data-card"}
    # the card names a training dataset but nothing says under which licence it is released
    assert report.component("datasets").status == "unlicensed"


def test_gguf_has_no_architecture_code() -> None:
    report = mof_report(facts_for_directory(MODELS / "tiny-gguf"))
    # a GGUF file carries parameters, not the code that defines the architecture
    assert status(report, "final-model-parameters") == ("included", ["tiny.gguf"])
    assert report.component("model-architecture").status == "missing"
    assert report.component("model-card").status == "included"


def test_with_modelfile_training_code_and_dataset() -> None:
    report = mof_report(facts_for_directory(MODELS / "with-modelfile"))
    # scripts/train.py is training code by its name; data/train.jsonl is a DATASET layer,
    # both under the model's MIT LICENSE
    assert status(report, "training-code") == ("included", ["scripts/train.py"])
    assert status(report, "datasets") == ("included", ["data/train.jsonl"])
    assert report.component("datasets").license == "MIT"


def test_packed_artifact_scores_like_its_directory(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "lay", create=True)
    pack(MODELS / "open-llm", store, "v1", creation_time=False)
    facts = facts_for_reference(store, "v1", f"oci:{tmp_path}/lay:v1")
    from_artifact = mof_report(facts)
    from_dir = mof_report(facts_for_directory(MODELS / "open-llm"))
    assert from_artifact.mof_class == from_dir.mof_class == 3
    assert from_artifact.progress == from_dir.progress
    evidence = mof_evidence(facts, from_artifact)
    assert evidence.statement["predicateType"] == PREDICATE_TYPE
    schema = json.loads((REPO_ROOT / "attest/schemas/mof-predicate.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(evidence.statement["predicate"])
    assert evidence.annotations["org.cncf.ai.model.mof.class"] == "III"
    # the exported MOT YAML validates against the MOT schema and re-scores the same
    exported = yaml.safe_load(evidence.document)
    mot_schema = json.loads((framework().data_dir / "mof_schema.json").read_text())
    jsonschema.Draft202012Validator(mot_schema).validate(exported)
    assert score(parse_mot_yaml(evidence.document)).mof_class == 3


def attest(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_attest(*args, cwd=cwd)


def test_mof_command_formats_and_floor(tmp_path: Path) -> None:
    open_llm, tiny = str(MODELS / "open-llm"), str(MODELS / "tiny-llm")
    proc = attest("mof", tiny, open_llm, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    reports = json.loads(proc.stdout)
    assert [r["model"]["name"] for r in reports] == ["tiny-llm", "open-llm"]  # order given
    assert [r["class"] for r in reports] == [None, 3]
    assert attest("mof", open_llm, "--min-class", "III").returncode == 0
    below = attest("mof", tiny, "--min-class", "III")
    assert below.returncode == 1
    assert "Data card" in below.stderr and "Technical report" in below.stderr
    assert attest("mof", open_llm, "--min-class", "II").returncode == 1
    exported = tmp_path / "mof.yml"
    exported.write_text(attest("mof", open_llm, "--format", "yaml").stdout)
    again = json.loads(attest("mof", str(exported), "--format", "json").stdout)
    assert again[0]["class"] == 3
    assert "Class III" in attest("mof", open_llm, "--format", "markdown").stdout


@pytest.mark.parametrize(
    "breakage,named,strict_only",
    [
        (lambda y: "framework: [unclosed\n", "bad.yml:2", False),
        (lambda y: y.replace("- name: Model card", "- name: Model Card"), "'Model Card'", False),
        # what the MOT itself scores (as an invalid licence, the later duplicate): --strict only
        (lambda y: y.replace("license: CC-BY-4.0", "license: CC-BY-4"), "CC-BY-4", True),
        (lambda y: y + y[y.index("  - name: Model card") :], "Model card", True),
    ],
)
def test_bad_mot_yaml_exits_2_naming_the_entry(
    tmp_path: Path, breakage, named: str, strict_only: bool
) -> None:
    good = attest("mof", str(MODELS / "open-llm"), "--format", "yaml").stdout
    assert "- name: Model card" in good and "license: CC-BY-4.0" in good
    bad = tmp_path / "bad.yml"
    bad.write_text(breakage(good))
    proc = attest("mof", str(bad), "--strict")
    assert proc.returncode == 2, proc.stderr
    assert named in proc.stderr and proc.stderr.startswith("attest: error: ")
    lenient = attest("mof", str(bad))
    if strict_only:  # scored as the MOT scores it, with a warning naming the entry
        assert lenient.returncode == 0 and named in lenient.stderr and "WARNING" in lenient.stderr
    else:
        assert lenient.returncode == 2


def test_attach_puts_annotations_on_referrers_not_the_model(tmp_path: Path) -> None:
    ref = f"oci:{tmp_path}/lay:v1"
    assert attest("pack", str(MODELS / "open-llm"), "--to", ref).returncode == 0
    store = LayoutStore(tmp_path / "lay")
    before = store.get_manifest("v1")
    assert attest("mof", ref, "--attach").returncode == 0
    after = store.get_manifest("v1")
    assert after.data == before.data  # the model manifest is untouched
    found = discover(store, before.descriptor.digest)
    types = sorted(r.artifact_type or "" for r in found)
    assert types == ["application/vnd.attest.mof.config.v1+yaml", "application/vnd.in-toto+json"]
    for r in found:
        assert r.annotations["org.cncf.ai.model.mof.class"] == "III"
        assert "model-card" in r.annotations["org.cncf.ai.model.mof.components"].split(",")
