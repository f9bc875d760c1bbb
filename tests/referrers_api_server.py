"""A test stand-in for a registry with the OCI 1.1 Referrers API; no installable registry here has
it (Debian's docker-registry 2.8.2 answers the route with 404).

It is a protocol stand-in, not a registry: an in-memory, threaded ``http.server`` speaking just
enough of the distribution spec for :class:`attest.oci.registry.RegistryStore` -- ping, blob
HEAD/GET, uploads (monolithic and chunked, ``Location`` with a query string the client must keep),
manifests by tag and digest (exact bytes, ``Docker-Content-Digest``, ``ETag``/``If-Match``,
``OCI-Subject``), tag lists and ``GET /v2/<name>/referrers/<digest>`` with pagination.

Switches a test may flip at any time:

- ``page_size``: referrers (and tags) per page; ``Link: <...>; rel="next"`` for the rest.
- ``apply_filters``: honour ``?artifactType=`` and say so with ``OCI-Filters-Applied``
  (off by default: the spec lets registries ignore the filter, so clients must filter).
- ``referrers_api``: False answers the referrers route with 404, like a registry without it.
- ``token_auth``: require a bearer token from ``/token`` (Docker token protocol; basic
  ``username``/``password`` required there when set, else anonymous tokens).
- ``token_realm``: the realm the challenge names (default: this server's ``/token``).
- ``redirect_blobs``: blob GETs answer 307 to ``/_storage/...`` (as registries redirect to S3).
- ``fail_next(n, status, method)``: answer the next ``n`` matching requests with ``status``.
- ``requests_log``: ``(method, path)`` of every request, for counting.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_NAME = r"(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
_DIGEST = r"(?P<digest>sha256:[0-9a-f]{64})"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class _Failure:
    remaining: int
    status: int
    method: str | None


@dataclass
class _State:
    """Everything the server stores, keyed by repository name."""

    blobs: dict[tuple[str, str], bytes] = field(default_factory=dict)
    uploads: dict[str, bytearray] = field(default_factory=dict)
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> granted scope
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReferrersApiServer:
    """The stand-in; use as a context manager or call ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        page_size: int = 2,
        apply_filters: bool = False,
        referrers_api: bool = True,
        token_auth: bool = False,
        username: str | None = None,
        password: str | None = None,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.page_size = page_size
        self.apply_filters = apply_filters
        self.referrers_api = referrers_api
        self.token_auth = token_auth
        self.username = username
        self.password = password
        self.redirect_blobs = False
        self.token_realm: str | None = None
        self.requests_log: list[tuple[str, str]] = []
        self.state = _State()
        self._failures: list[_Failure] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        if tls:  # (certfile, keyfile): serve HTTPS, e.g. with a self-signed certificate
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        # A short poll interval makes shutdown() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        port = self._httpd.server_address[1]
        self.host = f"127.0.0.1:{port}"
        self.url = f"{'https' if tls else 'http'}://{self.host}"

    def start(self) -> ReferrersApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReferrersApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, n: int, status: int = 503, method: str | None = None) -> None:
        """Answer the next ``n`` requests (of ``method`` when given) with ``status``."""
        with self.state.lock:
            self._failures.append(_Failure(n, status, method))

    def count(self, method: str, path_contains: str = "") -> int:
        return sum(1 for m, p in self.requests_log if m == method and path_contains in p)

    def take_failure(self, method: str) -> int | None:
        with self.state.lock:
            for failure in self._failures:
                if failure.remaining > 0 and failure.method in (None, method):
                    failure.remaining -= 1
                    return failure.status
        return None


