"""ModelFacts: everything known about a model, gathered once; every stage reads only this.

The types here are the contract between the readers (``attest/facts/*``) and the stages
(``attest/stages/*``). They hold plain data (JSON-ready via ``to_dict``), never file handles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from attest.facts.build_env import SourceFacts
from attest.facts.subject import Subject  # a leaf: data only, imports no facts
from attest.jsonkeys import camel_keys

#: Fields of the facts types whose values are data (their keys are never renamed in JSON).
FACTS_DATA_FIELDS = frozenset({
    "hf_config", "generation_config", "modelpack_config", "front_matter", "sections", "metadata",
    "extra", "component_licenses", "components", "annotations",
})  # fmt: skip

# File roles. Same words as ModelPack layer kinds, with "weight-config" spelled for humans.
Role = Literal["weight", "weight-config", "code", "doc", "dataset"]


@dataclass(frozen=True)
class FileFact:
    """One file of the model."""

    path: str  # relative POSIX path inside the model
    size: int
    sha256: str  # "sha256:<hex>": the raw layer digest when packed, else hashed once
    role: Role
    media_type: str  # the ModelPack layer media type (what a writer would emit for it)
    layer_digest: str | None = None  # the OCI layer carrying it (None for a plain directory)
    spdx_license: str | None = None  # from an SPDX-License-Identifier header in the file


# A shard of one checkpoint: model-00001-of-00003.safetensors, llama-00002-of-00002.gguf
# A Hugging Face hub id (org/name); a path on the exporter's disk is not one.
_HUB_ID = re.compile(
    r"^(?!(?:models?|checkpoints?|outputs?|tmp|home|data|runs|content|workspace)/)"
    r"[A-Za-z0-9][\w.-]*/[\w.-]+$"
)
_SHARD = re.compile(r"-\d{5}-of-\d{5}(?=\.[^./]+$)")


def model_parameter_count(weights: Iterable[WeightFacts]) -> int | None:
    """One parameter count for the model, or None when no single figure is true.

    Shards of one checkpoint (``*-00001-of-00003.*``) are summed into that checkpoint. Several
    checkpoints that hold the same count are one model exported several times (safetensors and
    ONNX, a GGUF per quantization, an ONNX per sample rate): that count, not their sum. When
    the checkpoints disagree (an OpenVINO variant folded differently, several sub-models), there
    is no model-level figure; every weight file keeps its own. ``pack`` (the ModelPack
    ``paramSize``), the SBOMs and the cards all use this one rule.
    """
    checkpoints: dict[str, int] = {}
    for w in weights:
        if w.parameter_count is None:
            continue
        key = _SHARD.sub("", w.path)
        checkpoints[key] = checkpoints.get(key, 0) + w.parameter_count
    totals = set(checkpoints.values())
    return totals.pop() if len(totals) == 1 else None


@dataclass(frozen=True)
class WeightFacts:
    """Format facts of one weight file, read from its header only (never the weights)."""

    path: str
    format: str  # safetensors | gguf | onnx | pt | ...
    tensor_count: int | None = None
    parameter_count: int | None = None
    dtypes: tuple[str, ...] = ()  # as the format names them (safetensors "BF16", GGUF "Q4_K")
    architecture: str | None = None  # GGUF general.architecture, ONNX graph name...
    quantization: str | None = None  # GGUF file type name (e.g. "MOSTLY_Q4_K_M")
    context_length: int | None = None
    opset: int | None = None  # ONNX
    producer: str | None = None  # ONNX producer_name/version
    inputs: tuple[str, ...] = ()  # ONNX graph inputs "name: type[shape]"
    outputs: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)  # safetensors __metadata__, GGUF kv


@dataclass(frozen=True)
class LicenseFact:
    """A licence as found: a LICENSE file, card front matter, a header, or a declaration."""

    source: str  # "LICENSE" (path), "README.md#front-matter", "attest.yaml", "file header"
    spdx_id: str | None  # a known SPDX id/expression, or None when the text is not recognised
    name: str | None = None  # what the source literally said, when not an SPDX id
    sha256: str | None = None  # of the licence file, when the source is a file


@dataclass(frozen=True)
class DatasetFact:
    """A dataset used in the model's lifecycle."""

    name: str  # e.g. "some-org/tiny-corpus" (Hugging Face id) or a declared name
    use: Literal["training", "testing", "evaluation", "fine-tuning", "unknown"] = "unknown"
    url: str | None = None
    license: str | None = None  # SPDX id when known
    description: str | None = None
    path: str | None = None  # a dataset file packed with the model
    sha256: str | None = None
    source: str = "card"  # "card" | "attest.yaml" | "layer" | "model-index"


