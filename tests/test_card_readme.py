"""Issue 13 item 2: a card keeps the author's README (HTML headings, heading variants, several
H1s, a banner before the title), maps its sections, and loses no text when rendered again."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from attest.facts.card import parse_card
from attest.lint.card import lint_card
from attest.lint.card_spec import match_section
from attest.modelpack.facts import facts_for_directory
from attest.stages.cards import render_card
from tests.helpers import REPO_ROOT

TINY = REPO_ROOT / "testdata" / "models" / "tiny-llm"

# The shapes real READMEs take (sentence-transformers, exporters' cards, GitHub-style pages).
README = """---
license: apache-2.0
---
<div align="center"><img src="logo.png" alt="logo"></div>

<h1 align="center">Tiny Sentence Encoder</h1>

An encoder that maps sentences to 8-dimensional vectors.

<h2>Intended uses</h2>

Semantic search over short passages.

## Usage (Sentence-Transformers)

```python
# a comment that looks like a heading
## not a heading
model = SentenceTransformer("tiny")
```

## Usage (HuggingFace Transformers)

Call the model and mean-pool the token embeddings.

# Training

Trained for one epoch on **synthetic** pairs.

Citing & Authors
----------------

```bibtex
@inproceedings{tiny2026, title={Tiny Encoders}, year={2026}}
```

## 1. Acknowledgements 🙏

Thanks to everyone.
"""

AUTHOR_TEXT = [
    '<div align="center"><img src="logo.png" alt="logo"></div>',
    "An encoder that maps sentences to 8-dimensional vectors.",
    "Semantic search over short passages.",
    'model = SentenceTransformer("tiny")',
    "## not a heading",
    "Call the model and mean-pool the token embeddings.",
    "Trained for one epoch on **synthetic** pairs.",
    "@inproceedings{tiny2026, title={Tiny Encoders}, year={2026}}",
    "Thanks to everyone.",
]


def model_dir(tmp_path: Path, readme: str) -> Path:
    model = tmp_path / "some-checkout-dir"
    shutil.copytree(TINY, model)
    (model / "README.md").write_text(readme)
    return model


def section(markdown: str, title: str) -> str:
    """The text under a ``## title`` heading of a rendered card (fences respected)."""
    sections = parse_card(markdown).sections
    assert title in sections, f"no section {title!r} in {list(sections)}"
    return sections[title]


def test_heading_variants_map_to_sections() -> None:
    expected = {
        "Usage (Sentence-Transformers)": "get-started",
        "Citing & Authors": "citation",
        "1. Introduction": "model-details",
        "📖 Citation": "citation",
        "**Intended Uses & Limitations**": "intended-use",
        "Usage with transformers": "get-started",
        "Acknowledgements": None,
    }
    for title, key in expected.items():
        spec = match_section(title, "model")
        assert (spec.key if spec else None) == key, title


def test_html_setext_and_repeated_h1_headings_are_sections() -> None:
    card = parse_card(README)
    assert card.title == "Tiny Sentence Encoder"
    assert list(card.sections) == ["Intended uses", "Usage (Sentence-Transformers)",
                                   "Usage (HuggingFace Transformers)", "Training",
                                   "Citing & Authors", "1. Acknowledgements 🙏"]
    assert card.summary is not None and "logo.png" in card.summary
    assert "8-dimensional" in card.summary


def test_card_keeps_the_readme_and_says_nothing_is_missing(tmp_path: Path) -> None:
    model = model_dir(tmp_path, README)
    markdown = render_card(facts_for_directory(model), "model", "markdown")
    for text in AUTHOR_TEXT:
        assert text in markdown, text
    assert markdown.count("\n# Tiny Sentence Encoder\n") == 1
    assert "some-checkout-dir\n" not in markdown.split("## ")[0]  # title is not the directory
    assert "Semantic search" in section(markdown, "Intended uses")
    assert "SentenceTransformer" in section(markdown, "Usage (Sentence-Transformers)")
    assert "@inproceedings" in section(markdown, "Citing & Authors")
    assert "Not provided:** a description" not in markdown
    for what in ("what the model is for", "how to obtain and run", "how to cite"):
        assert what not in markdown, what
    html = render_card(facts_for_directory(model), "model", "html")
    assert "<title>Tiny Sentence Encoder</title>" in html
    assert "Semantic search over short passages." in html


def test_re_rendering_as_readme_never_loses_text(tmp_path: Path) -> None:
    model = model_dir(tmp_path, README)
    renders = []
    for _ in range(3):
        text = render_card(facts_for_directory(model), "model", "markdown")
        renders.append(text)
        (model / "README.md").write_text(text)  # attest card DIR -o README.md
        for author in AUTHOR_TEXT:
            assert author in text, author
    mask = re.compile(r"^\| `README\.md` .*$", re.MULTILINE)
    assert mask.sub("", renders[1]) == mask.sub("", renders[2])
    # the renderer's output passes the linter that reads headings the same way
    findings = lint_card(renders[2], "README.md")
    assert not [f for f in findings if f.level == "error"], findings


def test_title_from_config_name_when_the_readme_has_no_h1(tmp_path: Path) -> None:
    readme = "---\nlicense: mit\n---\nJust a paragraph.\n\n## Usage\n\nRun it.\n"
    model = model_dir(tmp_path, readme)
    config = json.loads((model / "config.json").read_text())
    config["_name_or_path"] = "acme/tiny-encoder-v2"
    (model / "config.json").write_text(json.dumps(config))
    markdown = render_card(facts_for_directory(model), "model", "markdown")
    assert "\n# tiny-encoder-v2\n" in markdown
    assert "Just a paragraph." in markdown and "Run it." in section(markdown, "Usage")


PAPER_README = """---
license: apache-2.0
---
# Tiny

A tiny model.

## Training data

| Dataset | Paper |
|---|---|
| SQuAD | [arXiv](https://arxiv.org/abs/1606.05250) |
| MS MARCO | https://arxiv.org/abs/1611.09268 |

## Citation

```bibtex
@article{tiny2026,
  title = {Tiny},
  eprint = {2601.01234},
  archivePrefix = {arXiv}
}
```
"""


def test_papers_come_from_the_citation_not_a_data_table(tmp_path: Path) -> None:
    from attest.stages.mof import mof_report

    facts = facts_for_directory(model_dir(tmp_path, PAPER_README))
    assert facts.card is not None
    assert facts.card.arxiv == ["https://arxiv.org/abs/2601.01234"]
    markdown = render_card(facts, "model", "markdown")
    citation = section(markdown, "Citation")
    assert "2601.01234" in citation and "1606.05250" not in citation
    paper = mof_report(facts).to_dict()["components"]
    [research] = [c for c in paper if c["id"] == "research-paper"]
    urls = json.dumps(research["evidence"])
    assert "2601.01234" in urls and "1606.05250" not in urls and "1611.09268" not in urls


def test_author_text_in_a_section_attest_generates_is_kept(tmp_path: Path) -> None:
    readme = ("---\nlicense: mit\n---\n# Tiny\n\n## Provenance\n\nTrained at Acme on our own "
              "cluster.\n\n## Openness\n\nWeights and code are public.\n")
    model = model_dir(tmp_path, readme)
    for _ in range(2):
        text = render_card(facts_for_directory(model), "model", "markdown")
        (model / "README.md").write_text(text)
        assert "Trained at Acme on our own cluster." in text
        assert "Weights and code are public." in text
        assert text.count("## Provenance") == 1 and text.count("## Openness") == 1
