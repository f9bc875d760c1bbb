"""The model card: README.md front matter (Hugging Face keys) and its Markdown sections.

Front matter is the YAML block between a first line ``---`` and the next ``---`` line, read with
attest.yamlio (no aliases, bounded depth). Malformed front matter is an InputError naming the
file and line: a card that says something unreadable must not be reported as saying nothing.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

import yaml

from attest import yamlio
from attest.errors import InputError
from attest.facts.licenses import LicenseMatch, normalize_license
from attest.facts.model import CardFacts, MetricFact

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_ARXIV_URL = re.compile(
    r"arxiv\.org/(?:abs|pdf)/((?:\d{4}\.\d{4,5})|(?:[a-z\-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?",
    re.IGNORECASE,
)
_ARXIV_TAG = re.compile(r"^arxiv:(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})$", re.I)


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """``(front matter, body, body's first line number)`` of a card's text."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return {}, text, 1
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            raw = "".join(lines[1:i])
            return _load_yaml(raw, path), "".join(lines[i + 1 :]), i + 2
    raise InputError(f"{path}:1: front matter starts with '---' but is never closed")


def _load_yaml(raw: str, path: str) -> dict[str, Any]:
    try:
        data = yamlio.safe_load(raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 2  # +1 for 1-based, +1 for the '---'
        raise InputError(
            f"{path}:{line}: malformed front matter: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: malformed front matter: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}:2: front matter is a {type(data).__name__}, not a mapping")
    return jsonable(data)


def jsonable(value: Any) -> Any:
    """YAML values made JSON-ready: dates to ISO strings, keys to strings, NaN to a string."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def parse_card(text: str, path: str = "README.md", warnings: list[str] | None = None) -> CardFacts:
    """CardFacts from README text. Entries of the card that cannot be used (a model-index result
    without a value...) are skipped and said in ``warnings``."""
    notes = warnings if warnings is not None else []
    fm, body, _ = split_front_matter(text, path)
    license_match = card_license(fm)
    if license_match.name and not license_match.spdx_id:
        notes.append(
            f"{path}: license {license_match.name!r} is not an SPDX id; kept as a name only"
        )
    title, sections, summary = _sections(body)
    arxiv = _arxiv(text, fm)
    return CardFacts(
        path=path,
        front_matter=fm,
        license=license_match.spdx_id,
        language=_str_list(fm.get("language")),
        library_name=_str_or_none(fm.get("library_name")),
        pipeline_tag=_str_or_none(fm.get("pipeline_tag")),
        tags=_str_list(fm.get("tags")),
        datasets=_str_list(fm.get("datasets")),
        base_model=_str_list(fm.get("base_model")),
        metrics=_model_index(fm.get("model-index"), path, notes),
        title=title,
        sections=sections,
        summary=summary,
        arxiv=arxiv,
    )


def card_license(fm: dict[str, Any]) -> LicenseMatch:
    """The card's licence as an SPDX expression when it is one (``apache-2.0`` ->
    ``Apache-2.0``), with the literal kept as the name when it is not.

    Hugging Face's ``license: other`` with ``license_name: NAME`` becomes ``LicenseRef-NAME``;
    a list of licences means they all apply (``AND``).
    """
    value = fm.get("license")
    if isinstance(value, list):
        value = " AND ".join(str(v) for v in value if isinstance(v, (str, int, float)) and v)
    if not isinstance(value, str) or not value.strip():
        return LicenseMatch(None, None)
    name = fm.get("license_name")
    if value.strip().lower() == "other" and isinstance(name, str) and name.strip():
        idstring = re.sub(r"[^A-Za-z0-9.\-]+", "-", name.strip()).strip("-")
        return LicenseMatch(f"LicenseRef-{idstring}" if idstring else None, name.strip())
    return normalize_license(value)


def _str_or_none(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int, float)) and str(value) else None


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if isinstance(v, (str, int, float)) and str(v)]


def _model_index(index: Any, path: str, notes: list[str]) -> list[MetricFact]:
    """MetricFacts from ``model-index: [{name, results: [{task, dataset, metrics}]}]``."""
    if index is None:
        return []
    if not isinstance(index, list):
        notes.append(f"{path}: model-index is not a list; ignored")
        return []
    facts: list[MetricFact] = []
    for entry in index:
        results = entry.get("results") if isinstance(entry, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            task = result.get("task")
            task = task if isinstance(task, dict) else {}
            dataset = result.get("dataset")
            dataset = dataset if isinstance(dataset, dict) else {}
            for metric in result.get("metrics") or []:
                if not isinstance(metric, dict) or "type" not in metric or "value" not in metric:
                    notes.append(f"{path}: a model-index metric without type or value; skipped")
                    continue
                value = metric["value"]
                if not isinstance(value, (int, float, str)) or isinstance(value, bool):
                    value = str(value)
                facts.append(
                    MetricFact(
                        type=str(metric["type"]),
                        value=value,
                        name=_str_or_none(metric.get("name")),
                        task=_str_or_none(task.get("type")),
                        dataset=_str_or_none(dataset.get("type"))
                        or _str_or_none(dataset.get("name")),
                        split=_str_or_none(dataset.get("split")),
                    )
                )
    return facts


def _sections(body: str) -> tuple[str | None, dict[str, str], str | None]:
    """The first H1, the text of each H2 (H3 and deeper stay inside their H2), and the intro:
    the text between the first H1 and the next heading (a user's own summary, kept on
    re-rendering)."""
    title: str | None = None
    sections: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    fence: str | None = None
    intro: list[str] | None = None  # collecting while not None
    summary: str | None = None

    def flush() -> None:
        if current is not None:
            text = "".join(buf).strip("\n")
            sections[current] = f"{sections[current]}\n\n{text}" if current in sections else text

    for line in body.splitlines(keepends=True):
        m_fence = _FENCE.match(line)
        if m_fence:
            marker = m_fence.group(1)
            fence = None if fence == marker else (fence or marker)
        heading = _ATX.match(line) if fence is None and not m_fence else None
        if heading and len(heading.group(1)) <= 2:
            flush()
            buf = []
            if intro is not None:
                summary = "".join(intro).strip("\n") or None
                intro = None
            if len(heading.group(1)) == 1:
                if title is None:
                    intro = []
                title = title or heading.group(2)
                current = None
            else:
                current = heading.group(2)
            continue
        if current is not None:
            buf.append(line)
        elif intro is not None:
            intro.append(line)
    flush()
    if intro is not None:
        summary = "".join(intro).strip("\n") or None
    return title, sections, summary


def _arxiv(text: str, fm: dict[str, Any]) -> list[str]:
    """arXiv papers a card cites (links, and ``arxiv:ID`` tags), as abs URLs in first order."""
    ids = [m.group(1) for m in _ARXIV_URL.finditer(text)]
    for tag in _str_list(fm.get("tags")):
        m = _ARXIV_TAG.match(tag.strip())
        if m:
            ids.append(m.group(1))
    return [f"https://arxiv.org/abs/{i}" for i in dict.fromkeys(ids)]
