"""The click group; each command module registers itself on it."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from attest import __version__, config
from attest.progress import set_quiet
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

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """The top-level context reads the config files into click's ``default_map`` (below the
        ``ATTEST_*`` variables each option is given, above the defaults): see attest.config."""
        if parent is not None or "default_map" in extra:
            return super().make_context(info_name, args, parent, **extra)
        config.bind_environment(self)
        loaded = config.load(self)
        ctx = super().make_context(info_name, args, parent, default_map=loaded.default_map(),
                                   **extra)  # fmt: skip
        ctx.meta[config.META_KEY] = loaded
        return ctx

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
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Supply-chain attestation and policy for AI models packaged as ModelPack OCI artifacts.

    References: oci:PATH[:TAG|@DIGEST] is an OCI image layout on disk;
    HOST[:PORT]/REPO[:TAG|@DIGEST] is a registry.
    """
    set_quiet(quiet)  # progress bars are off with -q, as logs are
    ctx.call_on_close(lambda: set_quiet(False))  # in-process callers (tests) start afresh
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("attest: %(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)  # one run, one stderr
