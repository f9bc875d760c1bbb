"""ModelFacts (+ a MOF report) -> what the card templates render: plain dicts and lists.

Every value comes from a fact; an unknown fact becomes a ``missing`` entry that the templates
show as a visible "Not provided" with the ``attest.yaml`` key (or README key) that would fill it.
The user's own prose is carried verbatim: README sections (generated blocks stripped) win over
declarations, declarations over nothing.

The front matter comes from :mod:`attest.stages.card_front_matter`, from the same facts as the
SBOM.
"""

from __future__ import annotations

import re
from typing import Any

from attest import __version__
from attest.facts.model import DatasetFact, ModelFacts
from attest.humanize import human_size
from attest.lint.card_spec import (
    SectionSpec,
    match_section,
    sections_for,
    strip_generated,
    unique_datasets,
)
from attest.stages.card_front_matter import (
    data_front_matter,
    declared_extra,
    dump_front_matter,
    model_front_matter,
    text_list,
    text_or_none,
)
from attest.stages.sbom.cyclonedx_card import architecture_family

ROMAN = {3: "III", 2: "II", 1: "I"}
# Where a dataset fact came from, in words.
_SOURCES = {"card": "the model card", "attest.yaml": "attest.yaml", "layer": "a dataset layer",
            "model-index": "the model-index"}
# Sections attest writes from facts only: a README section of that name is regenerated.
_ALWAYS_GENERATED = frozenset({"openness", "provenance"})


def build_context(facts: ModelFacts, kind: str, mof: dict[str, Any] | None) -> dict[str, Any]:
    """Everything a card template reads, for ``kind`` "model" or "data"."""
    datasets = [_dataset_row(d, facts) for d in unique_datasets(facts.datasets)]
    metrics = [_metric_row(m) for m in (facts.card.metrics if facts.card else [])]
    mof_view = normalise_mof(mof)
    front_matter = model_front_matter(facts) if kind == "model" else data_front_matter(facts)
    ctx: dict[str, Any] = {
        "kind": kind,
        "name": facts.name,
        "title": model_title(facts) if kind == "model" else f"{model_title(facts)}: data card",
        "version": facts.version,
        "front_matter": front_matter,
        "front_matter_yaml": dump_front_matter(front_matter),
        "files": [_file_row(f.path, f.role, f.size, f.sha256) for f in facts.files],
        "dataset_files": [
            _file_row(f.path, f.role, f.size, f.sha256) for f in facts.files_with_role("dataset")
        ],
        "datasets": datasets,
        "used_datasets": [d for d in datasets if d["use"] != "unknown"],
        "metrics": metrics,
        "mof": mof_view,
        "subject": _subject(facts),
        "source": _source(facts),
        "links": _links(facts),
        "license": _license_row(facts),
        "co2": (facts.card.front_matter.get("co2_eq_emissions") if facts.card else None),
        "created": facts.created_at.isoformat().replace("+00:00", "Z") if facts.created_at
        else None,
        "generator": f"attest {__version__}",
    }
    ctx["summary"] = _summary(facts, kind)
    ctx["details"] = _model_details(facts, mof_view) if kind == "model" else _data_details(facts)
    ctx["sections"], ctx["extra_sections"] = _sections(facts, kind, ctx)
    return ctx


def model_title(facts: ModelFacts) -> str:
    """The card's title: the README's H1, else a name the model gives itself (front matter
    ``model_name``/``pretty_name``, attest.yaml, the HF config's ``_name_or_path``, GGUF
    ``general.name``), else the packaged name (which may be the directory's)."""
    card = facts.card
    candidates: list[Any] = [card.title if card else None]
    if card:
        candidates += [card.front_matter.get("model_name"), card.front_matter.get("pretty_name")]
    candidates.append(facts.declared.name if facts.declared else None)
    candidates.append(model_name_hint(facts))
    for c in candidates:
        text = _plain(c)
        if text:
            return text
    return facts.name


