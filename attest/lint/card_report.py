"""Card lint findings as text, JSON or SARIF 2.1.0 (for GitHub code scanning and editors)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from attest import __version__
from attest.lint.card_rules import LEVELS, RULES, Finding
from attest.text import safe

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
LINT_FORMATS: tuple[str, ...] = ("text", "json", "sarif")


def render_findings(findings: list[Finding], path: str, fmt: str = "text") -> str:
    """The findings about the card at ``path`` in ``fmt`` (text | json | sarif)."""
    if fmt == "json":
        return json.dumps(lint_json(findings, path), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif_log(findings, path), indent=2) + "\n"
    return lint_text(findings, path)


def counts(findings: list[Finding]) -> dict[str, int]:
    return {level: sum(1 for f in findings if f.level == level) for level in LEVELS}


def lint_text(findings: list[Finding], path: str) -> str:
    """``path:line: level [rule] message`` per finding, then a count line."""
    lines = [
        f"{path}:{f.line}: {f.level} [{f.rule}] {f.message}" if f.line
        else f"{path}: {f.level} [{f.rule}] {f.message}"
        for f in findings
    ]
    n = counts(findings)
    lines.append(f"{path}: {n['error']} errors, {n['warning']} warnings, {n['note']} notes")
    return "\n".join(safe(line) for line in lines) + "\n"  # messages quote the card


def lint_json(findings: list[Finding], path: str) -> dict[str, Any]:
    return {"path": path, "findings": [f.to_dict() for f in findings], "summary": counts(findings)}


def sarif_log(findings: list[Finding], path: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every rule described, one result per finding."""
    rule_ids = list(RULES)
    uri = quote(path.replace("\\", "/"))
    results = []
    for f in findings:
        location: dict[str, Any] = {"artifactLocation": {"uri": uri, "index": 0}}
        if f.line:
            location["region"] = {"startLine": f.line}
        results.append({
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule),
            "level": f.level,
            "message": {"text": f.message},
            "locations": [{"physicalLocation": location}],
        })  # fmt: skip
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "attest-card-lint",
                "version": __version__,
                "rules": [
                    {"id": r.id, "name": _pascal(r.id), "shortDescription": {"text": r.summary},
                     "defaultConfiguration": {"level": r.level}}
                    for r in RULES.values()
                ],
            }},
            "artifacts": [{"location": {"uri": uri}}],
            "results": results,
        }],
    }  # fmt: skip


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))
