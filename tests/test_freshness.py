"""`attest freshness` and `attest check-yaml`: the commands behind two pre-commit hooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, run_attest

MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"
EVIDENCE = {"sbom.cdx.json": ["sbom", "--type", "cyclonedx"],
            "sbom.spdx.json": ["sbom", "--type", "spdx"],
            "sbom.spdx3.jsonld": ["sbom", "--type", "spdx3"],
            "model-card.md": ["card"], "data-card.md": ["card", "--kind", "data"]}  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """open-llm with every kind of evidence committed under .attest/ (made once)."""
    m = tmp_path_factory.mktemp("pristine") / "m"
    shutil.copytree(MODEL, m)
    (m / ".attest").mkdir()
    for name, args in EVIDENCE.items():
        proc = run_attest(args[0], str(m), *args[1:], "-o", str(m / ".attest" / name))
        assert proc.returncode == 0, proc.stderr
    return m


@pytest.fixture
def model(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "m"))


def freshness(*args: str) -> tuple[int, list[dict[str, object]], str]:
    proc = run_attest("freshness", *args, "--format", "json")
    return proc.returncode, json.loads(proc.stdout or "[]"), proc.stderr


def test_fresh_evidence_passes(model: Path) -> None:
    rc, findings, err = freshness(str(model))
    assert rc == 0, err
    assert [f["fresh"] for f in findings] == [True] * 5
    assert {Path(str(f["file"])).name for f in findings} == set(EVIDENCE)


def test_a_changed_file_makes_every_sbom_stale_and_names_the_file(model: Path) -> None:
    (model / "config.json").write_text('{"model_type": "llama", "changed": true}')
    (model / "NOTES.md").write_text("new\n")
    (model / "modeling_tiny.py").unlink()
    rc, findings, err = freshness(str(model))
    assert rc == 1 and "stale" in err and "attest freshness" in err
    sboms = [f for f in findings if f["kind"] == "sbom"]
    assert len(sboms) == 3
    for f in sboms:
        assert (f["changed"], f["added"], f["removed"]) == (
            ["config.json"], ["NOTES.md"], ["modeling_tiny.py"]
        ), f
    text = run_attest("freshness", str(model)).stdout
    want = "changed config.json; added NOTES.md; removed modeling_tiny.py"
    assert f"sbom.cdx.json: stale ({want})" in text


def test_a_card_that_no_longer_matches_is_stale_with_the_line(model: Path) -> None:
    card = model / ".attest" / "model-card.md"
    card.write_text(card.read_text().replace("Parameters:** 920", "Parameters:** 7B"))
    rc, findings, _ = freshness(str(model), "--card", str(card))
    assert rc == 1
    assert findings[0]["kind"] == "model-card" and "line" in str(findings[0]["detail"])


def test_update_rewrites_stale_files_which_are_then_fresh(model: Path) -> None:
    (model / "config.json").write_text('{"model_type": "llama", "changed": true}')
    rc, _, err = freshness(str(model), "--update")
    assert rc == 1 and "rewritten" in err
    rc, findings, err = freshness(str(model))
    assert rc == 0, (findings, err)
    spdx3 = json.loads((model / ".attest" / "sbom.spdx3.jsonld").read_text())
    assert "@graph" in spdx3  # rewritten in the format it had


def test_named_files_and_missing_ones(model: Path, tmp_path: Path) -> None:
    rc, _, err = freshness(str(model), "--sbom", str(tmp_path / "nope.cdx.json"))
    assert rc == 2 and "no such file" in err
    rc, _, _ = freshness(str(model), "--sbom", str(tmp_path / "new.spdx.json"), "--update")
    assert rc == 1
    assert json.loads((tmp_path / "new.spdx.json").read_text())["spdxVersion"] == "SPDX-2.3"


def test_nothing_to_check_is_a_usage_error(tmp_path: Path) -> None:
    shutil.copytree(MODEL, tmp_path / "m")
    rc, _, err = freshness(str(tmp_path / "m"))
    assert rc == 2 and "no evidence to check" in err


@pytest.mark.parametrize("content", [
    b"not json", b"[1, 2]", b'{"some": "thing"}', b"[" * 100_000,
    json.dumps({"bomFormat": "CycloneDX", "components": [{"type": "file", "name": "x"}]}).encode(),
])  # fmt: skip
def test_hostile_sboms_exit_2_with_one_line(model: Path, content: bytes) -> None:
    bad = model / ".attest" / "bad.cdx.json"
    bad.write_bytes(content)
    rc, _, err = freshness(str(model), "--sbom", str(bad))
    assert rc == 2, err
    assert err.startswith("attest: error:") and "Traceback" not in err


def test_deeply_nested_cyclonedx_components_are_refused(model: Path) -> None:
    nested: dict[str, object] = {"type": "library", "name": "x"}
    for _ in range(40):
        nested = {"type": "library", "name": "x", "components": [nested]}
    bad = model / ".attest" / "deep.cdx.json"
    bad.write_text(json.dumps({"bomFormat": "CycloneDX", "components": [nested]}))
    rc, _, err = freshness(str(model), "--sbom", str(bad))
    assert rc == 2 and "deep.cdx.json nests deeper than" in err  # the guarded JSON reader


def test_check_yaml_names_file_line_and_key(tmp_path: Path) -> None:
    good = tmp_path / "attest.yaml"
    good.write_text("license: MIT\nversion: '1.0'\n")
    bad = tmp_path / "sub" / "attest.yaml"
    bad.parent.mkdir()
    bad.write_text("license: MIT\nlicence: MIT\n")
    alias = tmp_path / "alias.yaml"
    alias.write_text("a: &x [1]\nb: *x\n")
    assert run_attest("check-yaml", str(good)).returncode == 0
    proc = run_attest("check-yaml", str(good), str(bad), str(alias))
    assert proc.returncode == 2
    assert f"{bad}:2: unknown key 'licence'" in proc.stderr
    assert "2 of 3 attest.yaml file(s) invalid" in proc.stderr
