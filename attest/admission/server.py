"""The HTTPS server of the Gatekeeper external-data provider.

- TLS 1.3 only (Gatekeeper's client refuses anything older); with a client CA, a client
  certificate signed by it is required (Gatekeeper always presents its webhook certificate).
- ``POST /validate``: a ``ProviderRequest`` in, a ``ProviderResponse`` out, one item per key in
  order, answered within the deadline (items still verifying get an ``error``: fail closed).
- ``GET /healthz`` (the process serves), ``/readyz`` (policy and trust loaded, not draining),
  ``/metrics`` (Prometheus text format); also on a plain-HTTP health port (``--health-addr``),
  since the kubelet's probes and Prometheus present no client certificate.
- HTTP/1.1 keep-alive with ``TCP_NODELAY``: headers and body go out in two writes, and without
  it Nagle and delayed ACKs add ~40 ms to every reused connection.
- Bounded: request bodies, keys per request, open connections, verification workers.
- One JSON log line per request with its request id; never a header, body or credential.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from attest import __version__
from attest.admission.metrics import Metrics
from attest.admission.validate import Validator
from attest.errors import UsageError

log = logging.getLogger("attest.admission")

API_VERSION = "externaldata.gatekeeper.sh/v1beta1"
MAX_BODY = 1024 * 1024
MAX_KEYS = 1000
_PATHS = ("/validate", "/healthz", "/readyz", "/metrics")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    tls_cert: Path
    tls_key: Path
    client_ca: Path | None = None
    deadline: float = 2.5
    max_connections: int = 256
    idle_timeout: float = 60.0


def tls_context(cert: Path, key: Path, client_ca: Path | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as e:
        raise UsageError(f"--tls-cert/--tls-key: cannot load them: {e}") from None
    if client_ca is not None:
        try:
            context.load_verify_locations(cafile=str(client_ca))
        except (OSError, ssl.SSLError) as e:
            raise UsageError(f"--client-ca {client_ca}: cannot load: {e}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def provider_response(items: list[dict[str, Any]], system_error: str = "") -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ProviderResponse",
        # verification results change with time (TTL, new signatures): not idempotent
        "response": {"idempotent": False, "items": items, "systemError": system_error},
    }


def parse_provider_request(body: bytes) -> list[str]:
    """The keys of a ProviderRequest; ValueError saying what is wrong."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("body is not JSON") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ProviderRequest":
        raise ValueError("not a ProviderRequest")
    if doc.get("apiVersion") not in (API_VERSION, "externaldata.gatekeeper.sh/v1alpha1"):
        raise ValueError(f"unsupported apiVersion {str(doc.get('apiVersion'))[:80]!r}")
    request = doc.get("request")
    keys = request.get("keys") if isinstance(request, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError("request.keys must be a list of strings")
    if len(keys) > MAX_KEYS:
        raise ValueError(f"{len(keys)} keys; at most {MAX_KEYS} per request")
    return keys


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, settings: ServerSettings, validator: Validator) -> None:
        self.settings = settings
        self.validator = validator
        self.metrics: Metrics = validator.metrics
        self.ready = False
        self._slots = threading.BoundedSemaphore(settings.max_connections)
        self._in_flight = 0
        self._idle = threading.Condition()
        self._context = tls_context(settings.tls_cert, settings.tls_key, settings.client_ca)
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        self.address_family = family
        super().__init__((settings.host, settings.port), ProviderHandler)
        # the handshake runs in the connection's thread (see ProviderHandler.setup), so one slow
        # or hostile client cannot stall accept()
        self.socket = self._context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):  # bounded: refuse, do not queue forever
            self.shutdown_request(request)
            return
        with self._idle:  # counted here, before its thread starts, so drain() cannot miss it
            self._in_flight += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until no request is being handled (its response sent and its log line written);
        False when ``timeout`` seconds passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # TLS refusals (no client certificate, TLS 1.2) and dropped connections are normal
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)

    def server_close(self) -> None:
        self.ready = False
        super().server_close()
        self.validator.close()


class ProviderHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = f"attest-provider/{__version__}"
    sys_version = ""
    server: ProviderServer

    def setup(self) -> None:
        self.request.settimeout(self.server.settings.idle_timeout)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # one structured line per request instead (_log)

    # -- routing ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send(200, b"ok\n", "text/plain; charset=utf-8")
        elif path == "/readyz":
            ready = self.server.ready
            self._send(200 if ready else 503, b"ready\n" if ready else b"not ready\n",
                       "text/plain; charset=utf-8")  # fmt: skip
        elif path == "/metrics":
            self._send(200, self.server.metrics.render(), self.server.metrics.content_type)
        else:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path != "/validate":
            self._drain()
            self._send(404, b"not found\n", "text/plain; charset=utf-8")
            return
        start = time.monotonic()
        deadline = start + self.server.settings.deadline
        request_id = self._request_id()
        body = self._read_body()
        if body is None:
            return
        try:
            keys = parse_provider_request(body)
        except ValueError as e:
            self._json(400, provider_response([], f"bad request: {e}"), request_id)
            self._log(request_id, 400, start, keys=0, error=str(e))
            return
        try:
            items = self.server.validator.validate(keys, deadline)
        except Exception as e:  # a bug: every key fails closed through systemError
            log.exception("internal error in /validate")
            self._json(500, provider_response([], f"internal error: {type(e).__name__}"),
                       request_id)  # fmt: skip
            self._log(request_id, 500, start, keys=len(keys), error=type(e).__name__)
            return
        self._json(200, provider_response(items), request_id)
        errors = sum(1 for i in items if "error" in i)
        self.server.metrics.latency.observe(time.monotonic() - start)
        self._log(request_id, 200, start, keys=len(keys), errors=errors)

    # -- plumbing -----------------------------------------------------------------------------

    def _request_id(self) -> str:
        given = self.headers.get("X-Request-Id", "")
        return given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    def _read_body(self) -> bytes | None:
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length_header is None:
            self.close_connection = True
            self._send(411, b"Content-Length required\n", "text/plain; charset=utf-8")
            return None
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(413, b"request body too large\n", "text/plain; charset=utf-8")
            return None
        return self.rfile.read(length)

    def _drain(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= MAX_BODY:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def _json(self, status: int, doc: dict[str, Any], request_id: str) -> None:
        body = json.dumps(doc, separators=(",", ":")).encode()
        self._send(status, body, "application/json", {"X-Request-Id": request_id})

    def _send(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        path = self.path.split("?", 1)[0]
        label = path if path in _PATHS else "other"  # bounded label cardinality
        self.server.metrics.requests.labels(label, str(status)).inc()

    def _log(self, request_id: str, status: int, start: float, **fields: Any) -> None:
        log.info("validate", extra={"fields": {
            "request_id": request_id, "status": status,
            "duration_ms": round((time.monotonic() - start) * 1000, 2),
            "client": self.client_address[0], **fields,
        }})  # fmt: skip


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, msg, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            doc["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"[:500]
        return json.dumps(doc, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Every attest log record as a JSON line on stderr (the provider's only log format)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("attest")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class HealthServer(ThreadingHTTPServer):
    """Plain HTTP ``/healthz``, ``/readyz`` and ``/metrics`` for the kubelet and Prometheus,
    which present no client certificate; ``/validate`` is never served here."""

    daemon_threads = True

    def __init__(self, host: str, port: int, provider: ProviderServer) -> None:
        self.provider = provider
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), HealthHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class HealthHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = f"attest-provider/{__version__}"
    sys_version = ""
    timeout = 10
    server: HealthServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        provider = self.server.provider
        status, body, ctype = 404, b"not found\n", "text/plain; charset=utf-8"
        if path == "/healthz":
            status, body = 200, b"ok\n"
        elif path == "/readyz":
            status, body = (200, b"ready\n") if provider.ready else (503, b"not ready\n")
        elif path == "/metrics":
            status, body, ctype = 200, provider.metrics.render(), provider.metrics.content_type
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


#: Longest wait for requests in flight when stopping (under Kubernetes' 30 s grace period).
DRAIN_SECONDS = 20.0


def serve_forever(server: ProviderServer, health: HealthServer | None = None) -> None:
    if health is not None:
        threading.Thread(target=health.serve_forever, name="attest-health", daemon=True).start()
    server.ready = True
    log.info("listening", extra={"fields": {
        "address": f"{server.settings.host}:{server.port}",
        "mtls": server.settings.client_ca is not None,
    }})  # fmt: skip
    if threading.current_thread() is threading.main_thread():
        # Kubernetes stops a pod with SIGTERM: stop accepting, finish what is in flight (its
        # response and its log line), then exit 0 -- not die between a response and its log.
        def stop(signum: int, _frame: Any) -> None:
            server.ready = False
            log.info("shutting down", extra={"fields": {"signal": signal.Signals(signum).name}})
            threading.Thread(target=server.shutdown, name="attest-shutdown", daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    finally:
        if not server.drain(DRAIN_SECONDS):
            log.warning("requests still in flight after %.0f s; exiting", DRAIN_SECONDS)
        server.server_close()
        if health is not None:
            health.shutdown()
            health.server_close()
