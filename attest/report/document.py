"""The report document: one JSON object (camelCase keys, schema in docs/report.schema.json)
that the HTML and Markdown renderings and ``attest diff`` all read.

Every section names the statement it came from and says whether that statement's signature
verified; a section built from an unsigned (or, for a directory, computed) statement says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from attest import __version__
from attest.report.evidence import EvidenceSet, StatementEvidence
from attest.sbom_read import cyclonedx, spdx2, spdx3

SCHEMA_ID = "https://attest.dev/schemas/report/v1"
MOF = "https://attest.dev/mof/v1"
PROVENANCE = "https://slsa.dev/provenance/v1"
MODEL_CARD = "https://attest.dev/model-card/v1"
DATA_CARD = "https://attest.dev/data-card/v1"
SBOMS = (cyclonedx.PREDICATE_TYPE, spdx2.SPDX2_PREDICATE_TYPE, spdx3.SPDX3_PREDICATE_TYPE)
ROMAN = {3: "III", 2: "II", 1: "I"}


def build_document(evidence: EvidenceSet, *, now: datetime | None = None) -> dict[str, Any]:
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    problems: list[str] = []

    def section(name: str, build: Callable[..., dict[str, Any] | None], *args: Any) -> Any:
        """A predicate of an unexpected shape leaves its section empty and says so; it never
        stops the report (anyone can attach an unsigned statement)."""
        try:
            return build(*args)
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            problems.append(f"{name}: unreadable predicate ({type(e).__name__}: {e})")
            return None

    return {
        "$schema": SCHEMA_ID,
        "generator": {"name": "attest", "version": __version__},
        "generatedAt": when,
        "source": evidence.source_kind,
        "subject": _subject(evidence),
        "verdict": _verdict(evidence),
        "statements": [_statement(s) for s in evidence.statements],
        "documents": [_document(d) for d in evidence.documents],
        "model": _model(evidence),  # from the config blob and the SBOM, checked by type
        "mof": section("mof", _mof, evidence.best((MOF,))),
        "sbom": section("sbom", _sbom, evidence.best((cyclonedx.PREDICATE_TYPE,)), evidence),
        "provenance": section("provenance", _provenance, evidence.best((PROVENANCE,))),
        "modelCard": section("modelCard", _card, evidence.best((MODEL_CARD,)), evidence),
        "dataCard": section("dataCard", _card, evidence.best((DATA_CARD,)), evidence),
        "policy": evidence.policy,
        "problems": problems,
    }


def _origin(s: StatementEvidence) -> dict[str, Any]:
    return {"verified": s.trust == "verified", "trust": s.trust, "statement": s.digest}


# -- subject and verdict ------------------------------------------------------------------------


def _subject(evidence: EvidenceSet) -> dict[str, Any]:
    subject = evidence.subject
    files = [
        {
            "path": layer.get("path"),
            "role": layer.get("kind"),
            "digest": layer.get("digest"),
            "size": layer.get("size"),
            "encoding": layer.get("encoding", "raw"),
        }
        for layer in subject.get("layers", [])
    ]
    roles: dict[str, int] = {}
    for f in files:
        roles[str(f["role"])] = roles.get(str(f["role"]), 0) + 1
    verified = any(s.trust == "verified" for s in evidence.statements + evidence.signatures)
    return {
        "reference": subject.get("reference"),
        "digest": subject.get("digest"),
        "mediaType": subject.get("mediaType"),
        "artifactType": subject.get("artifactType"),
        "size": subject.get("size"),
        "totalFileSize": sum(int(f["size"] or 0) for f in files),
        # the manifest (and so every layer digest in it) is what each signature covers
        "verified": verified,
        "roles": dict(sorted(roles.items())),
        "files": files,
    }


def _verdict(evidence: EvidenceSet) -> dict[str, Any]:
    counts = {"verified": 0, "unsigned": 0, "failed": 0, "computed": 0}
    signers: dict[tuple[Any, ...], dict[str, Any]] = {}
    signed = evidence.statements + evidence.signatures  # notation signs the manifest itself
    for s in signed:
        counts[s.trust] += 1
        if s.trust == "verified" and s.signer is not None:
            key = (s.signer.kind, s.signer.key_fingerprint, s.signer.identity, s.signer.issuer)
            entry = signers.setdefault(key, {**s.signer.to_dict(), "label": s.signer.label(),
                                             "statements": []})  # fmt: skip
            entry["statements"].append({"predicateType": s.predicate_type, "digest": s.digest,
                                        "tlogIndex": s.signer.tlog_index,
                                        "tlogTime": s.signer.tlog_time})  # fmt: skip
    if evidence.source_kind == "directory":
        status = "not-signed"
    elif counts["failed"]:
        status = "failed"
    elif counts["verified"] == 0:
        status = "unverified"
    elif counts["unsigned"]:
        status = "partial"
    else:
        status = "verified"
    return {
        "status": status,
        "counts": counts,
        "signers": list(signers.values()),
        "failed": [{"digest": s.digest, "predicateType": s.predicate_type, "errors": s.errors}
                   for s in signed if s.trust == "failed"],  # fmt: skip
        "unsigned": [{"digest": s.digest, "predicateType": s.predicate_type}
                     for s in evidence.statements if s.trust == "unsigned"],  # fmt: skip
    }


def _statement(s: StatementEvidence) -> dict[str, Any]:
    return {
        "digest": s.digest,
        "predicateType": s.predicate_type,
        "trust": s.trust,
        "signer": s.signer.to_dict() if s.signer else None,
        "errors": list(s.errors),
    }


def _document(d: Any) -> dict[str, Any]:
    return {
        "digest": d.digest,
        "mediaType": d.media_type,
        "title": d.title,
        "predicateType": d.predicate_type,
        "blobDigest": d.layer_digest,
        "size": d.size,
        "statement": d.statement,
        "vouched": d.vouched,
    }


# -- the model's facts: format, parameters, precision ------------------------------------------


def _model(evidence: EvidenceSet) -> dict[str, Any]:
    config = evidence.subject.get("config") or {}
    cfg = config.get("config", {}) if isinstance(config.get("config"), dict) else {}
    descriptor = config.get("descriptor", {}) if isinstance(config.get("descriptor"), dict) else {}
    sbom = evidence.best((cyclonedx.PREDICATE_TYPE,))
    params = _cdx_property(sbom.predicate, "attest:parameter-count") if sbom else None
    return {
        "name": _text(descriptor.get("name")),
        "version": _text(descriptor.get("version")),
        "format": _text(cfg.get("format")),
        "architecture": _text(cfg.get("architecture")),
        "paramSize": _text(cfg.get("paramSize")),
        "parameterCount": int(params) if params and params.isdigit() else None,
        "precision": _text(cfg.get("precision")),
        "quantization": _text(cfg.get("quantization")),
        # the config blob is named by the signed manifest
        "verified": any(s.trust == "verified" for s in evidence.statements + evidence.signatures),
    }


def _cdx_property(bom: Any, name: str) -> str | None:
    meta = bom.get("metadata") if isinstance(bom, dict) else None
    component = meta.get("component") if isinstance(meta, dict) else None
    props = component.get("properties") if isinstance(component, dict) else None
    for prop in props if isinstance(props, list) else []:
        if isinstance(prop, dict) and prop.get("name") == name:
            return str(prop.get("value"))
    return None


def _text(value: Any) -> str | None:
    """A config fact as text (legacy and KitOps configs are not schema-checked)."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# -- sections ---------------------------------------------------------------------------------


