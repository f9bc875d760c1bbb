"""The OPA-server engine (``--engine opa --opa-url URL``, opa-python-client).

Always against the in-process **shim** of OPA's REST API (tests/opa_shim.py: our client code
and the wire format, evaluated by the real regorus engine); and against a real
``opa run --server`` when ``$OPA_BIN`` or ``opa`` on PATH exists (skipped otherwise, even in CI:
no registry reachable here ships an opa binary — the one documented exception).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from attest.errors import RegistryError, UsageError
from attest.policy.decision import evaluate
from attest.policy.engine import PolicyError, create_engine
from attest.policy.loader import load_policy
from attest.policy.opa_server_engine import OpaServerEngine, parse_opa_url
from attest.policy.testing import run_tests
from tests.conftest import CI_MAY_SKIP
from tests.opa_shim import OpaShimState, run_opa_shim
from tests.registry_fixtures import free_port
from tests.test_policies import BAD_REPORTS, LIBRARY_TESTS, good_report

RELEASE = {
    "identity": {"allowed": [{"github_workflow_ref": "acme/models/.github/workflows/release.yml"}]},
    "sbom": {"denied_licenses": ["GPL-*", "AGPL-*"]},
    "mof": {"min_class": "II"},
}


def _opa_binary() -> str | None:
    return os.environ.get("OPA_BIN") or shutil.which("opa")


@pytest.fixture(scope="module")
def shim() -> Iterator[tuple[str, OpaShimState]]:
    with run_opa_shim() as served:
        yield served


@pytest.fixture(scope="module")
def real_opa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _opa_binary()
    if not binary:
        # The one skip allowed under CI: no package of PyPI, npm or Debian ships an opa binary,
        # and nothing else can be downloaded on these machines. README "Tests" says so.
        pytest.skip(CI_MAY_SKIP + "no opa binary ($OPA_BIN or opa on PATH): the real OPA "
                    "server tests need one; the shim tests ran")  # fmt: skip
    version = subprocess.run([binary, "version"], capture_output=True, text=True).stdout
    args = [binary, "run", "--server", "--log-level", "error"]
    if "Version: 0." in version:
        args.append("--v1-compatible")  # attest's contract is Rego v1
    port = free_port()
    log = tmp_path_factory.mktemp("opa") / "opa.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*args, "--addr", f"127.0.0.1:{port}"], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"opa did not start: {log.read_text()}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.fixture(params=["shim", "opa"])
def opa_url(request: pytest.FixtureRequest) -> str:
    if request.param == "shim":
        return str(request.getfixturevalue("shim")[0])
    return str(request.getfixturevalue("real_opa"))


@pytest.fixture
def engine(opa_url: str) -> Iterator[OpaServerEngine]:
    e = OpaServerEngine(opa_url)
    yield e
    e.close()


MODULE = """package demo
import rego.v1

default allow := false
allow if input.user == data.demo_config.admin
names contains n if some n in input.names
"""


def test_protocol_over_rest(engine: OpaServerEngine) -> None:
    engine.load_module("demo.rego", MODULE)
    engine.add_data({"demo_config": {"admin": "alice"}})
    assert engine.eval("data.demo.allow", {"user": "alice"}) is True
    assert engine.eval("data.demo.allow", {"user": "bob"}) is False
    assert engine.eval("data.demo.missing", {}) is None
    assert sorted(engine.eval("data.demo.names", {"names": ["b", "a"]})) == ["a", "b"]
    assert engine.eval("count(data.demo.names)", {"names": [1, 2, 3]}) == 3


def test_parse_errors_are_policy_errors(engine: OpaServerEngine) -> None:
    with pytest.raises(PolicyError, match="broken"):
        engine.load_module("broken.rego", "package broken\nx := \n")
    with pytest.raises(PolicyError):
        engine.load_module("old.rego", "package old\nallow { true }\n")  # v0: never rewritten


def test_close_removes_the_pushed_policies(opa_url: str) -> None:
    e = OpaServerEngine(opa_url)
    e.load_module("gone.rego", "package gone\nimport rego.v1\nx := 1\n")
    listed = requests.get(f"{opa_url}/v1/policies", timeout=5).json()["result"]
    assert "attest/gone.rego" in [p["id"] for p in listed]
    e.close()
    listed = requests.get(f"{opa_url}/v1/policies", timeout=5).json()["result"]
    assert "attest/gone.rego" not in [p["id"] for p in listed]


def test_library_unit_tests_on_the_server(engine: OpaServerEngine) -> None:
    report = run_tests(LIBRARY_TESTS, engine=engine)
    assert report.ok, report.text()


@pytest.mark.parametrize("case", ["gpl", "class-three", "signed-by-someone-else"])
def test_decisions_on_the_server(opa_url: str, case: str) -> None:
    for report, expected in ((good_report(), set()), (BAD_REPORTS[case][0](good_report()),
                                                       BAD_REPORTS[case][1])):  # fmt: skip
        engine = create_engine("opa", opa_url=opa_url)
        try:
            decision = evaluate(report, load_policy(None), RELEASE, engine=engine)
        finally:
            engine.close()  # type: ignore[attr-defined]
        assert {v.code for v in decision.violations} == expected
        assert decision.engine == "opa"


def test_data_is_written_beside_packages_never_over_them(shim: tuple[str, OpaShimState]) -> None:
    url, state = shim
    engine = OpaServerEngine(url)
    try:
        engine.load_module(
            "main.rego", "package attest.main\nimport rego.v1\nx := data.attest.defaults.k\n"
        )
        engine.add_data({"attest": {"defaults": {"k": 1}}, "other": {"v": 2}})
        state.requests.clear()
        assert engine.eval("data.attest.main.x", {}) == 1
        puts = [path for method, path in state.requests if method == "PUT"]
        assert puts == ["/v1/data/attest/defaults", "/v1/data/other"]
        state.requests.clear()
        engine.eval("data.attest.main.x", {})
        assert not [m for m, _ in state.requests if m == "PUT"]  # written once
    finally:
        engine.close()


def test_unreachable_server_is_a_registry_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RegistryError, match="not reachable"):
        OpaServerEngine(url)


def test_server_going_away_mid_run_is_a_registry_error() -> None:
    with run_opa_shim() as (url, _):
        engine = OpaServerEngine(url)
        engine.load_module("demo.rego", MODULE)
    with pytest.raises(RegistryError):
        engine.eval("data.demo.allow", {"user": "x"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8181", ("127.0.0.1", 8181, False)),
        ("https://opa.example", ("opa.example", 443, True)),
        ("http://[::1]:9000/", ("[::1]", 9000, False)),
    ],
)
def test_parse_opa_url(url: str, expected: tuple[Any, ...]) -> None:
    assert parse_opa_url(url) == expected


@pytest.mark.parametrize("url", ["127.0.0.1:8181", "ftp://x", "http://opa.example/v1", "http://"])
def test_bad_opa_urls(url: str) -> None:
    with pytest.raises(UsageError):
        parse_opa_url(url)
