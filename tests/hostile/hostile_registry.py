"""A stand-in for a hostile registry (not a real one): serves the Distribution API's pull paths
(``/v2/``, manifests, blobs) over loopback from a table, and can answer a blob or manifest GET
with an endless chunked body. It counts the bytes it sent, so a test can show that attest
stopped reading at the size the descriptor declared.

Real registries cannot be made to misbehave this way, which is why this stand-in exists; the
well-behaved paths are tested against Debian's docker-registry elsewhere.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: The most an endless body sends before giving up (so a reader that never stops still ends).
ENDLESS_LIMIT = 64 * 1024 * 1024


@dataclass
class HostileRegistry:
    host: str
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # ref -> (type, body)
    blobs: dict[str, bytes] = field(default_factory=dict)
    endless: set[str] = field(default_factory=set)  # digests or refs answered without end
    sent: dict[str, int] = field(default_factory=dict)  # path -> body bytes sent

    def add_manifest(self, tag: str, media_type: str, body: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.manifests[tag] = self.manifests[digest] = (media_type, body)
        return digest


def _handler(registry: HostileRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, head: bool) -> None:
            path = self.path.split("?")[0]
            if path in ("/v2", "/v2/"):
                return self._send(200, b"{}", "application/json", head)
            parts = path.split("/")
            if path.endswith("/tags/list") and "tags/list" in registry.endless:
                return self._endless(path, head)
            if len(parts) >= 5 and parts[-2] in ("manifests", "blobs"):
                kind, ref = parts[-2], parts[-1]
                if ref in registry.endless:
                    return self._endless(path, head)
                if kind == "manifests" and ref in registry.manifests:
                    media_type, body = registry.manifests[ref]
                    digest = "sha256:" + hashlib.sha256(body).hexdigest()
                    return self._send(200, body, media_type, head, digest)
                if kind == "blobs" and ref in registry.blobs:
                    return self._send(200, registry.blobs[ref], "application/octet-stream", head)
            body = b'{"errors":[{"code":"NOT_FOUND","message":"not found"}]}'
            return self._send(404, body, "application/json", head)

        def _send(self, status: int, body: bytes, media_type: str, head: bool,
                  digest: str | None = None) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            if digest:
                self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            if not head:
                self.wfile.write(body)
                path = self.path.split("?")[0]
                registry.sent[path] = registry.sent.get(path, 0) + len(body)

        def _endless(self, path: str, head: bool) -> None:
            """Chunked transfer encoding, no Content-Length: the client cannot know the end."""
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if head:
                return
            chunk = b"{" * 65536
            sent = 0
            try:
                while sent < ENDLESS_LIMIT:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                    registry.sent[path] = sent
                self.wfile.write(b"0\r\n\r\n")
            except OSError:  # the client hung up: what we wanted
                pass
            self.close_connection = True

    return Handler


@contextmanager
def hostile_registry() -> Iterator[HostileRegistry]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(HostileRegistry("")))
    registry = HostileRegistry(f"127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
