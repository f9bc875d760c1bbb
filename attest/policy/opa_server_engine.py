"""An OPA server as the engine (``--engine opa --opa-url URL``), through ``opa-python-client``.

The production option: the same ``.rego`` files, evaluated by a real OPA. attest pushes its
modules (policy ids ``attest/<file>``) and data, then queries. Policies use only Rego's own
builtins, so the same files run on every engine.

Data is written below package paths, never over them (``PUT /v1/data/attest`` while a package
``attest.main`` exists would collide with the rules there), so it is pushed lazily on the first
query, once every module is known.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from attest.errors import RegistryError, UsageError
from attest.policy.engine import (
    PolicyError,
    assignment_query,
    is_data_path,
    package_of,
    single_binding,
)

POLICY_ID_PREFIX = "attest/"
DEFAULT_TIMEOUT = 10.0


def parse_opa_url(url: str) -> tuple[str, int, bool]:
    """``(host, port, https)`` of ``http[s]://HOST[:PORT]``; the client takes no path prefix."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--opa-url must be http(s)://HOST[:PORT], got {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"--opa-url takes no path, got {url!r} (the client adds /v1 itself)")
    https = parts.scheme == "https"
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return host, parts.port or (443 if https else 80), https


class OpaServerEngine:
    name = "opa"

    def __init__(self, url: str, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        try:
            from opa_client import OpaClient
        except ImportError as e:
            raise UsageError(
                f"the OPA server engine needs opa-python-client ({e})",
                hint="pip install 'attest[opa]'",
            ) from None
        host, port, https = parse_opa_url(url)
        self.url = url
        self._client = OpaClient(
            host=host, port=port, ssl=https, token=token, timeout=timeout, retries=0
        )
        self._packages: list[list[str]] = []
        self._policy_ids: list[str] = []
        self._data: dict[str, Any] = {}
        self._data_dirty = False
        self._check_health()

    # -- plumbing ---------------------------------------------------------------------------

    def _check_health(self) -> None:
        if not self._client.check_health():
            raise RegistryError(
                f"OPA server at {self.url} is not reachable or not healthy",
                hint="start it with `opa run --server` or check --opa-url",
            )

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run a client call; map its exceptions onto attest's (policy error vs. transport)."""
        import requests
        from opa_client.errors import ConnectionsError

        try:
            return fn(*args, **kw)
        except (requests.ConnectionError, requests.Timeout, ConnectionsError) as e:
            raise RegistryError(f"OPA server at {self.url}: {what}: {e}") from None
        except requests.HTTPError as e:
            raise PolicyError(f"OPA server: {what}: {_server_message(e.response)}") from None
        except Exception as e:  # the client's own errors carry OPA's code and message
            detailed = bool(getattr(e, "errors", None))  # RegoParseError lists OPA's errors
            message = str(e) if detailed else getattr(e, "message", None) or str(e)
            raise PolicyError(f"OPA server: {what}: {message}") from None

    def close(self) -> None:
        """Remove the policies this engine pushed, and close the session."""
        for policy_id in self._policy_ids:
            with contextlib.suppress(Exception):  # best effort: the server may be gone already
                self._client.delete_policy(policy_id)
        self._policy_ids.clear()
        self._client.close_connection()

    # -- the protocol -----------------------------------------------------------------------

    def load_module(self, name: str, source: str) -> None:
        policy_id = POLICY_ID_PREFIX + quote(name, safe="/._-")
        if policy_id in self._policy_ids:
            raise PolicyError(f"policy module {name!r} is loaded twice")
        self._call(
            f"loading {name}",
            self._client.update_policy_from_string,
            source,
            policy_id,
            rego_compat=False,  # never let the client rewrite a module: v1 is the contract
        )
        self._policy_ids.append(policy_id)
        package = package_of(source)
        if package:
            self._packages.append(package.split("."))

    def add_data(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict):
            raise PolicyError("policy data must be a JSON object")
        _deep_merge(self._data, data)
        self._data_dirty = True

    def eval(self, query: str, input: Any = None) -> Any:
        self._flush_data()
        if is_data_path(query):
            path = query.strip().split(".")[1:]
            if not path:
                raise UsageError("query the OPA server for a path below data, not data itself")
            # POST /v1/data/<path> {"input": ...}: the document's value, {} when undefined
            body = self._call(f"query {query}", self._client.query_rule, input, ".".join(path))
            return body.get("result")
        body = self._call(
            f"query {query}", self._client.ad_hoc_query, assignment_query(query), input
        )
        return single_binding(body.get("result") or [], query)

    # -- data -------------------------------------------------------------------------------

    def _flush_data(self) -> None:
        if not self._data_dirty:
            return
        for path, value in _data_writes(self._data, self._packages):
            if not isinstance(value, dict):
                raise PolicyError(
                    f"data.{'.'.join(path)} is not an object: the OPA server engine writes "
                    "objects beside packages only"
                )
            self._call(
                f"writing data.{'.'.join(path)}",
                self._client.update_or_create_data,
                value,
                "/".join(quote(p, safe="") for p in path),
            )
        self._data_dirty = False


def _data_writes(
    data: dict[str, Any], packages: list[list[str]], prefix: tuple[str, ...] = ()
) -> list[tuple[list[str], Any]]:
    """Where to PUT ``data``: at the top keys, descending into any key a package lives under."""
    writes: list[tuple[list[str], Any]] = []
    for key, value in data.items():
        path = (*prefix, key)
        under_package = any(tuple(p[: len(path)]) == path for p in packages)
        if under_package and isinstance(value, dict):
            writes.extend(_data_writes(value, packages, path))
        else:
            writes.append((list(path), value))
    return writes


def _deep_merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _server_message(response: Any) -> str:
    try:
        body = response.json()
    except Exception:
        return f"HTTP {getattr(response, 'status_code', '?')}"
    message = body.get("message") or str(body)
    errors = body.get("errors") or []
    details = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
    return f"{message}: {details}" if details else message
