"""The wheel is what users get (pip, pipx, pre-commit, containers): build it, install it without
``-e`` into a fresh venv, and use it from there. An editable install hides a package the wheel
leaves out, so every other test would pass with a broken wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTENT = ("mof", "cards", "policies")
MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")


def _source_files(root: Path) -> list[Path]:
    return [
        p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        and p.suffix != ".pyc"
    ]  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build from a copy of the tree, so the build leaves no build/ or egg-info in the repo."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("attest", *CONTENT):
        shutil.copytree(REPO_ROOT / name, src / name, ignore=_IGNORE)
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, src / name)
    # No build isolation: the test extra pins a setuptools that builds wheels, so this works
    # offline and does not fetch a build backend on every run.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp / "dist"), str(src)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (built,) = (tmp / "dist").glob("attest-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; dependencies come from this venv, added after."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    py = root / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
         "-q", str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    # The dependencies already installed here, without reinstalling them: a .pth appends this
    # venv's site-packages *after* the new venv's own. .pth files in an appended directory are not
    # processed, so the editable install of attest there is not picked up.
    (site / "_outer_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _attest(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ATTEST_"))}
    env.update(
        HOME=str(cwd), XDG_CONFIG_HOME=str(cwd / "config"), XDG_CACHE_HOME=str(cwd / "cache"),
        ATTEST_CONFIG_DIR=str(cwd / "config"), NO_COLOR="1",
    )  # fmt: skip
    return subprocess.run(
        [str(venv / "bin" / "attest"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_wheel_lists_every_module_and_content_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    want = {p.relative_to(REPO_ROOT).as_posix() for p in _source_files(REPO_ROOT / "attest")}
    for name in CONTENT:
        want |= {
            f"attest/_content/{name}/{p.relative_to(REPO_ROOT / name).as_posix()}"
            for p in _source_files(REPO_ROOT / name)
        }
    missing = sorted(want - names)
    assert missing == [], f"the wheel leaves out {missing}"
    # Every directory holding Python is a package: a namespace directory is what got lost before.
    for init in {Path(n).parent for n in want if n.endswith(".py")}:
        assert f"{init.as_posix()}/__init__.py" in names, f"{init} has no __init__.py"


def test_installed_wheel_runs_the_quick_start(venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import attest, attest.policy, attest.content as c; "
         "print(attest.__file__); print(c.content_dir('policies'))"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert all(Path(w).is_relative_to(venv) for w in where), where  # not the source tree

    steps = [
        ("key", "generate", "release"),
        ("run", str(MODEL), "--to", f"oci:{tmp_path / 'out'}:v1", "--key", "release.key"),
        ("verify", f"oci:{tmp_path / 'out'}:v1", "--key", "release.pub"),
        ("policy", "test"),
        ("card", str(MODEL), "-o", str(tmp_path / "card.md")),
        ("mof", str(MODEL)),
        ("report", f"oci:{tmp_path / 'out'}:v1", "--key", "release.pub", "--format", "html",
         "-o", str(tmp_path / "report.html")),  # the report templates ship in the wheel
    ]
    for args in steps:
        done = _attest(venv, tmp_path, *args)
        assert done.returncode == 0, f"attest {' '.join(args)}: {done.stderr[-2000:]}"
    assert (tmp_path / "card.md").read_text(encoding="utf-8").startswith("---")
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
