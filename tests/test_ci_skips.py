"""Under CI a skipped test fails (tests/conftest.py), and a skip must always say why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

CASES = '''
import pytest
from tests.conftest import CI_MAY_SKIP

def test_named_skip():
    pytest.skip("openssl not installed")

@pytest.mark.skipif(True, reason="a tool is missing")
def test_named_skipif():
    pass

@pytest.mark.skip
def test_unnamed_skip():
    pass

def test_documented_exception():
    pytest.skip(CI_MAY_SKIP + "no opa binary")

@pytest.mark.xfail(reason="known", strict=True)
def test_xfail():
    assert False
'''


def _run(tmp_path: Path, ci: str | None) -> str:
    probe = tmp_path / "test_probe.py"
    probe.write_text(CASES, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    # The suite's conftest.py loaded as a plugin: the same hook the suite runs under.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "tests.conftest",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(probe)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout


def test_outside_ci_named_skips_skip_and_unnamed_ones_fail(tmp_path: Path) -> None:
    out = _run(tmp_path, None)
    assert "a skip must say why" in out
    assert "3 skipped, 1 xfailed, 1 error" in out, out


def test_under_ci_only_the_documented_exception_skips(tmp_path: Path) -> None:
    out = _run(tmp_path, "true")
    assert "skipped under CI (openssl not installed)" in out
    assert "skipped under CI (a tool is missing)" in out
    assert "1 failed, 1 skipped, 1 xfailed, 2 errors" in out, out
    assert "[not run in CI] no opa binary" in out
