"""Issue acceptance for model and data cards: rendered from the same facts as the SBOM, valid
HTML5 that headless Chromium shows, honest about unknown facts, keeping the user's prose, and
attached as evidence whose predicate validates against its schema."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import html5lib
import pytest
import yaml
from jsonschema import Draft202012Validator

from attest.errors import UsageError
from attest.evidence.attach import attach_document
from attest.evidence.table import DATA_CARD as DATA_CARD_PREDICATE_TYPE
from attest.evidence.table import MODEL_CARD as MODEL_CARD_PREDICATE_TYPE
from attest.facts.card import card_license, parse_card, split_front_matter
from attest.facts.model import ModelFacts
from attest.intoto import validate_statement
from attest.lint.card import same_license
from attest.lint.card_spec import strip_generated
from attest.modelpack.facts import facts_for_directory, facts_for_reference
from attest.modelpack.pack import pack
from attest.oci.layout import LayoutStore
from attest.oci.referrers import discover
from attest.sbom_read.cyclonedx import cyclonedx_to_facts
from attest.stages.card_context import model_title
from attest.stages.cards import (
    card_evidence,
    predicate_errors,
    predicate_schema,
    render_card,
    templates_dir,
)
from attest.stages.mof import mof_report
from attest.stages.sbom.cyclonedx import build_cyclonedx
from tests.helpers import REPO_ROOT

MODELS = ["tiny-llm", "tiny-gguf", "tiny-onnx", "with-modelfile", "open-llm"]
TESTDATA = REPO_ROOT / "testdata" / "models"

# A MOF report in MofReport.to_dict() shape (class as a number, with classRoman and label).
MOF_REPORT: dict[str, Any] = {
    "class": 3,
    "classRoman": "III",
    "label": "Class III - Open Model",
    "progress": {"III": 100.0, "II": 40.0, "I": 0.0},
    "components": [
        {"id": "model-architecture", "name": "Model architecture", "class": 3, "required": True,
         "status": "included", "license": "Apache-2.0",
         "evidence": [{"kind": "file", "path": "modeling_tiny.py",
                       "digest": "sha256:" + "a" * 64}]},
        {"id": "training-code", "name": "Training code", "class": 2, "required": True,
         "status": "missing", "license": None, "evidence": []},
        {"id": "datasets", "name": "Datasets", "class": 1, "required": True,
         "status": "unlicensed", "license": None, "evidence": "named in the card"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[LayoutStore, Any, Any]]:
    """Each testdata model packed into an OCI layout, with its facts read back (a subject)."""
    out = {}
    for name in MODELS:
        store = LayoutStore(tmp_path_factory.mktemp(name) / "layout", create=True)
        result = pack(TESTDATA / name, store, "v1", creation_time=False)
        out[name] = (store, result, facts_for_reference(store, "v1", f"oci:{store.root}:v1"))
    return out


def front_matter(markdown: str) -> dict[str, Any]:
    """The card's front matter, read with PyYAML alone (what any Hub tool does)."""
    assert markdown.startswith("---\n")
    raw = markdown.split("\n---\n", 1)[0].removeprefix("---\n")
    data = yaml.safe_load(raw)
    assert isinstance(data, dict)
    return data


def as_list(value: Any) -> list[str]:
    return [] if value is None else (value if isinstance(value, list) else [value])


def card_licence_text(fm: dict[str, Any]) -> str | None:
    match = card_license(fm)
    if fm.get("license") == "other" and fm.get("license_name") and not match.spdx_id:
        return str(fm["license_name"])
    return match.spdx_id


# -- the Markdown card agrees with the CycloneDX SBOM ---------------------------------------------


def assert_model_card_agrees(facts: ModelFacts) -> dict[str, Any]:
    fm = front_matter(render_card(facts, "model", "markdown", MOF_REPORT))
    sbom = cyclonedx_to_facts(build_cyclonedx(facts))
    stated = card_licence_text(fm)
    expected = " AND ".join(sbom["licenses"]) or None
    if fm.get("license") == "other" and "license_name" in fm and stated != expected:
        stated = card_license(fm).spdx_id  # a LicenseRef the SBOM spells in full
    assert (stated is None) == (expected is None), (fm.get("license"), sbom["licenses"])
    if expected is not None:
        assert same_license(stated or "", expected), (fm.get("license"), sbom["licenses"])
    assert sorted(as_list(fm.get("datasets"))) == sbom["datasets"]
    assert sorted(as_list(fm.get("base_model"))) == sbom["base_models"]
    return fm