def model_name_hint(facts: ModelFacts) -> str | None:
    """A name the weights or config carry: GGUF ``general.name``, else the last part of the HF
    config's ``_name_or_path`` (a hub id or a path on the exporter's machine)."""
    for w in facts.weights:
        value = w.metadata.get("general.name")
        if isinstance(value, str) and value.strip():
            return value.strip()
    path = (facts.hf_config or {}).get("_name_or_path")
    if isinstance(path, str) and path.strip():
        return path.strip().rstrip("/").split("/")[-1] or None
    return None


def _plain(value: Any) -> str | None:
    """A heading's words without HTML tags, images, links' targets or emphasis marks."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", value)  # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their words
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"[*_`]{1,3}(\S[^*_`]*?)[*_`]{1,3}", r"\1", text)
    return " ".join(text.split()) or None


# -- MOF -------------------------------------------------------------------------------------------


def normalise_mof(mof: dict[str, Any] | None) -> dict[str, Any] | None:
    """A MOF report dict (``MofReport.to_dict()``; a class given as 3 or "III") for templates."""
    if not mof:
        return None
    raw = mof.get("class")
    roman = mof.get("classRoman") or (ROMAN.get(raw) if isinstance(raw, int) else raw)
    roman = roman if roman in ("I", "II", "III") else None
    label = mof.get("label") or (f"Class {roman}" if roman else "Unclassified")
    progress_in = mof.get("progress") or {}
    progress = [
        {"class": r, "value": _percent(progress_in[r])}
        for r in ("III", "II", "I") if r in progress_in
    ]  # fmt: skip
    components = []
    for c in mof.get("components") or []:
        cls = c.get("class")
        components.append({
            "name": str(c.get("name") or c.get("id") or "?"),
            "class": ROMAN.get(cls, "") if isinstance(cls, int) else str(cls or ""),
            "required": c.get("required"),
            "status": str(c.get("status") or "missing"),
            "license": c.get("license"),
            "evidence": _evidence_text(c.get("evidence")),
        })  # fmt: skip
    return {"class": roman, "label": label, "progress": progress, "components": components}


def _percent(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.0f}%" if number == int(number) else f"{number:.1f}%"


def _evidence_text(evidence: Any) -> str:
    if isinstance(evidence, str):
        return evidence
    parts = []
    for e in evidence or []:
        if isinstance(e, dict):
            parts.append(str(e.get("path") or e.get("note") or e.get("source") or e.get("kind")))
        else:
            parts.append(str(e))
    return ", ".join(dict.fromkeys(p for p in parts if p and p != "None"))


# -- rows ------------------------------------------------------------------------------------------



def _file_row(path: str, role: str, size: int, sha256: str) -> dict[str, Any]:
    return {"path": path, "role": role, "size": size, "size_h": human_size(size), "sha256": sha256}


def _dataset_row(d: DatasetFact, facts: ModelFacts) -> dict[str, Any]:
    packed = next((f for f in facts.files if d.path and f.path == d.path), None)
    return {
        "name": d.name, "use": d.use, "license": d.license, "url": d.url,
        "description": d.description, "path": d.path, "sha256": d.sha256 or
        (packed.sha256 if packed else None), "size_h": human_size(packed.size) if packed else None,
        "source": _SOURCES.get(d.source, d.source),
    }  # fmt: skip


def _metric_row(m: Any) -> dict[str, Any]:
    return {"task": m.task, "dataset": m.dataset, "split": m.split, "type": m.type,
            "name": m.name, "value": m.value}


def _subject(facts: ModelFacts) -> dict[str, Any] | None:
    s = facts.subject
    if s is None:
        return None
    return {"reference": s.reference, "repository": s.repository, "digest": s.digest,
            "media_type": s.media_type, "size": s.size}


def _source(facts: ModelFacts) -> dict[str, str | None]:
    d = facts.declared
    return {"repository": d.source_repository if d else None,
            "commit": d.source_commit if d else None}


def _links(facts: ModelFacts) -> list[dict[str, str]]:
    links: list[dict[str, str]] = []
    d = facts.declared
    if d and d.paper_url:
        links.append({"label": "Paper", "url": d.paper_url})
    if d and d.technical_report_url:
        links.append({"label": "Technical report", "url": d.technical_report_url})
    for url in facts.card.arxiv if facts.card else []:
        if url not in {link["url"] for link in links}:
            links.append({"label": "arXiv", "url": url})
    return links


def _license_row(facts: ModelFacts) -> dict[str, str] | None:
    if not facts.license:
        return None
    if facts.declared and facts.declared.license:
        source = "attest.yaml"
    elif facts.card and facts.card.license:
        source = f"{facts.card.path} front matter"
    else:
        source = ", ".join(sorted({lic.source for lic in facts.licenses if lic.spdx_id}))
    return {"id": facts.license, "source": source}


# -- details and summary ---------------------------------------------------------------------------


def _row(label: str, value: Any, how: str | None = None) -> dict[str, Any]:
    text = None if value in (None, "", [], ()) else (
        ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    )
    return {"label": label, "value": text, "missing": None if text else _missing(label, how)}


def _missing(what: str, how: str | None) -> dict[str, str]:
    return {"what": what, "how": how or "Not derivable from the artifact's files."}


def _declare(key: str, where: str = "attest.yaml") -> str:
    return f"To fill it, declare `{key}` in `{where}`."


def _model_details(facts: ModelFacts, mof: dict[str, Any] | None) -> list[dict[str, Any]]:
    card = facts.card
    weights = facts.weights
    dtypes = sorted({t for w in weights for t in w.dtypes})
    quant = sorted({w.quantization for w in weights if w.quantization})
    license_row = _license_row(facts)
    authors, authors_from = facts.organization_fact
    languages, languages_from = facts.language_fact
    bases, bases_from = facts.base_model_fact
    return [
        _row("Name", facts.name),
        _row("Version", facts.version, _declare("version")),
        _row("Developed by", _sourced(authors, authors_from, "attest.yaml"), _declare("authors")),
        _row("Licence", f"{license_row['id']} (from {license_row['source']})"
             if license_row else None, _declare("license")),
        _row("Architecture", facts.architecture,
             "Not found in config.json or the weight headers."),
        _row("Model family", architecture_family(facts),
             "Not found in config.json or the weight headers."),
        _row("Weight format", facts.formats, "No weight file was recognised."),
        _row("Parameters", f"{facts.parameter_count:,}" if facts.parameter_count is not None
             else None, "The weight headers do not give a parameter count."),
        _row("Tensor types", dtypes, "The weight headers do not name tensor types."),
        *([_row("Quantisation", quant)] if quant else []),
        _row("Task", card.pipeline_tag if card else None,
             _declare("pipeline_tag", "README.md front matter")),
        _row("Library", card.library_name if card else None,
             _declare("library_name", "README.md front matter")),
        _row("Languages", _sourced(languages, languages_from, "README.md front matter"),
             _declare("language", "README.md front matter")),
        _row("Base model", _sourced(bases, bases_from, "attest.yaml"), _declare("base_model") +
             " Leave it out if the model was trained from scratch."),
        _row("MOF class", mof["label"] if mof else None,
             "Run `attest mof` and render the card with its report (`attest run` does both)."),
    ]


def _sourced(values: list[str], source: str | None, usual: str) -> str | None:
    """``a, b (from SOURCE)`` when the fact came from somewhere other than its usual place."""
    if not values:
        return None
    text = ", ".join(values)
    return text if source in (None, usual) or source.endswith("front matter") else \
        f"{text} (from {source})"


def _data_details(facts: ModelFacts) -> list[dict[str, Any]]:
    extra = declared_extra(facts, "data_card")
    datasets = unique_datasets(facts.datasets)
    licenses = sorted({d.license for d in datasets if d.license})
    return [
        _row("Model", facts.name),
        _row("Datasets", [d.name for d in datasets], _declare("datasets")),
        _row("Licences", licenses, _declare("datasets[].license")),
        _row("Languages", text_list(extra.get("language")), _declare("extra.data_card.language")),
        _row("Size", text_list(extra.get("size_categories")),
             _declare("extra.data_card.size_categories")),
        _row("Annotations", text_list(extra.get("annotations_creators")),
             _declare("extra.data_card.annotations_creators")),
        _row("Tasks", data_front_matter(facts).get("task_categories"),
             _declare("extra.data_card.task_categories")),
    ]


def _summary(facts: ModelFacts, kind: str) -> dict[str, Any]:
    if kind == "model":
        # CardFacts may carry the text between the H1 and the first H2 (``summary``).
        readme = strip_generated(getattr(facts.card, "summary", None) or "") if facts.card else ""
        declared = facts.declared.description if facts.declared else None
        what, how = "a description of the model", _declare("description")
    else:
        readme = ""
        declared = text_or_none(declared_extra(facts, "data_card").get("summary"))
        what, how = "a description of the data", _declare("extra.data_card.summary")
    declared = None if readme else declared
    missing = None if (readme or declared) else _missing(what, how)
    return {"prose": readme or None, "declared": declared, "missing": missing}


# -- sections --------------------------------------------------------------------------------------


def _sections(
    facts: ModelFacts, kind: str, ctx: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The card's sections in template order, and the user's other README sections."""
    readme: dict[str, tuple[str, str]] = {}  # spec key -> (user's heading, user's text)
    extra: list[dict[str, str]] = []
    if kind == "model" and facts.card:
        for title, text in facts.card.sections.items():
            spec = match_section(title, kind)
            own = strip_generated(text)
            if spec and spec.key in _ALWAYS_GENERATED and not own:
                continue  # attest's own section from an earlier render: rebuilt below
            if spec and spec.key not in readme:
                readme[spec.key] = (title, own)
            else:
                extra.append({"title": title, "prose": own})
    sections = []
    for spec in sections_for(kind):
        title, prose = readme.get(spec.key, (spec.title, ""))
        declared = None if prose else _declared_prose(facts, kind, spec)
        generated = _has_facts(spec.key, ctx, facts)
        present = bool(prose or declared or generated)
        sections.append({
            "key": spec.key, "title": title, "prose": prose or None, "declared": declared,
            "required": spec.required, "present": present,
            "missing": None if present else _missing(spec.what, _section_how(spec, kind)),
        })  # fmt: skip
    return sections, extra


