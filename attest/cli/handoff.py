"""Commands that hand a verified model on: register (Kubeflow Model Registry), handoff
(deployment manifests pinned to the verified digest) and audit (re-verify a fleet)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from attest.cli.app import cli
from attest.cli.common import FORMAT, emit, log
from attest.cli.trust_options import verify_request_options
from attest.errors import VerificationError
from attest.flows.verify import VerifyRequest
from attest.text import safe
from attest.yamlio import read_user_file


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

    token = None
    if token_file:  # a regular file, capped: a wrong path to a huge file fails at once
        token = read_user_file(token_file, "a token file", 64 * 1024).decode("utf-8", "replace")
        token = token.strip()
    token = token or os.environ.get("ATTEST_MODEL_REGISTRY_TOKEN") or None
    outcome = verify_reference(reference, request)
    result = do_register(
        outcome, server, name=name, version=version, author=author, token=token,
        custom_ca=ca_file, format_version=format_version,
    )  # fmt: skip
    verb = "registered" if result.created else "already registered (nothing updated)"
    line = f"{safe(result.name)} {safe(result.version)} {verb}: {safe(result.uri)}"
    emit(fmt, result.to_dict(), lambda: line)


@cli.command()
@click.argument("reference")
@click.option("--target", type=click.Choice(["pod", "deployment", "image-volume", "csi", "kserve"]),
              required=True, help="Where the model runs: an image volume in a Pod or Deployment, "
              "a CSI inline volume (Deployment), or a KServe InferenceService.")  # fmt: skip
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("deploy-out"), show_default=True,
              help="Directory for the manifests (kustomize base).")  # fmt: skip
@click.option("--name", help="Object name (default: from the repository).")
@click.option("--namespace", default="default", show_default=True)
@click.option("--serving-image", help="The server container (pin it by digest).")
@click.option("--mount-path", default="/models", show_default=True)
@click.option("--manifests-url", help="oci:// URL the manifests are shipped to (Flux/Argo CD).")
@click.option("--manifests-tag", default="latest", show_default=True)
@verify_request_options
@FORMAT
def handoff(
    reference: str,
    target: str,
    out: Path,
    name: str | None,
    namespace: str,
    serving_image: str | None,
    mount_path: str,
    manifests_url: str | None,
    manifests_tag: str,
    request: VerifyRequest,
    fmt: str,
) -> None:
    """Verify REFERENCE, then write manifests that reference it by the verified digest.

    Writes model.yaml (Pod, Deployment or InferenceService) and kustomization.yaml, plus
    flux/ (OCIRepository gated on the verified signers, Kustomization) and argocd/.

    \b
    Example:
      attest handoff registry.example/models/llm:v1 --key release.pub \\
        --target deployment --serving-image ghcr.io/org/server@sha256:... --out deploy/llm
    """
    from attest.flows.handoff import build_handoff, write_handoff
    from attest.flows.verify import verify_reference

    outcome = verify_reference(reference, request)
    result = build_handoff(
        outcome, target, name=name, namespace=namespace, serving_image=serving_image,
        mount_path=mount_path, manifests_url=manifests_url, manifests_tag=manifests_tag,
    )  # fmt: skip
    for warning in result.warnings:
        log.warning("%s", safe(warning))
    written = write_handoff(result, out)
    emit(fmt, {**result.to_dict(), "out": str(out)},
         lambda: "\n".join(safe(p) for p in written))  # fmt: skip


@cli.command()
@click.argument("source")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Models verified at once.")  # fmt: skip
@verify_request_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="Output format on stdout.")  # fmt: skip
def audit(source: str, jobs: int, request: VerifyRequest, fmt: str) -> None:
    """Re-verify every model in a registry namespace (HOST[:PORT][/NAMESPACE]) or in a FILE of
    references (one per line, # comments), under the same trust and policy options as verify.

    Exit 1 when any model fails; tags that are not models are listed, never failed.

    \b
    Example:
      attest audit registry.example/models --key release.pub --policy policies/ -j 8
    """
    from attest.flows.audit import audit as run_audit
    from attest.flows.audit import fleet_references
    from attest.flows.audit_render import render_audit

    refs = fleet_references(source, plain_http=request.plain_http, insecure=request.insecure,
                            login=request.login)  # fmt: skip
    report = run_audit(
        refs, request, source=source, jobs=jobs,
        on_done=lambda i: log.info("%s: %s", safe(i.reference), i.status),
    )  # fmt: skip
    click.echo(render_audit(report, fmt), nl=False)
    if not report.ok:
        failed = report.count("failed") + report.count("error")
        raise VerificationError(f"{failed} of {len(report.items)} reference(s) failed verification")
