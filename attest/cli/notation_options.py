"""The notation options of ``attest verify``, kept apart from the command's own code.

``@notation_options`` adds the flags and takes them out of the command's arguments; the command
asks :func:`notation_settings` for the loaded trust policy and store (None when not given). A
bad policy file or store fails here, before any registry call (exit 2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

_KEY = "attest.notation"
F = TypeVar("F", bound=Callable[..., Any])


def notation_options(f: F) -> F:
    @functools.wraps(f)
    def wrapper(
        *args: Any,
        notation_trust_policy: Path | None,
        notation_trust_store: Path | None,
        notation_unknown_revocation: str,
        notation_crl: Path | None,
        **kwargs: Any,
    ) -> Any:
        from attest.verify.notation.referrer import NotationConfig

        config = NotationConfig(notation_trust_policy, notation_trust_store,
                                notation_unknown_revocation, notation_crl)  # fmt: skip
        click.get_current_context().meta[_KEY] = config.settings() if config.given else None
        return f(*args, **kwargs)

    options = [
        click.option("--notation-trust-policy", type=click.Path(dir_okay=False, exists=True,
                     path_type=Path), envvar="ATTEST_NOTATION_TRUST_POLICY", show_envvar=True,
                     help="notation trustpolicy.json (Notary Project)."),
        click.option("--notation-trust-store", type=click.Path(file_okay=False, exists=True,
                     path_type=Path), envvar="ATTEST_NOTATION_TRUST_STORE", show_envvar=True,
                     help="notation trust store: the directory holding x509/."),
        click.option("--notation-unknown-revocation", type=click.Choice(["fail", "log"]),
                     default="fail", show_default=True,
                     help="Revocation attest cannot check offline (OCSP/CRL): a failure the "
                     "policy's revocation action decides, or only logged."),
        click.option("--notation-crl", type=click.Path(file_okay=False, exists=True,
                     path_type=Path), help="Directory of CRLs fetched beforehand (PEM or DER): "
                     "offline revocation status for notation signing and TSA chains."),
    ]  # fmt: skip
    decorated: Callable[..., Any] = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, decorated)


def notation_settings() -> Any:
    """The NotationSettings of the running command, or None."""
    return click.get_current_context().meta.get(_KEY)
