"""A **shim** of OPA's REST API, in process, for testing attest's OPA-server engine.

It is not OPA: it speaks the subset of the REST API that ``opa-python-client`` (and so
:class:`attest.policy.opa_server_engine.OpaServerEngine`) uses, and evaluates with the real
regorus engine. It tests our client code and the wire format, not OPA's server; the real
server is tested too when an ``opa`` binary is present (``$OPA_BIN`` or on PATH).

Endpoints: ``GET /health``; ``GET /v1/policies``; ``PUT/GET/DELETE /v1/policies/{id}``;
``PUT/GET/DELETE /v1/data/{path}``; ``POST /v1/data/{path}`` with ``{"input": ...}`` ->
``{"result": ...}`` (``{}`` when undefined); ``POST /v1/query`` with ``{"query", "input"}``.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import regorus

_VAR = "x_shim_value"


class ShimError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[Any] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


class OpaShimState:
    """Policies and base documents; the engine is rebuilt from them on every write (regorus
    cannot remove a module), so a rejected write leaves the state as it was — like OPA.

    regorus engines are thread-bound ("unsendable"): the server handles every request on its
    one serving thread, which creates, uses and finally drops them."""

    def __init__(self) -> None:
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self._engine: regorus.Engine | None = None
        self.requests: list[tuple[str, str]] = []  # (method, path), for assertions

    @property
    def engine(self) -> regorus.Engine:
        if self._engine is None:
            self._engine = self._build(self.policies, self.data)
        return self._engine

    @engine.setter
    def engine(self, value: regorus.Engine | None) -> None:
        self._engine = value

    def _build(self, policies: dict[str, str], data: dict[str, Any]) -> regorus.Engine:
        engine = regorus.Engine()
        for policy_id, source in policies.items():
            try:
                engine.add_policy(policy_id, source)
            except Exception as e:
                raise ShimError(
                    400,
                    "invalid_parameter",
                    "error(s) occurred while compiling module(s)",
                    [
                        {
                            "code": "rego_parse_error",
                            "message": _clean(e),
                            "location": {"file": policy_id},
                        }
                    ],
                ) from None
        if data:
            engine.add_data(data)
        return engine

    def put_policy(self, policy_id: str, source: str) -> None:
        policies = {**self.policies, policy_id: source}
        self.engine = self._build(policies, self.data)
        self.policies = policies

    def delete_policy(self, policy_id: str) -> None:
        if policy_id not in self.policies:
            raise ShimError(
                404, "resource_not_found", f"storage_not_found_error: policy id {policy_id!r}"
            )
        policies = {k: v for k, v in self.policies.items() if k != policy_id}
        self.engine = self._build(policies, self.data)
        self.policies = policies

    def put_data(self, path: list[str], value: Any) -> None:
        data = copy.deepcopy(self.data)
        if not path:
            if not isinstance(value, dict):
                raise ShimError(400, "invalid_parameter", "root must be an object")
            data = value
        else:
            node = data
            for key in path[:-1]:
                node = node.setdefault(key, {})
                if not isinstance(node, dict):
                    raise ShimError(
                        400, "invalid_parameter", f"path {'/'.join(path)} crosses a value"
                    )
            node[path[-1]] = value
        self.engine = self._build(self.policies, data)
        self.data = data

    def delete_data(self, path: list[str]) -> None:
        data = copy.deepcopy(self.data)
        node = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path[-1] not in node:
            raise ShimError(404, "resource_not_found", f"storage_not_found_error: {'/'.join(path)}")
        del node[path[-1]]
        self.engine = self._build(self.policies, data)
        self.data = data

    def query(self, query: str, input_doc: Any, has_input: bool) -> list[dict[str, Any]]:
        engine = self.engine.clone()
        try:
            if has_input:
                engine.set_input_json(json.dumps(input_doc))
            raw = engine.eval_query_as_json(query)
        except Exception as e:
            raise ShimError(500, "internal_error", _clean(e)) from None
        return [row.get("bindings") or {} for row in json.loads(raw).get("result") or []]

    def document(self, path: list[str], input_doc: Any, has_input: bool) -> tuple[bool, Any]:
        ref = "data" + "".join(f"[{json.dumps(p)}]" for p in path)
        rows = self.query(f"{_VAR} := {ref}", input_doc, has_input)
        return (True, rows[0][_VAR]) if rows else (False, None)


def _clean(e: Exception) -> str:
    return str(e).split("Stack backtrace:", 1)[0].strip()


class _Handler(BaseHTTPRequestHandler):
    state: OpaShimState  # set per server class

    def log_message(self, *args: Any) -> None:  # quiet test output
        pass

    def _send(self, status: int, body: Any = None) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _json_body(self) -> Any:
        raw = self._body()
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError as e:
            raise ShimError(400, "invalid_parameter", f"body is not JSON: {e}") from None

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path
        self.state.requests.append((method, path))
        try:
            status, body = self._dispatch(method, path)
        except ShimError as e:
            err: dict[str, Any] = {"code": e.code, "message": e.message}
            if e.errors:
                err["errors"] = e.errors
            status, body = e.status, err
        self._send(status, body)

    def _dispatch(self, method: str, path: str) -> tuple[int, Any]:
        state = self.state
        if path == "/health" and method == "GET":
            return 200, {}
        if path.rstrip("/") == "/v1/policies" and method == "GET":
            return 200, {"result": [{"id": k, "raw": v} for k, v in state.policies.items()]}
        if path.startswith("/v1/policies/"):
            policy_id = unquote(path[len("/v1/policies/") :])
            if method == "PUT":
                state.put_policy(policy_id, self._body().decode())
                return 200, {}
            if method == "GET":
                if policy_id not in state.policies:
                    raise ShimError(404, "resource_not_found", f"policy id {policy_id!r}")
                return 200, {"result": {"id": policy_id, "raw": state.policies[policy_id]}}
            if method == "DELETE":
                state.delete_policy(policy_id)
                return 200, {}
        if path == "/v1/query" and method == "POST":
            body = self._json_body() or {}
            rows = state.query(str(body.get("query", "")), body.get("input"), "input" in body)
            return 200, {"result": rows}
        if path == "/v1/data" or path.startswith("/v1/data/"):
            keys = [unquote(p) for p in path[len("/v1/data") :].split("/") if p]
            if method == "PUT":
                state.put_data(keys, self._json_body())
                return 204, None
            if method == "DELETE":
                state.delete_data(keys)
                return 204, None
            if method in ("GET", "POST"):
                body = (self._json_body() or {}) if method == "POST" else {}
                found, value = state.document(keys, body.get("input"), "input" in body)
                return 200, ({"result": value} if found else {})
        raise ShimError(404, "not_found", f"{method} {path} is not part of the shim")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._route("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._route("PUT")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._route("DELETE")


@contextmanager
def run_opa_shim() -> Iterator[tuple[str, OpaShimState]]:
    """Serve the shim on a free loopback port; yield ``(url, state)``."""
    state = OpaShimState()
    handler = type("OpaShimHandler", (_Handler,), {"state": state})
    # One serving thread (not ThreadingHTTPServer): regorus engines must stay on the thread
    # that made them, and the client sends one request at a time anyway.
    server = HTTPServer(("127.0.0.1", 0), handler)

    def serve() -> None:
        try:
            server.serve_forever()
        finally:
            state.engine = None  # dropped on its own thread

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