def _make_handler(server: ReferrersApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        stand_in = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as registries do; every answer has a length
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    stand_in: ReferrersApiServer

    # -- plumbing -------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet tests

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = self._body()
        self.stand_in.requests_log.append((method, parts.path))
        status = self.stand_in.take_failure(method)
        if status is not None:
            headers = {"Retry-After": "0"} if status == 429 else {}
            return self._error(status, "UNAVAILABLE", "injected failure", headers)
        if parts.path == "/token":
            return self._token()
        if parts.path.startswith("/_storage/"):  # where blob GETs redirect: no auth, like S3
            return self._storage(parts.path)
        for pattern, methods, handler in _ROUTES:
            match = re.fullmatch(pattern, parts.path)
            if match and method in methods:
                if not self._authorized(match.groupdict().get("name"), method):
                    return None
                return handler(self, method, body, **match.groupdict())
        return self._error(404, "NOT_FOUND", f"no route for {method} {parts.path}")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(
            status,
            json.dumps(obj).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def _error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, {"errors": [{"code": code, "message": message}]}, headers)

    # -- auth -----------------------------------------------------------------------------

    def _authorized(self, name: str | None, method: str) -> bool:
        if not self.stand_in.token_auth:
            return True
        actions = "pull" if method in ("GET", "HEAD") else "pull,push"
        auth = self.headers.get("Authorization", "")
        granted = self.stand_in.state.tokens.get(auth.removeprefix("Bearer "))
        needed = f"repository:{name}:{actions}"
        if granted is not None and (
            name is None  # the /v2/ ping: any token
            or granted in (needed, f"repository:{name}:pull,push")
        ):
            return True
        realm = self.stand_in.token_realm or f"{self.stand_in.url}/token"
        challenge = f'Bearer realm="{realm}",service="stand-in"'
        if name:
            challenge += f',scope="{needed}"'
        self._error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
        return False

    def _token(self) -> None:
        server = self.stand_in
        if server.username is not None:
            expected = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                return self._error(401, "UNAUTHORIZED", "bad credentials")
        token = secrets.token_hex(16)
        server.state.tokens[token] = self.query.get("scope", "")
        return self._json(200, {"token": token, "expires_in": 300})

    # -- routes ---------------------------------------------------------------------------

    def ping(self, method: str, body: bytes) -> None:
        self._json(200, {})

    def blob(self, method: str, body: bytes, name: str, digest: str) -> None:
        data = self.stand_in.state.blobs.get((name, digest))
        if data is None:
            return self._error(404, "BLOB_UNKNOWN", f"blob {digest} unknown")
        if method == "GET" and self.stand_in.redirect_blobs:
            return self._send(307, headers={"Location": f"/_storage/{name}/{digest}"})
        headers = {"Docker-Content-Digest": digest, "Content-Type": "application/octet-stream"}
        return self._send(200, data, headers)  # HEAD: same headers, no body

    def _storage(self, path: str) -> None:
        name, _, digest = path.removeprefix("/_storage/").rpartition("/")
        data = self.stand_in.state.blobs.get((name, digest))
        if data is None:
            return self._error(404, "NOT_FOUND", "no such object")
        return self._send(200, data, {"Content-Type": "application/octet-stream"})

    def start_upload(self, method: str, body: bytes, name: str) -> None:
        upload_id = secrets.token_hex(8)
        self.stand_in.state.uploads[upload_id] = bytearray()
        self._send(202, headers=self._upload_headers(name, upload_id))

    def _upload_headers(self, name: str, upload_id: str) -> dict[str, str]:
        size = len(self.stand_in.state.uploads[upload_id])
        # The `_state` query is opaque state the client must carry to the next request.
        return {
            "Location": f"/v2/{name}/blobs/uploads/{upload_id}?_state={secrets.token_hex(4)}",
            "Range": f"0-{max(size - 1, 0)}",
            "Docker-Upload-UUID": upload_id,
        }

    def upload(self, method: str, body: bytes, name: str, upload_id: str) -> None:
        uploads = self.stand_in.state.uploads
        if upload_id not in uploads:
            return self._error(404, "BLOB_UPLOAD_UNKNOWN", "unknown upload")
        if "_state" not in self.query:
            return self._error(400, "BLOB_UPLOAD_INVALID", "upload state (query) lost")
        if method == "DELETE":
            del uploads[upload_id]
            return self._send(204)
        if method == "PATCH":
            return self._patch(name, upload_id, body)
        return self._finish_upload(name, upload_id, body)

    def _patch(self, name: str, upload_id: str, body: bytes) -> None:
        data = self.stand_in.state.uploads[upload_id]
        content_range = self.headers.get("Content-Range")
        if content_range:
            start, _, end = content_range.partition("-")
            if int(start) != len(data) or int(end) - int(start) + 1 != len(body):
                return self._error(416, "BLOB_UPLOAD_INVALID", f"bad range {content_range}")
        data.extend(body)
        return self._send(202, headers=self._upload_headers(name, upload_id))

    def _finish_upload(self, name: str, upload_id: str, body: bytes) -> None:
        data = self.stand_in.state.uploads.pop(upload_id) + body
        digest = self.query.get("digest", "")
        if _sha256(bytes(data)) != digest:
            return self._error(400, "DIGEST_INVALID", "content does not match digest")
        self.stand_in.state.blobs[(name, digest)] = bytes(data)
        return self._send(
            201, headers={"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest}
        )

    def manifest(self, method: str, body: bytes, name: str, reference: str) -> None:
        state = self.stand_in.state
        digest = reference if reference.startswith("sha256:") else state.tags.get((name, reference))
        if method == "PUT":
            return self._put_manifest(name, reference, body)
        stored = state.manifests.get((name, digest or ""))
        if stored is None:
            return self._error(404, "MANIFEST_UNKNOWN", f"manifest {reference} unknown")
        if method == "DELETE":
            del state.manifests[(name, digest or "")]
            for key in [k for k, v in state.tags.items() if k[0] == name and v == digest]:
                del state.tags[key]
            return self._send(202)
        data, media_type = stored
        headers = {"Content-Type": media_type, "Docker-Content-Digest": digest or "",
                   "ETag": f'"{digest}"'}
        return self._send(200, data, headers)

    def _put_manifest(self, name: str, reference: str, body: bytes) -> None:
        state = self.stand_in.state
        digest = _sha256(body)
        if reference.startswith("sha256:") and reference != digest:
            return self._error(400, "DIGEST_INVALID", "body does not match the digest")
        if_match = self.headers.get("If-Match")
        if if_match is not None and not reference.startswith("sha256:"):
            current = state.tags.get((name, reference))
            if if_match != f'"{current}"':
                return self._error(412, "PRECONDITION_FAILED", "tag changed")
        try:
            manifest = json.loads(body)
        except ValueError:
            return self._error(400, "MANIFEST_INVALID", "not JSON")
        media_type = self.headers.get("Content-Type") or manifest.get("mediaType") or ""
        state.manifests[(name, digest)] = (body, media_type)
        if not reference.startswith("sha256:"):
            state.tags[(name, reference)] = digest
        headers = {"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest}
        subject = (manifest.get("subject") or {}).get("digest")
        if subject and self.stand_in.referrers_api:  # no API, no OCI-Subject
            headers["OCI-Subject"] = subject
        return self._send(201, headers=headers)

    def tag_list(self, method: str, body: bytes, name: str) -> None:
        tags = sorted(t for (n, t) in self.stand_in.state.tags if n == name)
        if not tags and not any(n == name for n, _ in self.stand_in.state.manifests):
            return self._error(404, "NAME_UNKNOWN", f"repository {name} unknown")
        last = self.query.get("last")
        if last:
            tags = [t for t in tags if t > last]
        n = int(self.query.get("n") or self.stand_in.page_size)
        page, more = tags[:n], len(tags) > n
        headers = {}
        if more:
            headers["Link"] = f'</v2/{name}/tags/list?n={n}&last={page[-1]}>; rel="next"'
        return self._json(200, {"name": name, "tags": page}, headers)

    def referrers(self, method: str, body: bytes, name: str, digest: str) -> None:
        if not self.stand_in.referrers_api:
            return self._send(404, b"404 page not found\n", {"Content-Type": "text/plain"})
        entries = self._referrer_entries(name, digest)
        headers = {"Content-Type": OCI_INDEX}
        artifact_type = self.query.get("artifactType")
        if artifact_type and self.stand_in.apply_filters:
            entries = [e for e in entries if e.get("artifactType") == artifact_type]
            headers["OCI-Filters-Applied"] = "artifactType"
        start = int(self.query.get("page") or 0)
        size = self.stand_in.page_size
        if start + size < len(entries):
            extra = f"&artifactType={quote(artifact_type)}" if artifact_type else ""
            next_url = f"/v2/{name}/referrers/{digest}?page={start + size}{extra}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        page = entries[start : start + size]
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": page}
        return self._send(200, json.dumps(index).encode(), headers)

    def _referrer_entries(self, name: str, subject: str) -> list[dict[str, Any]]:
        entries = []
        for (repo, digest), (data, media_type) in sorted(self.stand_in.state.manifests.items()):
            manifest = json.loads(data)
            if repo != name or (manifest.get("subject") or {}).get("digest") != subject:
                continue
            entry: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(data)}
            artifact_type = manifest.get("artifactType") or (manifest.get("config") or {}).get(
                "mediaType"
            )
            if artifact_type:
                entry["artifactType"] = artifact_type
            if manifest.get("annotations"):
                entry["annotations"] = manifest["annotations"]
            entries.append(entry)
        return entries


_Route = tuple[str, tuple[str, ...], Callable[..., None]]
_ROUTES: list[_Route] = [
    (r"/v2/?", ("GET", "HEAD"), _Handler.ping),
    (rf"/v2/{_NAME}/blobs/uploads/?", ("POST",), _Handler.start_upload),
    (
        rf"/v2/{_NAME}/blobs/uploads/(?P<upload_id>[0-9a-f]+)",
        ("PATCH", "PUT", "DELETE"),
        _Handler.upload,
    ),
    (rf"/v2/{_NAME}/blobs/{_DIGEST}", ("GET", "HEAD"), _Handler.blob),
    (
        rf"/v2/{_NAME}/manifests/(?P<reference>[A-Za-z0-9_.:-]+)",
        ("GET", "HEAD", "PUT", "DELETE"),
        _Handler.manifest,
    ),
    (rf"/v2/{_NAME}/tags/list", ("GET",), _Handler.tag_list),
    (rf"/v2/{_NAME}/referrers/{_DIGEST}", ("GET",), _Handler.referrers),
]
