"""Lint a model or data card (a README with YAML front matter): Hugging Face metadata
conventions, the sections a MOF Class III card needs, and agreement with the artifact.

Pure: text in, findings out. Every finding that has a place carries its 1-based line in the
card file. Rules and their default levels are in :data:`RULES` (docs/cards.md has the table);
renderers for text, JSON and SARIF are in :mod:`attest.stages.card_lint_report`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from attest import yamlio
from attest.errors import InputError
from attest.facts.card import card_license, heading, jsonable
from attest.facts.licenses import parse_expression
from attest.facts.model import ModelFacts
from attest.stages.card_spec import (
    DATA_KEYS,
    DATA_ONLY_KEYS,
    MODEL_KEYS,
    MODEL_ONLY_KEYS,
    PIPELINE_TAGS,
    SIZE_CATEGORIES,
    STR_KEYS,
    STR_OR_LIST_KEYS,
    has_content,
    match_section,
    sections_for,
    unique_datasets,
)

Level = Literal["error", "warning", "note"]
LEVELS: tuple[str, ...] = ("error", "warning", "note")


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level  # default level (a rule may report a lighter one for a lesser case)
    summary: str


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("front-matter-missing", "warning",
         "The card has no YAML front matter (the Hub shows no licence, datasets or tags)."),
    Rule("front-matter-invalid", "error",
         "The front matter is not valid YAML, is not closed, or is not a mapping."),
    Rule("duplicate-key", "error", "A front matter key appears twice; YAML keeps only the last."),
    Rule("unknown-key", "warning", "A front matter key the Hub does not know (often a typo)."),
    Rule("key-type", "error", "A front matter value has the wrong type (e.g. tags not a list)."),
    Rule("license-missing", "warning", "The front matter names no licence."),
    Rule("license-not-spdx", "error",
         "The licence is neither an SPDX id/expression nor a Hugging Face licence id."),
    Rule("pipeline-tag-unknown", "warning", "pipeline_tag/task_categories is not a Hub task id."),
    Rule("size-category-invalid", "warning", "size_categories is not one of the Hub's buckets."),
    Rule("model-index-invalid", "error",
         "model-index does not have the Hub's structure (name, results: task, dataset, metrics)."),
    Rule("title-missing", "note", "The card has no H1 title."),
    Rule("section-missing", "error", "A section a MOF Class III card needs is absent."),
    Rule("section-empty", "warning",
         "A section a MOF Class III card needs only says 'Not provided' or holds a placeholder."),
    Rule("license-mismatch", "error", "The card's licence differs from the artifact's."),
    Rule("dataset-mismatch", "error", "The card's datasets differ from the artifact's."),
    Rule("base-model-mismatch", "error", "The card's base model differs from the artifact's."),
    Rule("file-mismatch", "error",
         "The card's file table lists a file or digest the artifact does not have, or misses one."),
)}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    rule: str
    level: Level
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level, "message": self.message,
                "line": self.line}


def has_errors(findings: list[Finding]) -> bool:
    """True when a finding is an error: ``attest card lint`` then exits 1."""
    return any(f.level == "error" for f in findings)


# -- the card, parsed with line numbers -----------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# A row of attest's file table: | `path` | role | size | `sha256:...` |
_FILE_ROW = re.compile(
    r"^\|\s*(`+)\s?(?P<path>.+?)\s?\1\s*\|.*?`(?P<digest>sha256:[0-9a-f]{64})`\s*\|\s*$"
)


@dataclass
class _Card:
    front_matter: dict[str, Any] | None = None  # None: absent or unreadable
    fm_present: bool = False
    lines_of: dict[tuple[Any, ...], int] = field(default_factory=dict)  # key path -> line
    body_start: int = 1
    title_line: int | None = None
    sections: list[tuple[str, int, str]] = field(default_factory=list)  # (H2 title, line, text)
    file_rows: list[tuple[str, str, int]] = field(default_factory=list)  # (path, digest, line)


def _parse(text: str, findings: list[Finding]) -> _Card:
    card = _Card()
    lines = text.lstrip("\ufeff").splitlines()
    if lines and lines[0].rstrip() == "---":
        card.fm_present = True
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
        if end is None:
            findings.append(_f("front-matter-invalid",
                               "front matter starts with '---' but is never closed", 1))
            card.body_start = 2
        else:
            card.front_matter = _front_matter("\n".join(lines[1:end]) + "\n", card, findings)
            card.body_start = end + 2
    _body(lines, card)
    return card


def _front_matter(raw: str, card: _Card, findings: list[Finding]) -> dict[str, Any] | None:
    try:
        node, data = yamlio.parse(raw)
    except yamlio.RefusedYAML:  # hostile, not a mistake to list: bad input (lint_card)
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 2  # +1 for 1-based, +1 for the '---'
        findings.append(_f("front-matter-invalid",
                           f"front matter is not valid YAML: {exc.problem or exc.context}", line))
        return None
    except yaml.YAMLError as exc:
        findings.append(_f("front-matter-invalid", f"front matter is not valid YAML: {exc}", 2))
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        findings.append(_f("front-matter-invalid",
                           f"front matter is a {type(data).__name__}, not a mapping", 2))
        return None
    _node_lines(node, (), card.lines_of, findings)
    return dict(jsonable(data))


def _node_lines(node: yaml.Node | None, at: tuple[Any, ...], out: dict[tuple[Any, ...], int],
                findings: list[Finding]) -> None:
    """JSON path -> 1-based card line (front matter starts on card line 2)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 2
            if key in seen:
                findings.append(_f("duplicate-key", f"key {_dotted((*at, key))!r} appears twice "
                                   f"(first on line {seen[key]}); YAML keeps the last", line))
            seen[key] = line
            out.setdefault((*at, key), line)
            _node_lines(value_node, (*at, key), out, findings)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*at, i)] = item.start_mark.line + 2
            _node_lines(item, (*at, i), out, findings)


