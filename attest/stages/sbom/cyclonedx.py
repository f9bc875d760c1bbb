"""CycloneDX 1.6 ML-BOM from ModelFacts.

Built in three steps: the library (``cyclonedx-python-lib``) builds and serialises everything it
models (metadata, components, hashes, licences, pedigree, dependencies); ``modelCard`` and ``data``,
which the library does not model yet (its issues #911-#913), are added to the JSON; the final JSON
is validated against the 1.6 schema shipped inside the library. The result is deterministic: the
same facts give byte-identical JSON (written by :func:`attest.stages.sbom.stage.document_bytes`).
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Commit, Component, ComponentType, Pedigree
from cyclonedx.model.contact import OrganizationalContact
from cyclonedx.model.license import License
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema import Draft7Validator
from packageurl import PackageURL

from attest import __version__
from attest.errors import InputError, InternalError
from attest.facts.model import DatasetFact, FileFact, MetricFact, ModelFacts, WeightFacts
from attest.stages.sbom.weights import model_precision, model_quantization, weight_properties

SPEC_VERSION = "1.6"

# Fixed namespace so serial numbers are stable across runs and machines (uuid5, not uuid4).
_SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:attest:cyclonedx:serial-number")
_SHA256_RE = re.compile(r"^sha256:([0-9a-f]{64})$")
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


# -- public API ---------------------------------------------------------------------------------


def build_cyclonedx(facts: ModelFacts) -> dict[str, Any]:
    """Return the CycloneDX 1.6 ML-BOM for ``facts`` as JSON-ready data, schema-validated.

    Raises :class:`InputError` when a declared URL is not a URL, and :class:`InternalError` when
    the document fails the 1.6 schema (that is a bug in this module, never a user error).
    """
    _check_urls(facts)
    datasets = _unique_datasets(facts.datasets)
    doc = _library_json(facts, datasets)
    if facts.created_at is None:
        # The library always stamps wall-clock time; an unknown creation time is left out instead.
        doc["metadata"].pop("timestamp", None)
    card = model_card(facts, [dataset_ref(d) for d in datasets])
    if card:
        doc["metadata"]["component"]["modelCard"] = card
    by_ref = {c["bom-ref"]: c for c in doc.get("components", [])}
    for dataset in datasets:
        by_ref[dataset_ref(dataset)]["data"] = [dataset_data(dataset)]
    _canonical_order(doc)
    errors = schema_errors(doc)
    if errors:
        raise InternalError(
            "the CycloneDX document attest built is not valid CycloneDX 1.6: " + "; ".join(errors),
            hint="this is a bug in attest; please report it with the model's facts",
        )
    return doc


def schema_errors(doc: dict[str, Any], limit: int = 5) -> list[str]:
    """Errors of ``doc`` against the CycloneDX 1.6 JSON schema bundled with the library.

    The library resolves its ``$ref``s (SPDX ids, JSF) from package files: no network is used.
    """
    found = _validator().validate_str(json.dumps(doc), all_errors=True)
    messages = []
    for error in found or ():
        data = error.data
        where = getattr(data, "json_path", "$")
        text = getattr(data, "message", str(data))
        messages.append(f"{where}: {text[:300]}")
        if len(messages) >= limit:
            break
    return messages


def cyclonedx_to_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """A small comparable summary of a BOM (the inverse of :func:`build_cyclonedx`, in part)."""
    model = doc.get("metadata", {}).get("component", {})
    components = doc.get("components", [])
    card = model.get("modelCard", {})
    params = card.get("modelParameters", {})
    return {
        "name": model.get("name"),
        "version": model.get("version"),
        "licenses": sorted(_license_strings(model.get("licenses", []))),
        "datasets": sorted(c["name"] for c in components if c.get("type") == "data"),
        "files": {
            c["name"]: "sha256:" + h["content"]
            for c in components
            if c.get("type") == "file"
            for h in c.get("hashes", [])
            if h.get("alg") == "SHA-256"
        },
        "base_models": sorted(a["name"] for a in model.get("pedigree", {}).get("ancestors", [])),
        "task": params.get("task"),
        "architecture": params.get("modelArchitecture"),
        "metrics": sorted(
            (m.get("type"), m.get("value"), m.get("slice"))
            for m in card.get("quantitativeAnalysis", {}).get("performanceMetrics", [])
        ),
    }


def model_ref(facts: ModelFacts) -> str:
    return f"model:{facts.name}"


def file_ref(path: str) -> str:
    return f"file:{path}"


def dataset_ref(dataset: DatasetFact) -> str:
    return f"dataset:{dataset.name}"


# -- what the library builds ---------------------------------------------------------------------


def _library_json(facts: ModelFacts, datasets: list[DatasetFact]) -> dict[str, Any]:
    model = _model_component(facts)
    weights = {w.path: w for w in facts.weights}
    files = [_file_component(f, weights.get(f.path)) for f in facts.files]
    data = [_dataset_component(d) for d in datasets]
    bom = Bom(
        components=files + data,
        serial_number=serial_number(facts),
        metadata=BomMetaData(
            component=model,
            tools=ToolRepository(components=[_tool_component()]),
            timestamp=facts.created_at,
        ),
    )
    bom.register_dependency(model, files + data)
    return json.loads(JsonV1Dot6(bom).output_as_string())


def serial_number(facts: ModelFacts) -> uuid.UUID:
    """uuid5 over the subject digest, else over the sorted (path, digest) pairs, else the name."""
    if facts.subject:
        seed = facts.subject.digest
    elif facts.files:
        seed = "\n".join(sorted(f"{f.path}\0{f.sha256}" for f in facts.files))
    else:
        seed = f"name:{facts.name}"
    return uuid.uuid5(_SERIAL_NAMESPACE, seed)


def _tool_component() -> Component:
    return Component(type=ComponentType.APPLICATION, name="attest", version=__version__)


def _model_component(facts: ModelFacts) -> Component:
    declared = facts.declared
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=facts.name,
        version=facts.version,
        bom_ref=model_ref(facts),
        description=declared.description if declared else None,
        authors=[OrganizationalContact(name=a) for a in declared.authors] if declared else None,
        purl=oci_purl(facts),
        licenses=_model_licenses(facts),
        external_references=_model_references(facts),
        properties=_model_properties(facts),
        pedigree=_pedigree(facts),
        tags=facts.card.tags if facts.card and facts.card.tags else None,
    )


def oci_purl(facts: ModelFacts) -> PackageURL | None:
    """``pkg:oci/<name>@sha256:<hex>?repository_url=<registry/repo>`` (purl ``oci`` type).

    The name is the repository's last path segment, lower-cased (the type definition says so).
    A local OCI layout is no repository anyone else can reach, so it gives the name only.
    Percent-encoding follows the purl standard as packageurl-python writes it: the ':' in the
    digest stays unencoded (``sha256%3A`` in older examples parses to the same purl).
    """
    subject = facts.subject
    if subject is None:
        return None
    if _is_registry(subject.repository):
        name = subject.repository.rsplit("/", 1)[-1].lower()
        qualifiers = {"repository_url": subject.repository}
    else:
        name, qualifiers = facts.name.lower(), {}
    return PackageURL(type="oci", name=name, version=subject.digest, qualifiers=qualifiers)


def _is_registry(repository: str) -> bool:
    return not repository.startswith("oci:")


def _model_licenses(facts: ModelFacts) -> list[License]:
    factory = LicenseFactory()
    if facts.license:
        return [factory.make_from_string(facts.license)]
    # No SPDX id anywhere: keep what the sources literally said, as named licences.
    names = sorted({lic.name for lic in facts.licenses if lic.name})
    return [factory.make_with_name(name) for name in names]


def _model_references(facts: ModelFacts) -> list[ExternalReference]:
    refs: list[ExternalReference] = []
    subject = facts.subject
    if subject and _is_registry(subject.repository):
        # oci:// form: a bare "127.0.0.1:5000/repo@sha256:..." is not a valid IRI reference.
        url = f"oci://{subject.repository}@{subject.digest}"
        refs.append(_reference(ExternalReferenceType.DISTRIBUTION, url, "OCI manifest"))
    if facts.card:
        card_file = _file_by_path(facts, facts.card.path)
        hashes = [_sha256(card_file)] if card_file else None
        refs.append(ExternalReference(type=ExternalReferenceType.MODEL_CARD,
                                      url=XsUri(facts.card.path), hashes=hashes))
    declared = facts.declared
    if declared and declared.source_repository:
        refs.append(_reference(ExternalReferenceType.VCS, declared.source_repository))
    for url, comment in _documentation_urls(facts):
        refs.append(_reference(ExternalReferenceType.DOCUMENTATION, url, comment))
    return refs


def _documentation_urls(facts: ModelFacts) -> list[tuple[str, str]]:
    declared = facts.declared
    urls: list[tuple[str, str]] = []
    if declared and declared.paper_url:
        urls.append((declared.paper_url, "paper"))
    if declared and declared.technical_report_url:
        urls.append((declared.technical_report_url, "technical report"))
    for link in facts.card.arxiv if facts.card else []:
        if link not in {u for u, _ in urls}:
            urls.append((link, "arXiv paper linked from the model card"))
    return urls


def _reference(kind: ExternalReferenceType, url: str, comment: str | None = None
               ) -> ExternalReference:
    return ExternalReference(type=kind, url=XsUri(url), comment=comment)


def _model_properties(facts: ModelFacts) -> list[Property]:
    props = []
    if facts.parameter_count is not None:
        props.append(Property(name="attest:parameter-count", value=str(facts.parameter_count)))
    if facts.formats:
        props.append(Property(name="attest:format", value=",".join(facts.formats)))
    precision, quantization = model_precision(facts), model_quantization(facts)
    if precision:
        props.append(Property(name="attest:precision", value=precision))
    if quantization:
        props.append(Property(name="attest:quantization", value=quantization))
    # facts the front matter and attest.yaml are silent about, with where they were found
    for key, (values, source) in (("base-model", facts.base_model_fact),
                                  ("languages", facts.language_fact),
                                  ("organization", facts.organization_fact)):
        if not values or not source or source == "attest.yaml" or source.endswith("front matter"):
            continue
        if key != "base-model":  # the base model itself is the pedigree's ancestor
            props.append(Property(name=f"attest:{key}", value=",".join(values)))
        props.append(Property(name=f"attest:{key}-source", value=source))
    return props


def _pedigree(facts: ModelFacts) -> Pedigree | None:
    # "Derived from" in CycloneDX: the base model is an ancestor; the source commit a commit.
    ancestors = [
        Component(type=ComponentType.MACHINE_LEARNING_MODEL, name=b, bom_ref=f"base-model:{b}")
        for b in facts.base_models
    ]
    declared = facts.declared
    commits = []
    if declared and declared.source_commit:
        url = XsUri(declared.source_repository) if declared.source_repository else None
        commits.append(Commit(uid=declared.source_commit, url=url))
    if not ancestors and not commits:
        return None
    return Pedigree(ancestors=ancestors, commits=commits)


def _file_component(file: FileFact, weight: WeightFacts | None = None) -> Component:
    licenses = [LicenseFactory().make_from_string(file.spdx_license)] if file.spdx_license else None
    props = [Property(name="attest:role", value=file.role)]
    if weight is not None:
        props += [Property(name=k, value=v) for k, v in weight_properties(weight)]
    return Component(
        type=ComponentType.FILE,
        name=file.path,
        bom_ref=file_ref(file.path),
        hashes=[_sha256(file)],
        licenses=licenses,
        properties=props,
    )


def _dataset_component(dataset: DatasetFact) -> Component:
    props = []
    if dataset.use != "unknown":
        props.append(Property(name="attest:dataset-use", value=dataset.use))
    if dataset.path:
        props.append(Property(name="attest:path", value=dataset.path))
    hashes = [HashType(alg=HashAlgorithm.SHA_256, content=_hex(dataset.sha256, dataset.name))] \
        if dataset.sha256 else None
    licenses = [LicenseFactory().make_from_string(dataset.license)] if dataset.license else None
    return Component(
        type=ComponentType.DATA,
        name=dataset.name,
        bom_ref=dataset_ref(dataset),
        hashes=hashes,
        licenses=licenses,
        properties=props,
    )


def _sha256(file: FileFact) -> HashType:
    return HashType(alg=HashAlgorithm.SHA_256, content=_hex(file.sha256, file.path))


def _hex(digest: str, what: str) -> str:
    match = _SHA256_RE.match(digest)
    if not match:
        raise InternalError(f"digest of {what!r} is not 'sha256:<64 hex>': {digest!r}")
    return match.group(1)


def _file_by_path(facts: ModelFacts, path: str) -> FileFact | None:
    return next((f for f in facts.files if f.path == path), None)


def _unique_datasets(datasets: Iterable[DatasetFact]) -> list[DatasetFact]:
    # One data component per name: bom-refs must be unique. The merged list puts the most
    # explicit source first, so the first fact for a name wins.
    seen: dict[str, DatasetFact] = {}
    for dataset in datasets:
        seen.setdefault(dataset.name, dataset)
    return list(seen.values())


# -- what the library lacks: modelCard and data -----------------------------------------------


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


# -- ordering, validation, input checks -----------------------------------------------------------


def _canonical_order(doc: dict[str, Any]) -> None:
    """Sort what has no meaningful order, so the bytes depend on the facts alone."""
    doc["components"] = sorted(doc.get("components", []), key=lambda c: c["bom-ref"])
    if not doc["components"]:
        del doc["components"]
    for dep in doc.get("dependencies", []):
        if "dependsOn" in dep:
            dep["dependsOn"] = sorted(dep["dependsOn"])
    doc["dependencies"] = sorted(doc.get("dependencies", []), key=lambda d: d["ref"])


@functools.lru_cache(maxsize=1)
def _validator() -> JsonStrictValidator:
    # One validator per process: it compiles the 1.6 schema once, on first use.
    return JsonStrictValidator(SchemaVersion.V1_6)


def _check_urls(facts: ModelFacts) -> None:
    """A declared URL that is not one is the user's input error, said before building."""
    candidates: list[tuple[str, str | None]] = []
    if facts.declared:
        candidates += [
            ("source_repository", facts.declared.source_repository),
            ("paper_url", facts.declared.paper_url),
            ("technical_report_url", facts.declared.technical_report_url),
        ]
    candidates += [(f"dataset {d.name!r} url", d.url) for d in facts.datasets]
    candidates += [("model card arXiv link", u) for u in (facts.card.arxiv if facts.card else [])]
    # uri-reference (rfc3986-validator), not iri-reference: the IRI checker's dependency costs
    # 1.5 s of import time on every command. Declared URLs are ASCII in practice.
    checker = Draft7Validator.FORMAT_CHECKER
    for field_name, value in candidates:
        if value is not None and not checker.conforms(value, "uri-reference"):
            raise InputError(
                f"{field_name} is not a URL: {value!r}",
                hint="write it as a URL, e.g. https://github.com/org/repo",
            )


def _license_strings(entries: list[dict[str, Any]]) -> list[str]:
    out = []
    for entry in entries:
        if "expression" in entry:
            out.append(entry["expression"])
        elif "license" in entry:
            lic = entry["license"]
            out.append(lic.get("id") or lic.get("name"))
    return out
