"""What a model card and a data card hold: sections, front matter keys, Hugging Face vocabularies.

One catalogue read by the linter (:mod:`attest.lint.card`) and the renderer
(:mod:`attest.stages.card_context`), so a rendered card always passes the rules it is checked by.

Section structure: the model card follows the established model-card outline (Mitchell et al.
2019, the Hugging Face template); the data card follows Datasheets for Datasets (Gebru et al.):
motivation, composition, collection, preprocessing, uses, distribution, maintenance. Sections
marked ``required`` are what the MOF asks a Class III model card ("model details including
performance metrics, intended use, and limitations") and data card ("source, characteristics, and
preprocessing details") to contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from attest.facts.model import DatasetFact

CardKind = Literal["model", "data"]
KINDS: tuple[str, ...] = ("model", "data")

# Generated content in a Markdown card sits between these comments (invisible on the Hub). On a
# re-render everything between them is dropped and rebuilt from the facts; everything outside
# them is the user's own text and is kept byte for byte.
GENERATED_START = "<!-- attest:generated -->"
GENERATED_END = "<!-- /attest:generated -->"
GENERATED_BLOCK = re.compile(
    re.escape(GENERATED_START) + r".*?" + re.escape(GENERATED_END) + r"\n?", re.DOTALL
)
# The one-line marker of an unknown fact, as the Markdown template writes it.
NOT_PROVIDED = "Not provided."
NOT_PROVIDED_LINE = re.compile(r"^\s*>?\s*\*\*Not provided[.:]?\*\*.*$", re.MULTILINE)
# Placeholders other generators leave in empty sections (the Trainer, the HF template).
PLACEHOLDER = re.compile(
    r"\[?more information needed\]?\.?|\{\{.*?\}\}|<!--.*?-->", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class SectionSpec:
    """One H2 section of a card."""

    key: str  # stable id, used in predicates and lint messages
    title: str  # the heading attest writes when the user has not written one
    aliases: tuple[str, ...]  # headings users write for it (normalised by :func:`heading_key`)
    required: bool  # a MOF Class III card needs it
    what: str  # what the section says, for the "Not provided" line
    declare: str | None  # the attest.yaml key that fills it (None: only facts or the README do)


def _s(key: str, title: str, aliases: tuple[str, ...], required: bool, what: str,
       declare: str | None) -> SectionSpec:
    return SectionSpec(key, title, (title, *aliases), required, what, declare)


MODEL_SECTIONS: tuple[SectionSpec, ...] = (
    _s("model-details", "Model details",
       ("model description", "model summary", "model information", "model details and overview",
        "model overview", "overview", "description", "introduction", "about", "about the model",
        "summary"),
       True, "what the model is, who made it and under which licence", "description"),
    _s("intended-use", "Intended use",
       ("intended uses", "uses", "direct use", "intended uses & limitations", "use cases",
        "intended use cases", "intended usage", "use case", "applications"),
       True, "what the model is for and who should use it", "intended_use"),
    _s("out-of-scope-use", "Out-of-scope use",
       ("out of scope use", "out-of-scope uses", "misuse", "misuse and out-of-scope use"),
       False, "the uses the model is not fit for", "out_of_scope_use"),
    _s("training-data", "Training data",
       ("training details", "training", "training and evaluation data", "training dataset",
        "datasets", "training procedure", "training details and data"),
       False, "the data the model was trained on", "datasets"),
    _s("evaluation", "Evaluation",
       ("evaluation results", "results", "performance", "metrics", "evaluation and results",
        "benchmarks", "benchmark", "benchmark results", "eval results"),
       True, "how the model was evaluated, with its results",
       "extra.model_card.evaluation"),
    _s("limitations", "Limitations and bias",
       ("limitations", "bias, risks, and limitations", "bias risks and limitations",
        "risks and limitations", "known limitations", "bias and limitations",
        "limitations and biases", "ethical considerations", "risks", "bias",
        "ethical considerations and limitations"),
       True, "the model's known limitations, biases and risks", "limitations"),
    _s("environmental-impact", "Environmental impact",
       ("carbon emissions", "carbon footprint", "compute infrastructure"),
       False, "the compute used and its carbon footprint", "extra.model_card.environmental_impact"),
    _s("get-started", "How to get started",
       ("how to get started with the model", "usage", "how to use", "quickstart",
        "getting started", "quick start", "usage example", "usage examples", "example usage",
        "examples", "inference", "how to use the model", "use with transformers",
        "running the model", "run the model", "using the model"),
       False, "how to obtain and run the model", "extra.model_card.get_started"),
    _s("citation", "Citation",
       ("citation information", "bibtex", "cite", "how to cite", "references", "paper",
        "citing", "cite us", "cite this work", "citations", "bibtex entry and citation info",
        "bibtex citation", "reference"),
       False, "how to cite the model, or its paper", "paper_url"),
    _s("openness", "Openness (MOF)",
       ("openness", "model openness", "model openness framework", "mof"),
       False, "the Model Openness Framework class and components", None),
    _s("provenance", "Provenance and signatures",
       ("provenance", "signatures", "supply chain"),
       False, "where the artifact comes from and how to verify it", None),
)  # fmt: skip

DATA_SECTIONS: tuple[SectionSpec, ...] = (
    _s("motivation", "Motivation", ("purpose", "dataset summary", "why this dataset"),
       False, "why the data was collected and by whom", "extra.data_card.motivation"),
    _s("composition", "Composition",
       ("dataset structure", "dataset description", "data fields", "data instances",
        "dataset composition", "datasets"),
       True, "what the data consists of", "datasets"),
    _s("collection", "Collection",
       ("collection process", "data collection", "source data", "data sources",
        "data collection and processing", "curation rationale"),
       True, "where the data comes from and how it was gathered", "extra.data_card.collection"),
    _s("preprocessing", "Preprocessing",
       ("data preprocessing", "preprocessing cleaning labeling", "processing",
        "data processing", "cleaning", "annotations"),
       True, "how the data was cleaned, filtered or labelled", "extra.data_card.preprocessing"),
    _s("uses", "Uses",
       ("intended uses", "considerations for using the data", "use", "dataset uses"),
       False, "what the data was used for and should (not) be used for", "extra.data_card.uses"),
    _s("distribution", "Distribution",
       ("licensing information", "license", "licence", "access", "availability"),
       False, "how the data is distributed and under which licence",
       "extra.data_card.distribution"),
    _s("maintenance", "Maintenance",
       ("dataset curators", "maintainers", "contact", "updates"),
       False, "who maintains the data and how it is updated", "extra.data_card.maintenance"),
    _s("openness", "Openness (MOF)",
       ("openness", "model openness", "model openness framework", "mof"),
       False, "the Model Openness Framework class and components", None),
)  # fmt: skip


def sections_for(kind: str) -> tuple[SectionSpec, ...]:
    return MODEL_SECTIONS if kind == "model" else DATA_SECTIONS


def unique_datasets(datasets: list[DatasetFact]) -> list[DatasetFact]:
    """First fact per name, as the SBOM keeps them (the most explicit source comes first)."""
    seen: dict[str, DatasetFact] = {}
    for d in datasets:
        seen.setdefault(d.name, d)
    return list(seen.values())


# Words around a heading's subject that do not change which section it is: "Usage
# (Sentence-Transformers)", "1. Introduction", "📖 Citation", "Model Card for X".
_QUALIFIER = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*|[ivx]+)[.):]?\s+", re.IGNORECASE)


def heading_key(title: str) -> str:
    """A heading folded for matching: lower case, ``&`` as "and", punctuation to spaces,
    parenthesised qualifiers, leading numbering and emoji dropped."""
    text = _QUALIFIER.sub(" ", title)
    text = re.sub(r"[*_`~]", "", text)  # Markdown emphasis around a heading's words
    text = _NUMBERING.sub("", re.sub(r"^[^\w(\[]+", "", text)).lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def match_section(title: str, kind: str) -> SectionSpec | None:
    """The section a user's heading stands for, if any: an alias, or an alias the heading
    starts with or ends with ("Usage with transformers", "Training data and procedure")."""
    key = heading_key(title)
    if not key:
        return None
    specs = sections_for(kind)
    for spec in specs:
        if key in {heading_key(a) for a in spec.aliases}:
            return spec
    for spec in specs:
        for alias in (heading_key(a) for a in spec.aliases):
            if len(alias) > 3 and (key.startswith(alias + " ") or key.endswith(" " + alias)):
                return spec
    return None


def strip_generated(text: str) -> str:
    """The user's own text of a section: generated blocks removed, outer blank lines dropped."""
    return GENERATED_BLOCK.sub("", text).strip("\n")


