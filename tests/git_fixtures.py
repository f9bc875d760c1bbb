"""Real git checkouts for tests, made by the ``git`` binary (never hand-written ``.git`` files)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

needs_git = pytest.mark.skipif(
    shutil.which("git") is None, reason="git is not installed (fails under CI)"
)


def git_env(home: Path) -> dict[str, str]:
    """An environment that reads no user or system git config and names a committer."""
    return {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(home), "PATH": "/usr/bin:/bin",
    }  # fmt: skip


def git(root: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(root), *args], env=git_env(root), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return out.stdout.strip()


def make_checkout(root: Path, *, remote: str | None = None, branch: str = "main") -> str:
    """``git init`` + one commit in ``root`` (origin set to ``remote``); the commit's id."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    (root / ".gitattributes").write_text("")
    git(root, "add", ".gitattributes")
    git(root, "commit", "-q", "-m", "one")
    if remote is not None:
        git(root, "config", "remote.origin.url", remote)  # any value, as a user could write it
    return git(root, "rev-parse", "HEAD")
