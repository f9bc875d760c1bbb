"""The composite GitHub Action (action.yml) and the example workflows (docs/examples/).

- They validate against GitHub's schemas (check-jsonschema's vendored copies, offline) and
  pass zizmor's offline audits; no input is spliced into a script.
- The steps run as the runner runs them (tests/composite_action_runner.py, a stand-in for the
  runner) against the real docker-registry with basic auth and the loopback Sigstore stand-in,
  whose ``ACTIONS_ID_TOKEN_REQUEST_URL`` serves the workflow's OIDC token. The action installs
  attest from its own path, non-editably, into a fresh virtualenv (once for the module: a job
  that uses the action twice installs once). Afterwards `attest verify` with the workflow
  identity passes and sigstore-js accepts the bundles.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import discover
from attest.oci.store import Descriptor
from attest.oci.stores import open_store
from tests.composite_action_runner import (
    ActionRun,
    expressions_in_scripts,
    os_environ_for_runner,
    run_action,
)
from tests.helpers import REPO_ROOT, copy_source_tree, run_attest
from tests.js_verifier import verify_with_sigstore_js
from tests.sigstore_stand_in import github_claims

# every run shares one RUNNER_TEMP (attest installed once), so they share one xdist worker
pytestmark = pytest.mark.xdist_group("action-runner")

EXAMPLES = sorted((REPO_ROOT / "docs" / "examples").glob("*.yml"))
MODELS = REPO_ROOT / "testdata" / "models"
CLAIMS = github_claims(repository="acme/model-repo", ref="refs/tags/v1.0.0")


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    if not exe.exists():
        pytest.skip(f"{name} is not installed (test extra)")
    return str(exe)


def _run(*args: str) -> tuple[int, str]:
    import subprocess

    proc = subprocess.run(list(args), capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


# -- static checks ------------------------------------------------------------------------------


def test_action_validates_against_the_github_actions_schema() -> None:
    rc, out = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions",
                   str(REPO_ROOT / "action.yml"))  # fmt: skip
    assert rc == 0, out


def test_example_workflows_validate_against_the_github_workflows_schema() -> None:
    assert {p.name for p in EXAMPLES} >= {"release.yml", "pr-check.yml"}
    rc, out = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                   *map(str, EXAMPLES))  # fmt: skip
    assert rc == 0, out


def test_zizmor_offline_finds_nothing_in_the_action_and_examples() -> None:
    rc, out = _run(_tool("zizmor"), "--offline", "--no-progress", str(REPO_ROOT / "action.yml"),
                   *map(str, EXAMPLES))  # fmt: skip
    assert rc == 0, out
    assert "No findings" in out


def test_zizmor_catches_an_input_spliced_into_a_script(tmp_path: Path) -> None:
    """The audit that guards the action's main rule can fail: a spliced input is found."""
    text = (REPO_ROOT / "action.yml").read_text()
    spliced = text.replace('run "$MODEL_PATH"', 'run "${{ inputs.model-path }}"')
    assert spliced != text
    (tmp_path / "action.yml").write_text(spliced)
    assert expressions_in_scripts(tmp_path) == ["${{ inputs.model-path }}"]
    rc, out = _run(_tool("zizmor"), "--offline", "--no-progress", str(tmp_path / "action.yml"))
    assert rc != 0 and "template-injection" in out, out


def test_inputs_reach_scripts_only_through_env() -> None:
    assert expressions_in_scripts(REPO_ROOT) == []


# -- running the steps --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def action_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action as the runner downloads it: a copy of the repository at the pinned ref."""
    return copy_source_tree(tmp_path_factory.mktemp("_actions") / "attest")


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RUNNER_TEMP of one job: shared by the runs below, so attest is installed once."""
    return tmp_path_factory.mktemp("runner-temp")


def runner_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A hosted runner's environment: python3 on PATH (as setup-python leaves it), the GITHUB_*
    variables of a tag push in acme/model-repo, an empty home, no proxy for loopback."""
    python_dir = Path(getattr(sys, "_base_executable", sys.executable)).parent
    cache = Path.home() / ".cache"
    return {
        **os_environ_for_runner(),
        "HOME": str(home), "XDG_CACHE_HOME": str(cache),  # pip's wheel cache, read-only use
        "PATH": f"{python_dir}:/usr/local/bin:/usr/bin:/bin",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "GITHUB_REPOSITORY": CLAIMS["repository"], "GITHUB_REF": CLAIMS["ref"],
        "GITHUB_SHA": CLAIMS["sha"], "GITHUB_WORKFLOW_REF": CLAIMS["workflow_ref"],
        "GITHUB_EVENT_NAME": CLAIMS["event_name"], "GITHUB_RUN_ID": CLAIMS["run_id"],
        "GITHUB_RUN_ATTEMPT": CLAIMS["run_attempt"], "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY_ID": CLAIMS["repository_id"],
        "GITHUB_REPOSITORY_OWNER_ID": CLAIMS["repository_owner_id"],
        "RUNNER_ENVIRONMENT": "github-hosted",
        **(extra or {}),
    }  # fmt: skip


