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
# "This model is a fine-tuned version of [x](https://huggingface.co/org/x)" (the Trainer's card)
_FINE_TUNED_FROM = re.compile(
    r"(?:fine-?tuned|finetuned|trained|derived|adapted|distilled|quantized|converted)"
    r"(?: version)? (?:of|from) \[[^\]]*\]\(https://huggingface\.co/([\w.-]+(?:/[\w.-]+)?)/?\)",
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
    arxiv = _arxiv(body, sections, fm)
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
        base_model_text=list(dict.fromkeys(m.group(1) for m in _FINE_TUNED_FROM.finditer(body))),
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


_HTML_HEADING = re.compile(r"^\s{0,3}<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>\s*$", re.IGNORECASE)
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_TAG = re.compile(r"<[^>]*>")
# Lines that cannot be a setext heading's text: indented code, HTML, tables, lists, quotes.
_NOT_SETEXT = re.compile(r"^(?: {4}|\t|\s{0,3}(?:<|\||>|[-*+]\s|\d+[.)]\s|---|===))")


def heading(line: str, following: str | None) -> tuple[int, str, bool] | None:
    """``(level, text, uses the next line)`` when ``line`` is a heading: ATX (``## x``), an HTML
    heading on one line (``<h2 align="center">x</h2>``) or setext (``x`` over ``===``/``---``)."""
    m = _ATX.match(line)
    if m:
        return len(m.group(1)), m.group(2), False
    m = _HTML_HEADING.match(line)
    if m:
        return int(m.group(1)), " ".join(_TAG.sub("", m.group(2)).split()), False
    if following is not None and line.strip() and not _NOT_SETEXT.match(line):
        u = _SETEXT.match(following)
        if u and (u.group(1)[0] == "=" or len(u.group(1)) >= 3):
            return (1 if u.group(1)[0] == "=" else 2), line.strip(), True
    return None


def _sections(body: str) -> tuple[str | None, dict[str, str], str | None]:
    """The first H1, the text of each section (H3 and deeper stay inside their section), and
    the intro (a user's own summary, kept on re-rendering).

    No text is dropped: what precedes the first heading and what follows the title joins the
    intro; a second H1 starts a section like an H2 does (many READMEs use ``#`` throughout).
    Headings may be Markdown (ATX or setext) or one-line HTML (``<h2>Usage</h2>``).
    """
    title: str | None = None
    sections: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    fence: str | None = None
    intro: list[str] = []
    lines = body.splitlines(keepends=True)

    def flush() -> None:
        if current is not None:
            text = "".join(buf).strip("\n")
            sections[current] = f"{sections[current]}\n\n{text}" if current in sections else text

    skip = False
    for i, line in enumerate(lines):
        if skip:  # the underline of a setext heading
            skip = False
            continue
        m_fence = _FENCE.match(line)
        if m_fence:
            marker = m_fence.group(1)
            fence = None if fence == marker else (fence or marker)
        following = lines[i + 1] if i + 1 < len(lines) else None
        found = heading(line, following) if fence is None and not m_fence else None
        if found and found[0] <= 2 and found[1]:
            level, text, skip = found
            if level == 1 and title is None and current is None:
                title = text
                continue
            flush()
            buf = []
            current = text
            continue
        if current is not None:
            buf.append(line)
        else:
            intro.append(line)
    flush()
    summary = "".join(intro).strip("\n") or None
    return title, sections, summary


# Headings of a section that cites the model's own paper ("Citation", "BibTeX", "Cite us"...).
_CITATION_HEADING = re.compile(r"citation|\bcit(?:e|ing)\b|bibtex|reference|\bpapers?\b", re.I)
# A BibTeX entry: "@article{key, ... }" (bounded: an entry is not longer than this).
_BIBTEX = re.compile(r"@\w+\s*\{[^@]{0,4000}", re.DOTALL)
_EPRINT = re.compile(r"eprint\s*=\s*[{\"]\s*(\d{4}\.\d{4,5})", re.I)
# A link labelled as the paper: "[Paper](https://arxiv.org/abs/...)", "[📄 Technical report](..)".
_PAPER_LINK = re.compile(
    r"\[([^\]]{0,80})\]\((https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/[^)\s]+)\)", re.I
)
_PAPER_LABEL = re.compile(r"paper|report|arxiv|publication", re.I)


def _arxiv(body: str, sections: dict[str, str], fm: dict[str, Any]) -> list[str]:
    """arXiv papers the card gives as the model's own, as abs URLs in first order: front matter
    ``arxiv:ID`` tags, links in a citation section, BibTeX entries, and links labelled as the
    paper outside tables. An arXiv link elsewhere (a row of a training-data table, a related
    work mentioned in passing) is about something else and is not taken."""
    ids: list[str] = []
    for tag in _str_list(fm.get("tags")):
        m = _ARXIV_TAG.match(tag.strip())
        if m:
            ids.append(m.group(1))
    for title, text in sections.items():
        if _CITATION_HEADING.search(title):
            ids += [m.group(1) for m in _ARXIV_URL.finditer(text)]
    for entry in _BIBTEX.finditer(body):
        ids += [m.group(1) for m in _ARXIV_URL.finditer(entry.group(0))]
        ids += [m.group(1) for m in _EPRINT.finditer(entry.group(0))]
    for line in body.splitlines():
        if line.lstrip().startswith("|"):
            continue  # a table row: datasets, benchmarks, related models
        for m in _PAPER_LINK.finditer(line):
            if _PAPER_LABEL.search(m.group(1)):
                ids += [u.group(1) for u in _ARXIV_URL.finditer(m.group(2))]
    return [f"https://arxiv.org/abs/{i}" for i in dict.fromkeys(ids)]
