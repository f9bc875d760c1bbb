"""CycloneDX 1.6 ML-BOM: schema validity (library validator and plain jsonschema), content,
determinism, round trip, and that unknown facts stay absent."""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from datetime import datetime, timezone
from importlib import resources
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema import Draft7Validator
from packageurl import PackageURL
from referencing import Registry
from referencing.jsonschema import DRAFT7

from attest import __version__
from attest.errors import InputError, InternalError
from attest.evidence.table import CYCLONEDX as PREDICATE_TYPE
from attest.facts.model import (
    CardFacts,
    DatasetFact,
    Declared,
    FileFact,
    LicenseFact,
    MetricFact,
    ModelFacts,
    WeightFacts,
)
from attest.facts.subject import Subject
from attest.oci.mediatypes import CYCLONEDX_JSON as MEDIA_TYPE
from attest.sbom_read import cyclonedx as cdx
from attest.sbom_read.cyclonedx import cyclonedx_to_facts, schema_errors
from attest.stages.sbom import cyclonedx as cdx_writer
from attest.stages.sbom.cyclonedx import build_cyclonedx
from attest.stages.sbom.stage import document_bytes

MT = "application/vnd.cncf.model"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _file(path: str, content: bytes, role: str, kind: str, spdx: str | None = None) -> FileFact:
    digest = _sha(content)
    return FileFact(path=path, size=len(content), sha256=digest, role=role,  # type: ignore[arg-type]
                    media_type=f"{MT}.{kind}.v1.raw", layer_digest=digest, spdx_license=spdx)


README = b"---\nlicense: apache-2.0\nbase_model: some-org/tiny-base\n---\n# Tiny Llama\n"
MODELING = b"# SPDX-License-Identifier: Apache-2.0\nclass TinyLlama: ...\n"
EVAL_DATA = b'{"prompt": "1+1=", "answer": "2"}\n'
LICENSE_TEXT = b"Apache License\nVersion 2.0, January 2004\n"


