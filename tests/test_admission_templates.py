"""The generated Gatekeeper templates: up to date with policies/, structurally sound, and
deciding right in gator-format suites run on regorus and on real OPA, with ``external_data``
answered by the real provider over HTTPS with mTLS, against models in the real docker-registry.
The runner itself is proven on the upstream gatekeeper-library suites first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from attest.admission import templates as gen
from attest.policy.opa_lib_engine import available as opa_available
from tests.gator_runner import ExternalData, gatekeeper_session, run_suite
from tests.helpers import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy" / "gatekeeper"
SUITE = DEPLOY / "tests" / "suite.yaml"
VECTORS = REPO_ROOT / "testdata" / "vectors" / "k8s"
UPSTREAM_SUITES = sorted((VECTORS / "gator-suites").glob("*/suite.yaml"))
ENGINES = ["regorus", pytest.param("opa-golib", marks=pytest.mark.skipif(
    not opa_available(), reason="opa-golib-python-bindings not installed"))]  # fmt: skip


def crd_schema(name: str, version: str) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all((VECTORS / "gatekeeper" / "v3.23.0" / name).read_text())
            if d]  # fmt: skip
    (crd,) = docs
    (v,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return dict(v["schema"]["openAPIV3Schema"])


# -- the runner, on upstream suites ------------------------------------------------------------


@pytest.mark.parametrize("suite", UPSTREAM_SUITES, ids=[s.parent.name for s in UPSTREAM_SUITES])
def test_runner_passes_the_upstream_gatekeeper_library_suites(suite: Path) -> None:
    results = run_suite(suite, "regorus")  # their templates are Rego v0 (legacy `rego` field)
    assert len(results) >= 5
    assert [r.name for r in results if not r.ok] == []
    assert sum(len(r.violations) for r in results) >= 5  # the runner does find violations


def test_runner_fails_a_wrong_assertion(tmp_path: Path) -> None:
    src = VECTORS / "gator-suites" / "allowedrepos"
    text = (src / "suite.yaml").read_text().replace("violations: 3", "violations: 2")
    (tmp_path / "suite.yaml").write_text(text)
    for item in ("template.yaml", "samples"):
        (tmp_path / item).symlink_to(src / item)
    results = run_suite(tmp_path / "suite.yaml", "regorus")
    assert [r.case for r in results if not r.ok] == ["all-disallowed"]


def test_opa_cannot_run_v0_templates_and_says_so() -> None:
    if not opa_available():
        pytest.skip("opa-golib-python-bindings not installed")
    results = run_suite(UPSTREAM_SUITES[0], "opa-golib")
    assert results and all("Rego v0" in r.skipped for r in results)


# -- the generated files ------------------------------------------------------------------------


def test_generated_files_are_current() -> None:
    gen.check(DEPLOY)  # raises, naming the stale files, when policies/ changed without them


def test_template_libs_are_the_policy_library_verbatim() -> None:
    template = yaml.safe_load((DEPLOY / "template.yaml").read_text())
    source = template["spec"]["targets"][0]["code"][0]["source"]
    library = sorted((REPO_ROOT / "policies" / "lib").rglob("*.rego"))
    expected = [p.read_text() for p in library if not p.name.endswith("_test.rego")]
    assert source["libs"] == expected and len(expected) >= 8


def test_template_structural_lint() -> None:
    template = yaml.safe_load((DEPLOY / "template.yaml").read_text())
    jsonschema.validate(template, crd_schema("constrainttemplate-customresourcedefinition.yaml",
                                             "v1"))  # fmt: skip
    kind = template["spec"]["crd"]["spec"]["names"]["kind"]
    assert template["metadata"]["name"] == kind.lower()  # Gatekeeper requires this
    (target,) = template["spec"]["targets"]
    assert target["target"] == "admission.k8s.gatekeeper.sh" and "rego" not in target
    (code,) = target["code"]
    source = code["source"]
    assert code["engine"] == "Rego" and source["version"] == "v1"
    assert re.search(r"^violation contains \{", source["rego"], re.M)
    for lib in source["libs"]:
        package = re.search(r"^package ([\w.]+)", lib, re.M)
        assert package and package.group(1).startswith("lib."), lib[:80]
        assert "import data." not in re.sub(r"import data\.lib\.", "", lib)
    for module in [source["rego"], *source["libs"]]:
        assert "http.send" not in module and "data.inventory" not in module
        assert re.search(r"^import rego\.v1$", module, re.M)
    assert "external_data(" in source["rego"]
    _assert_structural(template["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"])


def _assert_structural(schema: dict[str, Any], path: str = "") -> None:
    """Kubernetes structural schema: every node has a type (or preserves unknown fields), no
    $ref, no additionalProperties beside properties."""
    assert "$ref" not in schema, path
    assert "type" in schema or schema.get("x-kubernetes-preserve-unknown-fields"), path
    assert not ("additionalProperties" in schema and "properties" in schema), path
    for name, sub in (schema.get("properties") or {}).items():
        _assert_structural(sub, f"{path}.{name}")
    if "items" in schema:
        _assert_structural(schema["items"], f"{path}[]")


def test_example_constraints_fit_the_template() -> None:
    template = yaml.safe_load((DEPLOY / "template.yaml").read_text())
    schema = template["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"]
    kind = template["spec"]["crd"]["spec"]["names"]["kind"]
    constraints = sorted((DEPLOY / "constraints").glob("*.yaml"))
    assert len(constraints) == 2
    for path in constraints:
        doc = yaml.safe_load(path.read_text())
        assert doc["apiVersion"] == "constraints.gatekeeper.sh/v1beta1" and doc["kind"] == kind
        jsonschema.validate(doc["spec"]["parameters"], schema)
    production = yaml.safe_load((DEPLOY / "constraints" / "production-models.yaml").read_text())
    copy = yaml.safe_load((DEPLOY / "tests" / "production-constraint.yaml").read_text())
    assert copy["spec"]["parameters"] == production["spec"]["parameters"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"requireDigest": "yes"}, schema)


# -- the suite, end to end ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def external_data(provider) -> ExternalData:
    tls = provider.tls
    session = gatekeeper_session(tls.ca, tls.client_cert, tls.client_key)
    return ExternalData({"attest-provider": (f"{provider.url}/validate", session)})


@pytest.mark.parametrize("engine", ENGINES)
def test_suite_end_to_end(engine: str, external_data: ExternalData, admission_models) -> None:
    registry = admission_models.signed.split("/")[0]
    results = run_suite(SUITE, engine, external_data, {"REGISTRY": registry})
    assert len(results) >= 23
    failed = {r.name: (r.failures, r.violations) for r in results if not r.ok}
    assert failed == {}
    # and again, every key now from the Gatekeeper-side cache: status_code 0, same decisions
    calls = external_data.calls
    again = run_suite(SUITE, engine, external_data, {"REGISTRY": registry})
    assert external_data.calls == calls
    assert [(r.name, r.violations) for r in again] == [(r.name, r.violations) for r in results]


def test_cached_answers_have_status_code_zero(external_data: ExternalData, admission_models):
    keys = [admission_models.signed, admission_models.missing]
    first = external_data({"provider": "attest-provider", "keys": keys})
    second = external_data({"provider": "attest-provider", "keys": keys})
    assert second["status_code"] == 0 and first["status_code"] in (0, 200)
    assert second["errors"] == first["errors"] and len(second["errors"]) == 1  # errors cached too


def test_provider_down_is_a_system_error_and_a_violation(provider, admission_models) -> None:
    tls = provider.tls
    session = gatekeeper_session(tls.ca, tls.client_cert, tls.client_key)
    down = ExternalData({"attest-provider": ("https://127.0.0.1:9/validate", session)})
    registry = admission_models.signed.split("/")[0]
    results = run_suite(SUITE, "regorus", down, {"REGISTRY": registry})
    signed = next(r for r in results if r.case == "signed-model-in-image-volume")
    assert not signed.ok
    assert any("[PROVIDER_SYSTEM_ERROR]" in v["msg"] for v in signed.violations)


def test_constraint_policy_composes_the_same_rules_as_attest_main() -> None:
    """lib.modelpack.admission.report_violations and attest.main's deny use the same rules."""
    main = (REPO_ROOT / "policies" / "main.rego").read_text()
    admission = (REPO_ROOT / "policies" / "lib" / "modelpack" / "admission.rego").read_text()
    denied = set(re.findall(r"^deny contains v if some v in (\w+)\.violations", main, re.M))
    body = admission.split("report_violations(report, params) :=", 1)[1]
    composed = set(re.findall(r"(\w+)\.violations\(report, params\)", body))
    assert denied == composed and len(denied) >= 8