@pytest.mark.parametrize("model", MODELS)
def test_model_card_front_matter_agrees_with_cyclonedx(packed, model: str) -> None:
    _, _, facts = packed[model]
    fm = assert_model_card_agrees(facts)
    assert fm["license"] == {"tiny-llm": "apache-2.0", "open-llm": "apache-2.0"}.get(model, "mit")
    if model == "tiny-llm":  # the card's own keys survive: model-index, tags, language...
        assert fm["model-index"] == facts.card.front_matter["model-index"]
        assert fm["tags"] == ["llama", "tiny", "test-fixture"] and fm["language"] == ["en"]
        assert fm["base_model"] == "some-org/tiny-base"
        assert fm["datasets"] == ["some-org/tiny-corpus"]


@pytest.mark.parametrize("model", MODELS)
def test_data_card_front_matter_agrees_with_cyclonedx(packed, model: str) -> None:
    _, _, facts = packed[model]
    fm = front_matter(render_card(facts, "data", "markdown", MOF_REPORT))
    doc = build_cyclonedx(facts)
    sbom = cyclonedx_to_facts(doc)
    assert sorted(as_list(fm.get("source_datasets"))) == sbom["datasets"]
    data_licences = sorted({
        lic.get("license", {}).get("id") or lic.get("expression")
        for c in doc.get("components", []) if c.get("type") == "data"
        for lic in c.get("licenses", [])
    })  # fmt: skip
    stated = card_license(fm).spdx_id
    assert stated == (" AND ".join(data_licences) or None)


def test_declared_facts_win_and_agree_with_the_sbom(tmp_path: Path) -> None:
    """attest.yaml overrides the README (licence, base model, datasets) on both sides alike."""
    model = tmp_path / "m"
    shutil.copytree(TESTDATA / "tiny-llm", model)
    (model / "attest.yaml").write_text(
        "license: llama3\nbase_model: other-org/base\n"
        "datasets:\n  - {name: org/extra, use: evaluation, license: CC-BY-4.0}\n"
    )
    facts = facts_for_directory(model)
    fm = assert_model_card_agrees(facts)
    assert fm["license"] == "llama3" and fm["base_model"] == "other-org/base"
    assert fm["datasets"] == ["org/extra", "some-org/tiny-corpus"]
    (model / "attest.yaml").write_text("license: LicenseRef-house-terms\n")
    fm = assert_model_card_agrees(facts_for_directory(model))
    assert (fm["license"], fm["license_name"]) == ("other", "house-terms")
    data_fm = front_matter(render_card(facts, "data", "markdown"))
    assert data_fm["license"] == "cc-by-4.0"
    assert data_fm["source_datasets"] == ["org/extra", "some-org/tiny-corpus"]


# -- HTML: valid, self-contained, printable ------------------------------------------------------


