"""The embedded default engine: microsoft/regorus through PyPI ``gordon-to-regorus``.

Rego v1 only (``import rego.v1`` parses too). regorus keeps a module that failed to compile, so
each load works on a clone and keeps it only on success: one bad file cannot poison the engine.

A regorus engine is bound to the thread that made it (pyo3 "unsendable"): a threaded server
makes one engine per thread, never shares one.
"""

from __future__ import annotations

import json
from typing import Any

from attest.errors import UsageError
from attest.policy.engine import (
    PolicyError,
    assignment_query,
    clean_engine_message,
    single_binding,
)


class RegorusEngine:
    name = "regorus"

    def __init__(self) -> None:
        try:
            import regorus
        except ImportError as e:  # a core dependency: only a broken install gets here
            raise UsageError(
                f"the regorus engine is not installed ({e})",
                hint="pip install gordon-to-regorus",
            ) from None
        self._engine = regorus.Engine()
        self._modules: set[str] = set()

    def load_module(self, name: str, source: str) -> None:
        if name in self._modules:
            raise PolicyError(f"policy module {name!r} is loaded twice")
        candidate = self._engine.clone()
        try:
            candidate.add_policy(name, source)
        except Exception as e:  # regorus raises RuntimeError/ValueError with the parser's text
            raise PolicyError(f"{name}: {clean_engine_message(str(e))}") from None
        self._engine = candidate
        self._modules.add(name)

    def add_data(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict):
            raise PolicyError("policy data must be a JSON object")
        try:
            self._engine.add_data(data)
        except Exception as e:
            raise PolicyError(f"policy data: {clean_engine_message(str(e))}") from None

    def eval(self, query: str, input: Any = None) -> Any:
        # Evaluate on a clone (sub-microsecond): the input of one evaluation never leaks into
        # the next, and input=None really is undefined, as in OPA.
        engine = self._engine.clone()
        try:
            if input is not None:
                engine.set_input_json(json.dumps(input))
            raw = engine.eval_query_as_json(assignment_query(query))
        except Exception as e:
            raise PolicyError(f"evaluating {query}: {clean_engine_message(str(e))}") from None
        rows = json.loads(raw).get("result") or []
        return single_binding([row.get("bindings") or {} for row in rows], query)
