"""Is the evidence a repository commits still about the model files beside it?

A model repository may commit its SBOM and cards (conventionally under ``.attest/``, which
packing skips as it skips every hidden path). They go stale the moment a weight, a config or
the README changes. This checker answers "still fresh?" from the model's facts alone: file
digests (through the digest cache, so an unchanged tree is not hashed again) and file headers,
never whole weights.

- An SBOM (CycloneDX, SPDX 2.3 or SPDX 3 JSON) is fresh when the files it lists, with their
  SHA-256, are exactly the model's files now. Timestamps and serial numbers are ignored.
- A card (Markdown) is fresh when rendering it again from the facts gives the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from attest import jsonio
from attest.errors import InputError
from attest.facts.model import ModelFacts
from attest.yamlio import read_user_file

Kind = Literal["sbom", "model-card", "data-card"]
EVIDENCE_DIR = ".attest"
#: what ``attest freshness DIR`` looks for under DIR/.attest/ when no file is named
DEFAULT_FILES: dict[str, Kind] = {
    "sbom.cdx.json": "sbom",
    "sbom.spdx.json": "sbom",
    "sbom.spdx3.jsonld": "sbom",
    "model-card.md": "model-card",
    "data-card.md": "data-card",
}
MAX_SBOM_BYTES = 64 * 1024 * 1024
MAX_CARD_BYTES = 4 * 1024 * 1024
_MAX_COMPONENT_DEPTH = 32  # CycloneDX components nest; a hostile SBOM must not recurse forever


@dataclass
class Finding:
    """The verdict on one evidence file."""

    file: str
    kind: Kind
    fresh: bool
    added: list[str] = field(default_factory=list)  # model files the evidence does not list
    removed: list[str] = field(default_factory=list)  # listed files the model no longer has
    changed: list[str] = field(default_factory=list)  # listed with another digest
    detail: str = ""
    format: str = "markdown"  # the SBOM format, for --update

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "kind": self.kind, "fresh": self.fresh, "added": self.added,
            "removed": self.removed, "changed": self.changed, "detail": self.detail,
        }  # fmt: skip

    def text(self) -> str:
        if self.fresh:
            return f"{self.file}: fresh"
        parts = [f"{label} {', '.join(_short(names))}" for label, names in
                 (("changed", self.changed), ("added", self.added), ("removed", self.removed))
                 if names]  # fmt: skip
        return f"{self.file}: stale ({'; '.join(parts) or self.detail})"


def _short(names: list[str], limit: int = 5) -> list[str]:
    return names if len(names) <= limit else [*names[:limit], f"... {len(names) - limit} more"]


def default_evidence(model_dir: Path) -> list[tuple[Path, Kind]]:
    """The evidence files present under ``model_dir/.attest/``."""
    base = model_dir / EVIDENCE_DIR
    return [(base / name, kind) for name, kind in DEFAULT_FILES.items() if (base / name).is_file()]


# -- SBOMs --------------------------------------------------------------------------------------


def sbom_file_digests(data: bytes, source: str) -> tuple[str, dict[str, str]]:
    """The SBOM's format (``cyclonedx`` | ``spdx`` | ``spdx3``, as ``attest sbom --type``
    names them) and ``{path: "sha256:<hex>"}`` of the files it lists."""
    doc = jsonio.loads(data, source)  # InputError naming the file and line
    if not isinstance(doc, dict):
        raise InputError(f"{source}: an SBOM is a JSON object")
    if doc.get("bomFormat") == "CycloneDX":
        out: dict[str, str] = {}
        _cyclonedx_files(doc.get("components"), out, source, 0)
        return "cyclonedx", out
    if isinstance(doc.get("spdxVersion"), str):
        return "spdx", _spdx2_files(doc, source)
    if "@graph" in doc:
        return "spdx3", _spdx3_files(doc.get("@graph"), source)
    raise InputError(f"{source}: neither CycloneDX, SPDX 2.3 nor SPDX 3 JSON")


def _put(out: dict[str, str], name: Any, hexdigest: Any, source: str) -> None:
    if not isinstance(name, str) or not isinstance(hexdigest, str):
        raise InputError(f"{source}: a file entry without a name or SHA-256")
    out[name.removeprefix("./")] = "sha256:" + hexdigest.lower()


def _cyclonedx_files(components: Any, out: dict[str, str], source: str, depth: int) -> None:
    if components is None:
        return
    if depth > _MAX_COMPONENT_DEPTH or not isinstance(components, list):
        raise InputError(f"{source}: components nested too deep or not a list")
    for c in components:
        if not isinstance(c, dict):
            continue
        if c.get("type") == "file":
            sha = [h.get("content") for h in c.get("hashes") or []
                   if isinstance(h, dict) and h.get("alg") == "SHA-256"]  # fmt: skip
            _put(out, c.get("name"), sha[0] if sha else None, source)
        _cyclonedx_files(c.get("components"), out, source, depth + 1)


def _spdx2_files(doc: dict[str, Any], source: str) -> dict[str, str]:
    out: dict[str, str] = {}
    entries = [(f.get("fileName"), f.get("checksums")) for f in doc.get("files") or []
               if isinstance(f, dict)]  # fmt: skip
    # attest writes each model file as a package of purpose FILE (SPDX 2.3 has no AI profile)
    entries += [(p.get("packageFileName"), p.get("checksums")) for p in doc.get("packages") or []
                if isinstance(p, dict) and p.get("primaryPackagePurpose") == "FILE"]  # fmt: skip
    for name, checksums in entries:
        sha = [c.get("checksumValue") for c in checksums or []
               if isinstance(c, dict) and c.get("algorithm") == "SHA256"]  # fmt: skip
        _put(out, name, sha[0] if sha else None, source)
    return out


def _spdx3_files(graph: Any, source: str) -> dict[str, str]:
    if not isinstance(graph, list):
        raise InputError(f"{source}: @graph is not a list")
    out: dict[str, str] = {}
    for node in graph:
        if isinstance(node, dict) and node.get("type") == "software_File":
            sha = [h.get("hashValue") for h in node.get("verifiedUsing") or []
                   if isinstance(h, dict) and h.get("algorithm") == "sha256"]  # fmt: skip
            _put(out, node.get("name"), sha[0] if sha else None, source)
    return out


def check_sbom(path: Path, facts: ModelFacts) -> Finding:
    fmt, listed = sbom_file_digests(read_user_file(path, "an SBOM", MAX_SBOM_BYTES), str(path))
    now = {f.path: f.sha256 for f in facts.files}
    finding = Finding(
        str(path), "sbom", fresh=False, format=fmt,
        added=sorted(set(now) - set(listed)),
        removed=sorted(set(listed) - set(now)),
        changed=sorted(p for p in set(now) & set(listed) if now[p] != listed[p]),
    )  # fmt: skip
    finding.fresh = not (finding.added or finding.removed or finding.changed)
    return finding


# -- cards --------------------------------------------------------------------------------------


def render_fresh(kind: Kind, facts: ModelFacts) -> str:
    """The card as ``attest card DIR [--kind data]`` renders it now."""
    from attest.stages.cards import render_card
    from attest.stages.mof import mof_report

    card_kind = "data" if kind == "data-card" else "model"
    return render_card(facts, card_kind, "markdown", mof_report(facts).to_dict())


def check_card(path: Path, kind: Kind, facts: ModelFacts) -> Finding:
    old = read_user_file(path, "a card", MAX_CARD_BYTES).decode("utf-8", errors="replace")
    new = render_fresh(kind, facts)
    if old == new:
        return Finding(str(path), kind, fresh=True)
    old_lines, new_lines = old.splitlines(), new.splitlines()
    line = next((i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)) if a != b),
                min(len(old_lines), len(new_lines)))  # fmt: skip
    return Finding(str(path), kind, fresh=False,
                   detail=f"line {line + 1} differs from the card the model's files give now")


def fresh_document(finding: Finding, facts: ModelFacts) -> bytes:
    """What ``--update`` writes in place of a stale file: the same kind and format, fresh."""
    if finding.kind != "sbom":
        return render_fresh(finding.kind, facts).encode()
    from attest.stages.sbom.stage import build_document, document_bytes

    return document_bytes(build_document(facts, finding.format)[1])


def missing_file(path: Path, kind: Kind) -> Finding:
    """A named file that does not exist yet (``--update`` creates it; its format by name)."""
    name = path.name.lower()
    fmt = "spdx3" if name.endswith(".jsonld") else "spdx" if ".spdx" in name else "cyclonedx"
    return Finding(str(path), kind, fresh=False, detail="missing", format=fmt)


def check(path: Path, kind: Kind, facts: ModelFacts) -> Finding:
    return check_sbom(path, facts) if kind == "sbom" else check_card(path, kind, facts)
