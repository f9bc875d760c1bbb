"""Credentials go nowhere they could leak (issue 11, item 15): not in clear to a token realm of
an HTTPS registry, not into provenance from a git remote URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from attest.errors import RegistryError
from attest.facts.declared import load_declared
from attest.facts.git_source import read_git_source
from attest.facts.urls import public_url
from attest.oci.registry import RegistryStore
from tests.git_fixtures import make_checkout, needs_git
from tests.helpers import self_signed_loopback_cert
from tests.referrers_api_server import ReferrersApiServer

USER, PASSWORD = "alice", "hunter2-secret"


@pytest.fixture
def tls_cert(tmp_path: Path) -> tuple[str, str]:
    return self_signed_loopback_cert(tmp_path)


@pytest.fixture
def https_registry_with_http_realm(
    tls_cert: tuple[str, str],
) -> Iterator[tuple[ReferrersApiServer, ReferrersApiServer]]:
    """An HTTPS registry whose bearer challenge names a plain-HTTP token realm."""
    with ReferrersApiServer(token_auth=True, username=USER, password=PASSWORD) as realm, \
         ReferrersApiServer(token_auth=True, username=USER, password=PASSWORD,
                            tls=tls_cert) as registry:  # fmt: skip
        registry.token_realm = f"{realm.url}/token"
        yield registry, realm


def test_basic_credentials_never_go_in_clear_to_a_token_realm(
    https_registry_with_http_realm: tuple[ReferrersApiServer, ReferrersApiServer],
) -> None:
    registry, realm = https_registry_with_http_realm
    store = RegistryStore(
        registry.host, "x/y", insecure=True, username=USER, password=PASSWORD, retries=0
    )
    with pytest.raises(RegistryError) as err:
        store.tags()
    assert "in clear" in err.value.message and realm.url in err.value.message
    assert realm.count("GET", "/token") == 0  # nothing was sent there


def test_an_https_realm_still_gets_the_credentials(tls_cert: tuple[str, str]) -> None:
    with ReferrersApiServer(
        token_auth=True, username=USER, password=PASSWORD, tls=tls_cert
    ) as registry:
        store = RegistryStore(
            registry.host, "x/y", insecure=True, username=USER, password=PASSWORD, retries=0
        )
        assert store.tags() == []
        assert registry.count("GET", "/token") == 1


SECRET_REMOTES = [
    "https://oauth2:glpat-SECRET@gitlab.example.com/org/model.git",
    "https://gitlab.example.com/org/model.git?private_token=SECRET",
    "git::https://user:SECRET@git.example.com/org/model.git",
    "https://git.example.com/org/model.git?ref=main&access_token=SECRET",
    "git+https://user:SECRET@git.example.com/org/model.git",
]


@needs_git
@pytest.mark.parametrize("remote", SECRET_REMOTES)
def test_git_remote_secrets_never_reach_provenance(tmp_path: Path, remote: str) -> None:
    repo = tmp_path / "model"
    make_checkout(repo, remote=remote)
    source = read_git_source(repo)
    assert source is not None and source.repository is not None
    assert "SECRET" not in source.repository
    assert "example.com/org/model.git" in source.repository


@pytest.mark.parametrize("remote", SECRET_REMOTES)
def test_declared_source_repository_secrets_are_dropped(tmp_path: Path, remote: str) -> None:
    path = tmp_path / "attest.yaml"
    path.write_text(
        json.dumps({
            "source_repository": remote,
            "datasets": [{"name": "d", "url": "https://u:SECRET@data.example/d.tar?sig=SECRET"}],
        })  # fmt: skip
    )
    declared = load_declared(path)
    assert "SECRET" not in json.dumps(declared.source_repository)
    assert all("SECRET" not in (d.url or "") for d in declared.datasets)


def test_public_url_keeps_what_is_not_secret() -> None:
    assert public_url("git@github.com:org/repo.git") == "ssh://github.com/org/repo.git"
    assert public_url("https://h.example/x.git?ref=v1") == "https://h.example/x.git?ref=v1"
    assert (
        public_url("git::https://u:p@h.example/x.git?ref=v1") == "git::https://h.example/x.git?ref=v1"
    )
