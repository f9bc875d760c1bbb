"""The provenance stage: an SLSA Provenance v1 statement about the ModelPack artifact.

Two build types:

- on GitHub Actions (``GITHUB_ACTIONS=true``), GitHub's own
  ``https://actions.github.io/buildtypes/workflow/v1`` with the very fields ``actions/attest``
  writes (workflow ref/repository/path, event, repository ids, runner environment,
  ``builder.id`` = ``<server>/<job_workflow_ref>``, ``invocationId`` = the run attempt URL),
  taken from the OIDC token's claims when we have them, else from the runner's environment;
- anywhere else, ``https://attest.dev/buildtypes/modelpack/v1``.

``resolvedDependencies`` name what the model was made from: the source repository and commit
(GitHub's checkout, the model directory's git checkout, or ``attest.yaml``), the base model, the
datasets and the training code. The statement is plain JSON: ints stay ints.

Pure: the checkout and the CI environment are facts (``ModelFacts.source``, read by
:mod:`attest.facts.build_env`), the build times and the signer's OIDC claims are given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from attest import __version__
from attest.errors import UsageError
from attest.facts.build_env import CiEnvironment
from attest.facts.model import DatasetFact, ModelFacts
from attest.facts.urls import public_url
from attest.stages.statement import Evidence, make_statement

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
LOCAL_BUILD_TYPE = "https://attest.dev/buildtypes/modelpack/v1"
GITHUB_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
LOCAL_BUILDER_ID = "https://attest.dev/builders/local/v1"
TRAINING_CODE_COMPONENT = "Training code"  # the MOF component name in attest.yaml

_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_HEX40 = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


# -- entry points -------------------------------------------------------------------------------


def build_provenance(
    facts: ModelFacts,
    *,
    started_on: datetime | None,
    finished_on: datetime | None,
    oidc_claims: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The SLSA v1 statement (a dict) for ``facts.subject``.

    ``oidc_claims`` are the keyless signer's token claims (GitHub puts the workflow in them);
    the checkout and the CI environment are ``facts.source``.
    """
    if facts.subject is None:
        raise UsageError("provenance needs a ModelPack subject: give a reference")
    github = github_context(facts.source.ci, oidc_claims or {})
    source = _source(facts)
    deps = _model_dependencies(facts)
    if github is not None:
        definition, details = _github_predicate(github)
        gh_uri = definition["resolvedDependencies"][0]["uri"].split("@", 1)[0]
        if source is not None and source.get("uri", "").split("@", 1)[0] != gh_uri:
            definition["resolvedDependencies"].append(source)  # model code from elsewhere
    else:
        definition, details = _local_predicate(facts)
        if source is not None:
            definition["resolvedDependencies"].append(source)
    definition["resolvedDependencies"].extend(deps)
    metadata = details.setdefault("metadata", {})
    if started_on is not None:
        metadata["startedOn"] = _rfc3339(started_on)
    if finished_on is not None:
        metadata["finishedOn"] = _rfc3339(finished_on)
    if not metadata:
        del details["metadata"]
    predicate = {"buildDefinition": definition, "runDetails": details}
    return make_statement(facts.subject, PREDICATE_TYPE, predicate)


def provenance_evidence(
    facts: ModelFacts,
    *,
    started_on: datetime | None,
    finished_on: datetime | None,
    oidc_claims: Mapping[str, Any] | None = None,
) -> Evidence:
    """The provenance statement as evidence: signed and attached, no separate document."""
    return Evidence(
        statement=build_provenance(
            facts, started_on=started_on, finished_on=finished_on, oidc_claims=oidc_claims
        )
    )


# -- GitHub Actions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GitHubContext:
    server: str
    repository: str
    workflow_ref: str  # owner/repo/.github/workflows/x.yml@refs/heads/main
    job_workflow_ref: str  # the reusable workflow that ran the job, else workflow_ref
    event_name: Any
    repository_id: Any
    repository_owner_id: Any
    runner_environment: Any
    ref: Any
    sha: Any
    run_id: Any
    run_attempt: Any