def full_facts() -> ModelFacts:
    """A realistic packed model: weights, config, tokenizer, card, licence, code, dataset file."""
    files = [
        _file("model.safetensors", b"\x08\0\0\0\0\0\0\0{}      ", "weight", "weight"),
        _file("config.json", b'{"model_type": "llama"}', "weight-config", "weight.config"),
        _file("generation_config.json", b'{"max_length": 64}', "weight-config", "weight.config"),
        _file("tokenizer.json", b'{"version": "1.0"}', "weight-config", "weight.config"),
        _file("tokenizer_config.json", b'{"model_max_length": 64}', "weight-config",
              "weight.config"),
        _file("README.md", README, "doc", "doc"),
        _file("LICENSE", LICENSE_TEXT, "doc", "doc"),
        _file("modeling_tiny.py", MODELING, "code", "code", spdx="Apache-2.0"),
        _file("data/eval.jsonl", EVAL_DATA, "dataset", "dataset"),
    ]
    metrics = [
        MetricFact(type="accuracy", value=0.5, name="Accuracy", task="text-generation",
                   dataset="some-org/tiny-corpus", split="test"),
        MetricFact(type="perplexity", value=12.25, dataset="tiny-eval"),
    ]
    card = CardFacts(
        path="README.md",
        front_matter={"license": "apache-2.0", "base_model": "some-org/tiny-base",
                      "pipeline_tag": "text-generation", "datasets": ["some-org/tiny-corpus"]},
        license="apache-2.0",
        language=["en"],
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["llama", "tiny"],
        datasets=["some-org/tiny-corpus"],
        base_model=["some-org/tiny-base"],
        metrics=metrics,
        title="Tiny Llama",
        sections={
            "Model Details": "A 1k-parameter Llama for tests.",
            "Intended uses": "Unit tests of ML supply-chain tooling.",
            "Bias, Risks, and Limitations": "Generates noise; not for any real use.",
            "Environmental Impact": "[More Information Needed]",
        },
        arxiv=["https://arxiv.org/abs/2302.13971"],
    )
    datasets = [
        DatasetFact(name="some-org/tiny-corpus", use="training",
                    url="https://huggingface.co/datasets/some-org/tiny-corpus",
                    license="cc-by-4.0", source="card"),
        DatasetFact(name="tiny-eval", use="evaluation", description="Ten arithmetic prompts.",
                    path="data/eval.jsonl", sha256=_sha(EVAL_DATA), source="layer"),
    ]
    declared = Declared(
        path="attest.yaml",
        version="1.0.0",
        description="A tiny Llama for tests.",
        authors=["Some Org"],
        source_repository="https://github.com/some-org/tiny-llama",
        source_commit="0123456789abcdef0123456789abcdef01234567",
        technical_report_url="https://example.org/tiny-llama-report.pdf",
        extra={"approach": "self-supervised"},
    )
    subject = Subject(
        reference="localhost:5000/models/tiny-llama:v1",
        repository="localhost:5000/models/tiny-llama",
        digest=_sha(b"manifest bytes"),
        media_type="application/vnd.oci.image.manifest.v1+json",
        size=1234,
    )
    return ModelFacts(
        name="tiny-llama",
        files=files,
        subject=subject,
        version="1.0.0",
        weights=[WeightFacts(path="model.safetensors", format="safetensors", tensor_count=2,
                             parameter_count=1024, dtypes=("BF16",))],
        hf_config={"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                   "hidden_size": 16},
        generation_config={"max_length": 64},
        tokenizer_files=["tokenizer.json", "tokenizer_config.json"],
        card=card,
        licenses=[
            LicenseFact(source="LICENSE", spdx_id="Apache-2.0", sha256=_sha(LICENSE_TEXT)),
            LicenseFact(source="README.md#front-matter", spdx_id="Apache-2.0"),
        ],
        datasets=datasets,
        modelpack_config={
            "descriptor": {"name": "tiny-llama", "createdAt": "2025-01-02T03:04:05Z"},
            "config": {"format": "safetensors", "paramSize": "1.02K", "precision": "bf16"},
            "modelfs": {"type": "layers", "diffIds": [f.sha256 for f in files]},
        },
        declared=declared,
    )


def minimal_facts() -> ModelFacts:
    """Almost nothing known: one weight file in a plain directory."""
    return ModelFacts(name="bare", files=[_file("weights.bin", b"\0" * 16, "weight", "weight")])


@pytest.fixture(scope="module")
def full_doc() -> dict[str, Any]:
    return build_cyclonedx(full_facts())


@pytest.fixture(scope="module")
def minimal_doc() -> dict[str, Any]:
    return build_cyclonedx(minimal_facts())


def _components(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc.get("components", []) if c["type"] == kind}


def _plain_jsonschema_validator() -> Draft7Validator:
    """Draft-7 validator over the 1.6 schema file in the library's package data, built here
    without the library's wrapper, its $refs served from the same package (never the network)."""
    res = resources.files("cyclonedx.schema._res")

    def load(name: str) -> dict[str, Any]:
        return json.loads(res.joinpath(name).read_text(encoding="utf-8"))

    prefix = "http://cyclonedx.org/schema/"
    registry = Registry().with_resources(
        (prefix + name, DRAFT7.create_resource(load(name)))
        for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json",
                     "cryptography-defs.SNAPSHOT.schema.json")
    )
    schema = load("bom-1.6.SNAPSHOT.schema.json")
    assert schema["$id"] == "http://cyclonedx.org/schema/bom-1.6.schema.json"
    return Draft7Validator(schema, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)


# -- schema validity ------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [full_facts, minimal_facts])
def test_valid_per_library_validator(make: Any) -> None:
    doc = build_cyclonedx(make())
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    assert error is None, str(error)
    assert schema_errors(doc) == []


@pytest.mark.parametrize("make", [full_facts, minimal_facts])
def test_valid_per_plain_jsonschema(make: Any) -> None:
    doc = build_cyclonedx(make())
    errors = [f"{e.json_path}: {e.message}" for e in _plain_jsonschema_validator().iter_errors(doc)]
    assert errors == []


def test_plain_validator_catches_a_broken_model_card(full_doc: dict[str, Any]) -> None:
    # The independent check can fail: an unknown key inside modelCard is rejected.
    broken = copy.deepcopy(full_doc)
    broken["metadata"]["component"]["modelCard"]["modelParameters"]["bogus"] = "x"
    assert list(_plain_jsonschema_validator().iter_errors(broken))
    assert any("bogus" in e for e in schema_errors(broken))


def test_invalid_document_raises_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdx_writer, "model_card", lambda facts, refs: {"notAField": True})
    with pytest.raises(InternalError) as info:
        build_cyclonedx(full_facts())
    assert "notAField" in info.value.message


