"""The hooks in `.pre-commit-hooks.yaml`, run by the real `pre-commit`, as a user runs them.

Each model repository is checked by `pre-commit run --all-files` with a config naming this
repository (a commit of the current tree) at its commit sha. pre-commit builds
the hook environment itself (`pip install .` of a clone of this repository, non-editable, in a
fresh virtualenv), so a packaging defect — a package left out of the wheel, a content file
missing — fails here as it would for a user. The two runs (a good model repository: every hook
passes; a bad one: every hook fails, each with its own one-line reason) share one pre-commit
store, so the environment is built once, as on a developer's machine; they are one xdist group
so they share it in CI too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO_ROOT, copy_source_tree, run_attest

MODELS = REPO_ROOT / "testdata" / "models"
HOOKS = {
    "attest-mof-floor": "attest MOF class floor",
    "attest-card-lint": "attest card lint",
    "attest-yaml": "attest.yaml schema",
    "attest-policy-test": "attest policy test (Rego unit tests)",
    "attest-freshness": "attest evidence freshness",
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}  # fmt: skip

PASSING_POLICY = """package acme.model

import rego.v1

deny contains "weights must be signed" if not input.signed

test_unsigned_is_denied if { count(deny) == 1 with input as {"signed": false} }
"""
FAILING_POLICY = PASSING_POLICY.replace("count(deny) == 1", "count(deny) == 0")


def _pre_commit() -> str:
    exe = Path(sys.executable).with_name("pre-commit")
    if not exe.exists():
        if os.environ.get("CI"):
            pytest.fail("pre-commit is not installed (test extra) -- required in CI")
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return str(exe)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})  # fmt: skip


def _commit_all(repo: Path) -> None:
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "snapshot")


def _hook_repo(dest: Path) -> Path:
    """This source tree committed to a fresh repository: pre-commit clones a commit, so uncommitted
    work must be in a commit."""
    _commit_all(copy_source_tree(dest))
    return dest


def _evidence(model: Path) -> None:
    (model / ".attest").mkdir()
    for args in (["sbom", str(model), "-o", str(model / ".attest/sbom.cdx.json")],
                 ["card", str(model), "-o", str(model / ".attest/model-card.md")]):  # fmt: skip
        proc = run_attest(*args)
        assert proc.returncode == 0, proc.stderr


def good_model(root: Path) -> Path:
    """open-llm (Class III, honest card), a passing policy test, fresh evidence."""
    model = root / "good"
    shutil.copytree(MODELS / "open-llm", model)
    (model / "policy").mkdir()
    (model / "policy" / "model_test.rego").write_text(PASSING_POLICY)
    _evidence(model)
    _commit_all(model)
    return model


def bad_model(root: Path) -> Path:
    """Below Class III, a card whose licence the declarations contradict, a typo in an
    attest.yaml, a failing policy test, and an SBOM from before the config changed."""
    model = root / "bad"
    shutil.copytree(MODELS / "tiny-llm", model)
    (model / "attest.yaml").write_text("license: MIT\n")
    (model / "extra").mkdir()
    (model / "extra" / "attest.yaml").write_text("licence: MIT\n")
    (model / "policy").mkdir()
    (model / "policy" / "model_test.rego").write_text(FAILING_POLICY)
    _evidence(model)
    config = model / "config.json"
    config.write_text(config.read_text().replace("}", ', "torch_dtype": "float16"}', 1))
    _commit_all(model)
    return model


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _hook_repo(tmp_path_factory.mktemp("hook-repo"))


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _config(hook_repo: Path) -> str:
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    hooks = "".join(f"      - id: {hook}\n" for hook in HOOKS)
    return f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n{hooks}"


def run_hooks(hook_repo: Path, home: Path, model: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit run --all-files` in ``model`` with a config that pins this repository's
    commit (kept beside the model repository, so the evidence the hooks check is unchanged)."""
    config = model.parent / "pre-commit-config.yaml"
    config.write_text(_config(hook_repo))
    env = {**os.environ, **GIT_ENV, "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never",
           "PRE_COMMIT_HOME": str(home)}  # fmt: skip
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [_pre_commit(), "run", "--config", str(config), "--all-files", "--color", "never"],
        cwd=model, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def _status(output: str, name: str) -> str:
    line = next(ln for ln in output.splitlines() if ln.startswith(name + "."))
    return line.rsplit(".", 1)[1].strip()


def test_manifest_lists_the_hooks_with_whole_tree_ones_seeing_no_filenames() -> None:
    manifest = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"]: h["name"] for h in manifest} == HOOKS
    for hook in manifest:
        assert hook["language"] == "python" and hook["entry"].startswith("attest ")
        if hook["id"] != "attest-yaml":
            assert hook["pass_filenames"] is False, hook["id"]


@pytest.mark.xdist_group("pre-commit-store")
def test_hooks_pass_a_good_model(hook_repo: Path, pre_commit_home: Path, tmp_path: Path) -> None:
    proc = run_hooks(hook_repo, pre_commit_home, good_model(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for name in HOOKS.values():
        assert _status(out, name) == "Passed", out


@pytest.mark.xdist_group("pre-commit-store")
def test_hooks_fail_a_bad_model_with_clear_messages(
    hook_repo: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    proc = run_hooks(hook_repo, pre_commit_home, bad_model(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    for name in HOOKS.values():
        assert _status(out, name) == "Failed", out
    assert "below Class III" in out
    assert "[license-mismatch] card licence Apache-2.0 differs" in out  # attest.yaml says MIT
    assert "extra/attest.yaml:1: unknown key 'licence'" in out
    assert "policy tests failed: 1 failed" in out
    assert "sbom.cdx.json: stale (changed config.json)" in out
