"""`attest templates`: Gatekeeper ConstraintTemplate + example Constraints from policies/."""

from __future__ import annotations

from pathlib import Path

import click

from attest.cli.app import cli


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("deploy/gatekeeper"), show_default=True)  # fmt: skip
@click.option("--check", is_flag=True, help="Only check that the files in --out are current.")
def templates(out: Path, check: bool) -> None:
    """Write the AttestVerifiedModels ConstraintTemplate (libs: the policy library) and example
    Constraints; with --check, exit 1 if they are out of date."""
    from attest.admission import templates as gen

    if check:
        gen.check(out)
        click.echo(f"{out}: up to date")
        return
    for path in gen.write(out):
        click.echo(str(path))
