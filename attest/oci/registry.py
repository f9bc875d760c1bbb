"""A Distribution API registry as a :class:`~attest.oci.store.Store`: one repository.

Everything goes through one ``requests.Session``. Authentication follows what docker, oras and
cosign do: send anonymously; on ``401`` read the ``WWW-Authenticate`` challenge and either send
HTTP basic credentials or fetch a bearer token for the scope ``repository:<repo>:pull`` (reads) or
``repository:<repo>:pull,push`` (writes) from the token endpoint, cached per scope. Credentials
come from explicit arguments, ``ATTEST_REGISTRY_USERNAME``/``ATTEST_REGISTRY_PASSWORD``, or the
docker ``config.json`` (``auths``, ``credsStore``, ``credHelpers``).

Challenges are parsed by :mod:`attest.oci.challenge` (RFC 7235). oras-py is not used: its
``parse_auth_header`` ignores unquoted parameters, its ``TokenAuth`` keeps a single token for
every scope, and ``load_configs`` ignores ``$DOCKER_CONFIG``, so token caching and docker config
reading are done here with requests.

Transient failures (5xx, 429, dropped connections) are retried with exponential backoff; 4xx
never are. A blob upload that fails half-way is restarted from the beginning, which needs a
seekable stream; a non-seekable one fails with a clear message instead.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import random
import re
import subprocess
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3

from attest import __version__
from attest.errors import (
    ConcurrentUpdateError,
    InputError,
    NotFoundError,
    RegistryError,
    UsageError,
)
from attest.oci import limits
from attest.oci import mediatypes as mt
from attest.oci.challenge import find as challenge_find
from attest.oci.deadline import Deadline, DeadlineAdapter, bound, touch
from attest.oci.reference import Reference
from attest.oci.store import Descriptor, Manifest, PushResult, parse_json_object, validate_digest

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 8 * MiB
ENV_USERNAME = "ATTEST_REGISTRY_USERNAME"
ENV_PASSWORD = "ATTEST_REGISTRY_PASSWORD"

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF = 30.0
_MAX_PAGES = 10_000  # a registry whose Link headers loop must not hang us
_TAGS_PAGE_SIZE = 1000
_TOKEN_DEFAULT_TTL = 60  # seconds, per the Docker token spec when expires_in is missing
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] [^'\")]+")


# -- credentials ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """A username and password (or token) and where they came from, for error messages."""

    username: str
    password: str
    source: str

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


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
) -> Credentials | None:
    """Credentials for ``registry``: arguments, then environment, then docker config."""
    if username is not None or password is not None:
        if username is None or password is None:
            raise UsageError("give both a registry username and a password, or neither")
        return Credentials(username, password, "the given username/password")
    env_user, env_pass = os.environ.get(ENV_USERNAME), os.environ.get(ENV_PASSWORD)
    if env_user and env_pass is not None:
        return Credentials(env_user, env_pass, f"{ENV_USERNAME}/{ENV_PASSWORD}")
    return credentials_from_docker_config(registry, docker_config_file(docker_config))


def credentials_from_docker_config(registry: str, path: Path) -> Credentials | None:
    """Look ``registry`` up the way docker does: its credHelper, else the credsStore, else the
    inline ``auths`` entry (base64 ``user:password``)."""
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable docker config %s: %s", path, e)
        return None
    if not isinstance(config, dict):
        return None
    helper = (config.get("credHelpers") or {}).get(registry) or config.get("credsStore")
    if helper:
        creds = _from_credential_helper(helper, registry)
        if creds:
            return creds
    entry = _auths_entry(config.get("auths") or {}, registry)
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
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise UsageError(f"{source}: the 'auth' entry for {registry} is not base64") from None
        if not sep:
            raise UsageError(f"{source}: the 'auth' entry for {registry} is not user:password")
        return Credentials(user, secret, source)
    if entry.get("username") and entry.get("password") is not None:
        return Credentials(entry["username"], entry["password"], source)
    if entry.get("identitytoken"):
        log.warning("%s: identity tokens (OAuth refresh tokens) are not supported", source)
    return None


def _from_credential_helper(helper: str, registry: str) -> Credentials | None:
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


# -- authentication --------------------------------------------------------------------------


def _scope(repository: str, push: bool) -> str:
    return f"repository:{repository}:{'pull,push' if push else 'pull'}"


class _Authenticator:
    """Answers WWW-Authenticate challenges; holds bearer tokens per scope."""

    def __init__(
        self,
        registry: str,
        send: Callable[..., requests.Response],
        load_credentials: Callable[[], Credentials | None],
        *,
        secure: bool = True,
    ) -> None:
        self.registry = registry
        self.secure = secure  # the registry is spoken to over HTTPS
        self._send = send
        self._load_credentials = load_credentials
        self._credentials: Credentials | None = None
        self._credentials_loaded = False
        self._basic = False  # the registry asked for basic auth: send it up front from now on
        self._tokens: dict[str, tuple[str, float]] = {}

    @property
    def credentials(self) -> Credentials | None:
        # Loaded on the first challenge only: anonymous registries never run credential helpers.
        if not self._credentials_loaded:
            self._credentials = self._load_credentials()
            self._credentials_loaded = True
        return self._credentials

    def headers(self, scope: str) -> dict[str, str]:
        token = self._token_for(scope)
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self._basic and self.credentials:
            return {"Authorization": self.credentials.basic_header()}
        return {}

    def _token_for(self, scope: str) -> str | None:
        candidates = [scope]
        if scope.endswith(":pull"):
            candidates.append(scope + ",push")  # a pull,push token also covers pulls
        now = time.monotonic()
        for candidate in candidates:
            token, expires = self._tokens.get(candidate, ("", 0.0))
            if token and expires > now:
                return token
        return None

    def answer(self, challenge: str, scope: str) -> bool:
        """Prepare credentials for ``challenge``; False when there is nothing new to try."""
        bearer = challenge_find(challenge, "bearer")
        if bearer is not None:
            self._tokens.pop(scope, None)
            self._fetch_token(bearer.params, scope)
            return True
        if challenge_find(challenge, "basic") is not None:
            if self._basic or self.credentials is None:
                return False  # already sent (and refused), or nothing to send
            self._basic = True
            return True
        return False

    def _fetch_token(self, challenge: dict[str, str], scope: str) -> None:
        realm = challenge.get("realm")
        if not realm:
            raise RegistryError(f"{self.registry} sent a bearer challenge without a realm")
        params = {"scope": scope}
        if challenge.get("service"):
            params["service"] = challenge["service"]
        headers = {"Accept": "application/json"}
        creds = self.credentials
        if creds:
            self._check_realm(realm, creds)
            headers["Authorization"] = creds.basic_header()
        resp = self._send("GET", realm, headers=headers, params=params)
        if resp.status_code in (401, 403):
            raise RegistryError(
                f"{self.registry}: the token service {realm} refused "
                + (f"the credentials from {creds.source}" if creds else "anonymous access")
                + f" for {scope}",
                hint=self.login_hint(),
            )
        if resp.status_code != 200:
            raise RegistryError(
                f"{self.registry}: token service {realm} answered HTTP {resp.status_code}"
            )
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
            ttl = float(body.get("expires_in") or _TOKEN_DEFAULT_TTL)
        except (ValueError, AttributeError, TypeError):
            token, ttl = None, 0.0
        if not token:
            raise RegistryError(f"{self.registry}: token service {realm} sent no token")
        # Renew a little early so a token does not expire between check and use.
        self._tokens[scope] = (token, time.monotonic() + max(ttl - 5, 1))

    def _check_realm(self, realm: str, creds: Credentials) -> None:
        """Basic credentials go to a token realm only over HTTPS when the registry uses HTTPS:
        a hostile or misconfigured registry must not get them sent in clear."""
        scheme = urlsplit(realm).scheme.lower()
        if scheme == "https" or (scheme == "http" and not self.secure):
            return
        raise RegistryError(
            f"{self.registry} asks for credentials at the token realm {realm}, which is not "
            f"HTTPS: refusing to send the credentials from {creds.source} in clear",
            hint="the registry's token service must be served over HTTPS",
        )

    def login_hint(self) -> str:
        creds = self._credentials
        if creds is None:
            return (
                f"log in with `docker login {self.registry}` or set "
                f"{ENV_USERNAME}/{ENV_PASSWORD}"
            )
        return (
            f"check the credentials from {creds.source} and that they may access this "
            f"repository (`docker login {self.registry}` to renew them)"
        )


# -- errors ---------------------------------------------------------------------------------


class _TransientError(RegistryError):
    """A failure worth trying again: 5xx, 429 or a dropped connection."""


class _DeadlineExceeded(requests.Timeout):
    """A request did not finish within the store's overall deadline (the watchdog cut it)."""