def github_context(ci: CiEnvironment, claims: Mapping[str, Any]) -> GitHubContext | None:
    """GitHub's workflow facts: OIDC claims first (signed by GitHub), the environment second.

    None outside GitHub Actions, or when the runner does not say which workflow runs.
    """
    if not ci.on_github_actions:
        return None
    env = ci.github

    def get(claim: str, var: str) -> Any:
        value = claims.get(claim)
        return value if value not in (None, "") else env.get(var) or None

    repository = get("repository", "GITHUB_REPOSITORY")
    workflow_ref = get("workflow_ref", "GITHUB_WORKFLOW_REF")
    if not repository or not workflow_ref:
        return None
    return GitHubContext(
        server=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
        repository=str(repository),
        workflow_ref=str(workflow_ref),
        # No environment variable names the job's (reusable) workflow: only the token does.
        job_workflow_ref=str(claims.get("job_workflow_ref") or workflow_ref),
        event_name=get("event_name", "GITHUB_EVENT_NAME"),
        repository_id=get("repository_id", "GITHUB_REPOSITORY_ID"),
        repository_owner_id=get("repository_owner_id", "GITHUB_REPOSITORY_OWNER_ID"),
        runner_environment=get("runner_environment", "RUNNER_ENVIRONMENT"),
        ref=get("ref", "GITHUB_REF"),
        sha=get("sha", "GITHUB_SHA"),
        run_id=get("run_id", "GITHUB_RUN_ID"),
        run_attempt=get("run_attempt", "GITHUB_RUN_ATTEMPT"),
    )


def _github_predicate(gh: GitHubContext) -> tuple[dict[str, Any], dict[str, Any]]:
    # owner/repo/.github/workflows/main.yml@refs/heads/main -> path, ref (a ref may hold "@")
    path, _, ref = gh.workflow_ref.removeprefix(f"{gh.repository}/").partition("@")
    repo_url = f"{gh.server}/{gh.repository}"
    internal = {
        "event_name": gh.event_name,
        "repository_id": gh.repository_id,
        "repository_owner_id": gh.repository_owner_id,
        "runner_environment": gh.runner_environment,
    }
    source: dict[str, Any] = {"uri": f"git+{repo_url}@{gh.ref}" if gh.ref else f"git+{repo_url}"}
    if gh.sha:
        source["digest"] = {"gitCommit": gh.sha}
    definition = {
        "buildType": GITHUB_BUILD_TYPE,
        "externalParameters": {"workflow": {"ref": ref, "repository": repo_url, "path": path}},
        "internalParameters": {"github": {k: v for k, v in internal.items() if v is not None}},
        "resolvedDependencies": [source],
    }
    details: dict[str, Any] = {
        "builder": {"id": f"{gh.server}/{gh.job_workflow_ref}", "version": _builder_version()},
    }
    if gh.run_id:
        attempt = gh.run_attempt or 1
        details["metadata"] = {
            "invocationId": f"{repo_url}/actions/runs/{gh.run_id}/attempts/{attempt}"
        }
    return definition, details


# -- anywhere else ------------------------------------------------------------------------------


def _local_predicate(facts: ModelFacts) -> tuple[dict[str, Any], dict[str, Any]]:
    model: dict[str, Any] = {"name": facts.name}
    if facts.version:
        model["version"] = facts.version
    external: dict[str, Any] = {"model": model}
    if facts.declared is not None:
        external["declarations"] = facts.declared.path  # attest.yaml steers what is attested
    definition = {
        "buildType": LOCAL_BUILD_TYPE,
        "externalParameters": external,
        "resolvedDependencies": [],
    }
    details = {"builder": {"id": LOCAL_BUILDER_ID, "version": _builder_version()}}
    return definition, details


def _builder_version() -> dict[str, str]:
    return {"attest": __version__}


# -- dependencies -------------------------------------------------------------------------------


