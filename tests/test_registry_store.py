"""RegistryStore against the real docker-registry (CNCF Distribution 2.8.2) and the Referrers API
stand-in (tests/referrers_api_server.py)."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import attest.oci.registry.store as registry_module
from attest.errors import ConcurrentUpdateError, InputError, NotFoundError, RegistryError
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import Blob, attach, discover
from attest.oci.registry import ENV_PASSWORD, ENV_USERNAME, RegistryStore
from attest.oci.store import Descriptor, Store, sha256_bytes
from tests.helpers import self_signed_loopback_cert
from tests.referrers_api_server import ReferrersApiServer
from tests.registry_fixtures import Registry, free_port

OCTET = "application/octet-stream"


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's own docker config or credentials."""
    monkeypatch.delenv(ENV_USERNAME, raising=False)
    monkeypatch.delenv(ENV_PASSWORD, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


def store_for(server: Registry | ReferrersApiServer, **kw: Any) -> RegistryStore:
    """A plain-HTTP store on the test's repository (``test/repo`` on the stand-in)."""
    kw.setdefault("backoff", 0.01)
    repo = server.repo if isinstance(server, Registry) else "test/repo"
    return RegistryStore(server.host, repo, plain_http=True, **kw)


def record_requests(store: RegistryStore) -> list[tuple[str, str]]:
    """(method, path) of every response the store's session receives."""
    seen: list[tuple[str, str]] = []

    def hook(resp: requests.Response, *args: object, **kwargs: object) -> None:
        seen.append((resp.request.method or "", requests.utils.urlparse(resp.url).path))

    store._http.session.hooks["response"].append(hook)  # test-only peek at the private session
    return seen


def push_image(store: Store, tag: str | None = "v1", layer: bytes = b"layer") -> Descriptor:
    """A minimal image (empty config, one layer); returns its manifest descriptor."""
    store.push_blob(Descriptor(mt.OCI_EMPTY, mt.EMPTY_DIGEST, 2), io.BytesIO(mt.EMPTY_JSON))
    layer_desc = Descriptor.for_bytes(OCTET, layer)
    store.push_blob(layer_desc, io.BytesIO(layer))
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": mt.EMPTY_DESCRIPTOR,
        "layers": [layer_desc.to_dict()],
    }
    return store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST, tag=tag).descriptor


def push_referrer(
    store: Store, subject: Descriptor, artifact_type: str, note: str
) -> Descriptor:
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": mt.EMPTY_DESCRIPTOR,
        "layers": [mt.EMPTY_DESCRIPTOR],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                    "size": subject.size},
        "annotations": {"note": note},
    }
    return store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST).descriptor


