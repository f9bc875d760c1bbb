"""The one-way house, lowest floor: nothing under attest/oci imports a layer above it.

Read with ``ast`` (no import, no subprocess): every ``import``/``from ... import`` in every module
of ``attest/oci``, including those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

OCI = Path(__file__).resolve().parent.parent / "attest" / "oci"
HIGHER = ("facts", "modelpack", "stages", "sign", "verify", "policy", "flows", "cli",
          "evidence", "lint", "mof", "admission", "report", "handoff")  # fmt: skip
FORBIDDEN = tuple(f"attest.{name}" for name in HIGHER)


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """``(line, module)`` of every import in ``source`` (a module of ``package``), relative
    ones resolved to absolute."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            # `from attest import facts` names the layer in the alias, not the module
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            found.append((node.lineno, base))
    return found


def higher_imports(source: str, name: str, package: str) -> list[str]:
    return [f"{name}:{line}: {module}"
            for line, module in imported_modules(source, package)
            if module.startswith(FORBIDDEN)
            and module[len("attest.") :].split(".")[0] in HIGHER]  # fmt: skip


def test_oci_imports_no_higher_layer() -> None:
    modules = sorted(OCI.rglob("*.py"))
    assert len(modules) > 10  # the scan saw the package (a moved tree would make it vacuous)
    root = OCI.parent.parent
    offending = [
        hit
        for path in modules
        for hit in higher_imports(
            path.read_text(encoding="utf-8"),
            str(path.relative_to(root)),
            ".".join(path.relative_to(root).parts[:-1]),
        )
    ]
    assert offending == [], "attest/oci must not import higher layers:\n" + "\n".join(offending)


@pytest.mark.parametrize(
    "source",
    [
        "from attest.facts.model import ModelFacts\n",
        "import attest.modelpack.read\n",
        "def f():\n    from attest.flows import run\n",
        "from attest import verify\n",
        "from ..sign import bundle\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from attest.cli import app\n",
    ],
)
def test_the_scan_sees_every_form_of_import(source: str) -> None:
    assert higher_imports(source, "probe.py", "attest.oci")


def test_the_scan_passes_lower_imports() -> None:
    allowed = "from attest.oci.store import Store\nfrom attest.errors import InputError\n" \
        "import attest.progress\nfrom attest import jsonio\nfrom . import limits\n" \
        "from .registry import auth\n"
    assert higher_imports(allowed, "probe.py", "attest.oci.registry") == []
