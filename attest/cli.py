"""The `attest` command line: a click group whose commands are thin shells over one module each."""

from __future__ import annotations

import sys

import click

from attest import __version__
from attest.errors import AttestError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attest")
def cli() -> None:
    """Supply-chain attestation and policy for AI models packaged as ModelPack OCI artifacts."""


def main() -> None:
    """Console entry point: one clear line on stderr and the documented exit code on failure."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("attest: aborted", err=True)
        sys.exit(2)
    except click.ClickException as e:  # usage errors: exit 2, as documented
        e.show()
        sys.exit(2)
    except AttestError as e:
        click.echo(f"attest: error: {e.diagnostics()}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("attest: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:  # a bug: still one line, exit 3
        click.echo(f"attest: internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(3)
    sys.exit(0)
