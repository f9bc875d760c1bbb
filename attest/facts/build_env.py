"""Where the build runs and what it was made from: the CI's environment and the git checkout.

Read once, by the flow that builds (``attest run``, ``attest provenance``), into
``ModelFacts.source``; the provenance stage then reads only that. Only the CI variables
provenance uses are kept (no tokens: ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` and the like never enter).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from attest.facts.git_source import GitSource, read_git_source

# The GitHub Actions variables that say which workflow runs, where, and which run it is.
GITHUB_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_WORKFLOW_REF",
    "GITHUB_EVENT_NAME",
    "GITHUB_REPOSITORY_ID",
    "GITHUB_REPOSITORY_OWNER_ID",
    "RUNNER_ENVIRONMENT",
    "GITHUB_REF",
    "GITHUB_SHA",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
)


@dataclass(frozen=True)
class CiEnvironment:
    github: dict[str, str] = field(default_factory=dict)  # GITHUB_VARIABLES that are set

    @property
    def on_github_actions(self) -> bool:
        return self.github.get("GITHUB_ACTIONS") == "true"


@dataclass(frozen=True)
class SourceFacts:
    """The build's source and builder: nothing known by default (no checkout, no CI)."""

    git: GitSource | None = None  # the model directory's checkout, when it is one
    ci: CiEnvironment = field(default_factory=CiEnvironment)


def read_ci_environment(environ: Mapping[str, str] | None = None) -> CiEnvironment:
    """The CI variables provenance reads, from ``environ`` (default: this process's)."""
    env = os.environ if environ is None else environ
    return CiEnvironment({k: env[k] for k in GITHUB_VARIABLES if env.get(k)})


def read_source_facts(
    directory: Path | None, environ: Mapping[str, str] | None = None
) -> SourceFacts:
    """The checkout ``directory`` lies in (when given) and the CI environment."""
    git = read_git_source(directory) if directory is not None else None
    return SourceFacts(git=git, ci=read_ci_environment(environ))