def _body(lines: list[str], card: _Card) -> None:
    fence: str | None = None
    current: tuple[str, int] | None = None
    buf: list[str] = []

    def flush() -> None:
        if current is not None:
            card.sections.append((current[0], current[1], "\n".join(buf)))

    body = lines[card.body_start - 1:]
    skip = False
    for number, line in enumerate(body, start=card.body_start):
        if skip:  # a setext heading's underline
            skip = False
            continue
        m_fence = _FENCE.match(line)
        if m_fence:
            fence = None if fence == m_fence.group(1) else (fence or m_fence.group(1))
        following = body[number - card.body_start + 1] if number - card.body_start + 1 < len(
            body) else None
        found = heading(line, following) if fence is None and not m_fence else None
        if found and found[0] <= 2 and found[1]:
            flush()
            buf = []
            skip = found[2]
            # The first H1 is the title; a later H1 opens a section, as the renderer reads it.
            if found[0] == 1 and card.title_line is None and current is None:
                card.title_line = number
            else:
                current = (found[1], number)
            continue
        row = _FILE_ROW.match(line) if fence is None else None
        if row:
            card.file_rows.append((row.group("path").replace("\\|", "|"), row.group("digest"),
                                   number))
        buf.append(line)
    flush()


# -- rules ----------------------------------------------------------------------------------------


def lint_card(
    text: str,
    path: str = "README.md",
    subject_facts: ModelFacts | None = None,
    kind: str | None = None,
) -> list[Finding]:
    """Findings for the card ``text`` (read from ``path``), sorted by line.

    ``kind`` is "model" or "data" (default: told from the front matter keys and headings).
    With ``subject_facts`` (the artifact's ModelFacts) the card is also checked against it.
    """
    findings: list[Finding] = []
    try:
        card = _parse(text, findings)
    except yamlio.RefusedYAML as exc:  # an alias bomb is hostile input, not a lint finding
        mark = exc.problem_mark
        line = mark.line + 2 if mark is not None else 2  # +1 for 1-based, +1 for the '---'
        raise InputError(f"{path}:{line}: front matter refused: {exc.problem}") from None
    kind = kind or _kind(card)
    fm = card.front_matter
    if not card.fm_present:
        findings.append(_f("front-matter-missing",
                           "no YAML front matter: add license, datasets, tags... between '---' "
                           "lines at the top", 1))
    if fm is not None:
        _check_keys(fm, card, kind, findings)
        _check_license(fm, card, findings)
        _check_tasks(fm, card, kind, findings)
        if kind == "model" and "model-index" in fm:
            _check_model_index(fm["model-index"], card, findings)
    if card.title_line is None:
        findings.append(_f("title-missing", "the card has no '# Title' heading", card.body_start))
    _check_sections(card, kind, findings)
    if subject_facts is not None:
        _check_subject(card, kind, subject_facts, path, findings)
    return sorted(findings, key=lambda f: (f.line or 0, LEVELS.index(f.level), f.rule))


def _kind(card: _Card) -> str:
    keys = set(card.front_matter or {})
    if keys & DATA_ONLY_KEYS and not keys & MODEL_ONLY_KEYS:
        return "data"
    data = sum(1 for t, _, _ in card.sections if match_section(t, "data"))
    model = sum(1 for t, _, _ in card.sections if match_section(t, "model"))
    return "data" if data > model else "model"


