"""Models in the real docker-registry for the hand-off tests (register, handoff, audit):
one signed with a generated release key, one attached but unsigned."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, run_attest

MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"


@pytest.fixture(scope="session")
def release_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``release`` path stem: release.key (private) and release.pub."""
    root = tmp_path_factory.mktemp("keys")
    done = run_attest("key", "generate", str(root / "release"))
    assert done.returncode == 0, done.stderr
    return root / "release"


@pytest.fixture(scope="session")
def signed_ref(registry_server, release_key: Path) -> str:
    ref = f"{registry_server.host}/handoff/open-llm:v1"
    done = run_attest("run", str(MODEL), "--to", ref, "--key", f"{release_key}.key",
                      "--no-creation-time")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return ref


@pytest.fixture(scope="session")
def unsigned_ref(registry_server) -> str:
    ref = f"{registry_server.host}/handoff/open-llm-unsigned:v1"
    done = run_attest("run", str(MODEL), "--to", ref, "--no-sign", "--mode", "off")
    assert done.returncode == 0, done.stderr
    return ref
