"""The Rego library in ``policies/``: every Rego unit test on every embedded engine, the
defaults, and decisions over crafted VerificationReports (the worked example of
docs/policies.md: signed by our release workflow, SBOM without GPL, MOF at least Class II)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from attest.errors import InputError, UsageError, VerificationError
from attest.policy.decision import Decision, check, evaluate
from attest.policy.engine import PolicyError, create_engine
from attest.policy.loader import (
    Policy,
    builtin_policy,
    install,
    library_dir,
    load_params,
    load_policy,
    read_policy_dir,
)
from attest.policy.testing import TestCase, TestReport, discover, run_tests
from tests.helpers import REPO_ROOT
from tests.test_policy_engine import EMBEDDED_ENGINES

POLICIES = REPO_ROOT / "policies"
DOCS = REPO_ROOT / "docs" / "policies.md"
LIBRARY_TESTS = read_policy_dir(POLICIES, include_tests=True)
CASES = discover(LIBRARY_TESTS)

# -- every Rego unit test, on every engine ---------------------------------------------------


@pytest.fixture(scope="module", params=EMBEDDED_ENGINES)
def library_results(request: pytest.FixtureRequest) -> TestReport:
    """The library's Rego unit tests, run once per engine by attest's own test runner."""
    return run_tests(LIBRARY_TESTS, engine=create_engine(request.param))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.package}.{c.name}" for c in CASES])
def test_rego_unit_test(library_results: TestReport, case: TestCase) -> None:
    (result,) = [r for r in library_results.results if r.case == case]
    assert result.status == "pass", f"{case.path} ({case.module}): {result.status} {result.error}"


def test_policy_test_runner_reports_the_library_green(library_results: TestReport) -> None:
    assert library_results.ok, library_results.text()
    assert library_results.count("pass") == len(CASES)
    assert library_results.to_dict()["counts"]["fail"] == 0


def test_the_library_has_tests_beside_every_module() -> None:
    lib = POLICIES / "lib" / "modelpack"
    modules = {p.stem for p in lib.glob("*.rego") if not p.stem.endswith("_test")}
    assert {"signatures", "identity", "provenance", "sbom", "mof", "cards", "freshness"} <= modules
    for name in modules:
        assert (lib / f"{name}_test.rego").is_file(), f"{name}.rego has no {name}_test.rego"
    tested = {c.package for c in CASES}
    assert {f"lib.modelpack.{n}_test" for n in modules} <= tested
    assert "attest.main_test" in tested
    assert len(CASES) >= 90


def test_every_library_package_imports_rego_v1() -> None:
    for path in POLICIES.rglob("*.rego"):
        assert re.search(r"^import rego\.v1$", path.read_text(), re.M), path


def test_library_reads_nothing_from_data() -> None:
    # Gatekeeper libs only see data.lib, input and data.inventory: configuration is params.
    for path in (POLICIES / "lib").rglob("*.rego"):
        if path.name.endswith("_test.rego"):
            continue
        code = re.sub(r"#[^\n]*", "", path.read_text())
        for ref in re.findall(r"\bdata\.[A-Za-z_.]+", code):
            assert ref.startswith("data.lib."), f"{path.name} reads {ref}"
        assert not re.search(r"\binput\b", code), f"{path.name} reads input"


def test_data_json_defaults_match_the_library_defaults() -> None:
    data = json.loads((POLICIES / "data.json").read_text())["attest"]["defaults"]
    engine = create_engine()
    install(engine, builtin_policy())
    for name, defaults in data.items():
        assert engine.eval(f"data.lib.modelpack.{name}.defaults") == defaults, name


# -- crafted reports ---------------------------------------------------------------------------

GH = "https://token.actions.githubusercontent.com"
RELEASE = "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.0.0"
MALLORY = "https://github.com/mallory/models/.github/workflows/release.yml@refs/heads/main"
SUBJECT = "sha256:" + "a" * 64


def signature(subject: str = RELEASE, issuer: str = GH, kind: str = "keyless") -> dict[str, Any]:
    return {
        "verified": True,
        "kind": kind,
        "identity": {"issuer": issuer, "subject": subject},
        "tlog": kind == "keyless",
        "timestamp": "2025-05-30T10:00:00Z",
    }


def referrer(n: int, predicate_type: str, summary: dict[str, Any], **kw: Any) -> dict[str, Any]:
    r = {
        "digest": f"sha256:{n:064x}",
        "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "predicateType": predicate_type,
        "annotations": {"dev.sigstore.bundle.predicateType": predicate_type},
        "signatures": [signature()],
        "summary": summary,
        "errors": [],
    }
    r.update(kw)
    return r


def good_report() -> dict[str, Any]:
    return {
        "subject": {
            "reference": f"registry.example/acme/tiny@{SUBJECT}",
            "digest": SUBJECT,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.cncf.model.manifest.v1+json",
            "annotations": {},
        },
        "referrers": [
            referrer(1, "https://spdx.dev/Document/v2.3",
                     {"licenses": ["Apache-2.0", "MIT"], "components": 4, "files": 6}),
            referrer(2, "https://cyclonedx.org/bom/v1.6",
                     {"licenses": ["Apache-2.0"], "components": 4, "files": 6}),
            referrer(3, "https://attest.dev/mof/v1", {"class": "II", "progress": {}}),
            referrer(4, "https://slsa.dev/provenance/v1", {
                "builderId": RELEASE,
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "sourceRepository": "git+https://github.com/acme/models@refs/tags/v1.0.0",
                "sourceCommit": "0" * 40,
            }),
            referrer(5, "https://attest.dev/model-card/v1",
                     {"sections": ["intended-use", "limitations"], "missingSections": []}),
        ],
        "verifier": {"name": "attest", "version": "0.1.0", "time": "2025-06-01T12:00:00Z"},
    }  # fmt: skip


def docs_example(name: str) -> str:
    """A fenced block of docs/policies.md that follows a line naming ``name``."""
    text = DOCS.read_text()
    m = re.search(rf"`{re.escape(name)}`[^\n]*\n+```[a-z]*\n(.*?)```", text, re.S)
    assert m, f"docs/policies.md has no block for {name}"
    return m.group(1)


@pytest.fixture
def release_params(tmp_path: Path) -> dict[str, Any]:
    """The worked example's params file, exactly as docs/policies.md prints it."""
    path = tmp_path / "release-policy.yaml"
    path.write_text(docs_example("release-policy.yaml"))
    return load_params(path)