def _check_keys(fm: dict[str, Any], card: _Card, kind: str, findings: list[Finding]) -> None:
    known = MODEL_KEYS if kind == "model" else DATA_KEYS
    for key, value in fm.items():
        line = card.lines_of.get((key,))
        if key not in known and not key.startswith("extra_gated_"):
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            findings.append(_f("unknown-key", f"unknown {kind} card key {key!r}{hint}", line))
        if key in STR_KEYS and not isinstance(value, str):
            findings.append(_f("key-type", f"{key} must be a string, not "
                               f"{type(value).__name__}", line))
        elif key in STR_OR_LIST_KEYS and not _str_or_str_list(value):
            findings.append(_f("key-type", f"{key} must be a string or a list of strings", line))


def _check_license(fm: dict[str, Any], card: _Card, findings: list[Finding]) -> None:
    if "license" not in fm:
        findings.append(_f("license-missing",
                           "no license: add an SPDX id, e.g. 'license: apache-2.0'", 1))
        return
    line = card.lines_of.get(("license",))
    value = fm["license"]
    if isinstance(value, str) and value.strip().lower() == "other" and not fm.get("license_name"):
        findings.append(_f("license-not-spdx",
                           "license: other needs license_name (and license_link)", line))
        return
    if card_license(fm).spdx_id is None and _str_or_str_list(value):
        findings.append(_f("license-not-spdx", f"license {value!r} is not an SPDX id or "
                           "expression nor a Hugging Face licence id; use e.g. 'apache-2.0', "
                           "or 'other' with license_name", line))


