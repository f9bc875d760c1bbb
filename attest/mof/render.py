"""Render a :class:`~attest.mof.report.MofReport` as text (80 columns), Markdown or JSON."""

from __future__ import annotations

import json
import math
import textwrap

from attest.mof.classes import ROMAN
from attest.mof.report import Basis, ComponentResult, MofReport
from attest.text import safe

# What to suggest for a component without an open licence: the MOF's examples per content type.
SUGGESTED_LICENSE = {"code": "Apache-2.0", "data": "CDLA-Permissive-2.0", "document": "CC-BY-4.0"}
FORMATS = ("text", "markdown", "json")
NAME_W = 32  # text columns: the longest name, "Model parameters (Intermediate)", fits
STATUS_W = 11


def render(report: MofReport, fmt: str = "text", *, width: int = 80) -> str:
    if fmt == "text":
        return render_text(report, width=width)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "json":
        return render_json(report)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def render_json(report: MofReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def percent(progress: float) -> str:
    """Whole percent, never rounding up to a 100 % that was not reached."""
    return f"{100 if progress >= 100 else math.floor(progress)}%"


def short_digest(digest: str | None) -> str:
    if not digest:
        return ""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest[:19]


def describe_evidence(ev: Basis) -> str:
    """One line saying what backs a component (digests in full are in the JSON form)."""
    if ev.kind == "license":
        if not ev.path:
            return f"licence: {ev.note}"
        return f"licence {ev.note}: {ev.path}" + (f"  [{ev.source}]" if ev.source else "")
    text = ev.path or ev.note or ev.source or ev.kind
    if ev.note and ev.path and ev.note != ev.path:
        text = f"{ev.path} ({ev.note})"
    parts = [text, short_digest(ev.digest)]
    if ev.source and (ev.path or ev.note):
        parts.append(f"[{ev.source}]")
    return "  ".join(p for p in parts if p)


def advice(c: ComponentResult) -> str:
    """What to do about a component that keeps the model out of a class."""
    lic = SUGGESTED_LICENSE.get(c.content_type, "an open licence")
    if c.status == "missing":
        what = c.name
        if c.id == "technical-report":
            what = "Technical report (or an open Research paper)"
        return f"{what} (missing): release it under an open licence, e.g. {lic}"
    if c.status == "unlicensed":
        return f"{c.name} (no licence): license it openly, e.g. {lic}"
    return f"{c.name} ({c.license} is not open): relicense it, e.g. {lic}"


# -- text ---------------------------------------------------------------------------------------


def render_text(report: MofReport, *, width: int = 80) -> str:
    width = max(width, 60)
    out: list[str] = []
    title = f"MOF report: {report.name}" + (f" {report.version}" if report.version else "")
    out.append(_clip(title, width))
    out.append(f"{report.label}  (Model Openness Framework {report.framework_version})")
    out.append("")
    for c in (3, 2, 1):
        r = report.classes[c]
        filled = 10 if r.complete else min(9, int(r.progress // 10))
        bar = "[" + "#" * filled + "." * (10 - filled) + "]"
        name = r.label.split(" - ", 1)[-1]
        counted = (
            f"needs Class {ROMAN[c + 1]} first" if r.gated else (f"{len(r.included)} of {r.total}")
        )
        out.append(f"  Class {ROMAN[c]:<4} {name:<20} {bar} {percent(r.progress):>4}   {counted}")
    out.append("")

    required = [c for c in report.components if c.required]
    optional = [c for c in report.components if not c.required]
    out.append(f"  {'class':<6}{'component':<{NAME_W}}{'status':<{STATUS_W}}licence")
    for comp in required:
        out.extend(_component_lines(comp, width))
    out.append("")
    out.append("  Optional (they never count towards a class):")
    for comp in optional:
        out.extend(_component_lines(comp, width))
    target = report.next_class
    if target is not None:
        out.append("")
        out.append(f"To reach {report.classes[target].label}, add:")
        for comp in report.needed_for(target):
            out.extend(
                textwrap.wrap(
                    advice(comp),
                    width=width,
                    initial_indent="  - ",
                    subsequent_indent="    ",
                    break_on_hyphens=False,
                )
            )
    if report.warnings:
        out.append("")
        out.append("Warnings:")
        for w in report.warnings:
            out.extend(
                textwrap.wrap(
                    w,
                    width=width,
                    initial_indent="  - ",
                    subsequent_indent="    ",
                    break_on_hyphens=False,
                )
            )
    # names, licences and paths come from the model's files: no line can draw another
    return "\n".join(safe(line) for line in out) + "\n"


def _component_lines(comp: ComponentResult, width: int) -> list[str]:
    name = _clip(comp.name, NAME_W - 1)
    row = f"  {ROMAN[comp.mof_class]:<6}{name:<{NAME_W}}{comp.status:<{STATUS_W}}"
    lines = [row + _clip(comp.license or "-", width - len(row))]
    notes: list[str] = []
    if comp.substituted_by:
        notes.append("the Research paper stands in for it")
    notes.extend(describe_evidence(ev) for ev in comp.evidence)
    if comp.listed and comp.license_source and comp.license_source != "component":
        notes.append(f"licence from {comp.license_source}")
    lines.extend(_clip("        " + note, width) for note in notes)
    return lines


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


# -- markdown -----------------------------------------------------------------------------------


def render_markdown(report: MofReport) -> str:
    out: list[str] = []
    title = f"{report.name} {report.version}".strip()
    out.append(f"# MOF report: {_md(title)}")
    out.append("")
    out.append(f"**{report.label}** (Model Openness Framework {report.framework_version})")
    out.append("")
    out.append("| Class | Progress | Counted |")
    out.append("|---|---:|---|")
    for c in (3, 2, 1):
        r = report.classes[c]
        counted = (
            f"needs Class {ROMAN[c + 1]} first" if r.gated else f"{len(r.included)} of {r.total}"
        )
        out.append(f"| {_md(r.label)} | {percent(r.progress)} | {counted} |")
    out.append("")
    out.append("## Components")
    out.append("")
    out.append("| Class | Component | Status | Licence | Basis |")
    out.append("|---|---|---|---|---|")
    for comp in report.components:
        name = comp.name + ("" if comp.required else " (optional)")
        evidence = [describe_evidence(ev) for ev in comp.evidence]
        if comp.substituted_by:
            evidence.insert(0, "the Research paper stands in for it")
        if comp.listed and comp.license_source and comp.license_source != "component":
            evidence.append(f"licence from {comp.license_source}")
        cells = [
            ROMAN[comp.mof_class],
            _md(name),
            comp.status,
            _md(comp.license or "-"),
            "<br>".join(_md(e) for e in evidence) or "-",
        ]
        out.append("| " + " | ".join(cells) + " |")
    target = report.next_class
    if target is not None:
        out.append("")
        out.append(f"## To reach {_md(report.classes[target].label)}, add")
        out.append("")
        out.extend(f"- {_md(advice(c))}" for c in report.needed_for(target))
    if report.warnings:
        out.append("")
        out.append("## Warnings")
        out.append("")
        out.extend(f"- {_md(w)}" for w in report.warnings)
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
