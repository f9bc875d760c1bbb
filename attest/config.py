"""Settings: flags > ``ATTEST_*`` environment > project config > user config > defaults.

Every option of every command is a setting. Its config key is the long flag without dashes
(``referrers-mode``), in the section of its command (``[verify]``, ``[policy.test]``); its
environment variable is ``ATTEST_<COMMAND>_<FLAG>`` (``ATTEST_VERIFY_POLICY``). A few options
mean the same on every command (:data:`SHARED`): those may also sit at the top level of a config
file and in ``ATTEST_<FLAG>`` (``ATTEST_REFERRERS_MODE``); the command's own key or variable wins
over the shared one at the same level.

click does the layering: the two config files become the context's ``default_map`` (below the
environment, above the defaults) and each option gets its variables as ``envvar`` (checked after
the flag). click's ``auto_envvar_prefix`` would name variables after the Python parameter
(``ATTEST_VERIFY_FMT`` for ``--format``), so the names are set explicitly from the flags.

Files: the project config is the nearest ``attest.toml`` (or ``[tool.attest]`` in a
``pyproject.toml``) from the current directory up to the repository root; the user config is
``config.toml`` in :func:`attest.paths.config_dir`. Both are TOML, at most
:data:`MAX_CONFIG_BYTES`; an unknown key or a bad value is a usage error naming the file and the
key. Relative paths in a file are relative to that file's directory.
"""

from __future__ import annotations

import difflib
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import click._utils

from attest.paths import APP, config_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENV_PREFIX = "ATTEST"
PROJECT_FILE = "attest.toml"
PYPROJECT_FILE = "pyproject.toml"
USER_FILE = "config.toml"
MAX_CONFIG_BYTES = 256 * 1024  # a config file is a few lines; anything near this is not one

# Options with one meaning on every command that has them: settable once for all commands.
SHARED = frozenset({
    "plain-http", "insecure", "referrers-mode", "engine", "opa-url", "trust-config", "staging",
    "offline", "notation-trust-policy", "notation-trust-store", "registry-config",
})  # fmt: skip

_UNSET = getattr(click._utils, "UNSET", object())  # click >= 8.3's "no default" marker
# What decides trust: which keys, identities and policies pass, and whether TLS is checked.
# A project config comes with the repository being worked on (a clone of anyone's): it may not
# set these; the user config, a variable or a flag may (as git ignores some keys in a
# repository's own config).
TRUST_SETTINGS = frozenset({
    "key", "allow-dev-key", "identity", "identity-regexp", "issuer", "repository",
    "workflow-ref", "trust-config", "staging", "offline", "policy", "params", "mode",
    "entrypoint", "engine", "opa-url", "insecure", "plain-http", "notation-trust-policy",
    "notation-trust-store", "notation-unknown-revocation", "notation-crl",
    # where registry credentials come from and go (copy's sides too): the user's to say
    *(f"{side}{name}" for side in ("", "from-", "to-") for name in (
        "username", "password-stdin", "registry-config", "insecure", "plain-http")),
})  # fmt: skip

META_KEY = "attest.config"  # where the loaded Config sits in click's ctx.meta


def user_config_file() -> Path:
    return config_dir() / USER_FILE


# -- the settings the command tree offers -----------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One option of one command, as config files and the environment name it."""

    path: tuple[str, ...]  # command path; () is the top-level group
    key: str  # the long flag without dashes
    option: click.Option = field(compare=False)

    @property
    def dotted(self) -> str:
        return ".".join((*self.path, self.key))

    @property
    def envvars(self) -> tuple[str, ...]:
        """The command's own variable, then the shared one (when the setting is shared)."""
        own = env_name(*self.path, self.key)
        return (own, env_name(self.key)) if self.shared and self.path else (own,)

    @property
    def shared(self) -> bool:
        return self.key in SHARED


def env_name(*parts: str) -> str:
    return "_".join([ENV_PREFIX, *(p.upper().replace("-", "_") for p in parts)])


