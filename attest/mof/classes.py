"""The MOF class names: the one table (the framework numbers its classes 1-3, people and the
CNCF profile write them I-III)."""

from __future__ import annotations

ROMAN: dict[int, str] = {3: "III", 2: "II", 1: "I"}


def roman(mof_class: object) -> str | None:
    """``"I"``-``"III"`` for a class number, None for anything else (unclassified, hostile)."""
    if isinstance(mof_class, int) and not isinstance(mof_class, bool):
        return ROMAN.get(mof_class)
    return None
