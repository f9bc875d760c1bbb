"""No module in the package is over 450 lines (issue 12's measure): a newcomer reads one whole."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "attest"
MAX_LINES = 450


def too_long(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    counts = {str(p.relative_to(root)): len(p.read_text().splitlines()) for p in root.rglob("*.py")}
    return {name: n for name, n in counts.items() if n > limit}


def test_no_module_over_450_lines() -> None:
    assert too_long(PACKAGE) == {}


def test_the_measure_can_fail(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "ok.py").write_text("x = 1\n" * MAX_LINES)
    assert too_long(tmp_path) == {"big.py": MAX_LINES + 1}