def option_key(option: click.Option) -> str | None:
    """``--referrers-mode`` -> ``referrers-mode``; None for options that hold no value."""
    if not option.expose_value:  # --help, --version
        return None
    longs = [o for o in option.opts if o.startswith("--")]
    return longs[0][2:] if longs else None


def settings(root: click.Command) -> list[Setting]:
    """Every setting of ``root`` and its subcommands, depth first, in declaration order."""
    out: list[Setting] = []

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        for param in cmd.params:
            if isinstance(param, click.Option) and (key := option_key(param)):
                out.append(Setting(path, key, param))
        if isinstance(cmd, click.Group):
            for name in sorted(cmd.commands):
                walk(cmd.commands[name], (*path, name))

    walk(root, ())
    return out


def bind_environment(root: click.Command) -> None:
    """Give every option its ``ATTEST_*`` variables (idempotent). Variables an option declared
    itself stay after the derived ones."""
    for s in settings(root):
        declared = s.option.envvar
        extra = [declared] if isinstance(declared, str) else list(declared or ())
        s.option.envvar = list(dict.fromkeys([*s.envvars, *extra]))
        s.option.allow_from_autoenv = False  # no second, undocumented spelling


# -- config files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sourced:
    value: Any
    origin: str  # "file:PATH", "env:NAME" or "default"


@dataclass
class Config:
    """The settings the config files give, each with the file it came from."""

    user_file: Path
    project_file: Path | None
    values: dict[Setting, Sourced] = field(default_factory=dict)

    def default_map(self) -> dict[str, Any]:
        """click's nested ``default_map``: ``{"verify": {"referrers_mode": "api"}}``."""
        out: dict[str, Any] = {}
        for s, sourced in self.values.items():
            node = out
            for part in s.path:
                node = node.setdefault(part, {})
            node[s.option.name or s.key] = sourced.value
        return out


def load(root: click.Command, cwd: Path | None = None) -> Config:
    """Read the user config, then the project config over it; validate both against ``root``."""
    known = settings(root)
    config = Config(user_config_file(), None)
    user = _read_toml(config.user_file)
    if user is not None:
        config.values.update(_layer(user, config.user_file, root, known, project=False))
    found = find_project_config(cwd or Path.cwd())
    if found is not None:
        config.project_file, table = found
        config.values.update(_layer(table, config.project_file, root, known, project=True))
    return config


