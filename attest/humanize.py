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
