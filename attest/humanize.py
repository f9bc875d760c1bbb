"""Numbers for people: one way to print a size everywhere."""

from __future__ import annotations


def human_size(n: int) -> str:
    """``512 B``, ``4.2 KiB``, ``1.5 GiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """``4096``, ``64M``, ``2G``, ``1.5GiB``, ``10KB`` -> bytes (binary units), or ValueError."""
    s = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = s[-1:] if s[-1:] in _UNITS and s[-1:] else ""
    number = s[: len(s) - len(unit)].strip()
    value = float(number)  # ValueError for anything else
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{text!r} is not a size")
    return int(value * _UNITS[unit])