def find_project_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``attest.toml`` or ``pyproject.toml`` with ``[tool.attest]``, from ``start``
    up to the repository root (the directory holding ``.git``), else to the filesystem root."""
    for directory in (start, *start.parents):
        own = directory / PROJECT_FILE
        table = _read_toml(own)
        if table is not None:
            return own, table
        pyproject = directory / PYPROJECT_FILE
        data = _read_toml(pyproject)
        if data is not None:
            tool = data.get("tool")
            section = tool.get(APP) if isinstance(tool, dict) else None
            if isinstance(section, dict):
                return pyproject, section
        if os.path.lexists(directory / ".git"):
            return None
    return None


def _read_toml(path: Path) -> dict[str, Any] | None:
    """The TOML table of ``path``, or None when there is no such file. Bounded; a file that is
    no regular file, too large or not TOML is a usage error naming it."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise click.UsageError(f"{path}: cannot read config: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise click.UsageError(f"{path}: config is not a regular file")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise click.UsageError(f"{path}: cannot read config: {e.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise click.UsageError(f"{path}: config is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise click.UsageError(f"{path}: config is not UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise click.UsageError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise click.UsageError(f"{path}: config is nested too deeply") from None


def _layer(
    table: Mapping[str, Any], file: Path, root: click.Command, known: list[Setting],
    *, project: bool,
) -> dict[Setting, Sourced]:
    """The settings one file gives: its command sections, with its top-level shared keys
    filled in for every command that has that option and did not set it itself. A project
    file may set no :data:`TRUST_SETTINGS`."""
    by_path: dict[tuple[str, ...], dict[str, Setting]] = {}
    for s in known:
        by_path.setdefault(s.path, {})[s.key] = s
    own: dict[Setting, Sourced] = {}
    shared: dict[str, Any] = {}
    origin = f"file:{file}"

    def walk(node: Mapping[str, Any], cmd: click.Command, path: tuple[str, ...]) -> None:
        options = by_path.get(path, {})
        subcommands = cmd.commands if isinstance(cmd, click.Group) else {}
        shared_keys = SHARED if not path else frozenset()
        for key, value in node.items():
            dotted = ".".join((*path, key))
            if project and key in TRUST_SETTINGS and (key in options or key in shared_keys):
                raise click.UsageError(
                    f"{file}: '{dotted}' decides what attest trusts, and a project config may "
                    f"not set it: use the user config ({user_config_file()}), "
                    f"{env_name(*path, key)} or --{key}"
                )
            if key in options:
                setting = options[key]
                own[setting] = Sourced(_check(setting, value, file), origin)
            elif key in subcommands:
                if not isinstance(value, dict):
                    raise click.UsageError(f"{file}: '{dotted}' must be a table ([{dotted}])")
                walk(value, subcommands[key], (*path, key))
            elif key in shared_keys:
                shared[key] = value
            else:
                names = [*options, *subcommands, *shared_keys]
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" (did you mean '{'.'.join((*path, close[0]))}'?)" if close else ""
                raise click.UsageError(f"{file}: unknown key '{dotted}'{hint}")

    walk(table, root, ())
    for key, value in shared.items():
        for s in known:
            if s.key == key and s.path and s not in own:
                own[s] = Sourced(_check(s, value, file, dotted=key), origin)
    return own


def _check(setting: Setting, value: Any, file: Path, dotted: str | None = None) -> Any:
    """``value`` converted by the option's own type; paths made relative to ``file``."""
    option = setting.option
    where = f"{file}: {dotted or setting.dotted}"
    if option.multiple:
        if not isinstance(value, list):
            raise click.UsageError(f"{where}: expected a list")
        return [_check_one(option, item, file, where) for item in value]
    if isinstance(value, (list, dict)):
        raise click.UsageError(f"{where}: expected one value, not a {type(value).__name__}")
    return _check_one(option, value, file, where)


def _check_one(option: click.Option, value: Any, file: Path, where: str) -> Any:
    if isinstance(value, (dict, list)):
        raise click.UsageError(f"{where}: expected one value, not a {type(value).__name__}")
    if isinstance(option.type, click.Path):
        if not isinstance(value, str):
            raise click.UsageError(f"{where}: expected a path (a string)")
        # existence is click's check when the command runs: a user config names paths for
        # commands other than the one running now
        return str(file.parent / Path(value).expanduser())
    if option.is_flag and not option.count and not isinstance(value, bool):
        raise click.UsageError(f"{where}: expected true or false")
    try:
        return option.type.convert(value, option, None)
    except click.BadParameter as e:
        raise click.UsageError(f"{where}: {e.message}") from None


# -- what is in effect ------------------------------------------------------------------------


def effective(
    setting: Setting, config: Config, environ: Mapping[str, str] | None = None
) -> Sourced:
    """The value ``setting`` has when its flag is not given, and where it comes from."""
    environ = os.environ if environ is None else environ
    for name in setting.option.envvar or ():
        if environ.get(name):  # click ignores empty variables too
            return Sourced(environ[name], f"env:{name}")
    if setting in config.values:
        return config.values[setting]
    return Sourced(_default(setting.option), "default")


def _default(option: click.Option) -> Any:
    """The option's own default (a fresh context: no config involved); None when unset."""
    value = option.get_default(click.Context(click.Command(None)), call=True)
    return None if value is _UNSET else value


def effective_settings(
    root: click.Command, config: Config, environ: Mapping[str, str] | None = None
) -> Iterator[tuple[Setting, Sourced]]:
    for s in settings(root):
        yield s, effective(s, config, environ)
