"""MOF scoring: exact parity with the Model Openness Tool, strict MOT YAML reading, round trips.

The 27 fixtures and the MOT's own results are copied into ``testdata/vectors/mot``
(Test_Data/*.yml and Test_Data/expected_results.parsed.json; origins in its README).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from attest.errors import InputError
from attest.mof import (
    MofConfig,
    dump_mot_yaml,
    framework,
    load_mot_yaml,
    parse_mot_yaml,
    refresh,
    render,
    score,
    to_mot_dict,
)
from attest.mof.config import ComponentEntry, ReleaseLicense
from attest.mof.licenses import mot_license

REPO_ROOT = Path(__file__).resolve().parent.parent
MOT = REPO_ROOT / "testdata" / "vectors" / "mot"  # see testdata/vectors/README.md
FIXTURES = MOT / "Test_Data"


def _fixture_names() -> list[str]:
    names = sorted(p.name for p in FIXTURES.glob("*.yml"))
    assert names, f"no MOT fixtures in {FIXTURES}"  # fails collection rather than skipping
    return names


def _expected() -> dict[str, dict[str, Any]]:
    doc = json.loads((FIXTURES / "expected_results.parsed.json").read_text(encoding="utf-8"))
    # The MOT's API answer names each model by its release.name, which is not the file name.
    return {m["release"]["name"]: m["classification"] for m in doc["models"]}


# -- parity with the MOT ------------------------------------------------------------------------


def test_all_27_fixtures_are_present() -> None:
    assert len(list(FIXTURES.glob("*.yml"))) == 27
    assert len(_expected()) == 27


@pytest.mark.parametrize("fixture", _fixture_names())
def test_fixture_matches_mot(fixture: str) -> None:
    config = load_mot_yaml(FIXTURES / fixture)
    expected = _expected()[config.name]
    report = score(config)
    # Exact equality, floats included: the MOT computes included / total * 100 the same way.
    assert (report.mof_class or 0) == expected["class"]
    assert report.label == expected["label"]
    for cls in (1, 2, 3):
        assert report.progress[cls] == expected["progress"][str(cls)], f"class {cls}"


def test_fixtures_exercise_every_rule() -> None:
    """Guard against a fixture set that stops testing something: each rule is hit."""
    reports = [score(load_mot_yaml(FIXTURES / n)) for n in _fixture_names()]
    assert {r.mof_class for r in reports} == {None, 1, 2, 3}
    statuses = {c.status for r in reports for c in r.components}
    assert statuses == {"included", "missing", "unlicensed", "invalid"}
    assert any(r.component("technical-report").substituted_by for r in reports)
    sources = {c.license_source for r in reports for c in r.components if c.license_source}
    assert {"component", "release.distribution", "release.code", "release.data"} <= sources
    assert any(r.classes[1].total == 13 for r in reports)  # the paper stood in for the report


# -- the algorithm, on hand-made configurations --------------------------------------------------


def _config(*entries: tuple[str, str | None], **licenses: str) -> MofConfig:
    return MofConfig(
        name="m",
        licenses={k: ReleaseLicense(v) for k, v in licenses.items()},
        components=[ComponentEntry(name=n, license=lic) for n, lic in entries],
    )


CLASS_III = [
    ("Model architecture", "Apache-2.0"),
    ("Model parameters (Final)", "CDLA-Permissive-2.0"),
    ("Technical report", "CC-BY-4.0"),
    ("Evaluation results", "CC-BY-4.0"),
    ("Model card", "CC-BY-4.0"),
    ("Data card", "CC-BY-4.0"),
]
CLASS_II = [
    ("Training code", "MIT"),
    ("Inference code", "MIT"),
    ("Evaluation code", "MIT"),
    ("Evaluation data", "CC-BY-4.0"),
]
CLASS_I = [
    ("Datasets", "CC-BY-4.0"),
    ("Data preprocessing code", "MIT"),
    ("Model parameters (Intermediate)", "Apache-2.0"),
    ("Research paper", "CC-BY-4.0"),
]


def test_complete_release_is_class_one() -> None:
    report = score(_config(*CLASS_III, *CLASS_II, *CLASS_I))
    assert report.mof_class == 1
    assert report.label == "Class I - Open Science Model"
    assert report.progress == {3: 100, 2: 100, 1: 100}
    assert report.next_class is None


def test_licence_resolution_order() -> None:
    # Own licence, else the release licence of the content type, else the distribution one.
    config = _config(
        ("Model architecture", None),  # code -> release.code
        ("Model parameters (Final)", None),  # data: no release.data -> distribution
        ("Model card", "unlicensed"),  # explicit: no fallback at all
        ("Data card", "CC0-1.0"),  # its own
        code="MIT",
        distribution="Apache-2.0",
    )
    report = score(config)
    arch = report.component("model-architecture")
    assert (arch.license, arch.license_source, arch.status) == ("MIT", "release.code", "included")
    params = report.component("final-model-parameters")
    assert (params.license, params.license_source) == ("Apache-2.0", "release.distribution")
    card = report.component("model-card")
    assert (card.license, card.status) == (None, "unlicensed")
    assert report.component("data-card").license_source == "component"


def test_not_open_licence_is_invalid_and_blocks_the_class() -> None:
    entries = dict(CLASS_III)
    entries["Model parameters (Final)"] = "CC-BY-NC-4.0"
    report = score(_config(*entries.items()))
    assert report.component("final-model-parameters").status == "invalid"
    assert report.classes[3].invalid == ("final-model-parameters",)
    assert report.mof_class is None
    assert report.progress[3] == 5 / 6 * 100
    assert [c.id for c in report.needed_for(3)] == ["final-model-parameters"]


def test_mot_open_rule_quirks() -> None:
    # FSF-libre but not OSI (Apache-1.0), open-data list (ODbL-1.0), OpenMDW, and the MOF-list
    # ids the MOT does not count as open (PDDL-1.0).
    catalog = framework().licenses
    assert catalog.is_open("Apache-1.0")
    assert catalog.is_open("ODbL-1.0")
    assert catalog.is_open("OpenMDW-1.0")
    assert catalog.is_open("ODC-PDDL-1.0") and not catalog.is_open("PDDL-1.0")
    assert not catalog.is_open("CC-BY-NC-4.0")
    assert not catalog.is_open("LicenseRef-llama3")
    # "last entry wins": CC0-1.0 is typed document only.
    assert catalog.is_appropriate("CC0-1.0", "document")
    assert not catalog.is_appropriate("CC0-1.0", "data")


def test_open_but_not_type_appropriate_counts_with_a_warning() -> None:
    report = score(_config(("Model parameters (Final)", "MIT")))
    params = report.component("final-model-parameters")
    assert params.status == "included" and params.type_appropriate is False
    assert any("Model parameters (Final): MIT" in w for w in report.warnings)


def test_research_paper_stands_in_for_missing_technical_report() -> None:
    entries = [e for e in CLASS_III if e[0] != "Technical report"] + [("Research paper", "MIT")]
    report = score(_config(*entries, *CLASS_II))
    assert report.mof_class == 2
    tr = report.component("technical-report")
    assert tr.status == "missing" and tr.substituted_by == "research-paper"
    assert "research-paper" in report.classes[3].included
    assert "technical-report" not in report.classes[1].missing
    assert report.classes[1].total == 13  # the MOT counts 13 for Class I then
    assert report.progress[1] == 10 / 13 * 100


def test_paper_takes_the_slot_with_its_own_status() -> None:
    # The paper is listed without a licence: it stands in, so Class III lacks an open document.
    entries = [e for e in CLASS_III if e[0] != "Technical report"] + [("Research paper", None)]
    report = score(_config(*entries))
    assert report.classes[3].unlicensed == ("research-paper",)
    assert report.mof_class is None


def test_open_technical_report_is_not_replaced() -> None:
    report = score(_config(*CLASS_III, ("Research paper", "CC-BY-4.0")))
    assert report.component("technical-report").substituted_by is None
    assert report.classes[1].total == 14


def test_less_open_class_gates_progress() -> None:
    # Class II is complete on its own, but Class III is not: the MOT reports 0 for II.
    entries = [e for e in CLASS_III if e[0] != "Data card"]
    report = score(_config(*entries, *CLASS_II))
    assert report.progress[3] == 5 / 6 * 100
    assert report.progress[2] == 0 and report.classes[2].gated
    assert report.next_class == 3
    assert [c.id for c in report.needed_for(2)] == ["data-card"]


def test_optional_components_never_count() -> None:
    report = score(_config(("Sample model outputs", "MIT"), ("Model metadata", "MIT")))
    assert report.progress == {3: 0, 2: 0, 1: 0}
    assert report.component("model-metadata").status == "included"
    assert not report.component("model-metadata").required


# -- bad input names the offending entry ---------------------------------------------------------

GOOD = """\
framework:
  name: Model Openness Framework
  version: '1.0'
  date: '2024-12-15'
