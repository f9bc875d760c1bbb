"""Render a report document (``attest.report.document``) or a diff as HTML, Markdown or JSON.

Templates are content (``cards/report.*.j2``, shipped in the wheel); HTML is autoescaped and
self-contained (inline CSS, no scripts, no fetches); Markdown escapes every fact it prints so
that nothing from an artifact can draw its own markup.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from attest.errors import InternalError
from attest.evidence import table
from attest.humanize import human_size
from attest.oci import mediatypes as mt
from attest.stages.cards import md_cell, md_code_cell, md_text, templates_dir

FORMATS = ("html", "markdown", "json")
MARKDOWN_FILE_ROWS = 100  # a PR comment holds 65,536 characters; the JSON has every file


def render_report(document: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    template = {"html": "report.html.j2", "markdown": "report.md.j2"}[fmt]
    return _render(template, fmt, doc=document, max_rows=MARKDOWN_FILE_ROWS)


def render_diff(diff: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(diff, indent=2, ensure_ascii=False) + "\n"
    template = {"markdown": "diff.md.j2", "text": "diff.txt.j2"}[fmt]
    return _render(template, fmt, diff=diff)


def _render(template: str, fmt: str, **context: Any) -> str:
    try:
        text = _environment(fmt).get_template(template).render(**context)
    except jinja2.TemplateError as e:
        raise InternalError(f"report template {template}: {e}",
                            hint=f"check the templates in {templates_dir()}") from None  # fmt: skip
    return text.rstrip("\n") + "\n"


def short(digest: Any, n: int = 12) -> str:
    """``sha256:0123456789ab`` — enough to tell digests apart on a page."""
    text = str(digest or "")
    algo, _, hexpart = text.partition(":")
    return f"{algo}:{hexpart[:n]}" if hexpart else text[: n + 7]


def size(value: Any) -> str:
    return human_size(int(value)) if isinstance(value, int) and value >= 0 else "?"


def pct(value: Any) -> str:
    """A MOF progress number as the MOT prints it: whole percent."""
    return f"{value:.0f}" if isinstance(value, (int, float)) else str(value)


def plain(value: Any) -> str:
    """A fact on one text line: control characters and line breaks cannot draw lines."""
    return "".join(ch if ch.isprintable() else "?" for ch in " ".join(str(value).split()))


def predicate_name(uri: Any) -> str:
    names = {**table.LABELS, mt.NOTATION_SIGNATURE: "notation signature (of the manifest)"}
    return names.get(str(uri), str(uri or "unknown statement"))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _finalize(value: Any) -> Any:
    """Every printed value: control characters (a terminal escape, a NUL, which HTML forbids)
    become U+FFFD. Markup (a macro's output) was built from values already finalized."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _CONTROL.sub("\ufffd", value)
    return value


@cache
def _environment(fmt: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=fmt == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(
        md_text=md_text, md_cell=md_cell, md_code_cell=md_code_cell, short=short, size=size,
        plain=plain, predicate_name=predicate_name, pct=pct,
    )  # fmt: skip
    return env
