"""``attest policy test DIR``: run the Rego unit tests of a policy, like ``opa test``.

A test is a rule whose name starts with ``test_`` (``todo_test_`` marks one skipped). It passes
when it evaluates to ``true``; undefined or ``false`` is a failure, an evaluation error is an
error. Tests are found by their rule heads at the start of a line, the layout ``opa fmt``
writes; each distinct name is one test (several bodies of one rule are OR-ed, as in Rego).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attest.errors import RegistryError
from attest.policy.engine import PolicyEngine, create_engine, package_of
from attest.policy.loader import LIBRARY_MODULE_PREFIX, Policy, install

_TEST_RULE = re.compile(r"^((?:todo_)?test_[A-Za-z0-9_]*)\b", re.M)


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class, despite the name

    package: str
    name: str
    module: str

    @property
    def path(self) -> str:
        return f"data.{self.package}.{self.name}"


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest class, despite the name

    case: TestCase
    status: str  # "pass" | "fail" | "error" | "skip"
    duration_ms: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "package": self.case.package,
            "name": self.case.name,
            "module": self.case.module,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
        }
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class TestReport:
    __test__ = False  # not a pytest class, despite the name

    engine: str
    results: list[TestResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        """Every test passed (skips aside) and there was at least one."""
        ran = [r for r in self.results if r.status != "skip"]
        return bool(ran) and all(r.status == "pass" for r in ran)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "ok": self.ok,
            "counts": {s: self.count(s) for s in ("pass", "fail", "error", "skip")},
            "results": [r.to_dict() for r in self.results],
        }

    def text(self, *, verbose: bool = False) -> str:
        lines: list[str] = []
        for r in self.results:
            if verbose or r.status in ("fail", "error"):
                lines.append(f"{r.status.upper():5} {r.case.path} ({r.case.module})")
                if r.error:
                    lines.extend("      " + line for line in r.error.splitlines())
        total = len(self.results)
        summary = (
            f"PASS: {self.count('pass')}/{total}"
            if self.ok
            else f"FAIL: {self.count('fail')}, ERROR: {self.count('error')}, "
            f"PASS: {self.count('pass')}/{total}"
        )
        if self.count("skip"):
            summary += f", SKIPPED: {self.count('skip')}"
        lines.append(f"{summary} [{self.engine}]")
        return "\n".join(lines)


def discover(policy: Policy) -> list[TestCase]:
    """The test rules of the policy's own modules (library modules added for imports aside)."""
    cases: dict[tuple[str, str], TestCase] = {}
    for module in sorted(policy.modules):
        if module.startswith(LIBRARY_MODULE_PREFIX):
            continue
        source = policy.modules[module]
        package = package_of(source)
        if not package:
            continue
        for name in _TEST_RULE.findall(_without_comments(source)):
            cases.setdefault((package, name), TestCase(package, name, module))
    return list(cases.values())


def run_tests(
    policy: Policy,
    *,
    engine: PolicyEngine | None = None,
    engine_factory: Callable[[], PolicyEngine] = create_engine,
    match: str | None = None,
) -> TestReport:
    """Run every test of ``policy`` (those whose ``package.rule`` matches ``match``, a regexp,
    when given) on one engine holding all its modules."""
    engine = engine or engine_factory()
    install(engine, policy)
    pattern = re.compile(match) if match else None
    selected = [
        c for c in discover(policy) if not pattern or pattern.search(f"{c.package}.{c.name}")
    ]
    report = TestReport(engine=engine.name)
    packages: dict[str, list[TestCase]] = {}
    for case in selected:
        packages.setdefault(case.package, []).append(case)
    for package, cases in packages.items():
        report.results.extend(_run_package(engine, package, cases))
    return report


def _run_package(engine: PolicyEngine, package: str, cases: list[TestCase]) -> list[TestResult]:
    """Evaluate a test package as one document (one query instead of one per test: real OPA
    prepares every distinct query); if that errors, run its tests one by one to say which."""
    runnable = [c for c in cases if not c.name.startswith("todo_")]
    started = time.perf_counter()
    try:
        doc = engine.eval(f"data.{package}") if runnable else {}
    except RegistryError:
        raise
    except Exception:
        return [_run_one(engine, c) for c in cases]
    share = (time.perf_counter() - started) * 1000 / max(len(runnable), 1)
    results = []
    for case in cases:
        if case.name.startswith("todo_"):
            results.append(TestResult(case, "skip"))
            continue
        value = doc.get(case.name) if isinstance(doc, dict) else None
        results.append(_judge(case, value, share))
    return results


def _judge(case: TestCase, value: Any, elapsed: float) -> TestResult:
    if value is True:
        return TestResult(case, "pass", elapsed)
    detail = "undefined" if value is None else f"evaluated to {value!r:.200}"
    return TestResult(case, "fail", elapsed, error=detail)


def _run_one(engine: PolicyEngine, case: TestCase) -> TestResult:
    if case.name.startswith("todo_"):
        return TestResult(case, "skip")
    started = time.perf_counter()
    try:
        value = engine.eval(case.path)
    except RegistryError:  # the OPA server went away: the run is over, not this test
        raise
    except Exception as e:  # an evaluation error is this test's result, not the run's
        elapsed = (time.perf_counter() - started) * 1000
        return TestResult(case, "error", elapsed, error=getattr(e, "message", None) or str(e))
    return _judge(case, value, (time.perf_counter() - started) * 1000)


def _without_comments(source: str) -> str:
    return re.sub(r"#[^\n]*", "", source)
