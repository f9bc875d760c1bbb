"""Which signer a run uses, behind one small protocol.

The order (issue #6): what the user asked for (``--key``, ``--identity-token`` or
``SIGSTORE_ID_TOKEN``, ``--interactive``); else the CI's ambient OIDC credential (keyless);
else the local development key, so ``attest run`` works on a fresh machine with no network —
and says plainly that it used a dev key, not for release.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from attest.errors import UsageError
from attest.sign import keyless
from attest.sign.key_signer import KeySigner
from attest.sign.keys import ensure_dev_key, load_private_key

log = logging.getLogger(__name__)

SIGNER_KINDS = ("keyless", "key", "dev-key")


@runtime_checkable
class Signer(Protocol):
    """Turns in-toto statements into Sigstore bundles (one bundle per statement, in order)."""

    # Read-only members: implementations may narrow them (a Literal kind, claims never None).
    @property
    def kind(self) -> str:
        """"keyless" | "key" | "dev-key"."""
        ...

    @property
    def identity(self) -> str:
        """Who or what signs: "alice@example.org (https://accounts.google.com)", "key <hint>"..."""
        ...

    @property
    def oidc_claims(self) -> dict[str, Any] | None:
        """The OIDC token's claims for keyless signing (provenance reads GitHub's), else None."""
        ...

    def sign_statements(self, statements: list[dict[str, Any]]) -> list[bytes]: ...

    def describe(self) -> str:
        """One line for the run summary ("dev key — not for release (...)" for the dev key)."""
        ...


def choose_signer(
    *,
    key: str | Path | None = None,
    identity_token: str | None = None,
    interactive: bool = False,
    staging: bool = False,
    trust_config: str | Path | None = None,
    allow_dev_key: bool = True,
    env: Mapping[str, str] | None = None,
) -> Signer:
    """The signer for this run, in the documented order. Never prompts.

    ``--staging``/``--trust-config`` choose *which* Sigstore a keyless signer uses; given
    without any identity they are an error rather than a silent fall back to the dev key.
    """
    if key is not None:
        # Only flags clash with --key: a CI may export SIGSTORE_ID_TOKEN to every job.
        if identity_token or interactive:
            raise UsageError("--key and keyless options (--identity-token, --interactive) clash")
        return KeySigner(load_private_key(key, env=env), kind="key", source=str(key))

    token = keyless.explicit_token(identity_token, env)

    keyless_wanted = bool(token or interactive or staging or trust_config)
    if token is not None:
        parsed = keyless.parse_token(token)  # a bad token fails before any network use
        cfg = keyless.load_trust_config(staging=staging, trust_config=trust_config)
        source = "--identity-token" if identity_token else keyless.ENV_TOKEN
        return keyless.KeylessSigner(cfg, parsed, source=source)
    if interactive:
        cfg = keyless.load_trust_config(staging=staging, trust_config=trust_config)
        return keyless.KeylessSigner(cfg, keyless.interactive_token(cfg), source="interactive")

    try:
        ambient = keyless.ambient_token()
    except UsageError as e:
        if keyless_wanted or not allow_dev_key:
            raise
        # A CI that withholds its token (GitHub without id-token: write, a fork's PR): still
        # sign, with the dev key, and say why keyless was not used.
        log.warning("%s; signing with the dev key instead (%s)", e.message, e.hint or "")
        ambient = None
    if ambient is not None:
        parsed = keyless.parse_token(ambient)
        cfg = keyless.load_trust_config(staging=staging, trust_config=trust_config)
        source = f"{_ci_name(env)} ambient credentials"
        return keyless.KeylessSigner(cfg, parsed, source=source)

    if keyless_wanted:
        raise UsageError(
            "keyless signing needs an identity",
            hint="give --identity-token (or SIGSTORE_ID_TOKEN), --interactive, or run in a CI "
            "with OIDC credentials",
        )
    if not allow_dev_key:
        raise UsageError(
            "no signer: give --key, --identity-token or --interactive",
            hint="outside CI, `attest run` falls back to a development key",
        )
    private, path = ensure_dev_key()
    return KeySigner(private, kind="dev-key", source=str(path))


def _ci_name(env: Mapping[str, str] | None) -> str:
    env = os.environ if env is None else env
    for var, name in (
        ("GITHUB_ACTIONS", "GitHub Actions"),
        ("GITLAB_CI", "GitLab CI"),
        ("BUILDKITE", "Buildkite"),
        ("CIRCLECI", "CircleCI"),
    ):
        if env.get(var):
            return name
    return "CI"