release:
  name: demo
  producer: Someone
  license: {}
  components:
    - name: Model architecture
      license: Apache-2.0
    - name: Model card
      license: CC-BY-4.0
"""


def test_good_yaml_loads() -> None:
    config = parse_mot_yaml(GOOD, "demo.yml")
    assert [e.name for e in config.components] == ["Model architecture", "Model card"]
    assert config.components[1].where == "demo.yml:12"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            GOOD.replace("name: Model card", "name: Model Card"),
            r"demo\.yml:12: release\.components\[1\]: unknown MOF component 'Model Card'; "
            r"did you mean 'Model card'\?",
            id="unknown-component-case",
        ),
        pytest.param(
            GOOD.replace("name: Model card", "name: Model weights"),
            r"demo\.yml:12: .*unknown MOF component 'Model weights'",
            id="unknown-component",
        ),
        pytest.param(
            GOOD.replace("  producer: Someone\n", "  producer: Someone\n  producer: Other\n"),
            r"demo\.yml:8: key 'release\.producer' appears twice \(first on line 7\)",
            id="duplicate-key",
        ),
        pytest.param(
            GOOD.replace("  license: {}\n", "  license: [unclosed\n"),
            r"demo\.yml:\d+: not valid YAML",
            id="malformed-yaml",
        ),
        pytest.param(
            GOOD.replace("  name: demo\n", "  name: demo\n  version: 1.0\n"),
            r"demo\.yml:7: release\.version: 1\.0 is not of type 'string'",
            id="unquoted-version",
        ),
        pytest.param(
            GOOD.replace("  producer: Someone\n", ""),
            r"demo\.yml:\d+: release: 'producer' is a required property",
            id="schema-required",
        ),
        pytest.param(
            "a: &x [*x]\n", r"demo\.yml:1: a\[0\]: YAML aliases .* not accepted", id="recursive"
        ),
        pytest.param("a: &x [1]\nb: [*x, *x]\n", r"demo\.yml:2: b\[0\]: YAML aliases", id="alias"),
        pytest.param(
            "- just\n- a list\n", r"demo\.yml:1: a MOF configuration is a mapping", id="list"
        ),
        pytest.param("", r"demo\.yml:1: .*not an empty document", id="empty"),
    ],
)
def test_bad_input_names_the_entry(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_mot_yaml(text, "demo.yml")


@pytest.mark.parametrize(("text", "message"), [
        pytest.param(
            GOOD.replace("license: CC-BY-4.0", "license: Apache 2.0"),
            r"demo\.yml:13: release\.components\[1\]\.license: 'Apache 2\.0' is not a licence id "
            r".*did you mean 'Apache-2\.0'\?",
            id="licence-alias",
        ),
        pytest.param(
            GOOD.replace("license: CC-BY-4.0", "license: MIT OR Apache-2.0"),
            r"demo\.yml:13: .*'MIT OR Apache-2\.0' is an SPDX expression",
            id="licence-expression",
        ),
        pytest.param(
            GOOD.replace("license: {}", "license:\n    code: {name: BSD-3}"),
            r"demo\.yml:9: release\.license\.code\.name: 'BSD-3' is not a licence id.*"
            r"'BSD-3-Clause'",
            id="release-licence",
        ),
        pytest.param(
            GOOD.replace("name: Model card", "name: Model architecture"),
            r"demo\.yml:12: release\.components\[1\]: component 'Model architecture' is listed "
            r"twice \(first on line 10\)",
            id="component-twice",
        ),
])
def test_strict_refuses_what_the_mot_would_score_as_invalid(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_mot_yaml(text, "demo.yml", strict=True)


@pytest.mark.parametrize(("licence", "hint"), [
    ("Apache 2.0", "did you mean 'Apache-2.0'"), ("OpenRAIL", ""), ("Gemma Terms of Use", ""),
    ("Component not include", ""), ("MIT OR Apache-2.0", "SPDX expression"),
])
def test_mot_parity_unknown_licence_is_included_but_invalid(
    licence: str, hint: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As the MOT scores its own files: the component is included with a licence that is not
    open (bucket `invalid`), and the file:line of each such string is a warning."""
    text = GOOD.replace("license: CC-BY-4.0", f"license: {licence}")
    report = score(parse_mot_yaml(text, "demo.yml"))
    strict_twin = GOOD.replace("license: CC-BY-4.0", "license: LicenseRef-not-open")
    expected = score(parse_mot_yaml(strict_twin, "demo.yml"))  # a licence known to be not open
    assert report.to_dict()["classes"] == expected.to_dict()["classes"]
    assert any("model-card" in c["invalid"] for c in report.to_dict()["classes"].values())
    (warning,) = [r.getMessage() for r in caplog.records if "invalid (not open)" in r.getMessage()]
    assert warning.startswith("demo.yml:13: release.components[1].license:") and hint in warning


