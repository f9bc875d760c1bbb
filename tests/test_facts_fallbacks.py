"""Issue 13 item 6: facts the front matter does not give reach the card and the SBOMs from where
they are known, each saying its source: GGUF general.languages and general.organization, the
base model from the README's words or config.json's _name_or_path. The GGUF file is written by
the gguf package's own writer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from attest.modelpack.facts import facts_for_directory
from attest.stages.card_front_matter import model_front_matter
from attest.stages.cards import render_card
from attest.stages.sbom.cyclonedx import build_cyclonedx
from tests.helpers import REPO_ROOT

gguf = pytest.importorskip("gguf", reason="gguf is a test extra (pip install -e .[test])")


def write_gguf(path: Path) -> None:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("Tiny Llama")
    writer.add_languages(["en", "fr"])
    writer.add_string("general.organization", "Acme Research")
    writer.add_tensor("w", np.zeros((2, 3), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def props(doc: dict) -> dict[str, str]:
    model = doc["metadata"]["component"]
    return {p["name"]: p["value"] for p in model.get("properties", [])}


def test_gguf_languages_and_organization_reach_card_and_sbom(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    write_gguf(model / "tiny.gguf")
    (model / "README.md").write_text("---\nlicense: mit\n---\n# Tiny\n\nA test.\n")
    facts = facts_for_directory(model)
    card = render_card(facts, "model", "markdown")
    assert "**Languages:** en, fr (from tiny.gguf general.languages)" in card
    assert "**Developed by:** Acme Research (from tiny.gguf general.organization)" in card
    p = props(build_cyclonedx(facts))
    assert p["attest:languages"] == "en,fr"
    assert p["attest:languages-source"] == "tiny.gguf general.languages"
    assert p["attest:organization"] == "Acme Research"


def test_front_matter_wins_over_gguf(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    write_gguf(model / "tiny.gguf")
    (model / "README.md").write_text("---\nlicense: mit\nlanguage: de\n---\n# Tiny\n")
    facts = facts_for_directory(model)
    assert facts.language_fact == (["de"], "README.md front matter")
    assert "**Languages:** de\n" in render_card(facts, "model", "markdown")


def _hf_model(tmp_path: Path, readme: str, name_or_path: str | None) -> Path:
    model = tmp_path / "my-classifier"
    shutil.copytree(REPO_ROOT / "testdata" / "models" / "tiny-llm", model)
    (model / "README.md").write_text(readme)
    config = json.loads((model / "config.json").read_text())
    config.pop("_name_or_path", None)
    if name_or_path:
        config["_name_or_path"] = name_or_path
    (model / "config.json").write_text(json.dumps(config))
    return model


def test_base_model_from_the_readme_text(tmp_path: Path) -> None:
    readme = ("---\nlicense: mit\n---\n# my-classifier\n\nThis model is a fine-tuned version of "
              "[distilbert-base-uncased](https://huggingface.co/distilbert/distilbert-base-uncased)"
              " on the imdb dataset.\n")
    facts = facts_for_directory(_hf_model(tmp_path, readme, "/tmp/run3/checkpoint-500"))
    assert facts.base_model_fact == (["distilbert/distilbert-base-uncased"], "README.md text")
    doc = build_cyclonedx(facts)
    ancestors = doc["metadata"]["component"]["pedigree"]["ancestors"]
    assert [a["name"] for a in ancestors] == ["distilbert/distilbert-base-uncased"]
    assert props(doc)["attest:base-model-source"] == "README.md text"
    assert model_front_matter(facts)["base_model"] == "distilbert/distilbert-base-uncased"


def test_base_model_from_name_or_path_is_said_not_claimed(tmp_path: Path) -> None:
    readme = "---\nlicense: mit\n---\n# my-classifier\n"
    facts = facts_for_directory(_hf_model(tmp_path, readme, "google-bert/bert-base-uncased"))
    assert facts.base_model_fact == (["google-bert/bert-base-uncased"],
                                     "config.json _name_or_path")
    card = render_card(facts, "model", "markdown")
    assert ("**Base model:** google-bert/bert-base-uncased (from config.json \\_name\\_or\\_path)"
            in card)  # Markdown-escaped underscores
    assert "base_model" not in model_front_matter(facts)  # a guess is not the author's claim
    # a local path, or the model's own id, is not a base model
    for own in ("/home/me/out", "outputs/run1", "acme/my-classifier"):
        facts = facts_for_directory(_hf_model(tmp_path / own.replace("/", "_"), readme, own))
        assert facts.base_model_fact == ([], None), own