def _mof(s: StatementEvidence | None) -> dict[str, Any] | None:
    if s is None or s.predicate is None:
        return None
    p = s.predicate
    components = [
        {"id": c.get("id"), "name": c.get("name"), "class": c.get("class"),
         "required": bool(c.get("required")), "status": c.get("status"),
         "license": c.get("license")}
        for c in p.get("components", []) if isinstance(c, dict)
    ]  # fmt: skip
    names = {c["id"]: c["name"] for c in components}
    nxt = p.get("next") if isinstance(p.get("next"), dict) else None
    advice = None
    if nxt:
        advice = {
            "class": ROMAN.get(nxt.get("class")) if isinstance(nxt.get("class"), int) else None,
            "label": nxt.get("label"),
            "needs": [{"id": n.get("id"), "name": names.get(n.get("id")), "status": n.get("status")}
                      for n in nxt.get("needs", []) if isinstance(n, dict)],  # fmt: skip
        }
    cls = p.get("class")
    return {
        **_origin(s),
        "class": ROMAN.get(cls) if isinstance(cls, int) else None,
        "label": p.get("label"),
        "frameworkVersion": (p.get("framework") or {}).get("version"),
        "progress": {str(k): v for k, v in (p.get("progress") or {}).items()
                     if isinstance(v, (int, float))},  # fmt: skip
        "components": components,
        "next": advice,
    }


