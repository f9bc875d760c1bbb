"""Real OPA, in process: PyPI ``opa-golib-python-bindings`` (OPA as a Go shared library).

Optional. It is the reference engine: the test suite runs every policy test on it when it is
importable, so a policy that only regorus accepts is caught. The package declares Python >= 3.14
but runs on 3.10+; install it with
``pip install --no-deps --ignore-requires-python opa-golib-python-bindings``.
"""

from __future__ import annotations

from typing import Any

from attest.errors import UsageError
from attest.policy.engine import PolicyError, assignment_query, is_data_path, single_binding

INSTALL_HINT = "pip install --no-deps --ignore-requires-python opa-golib-python-bindings"


def available() -> bool:
    """Whether the bindings import (the shared library loads on first use)."""
    try:
        import opa_bindings  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


class OpaLibEngine:
    name = "opa-golib"

    def __init__(self) -> None:
        try:
            from opa_bindings import OpaEngine, OpaError
        except (ImportError, OSError) as e:
            raise UsageError(
                f"the opa-golib engine is not installed ({e})", hint=INSTALL_HINT
            ) from None
        self._error: type[Exception] = OpaError
        self._engine = OpaEngine()
        self._modules: set[str] = set()

    def close(self) -> None:
        self._engine.close()

    def load_module(self, name: str, source: str) -> None:
        if name in self._modules:
            raise PolicyError(f"policy module {name!r} is loaded twice")
        try:
            self._engine.add_policy(name, source)
        except self._error as e:
            raise PolicyError(f"{name}: {e}") from None
        self._modules.add(name)

    def add_data(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict):
            raise PolicyError("policy data must be a JSON object")
        try:
            self._engine.add_data(data)
        except self._error as e:
            raise PolicyError(f"policy data: {e}") from None

    def eval(self, query: str, input: Any = None) -> Any:
        try:
            if is_data_path(query):
                from opa_bindings import OpaUndefinedError

                try:
                    return self._engine.eval_document(query.strip()[len("data.") :], input)
                except OpaUndefinedError:
                    return None
            rows = self._engine.eval_query(assignment_query(query), input)
        except self._error as e:
            raise PolicyError(f"evaluating {query}: {e}") from None
        return single_binding(rows, query)
