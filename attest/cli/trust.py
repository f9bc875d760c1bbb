"""The trust and policy flags of ``attest verify``, as decorators for every command that
verifies before it shows something (``attest report``, ``attest diff``): same names, same
meaning, so a CI step passes one set of flags to each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from attest.cli.common import ENGINE_OPTION, OPA_URL_OPTION
from attest.cli.notation_options import notation_options, notation_settings

TRUST_KEYS = ("key", "identity", "identity_regexp", "issuer", "repository", "workflow_ref",
              "trust_config", "staging", "offline")  # fmt: skip
POLICY_KEYS = ("policy_source", "params", "mode", "entrypoint", "engine", "opa_url")


def trust_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Which signatures count: a public key, or a keyless identity and issuer."""
    options = [
        click.option("--key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     help="Public key for key-signed bundles (PEM; cosign.pub works too)."),
        click.option("--identity", help="Exact signer identity (certificate SAN), keyless."),
        click.option("--identity-regexp", help="Fully anchored regular expression for it."),
        click.option("--issuer", help="Exact OIDC issuer, e.g. "
                     "https://token.actions.githubusercontent.com"),
        click.option("--repository", help="GitHub: the source repository (owner/repo)."),
        click.option("--workflow-ref",
                     help="GitHub: owner/repo/.github/workflows/F.yml@REF that signed."),
        click.option("--trust-config",
                     type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     help="Client trust config of a private Sigstore instance."),
        click.option("--staging", is_flag=True, help="Trust Sigstore's staging instance."),
        click.option("--offline", is_flag=True,
                     help="No call to any Sigstore service: the trust root at hand only."),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return notation_options(f)  # notation's trust policy and store, as `attest verify` takes


def policy_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """An optional Rego policy over the verification report, as ``attest verify`` takes it."""
    options = [
        click.option("--policy", "policy_source",
                     help="Rego policy: a directory, a .rego file or an OCI ref."),
        click.option("--params", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     help="Policy parameters (JSON or YAML)."),
        click.option("--mode", type=click.Choice(["enforce", "warn", "off"]), default="enforce",
                     show_default=True, help="What policy violations do."),
        click.option("--entrypoint", help="Policy package with deny/warn (default: attest.main)."),
        ENGINE_OPTION,
        OPA_URL_OPTION,
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


def verify_options_from(flags: dict[str, Any], referrers_mode: str) -> Any:
    """VerifyOptions from the flags :func:`trust_options` declared."""
    from attest.verify.identity import IdentityPolicy
    from attest.verify.verifier import VerifyOptions

    return VerifyOptions(
        key=flags["key"],
        identity=IdentityPolicy(flags["identity"], flags["identity_regexp"], flags["issuer"],
                                flags["repository"], flags["workflow_ref"]),
        trust_config=flags["trust_config"], staging=flags["staging"], offline=flags["offline"],
        referrers_mode=referrers_mode,  # type: ignore[arg-type]
        notation=notation_settings(),
    )  # fmt: skip


def policy_options_from(flags: dict[str, Any]) -> Any:
    from attest.flows.report import PolicyOptions

    return PolicyOptions(
        source=flags["policy_source"], params=flags["params"], mode=flags["mode"],
        entrypoint=flags["entrypoint"], engine=flags["engine"], opa_url=flags["opa_url"],
    )  # fmt: skip