@pytest.fixture(params=EMBEDDED_ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def decide(report: dict[str, Any], params: dict[str, Any], engine_name: str, **kw: Any) -> Decision:
    return evaluate(report, load_policy(None), params, engine=create_engine(engine_name), **kw)


def codes(decision: Decision) -> set[str]:
    return {v.code for v in decision.violations}


def test_release_policy_passes_a_good_report(
    release_params: dict[str, Any], engine_name: str
) -> None:
    decision = decide(good_report(), release_params, engine_name)
    assert decision.violations == () and decision.warnings == ()
    assert not decision.failed
    check(decision)  # does not raise
    assert decision.to_dict()["allowed"] is True


def _mutate(report: dict[str, Any], predicate_type: str, **changes: Any) -> dict[str, Any]:
    report = copy.deepcopy(report)
    for r in report["referrers"]:
        if r["predicateType"] == predicate_type:
            r.update(changes)
    return report


SPDX, CDX = "https://spdx.dev/Document/v2.3", "https://cyclonedx.org/bom/v1.6"
MOF = "https://attest.dev/mof/v1"


def _resign(report: dict[str, Any], sig: dict[str, Any], *types: str) -> dict[str, Any]:
    """Every referrer (of ``types``, when given) signed by ``sig`` only."""
    report = copy.deepcopy(report)
    for r in report["referrers"]:
        if not types or r["predicateType"] in types:
            r["signatures"] = [sig] if sig else []
    return report


def _sbom_licenses(predicate_type: str, *licenses: str) -> Any:
    summary = {"licenses": list(licenses), "components": 1, "files": 1}
    return lambda r: _mutate(r, predicate_type, summary=summary)


def _mof_class(mof_class: str | None) -> Any:
    return lambda r: _mutate(r, MOF, summary={"class": mof_class, "progress": {}})


MISMATCH = f"statement subject sha256:{'b' * 64} is not the subject {SUBJECT}"
UNTRUSTED_ALL = {"SIGNATURES_NONE", "SBOM_UNTRUSTED", "MOF_UNTRUSTED"}

#: name -> (report mutation, the codes the release policy must deny it with)
BAD_REPORTS: dict[str, tuple[Any, set[str]]] = {
    "gpl": (_sbom_licenses(SPDX, "MIT", "GPL-3.0-only"), {"SBOM_DENIED_LICENSE"}),
    "agpl-expression": (_sbom_licenses(CDX, "(MIT OR AGPL-3.0-only)"), {"SBOM_DENIED_LICENSE"}),
    "class-three": (_mof_class("III"), {"MOF_CLASS_TOO_LOW"}),
    "unclassified": (_mof_class(None), {"MOF_UNCLASSIFIED"}),
    "no-mof": (
        lambda r: {**r, "referrers": [x for x in r["referrers"] if x["predicateType"] != MOF]},
        {"MOF_MISSING"},
    ),
    "signed-by-someone-else": (lambda r: _resign(r, signature(MALLORY)), UNTRUSTED_ALL),
    "another-issuer": (
        lambda r: _resign(r, signature(issuer="https://issuer.evil.example")),
        UNTRUSTED_ALL,
    ),
    "unsigned-sbom": (lambda r: _resign(r, {}, SPDX, CDX), {"SBOM_UNSIGNED"}),
    "subject-mismatch": (
        lambda r: _mutate(r, MOF, errors=[MISMATCH]),
        {"SIGNATURES_INVALID", "MOF_INVALID"},
    ),
    "dev-key": (
        lambda r: _resign(r, signature("dev", "", "dev-key"), MOF),
        {"IDENTITY_DEV_KEY", "MOF_UNTRUSTED"},
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REPORTS))
def test_release_policy_fails_bad_reports_with_the_right_codes(
    case: str, release_params: dict[str, Any], engine_name: str
) -> None:
    mutate, expected = BAD_REPORTS[case]
    decision = decide(mutate(good_report()), release_params, engine_name)
    assert codes(decision) == expected, decision.text()
    assert decision.failed
    with pytest.raises(VerificationError) as info:
        check(decision)
    assert info.value.exit_code == 1
    assert decision.violations[0].code in str(info.value)


def test_messages_name_the_cause(release_params: dict[str, Any]) -> None:
    report = BAD_REPORTS["signed-by-someone-else"][0](good_report())
    text = decide(report, release_params, "regorus").text()
    assert "mallory/models" in text and "not an allowed signer" in text
    report = BAD_REPORTS["subject-mismatch"][0](good_report())
    assert "is not the subject" in decide(report, release_params, "regorus").text()


def test_warn_mode_reports_without_failing(release_params: dict[str, Any]) -> None:
    report = BAD_REPORTS["gpl"][0](good_report())
    decision = decide(report, release_params, "regorus", mode="warn")
    assert codes(decision) == {"SBOM_DENIED_LICENSE"}
    assert not decision.failed
    check(decision)
    assert "--mode warn" in decision.text()


def test_off_mode_evaluates_nothing(release_params: dict[str, Any]) -> None:
    class Exploding:
        name = "exploding"

        def __getattr__(self, _: str) -> Any:
            raise AssertionError("mode off must not touch the engine")

    decision = evaluate({"garbage": True}, load_policy(None), release_params,
                        mode="off", engine=Exploding())  # type: ignore[arg-type]  # fmt: skip
    assert not decision.evaluated and not decision.failed
    assert decision.text() == "policy: skipped (--mode off)"


def test_bad_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--mode"):
        evaluate(good_report(), load_policy(None), {}, mode="audit")


def test_defaults_alone_deny_an_unsigned_model() -> None:
    report = {
        **good_report(),
        "referrers": [{**r, "signatures": []} for r in good_report()["referrers"]],
    }
    decision = evaluate(report, load_policy(None))
    assert codes(decision) == {"SIGNATURES_NONE"}
    assert {w.code for w in decision.warnings} == {"IDENTITY_NO_ALLOWLIST"}


def test_decision_json_shape(release_params: dict[str, Any]) -> None:
    decision = decide(BAD_REPORTS["gpl"][0](good_report()), release_params, "regorus")
    doc = decision.to_dict()
    assert doc["allowed"] is False and doc["mode"] == "enforce" and doc["engine"] == "regorus"
    assert doc["entrypoint"] == "attest.main"
    assert doc["violations"][0]["code"] == "SBOM_DENIED_LICENSE"
    assert "GPL-3.0-only" in doc["violations"][0]["msg"]
    json.dumps(doc)


# -- user policies -----------------------------------------------------------------------------


USER_POLICY = """package acme.release
import rego.v1
import data.lib.modelpack.mof

deny contains v if some v in mof.violations(input, {"mof": {"min_class": "II"}})
deny contains "the model must carry a name" if not input.subject.annotations["org.opencontainers.image.title"]
warn contains {"code": "ACME_NOTE", "msg": "reviewed by acme", "owner": "ml-platform"} if true
"""  # noqa: E501


def test_a_single_file_policy_uses_the_library(tmp_path: Path) -> None:
    path = tmp_path / "release.rego"
    path.write_text(USER_POLICY)
    policy = load_policy(path)
    assert "attest.main" not in policy.packages  # the shipped entry point is not forced on it
    decision = evaluate(BAD_REPORTS["class-three"][0](good_report()), policy)
    assert decision.entrypoint == "acme.release"
    assert codes(decision) == {"MOF_CLASS_TOO_LOW", "POLICY"}  # a bare string gets code POLICY
    assert decision.warnings[0].to_dict() == {"code": "ACME_NOTE", "msg": "reviewed by acme",
                                              "owner": "ml-platform"}  # fmt: skip


def test_a_directory_policy_with_data_and_tests(tmp_path: Path) -> None:
    (tmp_path / "policy.rego").write_text(
        "package attest.main\nimport rego.v1\n"
        'deny contains {"code": "TOO_FEW", "msg": "too few"} '
        "if count(input.referrers) < data.acme.limits.min_referrers\n"
    )
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "limits").mkdir()
    (tmp_path / "acme" / "limits" / "data.yaml").write_text("min_referrers: 9\n")
    (tmp_path / "policy_test.rego").write_text(
        "package attest.main_test\nimport rego.v1\nimport data.attest.main\n"
        'test_few if { count(main.deny) == 1 with input as {"referrers": []} }\n'
        'test_wrong if { count(main.deny) == 0 with input as {"referrers": []} }\n'
        "test_boom if { 1 / 0 }\n"
        "todo_test_later if { false }\n"
    )
    policy = load_policy(tmp_path)
    assert policy.data["acme"]["limits"] == {"min_referrers": 9}
    assert "attest.main_test" not in policy.packages  # tests are not loaded for decisions
    assert codes(evaluate(good_report(), policy)) == {"TOO_FEW"}

    report = run_tests(load_policy(tmp_path, include_tests=True))
    status = {r.case.name: r.status for r in report.results}
    assert status == {"test_few": "pass", "test_wrong": "fail", "test_boom": "error",
                      "todo_test_later": "skip"}  # fmt: skip
    assert not report.ok
    assert "FAIL" in report.text() and "test_wrong" in report.text()


