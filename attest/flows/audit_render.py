"""Text, JSON and Markdown of an AuditReport (untrusted strings escaped)."""

from __future__ import annotations

import json

from attest.flows.audit import STATUSES, AuditReport
from attest.text import safe

MARKS = {"verified": "✓", "failed": "✗", "not-a-model": "·", "error": "!"}


def render_audit(report: AuditReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(report)
    lines = [f"{MARKS[i.status]} {safe(i.reference)}  {i.status}"
             + (f" (MOF class {safe(i.mof_class)})" if i.mof_class else "")
             + (f": {safe(i.reason)}" if i.reason else "")
             for i in report.items]  # fmt: skip
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _summary(report: AuditReport) -> str:
    counts = ", ".join(f"{report.count(s)} {s}" for s in STATUSES)
    return f"{len(report.items)} reference(s): {counts} in {report.seconds:.1f}s (-j {report.jobs})"


def _cell(text: object) -> str:
    return safe(text).replace("|", "\\|")


def _markdown(report: AuditReport) -> str:
    rows = ["| reference | status | MOF | signers | reason |", "|---|---|---|---|---|"]
    for i in report.items:
        rows.append(f"| `{_cell(i.reference)}` | {MARKS[i.status]} {i.status} | "
                    f"{_cell(i.mof_class or '')} | {_cell(', '.join(i.signers))} | "
                    f"{_cell(i.reason or '')} |")  # fmt: skip
    head = f"## attest audit: {_cell(report.source)}\n\n{_summary(report)}\n\n"
    return head + "\n".join(rows) + "\n"
