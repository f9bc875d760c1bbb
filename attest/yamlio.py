"""Reading YAML that users write: UTF-8 checked, errors naming ``file:line``, and the node tree
kept so that later checks can point at the line of an offending key."""

from __future__ import annotations

from typing import Any

import yaml

from attest.errors import InputError


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