@dataclass(frozen=True)
class MetricFact:
    """One evaluation result (model-index in the card, or declared)."""

    type: str  # e.g. "accuracy"
    value: float | int | str
    name: str | None = None
    task: str | None = None  # e.g. "text-generation"
    dataset: str | None = None  # dataset name or id
    split: str | None = None


@dataclass
class CardFacts:
    """What the model card (README.md) says: front matter and prose sections."""

    path: str
    front_matter: dict[str, Any] = field(default_factory=dict)  # as parsed, unchanged
    license: str | None = None
    language: list[str] = field(default_factory=list)
    library_name: str | None = None
    pipeline_tag: str | None = None
    tags: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    base_model: list[str] = field(default_factory=list)
    metrics: list[MetricFact] = field(default_factory=list)
    title: str | None = None  # first H1
    summary: str | None = None  # the text between the first H1 and the next heading
    sections: dict[str, str] = field(default_factory=dict)  # H2 title -> markdown text
    arxiv: list[str] = field(default_factory=list)  # arXiv links found in the card
    # hub ids the prose says the model was fine-tuned from ("a fine-tuned version of [x](url)")
    base_model_text: list[str] = field(default_factory=list)


@dataclass
class Declared:
    """``attest.yaml`` (or ``--facts FILE``): what cannot be inferred from the files."""

    path: str
    name: str | None = None
    version: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    license: str | None = None
    datasets: list[DatasetFact] = field(default_factory=list)
    paper_url: str | None = None
    technical_report_url: str | None = None
    source_repository: str | None = None
    source_commit: str | None = None
    base_model: str | None = None
    intended_use: str | None = None
    out_of_scope_use: str | None = None
    limitations: str | None = None
    component_licenses: dict[str, str] = field(default_factory=dict)  # MOF component -> SPDX
    components: dict[str, list[str]] = field(default_factory=dict)  # MOF component -> paths
    extra: dict[str, Any] = field(default_factory=dict)  # documented free-form keys