def test_no_tests_is_not_ok(tmp_path: Path) -> None:
    (tmp_path / "p.rego").write_text("package p\nimport rego.v1\nx := 1\n")
    report = run_tests(load_policy(tmp_path, include_tests=True))
    assert report.results == [] and not report.ok


def test_entrypoint_resolution(tmp_path: Path) -> None:
    (tmp_path / "a.rego").write_text('package a\nimport rego.v1\ndeny contains "a" if true\n')
    (tmp_path / "b.rego").write_text('package b\nimport rego.v1\ndeny contains "b" if true\n')
    policy = load_policy(tmp_path)
    with pytest.raises(UsageError, match="--entrypoint"):
        evaluate(good_report(), policy)
    assert evaluate(good_report(), policy, entrypoint="b").violations[0].msg == "b"
    with pytest.raises(UsageError, match="no package c"):
        evaluate(good_report(), policy, entrypoint="c")


def test_malformed_deny_is_an_error_not_a_pass(tmp_path: Path) -> None:
    path = tmp_path / "bad.rego"
    path.write_text("package bad\nimport rego.v1\ndeny contains 42 if true\n")
    with pytest.raises(PolicyError, match="code, msg"):
        evaluate(good_report(), load_policy(path))


def test_a_broken_policy_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.rego"
    path.write_text("package broken\ndeny contains x if {\n")
    with pytest.raises(InputError, match="broken.rego"):
        evaluate(good_report(), load_policy(path))


