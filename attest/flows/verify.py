"""Verify one reference and judge it under a policy: what `attest verify`, `register`,
`handoff` and `audit` share, so that every home verifies the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest.errors import VerificationError
from attest.oci.reference import Reference, parse_reference
from attest.oci.registry import Login
from attest.oci.store import Descriptor, Store
from attest.oci.stores import StoreOptions, open_store
from attest.verify.identity import IdentityPolicy
from attest.verify.report import VerificationReport
from attest.verify.verifier import VerifyOptions, verify_subject


@dataclass
class VerifyRequest:
    """Everything the user said about whom to trust and what to require."""

    key: Path | None = None
    allow_dev_key: bool = False  # the local development key is trusted only when asked for
    identity: IdentityPolicy = field(default_factory=IdentityPolicy)
    trust_config: Path | None = None
    staging: bool = False
    offline: bool = False
    policy_source: str | None = None
    params: Path | None = None
    mode: str = "enforce"
    entrypoint: str | None = None
    engine: str = "regorus"
    opa_url: str | None = None
    plain_http: bool = False
    insecure: bool = False
    login: Login | None = None  # credential flags of the command line
    referrers_mode: str = "auto"
    notation: Any = None  # NotationSettings (trust policy + store) when notation is configured

    @property
    def store_options(self) -> StoreOptions:
        return StoreOptions(plain_http=self.plain_http, insecure=self.insecure, login=self.login)

    def verify_options(self) -> VerifyOptions:
        return VerifyOptions(
            key=self.key, allow_dev_key=self.allow_dev_key, identity=self.identity,
            trust_config=self.trust_config,
            staging=self.staging, offline=self.offline,
            referrers_mode=self.referrers_mode,  # type: ignore[arg-type]
            notation=self.notation,
        )  # fmt: skip


@dataclass
class VerifyOutcome:
    reference: Reference
    store: Store
    subject: Descriptor
    report: VerificationReport
    decision: Any = None  # attest.policy.decision.Decision when a policy was evaluated

    @property
    def pinned(self) -> str:
        """The reference pinned to the verified digest (no tag)."""
        return str(self.reference.pinned(self.subject.digest))

    @property
    def failure(self) -> str | None:
        """Why this outcome must not be trusted (None: it may)."""
        failed = self.report.signature_failures
        if failed:
            return f"{len(failed)} signature(s) failed: {failed[0]}"
        if self.report.errors:  # identity flags that no keyless signature matched
            return self.report.errors[0]
        if not self.report.verified:
            return f"no verified signature on {self.subject.digest}"
        if self.decision is not None and self.decision.failed:
            first, n = self.decision.violations[0], len(self.decision.violations)
            return f"policy: {n} violation(s): [{first.code}] {first.msg}"
        return None

    def raise_for_failure(self) -> None:
        reason = self.failure
        if reason is None:
            return
        hint = None
        if reason.startswith("no verified signature"):
            hint = ("sign with `attest sign` or `attest run`; give --key, --identity/--issuer, "
                    "or --allow-dev-key for the local development key")
        raise VerificationError(reason, hint=hint)


def resolve(reference: str, request: VerifyRequest) -> tuple[Reference, Store, Descriptor]:
    from attest.cli.common import resolve_target  # one rule for a reference without tag

    ref = parse_reference(reference)
    store = open_store(ref, request.store_options)
    return ref, store, store.get_manifest(resolve_target(store, ref)).descriptor


def verify_reference(reference: str, request: VerifyRequest) -> VerifyOutcome:
    """Resolve, verify every referrer, then evaluate the policy (when one is given)."""
    ref, store, subject = resolve(reference, request)
    options = request.verify_options()
    report = verify_subject(store, subject, str(ref.with_digest(subject.digest)), options)
    outcome = VerifyOutcome(ref, store, subject, report)
    outcome.decision = evaluate(report, request, options)
    return outcome


def evaluate(report: VerificationReport, request: VerifyRequest, options: VerifyOptions) -> Any:
    policy_source = request.policy_source
    if request.mode == "off" or not (policy_source or request.params):
        return None
    if policy_source and not Path(policy_source).exists():
        # a policy from a registry is obeyed only once its own signature verifies, and the
        # bundle evaluated is the one verified (pinned by digest)
        from attest.policy.signing import verify_policy_bundle

        policy_source = verify_policy_bundle(policy_source, options, request.store_options)
    from attest.policy.cli_glue import evaluate_policy

    return evaluate_policy(
        report.to_dict(), policy_source, request.params, engine=request.engine,
        opa_url=request.opa_url, plain_http=request.plain_http, insecure=request.insecure,
        mode=request.mode, entrypoint=request.entrypoint,
    )  # fmt: skip