# A body shorter than its Content-Length, or a chunked body cut off: worth another try.
_TRUNCATED = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def _registry_message(resp: requests.Response) -> str:
    """The registry's own error text: ``CODE: message`` from its JSON, else the body start."""
    try:
        errors = resp.json().get("errors") or []
        parts = [f"{e.get('code', '?')}: {e.get('message', '')}".strip() for e in errors]
        if parts:
            return "; ".join(parts)
    except (ValueError, AttributeError, TypeError):
        pass
    return " ".join(resp.text.split())[:200]


# -- streams --------------------------------------------------------------------------------


class _ResponseReader(io.RawIOBase):
    """The body of a streamed response as a raw file; closing it releases the connection."""

    def __init__(self, resp: requests.Response, what: str) -> None:
        super().__init__()
        self._resp = resp
        self._what = what
        resp.raw.decode_content = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._resp.raw.read(len(buffer))
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise RegistryError(f"reading {self._what} failed: {e}") from e
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._resp.close()
        super().close()


class _BlobReader(io.RawIOBase):
    """A blob's body as a raw file, bounded by its declared size; closing releases the
    connection.

    Each read (up to 1 MiB) has the store's deadline (a server dripping bytes cannot hold it
    forever). A body cut
    short (dropped connection, truncated answer) is resumed with ``Range`` from the offset
    reached, up to the store's retry count, so a long download does not start over.
    """

    def __init__(self, store: RegistryStore, desc: Descriptor, resp: requests.Response) -> None:
        super().__init__()
        self._store = store
        self._desc = desc
        self._resp = resp
        self._offset = 0
        self._resumes = 0
        self._checked_end = False
        # A re-encoded body has no byte offsets we could resume from.
        self._resumable = "Content-Encoding" not in resp.headers
        resp.raw.decode_content = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._desc.size - self._offset
        if remaining <= 0:  # never read past the declared size, whatever the server sends
            if not self._checked_end:
                self._checked_end = True
                try:
                    extra = self._resp.raw.read(1)
                except (urllib3.exceptions.HTTPError, OSError):
                    extra = b""
                if extra:
                    raise InputError(
                        f"{self._store.location}: blob {self._desc.digest} is longer than its "
                        f"declared {self._desc.size} bytes; refusing it"
                    )
            return 0
        want = min(len(buffer), remaining)
        while True:
            deadline = getattr(self._resp, "attest_deadline", None) or Deadline(0)
            try:
                with bound(deadline, self._store.deadline):
                    data = self._resp.raw.read(want)
                if data:
                    break
                error: Exception = RegistryError(f"body ended at byte {self._offset}")
            except (urllib3.exceptions.HTTPError, OSError) as e:
                error = e
            self._resume(error, deadline.expired)
        n = len(data)
        buffer[:n] = data
        self._offset += n
        return n

    def _resume(self, error: Exception, expired: bool) -> None:
        what = f"blob {self._desc.digest}"
        reason = f"a read took over {self._store.deadline:g}s" if expired else str(error)
        if not self._resumable or self._resumes >= self._store.retries:
            raise _TransientError(
                f"{self._store.location}: reading {what} failed at byte {self._offset} "
                f"of {self._desc.size}: {reason}"
            )
        self._resumes += 1
        log.info("reading %s failed at byte %d (%s); resuming", what, self._offset, reason)
        self._resp.close()
        self._store._pause(self._resumes - 1, None)
        self._resp = self._store._open_blob_at(self._desc, self._offset)

    def close(self) -> None:
        if not self.closed:
            self._resp.close()
        super().close()


