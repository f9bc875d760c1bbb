"""Licences as the MOT judges them: known, open, appropriate for a content type.

The rule is the MOT's (``mof/licenses/open.yaml`` explains it): an id is open when it is
OSI-approved or FSF-libre on the SPDX list the MOT ships, on its open-data list, or OpenMDW-1.0.
Matching is exact. :func:`mot_license` turns what attest reads from a model (an SPDX expression,
a ``LicenseRef-``) into the single id a MOT YAML can hold, choosing the way a careful reader
would, and says what it chose.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from license_expression import LicenseExpression, LicenseSymbol, LicenseWithExceptionSymbol

from attest.facts.licenses import parse_expression

# "unlicensed" in a MOT YAML: the component is included but has no licence (and no fallback).
UNLICENSED = "unlicensed"
# SPDX 2.3 annex D: a LicenseRef idstring. The MOT counts any of them as not open.
_LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")


@dataclass(frozen=True)
class LicenseInfo:
    """One licence id the MOT knows."""

    id: str
    name: str
    osi: bool = False
    fsf: bool = False
    deprecated: bool = False


@dataclass(frozen=True)
class LicenseCatalog:
    """Every licence id the MOT knows, its open-data list and the MOF's per-type sets."""

    known: Mapping[str, LicenseInfo]
    open_data: frozenset[str]
    always_open: frozenset[str]
    by_type: Mapping[str, frozenset[str]]  # content type -> appropriate ids
    list_version: str = ""
    _folded: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        folded = {lid.lower(): lid for lid in self.all_ids()}
        object.__setattr__(self, "_folded", folded)

    def all_ids(self) -> set[str]:
        return set(self.known) | set(self.open_data) | set(self.always_open)

    def is_known(self, lid: str) -> bool:
        """An id the MOT could be given: on a list, or a LicenseRef (known to be not open)."""
        return (
            lid in self.known
            or lid in self.open_data
            or lid in self.always_open
            or (is_license_ref(lid))
        )

    def is_open(self, lid: str | None) -> bool:
        if not lid:
            return False
        info = self.known.get(lid)
        return (
            (info is not None and (info.osi or info.fsf))
            or lid in self.open_data
            or lid in self.always_open
        )

    def is_appropriate(self, lid: str, content_type: str) -> bool:
        return lid in self.by_type.get(content_type, frozenset())

    def suggest(self, text: str) -> list[str]:
        """Ids the user may have meant: the same id in other letter case, then close spellings."""
        exact = self._folded.get(text.strip().lower())
        if exact:
            return [exact]
        squashed = re.sub(r"[\s_]+", "-", text.strip()).lower()
        if squashed in self._folded:
            return [self._folded[squashed]]
        longer = sorted((k for k in self._folded if k.startswith(squashed + "-")), key=len)
        close = difflib.get_close_matches(squashed, list(self._folded), n=3, cutoff=0.75)
        return [self._folded[c] for c in dict.fromkeys([*longer[:2], *close])][:3]

    def check_id(self, value: str) -> str | None:
        """None when ``value`` is a licence a MOT YAML may hold, else why it is not."""
        if value == UNLICENSED or self.is_known(value):
            return None
        if is_expression(value):
            return (
                f"{value!r} is an SPDX expression; a MOF configuration holds one licence id per "
                "component (the MOT counts an expression as not open): name the licence the "
                "component is released under"
            )
        hint = self.suggest(value)
        if value.lower() == UNLICENSED:
            hint = [UNLICENSED]
        also = f"; did you mean {' or '.join(repr(h) for h in hint)}?" if hint else ""
        return (
            f"{value!r} is not a licence id the MOT knows (SPDX list {self.list_version}, its "
            f"open-data list, OpenMDW-1.0), nor 'unlicensed', nor a LicenseRef-<name>{also}"
        )


def is_license_ref(value: str) -> bool:
    return bool(_LICENSE_REF.match(value))


def is_expression(value: str) -> bool:
    """More than one id: ``A OR B``, ``A WITH exception``, ``(A)`` is still one."""
    parsed = parse_expression(value, spdx=False)
    return parsed is not None and not isinstance(parsed, LicenseSymbol)