def _section_how(spec: SectionSpec, kind: str) -> str:
    if spec.key == "openness":
        return "Run `attest mof` and render the card with its report (`attest run` does both)."
    if spec.key == "evaluation":
        return ("To fill it, add `model-index` results to the README front matter, or declare "
                "`extra.model_card.evaluation` in `attest.yaml`.")
    if spec.key in ("training-data", "composition"):
        return "To fill it, declare `datasets` (name, use, licence, url) in `attest.yaml`."
    where = " (or write this section in the README)" if kind == "model" else ""
    return f"To fill it, declare `{spec.declare}` in `attest.yaml`{where}."


def _declared_prose(facts: ModelFacts, kind: str, spec: SectionSpec) -> str | None:
    d = facts.declared
    if d is None:
        return None
    if kind == "model":
        direct = {"intended-use": d.intended_use, "out-of-scope-use": d.out_of_scope_use,
                  "limitations": d.limitations}
        if spec.key in direct:
            return direct[spec.key] or None
        return text_or_none(declared_extra(facts, "model_card").get(spec.key.replace("-", "_")))
    return text_or_none(declared_extra(facts, "data_card").get(spec.key.replace("-", "_")))


def _has_facts(key: str, ctx: dict[str, Any], facts: ModelFacts) -> bool:
    """True when attest writes facts into the section (so it is not "missing")."""
    datasets = ctx["datasets"]
    return {
        "model-details": True,
        "training-data": bool(datasets),
        "evaluation": bool(ctx["metrics"]),
        "environmental-impact": ctx["co2"] is not None,
        "get-started": ctx["subject"] is not None,
        "citation": bool(ctx["links"]),
        "openness": ctx["mof"] is not None,
        "provenance": True,
        "composition": bool(datasets),
        "uses": any(d["use"] != "unknown" for d in datasets),
        "distribution": any(d["license"] or d["url"] or d["path"] for d in datasets),
    }.get(key, False)
