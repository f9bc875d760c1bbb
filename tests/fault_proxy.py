"""A fault-injecting HTTP proxy for tests: forwards to a real registry (Debian's
``docker-registry``) and breaks chosen requests the way networks and registries break.

It is a test tool, not a registry: every byte the client gets comes from the real registry
unless a fault replaces it. Faults are matched on method and a regular expression over the path;
``nth`` picks which matching request fails (1 = the next one) and ``times`` how many in a row.

Fault kinds:

- ``status``: answer with this HTTP status (e.g. a spurious 404 on a tag, a 500 on an upload)
  without forwarding.
- ``truncate``: forward, then send the full headers (Content-Length of the whole body) but only
  the first ``keep`` bytes of the body, and close the connection.
- ``drop``: read the request and close the connection without answering.
- ``delay``: forward after sleeping ``seconds`` (widens races between concurrent writers).
- ``stall``: forward, send the headers and then one body byte every ``seconds`` (a slow-loris
  server that never trips a per-read timeout).

``log`` records ``(method, path, status, request headers)`` of every request for assertions.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.registry_fixtures import Registry, RegistryServer, _handle

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
}
_CHUNK = 1024 * 1024


@dataclass
class Fault:
    method: str
    path: str  # regular expression, searched in the request path (query excluded)
    kind: str  # status | truncate | drop | delay | stall
    nth: int = 1
    times: int = 1
    status: int = 500
    keep: int = 0
    seconds: float = 0.0
    seen: int = 0
    fired: int = 0

    def hit(self, method: str, path: str) -> bool:
        if method != self.method or not re.search(self.path, path):
            return False
        self.seen += 1
        if self.seen >= self.nth and self.fired < self.times:
            self.fired += 1
            return True
        return False


@dataclass
class LogEntry:
    method: str
    path: str
    status: int
    headers: dict[str, str] = field(repr=False)
    fault: str | None = None
    query: str = ""


class FaultProxy:
    """Listen on a free loopback port and forward to ``upstream`` (``host:port``)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.log: list[LogEntry] = []
        self.in_flight = 0  # requests being forwarded now
        self.max_in_flight = 0  # the most at once, to see parallel transfers
        self.arrivals: list[tuple[str, str]] = []  # (method, path) in the order requests came
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, method: str, path: str, kind: str, **kw: Any) -> Fault:
        fault = Fault(method, path, kind, **kw)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.hit(method, path):
                    return fault
        return None

    def count(self, method: str, path: str = "", fault: str | None = None) -> int:
        return sum(
            1
            for e in self.log
            if e.method == method
            and re.search(path, e.path)
            and (fault is None or e.fault == fault)
        )


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = proxy

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    owner: FaultProxy

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._forward("GET")

    def do_HEAD(self) -> None:
        self._forward("HEAD")

    def do_POST(self) -> None:
        self._forward("POST")

    def do_PUT(self) -> None:
        self._forward("PUT")

    def do_PATCH(self) -> None:
        self._forward("PATCH")

    def do_DELETE(self) -> None:
        self._forward("DELETE")

    def _forward(self, method: str) -> None:
        with self.owner._lock:
            self.owner.arrivals.append((method, urlsplit(self.path).path))
            self.owner.in_flight += 1
            self.owner.max_in_flight = max(self.owner.max_in_flight, self.owner.in_flight)
        try:
            self._forward_counted(method)
        finally:
            with self.owner._lock:
                self.owner.in_flight -= 1

    def _forward_counted(self, method: str) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        fault = self.owner.take(method, path)
        kind = fault.kind if fault else None
        if fault and fault.kind == "drop":
            self._record(method, path, 0, headers, kind)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault.kind == "status":
            self._record(method, path, fault.status, headers, kind)
            payload = b'{"errors":[{"code":"INJECTED","message":"injected fault"}]}'
            self.send_response(fault.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)
            return
        if fault and fault.kind == "delay":
            time.sleep(fault.seconds)
        conn = http.client.HTTPConnection(self.owner.upstream, timeout=60)
        try:
            conn.request(method, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            self._record(method, path, resp.status, headers, kind)
            self._relay(method, resp, fault)
        finally:
            conn.close()

    def _relay(self, method: str, resp: http.client.HTTPResponse, fault: Fault | None) -> None:
        self.send_response(resp.status)
        for key, value in resp.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        body_length = resp.getheader("Content-Length")
        if method == "HEAD":
            if body_length is not None:
                self.send_header("Content-Length", body_length)
            self.end_headers()
            return
        # Upstream may answer chunked: read it whole (test bodies are small) for a length.
        data = resp.read()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault and fault.kind == "truncate":
            self.wfile.write(data[: fault.keep])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault.kind == "stall":
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(fault.seconds)
            except OSError:  # the client gave up: what a deadline is for
                self.close_connection = True
            return
        for start in range(0, len(data), _CHUNK):
            self.wfile.write(data[start : start + _CHUNK])

    def _record(
        self, method: str, path: str, status: int, headers: dict[str, str], kind: str | None
    ) -> None:
        with self.owner._lock:
            self.owner.log.append(
                LogEntry(method, path, status, headers, kind, urlsplit(self.path).query)
            )



@pytest.fixture
def proxied_registry(
    registry_server: RegistryServer, request: pytest.FixtureRequest
) -> Iterator[tuple[FaultProxy, Registry]]:
    """``(proxy, registry)``: a fault proxy in front of the session's docker-registry; the
    Registry handle names the proxy's host and a repository unique to the test. Test modules
    import this fixture by name."""
    with FaultProxy(registry_server.host) as proxy:
        repo = _handle(registry_server, request).repo
        yield proxy, Registry(proxy.host, f"http://{proxy.host}", repo)
