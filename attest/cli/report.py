"""Evidence people read: ``attest report`` (one artifact) and ``attest diff`` (two)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from attest.cli.app import cli
from attest.cli.common import log
from attest.cli.trust_options import verify_request_options
from attest.errors import UsageError, VerificationError
from attest.flows.verify import VerifyRequest


def _output(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    from attest.fileio import atomic_write

    atomic_write(out, text.encode())  # never half-written
    log.info("wrote %s", out)


def _collect(source: str, request: VerifyRequest, *, directories: bool) -> Any:
    from attest.flows.report import collect_artifact, collect_directory

    if directories and not source.startswith("oci:") and Path(source).is_dir():
        return collect_directory(Path(source))
    if not source.startswith("oci:") and "/" not in source:
        what = "a reference nor a directory" if directories else "a reference"
        raise UsageError(f"{source} is neither {what}")
    return collect_artifact(source, request)


@cli.command()
@click.argument("reference")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown", "json"]),
              default="markdown", show_default=True)  # fmt: skip
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here instead of stdout (written whole or not at all).")
@verify_request_options
def report(reference: str, fmt: str, out: Path | None, request: VerifyRequest) -> None:
    """One page about one artifact: subject, signers, MOF, SBOM, provenance, policy, card.

    Verifies first, with the trust and policy flags of `attest verify`; only facts from
    statements whose signature verified are marked verified. The report is written even when
    verification fails; the exit code is then 1, as for `attest verify`.
    """
    from attest.report.document import build_document
    from attest.report.render import render_report

    evidence = _collect(reference, request, directories=False)
    _output(render_report(build_document(evidence), fmt), out)
    if evidence.failure:
        hint = None
        if evidence.failure.startswith("no verified signature"):
            hint = "sign with `attest sign` or `attest run`; give --key or --identity/--issuer"
        raise VerificationError(evidence.failure, hint=hint)


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
@verify_request_options
def diff(a: str, b: str, fmt: str, fail_on: str, out: Path | None,
         request: VerifyRequest) -> None:  # fmt: skip
    """What changed in the evidence from A to B (artifacts or model directories).

    Exit 0 when nothing evidence-relevant changed, 1 when a --fail-on category changed.
    Artifacts are verified first; a side whose signatures fail contributes no facts, and the
    verdict and signers are themselves compared (category "signers").
    """
    from attest.report.diff import CATEGORIES, diff_documents, diff_summary
    from attest.report.document import build_document
    from attest.report.render import render_diff

    gate = _fail_on(fail_on, CATEGORIES)
    docs = [build_document(_collect(s, request, directories=True)) for s in (a, b)]
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
