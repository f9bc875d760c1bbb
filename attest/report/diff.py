"""What changed in the evidence between two report documents (``attest diff``).

Pure: two documents from :func:`attest.report.document.build_document` in, a list of changes
out, each in one category a CI job can gate on with ``--fail-on``.
"""

from __future__ import annotations

from typing import Any

from attest import __version__

CATEGORIES = (
    "files", "format", "parameters", "precision", "license", "datasets", "base-model",
    "mof-class", "mof-components", "signers", "provenance", "policy",
)  # fmt: skip


def change(category: str, item: str, before: Any, after: Any) -> dict[str, Any]:
    kind = "added" if before is None else "removed" if after is None else "changed"
    return {"category": category, "item": item, "change": kind, "before": before, "after": after}


# A model directory has no signature, no build and no policy decision: comparing those with an
# artifact's would only say "the directory is not an artifact".
ARTIFACT_ONLY = ("signers", "provenance", "policy")


def compared(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, ...]:
    """The categories this pair can be compared in."""
    if "directory" in (a.get("source"), b.get("source")):
        return tuple(c for c in CATEGORIES if c not in ARTIFACT_ONLY)
    return CATEGORIES


def diff_documents(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Every change from ``a`` to ``b``, in the categories the pair can be compared in."""
    return [c for c in _all_changes(a, b) if c["category"] in compared(a, b)]


def _all_changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    changes += _files(a, b)
    changes += _model(a, b)
    changes += _licences(a, b)
    changes += _datasets(a, b)
    changes += _values("base-model", "base model", _base_models(a), _base_models(b))
    changes += _mof(a, b)
    changes += _signers(a, b)
    changes += _provenance(a, b)
    changes += _policy(a, b)
    return changes


def diff_summary(
    a: dict[str, Any], b: dict[str, Any], changes: list[dict[str, Any]], fail_on: tuple[str, ...]
) -> dict[str, Any]:
    changed = sorted({c["category"] for c in changes}, key=CATEGORIES.index)
    failing = [c for c in changed if c in fail_on]
    return {
        "generator": {"name": "attest", "version": __version__},
        "a": _side(a),
        "b": _side(b),
        "changes": changes,
        "changedCategories": changed,
        "notCompared": [c for c in CATEGORIES if c not in compared(a, b)],
        "failOn": list(fail_on),
        "failingCategories": failing,
        "fail": bool(failing),
    }


def _side(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "reference": doc["subject"].get("reference"),
        "digest": doc["subject"].get("digest"),
        "source": doc.get("source"),
        "verdict": doc["verdict"]["status"],
    }


# -- categories -------------------------------------------------------------------------------


def _files(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    def index(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {str(f["path"]): {"digest": f["digest"], "size": f["size"]}
                for f in doc["subject"]["files"] if f.get("path")}  # fmt: skip

    fa, fb = index(a), index(b)
    out = []
    for path in sorted(fa.keys() | fb.keys()):
        before, after = fa.get(path), fb.get(path)
        if before != after:
            out.append(change("files", path, before, after))
    return out


def _model(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    ma, mb = a["model"], b["model"]
    out = []
    for category, key in (("format", "format"), ("parameters", "parameterCount"),
                          ("parameters", "paramSize"), ("precision", "precision"),
                          ("precision", "quantization")):  # fmt: skip
        if ma.get(key) != mb.get(key):
            out.append(change(category, key, ma.get(key), mb.get(key)))
    return out


def _licences(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's licences (SBOM, card) and each MOF component's."""
    out = []
    sa, sb = a.get("sbom") or {}, b.get("sbom") or {}
    if sa.get("licenses") != sb.get("licenses"):
        out.append(change("license", "model", sa.get("licenses"), sb.get("licenses")))
    ca, cb = a.get("modelCard") or {}, b.get("modelCard") or {}
    if ca.get("license") != cb.get("license"):
        out.append(change("license", "model card", ca.get("license"), cb.get("license")))
    la, lb = _component_licences(a), _component_licences(b)
    for cid in sorted(la.keys() | lb.keys()):
        if la.get(cid) != lb.get(cid):
            out.append(change("license", f"component {cid}", la.get(cid), lb.get(cid)))
    da, db = _dataset_licences(a), _dataset_licences(b)
    for name in sorted(da.keys() & db.keys()):
        if da[name] != db[name]:
            out.append(change("license", f"dataset {name}", da[name], db[name]))
    return out


def _component_licences(doc: dict[str, Any]) -> dict[str, Any]:
    mof = doc.get("mof") or {}
    return {c["id"]: c.get("license") for c in mof.get("components", []) if c.get("license")}


def _dataset_licences(doc: dict[str, Any]) -> dict[str, Any]:
    return {d["name"]: d.get("licenses") for d in (doc.get("sbom") or {}).get("datasets", [])}


def _datasets(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    def described(doc: dict[str, Any]) -> dict[str, str]:
        return {
            str(d["name"]): f"{d.get('use') or 'use unknown'}, licence "
            + (", ".join(d.get("licenses") or []) or "unknown")
            for d in (doc.get("sbom") or {}).get("datasets", [])
        }

    da, db = described(a), described(b)
    return [
        change("datasets", name, da.get(name), db.get(name))
        for name in sorted(da.keys() ^ db.keys())
    ]


def _base_models(doc: dict[str, Any]) -> list[str] | None:
    sbom = doc.get("sbom") or {}
    return sorted(sbom.get("baseModels") or []) or None


def _values(category: str, item: str, before: Any, after: Any) -> list[dict[str, Any]]:
    return [change(category, item, before, after)] if before != after else []


def _mof(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    ma, mb = a.get("mof") or {}, b.get("mof") or {}
    out = _values("mof-class", "class", ma.get("class"), mb.get("class"))
    sa = {c["id"]: c.get("status") for c in ma.get("components", [])}
    sb = {c["id"]: c.get("status") for c in mb.get("components", [])}
    for cid in sorted(sa.keys() | sb.keys()):
        if sa.get(cid) != sb.get(cid):
            out.append(change("mof-components", cid, sa.get(cid), sb.get(cid)))
    return out


def _signers(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    out = _values("signers", "verdict", a["verdict"]["status"], b["verdict"]["status"])
    la = {g["label"] for g in a["verdict"]["signers"]}
    lb = {g["label"] for g in b["verdict"]["signers"]}
    for label in sorted(la ^ lb):
        out.append(change("signers", "signer", label if label in la else None,
                          label if label in lb else None))  # fmt: skip
    return out


def _provenance(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    pa, pb = a.get("provenance") or {}, b.get("provenance") or {}
    out = []
    for key in ("builderId", "buildType", "sourceRepository", "sourceCommit"):
        out += _values("provenance", key, pa.get(key), pb.get(key))
    return out


def _policy(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    def outcome(doc: dict[str, Any]) -> dict[str, Any] | None:
        p = doc.get("policy")
        if not p:
            return None
        return {"allowed": not p.get("failed"),
                "violations": sorted({v.get("code") for v in p.get("violations", [])})}  # fmt: skip

    return _values("policy", "outcome", outcome(a), outcome(b))
