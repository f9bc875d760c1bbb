"""The click group; each command module registers itself on it."""

from __future__ import annotations

import logging
import sys

import click

from attest import __version__
from attest.text import SafeFormatter

GLOBAL_FLAGS = ("-q", "--quiet", "-v", "-vv", "-vvv", "--verbose")


class GlobalFlagsGroup(click.Group):
    """`-q`/`-v` work anywhere on the line (`attest inspect REF -q`), as cosign and oras take
    global flags: after the subcommand they are moved in front of it, unless that command has a
    flag of the same name (`attest policy test -v` lists every test)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        command = self._final_command(ctx, args)
        own = {opt for p in command.params for opt in getattr(p, "opts", [])} if command else set()
        moved, rest, seen_command = [], [], False
        for i, arg in enumerate(args):
            if arg == "--":
                rest += args[i:]
                break
            if seen_command and arg in GLOBAL_FLAGS and arg[:2] not in own and arg not in own:
                moved.append(arg)
                continue
            seen_command = seen_command or not arg.startswith("-")
            rest.append(arg)
        return super().parse_args(ctx, moved + rest)

    def _final_command(self, ctx: click.Context, args: list[str]) -> click.Command | None:
        group: click.Command = self
        for arg in args:
            if arg.startswith("-"):
                continue
            if not isinstance(group, click.Group):
                break
            sub = group.get_command(ctx, arg)
            if sub is None:
                break
            group = sub
        return None if group is self else group


@click.group(cls=GlobalFlagsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attest")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """Supply-chain attestation and policy for AI models packaged as ModelPack OCI artifacts.

    References: oci:PATH[:TAG|@DIGEST] is an OCI image layout on disk;
    HOST[:PORT]/REPO[:TAG|@DIGEST] is a registry.
    """
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("attest: %(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)  # one run, one stderr
