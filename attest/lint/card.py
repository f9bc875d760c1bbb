"""Lint a model or data card (a README with YAML front matter): Hugging Face metadata
conventions, the sections a MOF Class III card needs, and agreement with the artifact.

Pure: text in, findings out. Every finding that has a place carries its 1-based line in the
card file. Rules and their default levels are in :data:`RULES` (docs/cards.md has the table);
renderers for text, JSON and SARIF are in :mod:`attest.lint.card_report`.
"""

from __future__ import annotations

import difflib
from typing import Any

from attest import yamlio
from attest.errors import InputError
from attest.facts.card import card_license
from attest.facts.licenses import parse_expression
from attest.facts.model import ModelFacts
from attest.lint.card_parse import Card, dotted, line_of, parse
from attest.lint.card_rules import LEVELS, Finding, Level
from attest.lint.card_rules import finding as _f
from attest.lint.card_spec import (
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
        card = parse(text, findings)
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


def _kind(card: Card) -> str:
    keys = set(card.front_matter or {})
    if keys & DATA_ONLY_KEYS and not keys & MODEL_ONLY_KEYS:
        return "data"
    data = sum(1 for t, _, _ in card.sections if match_section(t, "data"))
    model = sum(1 for t, _, _ in card.sections if match_section(t, "model"))
    return "data" if data > model else "model"


def _check_keys(fm: dict[str, Any], card: Card, kind: str, findings: list[Finding]) -> None:
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


def _check_license(fm: dict[str, Any], card: Card, findings: list[Finding]) -> None:
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


def _check_tasks(fm: dict[str, Any], card: Card, kind: str, findings: list[Finding]) -> None:
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


def _check_model_index(index: Any, card: Card, findings: list[Finding]) -> None:
    at: tuple[Any, ...] = ("model-index",)

    def bad(where: tuple[Any, ...], message: str) -> None:
        findings.append(_f("model-index-invalid", f"{dotted(where)}: {message}",
                           line_of(card, where)))

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


def _check_sections(card: Card, kind: str, findings: list[Finding]) -> None:
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


def _check_subject(card: Card, kind: str, facts: ModelFacts, path: str,
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


def _check_subject_license(fm: dict[str, Any], card: Card, expected: str | None, whose: str,
                           findings: list[Finding]) -> None:
    if "license" not in fm or expected is None:
        return
    match = card_license(fm)
    stated = match.spdx_id or match.name
    if stated and not same_license(stated, expected):
        findings.append(_f("license-mismatch", f"card licence {stated} differs from {whose} "
                           f"licence {expected}", card.lines_of.get(("license",))))


def _compare_list(fm: dict[str, Any], card: Card, key: str, expected: list[str], rule: str,
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


def _check_files(card: Card, facts: ModelFacts, kind: str, path: str,
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
