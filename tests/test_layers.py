"""The layers of ARCHITECTURE.md's target layout, read from the source: an AST scan of every
``import`` in ``attest/`` (function-level and TYPE_CHECKING imports included), no subprocess.

Rules checked: what ``sign/``, ``policy/`` and ``stages/`` may not import; nobody but the CLI
imports ``attest.cli``; and the graph of top-level subpackages has no cycle except the edges
named in ``KNOWN_BACK_EDGES``, each with its reason (an entry that no longer exists fails too,
so the list only shrinks).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

from tests.helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "attest"

# Data leaves: modules importing nothing from attest, readable by every layer. Each is its own
# node in the package graph (the evidence table sits below stages; the attach module above).
LEAVES = {"attest.evidence.table"}

# Package edges that close a cycle today, and why; the test fails if one disappears (delete
# it here then) or if any other cycle appears. Empty: the package graph has no cycle.
KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = REPO_ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


@cache
def imports() -> dict[str, set[str]]:
    """Every attest module -> the attest modules it imports (a name imported from a package
    counts as the submodule when there is one)."""
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] == "attest")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] != "attest":
                    continue
                subs = {f"{node.module}.{a.name}" for a in node.names}
                modules = {s for s in subs if _is_module(s)}
                found.update(modules)
                if len(modules) < len(subs):  # some names are attributes of the module itself
                    found.add(node.module)
        out[_module_name(path)] = found
    return out


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def offenders(layer: str, banned: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        f"{src} imports {dst}"
        for src, targets in imports().items()
        if _under(src, layer)
        for dst in targets
        if any(_under(dst, b) for b in banned) and not any(_under(dst, a) for a in allowed)
    )


def node(module: str) -> str:
    """The graph node of a module: a leaf by itself, else its top-level subpackage."""
    if module in LEAVES:
        return module
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "attest"


def package_graph() -> dict[str, dict[str, list[str]]]:
    """node -> node -> the module imports making that edge."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for src, targets in imports().items():
        for dst in targets:
            a, b = node(src), node(dst)
            if a != b and b != "attest":  # `from attest import __version__` is the root
                graph[a][b].append(f"{src} -> {dst}")
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return [*stack[stack.index(w):], w]
            if w not in state and (found := visit(w)):
                return found
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_the_scan_sees_the_package() -> None:
    found = imports()
    assert "attest.evidence.attach" in found and "attest.flows.run" in found
    assert "attest.oci.referrers" in found["attest.evidence.attach"]
    assert "attest.sign.signer" in found["attest.flows.publish"]


def test_sign_turns_statements_into_bundles_and_nothing_else() -> None:
    banned = ("attest.oci.referrers", "attest.evidence", "attest.stages", "attest.flows",
              "attest.publish", "attest.verify", "attest.cli")  # fmt: skip
    assert offenders("attest.sign", banned, allowed=tuple(LEAVES)) == []


def test_policy_touches_no_registry_no_key_no_evidence() -> None:
    banned = ("attest.oci", "attest.sign", "attest.evidence", "attest.flows", "attest.verify",
              "attest.stages", "attest.cli")  # fmt: skip
    assert offenders("attest.policy", banned) == []
    crypto = sorted(
        f"{path.name} imports {name}"
        for path in (PACKAGE / "policy").rglob("*.py")
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for name in (
            [a.name for a in n.names] if isinstance(n, ast.Import)
            else [n.module or ""] if isinstance(n, ast.ImportFrom) else []
        )
        if name.split(".")[0] in {"cryptography", "sigstore", "oras"}  # (the OPA server is HTTP)
    )  # fmt: skip
    assert crypto == []


def test_stages_are_pure() -> None:
    banned = ("attest.oci.registry", "attest.oci.layout", "attest.oci.stores",
              "attest.oci.referrers", "attest.sign", "attest.evidence", "attest.flows",
              "attest.verify", "attest.cli")  # fmt: skip
    assert offenders("attest.stages", banned, allowed=tuple(LEAVES)) == []


def test_leaves_import_nothing_above_media_types() -> None:
    for leaf in LEAVES:
        assert imports()[leaf] <= {"attest.oci.mediatypes"}, leaf


def test_only_the_cli_imports_the_cli() -> None:
    outside = sorted(
        f"{src} imports {dst}"
        for src, targets in imports().items()
        if not _under(src, "attest.cli") and src != "attest.__main__"
        for dst in targets
        if _under(dst, "attest.cli")
    )
    assert outside == []


def test_no_import_cycles_between_packages() -> None:
    graph = package_graph()
    stale = [edge for edge in KNOWN_BACK_EDGES if edge[1] not in graph.get(edge[0], {})]
    assert stale == [], f"no longer imported, drop from KNOWN_BACK_EDGES: {stale}"
    edges = {a: {b for b in targets if (a, b) not in KNOWN_BACK_EDGES}
             for a, targets in graph.items()}  # fmt: skip
    cycle = find_cycle(edges)
    if cycle:
        detail = "; ".join(
            f"{a}->{b} via {', '.join(sorted(graph[a][b])[:3])}"
            for a, b in zip(cycle, cycle[1:], strict=False)
        )
        raise AssertionError(f"import cycle {' -> '.join(cycle)}: {detail}")


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