def test_validation_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network used during CycloneDX build/validation")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    cdx._validator.cache_clear()  # load and compile the schema again, with sockets blocked
    doc = build_cyclonedx(full_facts())
    assert schema_errors(doc) == []


# -- content --------------------------------------------------------------------------------------


def test_header_and_metadata(full_doc: dict[str, Any]) -> None:
    assert full_doc["bomFormat"] == "CycloneDX"
    assert full_doc["specVersion"] == "1.6"
    assert full_doc["serialNumber"].startswith("urn:uuid:")
    tools = full_doc["metadata"]["tools"]["components"]
    assert {"name": "attest", "type": "application", "version": __version__} in tools
    stamp = datetime.fromisoformat(full_doc["metadata"]["timestamp"])
    assert stamp == datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert MEDIA_TYPE == "application/vnd.cyclonedx+json"
    assert PREDICATE_TYPE == "https://cyclonedx.org/bom/v1.6"


def test_model_component(full_doc: dict[str, Any]) -> None:
    facts = full_facts()
    model = full_doc["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert model["name"] == "tiny-llama"
    assert model["version"] == "1.0.0"
    assert model["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert model["description"] == "A tiny Llama for tests."
    assert model["authors"] == [{"name": "Some Org"}]
    assert model["tags"] == ["llama", "tiny"]
    assert "hashes" not in model
    purl = PackageURL.from_string(model["purl"])
    assert (purl.type, purl.name, purl.version) == ("oci", "tiny-llama", facts.subject.digest)
    assert purl.qualifiers == {"repository_url": "localhost:5000/models/tiny-llama"}
    refs = {(r["type"], r["url"]) for r in model["externalReferences"]}
    assert refs == {
        ("distribution", f"oci://localhost:5000/models/tiny-llama@{facts.subject.digest}"),
        ("model-card", "README.md"),
        ("vcs", "https://github.com/some-org/tiny-llama"),
        ("documentation", "https://example.org/tiny-llama-report.pdf"),
        ("documentation", "https://arxiv.org/abs/2302.13971"),
    }
    card_ref = next(r for r in model["externalReferences"] if r["type"] == "model-card")
    assert card_ref["hashes"] == [{"alg": "SHA-256", "content": _sha(README)[7:]}]
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props == {"attest:parameter-count": "1024", "attest:format": "safetensors",
                     "attest:precision": "bfloat16"}


def test_every_file_listed_with_its_sha256(full_doc: dict[str, Any]) -> None:
    files = _components(full_doc, "file")
    facts = full_facts()
    assert set(files) == {f.path for f in facts.files}
    for fact in facts.files:
        comp = files[fact.path]
        assert comp["bom-ref"] == f"file:{fact.path}"
        hex_digest = fact.sha256.removeprefix("sha256:")
        assert comp["hashes"] == [{"alg": "SHA-256", "content": hex_digest}]
        assert {"name": "attest:role", "value": fact.role} in comp["properties"]
    assert files["modeling_tiny.py"]["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert "licenses" not in files["config.json"]  # no SPDX header, no licence claimed


def test_datasets_are_data_components(full_doc: dict[str, Any]) -> None:
    data = _components(full_doc, "data")
    assert set(data) == {"some-org/tiny-corpus", "tiny-eval"}
    corpus = data["some-org/tiny-corpus"]
    assert corpus["bom-ref"] == "dataset:some-org/tiny-corpus"
    assert corpus["licenses"] == [{"license": {"id": "CC-BY-4.0"}}]
    assert corpus["data"] == [{
        "type": "dataset", "name": "some-org/tiny-corpus",
        "contents": {"url": "https://huggingface.co/datasets/some-org/tiny-corpus"},
    }]
    assert {"name": "attest:dataset-use", "value": "training"} in corpus["properties"]
    local = data["tiny-eval"]
    assert local["data"] == [{"type": "dataset", "name": "tiny-eval",
                              "description": "Ten arithmetic prompts."}]
    assert local["hashes"] == [{"alg": "SHA-256", "content": _sha(EVAL_DATA)[7:]}]


def test_dependencies(full_doc: dict[str, Any]) -> None:
    deps = {d["ref"]: d.get("dependsOn", []) for d in full_doc["dependencies"]}
    expected = sorted([f"file:{f.path}" for f in full_facts().files]
                      + ["dataset:some-org/tiny-corpus", "dataset:tiny-eval"])
    assert deps["model:tiny-llama"] == expected
    all_refs = {c["bom-ref"] for c in full_doc["components"]} | {"model:tiny-llama"}
    assert set(deps) == all_refs


def test_base_model_and_commit_in_pedigree(full_doc: dict[str, Any]) -> None:
    pedigree = full_doc["metadata"]["component"]["pedigree"]
    assert pedigree["ancestors"] == [{"bom-ref": "base-model:some-org/tiny-base",
                                      "name": "some-org/tiny-base",
                                      "type": "machine-learning-model"}]
    assert pedigree["commits"] == [{"uid": "0123456789abcdef0123456789abcdef01234567",
                                    "url": "https://github.com/some-org/tiny-llama"}]


def test_model_card(full_doc: dict[str, Any]) -> None:
    card = full_doc["metadata"]["component"]["modelCard"]
    assert card["modelParameters"] == {
        "approach": {"type": "self-supervised"},
        "task": "text-generation",
        "architectureFamily": "llama",
        "modelArchitecture": "LlamaForCausalLM",
        "datasets": [{"ref": "dataset:some-org/tiny-corpus"}, {"ref": "dataset:tiny-eval"}],
        "inputs": [{"format": "text"}],
        "outputs": [{"format": "text"}],
    }
    refs = {c["bom-ref"] for c in full_doc["components"]}
    assert all(d["ref"] in refs for d in card["modelParameters"]["datasets"])
    assert card["quantitativeAnalysis"] == {"performanceMetrics": [
        {"type": "accuracy", "value": "0.5", "slice": "some-org/tiny-corpus (test)"},
        {"type": "perplexity", "value": "12.25", "slice": "tiny-eval"},
    ]}
    # Sections become considerations; the placeholder-only section is not a fact.
    assert card["considerations"] == {
        "useCases": ["Unit tests of ML supply-chain tooling."],
        "technicalLimitations": ["Generates noise; not for any real use."],
    }


def test_declared_text_wins_and_placeholders_are_dropped() -> None:
    facts = full_facts()
    assert facts.declared and facts.card
    facts.declared.limitations = "Declared limits."
    facts.card.sections = {"Uses": "### Direct Use\n\n[More Information Needed]\n\n<!-- fill -->"}
    card = build_cyclonedx(facts)["metadata"]["component"]["modelCard"]
    assert card["considerations"] == {"technicalLimitations": ["Declared limits."]}


def test_modelpack_capabilities_win_over_pipeline_tag() -> None:
    facts = full_facts()
    assert facts.modelpack_config
    facts.modelpack_config["config"]["capabilities"] = {"inputTypes": ["text", "image"],
                                                        "outputTypes": ["text"]}
    params = build_cyclonedx(facts)["metadata"]["component"]["modelCard"]["modelParameters"]
    assert params["inputs"] == [{"format": "text"}, {"format": "image"}]
    assert params["outputs"] == [{"format": "text"}]


def test_paper_linked_twice_is_listed_once() -> None:
    facts = full_facts()
    assert facts.declared
    facts.declared.paper_url = "https://arxiv.org/abs/2302.13971"  # also in the card
    refs = build_cyclonedx(facts)["metadata"]["component"]["externalReferences"]
    docs = [r for r in refs if r["type"] == "documentation"]
    assert sorted((r["url"], r["comment"]) for r in docs) == [
        ("https://arxiv.org/abs/2302.13971", "paper"),
        ("https://example.org/tiny-llama-report.pdf", "technical report"),
    ]


def test_layout_subject_has_no_registry_parts() -> None:
    facts = full_facts()
    facts.subject = Subject(
        reference="oci:/tmp/out:v1", repository="oci:/tmp/out", digest=_sha(b"m"),
        media_type="application/vnd.oci.image.manifest.v1+json", size=10,
    )
    model = build_cyclonedx(facts)["metadata"]["component"]
    assert model["purl"] == f"pkg:oci/tiny-llama@{_sha(b'm')}"
    assert "distribution" not in {r["type"] for r in model["externalReferences"]}


# -- determinism and round trip -------------------------------------------------------------------


def test_deterministic_bytes() -> None:
    first = document_bytes(build_cyclonedx(full_facts()))
    shuffled = full_facts()
    shuffled.files.reverse()
    assert document_bytes(build_cyclonedx(full_facts())) == first
    assert document_bytes(build_cyclonedx(shuffled)) == first
    bare = document_bytes(build_cyclonedx(minimal_facts()))
    assert document_bytes(build_cyclonedx(minimal_facts())) == bare


def test_serial_number_follows_subject_or_files() -> None:
    facts = full_facts()
    other = full_facts()
    assert other.subject
    other.subject.digest = _sha(b"another manifest")
    assert build_cyclonedx(facts)["serialNumber"] != build_cyclonedx(other)["serialNumber"]
    bare, changed = minimal_facts(), minimal_facts()
    changed.files = [_file("weights.bin", b"\1" * 16, "weight", "weight")]
    assert build_cyclonedx(bare)["serialNumber"] != build_cyclonedx(changed)["serialNumber"]


def test_round_trip_full(full_doc: dict[str, Any]) -> None:
    facts = full_facts()
    assert cyclonedx_to_facts(json.loads(document_bytes(full_doc))) == {
        "name": facts.name,
        "version": facts.version,
        "licenses": ["Apache-2.0"],
        "datasets": sorted(d.name for d in facts.datasets),
        "files": {f.path: f.sha256 for f in facts.files},
        "base_models": facts.base_models,
        "task": facts.card.pipeline_tag if facts.card else None,
        "architecture": facts.architecture,
        "metrics": [
            ("accuracy", "0.5", "some-org/tiny-corpus (test)"),
            ("perplexity", "12.25", "tiny-eval"),
        ],
    }


def test_round_trip_minimal(minimal_doc: dict[str, Any]) -> None:
    facts = minimal_facts()
    assert cyclonedx_to_facts(minimal_doc) == {
        "name": "bare", "version": None, "licenses": [], "datasets": [],
        "files": {f.path: f.sha256 for f in facts.files}, "base_models": [],
        "task": None, "architecture": None, "metrics": [],
    }


# -- unknown stays absent -------------------------------------------------------------------------


def _empty_values(node: Any, path: str = "$") -> list[str]:
    if isinstance(node, dict):
        found = [path] if not node else []
        for key, value in node.items():
            found += _empty_values(value, f"{path}.{key}")
        return found
    if isinstance(node, list):
        found = [path] if not node else []
        for i, value in enumerate(node):
            found += _empty_values(value, f"{path}[{i}]")
        return found
    return [path] if node is None or node == "" else []


@pytest.mark.parametrize("make", [full_facts, minimal_facts])
def test_no_empty_or_null_values(make: Any) -> None:
    assert _empty_values(build_cyclonedx(make())) == []


def test_unknown_facts_are_absent(minimal_doc: dict[str, Any]) -> None:
    model = minimal_doc["metadata"]["component"]
    assert model == {"bom-ref": "model:bare", "name": "bare", "type": "machine-learning-model"}
    assert "timestamp" not in minimal_doc["metadata"]  # no createdAt: no wall-clock time
    assert [c["name"] for c in minimal_doc["components"]] == ["weights.bin"]
    assert "licenses" not in minimal_doc["components"][0]


def test_unknown_pipeline_tag_gives_task_but_no_io() -> None:
    facts = full_facts()
    assert facts.card
    facts.card.pipeline_tag = "graph-ml"
    params = build_cyclonedx(facts)["metadata"]["component"]["modelCard"]["modelParameters"]
    assert params["task"] == "graph-ml"
    assert "inputs" not in params and "outputs" not in params


def test_unrecognised_licence_is_named_not_guessed() -> None:
    facts = minimal_facts()
    facts.licenses = [LicenseFact(source="LICENSE", spdx_id=None, name="Tiny Community License")]
    model = build_cyclonedx(facts)["metadata"]["component"]
    assert model["licenses"] == [{"license": {"name": "Tiny Community License"}}]


# -- input errors ---------------------------------------------------------------------------------


def test_declared_url_that_is_not_a_url_is_an_input_error() -> None:
    facts = full_facts()
    assert facts.declared
    facts.declared.source_repository = "git@github.com:some-org/tiny llama.git"
    with pytest.raises(InputError, match="source_repository"):
        build_cyclonedx(facts)


def test_malformed_file_digest_is_an_internal_error() -> None:
    facts = minimal_facts()
    facts.files = [FileFact(path="w.bin", size=1, sha256="deadbeef", role="weight",
                            media_type=f"{MT}.weight.v1.raw")]
    with pytest.raises(InternalError, match="w.bin"):
        build_cyclonedx(facts)
