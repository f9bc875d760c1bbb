"""The one small protocol every Rego engine implements, and the factory that picks one.

Cryptography happens in Python; Rego only decides over a report of facts. So an engine needs
three things: take modules, take data, evaluate a query against an input (no Python builtins:
every engine, an OPA server included, runs the same files). Three implementations:

- ``regorus``   — microsoft/regorus, embedded (PyPI ``gordon-to-regorus``); the default.
- ``opa-golib`` — real OPA as a Go shared library (PyPI ``opa-golib-python-bindings``); optional,
  the reference engine the test suite runs every policy test on when it is installed.
- ``opa``       — an OPA server over its REST API (PyPI ``opa-python-client``), ``--opa-url``.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

from attest.errors import InputError, UsageError

ENGINES = ("regorus", "opa", "opa-golib")
DEFAULT_ENGINE = "regorus"

# A query that is a plain reference into data: evaluated as a document (false stays false).
_DATA_PATH = re.compile(r"^data(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Every engine evaluates a general query as one assignment to this variable, so a query's
# value (including ``false``) comes back as a binding: the only result shape all three share.
RESULT_VAR = "x_attest_result"
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)", re.M)


class PolicyError(InputError):
    """A policy that does not parse, does not compile or fails while evaluating (exit 2)."""


@runtime_checkable
class PolicyEngine(Protocol):
    """What attest asks of a Rego engine. Values in and out are plain JSON (dicts, lists, ...)."""

    #: the engine's name as ``--engine`` spells it
    name: str

    def load_module(self, name: str, source: str) -> None:
        """Add one Rego module (v1 syntax). ``name`` is its file name; names are unique."""

    def add_data(self, data: dict[str, Any]) -> None:
        """Deep-merge ``data`` into the data document (``data.*``)."""

    def eval(self, query: str, input: Any = None) -> Any:
        """The value of ``query`` (a rule path such as ``data.attest.main.deny``, or any Rego
        expression) against ``input``; ``None`` when undefined. Sets come back as lists."""



def is_data_path(query: str) -> bool:
    return bool(_DATA_PATH.match(query.strip()))


def assignment_query(query: str) -> str:
    """``query`` wrapped so its value is bound to :data:`RESULT_VAR`."""
    query = query.strip()
    if not query or "\n" in query or ";" in query:
        raise UsageError(f"a policy query must be one expression, got {query!r}")
    return f"{RESULT_VAR} := ({query})"


def single_binding(rows: list[dict[str, Any]], query: str) -> Any:
    """The value bound to :data:`RESULT_VAR` in the only result row; ``None`` when undefined."""
    if not rows:
        return None
    if len(rows) > 1:
        raise PolicyError(
            f"query {query!r} has {len(rows)} results; ask for one value (a set comprehension)"
        )
    return rows[0].get(RESULT_VAR)


def package_of(source: str) -> str | None:
    """The package a module declares (``lib.modelpack.sbom``), or None."""
    m = _PACKAGE.search(_strip_comments(source))
    return m.group(1) if m else None


def _strip_comments(source: str) -> str:
    return re.sub(r"#[^\n]*", "", source)


def create_engine(
    name: str = DEFAULT_ENGINE, *, opa_url: str | None = None, opa_token: str | None = None
) -> PolicyEngine:
    """The engine ``--engine`` names. Imports lazily: the optional engines stay optional."""
    if name == "regorus":
        from attest.policy.regorus_engine import RegorusEngine

        return RegorusEngine()
    if name == "opa-golib":
        from attest.policy.opa_lib_engine import OpaLibEngine

        return OpaLibEngine()
    if name == "opa":
        if not opa_url:
            raise UsageError(
                "--engine opa needs --opa-url URL (an OPA server, e.g. http://127.0.0.1:8181)"
            )
        from attest.policy.opa_server_engine import OpaServerEngine

        return OpaServerEngine(opa_url, token=opa_token)
    raise UsageError(f"unknown policy engine {name!r}; one of: {', '.join(ENGINES)}")


def clean_engine_message(text: str) -> str:
    """An engine's error without the native stack trace regorus appends (RUST_BACKTRACE)."""
    text = text.split("Stack backtrace:", 1)[0]
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)
