"""Licences: recognise a LICENSE text, read SPDX headers, normalise SPDX ids from cards.

Three pure functions over text, each refusing to guess:

- :func:`detect_license_text` recognises the full text (or the title, for model licences that
  are only ever distributed whole) of well-known licences by markers on normalised text. A text
  it does not recognise gets ``spdx_id=None`` and its first line as the name.
- :func:`spdx_header` reads an ``SPDX-License-Identifier:`` line from the head of a code file.
- :func:`normalize_license` turns what a card or ``attest.yaml`` says into an SPDX expression:
  ``apache-2.0`` (Hugging Face spells ids in lower case) becomes ``Apache-2.0``.

Model licences that are not on the SPDX list (Hugging Face ids ``openrail``, ``llama3``,
``gemma``...) become ``LicenseRef-<id>`` (table :data:`HF_LICENSE_REFS`), with the literal id kept
as the name. A ``LicenseRef-`` is valid SPDX syntax, so every licence attest reports is one
expression that CycloneDX and SPDX writers accept, and the name says which licence it is.
Anything else unrecognised is reported as a name with no SPDX id, never coerced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from license_expression import (
    ExpressionError,
    LicenseExpression,
    LicenseSymbol,
    Licensing,
    get_spdx_licensing,
)

# Hugging Face licence ids (hub docs, "Licenses") that are not SPDX ids -> LicenseRef.
# idstring allows only letters, digits, "." and "-", so "openrail++" needs its own spelling.
HF_LICENSE_REFS = {
    "openrail": "LicenseRef-openrail",
    "openrail++": "LicenseRef-openrail-plusplus",
    "creativeml-openrail-m": "LicenseRef-creativeml-openrail-m",
    "bigscience-openrail-m": "LicenseRef-bigscience-openrail-m",
    "bigscience-bloom-rail-1.0": "LicenseRef-bigscience-bloom-rail-1.0",
    "bigcode-openrail-m": "LicenseRef-bigcode-openrail-m",
    "llama2": "LicenseRef-llama2",
    "llama3": "LicenseRef-llama3",
    "llama3.1": "LicenseRef-llama3.1",
    "llama3.2": "LicenseRef-llama3.2",
    "llama3.3": "LicenseRef-llama3.3",
    "llama4": "LicenseRef-llama4",
    "gemma": "LicenseRef-gemma",
    "deepfloyd-if-license": "LicenseRef-deepfloyd-if-license",
    "apple-ascl": "LicenseRef-apple-ascl",
    "apple-amlr": "LicenseRef-apple-amlr",
    "intel-research": "LicenseRef-intel-research",
    "h-research": "LicenseRef-h-research",
    "fair-noncommercial-research-license": "LicenseRef-fair-noncommercial-research-license",
    "cc-by-nc-sa-3.0-igo": "LicenseRef-cc-by-nc-sa-3.0-igo",
}

# How much of a code file to scan for an SPDX header (REUSE puts it in the first lines).
SPDX_HEADER_BYTES = 2048
_SPDX_HEADER = re.compile(r"SPDX-License-Identifier:\s*([^\n\r]*)")
# A LicenseRef/DocumentRef id (SPDX 2.3 annex D idstring).
_LICENSE_REF = re.compile(r"^(?:DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$", re.I)
# Comment closers that may trail an SPDX header on the same line.
_TRAILERS = ("*/", "-->", "#}", "--}}", "*)")


@dataclass(frozen=True)
class LicenseMatch:
    """What one piece of text says about its licence."""

    spdx_id: str | None  # SPDX id or expression (LicenseRef- included), None if unrecognised
    name: str | None  # the literal text when it is not an SPDX id (an HF id, a first line)


# -- SPDX ids and expressions -------------------------------------------------------------------


# Longest expression parsed: a licence is a few ids; a README can hold anything.
MAX_EXPRESSION_CHARS = 4096


@cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


@cache
def _syntax() -> Licensing:
    return Licensing()  # no known symbols: ids stay exactly as written


def parse_expression(text: str, *, spdx: bool = True) -> LicenseExpression | None:
    """The one SPDX licence expression parser of attest (``license-expression``, with its SPDX
    licence index when ``spdx``; without it every id stays exactly as written).

    None when ``text`` is no expression: bad syntax, longer than :data:`MAX_EXPRESSION_CHARS`,
    or an id with a space in it (an SPDX idstring has none: ``Apache 2.0`` is a name, not an id).
    Ids are not checked against the list (``validate=False``): ``LicenseRef-x`` parses.
    """
    if not text.strip() or len(text) > MAX_EXPRESSION_CHARS:
        return None
    licensing = _licensing() if spdx else _syntax()
    try:
        parsed = licensing.parse(text, validate=False)
    except (ExpressionError, RecursionError):
        return None
    if parsed is None:
        return None
    keys = [s.key for s in licensing.license_symbols(parsed, unique=True, decompose=True)]
    if any(not key or any(c.isspace() for c in key) for key in keys):
        return None
    return parsed


def expression_ids(parsed: LicenseExpression, *, spdx: bool = True) -> list[str]:
    """The licence and exception ids of a parsed expression, each once, in order."""
    licensing = _licensing() if spdx else _syntax()
    return [s.key for s in licensing.license_symbols(parsed, unique=True, decompose=True)]


def is_spdx_expression(expression: str) -> bool:
    """A valid SPDX expression: every id on the SPDX list or a ``LicenseRef-``, exceptions
    only after ``WITH``."""
    parsed = parse_expression(expression)
    if parsed is None:
        return False
    # LicenseRef-s are valid syntax but unknown to the licence list: validate without them.
    refs = {s: LicenseSymbol("MIT") for s in _licensing().license_symbols(parsed, decompose=True)
            if _LICENSE_REF.match(s.key)}  # fmt: skip
    probe = parsed.subs(refs) if refs else parsed
    return not _licensing().validate(str(probe)).errors


def license_refs(expression: str | None) -> list[str]:
    """The ``LicenseRef-`` ids an expression uses (a ``DocumentRef-``'s included), sorted."""
    parsed = parse_expression(expression or "")
    if parsed is None:
        return []
    keys = (key.rpartition(":")[2] for key in expression_ids(parsed))
    return sorted({key for key in keys if _LICENSE_REF.match(key)})


def normalize_license(text: str) -> LicenseMatch:
    """An SPDX id/expression from a card or declaration, normalised; see the module doc.

    ``apache-2.0`` -> ``Apache-2.0``; ``mit OR llama3`` -> ``MIT OR LicenseRef-llama3``;
    ``Apache 2.0`` (not an id) -> no SPDX id, name kept.
    """
    literal = text.strip()
    if not literal:
        return LicenseMatch(None, None)
    ref = HF_LICENSE_REFS.get(literal.lower())
    if ref:
        return LicenseMatch(ref, literal)
    licensing = _licensing()
    parsed = parse_expression(literal)
    if parsed is None:
        return LicenseMatch(None, literal)
    subs: dict[LicenseSymbol, LicenseSymbol] = {}
    for symbol in licensing.license_symbols(parsed, unique=True, decompose=True):
        key = symbol.key
        known = _known_key(key)
        if known is None:
            return LicenseMatch(None, literal)
        if known != key:
            subs[symbol] = LicenseSymbol(known)
    expression = parsed.subs(subs) if subs else parsed
    rendered = expression.render("{symbol.key}")
    # Keep the literal only when it had to be translated from a non-SPDX spelling.
    uses_ref = any(k.lower() in HF_LICENSE_REFS for k in expression_ids(parsed))
    return LicenseMatch(rendered, literal if uses_ref else None)


def _known_key(key: str) -> str | None:
    """The canonical spelling of one licence id, or None when it is no known id."""
    if key.lower() in HF_LICENSE_REFS:
        return HF_LICENSE_REFS[key.lower()]
    if _LICENSE_REF.match(key):
        return _canonical_ref(key)
    info = _licensing().validate(key)
    if info.errors or not info.normalized_expression:
        return None
    return info.normalized_expression


def _canonical_ref(key: str) -> str:
    """``licenseref-foo`` -> ``LicenseRef-foo`` (the prefix is case-sensitive in SPDX)."""
    doc, sep, ref = key.rpartition(":")
    ref = "LicenseRef-" + ref[len("LicenseRef-") :]
    if sep:
        doc = "DocumentRef-" + doc[len("DocumentRef-") :]
        return f"{doc}:{ref}"
    return ref


def spdx_header(head: str) -> str | None:
    """The expression of the first ``SPDX-License-Identifier:`` line in ``head``, normalised.

    Only the first :data:`SPDX_HEADER_BYTES` are meant to be passed. A header that is not a
    valid expression is returned as written (it is what the file says), stripped of comment
    closers.
    """
    m = _SPDX_HEADER.search(head)
    if not m:
        return None
    value = m.group(1).strip()
    for trailer in _TRAILERS:
        value = value.removesuffix(trailer).strip()
    value = value.strip("\"'")
    if not value:
        return None
    return normalize_license(value).spdx_id or value


# -- licence texts ------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """Lower case, punctuation to spaces (dots and plus signs kept), whitespace collapsed."""
    text = text.lower().replace("\u2019", "'").replace("\u00a0", " ")
    text = re.sub(r"[^a-z0-9.+]+", " ", text)
    text = re.sub(r"\.(?=\s|$)", " ", text)  # a sentence-final dot is not part of "2.0"
    return " ".join(text.split())


# Titles of licences matched only near the top of the text (model licences are distributed whole
# and their titles are distinctive). Order matters: the specific before the generic.
_TITLES: tuple[tuple[str, str], ...] = (
    (r"\bcreativeml open ?rail m\b", "LicenseRef-creativeml-openrail-m"),
    (r"\bbigscience open ?rail m\b", "LicenseRef-bigscience-openrail-m"),
    (r"\bbigscience rail license v ?1.0\b", "LicenseRef-bigscience-bloom-rail-1.0"),
    (r"\bbigcode open ?rail m\b", "LicenseRef-bigcode-openrail-m"),
    (r"\bopen ?rail ?\+\+ ?m\b", "LicenseRef-openrail-plusplus"),
    (r"\bopen ?rail ?[ams]\b|\bopen ?rail license\b", "LicenseRef-openrail"),
    (r"\bgemma terms of use\b", "LicenseRef-gemma"),
)
_LLAMA_TITLE = re.compile(r"\bllama (\d(?:\.\d)?) community license agreement\b")
_LLAMA_VERSIONS = {"2": "llama2", "3": "llama3", "3.1": "llama3.1", "3.2": "llama3.2"}
_LLAMA_VERSIONS |= {"3.3": "llama3.3", "4": "llama4"}
TITLE_WINDOW = 600  # normalised characters searched for a title

# Full-text markers: every marker of an entry must occur. Checked in order; an entry's
# ``excludes`` rules out texts of a related licence that share its markers.
_BSD_GRANT = (
    "redistribution and use in source and binary forms with or without modification are "
    "permitted provided that the following conditions are met"
)
_MIT_GRANT = "permission is hereby granted free of charge to any person obtaining a copy"
_MIT_NOTICE = "the above copyright notice and this permission notice shall be included"
_TEXT_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Apache-2.0",
        (
            "apache license",
            "version 2.0",
            "terms and conditions for use reproduction and distribution",
        ),
        (),
    ),
    ("Apache-2.0", ("licensed under the apache license version 2.0",), ()),
    ("MIT", (_MIT_GRANT, _MIT_NOTICE), ("except as contained in this notice the name",)),
    ("BSD-4-Clause", (_BSD_GRANT, "all advertising materials mentioning features"), ()),
    ("BSD-3-Clause", (_BSD_GRANT, "neither the name of"), ("all advertising materials",)),
    (
        "BSD-2-Clause",
        (_BSD_GRANT, "redistributions in binary form must reproduce"),
        ("neither the name of", "all advertising materials", "the name of the author may not"),
    ),
    ("AGPL-3.0-only", ("gnu affero general public license version 3 19 november 2007",), ()),
    ("LGPL-3.0-only", ("gnu lesser general public license version 3 29 june 2007",), ()),
    ("LGPL-2.1-only", ("gnu lesser general public license version 2.1 february 1999",), ()),
    ("LGPL-2.0-only", ("gnu library general public license version 2 june 1991",), ()),
    ("GPL-3.0-only", ("gnu general public license version 3 29 june 2007",), ()),
    ("GPL-2.0-only", ("gnu general public license version 2 june 1991",), ()),
    ("MPL-2.0", ("mozilla public license version 2.0",), ()),
    ("CC-BY-NC-ND-4.0", ("attribution noncommercial noderivatives 4.0 international",), ()),
    ("CC-BY-NC-SA-4.0", ("attribution noncommercial sharealike 4.0 international",), ()),
    ("CC-BY-NC-4.0", ("attribution noncommercial 4.0 international",), ()),
    ("CC-BY-ND-4.0", ("attribution noderivatives 4.0 international",), ()),
    ("CC-BY-SA-4.0", ("attribution sharealike 4.0 international",), ()),
    ("CC-BY-4.0", ("creative commons attribution 4.0 international public license",), ()),
    ("CC0-1.0", ("cc0 1.0 universal",), ()),
    ("Unlicense", ("this is free and unencumbered software released into the public domain",), ()),
)


