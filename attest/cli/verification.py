"""Commands that check: verify, and the policy group (test, push)."""

from __future__ import annotations

from pathlib import Path

import click

from attest.cli.app import cli
from attest.cli.common import (
    ENGINE_OPTION,
    FORMAT,
    OPA_URL_OPTION,
    choose_signer_from_flags,
    emit,
    log,
    registry_options,
    signer_options,
)
from attest.cli.login_options import current_login
from attest.cli.trust_options import verify_request_options
from attest.errors import UsageError, VerificationError
from attest.flows.verify import VerifyRequest
from attest.oci.stores import StoreOptions


@cli.group()
def policy() -> None:
    """Rego policies: run their unit tests, publish them as OPA bundles."""


@policy.command("test")
@click.argument("source", required=False)
@click.option("--run", "match", metavar="REGEXP", help="Only tests whose package.rule matches.")
@click.option(
    "-v", "--verbose", "verbose", is_flag=True, help="List every test, not only failures."
)
@ENGINE_OPTION
@OPA_URL_OPTION
@registry_options
@FORMAT
def policy_test(
    source: str | None,
    match: str | None,
    verbose: bool,
    engine: str,
    opa_url: str | None,
    plain_http: bool,
    insecure: bool,
    fmt: str,
) -> None:
    """Run the Rego unit tests (test_* rules) of a policy DIR, FILE or OCI REF.

    Without SOURCE, the tests of the built-in policy library.
    """
    from attest.policy.cli_glue import run_policy_tests

    report = run_policy_tests(
        source, engine=engine, opa_url=opa_url, match=match,
        plain_http=plain_http, insecure=insecure, login=current_login(),
    )  # fmt: skip
    emit(fmt, report.to_dict(), lambda: report.text(verbose=verbose))
    if not report.results:
        raise UsageError(f"no test_* rules in {source or 'the built-in policy'}")
    if not report.ok:
        raise VerificationError(
            f"policy tests failed: {report.count('fail')} failed, {report.count('error')} errors"
        )


@policy.command("push")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("reference")
@click.option("--revision", help="Bundle revision (default: a digest of the files), e.g. a commit.")
@click.option("--include-tests", is_flag=True, help="Ship the *_test.rego files too.")
@click.option("--no-library", is_flag=True,
              help="Leave out the lib.modelpack packages the policy imports.")  # fmt: skip
@click.option("--no-sign", is_flag=True, help="Push the bundle unsigned.")
@signer_options
@registry_options
@FORMAT
def policy_push(
    source: Path,
    reference: str,
    revision: str | None,
    include_tests: bool,
    no_library: bool,
    no_sign: bool,
    key: Path | None,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
    plain_http: bool,
    insecure: bool,
    fmt: str,
) -> None:
    """Publish a policy DIR (or one .rego FILE) as an OPA bundle OCI artifact at REFERENCE."""
    from attest.policy.cli_glue import push_policy

    signer = None
    if not no_sign:  # chosen first: a bad flag or token fails before anything is pushed
        signer = choose_signer_from_flags(key, identity_token, interactive, staging, trust_config)
    pushed = push_policy(
        source, reference, revision=revision, include_tests=include_tests,
        library=not no_library, plain_http=plain_http, insecure=insecure, login=current_login(),
    )  # fmt: skip
    out = pushed.to_dict()
    if signer is not None:
        from attest.policy.signing import sign_policy_bundle

        options = StoreOptions(plain_http=plain_http, insecure=insecure, login=current_login())
        out["signature"] = sign_policy_bundle(pushed, signer, options).digest
        out["signer"] = signer.describe()
    emit(fmt, out, lambda: pushed.reference)


@cli.command()
@click.argument("reference")
@verify_request_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True)  # fmt: skip
def verify(reference: str, request: VerifyRequest, fmt: str) -> None:
    """Verify every signed referrer of an artifact, then (with --policy) judge the report.

    Exit 1 when a signature fails, when nothing verifies, when identity flags match no
    keyless signature, or on policy violations (enforce). Only keys and identities you name
    are trusted: the local development key too only with --allow-dev-key (or --key).

    \b
    Example:
      attest verify registry.example/models/llm:v1 \\
        --identity https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1 \\
        --issuer https://token.actions.githubusercontent.com --policy policies/
    """
    from attest.flows.verify import verify_reference
    from attest.verify.render import render_report

    outcome = verify_reference(reference, request)
    click.echo(render_report(outcome.report, outcome.decision, fmt), nl=False)
    outcome.raise_for_failure()
    decision = outcome.decision
    if decision is not None and decision.violations:
        log.warning("policy (warn mode): %d violation(s)", len(decision.violations))
