"""`attest config show|path`: the settings in effect and where each comes from."""

from __future__ import annotations

from typing import Any

import click

from attest import config
from attest.cli.app import cli
from attest.cli.common import FORMAT, emit
from attest.text import safe


@cli.group("config")
def config_group() -> None:
    """Settings from ATTEST_* variables and config files (see docs/configuration.md).

    \b
    Example:
      attest config show verify
    """


def _loaded(ctx: click.Context) -> config.Config:
    loaded = ctx.meta.get(config.META_KEY)
    return loaded if loaded is not None else config.load(ctx.find_root().command)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


@config_group.command("show")
@click.argument("command", nargs=-1)
@click.option("--all", "show_all", is_flag=True, help="Also list settings left at their default.")
@FORMAT
@click.pass_context
def show(ctx: click.Context, command: tuple[str, ...], show_all: bool, fmt: str) -> None:
    """Print the settings in effect (those not at their default, or --all), each with where it
    comes from (env:VARIABLE, file:PATH or default), as `git config --show-origin` does.

    \b
    Example:
      attest config show verify --all
    """
    root = ctx.find_root().command
    loaded = _loaded(ctx)
    rows = [
        (s, v) for s, v in config.effective_settings(root, loaded)
        if s.path[: len(command)] == command and (show_all or v.origin != "default")
    ]  # fmt: skip
    if command and not any(s.path[: len(command)] == command for s in config.settings(root)):
        raise click.BadParameter(f"no command '{' '.join(command)}' with settings",
                                 param_hint="COMMAND")  # fmt: skip
    data = {
        "userConfig": str(loaded.user_file),
        "projectConfig": str(loaded.project_file) if loaded.project_file else None,
        "settings": [
            {"key": s.dotted, "value": v.value, "origin": v.origin, "env": s.envvars[0]}
            for s, v in rows
        ],
    }
    emit(fmt, data, lambda: "\n".join(
        f"{safe(v.origin)}\t{s.dotted}={safe(_shown(v.value))}" for s, v in rows))  # fmt: skip


@config_group.command("path")
@FORMAT
@click.pass_context
def path(ctx: click.Context, fmt: str) -> None:
    """Print where the user config is read from, and the project config found from here.

    \b
    Example:
      attest config path
    """
    loaded = _loaded(ctx)
    project = str(loaded.project_file) if loaded.project_file else None
    emit(fmt, {"userConfig": str(loaded.user_file), "projectConfig": project},
         lambda: f"user: {loaded.user_file}\nproject: {project or '-'}")  # fmt: skip
