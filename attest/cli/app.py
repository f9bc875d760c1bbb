"""The click group; each command module registers itself on it."""

from __future__ import annotations

import logging
import sys

import click

from attest import __version__
from attest.text import SafeFormatter


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    logging.basicConfig(level=level, handlers=[handler])