def bundles(reference: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    for key in ("ATTEST_REGISTRY_USERNAME", "ATTEST_REGISTRY_PASSWORD"):
        if key in env:
            monkeypatch.setenv(key, env[key])
    ref = parse_reference(reference)
    store = open_store(ref)
    assert ref.digest
    found = discover(store, ref.digest, artifact_type=mt.SIGSTORE_BUNDLE_V03)
    return [store.fetch_blob(Descriptor.from_dict(r.manifest["layers"][0])) for r in found]


def test_release_run_signs_keyless_pushes_verifies_and_reports(
    action_dir: Path,
    runner_temp: Path,
    registry_basic_auth: Any,
    sigstore_stand_in: Any,
    sigstore_trust_config: Path,
    sigstore_trusted_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    identity = sigstore_stand_in.github_identity(CLAIMS)
    issuer = sigstore_stand_in.issuer
    workspace = tmp_path / "workspace"
    (workspace / "models").mkdir(parents=True)
    model = workspace / "models" / "open-llm"
    import shutil

    shutil.copytree(MODELS / "open-llm", model)
    (workspace / "release.yaml").write_text(json.dumps({
        "identity": {"allowed": [{"subject": identity, "issuer": issuer}], "dev_keys": "deny"},
        "mof": {"min_class": "III"},
    }))  # fmt: skip
    env = runner_env(tmp_path / "home", sigstore_stand_in.github_actions_env(CLAIMS))
    destination = f"{registry_basic_auth.ref}:v1.0.0"
    result = run_action(
        action_dir,
        {
            "model-path": "models/open-llm", "destination": destination,
            "trust-config": str(sigstore_trust_config), "params": "release.yaml",
            "min-mof-class": "III", "registry-token": registry_basic_auth.password,
            "registry-username": registry_basic_auth.username,
        },
        workspace=workspace, runner_temp=runner_temp, env=env,
    )  # fmt: skip
    assert result.conclusion == "success", result.log
    out = result.outputs
    assert out["digest"].startswith("sha256:") and len(out["digest"]) == 71
    assert out["reference"] == f"{destination}@{out['digest']}"
    assert out["mof-class"] == "III" and out["verified"] == "true"
    report = Path(out["report-path"])
    assert report.is_file() and report.read_text() in result.summary
    assert report.read_text().startswith("## attest report: open-llm")
    assert out["reference"] in result.summary
    # `attest report` (not the fallback) wrote it, with the workflow identity as the signer
    assert "**Verdict: ✅ verified**" in result.summary and identity in result.summary
    # the OIDC token and the registry password were masked, and never reached the log
    assert len(result.masks) == 2 and registry_basic_auth.password in result.masks
    assert all(secret not in result.log for secret in result.masks)
    assert not (runner_temp / "attest-oidc-token").exists()

    # independently: attest verify with the workflow identity, and sigstore-js
    creds = {"ATTEST_REGISTRY_USERNAME": registry_basic_auth.username,
             "ATTEST_REGISTRY_PASSWORD": registry_basic_auth.password,
             "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip
    proc = run_attest("verify", out["reference"], "--identity", identity, "--issuer", issuer,
                      "--trust-config", str(sigstore_trust_config), env=creds)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    wrong = run_attest("verify", out["reference"], "--identity", identity + "x", "--issuer", issuer,
                       "--trust-config", str(sigstore_trust_config), env=creds)  # fmt: skip
    assert wrong.returncode == 1
    found = bundles(out["reference"], creds, monkeypatch)
    assert len(found) >= 7
    for i, bundle in enumerate(found[:2]):
        path = tmp_path / f"bundle{i}.json"
        path.write_bytes(bundle)
        ok, text = verify_with_sigstore_js(path, sigstore_trusted_root, identity=identity,
                                           issuer=issuer)  # fmt: skip
        assert ok, text


def _below_floor_run(
    action_dir: Path, runner_temp: Path, tmp_path: Path, mode: str
) -> ActionRun:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return run_action(
        action_dir,
        {"model-path": str(MODELS / "tiny-llm"), "destination": f"oci:{tmp_path}/layout:pr",
         "signing": "none", "min-mof-class": "III", "mode": mode},
        workspace=workspace, runner_temp=runner_temp, env=runner_env(tmp_path / "home"),
    )  # fmt: skip


def test_enforce_fails_the_job_below_the_mof_floor(
    action_dir: Path, runner_temp: Path, tmp_path: Path
) -> None:
    result = _below_floor_run(action_dir, runner_temp, tmp_path, "enforce")
    assert result.conclusion == "failure"
    assert ("error", "MOF class Unclassified is below the required Class III") in result.annotations
    assert result.outputs["mof-class"] == "Unclassified" and result.outputs["verified"] == "false"
    assert result.steps[-1].name == "Gate" and result.steps[-1].outcome == "failure"


def test_warn_mode_annotates_and_passes(
    action_dir: Path, runner_temp: Path, tmp_path: Path
) -> None:
    result = _below_floor_run(action_dir, runner_temp, tmp_path, "warn")
    assert result.conclusion == "success", result.log
    below = "MOF class Unclassified is below the required Class III"
    assert ("warning", below) in result.annotations
    assert result.outputs["digest"].startswith("sha256:")


def test_keyless_without_id_token_permission_fails_with_a_clear_message(
    action_dir: Path, runner_temp: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    result = run_action(
        action_dir, {"model-path": str(MODELS / "open-llm"), "destination": f"oci:{tmp_path}/l:v1"},
        workspace=workspace, runner_temp=runner_temp, env=runner_env(tmp_path / "home"),
    )  # fmt: skip
    assert result.conclusion == "failure"
    assert any("permissions: id-token: write" in text for _, text in result.annotations)
    assert [s.outcome for s in result.steps][-2:] == ["skipped", "skipped"]


def test_bad_inputs_are_refused_before_anything_runs(
    action_dir: Path, runner_temp: Path, tmp_path: Path
) -> None:
    result = run_action(
        action_dir, {"model-path": "m", "destination": "oci:x:v1", "signing": "cosign"},
        workspace=tmp_path, runner_temp=runner_temp, env=runner_env(tmp_path / "home"),
    )  # fmt: skip
    assert result.conclusion == "failure" and result.steps[0].outcome == "failure"
    assert ("error", "signing must be keyless, key or none, not 'cosign'") in result.annotations
    assert all(s.outcome == "skipped" for s in result.steps[1:])


def test_key_signing_verifies_with_the_public_key(
    action_dir: Path, runner_temp: Path, tmp_path: Path
) -> None:
    proc = run_attest("key", "generate", str(tmp_path / "release"))
    assert proc.returncode == 0, proc.stderr
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    result = run_action(
        action_dir,
        {"model-path": str(MODELS / "open-llm"), "destination": f"oci:{tmp_path}/layout:v1",
         "signing": "key", "key": str(tmp_path / "release.key"),
         "public-key": str(tmp_path / "release.pub"), "min-mof-class": "III"},
        workspace=workspace, runner_temp=runner_temp, env=runner_env(tmp_path / "home"),
    )  # fmt: skip
    assert result.conclusion == "success", result.log
    assert result.outputs["verified"] == "true" and result.outputs["mof-class"] == "III"
    assert [s.outcome for s in result.steps][2:4] == ["skipped", "skipped"]  # no OIDC, no login
    other = run_attest("key", "generate", str(tmp_path / "other"))
    assert other.returncode == 0
    wrong = run_attest("verify", result.outputs["reference"], "--key", str(tmp_path / "other.pub"))
    assert wrong.returncode == 1


# -- the runner stand-in against the runner's own formats --------------------------------------


def test_file_commands_parse_as_the_runner_reads_them() -> None:
    from tests.composite_action_runner import ActionError, parse_file_command

    text = "a=1\nb<<ghadelimiter_x\nline 1\nline=2\nghadelimiter_x\nc=\n"
    assert parse_file_command(text) == {"a": "1", "b": "line 1\nline=2", "c": ""}
    with pytest.raises(ActionError, match="delimiter"):
        parse_file_command("b<<EOF\nnever closed\n")


def test_expressions_follow_github_semantics() -> None:
    from tests.composite_action_runner import evaluate, substitute

    ctx = {"inputs": {"signing": "Keyless", "registry-token": ""}, "steps": {}, "github": {}}
    assert evaluate("inputs.signing == 'keyless'", ctx) is True  # case-insensitive
    assert evaluate("inputs.registry-token != ''", ctx) is False
    assert evaluate("!(inputs.signing == 'key') && success()", ctx) is True
    assert evaluate("failure() || inputs.signing", ctx) == "Keyless"
    assert evaluate("always()", ctx, status="failure") is True
    assert substitute("${{ steps.x.outputs.y }}-${{ inputs.signing }}", ctx) == "-Keyless"
