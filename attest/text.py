"""Untrusted text for terminal output — the one helper every text output uses.

A value from outside (an annotation, a file name, a predicate type, a certificate identity, a
registry's answer, a README) is printed through :func:`safe`: control characters escaped, so it
cannot draw a line of its own ("✓ … keyless"), overwrite the line before, move the cursor or
recolour the terminal. Bidirectional overrides and other invisible format characters are
escaped too, so that what is shown is what is there; a backslash is doubled, so an escape in
the output always means an escape. JSON output needs none of this: the encoder escapes.
"""

from __future__ import annotations

import logging
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
# C0/C1 controls and DEL (Cc), format characters such as bidi overrides and zero-width
# joiners (Cf), the line and paragraph separators (Zl, Zp), surrogates, private use, unassigned.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def safe(value: object) -> str:
    """``value`` as text on one line that cannot steer the terminal."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text:  # the common case, fast
        return text
    out = []
    for ch in text:
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
            out.append(ch)  # printable, including spaces other than " " (Zs)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")  # fmt: skip
    return "".join(out)


class SafeFormatter(logging.Formatter):
    """Log lines on stderr quote names and values from outside too: one line per record."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = safe(record.message)
        return super().formatMessage(record)
