"""Where registry credentials come from: the command line, the environment, a docker config.

Order, first match wins: credentials given explicitly (``--username``/``--password-stdin``, or
the ``username``/``password`` arguments), for the registries they were given for only; the
``--registry-config`` file when one was named; ``ATTEST_REGISTRY_USERNAME``/``_PASSWORD``; the
default docker config (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``), which a
named ``--registry-config`` replaces. A docker config is read as docker reads it: the registry's
``credHelpers`` entry, else ``credsStore``, else the inline ``auths`` entry.

Nothing here writes credentials anywhere or logs them; :class:`Credentials` hides the password
from ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest.errors import InputError, UsageError

log = logging.getLogger(__name__)

ENV_USERNAME = "ATTEST_REGISTRY_USERNAME"
ENV_PASSWORD = "ATTEST_REGISTRY_PASSWORD"
_MAX_CONFIG = 4 * 1024 * 1024  # docker configs are a few KiB; this is not one


@dataclass(frozen=True)
class Credentials:
    """A username and password (or token) and where they came from, for error messages."""

    username: str
    password: str = field(repr=False)
    source: str

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Login:
    """What the command line said about credentials for one side of a command.

    ``credentials`` (``--username``/``--password-stdin``) go only to the registries in
    ``registries``: the hosts of the references the command names, never another one the
    command happens to reach. ``config`` (``--registry-config``) replaces the default docker
    config for every registry.
    """

    credentials: Credentials | None = None
    registries: frozenset[str] = frozenset()
    config: Path | None = None

    @classmethod
    def for_hosts(
        cls, credentials: Credentials | None, hosts: Iterable[str], config: Path | None = None
    ) -> Login:
        return cls(credentials, frozenset(hosts), config)

    def explicit_for(self, registry: str) -> Credentials | None:
        """The explicit credentials when they were given for ``registry``, else None."""
        return self.credentials if registry in self.registries else None


def docker_config_file(explicit: Path | None = None) -> Path:
    """The docker config file: ``explicit`` (a file or a directory holding ``config.json``),
    else ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    if explicit is not None:
        return explicit / "config.json" if explicit.is_dir() else explicit
    env = os.environ.get("DOCKER_CONFIG")
    return (Path(env) if env else Path.home() / ".docker") / "config.json"


def resolve_credentials(
    registry: str,
    username: str | None = None,
    password: str | None = None,
    docker_config: Path | None = None,
    login: Login | None = None,
) -> Credentials | None:
    """Credentials for ``registry``, in the order the module docstring gives."""
    if username is not None or password is not None:
        if username is None or password is None:
            raise UsageError("give both a registry username and a password, or neither")
        return Credentials(username, password, "the given username/password")
    login = login or Login()
    explicit = login.explicit_for(registry)
    if explicit is not None:
        return explicit
    if login.config is not None:
        found = credentials_from_docker_config(registry, docker_config_file(login.config))
        if found is not None:
            return found
    env_user, env_pass = os.environ.get(ENV_USERNAME), os.environ.get(ENV_PASSWORD)
    if env_user and env_pass is not None:
        return Credentials(env_user, env_pass, f"{ENV_USERNAME}/{ENV_PASSWORD}")
    if login.config is not None:
        return None  # the named config replaces the default one
    return credentials_from_docker_config(registry, docker_config_file(docker_config))


def credentials_from_docker_config(registry: str, path: Path) -> Credentials | None:
    """Look ``registry`` up the way docker does: its credHelper, else the credsStore, else the
    inline ``auths`` entry (base64 ``user:password``)."""
    try:
        with path.open("rb") as f:
            config = json.loads(f.read(_MAX_CONFIG))  # a larger file ends mid-JSON: ignored
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable docker config %s: %s", path, e)
        return None
    if not isinstance(config, dict):
        return None
    helpers = config.get("credHelpers")
    helper = (helpers.get(registry) if isinstance(helpers, dict) else None) or config.get(
        "credsStore"
    )
    if helper and isinstance(helper, str):
        creds = _from_credential_helper(helper, registry)
        if creds:
            return creds
    auths = config.get("auths")
    entry = _auths_entry(auths, registry) if isinstance(auths, dict) else None
    return _decode_auths_entry(entry, registry, path) if entry else None


def _auths_entry(auths: Mapping[str, Any], registry: str) -> dict[str, Any] | None:
    # Keys may be "host", "https://host" or "https://host/v1/" (older docker versions).
    for key, entry in auths.items():
        host = re.sub(r"^[a-z]+://", "", key).split("/", 1)[0]
        if host == registry and isinstance(entry, dict):
            return entry
    return None


def _decode_auths_entry(entry: dict[str, Any], registry: str, path: Path) -> Credentials | None:
    source = f"docker config {path}"
    if entry.get("auth"):
        try:
            user, sep, secret = base64.b64decode(entry["auth"]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise UsageError(f"{source}: the 'auth' entry for {registry} is not base64") from None
        if not sep:
            raise UsageError(f"{source}: the 'auth' entry for {registry} is not user:password")
        return Credentials(user, secret, source)
    if entry.get("username") and entry.get("password") is not None:
        return Credentials(str(entry["username"]), str(entry["password"]), source)
    if entry.get("identitytoken"):
        log.warning("%s: identity tokens (OAuth refresh tokens) are not supported", source)
    return None


def _from_credential_helper(helper: str, registry: str) -> Credentials | None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", helper):
        # a name with a slash would run a program by path, not one from PATH
        raise UsageError(f"credential helper name {helper!r} is not a plain name")
    binary = f"docker-credential-{helper}"
    try:
        proc = subprocess.run(
            [binary, "get"], input=registry.encode(), capture_output=True, timeout=60, check=False
        )
    except FileNotFoundError:
        log.warning("credential helper %s is not on PATH", binary)
        return None
    except subprocess.TimeoutExpired:
        log.warning("credential helper %s timed out", binary)
        return None
    if proc.returncode != 0:  # "credentials not found in native keychain" and the like
        log.debug("%s get %s: %s", binary, registry, proc.stdout.decode(errors="replace"))
        return None
    try:
        payload = json.loads(proc.stdout)
        user, secret = payload["Username"], payload["Secret"]
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"credential helper {binary} answered no usable JSON") from None
    if user == "<token>":
        log.warning("%s returned an identity token, which is not supported", binary)
        return None
    return Credentials(user, secret, f"credential helper {binary}")


def check_docker_config(path: Path) -> None:
    """A config file the user named must be a readable JSON object (a default one that is
    not is only warned about, as docker does)."""
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_CONFIG + 1)
    except OSError as e:
        raise InputError(f"registry config {path}: cannot read it: {e.strerror or e}") from None
    if len(data) > _MAX_CONFIG:
        raise InputError(f"registry config {path}: larger than {_MAX_CONFIG // 1024} KiB")
    try:
        config = json.loads(data)
    except ValueError as e:
        raise InputError(f"registry config {path}: not JSON ({e})") from None
    if not isinstance(config, dict):
        raise InputError(f"registry config {path}: not a JSON object")
