"""``WWW-Authenticate`` challenges (RFC 7235 §4.1, RFC 9110 §11.6.1), parsed exactly.

A header holds one or more comma-separated challenges; each is a case-insensitive scheme followed
by either a token68 or a comma-separated list of ``name=value`` parameters whose value is a token
or a quoted string with backslash escapes. Commas separate both parameters and challenges, so a
``name=`` lookahead decides which one comes next. Registries send e.g.
``Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"``;
some send ``Bearer realm=https://auth.example/token`` unquoted, or a ``Basic`` challenge too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from attest.errors import RegistryError

MAX_HEADER = 16 * 1024  # far beyond any real challenge; a registry is not trusted input

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# qdtext (HTAB, SP, VCHAR but '"' and '\', obs-text) or a quoted-pair (backslash + one character)
_QUOTED = r'"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"'
_SCHEME = re.compile(_TOKEN)
_PARAM = re.compile(rf"({_TOKEN})[ \t]*=[ \t]*(?:({_TOKEN})|{_QUOTED})")
_PARAM_START = re.compile(rf"{_TOKEN}[ \t]*=")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))")
_UNESCAPE = re.compile(r"\\(.)", re.S)


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower-cased: schemes compare case-insensitively
    params: dict[str, str] = field(default_factory=dict)  # names lower-cased
    token68: str | None = None


def _fail(header: str, pos: int, what: str) -> RegistryError:
    shown = header[:200] + ("…" if len(header) > 200 else "")
    return RegistryError(f"malformed WWW-Authenticate header ({what} at offset {pos}): {shown!r}")


def _ows(header: str, pos: int) -> int:
    while pos < len(header) and header[pos] in " \t":
        pos += 1
    return pos


def _skip_list_separators(header: str, pos: int) -> int:
    """Skip OWS and empty list elements (``a, , b`` is allowed by the list rule)."""
    while True:
        pos = _ows(header, pos)
        if pos < len(header) and header[pos] == ",":
            pos += 1
            continue
        return pos


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in ``header``, in order; :class:`RegistryError` when it is malformed."""
    if len(header) > MAX_HEADER:
        raise RegistryError(f"WWW-Authenticate header of {len(header)} characters is too long")
    challenges: list[Challenge] = []
    pos = _skip_list_separators(header, 0)
    while pos < len(header):
        m = _SCHEME.match(header, pos)
        if not m:
            raise _fail(header, pos, "expected an auth scheme")
        scheme, pos = m.group().lower(), m.end()
        params: dict[str, str] = {}
        token68 = None
        after_space = _ows(header, pos)
        if after_space > pos and after_space < len(header) and header[after_space] != ",":
            pos = after_space
            # name=value wins over a token68 ending in '=' when a value follows (RFC 7235 §2.1)
            t68 = None if _PARAM.match(header, pos) else _TOKEN68.match(header, pos)
            if t68:
                token68, pos = t68.group(), t68.end()
            else:
                pos = _parse_params(header, pos, params)
        challenges.append(Challenge(scheme, params, token68))
        pos = _ows(header, pos)
        if pos < len(header) and header[pos] != ",":
            raise _fail(header, pos, "expected ',' between challenges")
        pos = _skip_list_separators(header, pos)
    if not challenges:
        raise _fail(header, 0, "no challenge")
    return challenges


def _parse_params(header: str, pos: int, params: dict[str, str]) -> int:
    """Read ``name=value`` pairs into ``params`` until the next challenge; return the offset."""
    while True:
        m = _PARAM.match(header, pos)
        if not m:
            raise _fail(header, pos, "expected name=value")
        name = m.group(1).lower()
        if name in params:  # RFC 7235 §2.1: each parameter name only once per challenge
            raise _fail(header, pos, f"parameter {name!r} repeated")
        value = m.group(2) if m.group(2) is not None else _UNESCAPE.sub(r"\1", m.group(3))
        params[name] = value
        pos = _ows(header, m.end())
        if pos >= len(header):
            return pos
        if header[pos] != ",":
            raise _fail(header, pos, "expected ','")
        nxt = _skip_list_separators(header, pos)
        if nxt >= len(header) or not _PARAM_START.match(header, nxt):
            return pos  # the comma ends this challenge; the caller reads the next one
        pos = nxt


def find(header: str, scheme: str) -> Challenge | None:
    """The first challenge of ``scheme`` (case-insensitive) in ``header``, or None."""
    wanted = scheme.lower()
    return next((c for c in parse_challenges(header) if c.scheme == wanted), None)
