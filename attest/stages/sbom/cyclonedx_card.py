"""What CycloneDX's library does not model yet (its issues #911-#913): ``modelCard`` and ``data``.

:func:`attest.stages.sbom.cyclonedx.build_cyclonedx` adds these to the library's JSON. Each part is
there only when its fact is known; the card's template prose ("[More Information Needed]") is not
a fact. The SPDX writers take their intended use and limitations from here too, so the formats
never disagree.
"""

from __future__ import annotations

import re
from typing import Any

from attest.facts.model import DatasetFact, MetricFact, ModelFacts

_APPROACHES = ("supervised", "unsupervised", "reinforcement-learning", "semi-supervised",
               "self-supervised")

# Hugging Face pipeline_tag -> (input formats, output formats). Only tags whose modalities are
# unambiguous; an unknown tag gives no inputs/outputs rather than a guess.
_PIPELINE_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "text-generation": (("text",), ("text",)),
    "text2text-generation": (("text",), ("text",)),
    "summarization": (("text",), ("text",)),
    "translation": (("text",), ("text",)),
    "question-answering": (("text",), ("text",)),
    "fill-mask": (("text",), ("text",)),
    "conversational": (("text",), ("text",)),
    "text-classification": (("text",), ("label",)),
    "token-classification": (("text",), ("label",)),
    "zero-shot-classification": (("text",), ("label",)),
    "feature-extraction": (("text",), ("embedding",)),
    "sentence-similarity": (("text",), ("score",)),
    "text-to-image": (("text",), ("image",)),
    "text-to-speech": (("text",), ("audio",)),
    "text-to-audio": (("text",), ("audio",)),
    "image-classification": (("image",), ("label",)),
    "image-to-text": (("image",), ("text",)),
    "image-text-to-text": (("image", "text"), ("text",)),
    "image-feature-extraction": (("image",), ("embedding",)),
    "automatic-speech-recognition": (("audio",), ("text",)),
    "audio-classification": (("audio",), ("label",)),
}

# Card H2 sections (lower-cased) that say what the model is for / where it falls short. The
# Trainer's "Intended uses & limitations" counts as uses: it is one section, not two facts.
_USE_SECTIONS = ("intended uses", "intended use", "uses", "direct use",
                 "intended uses & limitations")
_LIMITATION_SECTIONS = ("bias, risks, and limitations", "limitations", "limitations and bias",
                        "risks and limitations", "known limitations", "bias and limitations")
_PLACEHOLDER_RE = re.compile(r"\[?more information needed\]?\.?", re.IGNORECASE)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s.*$", re.MULTILINE)


def model_card(facts: ModelFacts, dataset_refs: list[str]) -> dict[str, Any]:
    """The ``modelCard`` object; each part only when its fact is known (empty dict if none)."""
    card: dict[str, Any] = {}
    params = _model_parameters(facts, dataset_refs)
    if params:
        card["modelParameters"] = params
    metrics = [_performance_metric(m) for m in (facts.card.metrics if facts.card else [])]
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations = _considerations(facts)
    if considerations:
        card["considerations"] = considerations
    return card


def _model_parameters(facts: ModelFacts, dataset_refs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    approach = _approach(facts)
    if approach:
        params["approach"] = {"type": approach}
    task = facts.card.pipeline_tag if facts.card else None
    if task:
        params["task"] = task
    family = architecture_family(facts)
    if family:
        params["architectureFamily"] = family
    architecture = _model_architecture(facts)
    if architecture:
        params["modelArchitecture"] = architecture
    if dataset_refs:
        params["datasets"] = [{"ref": ref} for ref in dataset_refs]
    inputs, outputs = _io_formats(facts)
    if inputs:
        params["inputs"] = [{"format": f} for f in inputs]
    if outputs:
        params["outputs"] = [{"format": f} for f in outputs]
    return params


def _approach(facts: ModelFacts) -> str | None:
    # Nothing in the files says how a model learned; only a declaration (attest.yaml
    # ``approach:``) does, and only a value the schema knows is used.
    value = facts.declared.extra.get("approach") if facts.declared else None
    return value if value in _APPROACHES else None


def architecture_family(facts: ModelFacts) -> str | None:
    """HF ``model_type``, else GGUF ``general.architecture``, else ModelPack config.architecture."""
    if facts.hf_config and facts.hf_config.get("model_type"):
        return str(facts.hf_config["model_type"])
    for weight in facts.weights:
        if weight.format == "gguf" and weight.architecture:
            return weight.architecture
    config = (facts.modelpack_config or {}).get("config") or {}
    return config.get("architecture") or None


def _model_architecture(facts: ModelFacts) -> str | None:
    if facts.hf_config and facts.hf_config.get("architectures"):
        return str(facts.hf_config["architectures"][0])
    return None


def _io_formats(facts: ModelFacts) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Declared ModelPack capabilities win; else what the pipeline tag implies."""
    capabilities = ((facts.modelpack_config or {}).get("config") or {}).get("capabilities") or {}
    declared = (tuple(capabilities.get("inputTypes") or ()),
                tuple(capabilities.get("outputTypes") or ()))
    if declared[0] or declared[1]:
        return declared
    task = facts.card.pipeline_tag if facts.card else None
    return _PIPELINE_IO.get(task or "", ((), ()))


def _performance_metric(metric: MetricFact) -> dict[str, str]:
    entry = {"type": metric.type, "value": str(metric.value)}
    slice_ = metric_slice(metric)
    if slice_:
        entry["slice"] = slice_
    return entry


def metric_slice(metric: MetricFact) -> str | None:
    """``dataset (split)``: not ``dataset/split``, since Hugging Face ids hold a '/' already."""
    if metric.dataset and metric.split:
        return f"{metric.dataset} ({metric.split})"
    return metric.dataset or metric.split


def _considerations(facts: ModelFacts) -> dict[str, list[str]]:
    declared = facts.declared
    result: dict[str, list[str]] = {}
    uses = (declared.intended_use if declared else None) or _section(facts, _USE_SECTIONS)
    if uses:
        result["useCases"] = [uses.strip()]
    limits = (declared.limitations if declared else None) or _section(facts, _LIMITATION_SECTIONS)
    if limits:
        result["technicalLimitations"] = [limits.strip()]
    return result


def _section(facts: ModelFacts, titles: tuple[str, ...]) -> str | None:
    """The first card section named in ``titles`` that says something (not a placeholder)."""
    if not facts.card:
        return None
    sections = {" ".join(t.lower().split()): text for t, text in facts.card.sections.items()}
    for title in titles:
        text = _meaningful(sections.get(title, ""))
        if text:
            return text
    return None


def _meaningful(text: str) -> str | None:
    # Template cards are full of headings, HTML comments and "[More Information Needed]":
    # those are the card saying it does not know, not a fact.
    text = _COMMENT_RE.sub("", text).strip()
    residue = _PLACEHOLDER_RE.sub("", _HEADING_RE.sub("", text))
    return text if residue.strip() else None


def dataset_data(dataset: DatasetFact) -> dict[str, Any]:
    """The ``data`` entry of a dataset component (CycloneDX ``componentData``)."""
    entry: dict[str, Any] = {"type": "dataset", "name": dataset.name}
    if dataset.url:
        entry["contents"] = {"url": dataset.url}
    if dataset.description:
        entry["description"] = dataset.description
    return entry
