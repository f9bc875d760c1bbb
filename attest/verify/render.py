"""The VerificationReport (and a policy decision) as text, JSON or SARIF 2.1.0.

Every string in the report may come from outside (annotations, predicate types, certificate
identities, error messages quoting them): text output prints each through ``safe``.
"""

from __future__ import annotations

import json
from typing import Any

from attest import __version__
from attest.text import safe
from attest.verify.notation.referrer import notation_signer
from attest.verify.report import ReferrerResult, VerificationReport


def render_report(report: VerificationReport, decision: Any, fmt: str) -> str:
    if fmt == "json":
        data = report.to_dict()
        if decision is not None:
            data["policy"] = decision.to_dict()
        return json.dumps(data, indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(_sarif(report, decision), indent=2) + "\n"
    return _text(report, decision)


def _signer(r: ReferrerResult) -> str:
    if not r.signatures:
        vouched = r.summary.get("statement")
        if vouched:
            return f"document, vouched for by {vouched[:19]}"
        return "document, NOT vouched for" if r.summary.get("claimedStatement") else "unsigned"
    s = r.signatures[0]
    if s.kind == "notation":
        return notation_signer(s)
    if not s.verified:
        return "NOT VERIFIED"
    if s.kind == "dev-key":
        return "dev key — not for release"
    if s.kind == "key":
        return "key"
    tlog = ", tlog" if s.tlog else ""
    return f"keyless {s.subject} ({s.issuer}{tlog})"


def _text(report: VerificationReport, decision: Any) -> str:
    p = safe
    lines = [f"Subject    {p(report.subject['reference'])}"]
    verified_refs = report.verified
    for r in report.referrers:
        mark = "✗" if r.errors and r.is_bundle else ("✓" if r in verified_refs else "·")
        what = p(r.predicate_type or r.artifact_type or "-")
        lines.append(f"  {mark} {what:<42} {p(_signer(r))}")
        lines += [f"      error: {p(e)}" for e in r.errors]
    lines += [f"  ✗ {p(e)}" for e in report.errors]
    verified = len(report.verified)
    lines.append(f"Verified   {verified} signed statement(s), {len(report.failures)} failure(s)")
    if decision is not None:
        counts = f"{len(decision.violations)} violation(s), {len(decision.warnings)} warning(s)"
        lines.append(f"Policy     {counts}")
        lines += [f"  ✗ [{p(v.code)}] {p(v.msg)}" for v in decision.violations]
        lines += [f"  ! [{p(w.code)}] {p(w.msg)}" for w in decision.warnings]
    return "\n".join(lines) + "\n"


def _sarif(report: VerificationReport, decision: Any) -> dict[str, Any]:
    results = [
        {"ruleId": "signature", "level": "error", "message": {"text": failure},
         "locations": [{"physicalLocation": {"artifactLocation": {
             "uri": report.subject["reference"]}}}]}
        for failure in report.failures
    ]  # fmt: skip
    if decision is not None:
        for level, items in (("error", decision.violations), ("warning", decision.warnings)):
            results += [
                {"ruleId": item.code, "level": level, "message": {"text": item.msg},
                 "locations": [{"physicalLocation": {"artifactLocation": {
                     "uri": report.subject["reference"]}}}]}
                for item in items
            ]  # fmt: skip
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "attest", "version": __version__,
                                      "informationUri": "https://attest.dev"}},
                  "results": results}],
    }  # fmt: skip