def test_mot_parity_a_component_listed_twice_keeps_the_later_entry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = GOOD.replace("name: Model card", "name: Model architecture")
    config = parse_mot_yaml(text, "demo.yml")
    (arch,) = [c for c in config.components if c.name == "Model architecture"]
    assert arch.where == "demo.yml:12" and arch.license == "CC-BY-4.0"
    assert any("listed twice" in r.getMessage() for r in caplog.records)


def test_unknown_component_error_lists_valid_names() -> None:
    with pytest.raises(InputError) as info:
        parse_mot_yaml(GOOD.replace("name: Model card", "name: Weights"), "demo.yml")
    assert info.value.hint and "Model parameters (Final)" in info.value.hint


def test_not_utf8_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not UTF-8"):
        parse_mot_yaml(b"\xff\xfe\x00garbage", "bin.yml")
    with pytest.raises(InputError, match="cannot read"):
        load_mot_yaml(tmp_path / "absent.yml")


def test_unlicensed_licence_ref_and_empty_are_accepted() -> None:
    text = GOOD.replace("license: Apache-2.0", "license: LicenseRef-llama3").replace(
        "license: CC-BY-4.0", "license: unlicensed"
    )
    report = score(parse_mot_yaml(text, "demo.yml"))
    assert report.component("model-architecture").status == "invalid"
    assert report.component("model-card").status == "unlicensed"
    # "" and null fall through to the release licences, as in the MOT.
    text = GOOD.replace("license: {}", "license:\n    document: {name: CC0-1.0}").replace(
        "license: CC-BY-4.0", "license: ''"
    )
    card = score(parse_mot_yaml(text, "demo.yml")).component("model-card")
    assert (card.license, card.license_source) == ("CC0-1.0", "release.document")


