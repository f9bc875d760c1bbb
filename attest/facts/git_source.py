"""The git checkout a model directory lies in: commit, ref, remotes, dirty, asked of ``git`` itself.

``git`` knows every layout (worktrees, submodules, packed refs, reftable, ``includeIf``), so
nothing here parses ``.git``. Each call has a timeout and runs without the caller's ``GIT_*``
variables, so the answer is about the checkout, not about whatever repository the caller's
environment points at. A directory that is no checkout, or a git that is missing, slow or
refuses (e.g. ``safe.directory``), gives None: provenance then names no source.

Remote URLs are made fit to publish (credentials and secret query parameters dropped, see
:func:`attest.facts.urls.public_url`); a remote that is a path on disk becomes a ``file://`` URI.

Dirty is asked of ``git status`` only when the checkout's own configuration names no program
git would run for it (a ``filter.*`` driver or ``core.fsmonitor`` in ``.git/config``): a model
directory can come from anyone, and status runs those programs. Then ``dirty`` is None (unknown).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from attest.facts.urls import public_url

GIT_TIMEOUT = 5.0
MAX_GIT_OUTPUT = 1024 * 1024  # remotes and refs are small; a checkout that says more is refused

_HEX = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# Read in one call: every remote's URL, and what would make `git status` run a program.
_CONFIG_KEYS = r"^(remote\..*\.url|filter\..*\.(clean|smudge|process)|core\.fsmonitor)$"
_CHECKOUT_SCOPES = ("local", "worktree")  # written by whoever made the checkout


@dataclass(frozen=True)
class GitSource:
    repository: str | None  # origin's URL, fit to publish; None without an origin
    commit: str | None  # HEAD's commit; None on an unborn branch
    ref: str | None  # refs/heads/main; None when HEAD is detached (or has no commit)
    dirty: bool | None = None  # tracked files changed since HEAD; None when not asked
    remotes: dict[str, str] = field(default_factory=dict)  # name -> URL, fit to publish


def read_git_source(directory: Path) -> GitSource | None:
    """The checkout ``directory`` lies in, or None when it is none (or git cannot say)."""
    top = _git(directory, "rev-parse", "--show-toplevel")
    if top is None or not top.strip():
        return None
    toplevel = Path(top.strip())
    commit = _git(directory, "rev-parse", "--verify", "-q", "HEAD")
    commit = commit.strip() if commit and _HEX.match(commit.strip()) else None
    ref = _git(directory, "symbolic-ref", "-q", "HEAD") if commit else None  # detached: None
    remotes, runs_programs = _config(directory, toplevel)
    dirty = None if runs_programs or commit is None else _dirty(directory)
    return GitSource(
        repository=remotes.get("origin"),
        commit=commit,
        ref=ref.strip() or None if ref else None,
        dirty=dirty,
        remotes=remotes,
    )


def _config(directory: Path, toplevel: Path) -> tuple[dict[str, str], bool]:
    """(remote name -> public URL, whether the checkout's config names a program status runs)."""
    out = _git(directory, "config", "-z", "--show-scope", "--get-regexp", _CONFIG_KEYS)
    remotes: dict[str, str] = {}
    runs_programs = False
    tokens = (out or "").split("\0")
    for scope, entry in zip(tokens[0::2], tokens[1::2], strict=False):
        key, _, value = entry.partition("\n")
        if key.startswith("remote.") and key.endswith(".url"):
            name = key[len("remote."):-len(".url")]
            remotes.setdefault(name, _remote_uri(public_url(value), toplevel))
        elif scope in _CHECKOUT_SCOPES and value.strip() not in ("", "false"):
            runs_programs = True
    return remotes, runs_programs


def _remote_uri(url: str, toplevel: Path) -> str:
    """A remote that is a path on disk (``/srv/git/m.git``, ``../upstream``) as a ``file://``
    URI, so that ``git+file:///...`` is a valid URI; URLs are left as they are. A relative path
    is relative to the checkout's top level, as ``git fetch`` reads it."""
    if "://" in url:
        return url
    path = Path(url)
    if not path.is_absolute():
        path = (toplevel / path).resolve()
    return path.as_uri() if path.is_absolute() else url


def _dirty(directory: Path) -> bool | None:
    out = _git(
        directory, "-c", "core.fsmonitor=false", "--no-optional-locks", "status", "--porcelain",
        "-z", "--untracked-files=no", "--ignore-submodules=all",
    )  # fmt: skip
    return None if out is None else out != ""


def _git(directory: Path, *args: str) -> str | None:
    """``git -C directory ARGS`` stdout, or None when git fails, is missing or times out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or len(done.stdout) > MAX_GIT_OUTPUT:
        return None
    return done.stdout.decode("utf-8", "replace")
