"""Commands that build evidence from a model's facts: facts, sbom, mof, card."""

from __future__ import annotations

import json
from pathlib import Path

import click

from attest.cli.app import cli
from attest.cli.common import (
    FACTS_FILE,
    FORMAT,
    attach_evidence,
    emit,
    load_facts,
    log,
    referrers_mode_option,
    registry_options,
)
from attest.errors import AttestError, InputError, RegistryError, UsageError, VerificationError
from attest.text import safe


@cli.command()
@click.argument("source")
@FACTS_FILE
@registry_options
@FORMAT
def facts(source: str, facts_file: Path | None, plain_http: bool, insecure: bool, fmt: str) -> None:
    """Print what is known about a model (a directory or a ModelPack reference)."""
    from attest.facts.render import facts_to_text

    model, _, _ = load_facts(source, facts_file, plain_http, insecure)
    for warning in model.warnings:
        log.warning("%s", warning)
    emit(fmt, model.to_dict(), lambda: facts_to_text(model))


def _no_format(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`--format` means the output format on every command; the SBOM kind is --type."""
    if value is None:
        return
    kinds = ("cyclonedx", "spdx", "spdx3")
    use = f"--type {value}" if value in kinds else "--type " + "|".join(kinds)
    raise click.BadOptionUsage(
        "--format", f"the SBOM kind is chosen with --type, not --format: use {use}", ctx
    )


@cli.command()
@click.argument("source")
@click.option("--type", "sbom_type", type=click.Choice(["cyclonedx", "spdx", "spdx3"]),
              default="cyclonedx", show_default=True,
              help="SBOM kind: CycloneDX 1.6, SPDX 2.3 or SPDX 3.0.1.")  # fmt: skip
@click.option("--format", "old_format", hidden=True, expose_value=False, callback=_no_format,
              is_eager=True, help="Renamed --type.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the document here instead of stdout.")  # fmt: skip
@click.option("--statement", is_flag=True, help="Print the in-toto statement, not the document.")
@click.option("--attach", "do_attach", is_flag=True, help="Attach the SBOM to the artifact.")
@FACTS_FILE
@registry_options
@referrers_mode_option
def sbom(
    source: str,
    sbom_type: str,
    output: Path | None,
    statement: bool,
    do_attach: bool,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
) -> None:
    """Generate a CycloneDX 1.6, SPDX 2.3 or SPDX 3.0.1 SBOM of a model, validated.

    --type chooses the SBOM kind; the document itself is always JSON (SPDX 3: JSON-LD).

    \b
    Example:
      attest sbom ./my-model --type spdx -o sbom.spdx.json
    """
    from attest.fileio import atomic_write
    from attest.stages.sbom.stage import build_document, document_bytes, sbom_evidence

    model, store, _ = load_facts(source, facts_file, plain_http, insecure)
    if (statement or do_attach) and store is None:
        raise UsageError("--statement and --attach need a ModelPack reference, not a directory")
    if store is not None:
        evidence = sbom_evidence(model, sbom_type)
        assert evidence.document is not None
        data = (
            (json.dumps(evidence.statement, indent=2, sort_keys=True) + "\n").encode()
            if statement
            else evidence.document
        )
    else:
        _, doc = build_document(model, sbom_type)
        data = document_bytes(doc)
    if do_attach:
        assert store is not None
        for item in attach_evidence(store, model, [evidence], referrers_mode):
            click.echo(f"attached {item.file} {item.digest}", err=True)
    if output:
        atomic_write(output, data)
    else:
        click.echo(data.decode(), nl=False)


MOF_CLASSES = {"III": 3, "II": 2, "I": 1}


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "out_fmt", type=click.Choice(["text", "json", "markdown", "yaml"]),
              default="text", show_default=True,
              help="yaml: the MOT's own format (the MOF configuration file).")  # fmt: skip
@click.option("--min-class", type=click.Choice(list(MOF_CLASSES)),
              help="Exit 1 when a source is below this class (I is the most open).")  # fmt: skip
@click.option("--attach", "do_attach", is_flag=True,
              help="Attach the report and MOT YAML to each ModelPack reference.")  # fmt: skip
@click.option("--strict", is_flag=True,
              help="MOT YAML: refuse licence strings the MOT does not know and components "
              "listed twice (default: warn and score as the MOT does).")  # fmt: skip
@FACTS_FILE
@registry_options
@referrers_mode_option
def mof(
    sources: tuple[str, ...],
    out_fmt: str,
    min_class: str | None,
    do_attach: bool,
    strict: bool,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
) -> None:
    """Model Openness Framework class (I-III) of models, directories or MOT YAML files.

    A MOT YAML file scores exactly as the Model Openness Tool scores it. Several sources: each
    is scored and reported; one that cannot be read is reported (one line) and the rest go on.

    \b
    Example:
      attest mof ./my-model --min-class II
      attest mof models/*.yml --format json
    """
    from attest.mof import dump_mot_yaml, load_mot_yaml, render, score
    from attest.mof.render import advice
    from attest.stages.mof import mof_evidence, mof_report

    reports, scored, failed = [], [], []
    for source in sources:
        try:
            if source.endswith((".yml", ".yaml")) and Path(source).is_file():
                if do_attach:
                    raise UsageError(f"--attach needs a ModelPack reference, not {source}")
                reports.append(score(load_mot_yaml(source, strict=strict)))
                scored.append(source)
                continue
            model, store, _ = load_facts(source, facts_file, plain_http, insecure)
            report = mof_report(model)
            if do_attach:
                if store is None or model.subject is None:
                    raise UsageError(f"--attach needs a ModelPack reference, not {source}")
                attach_evidence(store, model, [mof_evidence(model, report)], referrers_mode)
            reports.append(report)
            scored.append(source)
        except AttestError as e:
            if len(sources) == 1:
                raise
            click.echo(f"attest: error: {safe(e.message)}", err=True)
            failed.append(e)
    if not reports:
        raise failed[0]

    if out_fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    elif out_fmt == "yaml":
        click.echo("---\n".join(dump_mot_yaml(r) for r in reports), nl=False)
    else:
        click.echo(("\n\n" if out_fmt == "text" else "\n---\n\n").join(
            render(r, out_fmt) for r in reports))  # fmt: skip
    if min_class:
        floor = MOF_CLASSES[min_class]
        below = [(src, r) for src, r in zip(scored, reports, strict=True) if not r.meets(floor)]
        for src, r in below:
            click.echo(f"attest: {src}: {r.label}, below Class {min_class}; add:", err=True)
            for component in r.needed_for(floor):
                click.echo(f"  - {advice(component)}", err=True)
        if below:
            raise VerificationError(f"{len(below)} of {len(reports)} below Class {min_class}")
    if failed:
        worst = max(e.exit_code for e in failed)
        error = {2: InputError, 3: RegistryError}.get(worst, VerificationError)
        raise error(f"{len(failed)} of {len(sources)} source(s) could not be scored")


class _RenderByDefault(click.Group):
    """`attest card SOURCE ...` renders; `attest card lint FILE` lints."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["render", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_RenderByDefault)
def card() -> None:
    """Render a model or data card (attest card SOURCE), or lint one (attest card lint FILE)."""


@card.command("render")
@click.argument("source")
@click.option("--kind", type=click.Choice(["model", "data"]), default="model", show_default=True)
@click.option("--format", "card_fmt", type=click.Choice(["markdown", "html"]),
              default="markdown", show_default=True)  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-mof", is_flag=True, help="Do not score the MOF (the card says so).")
@FACTS_FILE
@registry_options
def card_render(
    source: str,
    kind: str,
    card_fmt: str,
    output: Path | None,
    no_mof: bool,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
) -> None:
    """Render a model or data card from the model's facts and MOF report."""
    from attest.fileio import atomic_write
    from attest.stages.cards import render_card
    from attest.stages.mof import mof_report

    model, _, _ = load_facts(source, facts_file, plain_http, insecure)
    for warning in model.warnings:
        log.warning("%s", warning)
    mof_dict = None if no_mof else mof_report(model).to_dict()
    text = render_card(model, kind, card_fmt, mof_dict)
    if output:
        atomic_write(output, text.encode())
    else:
        click.echo(text, nl=False)


@card.command("lint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--subject", help="Also check the card against this model (directory or reference).")
@click.option("--kind", type=click.Choice(["model", "data"]), help="Default: told from the card.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]),
              default="text", show_default=True)  # fmt: skip
@FACTS_FILE
@registry_options
def card_lint(
    file: Path,
    subject: str | None,
    kind: str | None,
    fmt: str,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
) -> None:
    """Lint a Markdown card: Hugging Face metadata, MOF Class III sections, the artifact."""
    from attest.lint.card import lint_card
    from attest.lint.card_report import render_findings
    from attest.lint.card_rules import has_errors

    if file.suffix.lower() in (".html", ".htm"):
        raise UsageError(f"{file}: attest card lint reads Markdown cards, not HTML")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from None
    facts = load_facts(subject, facts_file, plain_http, insecure)[0] if subject else None
    findings = lint_card(text, str(file), facts, kind)
    click.echo(render_findings(findings, str(file), fmt), nl=False)
    if has_errors(findings):
        raise VerificationError(f"{file}: the card has error-level findings")