def _source(facts: ModelFacts) -> dict[str, Any] | None:
    """The model's source: declared in attest.yaml, else the model directory's git checkout."""
    declared = facts.declared
    if declared is not None and (declared.source_repository or declared.source_commit):
        repo = clean_remote_url(declared.source_repository) if declared.source_repository else None
        return _git_dependency(repo, declared.source_commit, None)
    git = facts.source.git
    if git is None or not git.commit:
        return None
    return _git_dependency(git.repository, git.commit, git.ref)


def _git_dependency(repo: str | None, commit: str | None, ref: str | None) -> dict[str, Any]:
    dep: dict[str, Any] = {"name": "source", "annotations": {"role": "source"}}
    if repo:
        url = repo if repo.startswith("git+") else f"git+{repo}"
        dep["uri"] = f"{url}@{ref}" if ref else url
    if commit:
        dep["digest"] = {"gitCommit": commit}
    return dep


def _model_dependencies(facts: ModelFacts) -> list[dict[str, Any]]:
    deps = [d for d in (_base_model(ref) for ref in facts.base_models) if d is not None]
    deps += [d for d in (_dataset(ds) for ds in facts.datasets) if d is not None]
    deps += _training_code(facts)
    return deps


def _base_model(ref: str) -> dict[str, Any] | None:
    """A base model: an OCI reference (with digest), a URL, or a Hugging Face id[@revision]."""
    ref = ref.strip()
    dep: dict[str, Any] = {"name": ref, "annotations": {"role": "base-model"}}
    if "@sha256:" in ref:
        repo, _, hexdigest = ref.partition("@sha256:")
        dep["uri"] = repo if "://" in repo else f"oci://{repo}"
        dep["digest"] = {"sha256": hexdigest}
        return dep
    if "://" in ref:
        dep["uri"] = public_url(ref)
        dep["name"] = dep["uri"]
        return dep
    repo_id, _, revision = ref.partition("@")
    if not _HF_ID.match(repo_id):
        return None  # a bare description: nothing a verifier could resolve
    dep["uri"] = f"https://huggingface.co/{repo_id}"
    if revision:
        if _HEX40.match(revision):
            dep["digest"] = {"gitCommit": revision}
        else:
            dep["annotations"]["revision"] = revision
    return dep


def _dataset(ds: DatasetFact) -> dict[str, Any] | None:
    dep: dict[str, Any] = {"name": ds.name}
    annotations: dict[str, Any] = {"role": "dataset", "use": ds.use}
    if ds.url:
        dep["uri"] = public_url(ds.url)
    elif ds.path is None and _HF_ID.match(ds.name):
        dep["uri"] = f"https://huggingface.co/datasets/{ds.name}"
    if ds.sha256 and ds.sha256.startswith("sha256:"):
        dep["digest"] = {"sha256": ds.sha256.removeprefix("sha256:")}
    if ds.path:
        annotations["path"] = ds.path  # packed with the model
    if ds.license:
        annotations["license"] = ds.license
    if "uri" not in dep and "digest" not in dep:
        return None  # an in-toto ResourceDescriptor needs a uri or a digest
    dep["annotations"] = annotations
    return dep


def _training_code(facts: ModelFacts) -> list[dict[str, Any]]:
    """Training code files named in attest.yaml's MOF components and packed with the model."""
    declared = facts.declared
    if declared is None:
        return []
    paths = next((v for k, v in declared.components.items() if k.casefold() == "training code"), [])
    by_path = {f.path: f for f in facts.files}
    deps = []
    for path in paths:
        f = by_path.get(path)
        if f is not None:
            deps.append(
                {
                    "name": path,
                    "digest": {"sha256": f.sha256.removeprefix("sha256:")},
                    "annotations": {"role": "training-code"},
                }
            )
    return deps


# -- helpers -----------------------------------------------------------------------------------


def clean_remote_url(url: str) -> str:
    """A remote URL fit to publish: credentials and secret query parameters dropped,
    scp-style made an ssh:// URL."""
    return public_url(url)


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
