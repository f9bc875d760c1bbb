"""SPDX 2.3 and SPDX 3.0.1 SBOMs built from ModelFacts: valid, complete, honest, reproducible."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attest.errors import InternalError
from attest.facts.model import DatasetFact, Declared, MetricFact, ModelFacts
from attest.facts.subject import Subject
from attest.sbom_read.spdx2 import spdx2_to_facts, validate_spdx2
from attest.sbom_read.spdx3 import spdx3_to_facts, validate_spdx3
from attest.stages.sbom.spdx2 import build_spdx2
from attest.stages.sbom.spdx3 import build_spdx3, card_hyperparameters, metric_entries
from attest.stages.sbom.spdx_common import dataset_relation
from attest.stages.sbom.stage import FORMATS
from tests.sbom_fixtures import (
    CREATED_AT,
    FULL_FILES,
    MANIFEST_DIGEST,
    full_model_facts,
    minimal_model_facts,
    sbom_summary,
)

FIXTURES = {"full": full_model_facts, "minimal": minimal_model_facts}
NO_ASSERTION_LICENSE = "expandedlicensing_NoAssertionLicense"


# -- shared, built once per module: validation is the slow part --------------------------------


@pytest.fixture(scope="module", params=sorted(FIXTURES))
def case(request: pytest.FixtureRequest) -> tuple[ModelFacts, dict[str, Any], dict[str, Any]]:
    facts = FIXTURES[request.param]()
    return facts, build_spdx2(facts), build_spdx3(facts)


@pytest.fixture(scope="module")
def full() -> tuple[ModelFacts, dict[str, Any], dict[str, Any]]:
    facts = full_model_facts()
    return facts, build_spdx2(facts), build_spdx3(facts)


@pytest.fixture(scope="module")
def minimal() -> tuple[ModelFacts, dict[str, Any], dict[str, Any]]:
    facts = minimal_model_facts()
    return facts, build_spdx2(facts), build_spdx3(facts)


def packages(doc2: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["SPDXID"]: p for p in doc2["packages"]}


def relationships2(doc2: dict[str, Any], source: str = "SPDXRef-Model"
                   ) -> list[tuple[str, str, str]]:
    return [
        (r["relationshipType"], r["relatedSpdxElement"], r.get("comment", ""))
        for r in doc2["relationships"]
        if r["spdxElementId"] == source
    ]


def graph(doc3: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o.get("spdxId", o.get("@id")): o for o in doc3["@graph"]}


def model3(doc3: dict[str, Any]) -> dict[str, Any]:
    return next(o for o in doc3["@graph"] if o.get("spdxId", "").endswith("#SPDXRef-Model"))


def relationship3(doc3: dict[str, Any], source: str, kind: str) -> dict[str, Any]:
    return next(o for o in doc3["@graph"] if o["type"] == "Relationship"
                and o["from"] == source and o["relationshipType"] == kind)


def relations3(doc3: dict[str, Any], source: str) -> dict[str, list[str]]:
    """relationshipType -> names (or ids) of the targets, for relationships from ``source``."""
    objs = graph(doc3)
    out: dict[str, list[str]] = {}
    for o in doc3["@graph"]:
        if o["type"] == "Relationship" and o["from"] == source:
            names = [objs[t].get("name", t) if t in objs else t for t in o["to"]]
            out.setdefault(o["relationshipType"], []).extend(names)
    return out


# -- validity -------------------------------------------------------------------------------------


def test_spdx2_passes_the_spdx_tools_validator(case: Any) -> None:
    _, doc2, _ = case
    assert doc2["spdxVersion"] == "SPDX-2.3"
    assert validate_spdx2(doc2) == []


def test_spdx3_passes_the_binding_validation(case: Any) -> None:
    _, _, doc3 = case
    assert doc3["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    assert validate_spdx3(doc3) == []


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (lambda d: d["relationships"].append({"spdxElementId": "SPDXRef-Model",
                                               "relationshipType": "CONTAINS",
                                               "relatedSpdxElement": "SPDXRef-Nowhere"}),
         "SPDXRef-Nowhere"),
        (lambda d: d["packages"][0].update(licenseDeclared="Not-A-Licence-1.0"),
         "Not-A-Licence-1.0"),
        (lambda d: d["packages"][1]["checksums"][0].update(checksumValue="abc"), "abc"),
        (lambda d: d["creationInfo"].pop("created"), "created"),
    ],
    ids=["dangling-relationship", "unknown-licence", "short-sha256", "no-created"],
)
def test_spdx2_validator_rejects_broken_documents(full: Any, tamper: Any, expected: str) -> None:
    doc2 = copy.deepcopy(full[1])
    tamper(doc2)
    errors = validate_spdx2(doc2)
    assert errors and any(expected in e for e in errors), errors


def _first(doc3: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(o for o in doc3["@graph"] if o["type"] == type_)


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (lambda d: _first(d, "CreationInfo").pop("createdBy"), "createdBy"),
        (lambda d: _first(d, "dataset_DatasetPackage").pop("dataset_datasetType"),
         "dataset_datasetType"),
        (lambda d: _first(d, "Relationship").update(relationshipType="trainedWith"),
         "trainedWith"),
        (lambda d: _first(d, "Relationship").update(to=["https://attest.dev/spdx/x#missing"]),
         "https://attest.dev/spdx/x#missing"),
        (lambda d: _first(d, "software_File").update(sizeInBytes=3), "sizeInBytes"),
        (lambda d: _first(d, "software_File")["verifiedUsing"][0].pop("hashValue"),
         "hashValue"),
        (lambda d: d["@graph"].remove(next(o for o in d["@graph"] if o["type"] == "Relationship"
                                           and o["relationshipType"] == "hasConcludedLicense")),
         "hasConcludedLicense"),
        (lambda d: _first(d, "SpdxDocument")["element"].pop(), "not listed"),
        (lambda d: d.update({"@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld"}),
         "3.0.1"),
    ],
    ids=["no-createdBy", "no-datasetType", "bad-enum", "dangling-to", "unknown-property",
         "hash-without-value", "no-concluded-licence", "unlisted-element", "wrong-context"],
)
def test_spdx3_validator_rejects_broken_documents(full: Any, tamper: Any, expected: str) -> None:
    doc3 = copy.deepcopy(full[2])
    tamper(doc3)
    errors = validate_spdx3(doc3)
    assert errors and any(expected in e for e in errors), errors


def test_a_bad_digest_is_an_internal_error_not_a_document() -> None:
    facts = minimal_model_facts()
    facts.files = [dataclasses.replace(facts.files[0], sha256="md5:abc")]
    with pytest.raises(InternalError, match="model.gguf"):
        build_spdx2(facts)
    with pytest.raises(InternalError, match="model.gguf"):
        build_spdx3(facts)


# -- completeness ---------------------------------------------------------------------------------


def test_spdx2_every_file_is_a_contained_file_package_with_sha256(case: Any) -> None:
    facts, doc2, _ = case
    pkgs = packages(doc2)
    contained = {target for kind, target, _ in relationships2(doc2) if kind == "CONTAINS"}
    by_name = {pkgs[i]["name"]: pkgs[i] for i in contained}
    assert set(by_name) == {f.path for f in facts.files}
    for f in facts.files:
        pkg = by_name[f.path]
        assert pkg["primaryPackagePurpose"] == "FILE"
        assert pkg["packageFileName"] == f.path
        assert pkg["checksums"] == [{"algorithm": "SHA256",
                                     "checksumValue": f.sha256.removeprefix("sha256:")}]


def test_spdx3_every_file_is_a_contained_file_with_sha256(case: Any) -> None:
    facts, _, doc3 = case
    objs = graph(doc3)
    contains = relationship3(doc3, model3(doc3)["spdxId"], "contains")
    files = {objs[i]["name"]: objs[i] for i in contains["to"]}
    assert set(files) == {f.path for f in facts.files}
    for f in facts.files:
        assert files[f.path]["type"] == "software_File"
        assert files[f.path]["verifiedUsing"] == [
            {"type": "Hash", "algorithm": "sha256", "hashValue": f.sha256.removeprefix("sha256:")}
        ]
    purposes = {name: o["software_primaryPurpose"] for name, o in files.items()}
    if facts.name == "tiny-llm":
        assert purposes["model.safetensors"] == "model"
        assert purposes["config.json"] == "configuration"
        assert purposes["modeling_tiny.py"] == "source"
        assert purposes["README.md"] == "documentation"
        assert purposes["data/sample.jsonl"] == "data"


def test_spdx2_licence_datasets_and_base_model(full: Any) -> None:
    _, doc2, _ = full
    pkgs = packages(doc2)
    model = pkgs["SPDXRef-Model"]
    assert model["licenseDeclared"] == "Apache-2.0"
    assert model["licenseConcluded"] == "NOASSERTION"
    assert model["versionInfo"] == "v1"
    assert model["downloadLocation"] == f"ghcr.io/some-org/tiny-llm@{MANIFEST_DIGEST}"
    assert model["externalRefs"] == [{
        "referenceCategory": "PACKAGE_MANAGER",
        "referenceType": "purl",
        "referenceLocator": f"pkg:oci/tiny-llm@{MANIFEST_DIGEST}"
                            "?repository_url=ghcr.io/some-org/tiny-llm",
    }]
    rels = {(kind, pkgs[target]["name"], comment.split(":")[0])
            for kind, target, comment in relationships2(doc2)
            if pkgs[target]["primaryPackagePurpose"] != "FILE"}
    assert rels == {
        ("GENERATED_FROM", "some-org/tiny-corpus", "trainedOn"),
        ("OTHER", "some-org/tiny-eval", "testedOn"),
        ("OTHER", "sample", "usesDataset"),
        ("DESCENDANT_OF", "some-org/tiny-base", "descendantOf"),
    }
    corpus = next(p for p in pkgs.values() if p["name"] == "some-org/tiny-corpus")
    assert corpus["licenseDeclared"] == "CC-BY-4.0"
    assert corpus["downloadLocation"] == "https://huggingface.co/datasets/some-org/tiny-corpus"
    code = next(p for p in pkgs.values() if p["name"] == "modeling_tiny.py")
    assert code["licenseDeclared"] == "MIT"  # from its SPDX-License-Identifier header
    sample = next(p for p in pkgs.values() if p["name"] == "sample")
    sample_file = next(p for p in pkgs.values() if p["name"] == "data/sample.jsonl")
    assert ("CONTAINS", sample_file["SPDXID"], "") in relationships2(doc2, sample["SPDXID"])
    assert doc2["creationInfo"]["created"] == CREATED_AT
    assert doc2["creationInfo"]["creators"] == ["Tool: attest-0.1.0"]


def test_spdx3_ai_package_licence_datasets_and_base_model(full: Any) -> None:
    _, _, doc3 = full
    model = model3(doc3)
    assert model["type"] == "ai_AIPackage"
    assert model["software_primaryPurpose"] == "model"
    assert model["software_downloadLocation"] == f"oci://ghcr.io/some-org/tiny-llm@{MANIFEST_DIGEST}"
    assert model["software_packageVersion"] == "v1"
    assert model["builtTime"] == CREATED_AT
    assert model["ai_domain"] == ["text-generation"]
    assert model["ai_typeOfModel"] == ["llama", "LlamaForCausalLM"]
    assert model["ai_informationAboutApplication"].startswith("For testing attest only")
    assert model["ai_limitation"].startswith("Trained on two sentences")
    assert {(e["key"], e["value"]) for e in model["ai_metric"]} == {
        ("accuracy (task=text-generation, dataset=some-org/tiny-eval, split=test)", "0.5"),
        ("perplexity (dataset=some-org/tiny-eval)", "12.25"),
    }
    assert [(e["key"], e["value"]) for e in model["ai_hyperparameter"]] == [
        ("learning_rate", "5e-05"), ("train_batch_size", "8"), ("seed", "42"),
        ("num_epochs", "3.0"),
    ]
    rels = relations3(doc3, model["spdxId"])
    assert rels["trainedOn"] == ["some-org/tiny-corpus"]
    assert rels["testedOn"] == ["some-org/tiny-eval"]
    assert rels["other"] == ["sample"]
    assert rels["descendantOf"] == ["some-org/tiny-base"]
    assert rels["hasConcludedLicense"] == [NO_ASSERTION_LICENSE]
    objs = graph(doc3)
    declared = relationship3(doc3, model["spdxId"], "hasDeclaredLicense")
    assert objs[declared["to"][0]]["simplelicensing_licenseExpression"] == "Apache-2.0"
    for dataset in (o for o in doc3["@graph"] if o["type"] == "dataset_DatasetPackage"):
        assert dataset["software_primaryPurpose"] == "data"
        assert dataset["dataset_datasetType"] == ["noAssertion"]  # never guessed
    document = _first(doc3, "SpdxDocument")
    assert document["rootElement"] == [model["spdxId"]]
    assert set(document["profileConformance"]) >= {"core", "software", "ai", "dataset"}
    creation = _first(doc3, "CreationInfo")
    assert creation["created"] == CREATED_AT and creation["specVersion"] == "3.0.1"


# -- nothing invented -----------------------------------------------------------------------------


def test_spdx2_unknown_facts_are_noassertion_or_absent(minimal: Any) -> None:
    _, doc2, _ = minimal
    model = packages(doc2)["SPDXRef-Model"]
    assert model["licenseDeclared"] == "NOASSERTION"
    assert model["licenseConcluded"] == "NOASSERTION"
    assert model["downloadLocation"] == "NOASSERTION"
    for absent in ("versionInfo", "externalRefs", "builtDate", "description", "sourceInfo",
                   "supplier", "originator", "licenseComments"):
        assert absent not in model
    assert doc2["creationInfo"]["created"] == "1970-01-01T00:00:00Z"
    assert "1970-01-01" in doc2["creationInfo"]["comment"]
    assert {kind for kind, _, _ in relationships2(doc2)} == {"CONTAINS"}
    assert "hasExtractedLicensingInfos" not in doc2


def test_spdx3_unknown_facts_are_absent_or_noassertion(minimal: Any) -> None:
    _, _, doc3 = minimal
    model = model3(doc3)
    assert set(model) == {"type", "spdxId", "software_primaryPurpose", "creationInfo", "name"}
    rels = relations3(doc3, model["spdxId"])
    assert rels == {"contains": ["model.gguf"],
                    "hasDeclaredLicense": [NO_ASSERTION_LICENSE],
                    "hasConcludedLicense": [NO_ASSERTION_LICENSE]}
    assert not [o for o in doc3["@graph"] if o["type"] == "dataset_DatasetPackage"]
    assert _first(doc3, "CreationInfo")["created"] == "1970-01-01T00:00:00Z"


def test_no_hyperparameters_without_the_trainer_list() -> None:
    facts = full_model_facts()
    assert facts.card is not None
    facts.card.sections = {"Training procedure": "Trained with care.\n- not: a hyperparameter list"}
    assert card_hyperparameters(facts) == []
    assert "ai_hyperparameter" not in model3(build_spdx3(facts))
    facts.card = None
    assert card_hyperparameters(facts) == []


def test_hyperparameter_list_ends_at_the_next_heading() -> None:
    facts = full_model_facts()
    assert facts.card is not None
    facts.card.sections = {"Training": "### Training hyperparameters\n- lr: 1\n### Results\n- x: 2"}
    assert card_hyperparameters(facts) == [("lr", "1")]


def test_metric_keys_keep_results_on_different_slices_apart() -> None:
    metrics = [MetricFact(type="accuracy", value=0.5, dataset="a"),
               MetricFact(type="accuracy", value=0.7, dataset="b", split="test"),
               MetricFact(type="f1", value="n/a")]
    assert metric_entries(metrics) == [("accuracy (dataset=a)", "0.5"),
                                       ("accuracy (dataset=b, split=test)", "0.7"),
                                       ("f1", "n/a")]


@pytest.mark.parametrize("use, relation", [("training", "trainedOn"), ("fine-tuning", "trainedOn"),
                                           ("testing", "testedOn"), ("evaluation", "testedOn"),
                                           ("unknown", "other")])
def test_dataset_use_maps_to_spdx3_relationship(use: str, relation: str) -> None:
    assert dataset_relation(DatasetFact(name="d", use=use)) == relation  # type: ignore[arg-type]


def test_one_dataset_with_two_uses_is_one_package_with_two_relationships() -> None:
    facts = minimal_model_facts()
    facts.datasets = [DatasetFact(name="org/d", use="fine-tuning"),
                      DatasetFact(name="org/d", use="evaluation", source="model-index")]
    doc2, doc3 = build_spdx2(facts), build_spdx3(facts)
    assert [p["name"] for p in doc2["packages"]].count("org/d") == 1
    assert {k for k, _, _ in relationships2(doc2)} == {"CONTAINS", "GENERATED_FROM", "OTHER"}
    rels = relations3(doc3, model3(doc3)["spdxId"])
    assert rels["trainedOn"] == ["org/d"] and rels["testedOn"] == ["org/d"]
    assert spdx2_to_facts(doc2)["datasets"] == {"org/d": ["testedOn", "trainedOn"]}
    assert spdx3_to_facts(doc3) == sbom_summary(facts)


# -- licences that are not plain SPDX ids ---------------------------------------------------------


def _with_card_license(text: str) -> ModelFacts:
    facts = full_model_facts()
    assert facts.card is not None
    facts.card.license = text
    facts.licenses = []
    return facts


def test_model_licence_with_a_licenseref_is_declared_and_explained() -> None:
    facts = _with_card_license("llama2")  # a Hugging Face id, not on the SPDX list
    doc2, doc3 = build_spdx2(facts), build_spdx3(facts)
    model = packages(doc2)["SPDXRef-Model"]
    assert model["licenseDeclared"] == "LicenseRef-llama2"
    assert "'llama2'" in model["licenseComments"]
    [info] = doc2["hasExtractedLicensingInfos"]
    assert info["licenseId"] == "LicenseRef-llama2" and info["name"] == "llama2"
    assert spdx3_to_facts(doc3)["license"] == "LicenseRef-llama2"


def test_unrecognised_licence_is_noassertion_with_what_the_card_said() -> None:
    facts = _with_card_license("my own licence, v2")
    doc2, doc3 = build_spdx2(facts), build_spdx3(facts)
    model = packages(doc2)["SPDXRef-Model"]
    assert model["licenseDeclared"] == "NOASSERTION"
    assert "my own licence, v2" in model["licenseComments"]
    declared = relationship3(doc3, model3(doc3)["spdxId"], "hasDeclaredLicense")
    assert declared["to"] == [NO_ASSERTION_LICENSE]
    assert "my own licence, v2" in declared["comment"]
    assert spdx2_to_facts(doc2)["license"] is None and spdx3_to_facts(doc3)["license"] is None


# -- where the model comes from -------------------------------------------------------------------


def _with_subject(reference: str, repository: str) -> ModelFacts:
    facts = minimal_model_facts()
    facts.subject = Subject(reference=reference, repository=repository, digest=MANIFEST_DIGEST,
                             media_type="application/vnd.oci.image.manifest.v1+json", size=9)
    return facts


def test_loopback_registry_is_no_spdx2_location_but_an_spdx3_uri() -> None:
    facts = _with_subject("localhost:5000/m/bare:v1", "localhost:5000/m/bare")
    model2 = packages(build_spdx2(facts))["SPDXRef-Model"]
    assert model2["downloadLocation"] == "NOASSERTION"  # not a URL SPDX 2.3 accepts
    assert model2["externalRefs"][0]["referenceLocator"].endswith(
        "?repository_url=localhost:5000/m/bare")
    model = model3(build_spdx3(facts))
    assert model["software_downloadLocation"] == f"oci://localhost:5000/m/bare@{MANIFEST_DIGEST}"


def test_oci_layout_has_a_purl_but_no_download_location() -> None:
    facts = _with_subject("oci:out:bare", "oci:out")
    model2 = packages(build_spdx2(facts))["SPDXRef-Model"]
    assert model2["downloadLocation"] == "NOASSERTION"
    assert model2["externalRefs"][0]["referenceLocator"] == f"pkg:oci/bare-model@{MANIFEST_DIGEST}"
    assert "software_downloadLocation" not in model3(build_spdx3(facts))


def test_declared_facts_reach_both_documents() -> None:
    facts = minimal_model_facts()
    facts.declared = Declared(path="attest.yaml", description="A bare model.",
                              authors=["Ada Lovelace"], license="MIT",
                              source_repository="https://github.com/org/bare",
                              source_commit="0123abc", limitations="Knows nothing.")
    model2 = packages(build_spdx2(facts))["SPDXRef-Model"]
    assert model2["licenseDeclared"] == "MIT"
    assert model2["description"] == "A bare model."
    assert model2["sourceInfo"] == "built from https://github.com/org/bare at commit 0123abc"
    doc3 = build_spdx3(facts)
    model = model3(doc3)
    assert model["ai_limitation"] == "Knows nothing."
    assert model["externalRef"] == [{"type": "ExternalRef", "externalRefType": "vcs",
                                     "locator": ["https://github.com/org/bare"]}]
    assert [graph(doc3)[a]["name"] for a in model["originatedBy"]] == ["Ada Lovelace"]


# -- determinism and round trip -------------------------------------------------------------------


def test_same_facts_give_byte_identical_json(case: Any) -> None:
    facts, doc2, doc3 = case
    again = FIXTURES["full" if facts.name == "tiny-llm" else "minimal"]()
    assert json.dumps(build_spdx2(again)) == json.dumps(doc2)
    assert json.dumps(build_spdx3(again)) == json.dumps(doc3)


def test_output_does_not_depend_on_the_process(full: Any) -> None:
    """Set iteration order changes with PYTHONHASHSEED; the documents must not."""
    _, doc2, doc3 = full
    script = (
        "import json, sys\n"
        "from tests.sbom_fixtures import full_model_facts\n"
        "from attest.stages.sbom.spdx2 import build_spdx2\n"
        "from attest.stages.sbom.spdx3 import build_spdx3\n"
        "f = full_model_facts()\n"
        "print(json.dumps([build_spdx2(f), build_spdx3(f)]))\n"
    )
    root = Path(__file__).resolve().parent.parent
    for seed in ("0",):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, check=True,
                             capture_output=True, text=True).stdout
        assert out.strip() == json.dumps([doc2, doc3])


def test_different_facts_give_a_different_namespace(full: Any) -> None:
    facts, doc2, doc3 = full
    changed = full_model_facts()
    changed.version = "v2"
    assert build_spdx2(changed)["documentNamespace"] != doc2["documentNamespace"]
    assert model3(build_spdx3(changed))["spdxId"] != model3(doc3)["spdxId"]
    assert doc2["documentNamespace"].startswith("https://attest.dev/spdxdocs/tiny-llm-")
    assert doc2["documentNamespace"].split("-")[2] == MANIFEST_DIGEST[7:39]


def test_round_trip_gives_the_summary_of_the_facts(case: Any) -> None:
    facts, doc2, doc3 = case
    expected = sbom_summary(facts)
    assert spdx2_to_facts(doc2) == expected
    assert spdx3_to_facts(doc3) == expected


def test_summary_of_the_full_model(full: Any) -> None:
    facts, _, _ = full
    summary = sbom_summary(facts)
    assert summary["license"] == "Apache-2.0"  # the card's "apache-2.0", normalised
    assert summary["datasets"] == {"sample": ["other"], "some-org/tiny-corpus": ["trainedOn"],
                                   "some-org/tiny-eval": ["testedOn"]}
    assert summary["files"] == {f.path: f.sha256 for f in FULL_FILES}
    assert summary["base_models"] == ["some-org/tiny-base"]


def test_constants() -> None:
    assert FORMATS["spdx"].media_type == FORMATS["spdx3"].media_type == "application/spdx+json"
    assert FORMATS["spdx"].predicate_type == "https://spdx.dev/Document/v2.3"
    assert FORMATS["spdx3"].predicate_type == "https://spdx.dev/Document/v3"