def parse_html5(text: str) -> Any:
    """Parse as HTML5 in strict mode: any parse error (bad nesting, stray tags...) raises."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


@pytest.mark.parametrize("kind", ["model", "data"])
@pytest.mark.parametrize("model", MODELS)
def test_html_card_is_valid_self_contained_html5(packed, model: str, kind: str) -> None:
    _, _, facts = packed[model]
    html = render_card(facts, kind, "html", MOF_REPORT)
    tree = parse_html5(html)
    assert html.startswith("<!DOCTYPE html>")
    assert tree.find("head/meta[@charset='utf-8']") is not None
    assert tree.find(".//h1").text.startswith(model_title(facts))
    # no external assets, no scripts; a print stylesheet
    assert not re.search(r"<(script|link|img|iframe|object)\b|\bsrc=|url\(|@import", html)
    assert "@media print" in html
    assert "MOF: Class III - Open Model" in html


def test_the_html_check_fails_on_broken_markup(packed) -> None:
    _, _, facts = packed["tiny-llm"]
    html = render_card(facts, "model", "html")
    parse_html5(html)
    for broken in (html.replace("</table>", "", 1), html.replace("<td>", "<td><p>", 1)
                   .replace("</dd>", "</p></span></dd>", 1), html.replace("<!DOCTYPE html>", "")):
        with pytest.raises(html5lib.html5parser.ParseError):
            parse_html5(broken)


@pytest.mark.parametrize("model", MODELS)
def test_html_model_card_tables(packed, model: str) -> None:
    _, result, facts = packed[model]
    tree = parse_html5(render_card(facts, "model", "html", MOF_REPORT))
    rows = tree.findall(".//table[@id='files']/tbody/tr")
    listed = {"".join(r[0].itertext()): "".join(r[3].itertext()) for r in rows}
    assert listed == {f.path: f.sha256 for f in facts.files}
    assert len(tree.findall(".//table[@id='mof-components']/tbody/tr")) == 3
    if model == "tiny-llm":
        (row,) = tree.findall(".//table[@id='evaluation-results']/tbody/tr")
        assert ["".join(td.itertext()) for td in row] == [
            "text-generation", "some-org/tiny-corpus", "validation", "Perplexity", "812.4"]


def test_facts_are_escaped_and_prose_cannot_inject_markup(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(TESTDATA / "tiny-onnx", model)
    (model / "README.md").write_text(
        "---\nlicense: mit\ntags: ['<b>x</b>']\n---\n# t\n\n## Intended use\n\n"
        "Use it <script>alert(1)</script> well. ![logo](https://example.org/x.png)\n"
        "<img src=x onerror=alert(2)> [ok](javascript:alert(3)) <!-- hidden -->\n"
    )
    (model / "attest.yaml").write_text("name: '<i>evil</i> | name'\nauthors: ['A & B <a@b>']\n")
    facts = facts_for_directory(model)
    html = render_card(facts, "model", "html", MOF_REPORT)
    parse_html5(html)
    # raw HTML in prose is shown as text, images become links, javascript: links are dropped
    assert not re.search(r"<(script|img|i)\b|<[^>]*\bsrc=|href=\"javascript:", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;evil&lt;/i&gt; | name" in html and "A &amp; B &lt;a@b&gt;" in html
    markdown = render_card(facts, "model", "markdown")
    fm = front_matter(markdown)
    assert fm["tags"] == ["<b>x</b>"]
    assert r"\<i\>evil\</i\> \| name" in markdown  # the name cannot open a tag or a table cell


# -- headless Chromium shows the name, the MOF class and the file table --------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; scripts/test installs Debian's chromium")
    pytest.skip("chromium is not installed (Debian package 'chromium'); CI runs this test")


def chromium_run(binary: str, page: Path, profile: Path, *args: str) -> str:
    proc = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("kind", ["model", "data"])
@pytest.mark.parametrize("model", MODELS)
def test_chromium_shows_name_mof_class_and_file_table(
    packed, model: str, kind: str, tmp_path: Path
) -> None:
    binary = chromium()
    _, _, facts = packed[model]
    report = mof_report(facts).to_dict()  # the real MOF stage's report
    page = tmp_path / f"{model}.html"
    page.write_text(render_card(facts, kind, "html", report), encoding="utf-8")
    # The DOM after Chromium loaded and laid out the page (not strict: Chromium serialises it).
    dumped = chromium_run(binary, page, tmp_path / "profile", "--dump-dom")
    dom = html5lib.parse(dumped, namespaceHTMLElements=False)
    title = "".join(dom.find(".//h1[@id='model-name']").itertext())
    name = model_title(facts)  # the README's H1, else the name the model gives itself
    assert title == (name if kind == "model" else f"{name}: data card")
    assert "".join(dom.find(".//*[@id='mof-class']").itertext()) == f"MOF: {report['label']}"
    files = facts.files if kind == "model" else facts.files_with_role("dataset")
    rows = dom.findall(".//table[@id='files']/tbody/tr")
    assert {"".join(r[0].itertext()) for r in rows} == {f.path for f in files}
    assert {"".join(r[3].itertext()) for r in rows} == {f.sha256 for f in files}
    shot = tmp_path / "card.png"
    chromium_run(binary, page, tmp_path / "profile", f"--screenshot={shot}",
                 "--window-size=1100,2400")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("ATTEST_CARD_SCREENSHOTS")  # e.g. docs/img, to refresh the docs
    if keep:
        shutil.copyfile(shot, Path(keep) / f"{kind}-card-{model}.png")


# -- honest about what is unknown ----------------------------------------------------------------


def test_unknown_facts_say_not_provided_and_what_to_declare(packed) -> None:
    _, _, facts = packed["tiny-gguf"]  # a README with no front matter and no sections
    markdown = render_card(facts, "model", "markdown")
    for key in ("intended_use", "limitations", "version", "authors"):
        assert re.search(rf"\*\*Not provided[.:]\*\*.*`{key}` in `attest.yaml`", markdown), key
    # the README's own intro paragraph is the description: kept, not "not provided"
    assert "A two-tensor GGUF v3 file made for attest's tests" in markdown
    assert not re.search(r"\*\*Not provided[.:]\*\*.*`description` in `attest.yaml`", markdown)
    assert "Run `attest mof`" in markdown  # no MOF report given
    html = render_card(facts, "model", "html")
    assert html.count('class="missing"') >= 5 and "MOF: not assessed" in html
    data = render_card(facts, "data", "markdown")
    assert "`extra.data_card.collection` in `attest.yaml`" in data
    # and nothing is invented: no licence, base model or dataset the facts do not have
    fm = front_matter(markdown)
    assert set(fm) == {"license"} and "base_model" not in markdown.split("---")[1]


def test_declared_text_fills_sections_and_stays_fresh(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(TESTDATA / "tiny-gguf", model)
    # no intro paragraph in the README: the declared description fills the summary
    (model / "README.md").write_text("---\nlicense: mit\n---\n# m\n")
    (model / "attest.yaml").write_text(
        "description: A tiny GGUF.\nintended_use: Tests only.\nlimitations: None known.\n"
        "extra:\n  model_card: {environmental_impact: 'A laptop, one second.'}\n"
        "  data_card: {collection: Synthetic., size_categories: [n<1K]}\n"
    )
    first = render_card(facts_for_directory(model), "model", "markdown")
    assert "Tests only." in first and "A laptop, one second." in first
    assert "A tiny GGUF." in first
    (model / "README.md").write_text(first)
    (model / "attest.yaml").write_text("intended_use: Demos.\n")
    second = render_card(facts_for_directory(model), "model", "markdown")
    # declared text is generated content: it follows attest.yaml, it is not frozen in the README
    assert "Demos." in second and "Tests only." not in second
    data = render_card(facts_for_directory(model), "data", "markdown")
    assert "Synthetic." not in data  # the data card follows the new attest.yaml too


# -- the user's own sections survive ---------------------------------------------------------------


def test_hand_written_sections_survive_a_re_render_unchanged(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(TESTDATA / "tiny-llm", model)
    readme = (model / "README.md").read_text()
    readme += "\n## Acknowledgements\n\nThanks to *everyone*.\n\n```\n## not a heading\n```\n"
    (model / "README.md").write_text(readme)
    original = parse_card(readme).sections
    renders = []
    for _ in range(3):
        text = render_card(facts_for_directory(model), "model", "markdown", MOF_REPORT)
        renders.append(text)
        (model / "README.md").write_text(text)
        sections = parse_card(text).sections
        for title, body in original.items():
            assert strip_generated(sections[title]) == body, title
            assert body in text
    # stable: a second render of its own output changes nothing but the README's own digest
    mask = re.compile(r"^\| `README\.md` .*$", re.MULTILINE)
    assert mask.sub("", renders[1]) == mask.sub("", renders[2])
    assert split_front_matter(renders[2], "README.md")[0] == front_matter(renders[0])


def test_same_facts_same_bytes(packed) -> None:
    _, _, facts = packed["tiny-llm"]
    for kind in ("model", "data"):
        for fmt in ("markdown", "html"):
            assert render_card(facts, kind, fmt, MOF_REPORT) == \
                render_card(copy.deepcopy(facts), kind, fmt, copy.deepcopy(MOF_REPORT))


@pytest.mark.parametrize(
    "mof,badge",
    [
        (MOF_REPORT, "MOF: Class III - Open Model"),
        ({"class": "II", "progress": {"III": 100, "II": 100, "I": 50}, "components": []},
         "MOF: Class II"),
        ({"class": None, "label": "Unclassified", "progress": {"III": 50}, "components": []},
         "MOF: Unclassified"),
        (None, "MOF: not assessed"),
    ],
)
def test_mof_report_shapes(packed, mof: dict[str, Any] | None, badge: str) -> None:
    _, _, facts = packed["tiny-onnx"]
    tree = parse_html5(render_card(facts, "model", "html", mof))
    assert "".join(tree.find(".//*[@id='mof-class']").itertext()) == badge


@pytest.mark.parametrize("model", MODELS)
def test_real_mof_report(packed, model: str) -> None:
    _, _, facts = packed[model]
    report = mof_report(facts)
    tree = parse_html5(render_card(facts, "model", "html", report.to_dict()))
    assert "".join(tree.find(".//*[@id='mof-class']").itertext()) == f"MOF: {report.label}"
    rows = tree.findall(".//table[@id='mof-components']/tbody/tr")
    assert ["".join(r[0].itertext()) for r in rows] == [c.name for c in report.components]
    assert ["".join(r[3].itertext()) for r in rows] == [c.status for c in report.components]
    markdown = render_card(facts, "model", "markdown", report.to_dict())
    assert f"**MOF class: {report.label}**" in markdown


def test_bad_kind_or_format_is_a_usage_error(packed) -> None:
    _, _, facts = packed["tiny-onnx"]
    with pytest.raises(UsageError):
        render_card(facts, "dataset", "markdown")
    with pytest.raises(UsageError):
        render_card(facts, "model", "pdf")


def test_templates_come_from_the_top_level_cards_directory() -> None:
    assert templates_dir() == REPO_ROOT / "cards"


# -- evidence ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["model", "data"])
@pytest.mark.parametrize("model", MODELS)
def test_card_evidence(packed, model: str, kind: str) -> None:
    store, result, facts = packed[model]
    markdown_ev, html_ev = card_evidence(facts, kind, MOF_REPORT)
    statement = markdown_ev.statement
    assert html_ev.statement is statement  # one statement vouches for both renderings
    validate_statement(statement)
    assert statement["predicateType"] == {"model": MODEL_CARD_PREDICATE_TYPE,
                                          "data": DATA_CARD_PREDICATE_TYPE}[kind]
    assert statement["subject"][0]["digest"]["sha256"] == result.descriptor.digest[7:]
    predicate = statement["predicate"]
    Draft202012Validator(predicate_schema(kind)).validate(predicate)
    assert (markdown_ev.media_type, html_ev.media_type) == ("text/markdown", "text/html")
    for ev, key in ((markdown_ev, "markdown"), (html_ev, "html")):
        assert ev.document is not None
        assert predicate[key]["digest"]["sha256"] == hashlib.sha256(ev.document).hexdigest()
        assert predicate[key]["size"] == len(ev.document)
    assert predicate["frontMatter"] == front_matter(markdown_ev.document.decode())
    assert predicate["mofClass"] == "III"
    required_missing = set(predicate["requiredSectionsMissing"])
    assert not required_missing & set(predicate["sectionsPresent"])
    if kind == "model":
        expected = set() if model in ("tiny-llm", "open-llm") else {"evaluation", "limitations"}
        assert expected <= required_missing and (model != "tiny-llm" or not required_missing)


def test_predicate_schema_rejects_a_bad_predicate(packed) -> None:
    _, _, facts = packed["tiny-llm"]
    predicate = card_evidence(facts, "model")[0].statement["predicate"]
    assert predicate_errors(predicate, "model") == []
    for mutate in (
        lambda p: p["markdown"]["digest"].update(sha256="not-hex"),
        lambda p: p.pop("frontMatter"),
        lambda p: p["sectionsPresent"].append("no-such-section"),
        lambda p: p.update(card="data"),
        lambda p: p.update(mofClass="IV"),
    ):
        bad = copy.deepcopy(predicate)
        mutate(bad)
        assert predicate_errors(bad, "model"), mutate


def test_card_evidence_needs_a_subject() -> None:
    with pytest.raises(UsageError):
        card_evidence(facts_for_directory(TESTDATA / "tiny-onnx"), "model")


def test_cards_attach_as_referrers(packed) -> None:
    store, result, facts = packed["tiny-onnx"]
    for kind in ("model", "data"):
        for evidence in card_evidence(facts, kind, MOF_REPORT):
            attach_document(store, result.descriptor, evidence)
    found = discover(store, result.descriptor.digest)
    kinds = sorted((r.artifact_type, r.annotations.get("dev.attest.card.kind")) for r in found)
    assert kinds == [("text/html", "data"), ("text/html", "model"),
                     ("text/markdown", "data"), ("text/markdown", "model")]
    assert json.loads(json.dumps(found[0].annotations))["dev.attest.predicate-type"].startswith(
        "https://attest.dev/")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", ["model", "data"])
def test_html_card_ids_are_unique(packed, model: str, kind: str) -> None:
    """An id appears once per document (the W3C validator refused every card when the MOF badge
    carried id="mof-class" twice)."""
    _, _, facts = packed[model]
    tree = parse_html5(render_card(facts, kind, "html", mof_report(facts).to_dict()))
    ids = [el.get("id") for el in tree.iter() if el.get("id")]
    assert ids and len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
