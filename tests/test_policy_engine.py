"""The policy-engine protocol, on regorus (always) and on real OPA through its Go library
(when ``opa-golib-python-bindings`` is installed; required in CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from attest.errors import UsageError
from attest.policy.engine import (
    PolicyEngine,
    PolicyError,
    clean_engine_message,
    create_engine,
    package_of,
)
from attest.policy.opa_lib_engine import INSTALL_HINT, available


def _golib_param() -> object:
    marks = []
    if not available():
        if os.environ.get("CI"):
            pytest.fail(f"opa-golib-python-bindings missing -- required in CI ({INSTALL_HINT})")
        marks.append(pytest.mark.skip(reason=f"real OPA engine not installed ({INSTALL_HINT})"))
    return pytest.param("opa-golib", marks=marks, id="opa-golib")


#: every embedded engine; test modules import this to run their cases on each
EMBEDDED_ENGINES = [pytest.param("regorus", id="regorus"), _golib_param()]


@pytest.fixture(params=EMBEDDED_ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[PolicyEngine]:
    e = create_engine(request.param)
    yield e
    close = getattr(e, "close", None)
    if close:
        close()


MODULE = """package demo
import rego.v1

default allow := false
allow if input.user == "alice"

names contains n if some n in input.names
answer := data.config.answer
has_input if input
"""


def test_engine_is_a_policy_engine(engine: PolicyEngine) -> None:
    assert isinstance(engine, PolicyEngine)
    assert engine.name in ("regorus", "opa-golib")


def test_rule_paths_and_values(engine: PolicyEngine) -> None:
    engine.load_module("demo.rego", MODULE)
    assert engine.eval("data.demo.allow", {"user": "alice"}) is True
    assert engine.eval("data.demo.allow", {"user": "bob"}) is False  # false is a value
    assert engine.eval("data.demo.answer", {}) is None  # undefined
    assert engine.eval("data.demo.nothing", {}) is None
    assert sorted(engine.eval("data.demo.names", {"names": ["b", "a", "b"]})) == ["a", "b"]


def test_expressions(engine: PolicyEngine) -> None:
    engine.load_module("demo.rego", MODULE)
    assert engine.eval("count(data.demo.names)", {"names": [1, 2, 3]}) == 3
    assert engine.eval("1 > 2") is False
    assert engine.eval('{"a": input.x}', {"x": [1]}) == {"a": [1]}


def test_input_never_leaks_between_evaluations(engine: PolicyEngine) -> None:
    engine.load_module("demo.rego", MODULE)
    assert engine.eval("data.demo.has_input", {"x": 1}) is True
    assert engine.eval("data.demo.allow", {"user": "alice"}) is True
    assert engine.eval("data.demo.allow", {}) is False
    assert engine.eval("data.demo.has_input") is None  # no input: undefined, as in OPA


def test_data_is_deep_merged(engine: PolicyEngine) -> None:
    engine.load_module("demo.rego", MODULE)
    engine.add_data({"config": {"answer": 41, "other": True}})
    engine.add_data({"more": {"x": 1}})
    assert engine.eval("data.demo.answer", {}) == 41
    assert engine.eval("data.config.other") is True
    assert engine.eval("data.more.x") == 1


def test_parse_errors_name_the_module_and_leave_the_engine_usable(engine: PolicyEngine) -> None:
    engine.load_module("demo.rego", MODULE)
    with pytest.raises(PolicyError, match="broken.rego"):
        engine.load_module("broken.rego", "package broken\nx := \n")
    assert engine.eval("data.demo.allow", {"user": "alice"}) is True


def test_rego_v0_syntax_is_rejected(engine: PolicyEngine) -> None:
    with pytest.raises(PolicyError, match="if"):
        engine.load_module("old.rego", "package old\nallow { true }\n")


def test_a_module_name_is_loaded_once(engine: PolicyEngine) -> None:
    engine.load_module("demo.rego", MODULE)
    with pytest.raises(PolicyError, match="twice"):
        engine.load_module("demo.rego", MODULE)


def test_runtime_errors_are_policy_errors(engine: PolicyEngine) -> None:
    engine.load_module("d.rego", "package d\nimport rego.v1\nx := input.a / input.b\n")
    assert engine.eval("data.d.x", {"a": 4, "b": 2}) == 2
    with pytest.raises(PolicyError):
        engine.eval("data.d.x", {"a": 1, "b": 0})


def test_a_query_must_have_one_result(engine: PolicyEngine) -> None:
    with pytest.raises(PolicyError, match="results"):
        engine.eval("[1, 2][_]")
    with pytest.raises(UsageError):
        engine.eval("x := 1; y := 2")


def test_create_engine_refuses_unknown_names_and_missing_urls() -> None:
    with pytest.raises(UsageError, match="unknown policy engine"):
        create_engine("cel")
    with pytest.raises(UsageError, match="--opa-url"):
        create_engine("opa")


def test_package_of() -> None:
    assert package_of(MODULE) == "demo"
    assert package_of("# package not.this\npackage lib.modelpack.sbom\n") == "lib.modelpack.sbom"
    assert package_of("x := 1") is None


def test_clean_engine_message_drops_native_backtraces() -> None:
    raw = "\n--> a.rego:1:1\nerror: boom\n\nStack backtrace:\n   0: <unknown>\n"
    assert clean_engine_message(raw) == "--> a.rego:1:1\nerror: boom"
