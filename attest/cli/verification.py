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
    referrers_mode_option,
    registry_options,
    resolve_target,
    signer_options,
    store_for,
)
from attest.errors import UsageError, VerificationError
from attest.oci.reference import parse_reference
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
        plain_http=plain_http, insecure=insecure,
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
        library=not no_library, plain_http=plain_http, insecure=insecure,
    )  # fmt: skip
    out = pushed.to_dict()
    if signer is not None:
        from attest.policy.signing import sign_policy_bundle

        options = StoreOptions(plain_http=plain_http, insecure=insecure)
        out["signature"] = sign_policy_bundle(pushed, signer, options).digest
        out["signer"] = signer.describe()
    emit(fmt, out, lambda: pushed.reference)


@cli.command()
@click.argument("reference")
@click.option("--key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Public key for key-signed bundles (PEM; cosign.pub works too).")  # fmt: skip
@click.option("--allow-dev-key", is_flag=True,
              help="Trust the local development key (never implied; not for release).")  # fmt: skip
@click.option("--identity", help="Exact signer identity (certificate SAN) for keyless bundles.")
@click.option("--identity-regexp", help="Fully anchored regular expression for the identity.")
@click.option(
    "--issuer", help="Exact OIDC issuer, e.g. https://token.actions.githubusercontent.com"
)
@click.option("--repository", help="GitHub: the source repository (owner/repo) in the certificate.")
@click.option("--workflow-ref", help="GitHub: owner/repo/.github/workflows/F.yml@REF that signed.")
@click.option("--trust-config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Client trust config of a private Sigstore instance.")  # fmt: skip
@click.option("--staging", is_flag=True, help="Trust Sigstore's staging instance.")
@click.option("--offline", is_flag=True,
              help="No call to any Sigstore service: the trust root at hand only.")  # fmt: skip
@click.option(
    "--policy", "policy_source", help="Rego policy: a directory, a .rego file or an OCI ref."
)
@click.option("--params", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Policy parameters (JSON or YAML).")  # fmt: skip
@click.option("--mode", type=click.Choice(["enforce", "warn", "off"]), default="enforce",
              show_default=True, help="What policy violations do.")  # fmt: skip
@click.option("--entrypoint", help="Policy package with deny/warn (default: attest.main).")
@ENGINE_OPTION
@OPA_URL_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True)  # fmt: skip
@registry_options
@referrers_mode_option
def verify(
    reference: str,
    key: Path | None,
    allow_dev_key: bool,
    identity: str | None,
    identity_regexp: str | None,
    issuer: str | None,
    repository: str | None,
    workflow_ref: str | None,
    trust_config: Path | None,
    staging: bool,
    offline: bool,
    policy_source: str | None,
    params: Path | None,
    mode: str,
    entrypoint: str | None,
    engine: str,
    opa_url: str | None,
    fmt: str,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
) -> None:
    """Verify every signed referrer of an artifact, then (with --policy) judge the report.

    Exit 1 when a signature fails, when nothing verifies, when identity flags match no
    keyless signature, or on policy violations (enforce). Only keys and identities you name
    are trusted: the local development key too only with --allow-dev-key (or --key).
    """
    from attest.verify.identity import IdentityPolicy
    from attest.verify.render import render_report
    from attest.verify.verifier import VerifyOptions, verify_subject

    ref = parse_reference(reference)
    store = store_for(ref, plain_http, insecure)
    subject = store.get_manifest(resolve_target(store, ref)).descriptor
    options = VerifyOptions(
        key=key, allow_dev_key=allow_dev_key,
        identity=IdentityPolicy(identity, identity_regexp, issuer, repository, workflow_ref),
        trust_config=trust_config, staging=staging, offline=offline,
        referrers_mode=referrers_mode,  # type: ignore[arg-type]
    )  # fmt: skip
    report = verify_subject(store, subject, str(ref.with_digest(subject.digest)), options)
    decision = None
    if policy_source and not Path(policy_source).exists() and mode != "off":
        # a policy from a registry is obeyed only once its own signature verifies, and the
        # bundle evaluated is the one verified (pinned by digest)
        from attest.policy.signing import verify_policy_bundle

        store_options = StoreOptions(plain_http=plain_http, insecure=insecure)
        policy_source = verify_policy_bundle(policy_source, options, store_options)
    if (policy_source or params) and mode != "off":
        from attest.policy.cli_glue import evaluate_policy

        decision = evaluate_policy(
            report.to_dict(), policy_source, params, engine=engine, opa_url=opa_url,
            plain_http=plain_http, insecure=insecure, mode=mode, entrypoint=entrypoint,
        )  # fmt: skip
    click.echo(render_report(report, decision, fmt), nl=False)
    failed = report.signature_failures
    if failed:
        raise VerificationError(f"{len(failed)} signature(s) failed: {failed[0]}")
    if report.errors:  # identity flags that nothing matched
        raise VerificationError(report.errors[0])
    if not report.verified:
        raise VerificationError(
            f"no verified signature on {subject.digest}",
            hint="sign with `attest sign` or `attest run`; give --key, --identity/--issuer, "
            "or --allow-dev-key for the local development key",
        )
    if decision is not None and decision.failed:
        first = decision.violations[0]
        raise VerificationError(
            f"policy: {len(decision.violations)} violation(s): [{first.code}] {first.msg}"
        )
    if decision is not None and decision.violations:
        log.warning("policy (warn mode): %d violation(s)", len(decision.violations))
