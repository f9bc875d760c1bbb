"""The trust and policy options of `attest verify`, shared by every command that verifies first
(register, handoff, audit): one set of flags, folded into one VerifyRequest."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from attest.cli.common import ENGINE_OPTION, OPA_URL_OPTION, referrers_mode_option, registry_options
from attest.cli.login_options import current_login
from attest.cli.notation_options import notation_options, notation_settings
from attest.flows.verify import VerifyRequest
from attest.verify.identity import IdentityPolicy

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)
_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option("--key", type=_FILE,
                 help="Public key for key-signed bundles (PEM; cosign.pub works too)."),
    click.option("--allow-dev-key", is_flag=True,
                 help="Trust the local development key (never implied; not for release)."),
    click.option("--identity", help="Exact signer identity (certificate SAN) for keyless bundles."),
    click.option("--identity-regexp", help="Fully anchored regular expression for the identity."),
    click.option("--issuer",
                 help="Exact OIDC issuer, e.g. https://token.actions.githubusercontent.com"),
    click.option("--repository",
                 help="GitHub: the source repository (owner/repo) in the certificate."),
    click.option("--workflow-ref",
                 help="GitHub: owner/repo/.github/workflows/F.yml@REF that signed."),
    click.option("--trust-config", type=_FILE,
                 help="Client trust config of a private Sigstore instance."),
    click.option("--staging", is_flag=True, help="Trust Sigstore's staging instance."),
    click.option("--offline", is_flag=True,
                 help="No call to any Sigstore service: the trust root at hand only."),
    click.option("--policy", "policy_source",
                 help="Rego policy: a directory, a .rego file or an OCI ref."),
    click.option("--params", type=_FILE, help="Policy parameters (JSON or YAML)."),
    click.option("--mode", type=click.Choice(["enforce", "warn", "off"]), default="enforce",
                 show_default=True, help="What policy violations do."),
    click.option("--entrypoint", help="Policy package with deny/warn (default: attest.main)."),
    ENGINE_OPTION,
    OPA_URL_OPTION,
    registry_options,
    referrers_mode_option,
]  # fmt: skip
_NAMES = (
    "key", "allow_dev_key", "identity", "identity_regexp", "issuer", "repository", "workflow_ref",
    "trust_config", "staging", "offline", "policy_source", "params", "mode", "entrypoint",
    "engine", "opa_url", "plain_http", "insecure", "referrers_mode",
)  # fmt: skip


def verify_request_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add verify's trust and policy flags; the command receives ``request: VerifyRequest``."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _NAMES}
        kwargs["request"] = request_from(values)
        kwargs["request"].notation = notation_settings()  # set by the notation options' wrapper
        kwargs["request"].login = current_login()  # set by the credential options' wrapper
        return f(*args, **kwargs)

    decorated: Callable[..., Any] = notation_options(wrapper)
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated


def request_from(values: dict[str, Any]) -> VerifyRequest:
    identity = IdentityPolicy(
        values.pop("identity"), values.pop("identity_regexp"), values.pop("issuer"),
        values.pop("repository"), values.pop("workflow_ref"),
    )  # fmt: skip
    return VerifyRequest(identity=identity, **values)
