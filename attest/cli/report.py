"""Evidence people read: ``attest report`` (one artifact) and ``attest diff`` (two)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from attest.cli.app import cli
from attest.cli.common import (
    log,
    referrers_mode_option,
    registry_options,
    resolve_target,
    store_for,
)
from attest.cli.trust import (
    POLICY_KEYS,
    TRUST_KEYS,
    policy_options,
    policy_options_from,
    trust_options,
    verify_options_from,
)
from attest.errors import UsageError, VerificationError
from attest.oci.reference import parse_reference
from attest.oci.stores import StoreOptions


def _output(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    from attest.fileio import atomic_write

    atomic_write(out, text.encode())  # never half-written
    log.info("wrote %s", out)


def _collect(source: str, flags: dict[str, Any], *, directories: bool) -> Any:
    from attest.flows.report import collect_artifact, collect_directory

    if directories and not source.startswith("oci:") and Path(source).is_dir():
        return collect_directory(Path(source))
    if not source.startswith("oci:") and "/" not in source:
        raise UsageError(f"{source} is neither a reference" + (" nor a directory" if directories
                                                               else ""))  # fmt: skip
    ref = parse_reference(source)
    store = store_for(ref, flags["plain_http"], flags["insecure"])
    return collect_artifact(
        store, resolve_target(store, ref), str(ref),
        verify_options_from(flags, flags["referrers_mode"]), policy_options_from(flags),
        StoreOptions(plain_http=flags["plain_http"], insecure=flags["insecure"]),
    )  # fmt: skip


@cli.command()
@click.argument("reference")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown", "json"]),
              default="markdown", show_default=True)  # fmt: skip
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here instead of stdout (written whole or not at all).")
@trust_options
@policy_options
@registry_options
@referrers_mode_option
def report(reference: str, fmt: str, out: Path | None, **flags: Any) -> None:
    """One page about one artifact: subject, signers, MOF, SBOM, provenance, policy, card.

    Verifies first, with the trust flags of `attest verify`; only facts from statements whose
    signature verified are marked verified. The report is written even when verification
    fails; the exit code is then 1, as for `attest verify`.
    """
    from attest.report.document import build_document
    from attest.report.render import render_report

    evidence = _collect(reference, flags, directories=False)
    document = build_document(evidence)
    _output(render_report(document, fmt), out)
    _exit_like_verify(document)


def _exit_like_verify(document: dict[str, Any]) -> None:
    verdict = document["verdict"]
    if verdict["failed"]:
        first = verdict["failed"][0]
        cause = "; ".join(first["errors"])
        raise VerificationError(
            f"{len(verdict['failed'])} signature(s) failed: {first['digest'][:19]}: {cause}"
        )
    if not verdict["signers"]:
        raise VerificationError(
            f"no verified signature on {document['subject']['digest']}",
            hint="sign with `attest sign` or `attest run`; give --key or --identity/--issuer",
        )
    policy = document.get("policy")
    if policy and policy.get("failed"):
        first = policy["violations"][0]
        raise VerificationError(f"policy: {len(policy['violations'])} violation(s): "
                                f"[{first.get('code')}] {first.get('msg')}")  # fmt: skip


@cli.command()
@click.argument("a")
@click.argument("b")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True)  # fmt: skip
@click.option("--fail-on", default="any", show_default=True, metavar="CATEGORIES",
              help="Comma-separated categories whose change exits 1 (any, none, or: "
                   "files, format, parameters, precision, license, datasets, base-model, "
                   "mof-class, mof-components, signers, provenance, policy).")  # fmt: skip
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the diff here instead of stdout.")
@trust_options
@policy_options
@registry_options
@referrers_mode_option
def diff(a: str, b: str, fmt: str, fail_on: str, out: Path | None, **flags: Any) -> None:
    """What changed in the evidence from A to B (artifacts or model directories).

    Exit 0 when nothing evidence-relevant changed, 1 when a --fail-on category changed.
    Artifacts are verified first; their facts are compared whether or not they verified,
    and the verdict and signers are themselves compared (category "signers").
    """
    from attest.report.diff import CATEGORIES, diff_documents, diff_summary
    from attest.report.document import build_document
    from attest.report.render import render_diff

    gate = _fail_on(fail_on, CATEGORIES)
    docs = [build_document(_collect(s, flags, directories=True)) for s in (a, b)]
    result = diff_summary(docs[0], docs[1], diff_documents(docs[0], docs[1]), gate)
    _output(render_diff(result, fmt), out)
    if result["fail"]:
        raise VerificationError(
            f"evidence changed: {', '.join(result['failingCategories'])}",
            hint="--fail-on chooses which categories fail the command",
        )


def _fail_on(value: str, categories: tuple[str, ...]) -> tuple[str, ...]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if names == ["any"]:
        return categories
    if names == ["none"]:
        return ()
    unknown = [n for n in names if n not in categories]
    if unknown or not names:
        raise UsageError(f"--fail-on: unknown category {', '.join(unknown) or value!r}",
                         hint="any, none, or: " + ", ".join(categories))  # fmt: skip
    return tuple(names)


__all__ = ["diff", "report", "POLICY_KEYS", "TRUST_KEYS"]
