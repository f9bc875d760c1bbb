"""Commands that hand a verified model on: register (Kubeflow Model Registry), handoff
(deployment manifests pinned to the verified digest) and audit (re-verify a fleet)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from attest.cli.app import cli
from attest.cli.common import FORMAT, emit
from attest.cli.trust_options import verify_request_options
from attest.flows.verify import VerifyRequest
from attest.text import safe


@cli.command()
@click.argument("reference")
@click.option("--model-registry", "server", required=True, metavar="URL",
              help="Model Registry server, e.g. https://model-registry.kubeflow:8443")  # fmt: skip
@click.option("--name", help="Registered model name (default: descriptor.name, else the repo).")
@click.option("--version", "version", help="Version name (default: descriptor.version, else tag).")
@click.option("--author", default="attest", show_default=True, help="Author and owner recorded.")
@click.option("--format-version", help="Model format version (default: 1).")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Bearer token file (default: $ATTEST_MODEL_REGISTRY_TOKEN).")  # fmt: skip
@click.option("--ca-file", type=click.Path(dir_okay=False, exists=True),
              help="CA bundle for an https Model Registry.")  # fmt: skip
@verify_request_options
@FORMAT
def register(
    reference: str,
    server: str,
    name: str | None,
    version: str | None,
    author: str,
    format_version: str | None,
    token_file: Path | None,
    ca_file: str | None,
    request: VerifyRequest,
    fmt: str,
) -> None:
    """Verify REFERENCE, then register it in Kubeflow Model Registry pinned by digest.

    Refuses (exit 1) what does not verify or fails the policy. Registering the same digest
    again changes nothing.

    \b
    Example:
      attest register registry.example/models/llm:v1 --key release.pub \\
        --model-registry http://model-registry.kubeflow:8080 --name llm --version v1
    """
    from attest.flows.register import register as do_register
    from attest.flows.verify import verify_reference

    token = token_file.read_text().strip() if token_file else None
    token = token or os.environ.get("ATTEST_MODEL_REGISTRY_TOKEN") or None
    outcome = verify_reference(reference, request)
    result = do_register(
        outcome, server, name=name, version=version, author=author, token=token,
        custom_ca=ca_file, format_version=format_version,
    )  # fmt: skip
    verb = "registered" if result.created else "already registered (nothing updated)"
    line = f"{safe(result.name)} {safe(result.version)} {verb}: {safe(result.uri)}"
    emit(fmt, result.to_dict(), lambda: line)