def has_content(text: str) -> bool:
    """True when a section says something: not only "Not provided" lines and placeholders."""
    text = NOT_PROVIDED_LINE.sub("", text)
    text = PLACEHOLDER.sub("", text)
    text = re.sub(r"^\s{0,3}#{1,6}\s.*$", "", text, flags=re.MULTILINE)  # sub-headings alone
    return bool(text.strip())


# -- front matter ---------------------------------------------------------------------------------

# Model card keys the Hub reads (hub-docs modelcard.md, huggingface_hub ModelCardData).
MODEL_KEYS: frozenset[str] = frozenset({
    "language", "license", "license_name", "license_link", "library_name", "tags", "datasets",
    "metrics", "base_model", "base_model_relation", "model-index", "model_name", "pipeline_tag",
    "thumbnail", "widget", "inference", "co2_eq_emissions", "new_version", "extra_gated_prompt",
    "extra_gated_fields", "extra_gated_heading", "extra_gated_description",
    "extra_gated_button_content", "extra_gated_eu_disallowed", "language_bcp47", "pretty_name",
    "model_type",
})  # fmt: skip

# Dataset card keys (hub-docs datasetcard.md).
DATA_KEYS: frozenset[str] = frozenset({
    "annotations_creators", "language_creators", "language", "language_details", "license",
    "license_name", "license_link", "license_details", "multilinguality", "pretty_name",
    "size_categories", "source_datasets", "task_categories", "task_ids", "paperswithcode_id",
    "configs", "dataset_info", "train-eval-index", "tags", "viewer", "thumbnail",
    "extra_gated_prompt", "extra_gated_fields", "extra_gated_heading", "extra_gated_description",
    "extra_gated_button_content", "extra_gated_eu_disallowed",
})  # fmt: skip

