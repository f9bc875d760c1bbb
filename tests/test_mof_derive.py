"""Deriving the MOF configuration from ModelFacts: each component's status and evidence, and why.

The facts are made by hand (no gatherer): a realistic Hugging Face-style release and a sparse
GGUF drop. Each assertion says what a careful reader of those files would conclude.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml

from attest.errors import InputError
from attest.facts.model import (
    CardFacts,
    DatasetFact,
    Declared,
    FileFact,
    LicenseFact,
    MetricFact,
    ModelFacts,
)
from attest.mof import (
    Basis,
    MofReport,
    dump_mot_yaml,
    framework,
    mof_config_from_facts,
    parse_mot_yaml,
    render,
    score,
)

ROLE_MEDIA = {
    "weight": "application/vnd.cncf.model.weight.v1.raw",
    "weight-config": "application/vnd.cncf.model.weight.config.v1.raw",
    "code": "application/vnd.cncf.model.code.v1.raw",
    "doc": "application/vnd.cncf.model.doc.v1.raw",
    "dataset": "application/vnd.cncf.model.dataset.v1.raw",
}


def digest(path: str) -> str:
    """A stable fake digest per path, so assertions can name it."""
    return "sha256:" + (path.encode().hex() * 64)[:64]


def ff(path: str, role: str, spdx: str | None = None) -> FileFact:
    return FileFact(
        path=path,
        size=100,
        sha256=digest(path),
        role=role,  # type: ignore[arg-type]
        media_type=ROLE_MEDIA[role],
        spdx_license=spdx,
    )


def realistic() -> ModelFacts:
    """acme-7b: weights in two shards, custom modelling code, scripts, data, cards, a checkpoint."""
    files = [
        ff("LICENSE", "doc"),
        ff("README.md", "doc"),
        ff("DATA_CARD.md", "doc"),
        ff("config.json", "weight-config"),
        ff("generation_config.json", "weight-config"),
        ff("tokenizer.json", "weight-config"),
        ff("model-00001-of-00002.safetensors", "weight"),
        ff("model-00002-of-00002.safetensors", "weight"),
        ff("checkpoints/step-1000/model.safetensors", "weight"),
        ff("optimizer.pt", "weight"),
        ff("modeling_acme.py", "code", "Apache-2.0"),
        ff("configuration_acme.py", "code"),
        ff("scripts/train.py", "code", "MIT"),
        ff("scripts/generate.py", "code"),
        ff("scripts/export_model.py", "code"),
        ff("eval/run_eval.py", "code"),
        ff("scripts/preprocess_corpus.py", "code"),
        ff("data/train.jsonl", "dataset"),
        ff("data/test.jsonl", "dataset"),
        ff("eval_results.json", "doc"),
    ]
    card = CardFacts(
        path="README.md",
        license="Apache-2.0",
        pipeline_tag="text-generation",
        datasets=["acme/web-corpus"],
        metrics=[MetricFact(type="accuracy", value=0.71, dataset="acme/test", task="qa")],
        arxiv=["https://arxiv.org/abs/2401.00001"],
    )
    declared = Declared(
        path="attest.yaml",
        authors=["Acme AI"],
        source_repository="https://github.com/acme/acme-7b",
        # Weights under a data licence, the paper under CC-BY (arXiv's default is not open).
        component_licenses={
            "Model parameters (Final)": "CDLA-Permissive-2.0",
            "research-paper": "CC-BY-4.0",  # kebab-case ids are accepted too
        },
        # Intermediate checkpoints cannot be told from final weights by name alone: declared.
        components={"Model parameters (Intermediate)": ["checkpoints"]},
    )
    datasets = [
        DatasetFact(
            name="acme/web-corpus",
            use="training",
            url="https://huggingface.co/datasets/acme/web-corpus",
            license="CC-BY-NC-4.0",
            source="attest.yaml",
        ),
        DatasetFact(
            name="data/train.jsonl",
            path="data/train.jsonl",
            sha256=digest("data/train.jsonl"),
            source="layer",
        ),
        DatasetFact(
            name="data/test.jsonl",
            path="data/test.jsonl",
            sha256=digest("data/test.jsonl"),
            source="layer",
        ),
    ]
    return ModelFacts(
        name="acme-7b",
        version="1.0",
        files=files,
        card=card,
        licenses=[
            LicenseFact(source="LICENSE", spdx_id="Apache-2.0", sha256=digest("LICENSE")),
            LicenseFact(source="README.md#front-matter", spdx_id="Apache-2.0"),
        ],
        datasets=datasets,
        declared=declared,
    )


def sparse() -> ModelFacts:
    """A GGUF file and a README that says nothing about a licence; no LICENSE file."""
    return ModelFacts(
        name="mystery-gguf",
        files=[ff("mystery.Q4_K_M.gguf", "weight"), ff("README.md", "doc")],
        card=CardFacts(path="README.md"),
    )


def derive(facts: ModelFacts) -> tuple[MofReport, dict[str, list[Basis]]]:
    config, evidence = mof_config_from_facts(facts)
    return score(config, evidence), evidence


def files_of(evidence: list[Basis]) -> list[tuple[str | None, str | None]]:
    return [(e.path, e.digest) for e in evidence if e.kind == "file"]


def licence_sources(evidence: list[Basis]) -> list[tuple[str | None, str | None]]:
    return [(e.path, e.source) for e in evidence if e.kind == "license" and e.path]


# -- the realistic release ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def acme() -> tuple[MofReport, dict[str, list[Basis]]]:
    return derive(realistic())


def test_acme_class(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, _ = acme
    # Classes III and II are complete; Class I is held back by one dataset's licence only.
    assert report.mof_class == 2
    assert report.progress[3] == 100 and report.progress[2] == 100
    assert [c.id for c in report.needed_for(1)] == ["datasets"]


def test_acme_model_architecture(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    c = report.component("model-architecture")
    # modeling_*.py and configuration_*.py are Hugging Face's architecture code; export_model.py
    # is a script that merely mentions "model", so it is not.
    assert files_of(evidence["model-architecture"]) == [
        ("modeling_acme.py", digest("modeling_acme.py")),
        ("configuration_acme.py", digest("configuration_acme.py")),
    ]
    # One file carries an SPDX header (Apache-2.0); the other is covered by the model's licence,
    # read from the card front matter (which wins over the LICENSE file). Both Apache-2.0.
    assert (c.status, c.license) == ("included", "Apache-2.0")
    assert licence_sources(evidence["model-architecture"]) == [
        ("modeling_acme.py", "SPDX-License-Identifier header"),
        ("README.md", "card front matter"),
    ]


def test_acme_final_parameters(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    c = report.component("final-model-parameters")
    # Both shards are weights; the checkpoint is declared intermediate and optimizer.pt is
    # training state, so neither is a final parameter.
    assert files_of(evidence["final-model-parameters"]) == [
        ("model-00001-of-00002.safetensors", digest("model-00001-of-00002.safetensors")),
        ("model-00002-of-00002.safetensors", digest("model-00002-of-00002.safetensors")),
    ]
    # attest.yaml component_licenses overrides the model's Apache-2.0 for the weights.
    assert (c.status, c.license, c.type_appropriate) == ("included", "CDLA-Permissive-2.0", True)
    assert licence_sources(evidence["final-model-parameters"]) == [
        ("attest.yaml", "attest.yaml component_licenses")
    ]


def test_acme_intermediate_parameters(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    c = report.component("intermediate-model-parameters")
    # Declared as a directory: every file under checkpoints/ counts, evidence names the dir.
    [ev] = evidence["intermediate-model-parameters"][:1]
    assert (ev.kind, ev.path, ev.source, ev.note) == (
        "file",
        "checkpoints/",
        "attest.yaml components",
        "1 file",
    )
    assert (c.status, c.license) == ("included", "Apache-2.0")  # the model's licence


def test_acme_documents(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    # README.md is the model card.
    assert report.component("model-card").status == "included"
    assert files_of(evidence["model-card"]) == [("README.md", digest("README.md"))]
    # DATA_CARD.md is a data card by name.
    assert report.component("data-card").status == "included"
    assert files_of(evidence["data-card"]) == [("DATA_CARD.md", digest("DATA_CARD.md"))]
    # Evaluation results: the eval_results.json file and the card's model-index.
    results = evidence["evaluation-results"]
    assert files_of(results) == [("eval_results.json", digest("eval_results.json"))]
    card_ev = [e for e in results if e.kind == "card"]
    assert [(e.path, e.digest, e.source, e.note) for e in card_ev] == [
        ("README.md", digest("README.md"), "model-index", "1 result")
    ]
    assert report.component("evaluation-results").status == "included"


def test_acme_paper_stands_in_for_report(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    # The arXiv link in the card is the research paper; its licence is declared (CC-BY-4.0)
    # because the model's licence does not cover a paper published elsewhere.
    paper = report.component("research-paper")
    assert (paper.status, paper.license) == ("included", "CC-BY-4.0")
    urls = [(e.kind, e.path, e.source) for e in evidence["research-paper"] if e.kind == "url"]
    assert urls == [("url", "https://arxiv.org/abs/2401.00001", "arXiv link in README.md")]
    # No technical report was found, so the open paper takes its place (the MOT's rule).
    tr = report.component("technical-report")
    assert (tr.status, tr.substituted_by) == ("missing", "research-paper")


def test_acme_code(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    expected = {
        # train.py carries an MIT header, which wins over the model's licence for that file.
        "training-code": ("scripts/train.py", "MIT"),
        # generate.py names inference; no header, so the model's Apache-2.0 covers it.
        "inference-code": ("scripts/generate.py", "Apache-2.0"),
        # run_eval.py in eval/: evaluation code.
        "evaluation-code": ("eval/run_eval.py", "Apache-2.0"),
        # preprocess_corpus.py: data preprocessing code.
        "data-preprocessing-code": ("scripts/preprocess_corpus.py", "Apache-2.0"),
    }
    for comp_id, (path, lic) in expected.items():
        c = report.component(comp_id)
        assert files_of(evidence[comp_id]) == [(path, digest(path))], comp_id
        assert (c.status, c.license) == ("included", lic), comp_id


def test_acme_data(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    # data/test.jsonl is packed and named "test": evaluation data, under the model's licence.
    assert files_of(evidence["evaluation-data"]) == [("data/test.jsonl", digest("data/test.jsonl"))]
    assert report.component("evaluation-data").status == "included"
    # Datasets: the packed train.jsonl (Apache-2.0) and the declared acme/web-corpus, whose own
    # licence is CC-BY-NC-4.0. A component is only as open as its least open part: invalid.
    ds = report.component("datasets")
    assert (ds.status, ds.license) == ("invalid", "CC-BY-NC-4.0")
    kinds = [(e.kind, e.path) for e in evidence["datasets"] if e.kind in ("file", "dataset")]
    assert kinds == [
        ("dataset", "https://huggingface.co/datasets/acme/web-corpus"),
        ("file", "data/train.jsonl"),
    ]
    assert any(e.note and "'CC-BY-NC-4.0' is not open" in e.note for e in evidence["datasets"]), (
        "the report says which part is not open"
    )


def test_acme_metadata(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    report, evidence = acme
    # config.json and generation_config.json describe the model; optimizer.pt is training
    # state. The tokenizer is none of these.
    assert [p for p, _ in files_of(evidence["model-metadata"])] == [
        "config.json",
        "generation_config.json",
        "optimizer.pt",
    ]
    assert not report.component("model-metadata").required


def test_acme_text_fits_80_columns(acme: tuple[MofReport, dict[str, list[Basis]]]) -> None:
    text = render(acme[0], "text")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "To reach Class I - Open Science Model, add:" in text


def test_acme_release_fields_and_round_trip() -> None:
    config, _ = mof_config_from_facts(realistic())
    assert (config.name, config.version, config.producer) == ("acme-7b", "1.0", "Acme AI")
    assert config.type == "language"  # pipeline_tag text-generation
    assert config.repository == "https://github.com/acme/acme-7b"
    assert config.licenses["distribution"].name == "Apache-2.0"
    _assert_round_trip(config)


# -- the sparse release -------------------------------------------------------------------------


def test_sparse_release() -> None:
    report, evidence = derive(sparse())
    # The GGUF file is the final parameters, but nothing licenses it: no LICENSE file, no card
    # licence, no declaration. So it is listed but unlicensed, and so is the model card.
    params = report.component("final-model-parameters")
    assert (params.status, params.license) == ("unlicensed", None)
    assert files_of(evidence["final-model-parameters"]) == [
        ("mystery.Q4_K_M.gguf", digest("mystery.Q4_K_M.gguf"))
    ]
    assert report.component("model-card").status == "unlicensed"
    # Nothing else is in the artifact.
    listed = {c.id for c in report.components if c.listed}
    assert listed == {"final-model-parameters", "model-card"}
    assert report.mof_class is None and report.progress == {3: 0, 2: 0, 1: 0}
    text = render(report, "text")
    assert "Model parameters (Final) (no licence): license it openly" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    config, _ = mof_config_from_facts(sparse())
    assert config.licenses == {}
    _assert_round_trip(config)


# -- declarations -------------------------------------------------------------------------------


def _with_declared(**kwargs: Any) -> ModelFacts:
    facts = sparse()
    facts.declared = Declared(path="attest.yaml", **kwargs)
    return facts


def test_unknown_declared_component_is_an_error() -> None:
    facts = _with_declared(component_licenses={"Model weights": "MIT"})
    with pytest.raises(
        InputError, match=r"attest.yaml: component_licenses: 'Model weights' is not"
    ):
        mof_config_from_facts(facts)
    facts = _with_declared(components={"Weights": ["mystery.Q4_K_M.gguf"]})
    with pytest.raises(InputError, match="components: 'Weights' is not a MOF component"):
        mof_config_from_facts(facts)


def test_declared_path_must_exist() -> None:
    facts = _with_declared(components={"Model card": ["MODEL_CARD.md"]})
    with pytest.raises(InputError, match="'MODEL_CARD.md' .* is not among the model's files"):
        mof_config_from_facts(facts)


def test_declared_licence_and_paths() -> None:
    facts = _with_declared(
        license="Apache-2.0",
        components={"model card": ["README.md"]},  # names are matched forgiving case
        component_licenses={"Model parameters (Final)": "MIT OR Apache-2.0"},
        technical_report_url="https://example.org/report.pdf",
    )
    report, evidence = derive(facts)
    # The declared model licence now covers the shipped files.
    assert report.component("model-card").license == "Apache-2.0"
    # An OR lets the recipient choose; the MOT YAML holds one id, and the report says why.
    params = report.component("final-model-parameters")
    assert (params.status, params.license) == ("included", "MIT")
    assert any(e.note and "scored as 'MIT'" in e.note for e in evidence["final-model-parameters"])
    # A declared report URL is listed, but nothing licenses it (the model's licence does not
    # reach a document published elsewhere).
    tr = report.component("technical-report")
    assert (tr.status, tr.license) == ("unlicensed", None)


def test_declared_intermediate_directory_leaves_final_parameters() -> None:
    facts = sparse()
    facts.files.append(ff("old/model.safetensors", "weight"))
    facts.declared = Declared(
        path="attest.yaml", components={"intermediate-model-parameters": ["old"]}
    )
    _, evidence = derive(facts)
    # Nothing in the name says "checkpoint", but the declaration does: the file under old/ is
    # an intermediate checkpoint, and only the GGUF file is a final parameter.
    assert [p for p, _ in files_of(evidence["final-model-parameters"])] == ["mystery.Q4_K_M.gguf"]
    assert [p for p, _ in files_of(evidence["intermediate-model-parameters"])] == ["old/"]


def test_licence_declared_for_a_component_not_found() -> None:
    facts = _with_declared(component_licenses={"Training code": "MIT"})
    report, evidence = derive(facts)
    # A licence is not a component: without files it stays missing, and the report says so.
    assert report.component("training-code").status == "missing"
    [ev] = evidence["training-code"]
    assert ev.kind == "declaration" and ev.note and "no part of the component was found" in ev.note


def _assert_round_trip(config: Any) -> None:
    report = score(config)
    text = dump_mot_yaml(config)
    schema = yaml.safe_load((framework().data_dir / "mof_schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(text))
    again = score(parse_mot_yaml(text, "exported.yml"))
    assert (again.mof_class, again.progress) == (report.mof_class, report.progress)


def test_datasets_without_urls_are_each_kept_and_order_does_not_matter() -> None:
    """A card listing 21 datasets without URLs gives 21 parts, and the least open licence
    decides whatever the order (it collapsed to the first one before)."""
    import dataclasses

    base = realistic()
    names = [f"org/corpus-{i:02d}" for i in range(21)]
    licences = ["CC-BY-4.0"] * 20 + ["CC-BY-NC-4.0"]

    def with_datasets(order: list[int]) -> tuple[MofReport, dict[str, list[Basis]]]:
        datasets = [DatasetFact(name=names[i], use="training", license=licences[i],
                                source="card") for i in order]  # fmt: skip
        return derive(dataclasses.replace(base, datasets=datasets))

    forward, evidence = with_datasets(list(range(21)))
    backward, _ = with_datasets(list(reversed(range(21))))
    named = [e.note for e in evidence["datasets"] if e.kind == "dataset"]
    assert sorted(named) == names
    for report in (forward, backward):
        assert (report.component("datasets").status,
                report.component("datasets").license) == ("invalid", "CC-BY-NC-4.0")  # fmt: skip
