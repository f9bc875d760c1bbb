"""The one YAML reader: UTF-8 checked, errors naming ``file:line``, and the node tree kept so
that later checks can point at the line of an offending key.

Every YAML attest reads (attest.yaml, MOT YAML, README front matter, policy data, its own MOF
data) goes through :class:`GuardedLoader`: aliases are refused while parsing (a "billion laughs"
document is a few hundred bytes that expand to gigabytes in whatever walks the result), nesting
is bounded, and the text is size-capped. Nothing else in attest may call ``yaml.load``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from attest.errors import InputError


def read_user_file(path: str | Path, what: str, max_size: int = 1024 * 1024) -> bytes:
    """The bytes of a small file a user wrote (attest.yaml, a MOT YAML), size-capped so a
    wrong path to a huge file fails at once instead of filling memory."""
    from attest.oci import limits  # (attest.oci imports this module)

    p = Path(path)
    try:  # a FIFO or a device is refused, and nothing past the cap is read
        with limits.open_regular(p, str(p)) as f:
            data = f.read(max_size + 1)
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    if len(data) > max_size:
        raise InputError(f"{p} is larger than {max_size} bytes, the most {what} may be")
    return data


#: Deepest nesting of mappings and lists accepted (no file attest reads needs 10).
MAX_DEPTH = 64
#: Largest YAML text parsed (attest.yaml and MOT YAML have their own, smaller caps).
MAX_SIZE = 4 * 1024 * 1024


class RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that attest will not read (an alias, too deep, too big). A MarkedYAMLError, so
    every caller's existing error path names the line."""


class GuardedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses aliases and deep nesting while composing, before any
    value is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[Any] = []  # where we are, for messages: ("extra", 0)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # index is the key node of a mapping value, the position of a list item, None for a key
        part = index.value if isinstance(index, yaml.ScalarNode) else index
        self._path.append(part)
        try:
            if self.check_event(yaml.AliasEvent):
                raise self._refuse("YAML aliases are not accepted; write the value out")
            if len(self._path) > MAX_DEPTH:
                raise self._refuse(f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._path.pop()

    def _refuse(self, problem: str) -> RefusedYAML:
        at = dotted(tuple(p for p in self._path if p is not None))
        return RefusedYAML(
            problem=f"{at}: {problem}" if at else problem,
            problem_mark=self.peek_event().start_mark,
        )


def parse(text: str, max_size: int = MAX_SIZE) -> tuple[yaml.Node | None, Any]:
    """``(node tree, value)`` of one YAML document through :class:`GuardedLoader`.

    Raises ``yaml.YAMLError`` (``MarkedYAMLError`` with a line where there is one), so callers
    that report YAML errors their own way (card lint findings) keep doing so.
    """
    if len(text) > max_size:
        raise RefusedYAML(problem=f"YAML text is {len(text)} characters; at most {max_size}")
    fast = _parse_with_libyaml(text)
    if fast is not None:
        return fast
    loader = GuardedLoader(text)
    try:
        node = loader.get_single_node()
        obj = loader.construct_document(node) if node is not None else None
    except RecursionError:
        raise RefusedYAML(problem="YAML nested too deeply") from None
    finally:
        loader.dispose()
    return node, obj


_CLoader: Any = getattr(yaml, "CSafeLoader", None)


def _parse_with_libyaml(text: str) -> tuple[yaml.Node | None, Any] | None:
    """The same document read by libyaml (several times faster than PyYAML's own parser, which
    matters for the MOF licence catalog read on every run), or None to take the guarded Python
    path: when libyaml is missing, or the event stream holds an alias, nesting near the bound or
    an error -- there the Python loader raises the error with its path and line."""
    if _CLoader is None:
        return None
    depth = 0
    try:  # the events first: nothing is built before aliases and depth are known to be absent
        for event in yaml.parse(text, Loader=_CLoader):
            if isinstance(event, yaml.AliasEvent):
                return None
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth >= MAX_DEPTH:
                    return None
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        loader = _CLoader(text)
        try:
            node = loader.get_single_node()
            return node, (loader.construct_document(node) if node is not None else None)
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError):
        return None


def safe_load(text: str | bytes, max_size: int = MAX_SIZE) -> Any:
    """The value of one YAML document (see :func:`parse`); raises ``yaml.YAMLError``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    return parse(text, max_size)[1]


def load_yaml(data: bytes | str, source: str) -> tuple[yaml.Node | None, Any]:
    """``(node tree, parsed value)`` of YAML text; InputError naming ``source``[:line]."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InputError(f"{source} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        node, obj = parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        what = "" if isinstance(exc, RefusedYAML) else "not valid YAML: "
        raise InputError(f"{where}: {what}{exc.problem or exc.context}") from None
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
