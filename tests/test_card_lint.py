"""`attest card lint`: each rule fires on a crafted bad card at the right line, rendered cards
pass, and the SARIF output is valid SARIF 2.1.0 (checked against the OASIS schema)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from attest.lint.card import lint_card
from attest.lint.card_report import lint_json, lint_text, render_findings, sarif_log
from attest.lint.card_rules import RULES, Finding, has_errors
from attest.modelpack.facts import facts_for_directory, facts_for_reference
from attest.modelpack.pack import pack
from attest.oci.layout import LayoutStore
from attest.stages.cards import render_card
from tests.helpers import REPO_ROOT

MODELS = ["tiny-llm", "tiny-gguf", "tiny-onnx", "with-modelfile"]
TESTDATA = REPO_ROOT / "testdata" / "models"
# The OASIS SARIF 2.1.0 JSON Schema (errata01), copied unchanged from oasis-tcs/sarif-spec
# Schemata/sarif-schema-2.1.0.json (112 768 bytes; OASIS Open, offered under the OASIS IPR
# policy for use in implementations). Draft-04, checked offline with jsonschema.
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

SECTIONS = """
## Model details

A model.

## Intended use

Tests.

## Evaluation

Perplexity 3.

## Limitations

Many.
"""
GOOD = "---\nlicense: apache-2.0\ndatasets:\n- some-org/tiny-corpus\n---\n\n# tiny\n" + SECTIONS


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory: pytest.TempPathFactory):
    store = LayoutStore(tmp_path_factory.mktemp("lint") / "layout", create=True)
    pack(TESTDATA / "tiny-llm", store, "v1", creation_time=False)
    return facts_for_reference(store, "v1", f"oci:{store.root}:v1")


def rules_at(findings: list[Finding]) -> set[tuple[str, int | None]]:
    return {(f.rule, f.line) for f in findings}


def test_a_good_card_has_no_findings() -> None:
    assert lint_card(GOOD) == []


# Each broken card, the rule it must fire and the line it must point at (None: no place).
BROKEN = [
    ("bad-yaml", "---\nlicense: mit\ntags: [a, b\n---\n# t\n" + SECTIONS,
     "front-matter-invalid", 4),
    ("unclosed", "---\nlicense: mit\n# t\n" + SECTIONS, "front-matter-invalid", 1),
    ("not-a-mapping", "---\n- a\n- b\n---\n# t\n" + SECTIONS, "front-matter-invalid", 2),
    ("no-front-matter", "# t\n" + SECTIONS, "front-matter-missing", 1),
    ("unknown-licence", "---\nlicense: super-free-2.0\n---\n# t\n" + SECTIONS,
     "license-not-spdx", 2),
    ("other-without-name", "---\ntags: [x]\nlicense: other\n---\n# t\n" + SECTIONS,
     "license-not-spdx", 3),
    ("no-licence", "---\ntags: [x]\n---\n# t\n" + SECTIONS, "license-missing", 1),
    ("typo-key", "---\nlicense: mit\nlicence: mit\n---\n# t\n" + SECTIONS, "unknown-key", 3),
    ("duplicate-key", "---\nlicense: mit\ntags: [a]\nlicense: mit\n---\n# t\n" + SECTIONS,
     "duplicate-key", 4),
    ("tags-not-a-list", "---\nlicense: mit\ntags: 5\n---\n# t\n" + SECTIONS, "key-type", 3),
    ("library-not-a-string", "---\nlicense: mit\nlibrary_name: [a]\n---\n# t\n" + SECTIONS,
     "key-type", 3),
    ("unknown-task", "---\nlicense: mit\npipeline_tag: text-gen\n---\n# t\n" + SECTIONS,
     "pipeline-tag-unknown", 3),
    ("model-index-not-a-list", "---\nlicense: mit\nmodel-index: {name: x}\n---\n# t\n" + SECTIONS,
     "model-index-invalid", 3),
    ("metric-without-value",
     "---\nlicense: mit\nmodel-index:\n- name: t\n  results:\n  - task: {type: text-generation}\n"
     "    dataset: {type: d, name: D}\n    metrics:\n    - type: accuracy\n---\n# t\n" + SECTIONS,
     "model-index-invalid", 9),
    ("dataset-without-name",
     "---\nlicense: mit\nmodel-index:\n- name: t\n  results:\n  - task: {type: text-generation}\n"
     "    dataset: {type: d}\n    metrics:\n    - {type: accuracy, value: 1}\n---\n# t\n"
     + SECTIONS, "model-index-invalid", 7),
    ("no-title", "---\nlicense: mit\n---\n" + SECTIONS, "title-missing", 4),
    ("missing-class-iii-section",
     "---\nlicense: mit\n---\n# t\n" + SECTIONS.replace("## Limitations\n\nMany.\n", ""),
     "section-missing", None),
    ("placeholder-section",
     "---\nlicense: mit\n---\n# t\n" + SECTIONS.replace("Many.", "[More Information Needed]"),
     "section-empty", 18),
    ("not-provided-section",
     "---\nlicense: mit\n---\n# t\n" + SECTIONS.replace("Tests.", "> **Not provided:** x."),
     "section-empty", 10),
    ("data-card-bad-size",
     "---\nlicense: cc-by-4.0\npretty_name: D\nsize_categories:\n- 5 rows\n---\n# D\n\n"
     "## Composition\n\nRows.\n\n## Collection\n\nCrawled.\n\n## Preprocessing\n\nNone.\n",
     "size-category-invalid", 5),
    ("data-card-bad-task",
     "---\nlicense: cc-by-4.0\ntask_categories: [text-gen]\n---\n# D\n\n## Composition\n\nRows."
     "\n\n## Collection\n\nCrawled.\n\n## Preprocessing\n\nNone.\n", "pipeline-tag-unknown", 3),
]


@pytest.mark.parametrize("name,text,rule,line", BROKEN, ids=[b[0] for b in BROKEN])
def test_each_rule_fires_at_its_line(name: str, text: str, rule: str, line: int | None) -> None:
    findings = lint_card(text, "README.md")
    assert (rule, line) in rules_at(findings), lint_text(findings, "README.md")
    assert has_errors(findings) == any(f.level == "error" for f in findings)


def test_suggestions_for_typos() -> None:
    (finding,) = [f for f in lint_card(BROKEN[7][1]) if f.rule == "unknown-key"]
    assert "did you mean 'license'" in finding.message
    (finding,) = [f for f in lint_card(BROKEN[11][1]) if f.rule == "pipeline-tag-unknown"]
    assert "text-generation" in finding.message


def test_card_licence_must_match_the_artifact(tiny_llm) -> None:
    text = GOOD.replace("license: apache-2.0", "license: mit")
    findings = lint_card(text, "README.md", tiny_llm)
    assert ("license-mismatch", 2) in rules_at(findings) and has_errors(findings)
    assert lint_card(GOOD, "README.md", tiny_llm) == [
        Finding("base-model-mismatch", "error",
                "the artifact names base_model 'some-org/tiny-base'; the card does not", 1)
    ]
    # an equivalent expression in another order is the same licence
    facts = facts_for_directory(TESTDATA / "tiny-llm")
    assert not [f for f in lint_card(GOOD, "README.md", facts) if f.rule == "license-mismatch"]


def test_datasets_and_base_model_must_match_the_artifact(tiny_llm) -> None:
    text = GOOD.replace("- some-org/tiny-corpus", "- other/corpus").replace(
        "---\n\n#", "base_model: org/wrong\n---\n\n#")
    findings = lint_card(text, "README.md", tiny_llm)
    assert ("dataset-mismatch", 4) in rules_at(findings)  # the card's extra dataset: error
    assert ("base-model-mismatch", 5) in rules_at(findings)
    missing = [f for f in findings if "some-org/tiny-corpus" in f.message]
    assert missing and missing[0].level == "warning"  # the artifact's unnamed dataset


def test_file_table_must_match_the_artifact(tiny_llm) -> None:
    card = render_card(tiny_llm, "model", "markdown")
    assert lint_card(card, "README.md", tiny_llm) == []
    lines = card.splitlines()
    weights = next(i for i, s in enumerate(lines) if s.startswith("| `model.safetensors`"))
    tampered = lines.copy()
    tampered[weights] = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, lines[weights])
    findings = lint_card("\n".join(tampered), "README.md", tiny_llm)
    assert ("file-mismatch", weights + 1) in rules_at(findings)
    dropped = lines[:weights] + lines[weights + 1:]
    findings = lint_card("\n".join(dropped), "README.md", tiny_llm)
    assert any(f.rule == "file-mismatch" and "model.safetensors" in f.message for f in findings)
    extra = lines[:weights] + ["| `ghost.bin` | weight | 1 B | `sha256:" + "1" * 64 + "` |"] + \
        lines[weights:]
    findings = lint_card("\n".join(extra), "README.md", tiny_llm)
    assert ("file-mismatch", weights + 1) in rules_at(findings)


def test_every_rule_is_exercised(tiny_llm) -> None:
    fired = {rule for _, _, rule, _ in BROKEN}
    fired |= {"license-mismatch", "dataset-mismatch", "base-model-mismatch", "file-mismatch"}
    assert fired == set(RULES)


@pytest.mark.parametrize("kind", ["model", "data"])
@pytest.mark.parametrize("model", MODELS)
def test_rendered_cards_pass(model: str, kind: str, tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    pack(TESTDATA / model, store, "v1", creation_time=False)
    facts = facts_for_reference(store, "v1", f"oci:{store.root}:v1")
    card = render_card(facts, kind, "markdown")
    findings = lint_card(card, "README.md", facts)
    assert not has_errors(findings), lint_text(findings, "README.md")
    assert lint_card(card, "README.md", facts, kind=kind) == findings  # kind told correctly
    if (model, kind) == ("tiny-llm", "model"):
        assert findings == []
    # what is only "Not provided" is a warning naming the attest.yaml key, never an error
    assert all(f.level != "error" for f in findings if f.rule == "section-empty")


def test_declarations_make_the_rendered_card_lint_clean(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(TESTDATA / "tiny-gguf", model)
    (model / "attest.yaml").write_text(
        "intended_use: Tests.\nlimitations: Many.\n"
        "extra: {model_card: {evaluation: 'Not evaluated: it is a fixture.'}}\n"
    )
    facts = facts_for_directory(model)
    assert lint_card(render_card(facts, "model", "markdown"), "README.md", facts) == []


# -- output formats ------------------------------------------------------------------------------


def test_text_and_json_output() -> None:
    findings = lint_card(BROKEN[4][1], "cards/README.md")
    text = lint_text(findings, "cards/README.md")
    assert "cards/README.md:2: error [license-not-spdx]" in text
    assert text.rstrip().endswith("1 errors, 0 warnings, 0 notes")
    data = json.loads(render_findings(findings, "cards/README.md", "json"))
    assert data == lint_json(findings, "cards/README.md")
    assert data["summary"] == {"error": 1, "warning": 0, "note": 0}
    assert data["findings"][0] == {"rule": "license-not-spdx", "level": "error", "line": 2,
                                   "message": findings[0].message}


def test_sarif_is_valid_sarif_2_1_0() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    validator = Draft4Validator(schema)
    text = BROKEN[16][1].replace("license: mit", "license: nope")  # a finding with no line too
    findings = lint_card(text, "models/my model/README.md")
    log = json.loads(render_findings(findings, "models/my model/README.md", "sarif"))
    assert sorted(e.message for e in validator.iter_errors(log)) == []
    assert log == sarif_log(findings, "models/my model/README.md")
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert len(run["results"]) == len(findings)
    for result, finding in zip(run["results"], findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule
        assert result["level"] == finding.level
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "models/my%20model/README.md"
        assert location.get("region", {}).get("startLine") == finding.line
    assert {r["ruleId"] for r in run["results"]} == {"license-not-spdx", "section-missing"}
    # the validator does catch a broken log
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken))


def test_has_errors() -> None:
    assert not has_errors([Finding("unknown-key", "warning", "x", 1)])
    assert has_errors([Finding("unknown-key", "warning", "x", 1),
                       Finding("license-not-spdx", "error", "y", 2)])