class _HashingBody:
    """``n`` bytes of a stream as a request body: hashed as they are sent, each read marking
    progress on the request's deadline. Has a length, so requests sends Content-Length."""

    _BLOCK = 1024 * 1024  # urllib3 asks for 16 KiB; bigger blocks mean fewer sendall calls

    def __init__(self, stream: IO[bytes], n: int, hasher: Any) -> None:
        self._stream = stream
        self._left = n
        self._hasher = hasher
        self.short = False  # the source ended before n bytes

    def __len__(self) -> int:
        return self._left

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size < 0 else min(max(size, self._BLOCK), self._left)
        data = self._stream.read(want)
        if not data:
            # Ending early would leave the registry waiting for the declared length.
            self.short = True
            raise InputError(f"stream ended {self._left} bytes short of the declared size")
        self._left -= len(data)
        self._hasher.update(data)
        touch()
        return data

    def drain(self) -> None:
        while self.read(self._BLOCK):
            pass


def _read_exact(stream: IO[bytes], n: int, digest: str) -> bytes:
    parts: list[bytes] = []
    remaining = n
    while remaining:
        part = stream.read(remaining)
        if not part:
            raise InputError(f"stream for blob {digest} ended {remaining} bytes short")
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _expect_eof(stream: IO[bytes], desc: Descriptor) -> None:
    if stream.read(1):
        raise InputError(f"stream for blob {desc.digest} is longer than its size {desc.size}")


def _digest_of(data: bytes, algorithm: str) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def _check_blob(data: bytes, desc: Descriptor, where: str) -> None:
    alg, _ = validate_digest(desc.digest)
    if len(data) != desc.size:
        raise InputError(f"{where}: blob {desc.digest} has {len(data)} bytes, expected {desc.size}")
    if _digest_of(data, alg) != desc.digest:
        raise InputError(f"{where}: blob content does not match its digest {desc.digest}")


def _with_query(url: str, **params: str) -> str:
    """Add ``params`` to ``url`` keeping its query (upload Locations carry state there)."""
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _is_digest(reference: str) -> bool:
    return ":" in reference


# -- the store ------------------------------------------------------------------------------


class ReferrerList(list[Descriptor]):
    """Descriptors from the Referrers API, and which filters the registry says it applied.

    ``filters_applied`` holds the names from the ``OCI-Filters-Applied`` header (so far only
    ``"artifactType"`` exists). Filtering is optional for registries: when an ``artifact_type``
    was asked for but :attr:`artifact_type_filtered` is False, the list is unfiltered, and
    :meth:`matching` does the filtering on the client.
    """

    def __init__(
        self, items: Iterable[Descriptor] = (), filters_applied: Iterable[str] = ()
    ) -> None:
        super().__init__(items)
        self.filters_applied: frozenset[str] = frozenset(filters_applied)

    @property
    def artifact_type_filtered(self) -> bool:
        return "artifactType" in self.filters_applied

    def matching(self, artifact_type: str | None) -> list[Descriptor]:
        """The entries of ``artifact_type`` (all when None); filters here if the server did not."""
        if artifact_type is None or self.artifact_type_filtered:
            return list(self)
        return [d for d in self if d.artifact_type == artifact_type]


