"""The JSON output convention: camelCase keys (docs/json-output.md).

Every ``--format json`` output and every attest predicate spells its own keys in camelCase.
Keys that are data are never renamed: annotation keys, file paths, licence ids, the keys of a
document attest reproduces (config.json, card front matter, GGUF metadata, a ModelPack config)
and map keys chosen by users. :func:`camel_keys` turns a dataclass ``asdict()`` into that form,
leaving the values of the fields named in ``data`` as they are.
"""

from __future__ import annotations

from typing import Any


def camel(name: str) -> str:
    """``snake_case`` -> ``snakeCase``; a name without ``_`` is returned as it is."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(value: Any, data: frozenset[str] = frozenset()) -> Any:
    """``value`` with every dict key in camelCase, except below the keys named in ``data``
    (snake_case field names whose values are data: copied, never renamed)."""
    if isinstance(value, dict):
        return {camel(k): (v if k in data else camel_keys(v, data)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [camel_keys(v, data) for v in value]
    return value
