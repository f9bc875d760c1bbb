"""The one guarded JSON reader for documents from outside (manifests, configs, model headers).

Python's parser turns 100k nested brackets into a RecursionError (a traceback, exit 3) and lets
a 1,000-deep document through to code that recurses over it again (schema validation, rendering).
Here nesting is bounded (:data:`MAX_DEPTH`), NaN/Infinity are refused (not JSON) and every
failure is an InputError naming the document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from attest.errors import InputError

#: Deepest nesting of arrays and objects accepted. OCI manifests, ModelPack configs, Hugging
#: Face configs and weight headers need fewer than 10 levels.
MAX_DEPTH = 64


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(
    data: bytes | str,
    what: str,
    *,
    max_depth: int = MAX_DEPTH,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_constant: Callable[[str], Any] = _no_constant,
) -> Any:
    """Parse JSON text ``data``; InputError naming ``what`` for anything not plain, bounded JSON."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as e:
        raise InputError(f"{what} is not UTF-8 text: {e.reason} at byte {e.start}") from None
    # A cheap pre-check before the parser recurses: JSON cannot nest deeper than it has
    # opening brackets, so only a text with many of them is scanned for its depth.
    if text.count("[") + text.count("{") > max_depth:
        _check_depth(text, max_depth, what)
    try:
        return json.loads(text, parse_constant=parse_constant, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise InputError(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{what}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    except ValueError as e:  # NaN, and whatever object_pairs_hook refuses
        raise InputError(f"{what} is not valid JSON: {e}") from None


def loads_object(data: bytes | str, what: str, **kw: Any) -> dict[str, Any]:
    """:func:`loads`, and the document must be a JSON object."""
    obj = loads(data, what, **kw)
    if not isinstance(obj, dict):
        raise InputError(f"{what} is not a JSON object")
    return obj


_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _check_depth(text: str, max_depth: int, what: str) -> None:
    """Refuse ``text`` if its arrays/objects nest deeper than ``max_depth``.

    Escapes, then strings, then everything but brackets are cut out (each a C-speed regex pass),
    so only the brackets are walked in Python.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    depth = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                raise InputError(f"{what} nests deeper than {max_depth} levels; refusing it")
        else:
            depth -= 1