class RegistryStore:
    """One repository of a Distribution API (OCI distribution-spec) registry.

    ``plain_http`` talks HTTP instead of HTTPS; ``insecure`` skips TLS verification. Requests
    failing with 5xx, 429 or a dropped connection are tried ``retries`` more times, waiting
    ``backoff * 2**n`` seconds (or the registry's ``Retry-After``). Blobs larger than
    ``chunk_size`` are uploaded in chunks of that size, read from the stream one at a time.
    """

    def __init__(
        self,
        registry: str,
        repository: str,
        *,
        plain_http: bool = False,
        insecure: bool = False,
        docker_config: Path | None = None,
        username: str | None = None,
        password: str | None = None,
        retries: int = 4,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = 60.0,
        backoff: float = 0.5,
        deadline: float | None = None,
    ) -> None:
        if chunk_size <= 0:
            raise UsageError(f"chunk size must be positive, not {chunk_size}")
        if (username is None) != (password is None):
            raise UsageError("give both a registry username and a password, or neither")
        self.registry = registry
        self.repository = repository
        self.location = f"{registry}/{repository}"
        self.plain_http = plain_http
        self.insecure = insecure
        self.retries = max(0, retries)
        self.chunk_size = chunk_size
        self.timeout = timeout
        # A whole request (blob bodies: each read of up to 1 MiB) must finish within this.
        self.deadline = deadline if deadline is not None else max(300.0, timeout)
        self.backoff = backoff
        self._base = f"{'http' if plain_http else 'https'}://{registry}/v2/{repository}"
        self._session = requests.Session()
        for scheme in ("http://", "https://"):
            self._session.mount(scheme, DeadlineAdapter())
        self._session.headers["User-Agent"] = f"attest/{__version__}"
        self._auth = _Authenticator(
            registry,
            self._send,
            lambda: resolve_credentials(registry, username, password, docker_config),
            secure=not plain_http,
        )

    @classmethod
    def from_reference(
        cls, ref: Reference, *, plain_http: bool = False, insecure: bool = False, **kwargs: Any
    ) -> RegistryStore:
        """The store for ``ref``'s repository; loopback registries are spoken to in plain HTTP
        (as docker and oras treat localhost)."""
        if ref.registry is None or ref.repository is None:
            raise UsageError(f"{ref} is not a registry reference")
        return cls(
            ref.registry,
            ref.repository,
            plain_http=plain_http or ref.is_loopback,
            insecure=insecure,
            **kwargs,
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RegistryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RegistryStore({self.location!r}, plain_http={self.plain_http})"

    # -- blobs --------------------------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        resp = self._request("HEAD", self._blob_url(digest))
        if resp.status_code == 404:
            return False
        self._check(resp, f"blob {digest}", (200,))
        return True

    def fetch_blob(self, desc: Descriptor) -> bytes:
        limits.check_declared_size(desc.size, limits.MAX_DOCUMENT_SIZE, f"blob {desc.digest}")
        with self.open_blob(desc) as stream:
            data = stream.read(desc.size)  # the reader stops at the declared size
        _check_blob(data, desc, self.location)
        return data

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        resp = self._open_blob_at(desc, 0)
        reader = io.BufferedReader(_BlobReader(self, desc, resp), 1024 * 1024)
        return limits.bounded(reader, desc.size, f"{self.location}: blob {desc.digest}")

    def _open_blob_at(self, desc: Descriptor, offset: int) -> requests.Response:
        """GET the blob from byte ``offset`` (``Range``); a server ignoring Range answers 200
        and the first ``offset`` bytes are skipped."""
        headers = {"Range": f"bytes={offset}-"} if offset else None
        resp = self._request("GET", self._blob_url(desc.digest), stream=True, headers=headers)
        self._check(resp, f"blob {desc.digest}", (200, 206) if offset else (200,))
        length = resp.headers.get("Content-Length")
        if length and "Content-Encoding" not in resp.headers:
            expected = desc.size - offset if resp.status_code == 206 else desc.size
            if int(length) != expected:
                resp.close()
                raise InputError(
                    f"{self.location}: blob {desc.digest} has {length} bytes from offset "
                    f"{offset if resp.status_code == 206 else 0}, expected {expected}"
                )
        if resp.status_code == 206:
            start = resp.headers.get("Content-Range", "").removeprefix("bytes ").split("-")[0]
            if start != str(offset):
                resp.close()
                raise RegistryError(
                    f"{self.location}: asked blob {desc.digest} from byte {offset}, "
                    f"got Content-Range {resp.headers.get('Content-Range')!r}"
                )
        elif offset:
            skipped = 0
            while skipped < offset:
                part = resp.raw.read(min(offset - skipped, 1024 * 1024))
                if not part:
                    resp.close()
                    raise _TransientError(f"blob {desc.digest} ended before byte {offset}")
                skipped += len(part)
        return resp

    def push_blob(self, desc: Descriptor, stream: IO[bytes]) -> bool:
        if self.blob_exists(desc.digest):
            return False
        if desc.size <= self.chunk_size:
            # Small enough to hold: check it before sending, and retrying needs no rewind.
            data = _read_exact(stream, desc.size, desc.digest)
            _expect_eof(stream, desc)
            _check_blob(data, desc, "upload")
            # The bytes are in memory: a retry resends them, nothing to rewind.
            self._upload_with_restarts(
                desc, lambda: self._upload_monolithic(desc, data), lambda: None
            )
        elif stream.seekable():
            # A file: one streamed PATCH (as docker and skopeo do), little memory, resumable.
            start = stream.tell()
            available = stream.seek(0, io.SEEK_END) - start
            stream.seek(start)
            if available != desc.size:
                raise InputError(
                    f"stream for blob {desc.digest} has {available} bytes, not {desc.size}"
                    + (f": it ended {desc.size - available} bytes short" if available < desc.size
                       else "")
                )  # fmt: skip
            self._upload_with_restarts(
                desc,
                lambda: self._upload_streamed(desc, stream, start),
                functools.partial(stream.seek, start),
            )
        else:
            self._upload_with_restarts(desc, lambda: self._upload_chunked(desc, stream), None)
        return True

    def _blob_url(self, digest: str) -> str:
        validate_digest(digest)
        return f"{self._base}/blobs/{digest}"

    def _upload_with_restarts(
        self, desc: Descriptor, upload: Callable[[], None], rewind: Callable[[], object] | None
    ) -> None:
        # An upload session that failed half-way cannot be trusted: start a new one.
        for attempt in range(self.retries + 1):
            try:
                upload()
                return
            except _TransientError as e:
                if attempt == self.retries:
                    raise RegistryError(
                        f"{self.location}: upload of blob {desc.digest} failed "
                        f"after {attempt + 1} attempts: {e.message}",
                        hint=e.hint,
                    ) from e
                if self.blob_exists(desc.digest):  # the failed attempt landed after all
                    return
                if rewind is None:
                    raise RegistryError(
                        f"{self.location}: upload of blob {desc.digest} failed ({e.message}) "
                        "and its source stream cannot be rewound to try again",
                        hint="retry the command; a file or seekable source can be retried",
                    ) from e
                log.info("retrying upload of %s: %s", desc.digest, e.message)
                rewind()
                self._pause(attempt, None)

    def _start_upload(self) -> tuple[str, int]:
        resp = self._request("POST", f"{self._base}/blobs/uploads/", push=True)
        self._check(resp, f"upload session in {self.location}", (202,))
        min_chunk = int(resp.headers.get("OCI-Chunk-Min-Length") or 0)
        return self._location(resp), min_chunk

    def _location(self, resp: requests.Response) -> str:
        location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"{self.location}: upload answer has no Location header")
        return urljoin(resp.url, location)  # relative or absolute; its query string is kept

    def _upload_monolithic(self, desc: Descriptor, data: bytes) -> None:
        location, _ = self._start_upload()
        resp = self._request(
            "PUT",
            _with_query(location, digest=desc.digest),
            push=True,
            headers={"Content-Type": "application/octet-stream"},
            data=data,
            retry=False,
        )
        self._check_upload(resp, desc, (201,))

    def _upload_chunked(self, desc: Descriptor, stream: IO[bytes]) -> None:
        """PATCH the blob chunk by chunk; a chunk that fails is resumed from the offset the
        registry reports (GET on the upload), not from the start of the blob.

        The hash covers only what the registry acknowledged, so a resume at any offset inside
        the chunk held in memory keeps it right; an offset outside it restarts the upload.
        """
        location, min_chunk = self._start_upload()
        chunk_size = max(self.chunk_size, min_chunk)
        alg, _ = validate_digest(desc.digest)
        hasher = hashlib.new(alg)
        offset = 0
        pending = b""  # read from the stream, not yet acknowledged by the registry
        resumes = 0
        while offset < desc.size:
            if not pending:
                pending = _read_exact(stream, min(chunk_size, desc.size - offset), desc.digest)
            try:
                location = self._patch(location, desc, offset, offset + len(pending) - 1, pending)
                accepted = len(pending)
            except _TransientError as e:
                if resumes >= self.retries:
                    raise
                resumes += 1
                location, reached = self._resume_point(location, desc, e, resumes)
                accepted = reached - offset
                if not 0 <= accepted <= len(pending):
                    raise _TransientError(
                        f"upload of {desc.digest} cannot resume at byte {reached}"
                    ) from e
                log.info("upload of %s resumes at byte %d: %s", desc.digest, reached, e.message)
            hasher.update(pending[:accepted])
            offset += accepted
            pending = pending[accepted:]
        _expect_eof(stream, desc)
        if f"{alg}:{hasher.hexdigest()}" != desc.digest:
            self._cancel_upload(location)
            raise InputError(f"upload: content streamed for {desc.digest} does not match it")
        self._finish_upload(location, desc)

    def _upload_streamed(self, desc: Descriptor, stream: IO[bytes], start: int) -> None:
        """Send the whole blob in one PATCH streamed from a seekable source, hashing as it
        goes; after a failure, ask the registry where it stands and send the rest from there.
        """
        location, _ = self._start_upload()
        alg, _ = validate_digest(desc.digest)
        offset = 0
        hasher = hashlib.new(alg)
        resumes = 0
        while True:
            body = _HashingBody(stream, desc.size - offset, hasher)
            try:
                location = self._patch(location, desc, offset, desc.size - 1, body)
                break
            except _TransientError as e:
                if resumes >= self.retries:
                    raise
                resumes += 1
                location, offset = self._resume_point(location, desc, e, resumes)
                if not 0 <= offset <= desc.size:
                    raise _TransientError(
                        f"upload of {desc.digest} cannot resume at {offset}"
                    ) from e
                # Re-hash what the registry holds (rare: only after a failure), then go on.
                stream.seek(start)
                hasher = hashlib.new(alg)
                _HashingBody(stream, offset, hasher).drain()
                log.info("upload of %s resumes at byte %d: %s", desc.digest, offset, e.message)
                if offset == desc.size:
                    break
        if body.short or f"{alg}:{hasher.hexdigest()}" != desc.digest:
            self._cancel_upload(location)
            raise InputError(f"upload: content streamed for {desc.digest} does not match it")
        _expect_eof(stream, desc)
        self._finish_upload(location, desc)

    def _patch(self, location: str, desc: Descriptor, first: int, last: int, data: Any) -> str:
        """PATCH bytes ``first``..``last`` of an upload; the upload's next location."""
        resp = self._request(
            "PATCH",
            location,
            push=True,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{first}-{last}",
            },
            data=data,
            retry=False,
        )
        self._check_upload(resp, desc, (202,))
        return self._location(resp)

    def _resume_point(
        self, location: str, desc: Descriptor, error: _TransientError, attempt: int
    ) -> tuple[str, int]:
        """After a failed PATCH: pause, then ask the registry how many bytes it holds."""
        self._pause(attempt - 1, None)
        try:
            location, reached = self._upload_status(location)
        except (NotFoundError, RegistryError) as status_error:
            # No upload status (or the session is gone): the caller starts the upload over.
            raise _TransientError(
                f"upload of {desc.digest} failed ({error.message}) and cannot resume: "
                f"{status_error.message}"
            ) from error
        # "0-0" is what Distribution answers for an empty upload
        return location, 0 if reached == 1 else reached

    def _finish_upload(self, location: str, desc: Descriptor) -> None:
        resp = self._request(
            "PUT", _with_query(location, digest=desc.digest), push=True, retry=False
        )
        self._check_upload(resp, desc, (201,))

    def _upload_status(self, location: str) -> tuple[str, int]:
        """Where an upload stands: its (new) location and the bytes the registry holds."""
        resp = self._request("GET", location, push=True)
        if resp.status_code in _RETRY_STATUSES:
            resp.close()
            raise _TransientError(f"upload status: HTTP {resp.status_code}")
        self._check(resp, "upload status", (204,))
        match = re.fullmatch(r"(?:bytes=)?0-(\d+)", resp.headers.get("Range", "").strip())
        reached = int(match.group(1)) + 1 if match else 0
        return self._location(resp), reached

    def mount_blob(self, desc: Descriptor, from_repository: str) -> bool:
        """Mount ``desc`` from another repository of this registry (no bytes move); False
        when the registry declines (it then opened an upload, which is cancelled)."""
        validate_digest(desc.digest)
        resp = self._request(
            "POST",
            f"{self._base}/blobs/uploads/",
            push=True,
            params={"mount": desc.digest, "from": from_repository},
        )
        if resp.status_code == 201:
            resp.close()
            return True
        if resp.status_code == 202:
            location = self._location(resp)
            resp.close()
            self._cancel_upload(location)
            return False
        self._check(resp, f"mount of blob {desc.digest}", (201, 202))
        return False

    def _check_upload(self, resp: requests.Response, desc: Descriptor, ok: tuple[int, ...]) -> None:
        if resp.status_code in _RETRY_STATUSES:
            resp.close()
            raise _TransientError(f"HTTP {resp.status_code} during upload of {desc.digest}")
        self._check(resp, f"upload of blob {desc.digest}", ok)
        stored = resp.headers.get("Docker-Content-Digest")
        if resp.status_code == 201 and stored and stored != desc.digest:
            raise RegistryError(f"{self.location} stored blob {desc.digest} as {stored}")

    def _cancel_upload(self, location: str) -> None:
        try:
            self._request("DELETE", location, push=True, retry=False).close()
        except RegistryError as e:  # best effort: the registry expires stale uploads anyway
            log.debug("cancelling upload %s failed: %s", location, e)

    # -- manifests ----------------------------------------------------------------------------

    def get_manifest(self, reference: str, accept: tuple[str, ...] | None = None) -> Manifest:
        accepted = accept or mt.ALL_MANIFEST_TYPES
        for attempt in range(1 + self.retries):
            resp = self._request(
                "GET",
                self._manifest_url(reference),
                headers={"Accept": ", ".join(accepted)},
                stream=True,
            )
            self._check(resp, f"manifest {reference}", (200,))
            try:  # streamed so a hostile body stops at the cap; a truncated one is read again
                with _ResponseReader(resp, f"manifest {reference}") as body:
                    data = limits.read_capped(
                        body, limits.MAX_MANIFEST_SIZE, f"{self.location}: manifest {reference}"
                    )
                break
            except RegistryError as e:
                if attempt == self.retries:
                    raise
                log.info("%s; reading it again", e.message)
                self._pause(attempt, None)
        digest = self._manifest_digest(reference, data, resp.headers.get("Docker-Content-Digest"))
        media_type = _manifest_media_type(resp.headers.get("Content-Type"), data, accepted, digest)
        return Manifest(Descriptor(media_type, digest, len(data)), data, resp.headers.get("ETag"))

    def manifest_exists(self, digest: str) -> bool:
        validate_digest(digest)
        resp = self._request(
            "HEAD",
            self._manifest_url(digest),
            headers={"Accept": ", ".join(mt.ALL_MANIFEST_TYPES)},
        )
        if resp.status_code == 404:
            return False
        self._check(resp, f"manifest {digest}", (200,))
        return True

    def push_manifest(
        self,
        data: bytes,
        media_type: str,
        *,
        tag: str | None = None,
        if_match: str | None = None,
    ) -> PushResult:
        desc = Descriptor.for_bytes(media_type, data)
        target = tag or desc.digest
        headers = {"Content-Type": media_type}
        if if_match:
            headers["If-Match"] = if_match
        resp = self._request(
            "PUT", self._manifest_url(target), push=True, headers=headers, data=data
        )
        if resp.status_code == 412:
            raise ConcurrentUpdateError(
                f"{self.location}:{target} changed concurrently: the registry refused the "
                f"update because it no longer matches ETag {if_match}",
                hint="read it again and retry",
            )
        self._check(resp, f"manifest push to {target}", (200, 201, 204))
        stored = resp.headers.get("Docker-Content-Digest")
        if stored and stored.startswith("sha256:") and stored != desc.digest:
            raise RegistryError(
                f"{self.location} stored the manifest as {stored}, not {desc.digest}: "
                "it changed the bytes"
            )
        return PushResult(descriptor=desc, oci_subject=resp.headers.get("OCI-Subject"))

    def _manifest_url(self, reference: str) -> str:
        if _is_digest(reference):
            validate_digest(reference)
        elif not _TAG_RE.match(reference):
            raise UsageError(f"invalid tag {reference!r}")
        return f"{self._base}/manifests/{reference}"

    def _manifest_digest(self, reference: str, data: bytes, header: str | None) -> str:
        """The digest of exactly ``data``; a registry header is believed only if it agrees."""
        if _is_digest(reference):
            alg, _ = validate_digest(reference)
            if _digest_of(data, alg) != reference:
                raise InputError(
                    f"{self.location}: the manifest served for {reference} does not match "
                    "that digest"
                )
            return reference
        computed = _digest_of(data, "sha256")
        if header:
            try:
                alg, _ = validate_digest(header)
            except InputError:
                alg = ""
            if not alg or _digest_of(data, alg) != header:
                raise InputError(
                    f"{self.location}: manifest {reference} is served with "
                    f"Docker-Content-Digest {header}, but its body is {computed}"
                )
        return computed

    # -- tags and referrers -------------------------------------------------------------------

    def tags(self) -> list[str]:
        found: list[str] = []
        for page in self._pages(f"{self._base}/tags/list", {"n": str(_TAGS_PAGE_SIZE)}, "tags"):
            if page is None:
                return []  # no such repository: no tags
            body = parse_json_object(page.content, f"tag list of {self.location}")
            found.extend(t for t in body.get("tags") or [] if isinstance(t, str))
        return found

    def catalog(self) -> list[str]:
        """Every repository the registry lists (``GET /v2/_catalog``, all pages).

        Distribution serves it; many hosted registries refuse it (then list references in a
        file instead). Token registries need the ``registry:catalog:*`` scope, which the
        repository-scoped token does not carry: such a refusal is a RegistryError.
        """
        url = self._base.rsplit("/v2/", 1)[0] + "/v2/_catalog"
        found: list[str] = []
        for page in self._pages(url, {"n": str(_TAGS_PAGE_SIZE)}, "catalog"):
            if page is None:
                raise RegistryError(f"{self.registry}: no catalog API (404)")
            body = parse_json_object(page.content, f"catalog of {self.registry}")
            found.extend(r for r in body.get("repositories") or [] if isinstance(r, str))
        return found

    def list_referrers(
        self, subject_digest: str, *, artifact_type: str | None = None
    ) -> ReferrerList | None:
        """All descriptors the Referrers API lists for ``subject_digest`` (every page).

        Returns None when the registry has no Referrers API (404): read the fallback tag.
        ``artifact_type`` is passed on as ``?artifactType=``; registries may ignore it, so check
        ``result.artifact_type_filtered`` or use ``result.matching(artifact_type)``. Without it
        the list is unfiltered, as the Store protocol says.
        """
        validate_digest(subject_digest)
        params = {"artifactType": artifact_type} if artifact_type else None
        url = f"{self._base}/referrers/{subject_digest}"
        found: list[Descriptor] = []
        applied: set[str] | None = None
        for page in self._pages(url, params, f"referrers of {subject_digest}", mt.OCI_INDEX):
            if page is None:
                return None
            index = parse_json_object(page.content, f"referrers index of {subject_digest}")
            manifests = index.get("manifests") or []
            if not isinstance(manifests, list):
                raise InputError(f"{self.location}: referrers index 'manifests' is not a list")
            found.extend(_referrer_descriptors(manifests, subject_digest))
            header = page.headers.get("OCI-Filters-Applied", "")
            names = {n.strip() for n in header.split(",") if n.strip()}
            applied = names if applied is None else applied & names  # true of every page
        return ReferrerList(found, applied or ())

    def _pages(
        self,
        url: str,
        params: dict[str, str] | None,
        what: str,
        accept: str | None = None,
    ) -> Iterable[requests.Response | None]:
        """Each page of a paginated list (``Link: <url>; rel="next"``); a 404 on the first
        page yields None once."""
        seen: set[str] = set()
        headers = {"Accept": accept} if accept else None
        next_url: str | None = url
        while next_url and len(seen) < _MAX_PAGES:
            resp = self._request("GET", next_url, params=params, headers=headers, stream=True)
            if resp.status_code == 404 and not seen:
                resp.close()
                yield None
                return
            self._check(resp, what, (200,))
            seen.add(resp.url)
            # the body is read here, capped, so an endless list cannot fill the memory
            with _ResponseReader(resp, what) as body:
                data = limits.read_capped(body, limits.MAX_LIST_PAGE_SIZE,
                                          f"{self.location}: {what}")  # fmt: skip
            resp._content = data  # what .content returns from now on
            yield resp
            link = resp.links.get("next", {}).get("url")
            next_url = urljoin(resp.url, link) if link else None
            if next_url in seen:
                raise RegistryError(f"{self.location}: pagination of {what} loops at {next_url}")
            params = None  # the next link carries its own query

    # -- HTTP ---------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        push: bool = False,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        data: bytes | _HashingBody | None = None,
        stream: bool = False,
        retry: bool = True,
    ) -> requests.Response:
        """One authenticated request, tried again on transient failures when ``retry``.

        Bodies are bytes, so every attempt sends the same thing. Returns the last response
        whatever its status; raises RegistryError when no response came.
        """
        scope = _scope(self.repository, push)
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = self._send_authenticated(method, url, scope, headers, params, data, stream)
            except (requests.ConnectionError, requests.Timeout, *_TRUNCATED) as e:
                if last or isinstance(e, requests.exceptions.SSLError):
                    raise self._transport_error(e, attempt + 1) from e
                log.info("%s %s: %s; retrying", method, url, e)
                self._pause(attempt, None)
                continue
            if resp.status_code in _RETRY_STATUSES and not last:
                log.info("%s %s: HTTP %s; retrying", method, url, resp.status_code)
                retry_after = resp.headers.get("Retry-After")
                resp.close()
                self._pause(attempt, retry_after)
                continue
            return resp
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send_authenticated(
        self,
        method: str,
        url: str,
        scope: str,
        headers: dict[str, str] | None,
        params: dict[str, str] | None,
        data: bytes | _HashingBody | None,
        stream: bool,
    ) -> requests.Response:
        sent: list[str | None] = []

        def send() -> requests.Response:
            auth = self._auth.headers(scope)
            sent.append(auth.get("Authorization"))
            merged = {**(headers or {}), **auth}
            return self._send(method, url, headers=merged, params=params, data=data, stream=stream)

        resp = send()
        if resp.status_code != 401:
            return resp
        if self._auth.headers(scope).get("Authorization") not in (None, sent[-1]):
            answered = True  # a parallel transfer got credentials meanwhile: use them
        else:
            try:
                answered = self._auth.answer(resp.headers.get("WWW-Authenticate", ""), scope)
            except BaseException:
                resp.close()
                raise
        if not answered:
            return resp
        resp.close()
        if data is not None and not isinstance(data, bytes):
            # A streamed body was (partly) consumed: the upload starts over, authenticated.
            raise _TransientError(f"{method} {url}: credentials renewed during a streamed body")
        return send()

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """A bare request on the session (redirects followed; requests drops the
        Authorization header when a redirect leaves the host, e.g. to blob storage)."""
        with warnings.catch_warnings():
            if self.insecure:  # asked for explicitly: do not warn on every request
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                # Per request: requests lets REQUESTS_CA_BUNDLE override a session's verify=False.
                kwargs["verify"] = False
            deadline = Deadline(self.deadline)
            try:
                with bound(deadline):
                    resp = self._session.request(
                        method, url, timeout=self.timeout, allow_redirects=True, **kwargs
                    )
                resp.attest_deadline = deadline  # type: ignore[attr-defined] # body reads
                return resp
            except (requests.ConnectionError, requests.Timeout, *_TRUNCATED) as e:
                if deadline.expired:
                    raise _DeadlineExceeded(
                        f"no complete answer within {self.deadline:g}s"
                    ) from e
                raise
            except requests.RequestException as e:  # invalid URL, too many redirects...
                raise RegistryError(f"{method} {url} failed: {e}") from e

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2**attempt) * (1 + random.random() / 10)
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date: keep our own backoff
                delay = float(retry_after)
        time.sleep(min(max(delay, 0.0), _MAX_BACKOFF))

    def _check(self, resp: requests.Response, what: str, ok: tuple[int, ...]) -> None:
        """Raise the error ``resp`` stands for unless its status is in ``ok``."""
        if resp.status_code in ok:
            return
        status = resp.status_code
        detail = _registry_message(resp)
        resp.close()
        if status == 404:
            raise NotFoundError(f"{what} not found in {self.location}")
        if status in (401, 403):
            raise RegistryError(
                f"{self.location}: access to {what} denied (HTTP {status}"
                + (f", {detail})" if detail else ")"),
                hint=self._auth.login_hint(),
            )
        if status == 400 and "HTTPS server" in detail:  # Go's answer to HTTP on a TLS port
            raise RegistryError(
                f"{self.registry} speaks HTTPS, not plain HTTP",
                hint="drop --plain-http",
            )
        suffix = f": {detail}" if detail else ""
        raise RegistryError(f"{self.location}: {what}: HTTP {status}{suffix}")

    def _transport_error(self, e: Exception, attempts: int) -> RegistryError:
        text = str(e)
        if isinstance(e, requests.exceptions.SSLError):
            if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
                hint = "the registry seems to speak plain HTTP: use --plain-http"
            elif "CERTIFICATE_VERIFY_FAILED" in text:
                hint = "use --insecure to skip certificate verification, or trust its CA"
            else:
                hint = "use --plain-http if it serves HTTP, or --insecure to skip verification"
            return RegistryError(
                f"TLS connection to {self.registry} failed: {text[:300]}", hint=hint
            )
        match = _ERRNO_RE.search(text)
        reason = match.group(0).strip() if match else text[:300]
        if isinstance(e, _DeadlineExceeded):
            reason = str(e)
        elif isinstance(e, requests.Timeout):
            reason = f"timed out after {self.timeout:g}s"
        elif isinstance(e, _TRUNCATED):
            reason = f"the answer was cut short ({text[:200]})"
        hint = "is the registry running and reachable?"
        if not self.plain_http:
            hint += " If it serves plain HTTP, use --plain-http."
        return _TransientError(
            f"cannot reach registry {self.registry}: {reason} (after {attempts} attempts)",
            hint=hint,
        )


def _referrer_descriptors(entries: list[Any], subject_digest: str) -> Iterator[Descriptor]:
    # One malformed entry must not hide the others; the caller verifies each anyway.
    for entry in entries:
        try:
            yield Descriptor.from_dict(entry)
        except InputError as e:
            log.warning("ignoring malformed referrer of %s: %s", subject_digest, e)


def _manifest_media_type(
    content_type: str | None, data: bytes, accepted: tuple[str, ...], digest: str
) -> str:
    """The media type from Content-Type when it is one we asked for, else from the body."""
    declared = (content_type or "").split(";", 1)[0].strip()
    if declared in accepted or declared in mt.ALL_MANIFEST_TYPES:
        return declared
    obj = parse_json_object(data, f"manifest {digest}")
    if obj.get("mediaType") in mt.ALL_MANIFEST_TYPES:
        return str(obj["mediaType"])
    if isinstance(obj.get("manifests"), list):
        return mt.OCI_INDEX
    if "config" in obj or "layers" in obj:
        return mt.OCI_MANIFEST
    raise InputError(f"{digest} is not a manifest or index (Content-Type {declared!r})")
