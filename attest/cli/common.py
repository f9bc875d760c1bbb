"""Options, output and resolution helpers every command shares (one place for each)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from attest.cli.login_options import copy_login_options, current_login, login_options
from attest.errors import UsageError
from attest.oci.reference import Reference, parse_reference
from attest.oci.referrers import REFERRERS_MODES
from attest.oci.registry import Login
from attest.oci.store import Store
from attest.oci.stores import StoreOptions, open_store, resolve_target

log = logging.getLogger("attest")


FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Output format on stdout.",
)  # fmt: skip


def registry_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--plain-http/--insecure and the credential flags, as oras and cosign spell them."""
    f = login_options(f)
    f = click.option("--insecure", is_flag=True, help="Skip TLS certificate verification.")(f)
    f = click.option(
        "--plain-http", is_flag=True,
        help="Use HTTP instead of HTTPS (automatic for localhost and 127.0.0.1).",
    )(f)  # fmt: skip
    return f


def copy_registry_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """copy's registry flags: --from-* for the source, --to-* for the destination, and the
    plain ones (both sides), as `oras copy` takes them."""
    f = copy_login_options(f)
    for side, what in (("to", "the destination"), ("from", "the source")):
        f = click.option(f"--{side}-insecure", is_flag=True,
                         help=f"Skip TLS certificate verification for {what}.")(f)  # fmt: skip
        f = click.option(f"--{side}-plain-http", is_flag=True,
                         help=f"Use HTTP instead of HTTPS for {what}.")(f)  # fmt: skip
    f = click.option("--insecure", is_flag=True,
                     help="Skip TLS certificate verification (both sides).")(f)  # fmt: skip
    f = click.option(
        "--plain-http", is_flag=True,
        help="Use HTTP instead of HTTPS (both sides; automatic for localhost).",
    )(f)  # fmt: skip
    return f


def referrers_mode_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--referrers-mode", type=click.Choice(REFERRERS_MODES), default="auto", show_default=True,
        help="auto: Referrers API, fallback tag on 404; api: API only; tag: fallback tag only.",
    )(f)  # fmt: skip


def emit(fmt: str, data: Any, text: Callable[[], str]) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(text())


def store_for(
    ref: Reference,
    plain_http: bool,
    insecure: bool,
    *,
    create: bool = False,
    login: Login | None = None,
) -> Store:
    """The store ``ref`` names, with the command's credential flags (or ``login``'s)."""
    return open_store(ref, store_options(plain_http, insecure, login), create=create)


def store_options(plain_http: bool, insecure: bool, login: Login | None = None) -> StoreOptions:
    return StoreOptions(plain_http, insecure, login or current_login())


def subject_ref(ref: Reference, digest: str) -> str:
    return str(ref.with_digest(digest))


def load_facts(
    source: str, facts_file: Path | None, plain_http: bool, insecure: bool
) -> tuple[Any, Store | None, Reference | None]:
    """ModelFacts of a model directory or of a ModelPack reference (never re-hashing layers)."""
    from attest.modelpack.facts import facts_for_directory, facts_for_reference

    if not source.startswith("oci:") and Path(source).is_dir():
        return facts_for_directory(Path(source), facts_file), None, None
    if not source.startswith("oci:") and "/" not in source:
        raise UsageError(f"{source} is neither a directory nor a reference")
    ref = parse_reference(source)
    store = store_for(ref, plain_http, insecure)
    return facts_for_reference(store, resolve_target(store, ref), source, facts_file), store, ref


FACTS_FILE = click.option(
    "--facts", "facts_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Declarations (attest.yaml schema); default: attest.yaml beside the model.",
)  # fmt: skip


def attach_evidence(
    store: Store, model: Any, evidence: list[Any], referrers_mode: str
) -> list[Any]:
    """Attach each piece of evidence: its statement (unsigned for now) and its document."""
    from attest.flows.publish import publish_evidence

    subject = model.subject.descriptor()
    attached = publish_evidence(store, subject, evidence, mode=referrers_mode)  # type: ignore[arg-type]
    for item in attached:
        log.info("attached %s (%s) as %s", item.file, item.predicate_type, item.digest)
    return attached


def signer_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """How to sign: cosign's flag names. No flag: CI credentials, else the dev key."""
    f = click.option(
        "--trust-config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Client trust config of a private Sigstore instance (keyless).",
    )(f)  # fmt: skip
    f = click.option("--staging", is_flag=True, help="Use Sigstore's staging instance.")(f)
    f = click.option("--interactive", is_flag=True, help="Sign in with a browser (keyless).")(f)
    f = click.option(
        "--identity-token", metavar="JWT",
        help="OIDC identity token for keyless signing (default: $SIGSTORE_ID_TOKEN).",
    )(f)  # fmt: skip
    f = click.option(
        "--key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Sign with this private key (PEM; password from ATTEST_KEY_PASSWORD).",
    )(f)  # fmt: skip
    return f


def choose_signer_from_flags(
    key: Path | None,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
) -> Any:
    from attest.sign.signer import choose_signer

    signer = choose_signer(
        key=key, identity_token=identity_token, interactive=interactive, staging=staging,
        trust_config=trust_config,
    )  # fmt: skip
    if signer.kind == "dev-key":
        log.warning("signing with the local development key: not for release")
    return signer


ENGINE_OPTION = click.option(
    "--engine", type=click.Choice(["regorus", "opa", "opa-golib"]), default="regorus",
    show_default=True,
    help="Rego engine: embedded regorus, an OPA server (--opa-url), or real OPA in process.",
)  # fmt: skip


OPA_URL_OPTION = click.option(
    "--opa-url", help="OPA server for --engine opa, e.g. http://127.0.0.1:8181"
)