def test_params_files(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{"mof": {"min_class": "I"}}')
    (tmp_path / "p.yaml").write_text("mof:\n  min_class: I\n")
    assert load_params(tmp_path / "p.json") == load_params(tmp_path / "p.yaml")
    assert load_params(None) == {}
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(InputError, match="parameters file must be an object"):
        load_params(tmp_path / "list.yaml")
    with pytest.raises(UsageError):
        load_params(tmp_path / "missing.yaml")


def test_loader_refusals(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no .rego"):
        load_policy(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match=".rego"):
        load_policy(tmp_path / "notes.txt")
    for missing in ("./no/such/dir", "no-such-dir", "policy/dir", "x.rego", "/abs/p"):
        with pytest.raises(UsageError, match="no such file or directory"):
            load_policy(missing)
    with pytest.raises(UsageError, match="not an OCI reference"):
        load_policy("registry.example/Bad Ref")
    (tmp_path / "p.rego").write_text("package p\n")
    (tmp_path / "data.json").write_text('{"k": 1}')
    (tmp_path / "data.yaml").write_text("k: 2\n")
    with pytest.raises(InputError, match="already set"):
        load_policy(tmp_path)


def test_the_library_is_found_in_a_checkout() -> None:
    assert library_dir() == POLICIES
    policy: Policy = builtin_policy()
    assert "attest.main" in policy.packages and "lib.modelpack.sbom" in policy.packages
    assert not any(name.endswith("_test.rego") for name in policy.modules)


def test_docs_example_parses_as_yaml() -> None:
    assert yaml.safe_load(docs_example("release-policy.yaml"))["mof"]["min_class"] == "II"


def docs_block(first_line: str) -> str:
    """The fenced block of docs/policies.md whose first line is ``first_line``."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", DOCS.read_text(), re.S):
        if block.startswith(first_line + "\n"):
            return block
    raise AssertionError(f"docs/policies.md has no block starting {first_line!r}")


@pytest.mark.parametrize("engine_name", EMBEDDED_ENGINES)
def test_docs_own_policy_example_and_its_tests_work(tmp_path: Path, engine_name: str) -> None:
    (tmp_path / "release.rego").write_text(docs_block("# release.rego"))
    (tmp_path / "release_test.rego").write_text(docs_block("# release_test.rego"))
    report = run_tests(load_policy(tmp_path, include_tests=True), engine=create_engine(engine_name))
    assert report.ok and report.count("pass") == 2, report.text()
    decision = evaluate(BAD_REPORTS["gpl"][0](good_report()), load_policy(tmp_path),
                        engine=create_engine(engine_name))  # fmt: skip
    assert decision.entrypoint == "acme.release"
    assert codes(decision) == {"SBOM_DENIED_LICENSE", "ACME_NO_TITLE"}