@dataclass
class ModelFacts:
    """Everything known about one model. Built by :func:`attest.facts.gather.gather_facts`."""

    name: str
    files: list[FileFact]
    subject: Subject | None = None  # the artifact the facts come from, when one
    version: str | None = None
    weights: list[WeightFacts] = field(default_factory=list)
    hf_config: dict[str, Any] | None = None  # config.json
    generation_config: dict[str, Any] | None = None
    tokenizer_files: list[str] = field(default_factory=list)
    chat_template: bool = False
    card: CardFacts | None = None
    licenses: list[LicenseFact] = field(default_factory=list)
    datasets: list[DatasetFact] = field(default_factory=list)  # merged: card + declared + layers
    modelpack_config: dict[str, Any] | None = None
    modelfile: str | None = None  # org.cncf.modctl.modelfile annotation or ./Modelfile
    kitfile: str | None = None
    declared: Declared | None = None
    warnings: list[str] = field(default_factory=list)  # what could not be read, said honestly
    # The build's checkout and CI, read by the flow that builds; not part of the facts' JSON.
    source: SourceFacts = field(default_factory=SourceFacts)

    # -- derived views, so every stage reads the same answer ------------------------------------

    @property
    def parameter_count(self) -> int | None:
        """The model's parameter count, when one figure is meaningful (see
        :func:`model_parameter_count`); each weight file keeps its own count either way."""
        return model_parameter_count(self.weights)

    @property
    def license(self) -> str | None:
        """The model's licence: declared, else the card's, else a recognised LICENSE file."""
        if self.declared and self.declared.license:
            return self.declared.license
        if self.card and self.card.license:
            return self.card.license
        ids = sorted({lic.spdx_id for lic in self.licenses if lic.spdx_id})
        return " AND ".join(ids) if ids else None

    @property
    def base_models(self) -> list[str]:
        return self.base_model_fact[0]

    @property
    def base_model_fact(self) -> tuple[list[str], str | None]:
        """``(base models, where they came from)``: attest.yaml, else the card's front matter,
        else the card's own words ("a fine-tuned version of [org/x](https://huggingface.co/..)"),
        else config.json's ``_name_or_path`` when it is a hub id that is not this model's name
        (transformers writes there the model a checkpoint was loaded from)."""
        if self.declared and self.declared.base_model:
            return [self.declared.base_model], "attest.yaml"
        card = self.card
        if card and card.base_model:
            return list(card.base_model), f"{card.path} front matter"
        if card and card.base_model_text:
            return list(card.base_model_text), f"{card.path} text"
        loaded_from = (self.hf_config or {}).get("_name_or_path")
        if isinstance(loaded_from, str) and _HUB_ID.match(loaded_from):
            own = {self.name.lower(), (card.title or "").lower() if card else ""}
            if loaded_from.lower() not in own and loaded_from.split("/")[-1].lower() not in own:
                return [loaded_from], "config.json _name_or_path"
        return [], None

    @property
    def language_fact(self) -> tuple[list[str], str | None]:
        """``(languages, source)``: the card's front matter, else GGUF ``general.languages``."""
        if self.card and self.card.language:
            return list(self.card.language), f"{self.card.path} front matter"
        for w in self.weights:
            value = w.metadata.get("general.languages")
            if isinstance(value, list) and value:
                return [str(v) for v in value if isinstance(v, (str, int))], \
                    f"{w.path} general.languages"
        return [], None

    @property
    def organization_fact(self) -> tuple[list[str], str | None]:
        """``(who made it, source)``: attest.yaml ``authors``, else GGUF ``general.organization``
        (or ``general.author``)."""
        if self.declared and self.declared.authors:
            return list(self.declared.authors), "attest.yaml"
        for key in ("general.organization", "general.author"):
            for w in self.weights:
                value = w.metadata.get(key)
                if isinstance(value, str) and value.strip():
                    return [value.strip()], f"{w.path} {key}"
        return [], None

    @property
    def architecture(self) -> str | None:
        if self.hf_config and self.hf_config.get("architectures"):
            return str(self.hf_config["architectures"][0])
        for w in self.weights:
            if w.architecture:
                return w.architecture
        if self.modelpack_config:
            return (self.modelpack_config.get("config") or {}).get("architecture")
        return None

    @property
    def created_at(self) -> datetime | None:
        """The ModelPack ``descriptor.createdAt`` (UTC, whole seconds): the only timestamp
        evidence documents may carry, so they stay reproducible."""
        descriptor = (self.modelpack_config or {}).get("descriptor") or {}
        value = descriptor.get("createdAt")
        if not isinstance(value, str):
            return None
        try:  # Python 3.10's fromisoformat does not read the "Z" suffix
            parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None
        return parsed.astimezone(timezone.utc).replace(microsecond=0)

    @property
    def formats(self) -> list[str]:
        return sorted({w.format for w in self.weights})

    def files_with_role(self, role: str) -> list[FileFact]:
        return [f for f in self.files if f.role == role]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``attest facts --format json``): camelCase keys; the documents read
        (config.json, generation_config.json, card front matter and sections, weight metadata,
        the ModelPack config, annotations, declared extras and maps) keep their own keys."""
        data = asdict(replace(self, subject=None))  # the subject's bytes and layers stay out
        data["subject"] = self.subject.facts_dict() if self.subject else None
        del data["source"]  # about this build, not the model (and it would change SPDX ids)
        data["parameter_count"] = self.parameter_count
        data["license"] = self.license
        data["architecture"] = self.architecture
        return dict(camel_keys(data, FACTS_DATA_FIELDS))
