"""Untrusted text for terminal output: control characters escaped, so a value from an
annotation, a file name or a registry cannot draw its own line or move the cursor."""

from __future__ import annotations

import unicodedata


def safe(value: object) -> str:
    """``value`` as one printable line: C0/C1 controls, DEL, line/paragraph separators and
    bidirectional overrides become ``\\xNN``/``\\uNNNN`` escapes."""
    out = []
    for ch in str(value):
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
