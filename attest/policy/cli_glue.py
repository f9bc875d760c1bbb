"""What the ``attest verify --policy``, ``attest policy test`` and ``attest policy push``
commands call: option values in, results out; no click here (cli.py stays a thin shell)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attest.oci.registry import Login
from attest.oci.stores import StoreOptions
from attest.policy.bundle import PushedBundle, build_bundle, push_bundle
from attest.policy.decision import Decision, evaluate
from attest.policy.engine import DEFAULT_ENGINE, create_engine
from attest.policy.loader import load_params, load_policy
from attest.policy.testing import TestReport, run_tests


def evaluate_policy(
    report: dict[str, Any],
    policy_source: str | None,
    params: Path | str | None,
    *,
    engine: str = DEFAULT_ENGINE,
    opa_url: str | None = None,
    plain_http: bool = False,
    insecure: bool = False,
    login: Login | None = None,
    mode: str = "enforce",
    entrypoint: str | None = None,
) -> Decision:
    """``--policy DIR|FILE|REF`` (None: the built-in policy) with ``--params FILE`` over a
    VerificationReport. The caller decides what violations mean (see ``Decision.failed``)."""
    options = StoreOptions(plain_http=plain_http, insecure=insecure, login=login)
    policy = load_policy(policy_source, store_options=options)
    parameters = load_params(params)
    if mode == "off":
        return evaluate(report, policy, parameters, mode=mode, entrypoint=entrypoint)
    rego = create_engine(engine, opa_url=opa_url)
    try:
        return evaluate(report, policy, parameters, mode=mode, engine=rego, entrypoint=entrypoint)
    finally:
        close = getattr(rego, "close", None)
        if close:
            close()


def run_policy_tests(
    source: Path | str | None,
    *,
    engine: str = DEFAULT_ENGINE,
    opa_url: str | None = None,
    match: str | None = None,
    plain_http: bool = False,
    insecure: bool = False,
    login: Login | None = None,
) -> TestReport:
    """``attest policy test DIR``: the Rego unit tests of a policy (None: the built-in one)."""
    options = StoreOptions(plain_http=plain_http, insecure=insecure, login=login)
    policy = load_policy(source, include_tests=True, store_options=options)
    rego = create_engine(engine, opa_url=opa_url)
    try:
        return run_tests(policy, engine=rego, match=match)
    finally:
        close = getattr(rego, "close", None)
        if close:
            close()


def push_policy(
    source: Path,
    reference: str,
    *,
    revision: str | None = None,
    include_tests: bool = False,
    library: bool = True,
    plain_http: bool = False,
    insecure: bool = False,
    login: Login | None = None,
) -> PushedBundle:
    """``attest policy push DIR REF``: build the OPA bundle and push it."""
    bundle = build_bundle(source, revision=revision, include_tests=include_tests, library=library)
    options = StoreOptions(plain_http=plain_http, insecure=insecure, login=login)
    return push_bundle(bundle, reference, store_options=options)