# Keys only a dataset card has, and only a model card has: used to tell the two apart.
DATA_ONLY_KEYS = DATA_KEYS - MODEL_KEYS - {"tags", "thumbnail"}
MODEL_ONLY_KEYS = frozenset({"pipeline_tag", "library_name", "base_model", "model-index",
                             "metrics", "widget", "inference"})

# Hugging Face task ids (huggingface.js packages/tasks/src/pipelines.ts, PIPELINE_DATA keys).
PIPELINE_TAGS: frozenset[str] = frozenset({
    "biology", "text-classification", "token-classification", "table-question-answering",
    "question-answering", "zero-shot-classification", "translation", "summarization",
    "feature-extraction", "text-generation", "text2text-generation", "fill-mask",
    "sentence-similarity", "text-to-speech", "text-to-audio", "automatic-speech-recognition",
    "audio-to-audio", "audio-classification", "audio-text-to-text", "voice-activity-detection",
    "depth-estimation", "image-classification", "object-detection", "image-segmentation",
    "text-to-image", "image-to-text", "image-to-image", "image-to-video",
    "unconditional-image-generation", "video-classification", "reinforcement-learning",
    "robotics", "tabular-classification", "tabular-regression", "tabular-to-text",
    "table-to-text", "multiple-choice", "text-ranking", "text-retrieval",
    "time-series-forecasting", "text-to-video", "image-text-to-text", "visual-question-answering",
    "document-question-answering", "zero-shot-image-classification", "graph-ml",
    "mask-generation", "zero-shot-object-detection", "text-to-3d", "image-to-3d",
    "image-feature-extraction", "video-text-to-text", "keypoint-detection",
    "visual-document-retrieval", "any-to-any", "other",
})  # fmt: skip

# Dataset size buckets the Hub accepts (hub-docs datasetcard.md ``size_categories``).
SIZE_CATEGORIES: frozenset[str] = frozenset({
    "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B",
    "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T",
})  # fmt: skip

# Keys whose value is a string or a list of strings, and keys whose value is one string.
STR_OR_LIST_KEYS = frozenset({"language", "tags", "datasets", "base_model", "metrics",
                              "task_categories", "task_ids", "source_datasets", "size_categories",
                              "annotations_creators", "language_creators", "multilinguality",
                              "license"})
STR_KEYS = frozenset({"library_name", "pipeline_tag", "license_name", "license_link",
                      "pretty_name", "model_name", "thumbnail", "paperswithcode_id",
                      "base_model_relation", "new_version"})