def _check_tasks(fm: dict[str, Any], card: _Card, kind: str, findings: list[Finding]) -> None:
    key = "pipeline_tag" if kind == "model" else "task_categories"
    for i, task in enumerate(_as_list(fm.get(key))):
        if isinstance(task, str) and task not in PIPELINE_TAGS:
            close = difflib.get_close_matches(task, sorted(PIPELINE_TAGS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            line = card.lines_of.get((key, i)) or card.lines_of.get((key,))
            findings.append(_f("pipeline-tag-unknown",
                               f"{key} {task!r} is not a Hugging Face task id{hint}", line))
    if kind == "data":
        for i, size in enumerate(_as_list(fm.get("size_categories"))):
            if size not in SIZE_CATEGORIES:
                line = card.lines_of.get(("size_categories", i)) or \
                    card.lines_of.get(("size_categories",))
                findings.append(_f("size-category-invalid", f"size_categories {size!r} is not "
                                   f"one of {', '.join(sorted(SIZE_CATEGORIES))}", line))


def _check_model_index(index: Any, card: _Card, findings: list[Finding]) -> None:
    at: tuple[Any, ...] = ("model-index",)

    def bad(where: tuple[Any, ...], message: str) -> None:
        findings.append(_f("model-index-invalid", f"{_dotted(where)}: {message}",
                           _line(card, where)))

    if not isinstance(index, list):
        bad(at, "must be a list of {name, results}")
        return
    for i, entry in enumerate(index):
        here = (*at, i)
        if not isinstance(entry, dict):
            bad(here, "must be a mapping with name and results")
            continue
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            bad(here, "needs a name (the model id)")
        results = entry.get("results")
        if not isinstance(results, list) or not results:
            bad((*here, "results") if "results" in entry else here,
                "needs a non-empty results list")
            continue
        for j, result in enumerate(results):
            _check_result(result, (*here, "results", j), bad)


def _check_result(result: Any, here: tuple[Any, ...], bad: Any) -> None:
    if not isinstance(result, dict):
        bad(here, "a result must be a mapping with task, dataset and metrics")
        return
    task = result.get("task")
    if not isinstance(task, dict) or not isinstance(task.get("type"), str):
        bad((*here, "task") if "task" in result else here,
            "task needs a type (e.g. text-generation)")
    dataset = result.get("dataset")
    if not isinstance(dataset, dict) or not all(
        isinstance(dataset.get(k), str) and dataset.get(k) for k in ("type", "name")
    ):
        bad((*here, "dataset") if "dataset" in result else here, "dataset needs a type and a name")
    metrics = result.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        bad((*here, "metrics") if "metrics" in result else here, "needs a non-empty metrics list")
        return
    for k, metric in enumerate(metrics):
        where = (*here, "metrics", k)
        if not isinstance(metric, dict) or not isinstance(metric.get("type"), str):
            bad(where, "a metric needs a type")
        elif "value" not in metric or isinstance(metric["value"], (dict, list, bool)) \
                or metric["value"] is None:
            bad(where, f"metric {metric['type']!r} needs a value (a number or a string)")


def _check_sections(card: _Card, kind: str, findings: list[Finding]) -> None:
    found: dict[str, tuple[str, int, str]] = {}
    for title, line, text in card.sections:
        spec = match_section(title, kind)
        if spec and spec.key not in found:
            found[spec.key] = (title, line, text)
        elif spec:  # a second section of the same kind: content in either counts
            t, first_line, first = found[spec.key]
            found[spec.key] = (t, first_line, f"{first}\n{text}")
    for spec in sections_for(kind):
        if not spec.required:
            continue
        if spec.key not in found:
            findings.append(_f("section-missing", f"no '## {spec.title}' section: a MOF Class III "
                               f"{kind} card needs {spec.what}", None))
        elif not has_content(found[spec.key][2]):
            title, line, _ = found[spec.key]
            how = f"; declare `{spec.declare}` in attest.yaml" if spec.declare else ""
            findings.append(_f("section-empty", f"section '{title}' says nothing: a MOF Class "
                               f"III {kind} card needs {spec.what}{how}", line))


# -- against the artifact -------------------------------------------------------------------------


def _check_subject(card: _Card, kind: str, facts: ModelFacts, path: str,
                   findings: list[Finding]) -> None:
    fm = card.front_matter or {}
    artifact_datasets = [d.name for d in unique_datasets(facts.datasets)]
    if kind == "model":
        _check_subject_license(fm, card, facts.license, "the artifact's", findings)
        _compare_list(fm, card, "datasets", artifact_datasets, "dataset-mismatch", findings)
        _compare_list(fm, card, "base_model", facts.base_models, "base-model-mismatch", findings)
    else:
        licenses = sorted({d.license for d in unique_datasets(facts.datasets) if d.license})
        _check_subject_license(fm, card, " AND ".join(licenses) or None,
                               "the artifact's datasets'", findings)
        _compare_list(fm, card, "source_datasets", artifact_datasets, "dataset-mismatch",
                      findings)
    if card.file_rows:
        _check_files(card, facts, kind, path, findings)


def _check_subject_license(fm: dict[str, Any], card: _Card, expected: str | None, whose: str,
                           findings: list[Finding]) -> None:
    if "license" not in fm or expected is None:
        return
    match = card_license(fm)
    stated = match.spdx_id or match.name
    if stated and not same_license(stated, expected):
        findings.append(_f("license-mismatch", f"card licence {stated} differs from {whose} "
                           f"licence {expected}", card.lines_of.get(("license",))))


def _compare_list(fm: dict[str, Any], card: _Card, key: str, expected: list[str], rule: str,
                  findings: list[Finding]) -> None:
    stated = [str(v) for v in _as_list(fm.get(key)) if isinstance(v, (str, int, float))]
    line = card.lines_of.get((key,))
    for i, value in enumerate(stated):
        if value not in expected:
            findings.append(_f(rule, f"{key} {value!r} is not one of the artifact's "
                               f"({', '.join(expected) or 'none'})",
                               card.lines_of.get((key, i)) or line))
    for value in expected:
        if value not in stated:
            level: Level = "warning" if rule == "dataset-mismatch" else "error"
            findings.append(Finding(rule, level, f"the artifact names {key} {value!r}; the "
                                    "card does not", line or 1))


def _check_files(card: _Card, facts: ModelFacts, kind: str, path: str,
                 findings: list[Finding]) -> None:
    # A model card lists every file; a data card the dataset files packed with the model.
    files = facts.files if kind == "model" else facts.files_with_role("dataset")
    actual = {f.path: f.sha256 for f in files}
    # The card cannot hold its own digest: the row of the card file itself is not compared.
    own = {path.replace("\\", "/").rsplit("/", 1)[-1]}
    if facts.card:
        own.add(facts.card.path)
    listed: set[str] = set()
    for file_path, digest, line in card.file_rows:
        listed.add(file_path)
        if file_path not in actual:
            findings.append(_f("file-mismatch", f"the card lists {file_path!r}, which the "
                               "artifact does not have", line))
        elif digest != actual[file_path] and file_path not in own:
            findings.append(_f("file-mismatch", f"{file_path}: the card says {digest}, the "
                               f"artifact has {actual[file_path]}", line))
    first = card.file_rows[0][2]
    for file_path in sorted(set(actual) - listed):
        findings.append(_f("file-mismatch", f"the artifact has {file_path!r}, which the card's "
                           "file table does not list", first))


# -- helpers --------------------------------------------------------------------------------------


def _f(rule: str, message: str, line: int | None) -> Finding:
    return Finding(rule, RULES[rule].level, message, line)


def _line(card: _Card, at: tuple[Any, ...]) -> int | None:
    key = tuple(at)
    while key and key not in card.lines_of:
        key = key[:-1]
    return card.lines_of.get(key)


def _dotted(at: tuple[Any, ...]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else str(k))
                   for i, k in enumerate(at))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _str_or_str_list(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def same_license(a: str, b: str) -> bool:
    """True when two licence expressions are the same (order of AND/OR terms aside)."""
    if a == b:
        return True
    pa, pb = parse_expression(a), parse_expression(b)
    return pa is not None and pb is not None and bool(pa.simplify() == pb.simplify())
