"""Fast checks for a model repository (the pre-commit hooks call them): freshness, check-yaml."""

from __future__ import annotations

from pathlib import Path

import click

from attest.cli.app import cli
from attest.cli.common import FACTS_FILE, FORMAT, emit
from attest.errors import UsageError, VerificationError


@cli.command()
@click.argument("model_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--sbom", "sboms", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A committed SBOM (CycloneDX, SPDX 2.3, SPDX 3 JSON); repeatable.")  # fmt: skip
@click.option("--card", "cards", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A committed model card (Markdown); repeatable.")  # fmt: skip
@click.option("--data-card", "data_cards", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A committed data card (Markdown); repeatable.")  # fmt: skip
@click.option("--update", is_flag=True, help="Rewrite stale files (and still exit 1).")
@FACTS_FILE
@FORMAT
def freshness(
    model_dir: Path,
    sboms: tuple[Path, ...],
    cards: tuple[Path, ...],
    data_cards: tuple[Path, ...],
    update: bool,
    facts_file: Path | None,
    fmt: str,
) -> None:
    """Check that the SBOMs and cards a repository commits still match MODEL_DIR's files.

    Without --sbom/--card/--data-card: the files present in MODEL_DIR/.attest/ (sbom.cdx.json,
    sbom.spdx.json, sbom.spdx3.jsonld, model-card.md, data-card.md). Reads file digests (through
    the digest cache) and headers only. Exit 1 when any is stale.
    """
    from attest.fileio import atomic_write
    from attest.flows.freshness import (
        EVIDENCE_DIR,
        Kind,
        check,
        default_evidence,
        fresh_document,
        missing_file,
    )
    from attest.modelpack.facts import facts_for_directory

    named: list[tuple[Path, Kind]] = [
        *((p, "sbom") for p in sboms), *((p, "model-card") for p in cards),
        *((p, "data-card") for p in data_cards),
    ]  # fmt: skip
    evidence = named or default_evidence(model_dir)
    if not evidence:
        where = model_dir / EVIDENCE_DIR
        raise UsageError(
            f"no evidence to check in {where}",
            hint=f"commit e.g. `attest sbom {model_dir} -o {where}/sbom.cdx.json`"
            " or name files with --sbom/--card",
        )
    missing = [str(p) for p, _ in evidence if not p.is_file()]
    if missing and not update:
        raise UsageError(f"no such file: {missing[0]}", hint="--update creates it")
    facts = facts_for_directory(model_dir, facts_file, progress=False)
    findings = [check(path, kind, facts) if path.is_file() else missing_file(path, kind)
                for path, kind in evidence]  # fmt: skip
    if update:
        for f in findings:
            if not f.fresh:
                atomic_write(Path(f.file), fresh_document(f, facts))
    emit(fmt, [f.to_dict() for f in findings], lambda: "\n".join(f.text() for f in findings))
    stale = [f for f in findings if not f.fresh]
    if stale:
        action = "rewritten; review and stage them" if update else "regenerate them"
        raise VerificationError(
            f"{len(stale)} of {len(findings)} evidence file(s) stale ({action})",
            hint=None if update else f"attest freshness {model_dir} --update",
        )


@cli.command("check-yaml")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, exists=True, path_type=Path))  # fmt: skip
def check_yaml(files: tuple[Path, ...]) -> None:
    """Check attest.yaml files against their schema (unknown keys, types, licences, paths).

    Exit 2 naming the file, line and key of the first problem in each bad file.
    """
    from attest.errors import InputError
    from attest.facts.declared import load_declared

    bad = 0
    for path in files:
        try:
            load_declared(path)
        except InputError as e:
            click.echo(f"attest: {e.diagnostics()}", err=True)
            bad += 1
    if bad:
        raise UsageError(f"{bad} of {len(files)} attest.yaml file(s) invalid")
