"""Stages are pure functions of ModelFacts: no disk, no environment, no clock, no processes.

Facts (``attest/facts/``) read the model, the checkout and the CI environment; the flows pass build
times in. Readers of SBOM documents (``attest/sbom_read/``) need no writer, so verify, report and
lint read evidence without importing what builds it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

ATTEST = REPO_ROOT / "attest"
IMPURE_MODULES = {"os", "subprocess", "socket", "shutil", "time", "tempfile", "urllib.request"}
IMPURE_CALLS = {"now", "utcnow", "today", "getenv", "environ"}  # datetime.now(), os.environ...


def _modules(folder: str) -> list[Path]:
    return sorted((ATTEST / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _modules("stages"), ids=lambda p: str(p.relative_to(ATTEST)))
def test_a_stage_reads_no_disk_environment_or_clock(path: Path) -> None:
    assert not _imports(path) & IMPURE_MODULES
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not used & IMPURE_CALLS, f"{path.name} uses {sorted(used & IMPURE_CALLS)}"


def test_the_purity_check_can_fail(tmp_path: Path) -> None:
    impure = tmp_path / "impure.py"
    impure.write_text("import subprocess\nfrom datetime import datetime\nx = datetime.now()\n")
    assert _imports(impure) & IMPURE_MODULES == {"subprocess"}
    tree = ast.parse(impure.read_text())
    assert "now" in {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


@pytest.mark.parametrize("folder", ["sbom_read", "lint"])
def test_readers_and_checkers_import_no_writer(folder: str) -> None:
    for path in _modules(folder):
        writers = {m for m in _imports(path) if m.startswith("attest.stages.sbom")}
        if path.name == "freshness.py":  # it rebuilds a document to compare, on purpose
            continue
        assert not writers, f"{path.relative_to(ATTEST)} imports {sorted(writers)}"