class _NonSeekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _Untouchable(io.RawIOBase):
    """A stream that fails when read: proves an existing blob is not read again."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        raise AssertionError("the stream was read")


@pytest.fixture(params=[pytest.param("docker-registry", marks=pytest.mark.registry), "stand-in"])
def any_registry(
    request: pytest.FixtureRequest,
) -> Iterator[Registry | ReferrersApiServer]:
    """Each test using this runs against both servers."""
    if request.param == "docker-registry":
        yield request.getfixturevalue("registry")
    else:
        yield request.getfixturevalue("referrers_api_registry")


# -- blobs ------------------------------------------------------------------------------------


def test_small_blob_is_uploaded_monolithically_and_fetched(any_registry) -> None:
    store = store_for(any_registry, chunk_size=1024)
    seen = record_requests(store)
    data = b"a small config blob"
    desc = Descriptor.for_bytes(OCTET, data)
    assert store.push_blob(desc, io.BytesIO(data)) is True
    assert [m for m, _ in seen] == ["HEAD", "POST", "PUT"]
    assert store.blob_exists(desc.digest)
    assert store.fetch_blob(desc) == data
    with store.open_blob(desc) as stream:
        assert stream.read() == data


def test_big_blob_is_uploaded_in_chunks_from_the_stream(any_registry) -> None:
    store = store_for(any_registry, chunk_size=1000)
    seen = record_requests(store)
    data = os.urandom(4500)
    desc = Descriptor.for_bytes(OCTET, data)
    assert store.push_blob(desc, io.BufferedReader(_NonSeekable(data))) is True
    assert [m for m, _ in seen].count("PATCH") == 5  # 4 x 1000 + 500
    assert seen[-1][0] == "PUT"
    with store.open_blob(desc) as stream:
        assert sha256_bytes(stream.read()) == desc.digest


def test_big_file_is_streamed_in_one_patch(any_registry) -> None:
    store = store_for(any_registry, chunk_size=1000)
    seen = record_requests(store)
    data = os.urandom(4500)
    desc = Descriptor.for_bytes(OCTET, data)
    assert store.push_blob(desc, io.BytesIO(data)) is True  # seekable, as a file is
    assert [m for m, _ in seen] == ["HEAD", "POST", "PATCH", "PUT"]
    assert store.fetch_blob(desc) == data


def test_existing_blob_is_not_read_nor_uploaded(any_registry) -> None:
    store = store_for(any_registry)
    data = b"already there"
    desc = Descriptor.for_bytes(OCTET, data)
    store.push_blob(desc, io.BytesIO(data))
    seen = record_requests(store)
    assert store.push_blob(desc, _Untouchable()) is False
    assert [m for m, _ in seen] == ["HEAD"]


@pytest.mark.parametrize("size", [10, 3000], ids=["monolithic", "chunked"])
def test_push_blob_rejects_content_not_matching_its_digest(any_registry, size: int) -> None:
    store = store_for(any_registry, chunk_size=1000)
    desc = Descriptor.for_bytes(OCTET, b"x" * size)
    with pytest.raises(InputError):
        store.push_blob(desc, io.BytesIO(b"y" * size))
    assert not store.blob_exists(desc.digest)


def test_push_blob_rejects_a_short_stream(any_registry) -> None:
    store = store_for(any_registry, chunk_size=1000)
    desc = Descriptor.for_bytes(OCTET, b"z" * 2500)
    with pytest.raises(InputError, match="short"):
        store.push_blob(desc, io.BytesIO(b"z" * 2000))


def test_fetch_blob_checks_digest_and_size(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry)
    data = b"original"
    desc = Descriptor.for_bytes(OCTET, data)
    store.push_blob(desc, io.BytesIO(data))
    referrers_api_registry.state.blobs[("test/repo", desc.digest)] = b"tampered"
    with pytest.raises(InputError, match="does not match"):
        store.fetch_blob(desc)
    referrers_api_registry.state.blobs[("test/repo", desc.digest)] = b"longer than it was"
    with pytest.raises(InputError, match="bytes"):
        store.fetch_blob(desc)
    with pytest.raises(InputError, match="bytes"):
        store.open_blob(desc)


def test_missing_blob_and_manifest_are_not_found(registry: Registry) -> None:
    store = store_for(registry)
    desc = Descriptor.for_bytes(OCTET, b"never pushed")
    assert not store.blob_exists(desc.digest)
    with pytest.raises(NotFoundError) as blob_err:
        store.fetch_blob(desc)
    assert registry.host in str(blob_err.value)
    with pytest.raises(NotFoundError) as err:
        store.get_manifest("no-such-tag")
    assert err.value.exit_code == 2
    assert "no-such-tag" in str(err.value) and registry.host in str(err.value)
    assert not store.manifest_exists(desc.digest)


# -- manifests --------------------------------------------------------------------------------


def test_manifest_bytes_are_kept_exactly(any_registry) -> None:
    store = store_for(any_registry)
    store.push_blob(Descriptor(mt.OCI_EMPTY, mt.EMPTY_DIGEST, 2), io.BytesIO(mt.EMPTY_JSON))
    # Odd key order and whitespace: any re-serialization would change the digest.
    data = (
        b'{\n   "layers" : [ ],\n"config":{"size":2,"digest":"' + mt.EMPTY_DIGEST.encode()
        + b'",   "mediaType":"application/vnd.oci.empty.v1+json"},'
        b'"mediaType":"application/vnd.oci.image.manifest.v1+json",\t"schemaVersion":2 }\n\n'
    )
    pushed = store.push_manifest(data, mt.OCI_MANIFEST, tag="odd")
    assert pushed.descriptor.digest == sha256_bytes(data)
    for reference in ("odd", pushed.descriptor.digest):
        got = store.get_manifest(reference)
        assert got.data == data
        assert got.descriptor == Descriptor(mt.OCI_MANIFEST, sha256_bytes(data), len(data))
    assert store.manifest_exists(pushed.descriptor.digest)
    assert "odd" in store.tags()


def test_manifest_served_with_wrong_bytes_is_rejected(
    referrers_api_registry: ReferrersApiServer,
) -> None:
    store = store_for(referrers_api_registry)
    digest = push_image(store, tag="v1").digest
    stored, media_type = referrers_api_registry.state.manifests[("test/repo", digest)]
    referrers_api_registry.state.manifests[("test/repo", digest)] = (stored + b" ", media_type)
    with pytest.raises(InputError, match="does not match"):
        store.get_manifest(digest)  # by digest: the body must hash to it
    with pytest.raises(InputError, match="Docker-Content-Digest"):
        store.get_manifest("v1")  # by tag: the header is checked against the body


def test_etag_is_captured_from_docker_registry(registry: Registry) -> None:
    store = store_for(registry)
    digest = push_image(store, tag="v1").digest
    assert store.get_manifest("v1").etag == f'"{digest}"'


def test_if_match_guards_tag_updates(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry)
    push_image(store, tag="idx", layer=b"one")
    etag = store.get_manifest("idx").etag
    assert etag
    push_image(store, tag="idx", layer=b"two")  # someone else moved the tag
    index = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}).encode()
    with pytest.raises(ConcurrentUpdateError, match="changed concurrently") as err:
        store.push_manifest(index, mt.OCI_INDEX, tag="idx", if_match=etag)
    assert isinstance(err.value, RegistryError) and err.value.exit_code == 3
    fresh = store.get_manifest("idx").etag
    store.push_manifest(index, mt.OCI_INDEX, tag="idx", if_match=fresh)
    assert store.get_manifest("idx").data == index


def test_oci_subject_header_is_reported(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry)
    subject = push_image(store)
    manifest = {
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": mt.EMPTY_DESCRIPTOR,
        "layers": [], "subject": subject.to_dict(),
    }
    result = store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST)
    assert result.oci_subject == subject.digest


def test_tags_paginate_and_missing_repo_has_none(
    referrers_api_registry: ReferrersApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_for(referrers_api_registry)
    assert store.tags() == []
    for tag in ("a", "b", "c", "d", "e"):
        push_image(store, tag=tag)
    monkeypatch.setattr(registry_module, "_TAGS_PAGE_SIZE", 2)  # the client asks ?n=2
    assert store.tags() == ["a", "b", "c", "d", "e"]
    assert referrers_api_registry.count("GET", "/tags/list") == 1 + 3


def test_tags_of_missing_repo_on_docker_registry(registry: Registry) -> None:
    assert store_for(registry).tags() == []


# -- referrers --------------------------------------------------------------------------------


def test_docker_registry_has_no_referrers_api(registry: Registry) -> None:
    store = store_for(registry)
    subject = push_image(store)
    push_referrer(store, subject, "application/example.a", "1")
    assert store.list_referrers(subject.digest) is None


def test_referrers_api_lists_every_page(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry)
    subject = push_image(store)
    other = push_image(store, tag="other", layer=b"other")
    pushed = {
        push_referrer(store, subject, f"application/example.{kind}", str(i)).digest: (kind, i)
        for i, kind in enumerate("ababa")
    }
    push_referrer(store, other, "application/example.a", "not mine")
    found = store.list_referrers(subject.digest)
    assert found is not None
    assert {d.digest for d in found} == set(pushed)
    assert referrers_api_registry.count("GET", "/referrers/") == 3  # pages of 2, 2, 1
    for desc in found:
        kind, i = pushed[desc.digest]
        assert desc.artifact_type == f"application/example.{kind}"
        assert desc.annotations == {"note": str(i)}
        assert desc.media_type == mt.OCI_MANIFEST
    assert store.list_referrers(other.digest) is not None
    assert store.list_referrers(push_image(store, tag="lonely", layer=b"x").digest) == []


def test_referrers_artifact_type_filter_reports_whether_applied(
    referrers_api_registry: ReferrersApiServer,
) -> None:
    store = store_for(referrers_api_registry)
    subject = push_image(store)
    for i, kind in enumerate("abab"):
        push_referrer(store, subject, f"application/example.{kind}", str(i))
    unfiltered = store.list_referrers(subject.digest, artifact_type="application/example.a")
    assert unfiltered is not None and len(unfiltered) == 4
    assert not unfiltered.artifact_type_filtered
    assert len(unfiltered.matching("application/example.a")) == 2
    referrers_api_registry.apply_filters = True
    filtered = store.list_referrers(subject.digest, artifact_type="application/example.a")
    assert filtered is not None and filtered.artifact_type_filtered
    assert {d.artifact_type for d in filtered} == {"application/example.a"} and len(filtered) == 2
    assert filtered.matching("application/example.a") == list(filtered)


def test_referrers_api_404_means_unsupported(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry)
    subject = push_image(store)
    referrers_api_registry.referrers_api = False
    assert store.list_referrers(subject.digest) is None


def test_referrers_api_error_is_a_registry_error(
    referrers_api_registry: ReferrersApiServer,
) -> None:
    store = store_for(referrers_api_registry, retries=0)
    subject = push_image(store)
    referrers_api_registry.fail_next(1, status=400, method="GET")
    with pytest.raises(RegistryError, match="HTTP 400"):
        store.list_referrers(subject.digest)


def test_attach_and_discover_through_the_store(any_registry) -> None:
    """The referrers module works on both: API on the stand-in, fallback tag on Distribution."""
    store = store_for(any_registry)
    subject = push_image(store)
    doc = b'{"spdxVersion": "SPDX-2.3"}'
    attached = attach(
        store, subject, "application/spdx+json", [Blob(Descriptor.for_bytes(OCTET, doc), doc)]
    )
    found = discover(store, subject.digest)
    assert [r.descriptor.digest for r in found] == [attached.digest]
    fallback_tag = "sha256-" + subject.digest.split(":")[1]
    assert (fallback_tag in store.tags()) == isinstance(any_registry, Registry)


# -- auth -------------------------------------------------------------------------------------


def test_basic_auth_with_good_credentials(registry_basic_auth: Registry) -> None:
    store = store_for(
        registry_basic_auth,
        username=registry_basic_auth.username,
        password=registry_basic_auth.password,
    )
    digest = push_image(store).digest
    assert store.get_manifest("v1").descriptor.digest == digest


def test_basic_auth_with_wrong_password_fails(registry_basic_auth: Registry) -> None:
    store = store_for(registry_basic_auth, username=registry_basic_auth.username, password="nope")
    with pytest.raises(RegistryError) as err:
        store.tags()
    assert err.value.exit_code == 3
    assert "401" in err.value.message and "credentials" in (err.value.hint or "")


def test_basic_auth_without_credentials_suggests_login(registry_basic_auth: Registry) -> None:
    with pytest.raises(RegistryError) as err:
        store_for(registry_basic_auth).tags()
    assert f"docker login {registry_basic_auth.host}" in (err.value.hint or "")


def test_credentials_from_environment(
    registry_basic_auth: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_USERNAME, registry_basic_auth.username or "")
    monkeypatch.setenv(ENV_PASSWORD, registry_basic_auth.password or "")
    push_image(store_for(registry_basic_auth))


def test_credentials_from_docker_config_auths(
    registry_basic_auth: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user_pass = f"{registry_basic_auth.username}:{registry_basic_auth.password}".encode()
    # Keyed by URL, as older docker versions write it.
    config = {"auths": {f"https://{registry_basic_auth.host}": {
        "auth": base64.b64encode(user_pass).decode()
    }}}
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    push_image(store_for(registry_basic_auth))
    # An explicit docker_config file wins over $DOCKER_CONFIG.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "elsewhere"))
    store = store_for(registry_basic_auth, docker_config=tmp_path / "docker" / "config.json")
    assert store.tags() == ["v1"]


def test_credentials_from_docker_credential_helper(
    registry_basic_auth: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-attesttest"
    answer = json.dumps({
        "ServerURL": registry_basic_auth.host,
        "Username": registry_basic_auth.username,
        "Secret": registry_basic_auth.password,
    })
    # Answers only for the host it is asked about, on stdin, like real helpers.
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] && [ "$(cat)" = "{registry_basic_auth.host}" ] '
        f"&& echo '{answer}' && exit 0\n"
        "echo 'credentials not found in native keychain'; exit 1\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {registry_basic_auth.host: "attesttest"}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    push_image(store_for(registry_basic_auth))


def test_bearer_token_auth(referrers_api_registry: ReferrersApiServer) -> None:
    server = referrers_api_registry
    server.token_auth, server.username, server.password = True, "robot", "hunter2"
    store = store_for(server, username="robot", password="hunter2")
    digest = push_image(store).digest
    assert store.get_manifest(digest).descriptor.digest == digest
    assert store.list_referrers(digest) == []
    # One token for pull (the HEAD probing the first blob), one for pull,push; the push token
    # then serves the reads too.
    assert server.count("GET", "/token") == 2
    scopes = set(server.state.tokens.values())
    assert scopes == {"repository:test/repo:pull", "repository:test/repo:pull,push"}


def test_bearer_token_with_wrong_password(referrers_api_registry: ReferrersApiServer) -> None:
    server = referrers_api_registry
    server.token_auth, server.username, server.password = True, "robot", "hunter2"
    with pytest.raises(RegistryError, match="refused") as err:
        store_for(server, username="robot", password="wrong").tags()
    assert err.value.exit_code == 3
    with pytest.raises(RegistryError) as anonymous:
        store_for(server).tags()
    assert "docker login" in (anonymous.value.hint or "")


# -- retries and transport errors -------------------------------------------------------------


def test_transient_failures_are_retried(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry, retries=3)
    push_image(store, tag="v1")
    referrers_api_registry.fail_next(2, status=503, method="GET")
    referrers_api_registry.fail_next(1, status=429, method="GET")
    before = referrers_api_registry.count("GET", "/manifests/")
    store.get_manifest("v1")
    assert referrers_api_registry.count("GET", "/manifests/") - before == 4


def test_retries_are_bounded(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry, retries=2)
    push_image(store, tag="v1")
    referrers_api_registry.fail_next(10, status=502, method="GET")
    before = referrers_api_registry.count("GET", "/manifests/")
    with pytest.raises(RegistryError, match="502") as err:
        store.get_manifest("v1")
    assert err.value.exit_code == 3
    assert referrers_api_registry.count("GET", "/manifests/") - before == 3


def test_client_errors_are_not_retried(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry, retries=3)
    with pytest.raises(NotFoundError):
        store.get_manifest("missing")
    assert referrers_api_registry.count("GET", "/manifests/") == 1


def test_failed_chunk_restarts_a_seekable_upload(
    referrers_api_registry: ReferrersApiServer,
) -> None:
    store = store_for(referrers_api_registry, chunk_size=1000)
    data = os.urandom(3500)
    desc = Descriptor.for_bytes(OCTET, data)
    referrers_api_registry.fail_next(1, status=500, method="PATCH")
    assert store.push_blob(desc, io.BytesIO(data)) is True
    assert referrers_api_registry.count("POST", "/blobs/uploads") == 2
    assert store.fetch_blob(desc) == data


def test_failed_chunk_of_a_non_seekable_stream_fails_clearly(
    referrers_api_registry: ReferrersApiServer,
) -> None:
    store = store_for(referrers_api_registry, chunk_size=1000)
    data = os.urandom(3500)
    desc = Descriptor.for_bytes(OCTET, data)
    referrers_api_registry.fail_next(1, status=503, method="PATCH")
    with pytest.raises(RegistryError, match="cannot be rewound"):
        store.push_blob(desc, io.BufferedReader(_NonSeekable(data)))
    assert referrers_api_registry.count("POST", "/blobs/uploads") == 1


def test_connection_refused_names_the_host() -> None:
    host = f"127.0.0.1:{free_port()}"
    store = RegistryStore(host, "x/y", plain_http=True, retries=1, backoff=0.01)
    with pytest.raises(RegistryError) as err:
        store.tags()
    assert host in err.value.message and "refused" in err.value.message.lower()
    assert err.value.exit_code == 3
    https = RegistryStore(host, "x/y", retries=0)
    with pytest.raises(RegistryError) as err2:
        https.blob_exists(mt.EMPTY_DIGEST)
    assert "--plain-http" in (err2.value.hint or "")


def test_tls_to_a_plain_http_registry_suggests_plain_http(
    referrers_api_registry: ReferrersApiServer,
) -> None:
    store = RegistryStore(referrers_api_registry.host, "x/y", retries=0, timeout=5)
    with pytest.raises(RegistryError) as err:
        store.tags()
    assert referrers_api_registry.host in err.value.message
    assert "--plain-http" in (err.value.hint or "")


def test_from_reference_uses_plain_http_for_loopback(registry: Registry) -> None:
    store = RegistryStore.from_reference(parse_reference(f"{registry.ref}:v1"))
    assert store.plain_http and store.location == registry.ref
    push_image(store)
    remote = RegistryStore.from_reference(parse_reference("registry.example.com/a/b:v1"))
    assert not remote.plain_http


def test_blob_redirects_are_followed(referrers_api_registry: ReferrersApiServer) -> None:
    store = store_for(referrers_api_registry)
    data = b"served from object storage"
    desc = Descriptor.for_bytes(OCTET, data)
    store.push_blob(desc, io.BytesIO(data))
    referrers_api_registry.redirect_blobs = True
    assert store.fetch_blob(desc) == data
    with store.open_blob(desc) as stream:
        assert stream.read() == data
    assert referrers_api_registry.count("GET", "/_storage/") == 2


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[ReferrersApiServer]:
    """The stand-in over HTTPS with a self-signed certificate."""
    with ReferrersApiServer(tls=self_signed_loopback_cert(tmp_path)) as server:
        yield server


def test_insecure_skips_tls_verification_quietly(tls_registry: ReferrersApiServer) -> None:
    verified = RegistryStore(tls_registry.host, "x/y", retries=0)
    with pytest.raises(RegistryError) as err:
        verified.tags()
    assert tls_registry.host in err.value.message and "--insecure" in (err.value.hint or "")
    insecure = RegistryStore(tls_registry.host, "x/y", insecure=True, retries=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no InsecureRequestWarning escapes
        push_image(insecure)
        assert insecure.tags() == ["v1"]
