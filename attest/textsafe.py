"""One way to print a string that came from outside (an annotation, a file name, a predicate
type, a certificate identity) in text output: control characters escaped.

Text output is read by people and grepped by scripts; a newline, a carriage return or an ANSI
escape in an annotation would let whoever can push a referrer draw lines of their own ("✓ …
keyless"), overwrite the line before, or recolour the terminal. Bidirectional overrides and
other invisible format characters are escaped too, so that what is shown is what is there.
JSON output needs none of this: the encoder escapes.
"""

from __future__ import annotations

import logging
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0/C1 controls and DEL (Cc), format characters such as bidi overrides and zero-width
# joiners (Cf), the line and paragraph separators (Zl, Zp), unassigned and surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def printable(value: object) -> str:
    """``value`` as text that cannot start a new line or steer the terminal."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case, fast (isprintable also rejects " " separators)
        return text
    out = []
    for ch in text:
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif ch == " " or unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")  # fmt: skip
    return "".join(out)


class PrintableFormatter(logging.Formatter):
    """Log lines on stderr quote names and values from outside too: one line per record."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = printable(record.message)
        return super().formatMessage(record)
