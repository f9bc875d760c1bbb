"""Evaluate a policy's ``deny`` and ``warn`` entry points over a VerificationReport.

``input = report + {"parameters": params}``. Each entry point is a set of ``{"code", "msg"}``
objects (a plain string is accepted as a message, as conftest policies write them). The mode
says what a violation means: ``enforce`` fails (exit 1), ``warn`` only reports, ``off`` skips
evaluation altogether.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attest.errors import UsageError, VerificationError
from attest.policy.engine import PolicyEngine, PolicyError, create_engine
from attest.policy.loader import Policy, install

MODES: tuple[str, ...] = ("enforce", "warn", "off")
DEFAULT_ENTRYPOINT = "attest.main"


@dataclass(frozen=True, order=True)
class Finding:
    """One violation or warning. ``details`` keeps any other fields the rule returned."""

    code: str
    msg: str
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, **self.details}


@dataclass(frozen=True)
class Decision:
    mode: str
    entrypoint: str | None
    violations: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    #: False when mode is "off": nothing was evaluated
    evaluated: bool = True
    policy: str = ""
    engine: str = ""

    @property
    def failed(self) -> bool:
        """Whether this decision should fail the command (exit 1)."""
        return self.mode == "enforce" and bool(self.violations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "evaluated": self.evaluated,
            "allowed": not self.failed,
            "entrypoint": self.entrypoint,
            "policy": self.policy,
            "engine": self.engine,
            "violations": [f.to_dict() for f in self.violations],
            "warnings": [f.to_dict() for f in self.warnings],
        }

    def text(self) -> str:
        if not self.evaluated:
            return "policy: skipped (--mode off)"
        lines = [f"deny  {f.code}: {f.msg}" for f in self.violations]
        lines += [f"warn  {f.code}: {f.msg}" for f in self.warnings]
        verdict = "failed" if self.failed else "passed"
        if self.violations and self.mode == "warn":
            verdict = "violations reported (--mode warn)"
        counts = f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s)"
        lines.append(f"policy {verdict}: {counts} [{self.entrypoint} on {self.engine}]")
        return "\n".join(lines)


def policy_input(report: dict[str, Any], params: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(report, dict):
        raise UsageError("a verification report must be a JSON object")
    return {**report, "parameters": dict(params or {})}


def resolve_entrypoint(policy: Policy, entrypoint: str | None) -> str:
    """The package holding ``deny``/``warn``: the one asked for, else ``attest.main``, else the
    policy's only own package."""
    packages = policy.packages
    if entrypoint:
        if entrypoint not in packages:
            raise UsageError(
                f"policy {policy.origin} has no package {entrypoint}",
                hint=f"packages: {', '.join(sorted(packages)) or 'none'}",
            )
        return entrypoint
    if DEFAULT_ENTRYPOINT in packages:
        return DEFAULT_ENTRYPOINT
    own = policy.user_packages()
    if len(own) == 1:
        return own[0]
    raise UsageError(
        f"policy {policy.origin} has several packages and none is {DEFAULT_ENTRYPOINT}: "
        "name the one holding deny/warn with --entrypoint",
        hint=f"packages: {', '.join(own) or 'none'}",
    )


def evaluate(
    report: dict[str, Any],
    policy: Policy,
    params: dict[str, Any] | None = None,
    *,
    mode: str = "enforce",
    engine: PolicyEngine | None = None,
    entrypoint: str | None = None,
) -> Decision:
    """The decision of ``policy`` over ``report``. A fresh regorus engine unless one is given
    (the engine must be empty: the policy is installed into it)."""
    if mode not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    package = resolve_entrypoint(policy, entrypoint)
    if mode == "off":
        return Decision(mode=mode, entrypoint=package, evaluated=False, policy=policy.origin)
    engine = engine or create_engine()
    install(engine, policy)
    doc = policy_input(report, params)
    violations = _findings(engine.eval(f"data.{package}.deny", doc), f"{package}.deny")
    warnings = _findings(engine.eval(f"data.{package}.warn", doc), f"{package}.warn")
    return Decision(
        mode=mode,
        entrypoint=package,
        violations=violations,
        warnings=warnings,
        policy=policy.origin,
        engine=engine.name,
    )


def check(decision: Decision) -> None:
    """Raise :class:`VerificationError` (exit 1) when the decision fails in enforce mode."""
    if decision.failed:
        first = decision.violations[0]
        more = len(decision.violations) - 1
        suffix = f" (and {more} more violation{'s' if more > 1 else ''})" if more else ""
        raise VerificationError(f"policy denied: {first.code}: {first.msg}{suffix}")


def _findings(value: Any, rule: str) -> tuple[Finding, ...]:
    """Normalise a deny/warn set; undefined is empty. Anything malformed is a policy error:
    a rule that returns junk must not read as "no violations"."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PolicyError(
            f"{rule} must be a set of {{code, msg}} objects, got {type(value).__name__}"
        )
    found: set[Finding] = set()
    for item in value:
        if isinstance(item, str):
            found.add(Finding(code="POLICY", msg=item))
        elif isinstance(item, dict) and isinstance(item.get("msg"), str):
            code = item.get("code", "POLICY")
            details = {k: v for k, v in item.items() if k not in ("code", "msg")}
            found.add(Finding(code=str(code), msg=item["msg"], details=details))
        else:
            raise PolicyError(f"{rule} holds {item!r:.120}, not a {{code, msg}} object")
    return tuple(sorted(found))
