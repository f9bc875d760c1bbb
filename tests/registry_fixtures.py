"""Registries for tests: the real CNCF Distribution (Debian's ``docker-registry``) and the
Referrers API stand-in, as pytest fixtures.

One ``docker-registry`` process per session (per auth mode) keeps the suite fast; each test gets
its own repository name, so tests never see each other's content.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.referrers_api_server import ReferrersApiServer

DOCKER_REGISTRY = "/usr/bin/docker-registry"
USERNAME = "attest"
PASSWORD = "s3cret-pass"
_STARTUP_TIMEOUT = 15.0
_repo_counter = itertools.count()


@dataclass(frozen=True)
class RegistryServer:
    """A running registry: ``host`` is ``127.0.0.1:PORT``, ``url`` is ``http://host``."""

    host: str
    url: str
    root: Path
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class Registry:
    """What the ``registry`` fixtures yield: the server plus a repository unique to the test."""

    host: str
    url: str
    repo: str
    username: str | None = None
    password: str | None = None

    @property
    def ref(self) -> str:
        """``host/repo``, ready for a tag or digest."""
        return f"{self.host}/{self.repo}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require_binary() -> None:
    if Path(DOCKER_REGISTRY).exists() or shutil.which("docker-registry"):
        return
    message = "docker-registry not installed (apt-get install docker-registry)"
    if os.environ.get("CI"):
        pytest.fail(message + " -- required in CI", pytrace=False)
    pytest.skip(message)


def _htpasswd_line(username: str, password: str) -> str:
    import bcrypt  # test extra; Distribution accepts only bcrypt hashes in htpasswd files

    return f"{username}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"


def _config(root: Path, port: int, htpasswd: Path | None) -> str:
    auth = (
        f"auth:\n  htpasswd:\n    realm: attest-test\n    path: {htpasswd}\n" if htpasswd else ""
    )
    return (
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: attest-test-secret\n" + auth
    )


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited ({proc.returncode}): {log.read_text()}")
        try:
            if requests.get(f"{url}/v2/", timeout=1).status_code in (200, 401):
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer on {url} in {_STARTUP_TIMEOUT}s")


@contextlib.contextmanager
def run_docker_registry(
    root: Path, *, basic_auth: bool = False, username: str = USERNAME, password: str = PASSWORD
) -> Iterator[RegistryServer]:
    """Start ``docker-registry serve`` on a free loopback port; stop it on exit. With
    ``basic_auth``, ``username``/``password`` is the one account its htpasswd file holds."""
    root.mkdir(parents=True, exist_ok=True)
    htpasswd = None
    if basic_auth:
        htpasswd = root / "htpasswd"
        htpasswd.write_text(_htpasswd_line(username, password))
    port = free_port()
    config = root / "config.yml"
    config.write_text(_config(root, port, htpasswd))
    log = root / "registry.log"
    binary = DOCKER_REGISTRY if Path(DOCKER_REGISTRY).exists() else "docker-registry"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(proc, url, log)
        yield RegistryServer(
            host=f"127.0.0.1:{port}",
            url=url,
            root=root,
            username=username if basic_auth else None,
            password=password if basic_auth else None,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _unique_repo(request: pytest.FixtureRequest) -> str:
    # Repository names must be lowercase [a-z0-9._-]; the counter keeps parametrized runs apart.
    name = "".join(c if c.isalnum() else "-" for c in request.node.name.lower()).strip("-")
    return f"test/{name[:60].strip('-') or 'repo'}-{next(_repo_counter)}"


def _handle(server: RegistryServer, request: pytest.FixtureRequest) -> Registry:
    repo = _unique_repo(request)
    return Registry(server.host, server.url, repo, server.username, server.password)


# -- fixtures ------------------------------------------------------------------------------

_DOCKER_REGISTRY_FIXTURES = {"registry_server", "registry_basic_auth_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests using docker-registry with ``registry`` (``-m "not registry"`` skips them),
    and run the tests of an xdist group first: a group shares one costly environment (a
    pre-commit store, the Action's installed venv) on one worker, so it is the longest unit
    of work and must not be what the other workers wait for at the end."""
    for item in items:
        if _DOCKER_REGISTRY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.registry)
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)



@pytest.fixture(scope="session")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """One anonymous docker-registry for the whole session."""
    _require_binary()
    with run_docker_registry(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture(scope="session")
def registry_basic_auth_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RegistryServer]:
    """One docker-registry with htpasswd (HTTP basic) auth for the whole session."""
    _require_binary()
    pytest.importorskip("bcrypt", reason="bcrypt (test extra) makes the htpasswd file")
    with run_docker_registry(tmp_path_factory.mktemp("registry-auth"), basic_auth=True) as server:
        yield server


@pytest.fixture
def registry(registry_server: RegistryServer, request: pytest.FixtureRequest) -> Registry:
    """The session's docker-registry, with a repository name unique to this test."""
    return _handle(registry_server, request)


@pytest.fixture
def registry_basic_auth(
    registry_basic_auth_server: RegistryServer, request: pytest.FixtureRequest
) -> Registry:
    """The htpasswd docker-registry; ``.username``/``.password`` are the valid credentials."""
    return _handle(registry_basic_auth_server, request)


@pytest.fixture
def referrers_api_registry() -> Iterator[ReferrersApiServer]:
    """A fresh Referrers API stand-in (page size 2, filters not applied, no auth).

    Tests flip its switches (``page_size``, ``apply_filters``, ``referrers_api``,
    ``token_auth``, ``fail_next``) and read ``requests_log``.
    """
    with ReferrersApiServer() as server:
        yield server