def detect_license_text(text: str) -> LicenseMatch:
    """The licence of a LICENSE/COPYING text: an SPDX id (or ``A AND B`` when the file holds
    several recognised licences), else no id and the first line as the name.

    GPL/LGPL texts are reported ``-only``: the text alone never says "or any later version"
    (that choice lives in the notice), so attest does not assume the broader grant.
    """
    norm = normalize_text(text)
    head = norm[:TITLE_WINDOW]
    found: list[str] = []
    llama = _LLAMA_TITLE.search(head)
    if llama and llama.group(1) in _LLAMA_VERSIONS:
        found.append(HF_LICENSE_REFS[_LLAMA_VERSIONS[llama.group(1)]])
    for pattern, ref in _TITLES:
        if not found and re.search(pattern, head):
            found.append(ref)
            break
    for spdx_id, markers, excludes in _TEXT_RULES:
        if spdx_id in found:
            continue
        if all(m in norm for m in markers) and not any(x in norm for x in excludes):
            found.append(spdx_id)
    if not found:
        return LicenseMatch(None, first_line(text))
    ids = sorted(dict.fromkeys(found))
    # A LicenseRef alone does not say which licence it is to a reader: keep the title too.
    name = first_line(text) if any(i.startswith("LicenseRef-") for i in ids) else None
    return LicenseMatch(" AND ".join(ids), name)


def first_line(text: str, limit: int = 200) -> str | None:
    """The first non-blank line, stripped and cut to ``limit`` characters."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:limit]
    return None


def is_license_file(path: str) -> bool:
    """LICENSE, LICENCE, COPYING, with or without a suffix (LICENSE.txt, LICENSE-MIT)."""
    base = path.rsplit("/", 1)[-1].lower()
    return re.match(r"^(licen[cs]e|copying)([._\-].*)?$", base) is not None
