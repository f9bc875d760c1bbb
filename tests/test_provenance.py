"""The provenance stage: SLSA v1 for a ModelPack artifact, locally and on GitHub Actions."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor

from attest.errors import UsageError
from attest.evidence.table import SLSA_PROVENANCE as PREDICATE_TYPE
from attest.facts.build_env import SourceFacts, read_ci_environment, read_source_facts
from attest.facts.git_source import read_git_source
from attest.facts.model import ModelFacts
from attest.facts.subject import Subject
from attest.intoto import statement_bytes
from attest.modelpack.facts import facts_for_directory
from attest.stages.provenance import (
    GITHUB_BUILD_TYPE,
    LOCAL_BUILD_TYPE,
    build_provenance,
    clean_remote_url,
    provenance_evidence,
)
from tests.git_fixtures import git, make_checkout, needs_git
from tests.helpers import REPO_ROOT

TINY_LLM = REPO_ROOT / "testdata" / "models" / "tiny-llm"
DECLARED = REPO_ROOT / "testdata" / "attest.example.yaml"
DIGEST = "sha256:" + "3f" * 32
STARTED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
FINISHED = STARTED + timedelta(minutes=2, seconds=5)

GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/model-repo",
    "GITHUB_WORKFLOW_REF": "acme/model-repo/.github/workflows/release.yml@refs/tags/v1.2.0",
    "GITHUB_REF": "refs/tags/v1.2.0",
    "GITHUB_SHA": "8c2a9d1e0f4b7a6c5d3e2f1a0b9c8d7e6f5a4b3c",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_REPOSITORY_ID": "123456789",
    "GITHUB_REPOSITORY_OWNER_ID": "987654321",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "GITHUB_RUN_ID": "7654321098",
    "GITHUB_RUN_ATTEMPT": "2",
}


def _facts(declared: Path | None = DECLARED) -> ModelFacts:
    facts = facts_for_directory(TINY_LLM, declared)
    facts.subject = Subject(
        reference="localhost:5000/acme/tiny-llm:v1",
        repository="localhost:5000/acme/tiny-llm",
        digest=DIGEST,
        media_type="application/vnd.oci.image.manifest.v1+json",
        size=1234,
    )
    return facts


@pytest.fixture(scope="module")
def facts() -> ModelFacts:
    return _facts()


def _on_ci(facts: ModelFacts, env: Mapping[str, str]) -> ModelFacts:
    """``facts`` as the flow gathers them in a CI job whose environment is ``env``."""
    return dataclasses.replace(facts, source=SourceFacts(ci=read_ci_environment(env)))


def _deps(statement: dict[str, Any]) -> list[dict[str, Any]]:
    return statement["predicate"]["buildDefinition"]["resolvedDependencies"]


def _role(statement: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [d for d in _deps(statement) if (d.get("annotations") or {}).get("role") == role]


def _assert_valid_descriptors(statement: dict[str, Any]) -> None:
    for dep in _deps(statement):
        ResourceDescriptor(
            name=dep.get("name", ""), uri=dep.get("uri", ""), digest=dep.get("digest")
        ).validate()  # needs a uri, a digest or content


def test_local_build_uses_our_build_type(facts: ModelFacts) -> None:
    st = build_provenance(facts, started_on=STARTED, finished_on=FINISHED)
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["predicateType"] == PREDICATE_TYPE == "https://slsa.dev/provenance/v1"
    assert st["subject"] == [
        {"name": "localhost:5000/acme/tiny-llm", "digest": {"sha256": "3f" * 32}}
    ]
    definition = st["predicate"]["buildDefinition"]
    assert (
        definition["buildType"] == LOCAL_BUILD_TYPE == "https://attest.dev/buildtypes/modelpack/v1"
    )
    assert definition["externalParameters"]["model"] == {"name": "tiny-llm", "version": "0.1.0"}
    details = st["predicate"]["runDetails"]
    assert details["builder"]["id"] == "https://attest.dev/builders/local/v1"
    assert details["metadata"] == {
        "startedOn": "2025-03-01T12:00:00Z",
        "finishedOn": "2025-03-01T12:02:05Z",
    }
    assert "invocationId" not in details["metadata"]
    _assert_valid_descriptors(st)


def test_resolved_dependencies_name_source_base_model_datasets(facts: ModelFacts) -> None:
    st = build_provenance(facts, started_on=STARTED, finished_on=FINISHED)
    assert _role(st, "source") == [
        {
            "name": "source",
            "uri": "git+https://github.com/example/tiny-llm",
            "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
            "annotations": {"role": "source"},
        }
    ]
    assert _role(st, "base-model") == [
        {
            "name": "some-org/tiny-base",
            "uri": "https://huggingface.co/some-org/tiny-base",
            "annotations": {"role": "base-model"},
        }
    ]
    datasets = {d["name"]: d for d in _role(st, "dataset")}
    assert datasets["some-org/tiny-corpus"]["uri"] == (
        "https://huggingface.co/datasets/some-org/tiny-corpus"
    )
    assert datasets["some-org/tiny-corpus"]["annotations"]["use"] == "training"
    assert datasets["some-org/tiny-corpus"]["annotations"]["license"] == "CC-BY-4.0"
    assert datasets["some-org/tiny-eval"]["annotations"]["use"] == "evaluation"


def test_training_code_and_packed_datasets_carry_their_digests(tmp_path: Path) -> None:
    declared = tmp_path / "attest.yaml"
    declared.write_text(
        "components:\n  Training code: modeling_tiny.py\n"
        "datasets:\n  - name: local corpus\n    sha256: sha256:" + "ab" * 32 + "\n"
        "  - name: just a name\n"
        "base_model: registry.example/base/model@sha256:" + "cd" * 32 + "\n"
    )
    facts = _facts(declared)
    st = build_provenance(facts, started_on=None, finished_on=None)
    code = _role(st, "training-code")
    sha = next(f.sha256 for f in facts.files if f.path == "modeling_tiny.py")
    assert code == [
        {
            "name": "modeling_tiny.py",
            "digest": {"sha256": sha.removeprefix("sha256:")},
            "annotations": {"role": "training-code"},
        }
    ]
    names = [d["name"] for d in _role(st, "dataset")]
    assert "local corpus" in names  # identified by its digest
    assert "just a name" not in names  # nothing a verifier could resolve
    assert _role(st, "base-model") == [
        {
            "name": "registry.example/base/model@sha256:" + "cd" * 32,
            "uri": "oci://registry.example/base/model",
            "digest": {"sha256": "cd" * 32},
            "annotations": {"role": "base-model"},
        }
    ]
    assert "metadata" not in st["predicate"]["runDetails"]
    _assert_valid_descriptors(st)


def test_github_actions_environment_gives_githubs_own_fields(facts: ModelFacts) -> None:
    st = build_provenance(_on_ci(facts, GITHUB_ENV), started_on=STARTED, finished_on=FINISHED)
    definition = st["predicate"]["buildDefinition"]
    # the shape actions/attest writes (actions/toolkit packages/attest/src/provenance.ts)
    assert definition["buildType"] == GITHUB_BUILD_TYPE
    assert definition["externalParameters"] == {
        "workflow": {
            "ref": "refs/tags/v1.2.0",
            "repository": "https://github.com/acme/model-repo",
            "path": ".github/workflows/release.yml",
        }
    }
    assert definition["internalParameters"] == {
        "github": {
            "event_name": "push",
            "repository_id": "123456789",
            "repository_owner_id": "987654321",
            "runner_environment": "github-hosted",
        }
    }
    assert _deps(st)[0] == {
        "uri": "git+https://github.com/acme/model-repo@refs/tags/v1.2.0",
        "digest": {"gitCommit": "8c2a9d1e0f4b7a6c5d3e2f1a0b9c8d7e6f5a4b3c"},
    }
    details = st["predicate"]["runDetails"]
    assert details["builder"]["id"] == (
        "https://github.com/acme/model-repo/.github/workflows/release.yml@refs/tags/v1.2.0"
    )
    assert details["metadata"] == {
        "invocationId": "https://github.com/acme/model-repo/actions/runs/7654321098/attempts/2",
        "startedOn": "2025-03-01T12:00:00Z",
        "finishedOn": "2025-03-01T12:02:05Z",
    }
    # the model's own source (attest.yaml) lives elsewhere: listed after the workflow's
    assert _role(st, "source")[0]["uri"] == "git+https://github.com/example/tiny-llm"
    assert _role(st, "base-model") and _role(st, "dataset")
    _assert_valid_descriptors(st)


def test_oidc_claims_win_over_the_environment_and_ints_stay_ints(facts: ModelFacts) -> None:
    claims = {
        "repository": "acme/model-repo",
        "workflow_ref": "acme/model-repo/.github/workflows/release.yml@refs/heads/main",
        # a reusable workflow ran the job: builder.id names it, not the caller
        "job_workflow_ref": "acme/shared/.github/workflows/attest.yml@refs/tags/v3",
        "ref": "refs/heads/main",
        "sha": "1" * 40,
        "event_name": "workflow_dispatch",
        "repository_id": 123456789,  # an int in, an int out: no protobuf Struct round trip
        "repository_owner_id": "987654321",
        "runner_environment": "self-hosted",
        "run_id": "99",
        "run_attempt": "1",
    }
    st = build_provenance(
        _on_ci(facts, GITHUB_ENV), started_on=STARTED, finished_on=FINISHED, oidc_claims=claims
    )
    predicate = st["predicate"]
    github = predicate["buildDefinition"]["internalParameters"]["github"]
    assert github["repository_id"] == 123456789 and type(github["repository_id"]) is int
    assert github["event_name"] == "workflow_dispatch"
    assert github["runner_environment"] == "self-hosted"
    assert predicate["buildDefinition"]["externalParameters"]["workflow"]["ref"] == (
        "refs/heads/main"
    )
    assert predicate["runDetails"]["builder"]["id"] == (
        "https://github.com/acme/shared/.github/workflows/attest.yml@refs/tags/v3"
    )
    assert predicate["runDetails"]["metadata"]["invocationId"].endswith("/runs/99/attempts/1")
    assert _deps(st)[0]["digest"] == {"gitCommit": "1" * 40}
    assert b'"repository_id":123456789' in statement_bytes(st)  # not 123456789.0


def test_incomplete_github_environment_falls_back_to_the_local_build_type(
    facts: ModelFacts,
) -> None:
    facts = _on_ci(facts, {"GITHUB_ACTIONS": "true"})
    st = build_provenance(facts, started_on=None, finished_on=None)
    assert st["predicate"]["buildDefinition"]["buildType"] == LOCAL_BUILD_TYPE


def test_provenance_needs_a_subject() -> None:
    facts = facts_for_directory(TINY_LLM)
    with pytest.raises(UsageError, match="subject"):
        build_provenance(facts, started_on=None, finished_on=None)


def test_evidence_has_no_separate_document(facts: ModelFacts) -> None:
    evidence = provenance_evidence(facts, started_on=STARTED, finished_on=FINISHED)
    assert evidence.document is None and evidence.predicate_type == PREDICATE_TYPE
    json.dumps(evidence.statement)  # plain JSON


# -- git ----------------------------------------------------------------------------------------


@needs_git
@pytest.mark.parametrize("packed", [False, True])
def test_git_checkout_of_the_model_directory(tmp_path: Path, packed: bool) -> None:
    remote = "https://x-access-token:s3cret@github.com/acme/model-repo.git"
    sha = make_checkout(tmp_path, remote=remote)
    if packed:
        git(tmp_path, "pack-refs", "--all")  # the ref now lives in packed-refs only
    model = tmp_path / "models" / "tiny"
    shutil.copytree(TINY_LLM, model)
    source = read_git_source(model)
    assert source is not None
    assert source.commit == sha and source.ref == "refs/heads/main"
    assert source.repository == "https://github.com/acme/model-repo.git"  # no credentials
    assert source.remotes == {"origin": source.repository}
    assert source.dirty is False
    facts = _facts(declared=None)  # nothing declared: the checkout is the source
    facts.declared = None
    facts.source = read_source_facts(model, {})
    st = build_provenance(facts, started_on=None, finished_on=None)
    dep = _role(st, "source")[0]
    assert dep["uri"] == "git+https://github.com/acme/model-repo.git@refs/heads/main"
    assert dep["digest"] == {"gitCommit": sha}
    assert "s3cret" not in json.dumps(st)


@needs_git
def test_dirty_is_asked_only_when_git_runs_no_program_of_the_checkout(tmp_path: Path) -> None:
    make_checkout(tmp_path)
    (tmp_path / ".gitattributes").write_text("* filter=evil\n")
    source = read_git_source(tmp_path)
    assert source is not None and source.dirty is True
    marker = tmp_path.parent / "ran"
    git(tmp_path, "config", "filter.evil.clean", f"touch {marker}; cat")
    git(tmp_path, "config", "core.fsmonitor", f"touch {marker}")
    source = read_git_source(tmp_path)
    assert source is not None and source.dirty is None and source.commit
    assert not marker.exists()  # git status never ran the checkout's programs


@needs_git
def test_no_checkout_no_git_source(tmp_path: Path) -> None:
    assert read_git_source(tmp_path) is None  # tmp_path lies in no checkout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (fails under CI)")
def test_real_git_repository(tmp_path: Path) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
    }  # fmt: skip

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(tmp_path), *args], env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return out.stdout.strip()

    git("init", "-q", "-b", "trunk")
    (tmp_path / "f").write_text("x")
    git("add", "f")
    git("commit", "-q", "-m", "one")
    git("remote", "add", "origin", "git@github.com:acme/model-repo.git")
    source = read_git_source(tmp_path)
    assert source is not None
    assert source.commit == git("rev-parse", "HEAD")
    assert source.ref == "refs/heads/trunk"
    assert source.repository == "ssh://github.com/acme/model-repo.git"
    git("checkout", "-q", "--detach")
    detached = read_git_source(tmp_path)
    assert detached is not None and detached.ref is None and detached.commit == source.commit


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (fails under CI)")
@pytest.mark.parametrize("relative", [False, True])
def test_local_path_remote_is_a_valid_git_file_uri(tmp_path: Path, relative: bool) -> None:
    from urllib.parse import urlsplit

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}  # fmt: skip
    upstream, work = tmp_path / "up stream.git", tmp_path / "work"
    work.mkdir()
    run = lambda *a: subprocess.run(["git", *a], env=env, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "--bare", str(upstream))
    run("-C", str(work), "init", "-q", "-b", "main")
    (work / "f").write_text("x")
    run("-C", str(work), "add", "f")
    run("-C", str(work), "commit", "-q", "-m", "one")
    remote = "../up stream.git" if relative else str(upstream)
    run("-C", str(work), "remote", "add", "origin", remote)
    facts = _facts(declared=None)
    facts.declared = None
    facts.source = read_source_facts(work, {})
    st = build_provenance(facts, started_on=None, finished_on=None)
    (dep,) = _role(st, "source")
    uri = dep["uri"]
    assert uri.startswith("git+file:///") and " " not in uri, uri
    parts = urlsplit(uri.removeprefix("git+").split("@refs/")[0])
    assert parts.scheme == "file" and parts.path.endswith("/up%20stream.git")


def test_no_checkout_no_source(tmp_path: Path) -> None:
    facts = _facts(declared=None)
    facts.declared = None
    st = build_provenance(facts, started_on=None, finished_on=None)
    assert _role(st, "source") == []


def test_clean_remote_url() -> None:
    assert clean_remote_url("https://user:pw@host.example:8443/a/b.git") == (
        "https://host.example:8443/a/b.git"
    )
    assert clean_remote_url("git@github.com:acme/r.git") == "ssh://github.com/acme/r.git"
    assert clean_remote_url("ssh://git@github.com/acme/r") == "ssh://github.com/acme/r"


def test_ci_environment_keeps_only_what_provenance_reads() -> None:
    env = {**GITHUB_ENV, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "s3cret", "GITHUB_TOKEN": "s3cret",
           "GITHUB_EVENT_NAME": ""}  # fmt: skip
    ci = read_ci_environment(env)
    assert ci.on_github_actions and "s3cret" not in json.dumps(ci.github)
    assert "GITHUB_EVENT_NAME" not in ci.github  # set but empty: unknown
    assert not read_ci_environment({}).on_github_actions


@needs_git
def test_provenance_command_names_the_checkout_of_source_dir(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from attest.cli import cli
    from tests.helpers import make_model_dir

    model = make_model_dir(tmp_path / "repo" / "model")
    sha = make_checkout(tmp_path / "repo", remote="https://u:s3cret@git.example/acme/m.git")
    runner = CliRunner(env={"GITHUB_ACTIONS": None})  # the local build type, wherever this runs
    ref, out = f"oci:{tmp_path / 'layout'}:v1", tmp_path / "provenance.json"
    packed = runner.invoke(cli, ["pack", str(model), "--to", ref])
    assert packed.exit_code == 0, packed.output
    done = runner.invoke(cli, ["provenance", ref, "--source-dir", str(model), "-o", str(out)])
    assert done.exit_code == 0, done.output
    statement = json.loads(out.read_text())
    assert statement["predicate"]["buildDefinition"]["buildType"] == LOCAL_BUILD_TYPE
    assert _role(statement, "source") == [
        {
            "name": "source",
            "uri": "git+https://git.example/acme/m.git@refs/heads/main",
            "digest": {"gitCommit": sha},
            "annotations": {"role": "source"},
        }
    ]
    assert "s3cret" not in out.read_text()