# -- export and round trip ----------------------------------------------------------------------


def _mot_schema() -> dict[str, Any]:
    return json.loads((framework().data_dir / "mof_schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("fixture", _fixture_names())
def test_export_is_schema_valid_and_rescores_the_same(fixture: str) -> None:
    report = score(load_mot_yaml(FIXTURES / fixture))
    text = dump_mot_yaml(report)
    doc = yaml.safe_load(text)
    jsonschema.Draft202012Validator(
        _mot_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(doc)
    again = score(parse_mot_yaml(text, "exported.yml"))
    assert again.mof_class == report.mof_class
    assert again.progress == report.progress
    assert [c.status for c in again.components] == [c.status for c in report.components]


def test_export_keeps_mot_key_order_and_omits_unset_licences() -> None:
    doc = to_mot_dict(_config(("Model card", None), distribution="MIT"))
    assert list(doc) == ["framework", "release"]
    assert doc["release"]["license"] == {"distribution": {"name": "MIT"}}
    assert doc["release"]["components"] == [
        {
            "name": "Model card",
            "description": framework().component("model-card").description,  # type: ignore[union-attr]
        }
    ]


# -- renderers ----------------------------------------------------------------------------------


def test_text_fits_80_columns_and_says_what_to_add() -> None:
    entries = [e for e in CLASS_III if e[0] != "Data card"] + [("Training code", "CC-BY-NC-4.0")]
    report = score(_config(*entries))
    text = render(report, "text")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "To reach Class III - Open Model, add:" in text
    assert "Data card (missing)" in text
    # Class III is the target, so Class II's problems are not listed yet.
    assert "Training code (CC-BY-NC-4.0" not in text
    full = score(_config(*CLASS_III, ("Training code", "CC-BY-NC-4.0")))
    assert "Training code (CC-BY-NC-4.0 is not open)" in render(full, "text")


def test_markdown_and_json() -> None:
    report = score(_config(*CLASS_III))
    md = render(report, "markdown")
    assert md.startswith("# MOF report: m")
    assert "| Class III - Open Model | 100% | 6 of 6 |" in md
    data = json.loads(render(report, "json"))
    assert data["class"] == 3 and data["classRoman"] == "III"
    assert data["progress"] == {"III": 100, "II": 60.0, "I": 0}
    assert data["next"]["class"] == 2
    assert {n["id"] for n in data["next"]["needs"]} == {
        "training-code",
        "inference-code",
        "evaluation-code",
        "evaluation-data",
    }
    with pytest.raises(ValueError, match="unknown format"):
        render(report, "html")


# -- licence reduction for derived configurations ------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MIT", "MIT"),
        ("MIT OR Apache-2.0", "MIT"),
        ("LicenseRef-llama3 OR Apache-2.0", "Apache-2.0"),  # the open choice stands
        ("MIT AND CC-BY-NC-4.0", "CC-BY-NC-4.0"),  # not open as a whole
        ("(MIT AND BSD-3-Clause) OR GPL-3.0-only", "MIT"),
        ("Apache-2.0 WITH LLVM-exception", "Apache-2.0"),
        ("LicenseRef-llama3", "LicenseRef-llama3"),
        ("GPL-2.0+", "GPL-2.0+"),
        ("Not-A-Real-Licence-9", "LicenseRef-Not-A-Real-Licence-9"),
    ],
)
def test_mot_license_reduction(expression: str, expected: str) -> None:
    reduced = mot_license(expression, framework().licenses)
    assert reduced.id == expected
    assert framework().licenses.check_id(reduced.id) is None  # always loadable again


# -- the shipped data matches the MOT's --------------------------------------------------------


def test_shipped_licence_data_is_the_mot_data() -> None:
    spdx = json.loads((MOT / "licenses" / "licenses.json").read_text(encoding="utf-8"))
    mof = json.loads((MOT / "licenses" / "mof-licenses.json").read_text(encoding="utf-8"))
    lic_dir = framework().data_dir / "licenses"
    assert (lic_dir / "spdx.yaml").read_text(encoding="utf-8") == refresh.render_spdx(spdx, mof)
    assert (lic_dir / "type-appropriate.yaml").read_text(encoding="utf-8") == refresh.render_types(
        mof
    )


def test_shipped_components_match_mot_settings() -> None:
    settings = yaml.safe_load((MOT / "config" / "mof.settings.yml").read_text(encoding="utf-8"))
    mot = {c["id"]: c for c in settings["components"]}
    ours = framework().components
    assert len(ours) == len(mot) == 17
    for comp in ours:
        m = mot[comp.mot_id]
        assert (comp.name, comp.content_type, comp.mof_class, comp.required) == (
            m["name"],
            m["content_type"],
            m["class"],
            m["required"],
        )
        assert comp.description == m["description"]
    assert [len(framework().required_in(c)) for c in (3, 2, 1)] == [6, 10, 14]


def test_shipped_schema_is_the_mot_schema() -> None:
    ours = _mot_schema()
    assert ours.pop("$comment").startswith("Copied unchanged")
    assert ours == json.loads((MOT / "schema" / "mof_schema.json").read_text(encoding="utf-8"))


def test_cli_scores_past_a_bad_file_and_strict_refuses(tmp_path: Path) -> None:
    from tests.helpers import run_attest

    good = tmp_path / "good.yml"
    good.write_text(GOOD.replace("license: CC-BY-4.0", "license: Gemma Terms of Use"))
    bad = tmp_path / "bad.yml"
    bad.write_text("release: [unclosed\n")
    done = run_attest("mof", str(good), str(bad), "--format", "json")
    assert done.returncode == 2
    (report,) = json.loads(done.stdout)
    assert report["model"]["name"] == "demo"
    assert f"{good}:13: release.components[1].license: 'Gemma Terms of Use'" in done.stderr
    assert f"attest: error: {bad}:" in done.stderr
    assert "1 of 2 source(s) could not be scored" in done.stderr
    strict = run_attest("mof", str(good), "--strict")
    assert strict.returncode == 2 and "'Gemma Terms of Use' is not a licence id" in strict.stderr