def _sbom(s: StatementEvidence | None, evidence: EvidenceSet) -> dict[str, Any] | None:
    if s is None or s.predicate is None:
        return None
    bom = s.predicate
    facts = cyclonedx.cyclonedx_to_facts(bom)
    sizes = {f["digest"]: f["size"] for f in _subject(evidence)["files"]}
    roles = {}
    datasets = []
    for c in bom.get("components", []) or []:
        if not isinstance(c, dict):
            continue
        props = {p.get("name"): p.get("value") for p in c.get("properties", []) or []
                 if isinstance(p, dict)}  # fmt: skip
        if c.get("type") == "file":
            roles[c.get("name")] = props.get("attest:role")
        elif c.get("type") == "data":
            urls = [d.get("contents", {}).get("url") for d in c.get("data", []) or []
                    if isinstance(d, dict)]  # fmt: skip
            datasets.append({
                "name": c.get("name"),
                "licenses": sorted(cyclonedx.license_strings(c.get("licenses", []))),
                "use": props.get("attest:dataset-use"),
                "url": next((u for u in urls if u), None),
            })  # fmt: skip
    files = [
        {"path": path, "digest": digest, "role": roles.get(path), "size": sizes.get(digest)}
        for path, digest in sorted(facts["files"].items())
    ]
    params = _cdx_property(bom, "attest:parameter-count")
    return {
        **_origin(s),
        "format": f"CycloneDX {bom.get('specVersion')}",
        "name": facts.get("name"),
        "version": facts.get("version"),
        "licenses": facts.get("licenses", []),
        "files": files,
        "datasets": sorted(datasets, key=lambda d: str(d["name"])),
        "baseModels": facts.get("base_models", []),
        "task": facts.get("task"),
        "architecture": facts.get("architecture"),
        "weightFormat": _cdx_property(bom, "attest:format"),
        "parameterCount": int(params) if params and params.isdigit() else None,
        "metrics": [{"type": t, "value": v, "slice": sl} for t, v, sl in facts.get("metrics", [])],
        "otherFormats": [t for t in SBOMS if t != cyclonedx.PREDICATE_TYPE
                         and any(x.predicate_type == t and x.usable for x in evidence.statements)],
    }  # fmt: skip


def _provenance(s: StatementEvidence | None) -> dict[str, Any] | None:
    if s is None or s.predicate is None:
        return None
    p = s.predicate
    definition = p.get("buildDefinition") or {}
    run = p.get("runDetails") or {}
    source_repo = commit = None
    for dep in definition.get("resolvedDependencies", []) or []:
        digest = dep.get("digest") or {} if isinstance(dep, dict) else {}
        if isinstance(digest, dict) and "gitCommit" in digest:
            source_repo, commit = dep.get("uri"), digest["gitCommit"]
            break
    metadata = run.get("metadata") or {}
    return {
        **_origin(s),
        "builderId": (run.get("builder") or {}).get("id"),
        "buildType": definition.get("buildType"),
        "sourceRepository": source_repo,
        "sourceCommit": commit,
        "invocationId": metadata.get("invocationId"),
        "startedOn": metadata.get("startedOn"),
        "finishedOn": metadata.get("finishedOn"),
    }


def _card(s: StatementEvidence | None, evidence: EvidenceSet) -> dict[str, Any] | None:
    if s is None or s.predicate is None:
        return None
    p = s.predicate
    fm: dict[str, Any] = p["frontMatter"] if isinstance(p.get("frontMatter"), dict) else {}
    links = [
        {"title": d.title, "mediaType": d.media_type, "digest": d.digest,
         "blobDigest": d.layer_digest, "vouched": d.vouched,
         "reference": _pinned(evidence.subject.get("reference"), d.digest)}
        for d in evidence.documents if d.statement == s.digest
    ]  # fmt: skip
    base = fm.get("base_model")
    return {
        **_origin(s),
        "name": p.get("name"),
        "version": p.get("version"),
        "license": fm.get("license"),
        "pipelineTag": fm.get("pipeline_tag"),
        "language": _as_list(fm.get("language")),
        "baseModel": _as_list(base),
        "datasets": _as_list(fm.get("datasets") or fm.get("source_datasets")),
        "tags": _as_list(fm.get("tags")),
        "summary": evidence.card_summaries.get(s.digest),
        "sectionsPresent": list(p.get("sectionsPresent", [])),
        "sectionsMissing": list(p.get("requiredSectionsMissing", [])),
        "links": links,
    }


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _pinned(reference: Any, digest: str) -> str | None:
    """``<repository or layout>@<digest>``: where a reader fetches the referrer."""
    if not isinstance(reference, str):
        return None
    base = reference.split("@", 1)[0]
    return f"{base}@{digest}"
