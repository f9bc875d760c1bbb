"""Reading YAML that users write: UTF-8 checked, errors naming ``file:line``, and the node tree
kept so that later checks can point at the line of an offending key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from attest.errors import InputError


def read_user_file(path: str | Path, what: str, max_size: int = 1024 * 1024) -> bytes:
    """The bytes of a small file a user wrote (attest.yaml, a MOT YAML), size-capped so a
    wrong path to a huge file fails at once instead of filling memory."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    if len(data) > max_size:
        raise InputError(f"{p} is {len(data)} bytes; {what} is at most {max_size}")
    return data


def load_yaml(data: bytes | str, source: str) -> tuple[yaml.Node | None, Any]:
    """``(node tree, parsed value)`` of YAML text; InputError naming ``source``[:line]."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InputError(f"{source} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        obj = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise InputError(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from None
    return node, obj


Lines = dict[tuple[Any, ...], int]


def dotted(at: tuple[Any, ...]) -> str:
    """A JSON path as people read it: ``release.components[2].name``."""
    return "".join(
        f"[{k}]" if isinstance(k, int) else (f".{k}" if i else str(k)) for i, k in enumerate(at)
    )


def key_lines(node: yaml.Node | None, source: str) -> Lines:
    """JSON path -> 1-based line of every key and item, so a later check can name the line.

    Refuses duplicate keys (YAML keeps the last silently) and a mapping or list reached twice
    (an alias): no file attest reads needs one, and a recursive or exponential alias would
    hang everything that walks the document.
    """
    out: Lines = {}
    _walk(node, (), out, source, set())
    return out


def _walk(node: yaml.Node | None, at: tuple[Any, ...], out: Lines, source: str,
          seen: set[int]) -> None:  # fmt: skip
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if id(node) in seen:
            raise InputError(
                f"{source}:{node.start_mark.line + 1}: {dotted(at) or 'document'}: YAML "
                "aliases of mappings or lists are not accepted; write the value out"
            )
        seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in keys:
                raise InputError(
                    f"{source}:{line}: key {dotted((*at, key))!r} appears twice "
                    f"(first on line {keys[key]})"
                )
            keys[key] = line
            out[(*at, key)] = line
            _walk(value_node, (*at, key), out, source, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*at, i)] = item.start_mark.line + 1
            _walk(item, (*at, i), out, source, seen)
