"""Hand-made ModelFacts for SBOM tests: one well-described model and one that says almost nothing.

The full model looks like a small Hugging Face model packed as a ModelPack artifact: safetensors
weights, config, tokenizer, a README card (apache-2.0, datasets, base_model, model-index metrics,
a Trainer-style hyperparameter list), a LICENSE file, a modeling_*.py with an SPDX header, a
dataset file packed with the model, and the ModelPack subject it came from.
"""

from __future__ import annotations

import hashlib
from typing import Any

from attest.facts.model import (
    CardFacts,
    DatasetFact,
    FileFact,
    LicenseFact,
    MetricFact,
    ModelFacts,
    WeightFacts,
)
from attest.facts.subject import Subject
from attest.modelpack.media import model_layer_type
from attest.oci.mediatypes import OCI_MANIFEST
from attest.sbom_read.spdx2 import make_summary
from attest.stages.sbom.cyclonedx import oci_purl
from attest.stages.sbom.spdx_common import dataset_relation, model_license

CREATED_AT = "2025-01-02T03:04:05Z"
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(b"tiny-llm manifest").hexdigest()

_KINDS = {"weight": "weight", "weight-config": "weight.config", "code": "code", "doc": "doc",
          "dataset": "dataset"}


def digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def file_fact(path: str, role: str, content: bytes, spdx_license: str | None = None) -> FileFact:
    sha = digest(content)
    return FileFact(
        path=path,
        size=len(content),
        sha256=sha,
        role=role,  # type: ignore[arg-type]
        media_type=model_layer_type(_KINDS[role], "raw"),
        layer_digest=sha,  # raw layers: the layer digest is the file's sha256
        spdx_license=spdx_license,
    )


README = b"---\nlicense: apache-2.0\n---\n# tiny-llm\n"
LICENSE_TEXT = b"Apache License\nVersion 2.0, January 2004\n"
DATASET_FILE = b'{"text": "hello"}\n{"text": "world"}\n'

FULL_FILES = [
    file_fact("model.safetensors", "weight", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "),
    file_fact("config.json", "weight-config", b'{"architectures": ["LlamaForCausalLM"]}'),
    file_fact("generation_config.json", "weight-config", b'{"max_new_tokens": 16}'),
    file_fact("tokenizer.json", "weight-config", b'{"version": "1.0"}'),
    file_fact("tokenizer_config.json", "weight-config", b'{"model_max_length": 128}'),
    file_fact("README.md", "doc", README),
    file_fact("LICENSE", "doc", LICENSE_TEXT),
    file_fact("modeling_tiny.py", "code", b"# SPDX-License-Identifier: MIT\n", "MIT"),
    file_fact("data/sample.jsonl", "dataset", DATASET_FILE),
]

HYPERPARAMETERS_SECTION = """### Training hyperparameters

The following hyperparameters were used during training:
- learning_rate: 5e-05
- train_batch_size: 8
- seed: 42
- num_epochs: 3.0
"""


def full_model_facts() -> ModelFacts:
    """A model about which nearly everything is known."""
    card = CardFacts(
        path="README.md",
        front_matter={
            "license": "apache-2.0",
            "language": ["en"],
            "library_name": "transformers",
            "pipeline_tag": "text-generation",
            "datasets": ["some-org/tiny-corpus"],
            "base_model": ["some-org/tiny-base"],
        },
        license="apache-2.0",
        language=["en"],
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["tiny", "test"],
        datasets=["some-org/tiny-corpus"],
        base_model=["some-org/tiny-base"],
        metrics=[
            MetricFact(type="accuracy", value=0.5, name="Accuracy", task="text-generation",
                       dataset="some-org/tiny-eval", split="test"),
            MetricFact(type="perplexity", value=12.25, dataset="some-org/tiny-eval"),
        ],
        title="tiny-llm",
        sections={
            "Intended uses & limitations": "For testing attest only; it generates noise.",
            "Bias, Risks, and Limitations": "Trained on two sentences: it knows nothing.",
            "Training procedure": HYPERPARAMETERS_SECTION,
        },
    )
    return ModelFacts(
        name="tiny-llm",
        version="v1",
        files=list(FULL_FILES),
        subject=Subject(
            reference="ghcr.io/some-org/tiny-llm:v1",
            repository="ghcr.io/some-org/tiny-llm",
            digest=MANIFEST_DIGEST,
            media_type=OCI_MANIFEST,
            size=1234,
            manifest={"annotations": {"org.opencontainers.image.created": CREATED_AT}},
        ),
        weights=[
            WeightFacts(path="model.safetensors", format="safetensors", tensor_count=3,
                        parameter_count=4160, dtypes=("F32",), metadata={"format": "pt"}),
        ],
        hf_config={"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                   "hidden_size": 16, "num_hidden_layers": 2},
        generation_config={"max_new_tokens": 16},
        tokenizer_files=["tokenizer.json", "tokenizer_config.json"],
        card=card,
        licenses=[
            LicenseFact(source="LICENSE", spdx_id="Apache-2.0", sha256=digest(LICENSE_TEXT)),
            LicenseFact(source="README.md#front-matter", spdx_id="Apache-2.0", name="apache-2.0"),
        ],
        datasets=[
            DatasetFact(name="some-org/tiny-corpus", use="training",
                        url="https://huggingface.co/datasets/some-org/tiny-corpus",
                        license="cc-by-4.0", source="card"),
            DatasetFact(name="some-org/tiny-eval", use="evaluation", source="model-index"),
            DatasetFact(name="sample", use="unknown", path="data/sample.jsonl",
                        sha256=digest(DATASET_FILE), source="layer"),
        ],
        modelpack_config={
            "descriptor": {"name": "tiny-llm", "createdAt": CREATED_AT},
            "config": {"architecture": "llama", "format": "safetensors", "paramSize": "4.16K",
                       "precision": "float32"},
            "modelfs": {"type": "layers", "diffIds": [f.sha256 for f in FULL_FILES]},
        },
    )


def minimal_model_facts() -> ModelFacts:
    """A model about which almost nothing is known: one weight file in a plain directory."""
    weight = file_fact("model.gguf", "weight", b"GGUF\x03\x00\x00\x00")
    return ModelFacts(name="bare-model", files=[weight])


def sbom_summary(facts: ModelFacts) -> dict[str, Any]:
    """What an SPDX document built from ``facts`` must say, in the shape the parsers return.

    ``license`` is the normalised SPDX expression or None (NOASSERTION); ``datasets`` maps each
    dataset name to its sorted SPDX 3 relationship types; ``files`` maps path to digest.
    """
    datasets: dict[str, set[str]] = {}
    for d in facts.datasets:
        datasets.setdefault(d.name, set()).add(dataset_relation(d))
    purl = oci_purl(facts)
    return make_summary(
        name=facts.name,
        version=facts.version,
        license=model_license(facts).expression,
        datasets=datasets,
        files={f.path: f.sha256 for f in facts.files},
        base_models=list(facts.base_models),
        purl=purl.to_string() if purl else None,
    )
