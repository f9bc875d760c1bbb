"""A card (README with YAML front matter) parsed with 1-based line numbers, for the linter.

Front matter keys keep the line they sit on (duplicates are reported as they are met), the body is
cut into H1/H2 sections the way the renderer reads it, and attest's file table rows are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from attest import yamlio
from attest.facts.card import heading, jsonable
from attest.lint.card_rules import Finding
from attest.lint.card_rules import finding as _f

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# A row of attest's file table: | `path` | role | size | `sha256:...` |
_FILE_ROW = re.compile(
    r"^\|\s*(`+)\s?(?P<path>.+?)\s?\1\s*\|.*?`(?P<digest>sha256:[0-9a-f]{64})`\s*\|\s*$"
)


@dataclass
class Card:
    front_matter: dict[str, Any] | None = None  # None: absent or unreadable
    fm_present: bool = False
    lines_of: dict[tuple[Any, ...], int] = field(default_factory=dict)  # key path -> line
    body_start: int = 1
    title_line: int | None = None
    sections: list[tuple[str, int, str]] = field(default_factory=list)  # (H2 title, line, text)
    file_rows: list[tuple[str, str, int]] = field(default_factory=list)  # (path, digest, line)


def parse(text: str, findings: list[Finding]) -> Card:
    card = Card()
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


def _front_matter(raw: str, card: Card, findings: list[Finding]) -> dict[str, Any] | None:
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
                findings.append(_f("duplicate-key", f"key {dotted((*at, key))!r} appears twice "
                                   f"(first on line {seen[key]}); YAML keeps the last", line))
            seen[key] = line
            out.setdefault((*at, key), line)
            _node_lines(value_node, (*at, key), out, findings)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*at, i)] = item.start_mark.line + 2
            _node_lines(item, (*at, i), out, findings)


def _body(lines: list[str], card: Card) -> None:
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



def line_of(card: Card, at: tuple[Any, ...]) -> int | None:
    """The card line of the front matter key path ``at`` (or of its nearest parent)."""
    key = tuple(at)
    while key and key not in card.lines_of:
        key = key[:-1]
    return card.lines_of.get(key)


def dotted(at: tuple[Any, ...]) -> str:
    """A key path as it is written: ``model-index[0].results``."""
    return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else str(k))
                   for i, k in enumerate(at))