# -- from what attest reads to what a MOT YAML can hold -----------------------------------------


@dataclass(frozen=True)
class MotLicense:
    """The single id a MOT YAML gets for a licence attest found, and why, when it had to choose."""

    id: str | None
    note: str | None = None


def mot_license(expression: str | None, catalog: LicenseCatalog) -> MotLicense:
    """Reduce an SPDX expression to one id, keeping what matters: is the component open?

    ``A OR B``: the recipient may pick either, so the first open choice stands for it.
    ``A AND B``: both apply, so it is open only when every part is; then the first part stands
    for it, else the first part that is not open. ``A WITH exception``: an exception only adds
    permissions, so ``A``. A valid SPDX id missing from the MOT's (older) list is written as a
    ``LicenseRef-`` so that the MOT YAML stays loadable; the MOT would not count it open either.
    """
    if expression is None or not expression.strip():
        return MotLicense(None)
    text = expression.strip()
    parsed = parse_expression(text, spdx=False)  # ids as written: the MOT matches exactly
    if parsed is None:
        return MotLicense(_as_known(text, catalog), f"could not parse {text!r} as SPDX")
    tree = _tree(parsed)
    chosen = _reduce(tree, catalog)
    known = _as_known(chosen, catalog)
    if known == text:
        return MotLicense(known)
    why = "an OR lets the recipient choose" if _has_or(tree) else "reduced"
    if known != chosen:
        why = f"{chosen!r} is not on the MOT's licence list"
    return MotLicense(known, f"{text!r} scored as {known!r} ({why})")


def _as_known(lid: str, catalog: LicenseCatalog) -> str:
    if catalog.is_known(lid):
        return lid
    if lid.endswith("+") and catalog.is_known(lid[:-1]):
        return lid[:-1]  # "X+" (X or later) is open when X is
    fixed = catalog.suggest(lid)
    if fixed and fixed[0].lower() == lid.lower():
        return fixed[0]
    return "LicenseRef-" + re.sub(r"[^A-Za-z0-9.\-]+", "-", lid).strip("-")


Tree = str | tuple[str, list["Tree"]]


def _tree(parsed: LicenseExpression) -> Tree:
    """license-expression's tree as (operator, parts), ids as leaves."""
    if isinstance(parsed, LicenseWithExceptionSymbol):
        return ("WITH", [parsed.license_symbol.key, parsed.exception_symbol.key])
    if isinstance(parsed, LicenseSymbol):
        return str(parsed.key)
    return (str(parsed.operator).strip().upper(), [_tree(arg) for arg in parsed.args])


def _has_or(tree: Tree) -> bool:
    return not isinstance(tree, str) and (tree[0] == "OR" or any(_has_or(t) for t in tree[1]))


def _reduce(tree: Tree, catalog: LicenseCatalog) -> str:
    if isinstance(tree, str):
        return tree
    op, parts = tree
    ids = [_reduce(p, catalog) for p in parts]
    if op == "WITH":
        return ids[0]
    if op == "OR":
        return next((i for i in ids if catalog.is_open(i)), ids[0])
    return next((i for i in ids if not catalog.is_open(i)), ids[0])  # AND


def combine(parts: Iterable[str | None], catalog: LicenseCatalog) -> tuple[str | None, str | None]:
    """One licence for a component made of several parts (files, datasets) and a note.

    A component is only as open as its least open part: a part that is not open decides;
    then a part with no licence (the component is unlicensed); else all are open and the first
    stands for them.
    """
    ids = list(dict.fromkeys(parts))
    if not ids:
        return None, None
    named = ", ".join(i or UNLICENSED for i in ids)
    closed = [i for i in ids if i is not None and not catalog.is_open(i)]
    if closed:
        return closed[0], (
            f"parts under {named}; {closed[0]!r} is not open" if len(ids) > 1 else None
        )
    if None in ids:
        return None, (f"parts under {named}: some have no licence" if len(ids) > 1 else None)
    return ids[0], (f"parts under {named}, every one open" if len(ids) > 1 else None)
