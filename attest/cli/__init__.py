"""The `attest` command line: a click group whose commands are thin shells over one module each.

Data goes to stdout (``--format json`` on every reporting command: camelCase keys, one JSON
Schema per command in docs/schemas/, see docs/json-output.md); logs, progress and errors
to stderr. Exit codes: 0 ok, 1 verification/policy failed, 2 usage or bad input,
3 registry/network/internal error.

Commands live in ``artifacts``, ``evidence``, ``signing``, ``verification``, ``run`` and
``checks``; shared options and helpers in ``common``; the group in ``app``.
"""

from __future__ import annotations

import sys

import click

from attest.cli import (  # noqa: F401 - register
    artifacts,
    checks,
    evidence,
    handoff,
    report,
    run,
    serve,
    settings,
    signing,
    templates,
    verification,
)
from attest.cli.app import cli
from attest.cli.common import log
from attest.cli.examples import add_examples
from attest.errors import AttestError
from attest.text import safe

__all__ = ["cli", "main"]

add_examples(cli)


def _usage_line(e: click.ClickException) -> str:
    """click's message on one line, naming the command's --help (as `attest sub --help`)."""
    message = " ".join(e.format_message().split())
    ctx = getattr(e, "ctx", None)
    if isinstance(e, click.UsageError) and ctx is not None:
        root = ctx.find_root().command_path
        command = "attest" + ctx.command_path[len(root):]
        return f"{message} (see '{command} --help')"
    return message


def main() -> None:
    """Console entry point: one clear line on stderr and the documented exit code on failure."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("attest: aborted", err=True)
        sys.exit(2)
    except click.ClickException as e:  # usage errors: one line, exit 2, as documented
        click.echo(f"attest: error: {_usage_line(e)}", err=True)
        sys.exit(2)
    except AttestError as e:  # messages quote names and values from outside: escaped
        hint = f"\n  hint: {safe(e.hint)}" if e.hint else ""
        click.echo(f"attest: error: {safe(e.message)}{hint}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("attest: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except RecursionError:  # nesting no guarded reader caught (they bound it): bad input
        click.echo("attest: error: input is nested too deeply to read", err=True)
        sys.exit(2)
    except Exception as e:  # a bug: still one line, exit 3
        log.debug("internal error", exc_info=True)
        click.echo(f"attest: internal error: {type(e).__name__}: {safe(e)}", err=True)
        sys.exit(3)
    sys.exit(0)
