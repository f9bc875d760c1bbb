"""Registry credentials on the command line, the way oras and cosign take them.

``--username/-u`` with ``--password-stdin`` (never a password in argv, where ``ps`` and shell
history would show it) and ``--registry-config PATH`` (a docker-style config.json instead of
``~/.docker/config.json`` / ``$DOCKER_CONFIG``). ``attest copy`` has ``--from-*`` and ``--to-*``
versions for each side; the plain flags apply to both sides, as in ``oras copy``.

``@login_options`` takes the flags out of the command's arguments and, before the command runs,
folds them into a :class:`~attest.oci.registry.Login` (reading stdin, checking the flags go
together); the command asks :func:`current_login`. Explicit credentials are bound to the
registries of the references the command works on (its arguments, pack's and run's ``--to``):
no other host ever gets them, not even a ``--policy`` bundle's registry.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import click

from attest.errors import AttestError, UsageError
from attest.oci.reference import parse_reference
from attest.oci.registry import Credentials, Login, docker_config_file
from attest.oci.registry.credentials import check_docker_config

_KEY = "attest.registry-login"
MAX_PASSWORD = 64 * 1024  # a token is a few KiB; stdin beyond this is not a password
F = TypeVar("F", bound=Callable[..., Any])
# Options that name the artifact a command works on (pack/run --to, card lint --subject); other
# references (a --policy bundle) may live elsewhere and get only the config file's credentials.
_REFERENCE_OPTIONS = ("to", "subject")
SIDES = {"": "", "from": " of the source", "to": " of the destination"}


def _flag(side: str, name: str) -> str:
    return f"--{side}-{name}" if side else f"--{name}"


def _side_options(side: str) -> list[Callable[[Any], Any]]:
    prefix, what = (f"{side}_" if side else ""), SIDES[side]
    short = ["-u"] if not side else []
    return [
        click.option(_flag(side, "username"), *short, f"{prefix}username", metavar="USER",
                     help=f"Registry username{what}; the password comes from "
                     f"{_flag(side, 'password-stdin')}."),
        click.option(_flag(side, "password-stdin"), f"{prefix}password_stdin", is_flag=True,
                     help=f"Read the registry password (or token){what} from stdin."),
        click.option(_flag(side, "registry-config"), f"{prefix}registry_config", metavar="PATH",
                     type=click.Path(exists=True, path_type=Path),
                     help=f"Docker-style config.json for credentials{what}, instead of "
                     "~/.docker/config.json / $DOCKER_CONFIG."),
    ]  # fmt: skip


def login_options(f: F, sides: Iterable[str] = ("",)) -> F:
    """Add the credential flags of ``sides`` ("" plain, "from", "to") to a command."""
    sides = tuple(sides)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {
            side: _Given(
                side,
                kwargs.pop(f"{side}_username" if side else "username"),
                kwargs.pop(f"{side}_password_stdin" if side else "password_stdin"),
                kwargs.pop(f"{side}_registry_config" if side else "registry_config"),
            )
            for side in sides
        }
        ctx = click.get_current_context()
        ctx.meta[_KEY] = _logins(given, _named_hosts(ctx, sides))
        return f(*args, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for side in reversed(sides):
        for option in reversed(_side_options(side)):
            decorated = option(decorated)
    return cast(F, decorated)


def copy_login_options(f: F) -> F:
    """The plain flags (both sides) and the --from-*/--to-* flags of ``attest copy``."""
    return login_options(f, ("", "from", "to"))


def current_login(side: str = "") -> Login | None:
    """The Login of the running command for ``side`` ("from"/"to" in copy), or None."""
    ctx = click.get_current_context(silent=True)
    logins = ctx.meta.get(_KEY) if ctx is not None else None
    return logins.get(side) if logins else None


class _Given:
    """The credential flags of one side as typed."""

    def __init__(self, side: str, username: str | None, stdin: bool, config: Path | None):
        self.side, self.username, self.stdin, self.config = side, username, stdin, config


def _logins(given: dict[str, _Given], hosts: dict[str, list[str]]) -> dict[str, Login | None]:
    """One Login per side; the plain flags fill in what a side left out."""
    readers = [g for g in given.values() if g.stdin]
    if len(readers) > 1:
        names = " and ".join(_flag(g.side, "password-stdin") for g in readers)
        raise UsageError(f"{names}: stdin holds one password; give one of them (and "
                         "--from-/--to-registry-config for the other side)")  # fmt: skip
    password: list[str] = []  # read once, when a side needs it
    plain = given.get("")
    logins: dict[str, Login | None] = {}
    for side, own in given.items():
        if not side and len(given) > 1:
            continue  # copy: the plain flags only fill in the --from/--to sides
        username = own.username or (plain.username if plain and side else None)
        stdin = own.stdin or bool(plain and side and plain.stdin)
        config = own.config or (plain.config if plain and side else None)
        user_flag = _flag(side if own.username else "", "username")
        stdin_flag = _flag(side if own.stdin else "", "password-stdin")
        if stdin and not username:
            raise UsageError(f"{stdin_flag} needs {_flag(side, 'username')}")
        if username and not stdin:
            raise UsageError(f"{user_flag} needs {_flag(side, 'password-stdin')} (a password "
                             "is never taken from the command line)")  # fmt: skip
        if config is not None:
            check_docker_config(docker_config_file(config))
        credentials = None
        if username:
            targets = hosts.get(side) or []
            if not targets:
                raise UsageError(f"{user_flag}: the credentials go to the registry a reference "
                                 "names, and this command names none")  # fmt: skip
            if not password:
                password.append(_read_password(stdin_flag))
            credentials = Credentials(username, password[0], f"{user_flag}/{stdin_flag}")
        hosts_for = hosts.get(side) or []
        logins[side] = (
            Login.for_hosts(credentials, hosts_for, config) if credentials or config else None
        )
    return logins


def _read_password(flag: str) -> str:
    stream: IO[str] = sys.stdin  # CliRunner swaps it too
    if stream.isatty():
        raise UsageError(f"{flag}: stdin is a terminal; pipe the password in, e.g. "
                         "`printf %s \"$TOKEN\" | attest ... --password-stdin`")  # fmt: skip
    try:
        text = stream.read(MAX_PASSWORD + 1)
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{flag}: cannot read stdin: {e}") from None
    if len(text) > MAX_PASSWORD:
        raise UsageError(f"{flag}: stdin holds more than {MAX_PASSWORD} characters")
    password = text.removesuffix("\n").removesuffix("\r")  # as oras trims it
    if not password:
        raise UsageError(f"{flag}: stdin is empty")
    return password


def _named_hosts(ctx: click.Context, sides: tuple[str, ...]) -> dict[str, list[str]]:
    """The registries the command's arguments (and --to/--subject) name: all of them, with sides
    (copy SOURCE DESTINATION) the first argument's for "from", the second's for "to"."""
    values = [
        ctx.params.get(p.name or "")
        for p in ctx.command.params
        if isinstance(p, click.Argument) or p.name in _REFERENCE_OPTIONS
    ]  # fmt: skip
    flat = [v for value in values for v in (value if isinstance(value, tuple | list) else [value])]
    hosts = [h for h in (_host_of(v) for v in flat if isinstance(v, str)) if h]
    if "from" in sides and len(flat) == 2:
        src, dst = (_host_of(v) if isinstance(v, str) else None for v in flat)
        return {"": hosts, "from": [src] if src else [], "to": [dst] if dst else []}
    return {"": hosts}


def _host_of(value: str) -> str | None:
    """The registry host ``value`` names (a reference, or HOST[:PORT][/NAMESPACE] as audit
    takes it); None for a layout, a local path or anything else."""
    if value.startswith("oci:") or Path(value).exists():
        return None
    try:
        ref = parse_reference(value)
    except AttestError:
        ref = None
    if ref is not None and ref.registry:
        return ref.registry
    host = value.split("/", 1)[0]
    looks_like_host = "." in host or ":" in host or host == "localhost"
    return host if looks_like_host and " " not in host else None

