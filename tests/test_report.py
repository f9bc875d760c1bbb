"""`attest report` and `attest diff` end to end: every testdata model packed, signed with a
key and attached to an OCI layout by the real pipeline, then reported in every format (JSON
against its schema, HTML through html5lib's strict parser and headless Chromium, Markdown);
two versions of a model made by code (re-quantized GGUF, added dataset, changed licence)
diffed to exactly those changes; the exit-code contract through the real entry point."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import html5lib
import jsonschema
import pytest
from click.testing import CliRunner

from attest.cli import cli
from attest.errors import AttestError
from attest.flows.run import run_pipeline
from attest.oci.layout import LayoutStore
from attest.sign.keys import generate_key
from attest.sign.signer import choose_signer
from tests.helpers import REPO_ROOT, run_attest
from tests.report_models import gguf_v1, gguf_v2

MODELS = sorted(p.name for p in (REPO_ROOT / "testdata" / "models").iterdir() if p.is_dir())
SCHEMAS = REPO_ROOT / "attest" / "schemas"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def attest(*args: str) -> tuple[int, str]:
    """The CLI in process; the exit code main() would give (AttestError -> its code)."""
    result = CliRunner().invoke(cli, list(args))
    exc = result.exception
    if exc is None or isinstance(exc, SystemExit):
        return result.exit_code, result.output
    if isinstance(exc, AttestError):
        return exc.exit_code, result.output
    raise exc


def pack(model: Path, layout: Path, key: Path | None, tag: str = "v1") -> str:
    signer = choose_signer(key=key) if key else None
    run_pipeline(model, LayoutStore(layout, create=True), tag, signer=signer,
                 creation_time=False, reference=f"oci:{layout}:{tag}")  # fmt: skip
    return f"oci:{layout}:{tag}"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keys")
    return {"release": generate_key(root / "release").private,
            "other": generate_key(root / "other").private}  # fmt: skip


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> dict[str, str]:
    root = tmp_path_factory.mktemp("layouts")
    return {
        name: pack(REPO_ROOT / "testdata" / "models" / name, root / name, keys["release"])
        for name in MODELS
    }


def pub(key: Path) -> str:
    return str(key.with_suffix(".pub"))


def validate(data: Any, schema: str) -> None:
    jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / schema).read_text()),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    ).validate(data)


def check_html(text: str) -> Any:
    """Strict HTML5 parse, unique ids, nothing fetched from anywhere."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(text)
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"
    for e in tree.iter():
        assert e.tag not in ("script", "img", "iframe", "object", "embed", "link"), e.tag
        assert not e.get("src"), e.get("src")
        href = e.get("href") or ""
        assert href == "" or href.startswith("#"), href  # in-page links only
    assert "url(" not in text and "@import" not in text
    return tree


# -- report ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_report_every_model_every_format(
    model: str, artifacts: dict[str, str], keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = artifacts[model]
    outputs = {}
    for fmt in ("json", "html", "markdown"):
        out = tmp_path / f"report.{fmt}"
        code, text = attest("report", ref, "--key", pub(keys["release"]), "--format", fmt,
                            "-o", str(out))  # fmt: skip
        assert code == 0, text
        outputs[fmt] = out.read_text()
    doc = json.loads(outputs["json"])
    validate(doc, "report.schema.json")
    assert doc["verdict"]["status"] == "verified"
    assert doc["verdict"]["counts"] == {"verified": 7, "unsigned": 0, "failed": 0, "computed": 0}
    [signer] = doc["verdict"]["signers"]
    assert signer["kind"] == "key" and signer["keyFingerprint"].startswith("SHA256:")
    for section in ("mof", "sbom", "provenance", "modelCard", "dataCard"):
        assert doc[section]["verified"] is True, section
    # the SBOM's files are exactly the manifest's layers, digest for digest
    layers = {f["path"]: f["digest"] for f in doc["subject"]["files"]}
    assert {f["path"]: f["digest"] for f in doc["sbom"]["files"]} == layers
    assert all(link["vouched"] for link in doc["modelCard"]["links"])
    assert len(doc["modelCard"]["links"]) == 2
    # the summary is the opening paragraph of the attached card whose digest the signed
    # statement names (the README's own introduction)
    readme = (REPO_ROOT / "testdata" / "models" / model / "README.md").read_text()
    summary = doc["modelCard"]["summary"]
    after_title = ("\n" + readme).split("\n# ", 1)[1].split("\n\n")[1]
    assert summary == " ".join(after_title.split())

    tree = check_html(outputs["html"])
    assert "".join(tree.find(".//blockquote").itertext()) == summary
    verdict = tree.find(".//div[@id='verdict']")
    assert "Verified" in "".join(verdict.itertext())
    assert doc["subject"]["digest"] in outputs["html"]
    for path in layers:
        assert path in outputs["html"]

    md = outputs["markdown"]
    assert "**Verdict: ✅ verified**" in md
    assert doc["subject"]["digest"] in md and signer["keyFingerprint"] in md
    assert md.count("✅ **Verified**") == 5  # subject, MOF, SBOM, provenance, model card
    assert "<script" not in md


def test_report_wrong_key_marks_nothing_verified(
    artifacts: dict[str, str], keys: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    code, _ = attest("report", artifacts["open-llm"], "--key", pub(keys["other"]),
                     "--format", "json", "-o", str(out))  # fmt: skip
    assert code == 1  # as verify: the report is written, the command fails
    doc = json.loads(out.read_text())
    validate(doc, "report.schema.json")
    assert doc["verdict"]["status"] == "failed" and doc["verdict"]["signers"] == []
    assert len(doc["verdict"]["failed"]) == 7
    # nothing from a failed statement is shown, let alone as verified
    assert all(doc[s] is None for s in ("mof", "sbom", "provenance", "modelCard", "dataCard"))
    assert doc["subject"]["verified"] is False and doc["model"]["verified"] is False
    assert not any(d["vouched"] for d in doc["documents"])


def test_report_unsigned_evidence_is_shown_apart(tmp_path: Path) -> None:
    ref = pack(REPO_ROOT / "testdata" / "models" / "tiny-llm", tmp_path / "lay", None)
    html, md, js = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "r.json"
    for fmt, out in (("html", html), ("markdown", md), ("json", js)):
        code, _ = attest("report", ref, "--format", fmt, "-o", str(out))
        assert code == 1
    doc = json.loads(js.read_text())
    assert doc["verdict"]["status"] == "unverified" and len(doc["verdict"]["unsigned"]) == 7
    assert doc["mof"]["verified"] is False and doc["mof"]["trust"] == "unsigned"
    assert "Verified" not in md.read_text().replace("Unverified", "")
    assert md.read_text().count("⚠️ **Unverified**") == 5
    tree = check_html(html.read_text())
    marks = [e for e in tree.iter() if "origin" in (e.get("class") or "")]
    assert marks and all("unverified" in e.get("class") for e in marks)
    assert tree.find(".//section[@id='not-verified']") is not None


def test_report_with_policy(artifacts: dict[str, str], keys: dict[str, Path],
                            tmp_path: Path) -> None:  # fmt: skip
    policy = tmp_path / "deny.rego"
    policy.write_text('package attest.main\n\nimport rego.v1\n\n'
                      'deny contains {"code": "NO_GGUF", "msg": "GGUF is not allowed here"} if {\n'
                      '    some r in input.referrers\n    r.summary.files > 0\n}\n')  # fmt: skip
    out = tmp_path / "r.md"
    code, _ = attest("report", artifacts["tiny-gguf"], "--key", pub(keys["release"]),
                     "--policy", str(policy), "--format", "markdown", "-o", str(out))  # fmt: skip
    assert code == 1
    text = out.read_text()
    assert "**Policy: ❌ denied**" in text and "`NO\\_GGUF` GGUF is not allowed here" in text
    code, _ = attest("report", artifacts["tiny-gguf"], "--key", pub(keys["release"]),
                     "--policy", str(policy), "--mode", "warn", "--format", "json",
                     "-o", str(out))  # fmt: skip
    assert code == 0
    assert json.loads(out.read_text())["policy"]["violations"][0]["code"] == "NO_GGUF"


def test_html_renders_in_chromium(artifacts: dict[str, str], keys: dict[str, Path],
                                  tmp_path: Path) -> None:  # fmt: skip
    page = tmp_path / "report.html"
    code, _ = attest("report", artifacts["open-llm"], "--key", pub(keys["release"]),
                     "--format", "html", "-o", str(page))  # fmt: skip
    assert code == 0
    dom = chromium_dom(page, tmp_path)
    tree = html5lib.parse(dom, namespaceHTMLElements=False)
    sections = [s.get("id") for s in tree.iter("section")]
    assert sections == ["subject", "signers", "mof", "sbom", "provenance", "model-card"]
    text = " ".join("".join(tree.find(".//main").itertext()).split())
    assert "Verified: 7 signed statement(s) verified" in text
    assert "Class III - Open Model" in text and "some-org/tiny-corpus" in text
    pdf = tmp_path / "report.pdf"  # the print stylesheet: it prints, on more than one page
    chromium_run(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2


def chromium_dom(page: Path, profile: Path) -> str:
    return chromium_run(page, profile, "--dump-dom")


def chromium_run(page: Path, profile: Path, *args: str) -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (scripts/test installs it)")
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", f"--user-data-dir={profile / 'chromium'}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


# -- diff --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> dict[str, str]:
    root = tmp_path_factory.mktemp("versions")
    made = {
        "v1": gguf_v1(root / "src-v1"),
        "v2": gguf_v2(root / "src-v2"),
        "relicensed": gguf_v2(root / "src-lic", quantize=False, dataset=False),
    }
    out = {name: pack(path, root / name, keys["release"]) for name, path in made.items()}
    out.update({f"dir-{name}": str(path) for name, path in made.items()})
    return out


EXPECTED_V1_V2 = [
    ("files", "LICENSE", "changed"),
    ("files", "attest.yaml", "added"),
    ("files", "tiny.gguf", "changed"),
    ("precision", "quantization", "changed"),
    ("license", "model", "changed"),
    ("license", "model card", "changed"),
    ("license", "component datasets", "added"),
    ("license", "component final-model-parameters", "changed"),
    ("license", "component model-card", "changed"),
    ("license", "component model-metadata", "added"),
    ("datasets", "some-org/tiny-corpus", "added"),
    ("mof-components", "datasets", "changed"),
    ("mof-components", "model-metadata", "changed"),
]


def test_diff_two_versions_shows_exactly_those_changes(
    versions: dict[str, str], keys: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "diff.json"
    code, _ = attest("diff", versions["v1"], versions["v2"], "--key", pub(keys["release"]),
                     "--format", "json", "-o", str(out))  # fmt: skip
    assert code == 1
    diff = json.loads(out.read_text())
    validate(diff, "diff.schema.json")
    got = [(c["category"], c["item"], c["change"]) for c in diff["changes"]]
    assert got == EXPECTED_V1_V2
    by_item = {(c["category"], c["item"]): c for c in diff["changes"]}
    assert by_item[("precision", "quantization")]["before"] == "MOSTLY_F16"
    assert by_item[("precision", "quantization")]["after"] == "MOSTLY_Q8_0"
    assert by_item[("license", "model")]["before"] == ["MIT"]
    assert by_item[("license", "model")]["after"] == ["Apache-2.0"]
    gguf = by_item[("files", "tiny.gguf")]
    assert gguf["before"]["digest"] != gguf["after"]["digest"] and gguf["after"]["size"] > 0
    # same key, same builder, same (absent) source commit: nothing there to show
    assert not {"signers", "provenance", "parameters", "format"} & set(diff["changedCategories"])
    # the same changes, computed from the two source directories, before anything is packed
    code, _ = attest("diff", versions["dir-v1"], versions["dir-v2"], "--format", "json",
                     "-o", str(out))  # fmt: skip
    from_dirs = json.loads(out.read_text())
    assert [(c["category"], c["item"], c["change"]) for c in from_dirs["changes"]] == got
    assert from_dirs["notCompared"] == ["signers", "provenance", "policy"]


def test_diff_text_and_markdown(versions: dict[str, str], keys: dict[str, Path]) -> None:
    code, text = attest("diff", versions["v1"], versions["v2"], "--key", pub(keys["release"]))
    assert code == 1
    assert re.search(r"precision\s+~ quantization: MOSTLY_F16 -> MOSTLY_Q8_0", text)
    assert re.search(r"datasets\s+\+ some-org/tiny-corpus: training, licence CC-BY-4.0", text)
    assert "13 change(s) in: files, precision, license, datasets, mof-components" in text
    code, md = attest("diff", versions["v1"], versions["v2"], "--key", pub(keys["release"]),
                      "--format", "markdown")  # fmt: skip
    assert "| precision | quantization | changed | MOSTLY\\_F16 | MOSTLY\\_Q8\\_0 |" in md
    assert md.count("\n| ") == 2 + 2 + len(EXPECTED_V1_V2)  # two header rows per table


def test_diff_fail_on_gates_by_category(versions: dict[str, str], keys: dict[str, Path]) -> None:
    a, b, k = versions["v1"], versions["relicensed"], pub(keys["release"])
    assert attest("diff", a, b, "--key", k, "--fail-on", "mof-class,precision")[0] == 0
    assert attest("diff", a, b, "--key", k, "--fail-on", "license")[0] == 1
    assert attest("diff", a, b, "--key", k, "--fail-on", "none")[0] == 0
    assert attest("diff", a, a, "--key", k)[0] == 0
    code, text = attest("diff", a, a, "--key", k)
    assert code == 0 and "No evidence-relevant change." in text
    assert attest("diff", a, b, "--fail-on", "licence")[0] == 2  # unknown category


def test_diff_sees_signer_change(versions: dict[str, str], keys: dict[str, Path],
                                 tmp_path: Path) -> None:  # fmt: skip
    unsigned = pack(Path(versions["dir-v1"]), tmp_path / "unsigned", None)
    code, text = attest("diff", versions["v1"], unsigned, "--key", pub(keys["release"]),
                        "--format", "json")  # fmt: skip
    assert code == 1
    diff = json.loads(text)
    assert diff["changedCategories"] == ["signers"]  # the same facts, no longer signed
    assert [(c["item"], c["change"]) for c in diff["changes"]] == [
        ("verdict", "changed"), ("signer", "removed")]
    assert diff["b"]["verdict"] == "unverified"
    # a side whose signatures fail contributes no facts at all, so everything "changes"
    code, text = attest("diff", versions["v1"], versions["v2"], "--key", pub(keys["other"]),
                        "--format", "json")  # fmt: skip
    assert code == 1 and json.loads(text)["a"]["verdict"] == "failed"


def test_cli_contract_through_the_entry_point(versions: dict[str, str], keys: dict[str, Path],
                                              tmp_path: Path) -> None:  # fmt: skip
    k = pub(keys["release"])
    r = run_attest("diff", versions["v1"], versions["v2"], "--key", k, "--fail-on", "license")
    assert r.returncode == 1 and "evidence changed: license" in r.stderr
    r = run_attest("diff", versions["v1"], str(tmp_path / "missing"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) <= 2, r.stderr
    r = run_attest("report", f"oci:{tmp_path}/nothing:v1", "--key", k)
    assert r.returncode == 2, r.stderr
    out = tmp_path / "summary.md"  # how the GitHub Action calls it
    r = run_attest("report", versions["v1"], "--key", k, "--format", "markdown", "-o", str(out))
    assert r.returncode == 0 and r.stdout == "" and out.read_text().startswith("## attest report")


def test_keyless_signer_identity_issuer_and_tlog(
    sigstore_stand_in: Any, sigstore_trust_config: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    token = sigstore_stand_in.issue_token(email="release@example.org")
    signer = choose_signer(identity_token=token, trust_config=sigstore_trust_config)
    layout = tmp_path / "lay"
    run_pipeline(REPO_ROOT / "testdata" / "models" / "tiny-onnx", LayoutStore(layout, create=True),
                 "v1", signer=signer, creation_time=False)  # fmt: skip
    trust = ("--trust-config", str(sigstore_trust_config), "--issuer", sigstore_stand_in.issuer)
    code, text = attest("report", f"oci:{layout}:v1", "--identity", "release@example.org",
                        *trust, "--format", "json")  # fmt: skip
    assert code == 0, text
    doc = json.loads(text)
    validate(doc, "report.schema.json")
    [signer_entry] = doc["verdict"]["signers"]
    assert signer_entry["kind"] == "keyless" and signer_entry["keyFingerprint"] is None
    assert signer_entry["identity"] == "release@example.org"
    assert signer_entry["issuer"] == sigstore_stand_in.issuer
    assert signer_entry["tlog"] is True and isinstance(signer_entry["tlogIndex"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", signer_entry["tlogTime"])
    code, md = attest("report", f"oci:{layout}:v1", "--identity", "release@example.org", *trust)
    assert "`release@example.org` (issuer " in md and f"index {signer_entry['tlogIndex']}" in md
    # an identity nothing matches: every statement fails, nothing is shown as verified
    code, text = attest("report", f"oci:{layout}:v1", "--identity", "mallory@example.org",
                        *trust, "--format", "json")  # fmt: skip
    assert code == 1
    doc = json.loads(text)
    assert doc["verdict"]["status"] == "failed" and doc["mof"] is None


def test_hostile_facts_cannot_draw_markup(tmp_path: Path) -> None:
    """Facts from an artifact (here an unsigned MOF statement and file names) are text in
    every format: no HTML, no Markdown structure, no terminal line of their own."""
    from attest.report.diff import CATEGORIES, diff_documents, diff_summary
    from attest.report.document import build_document
    from attest.report.evidence import EvidenceSet, StatementEvidence
    from attest.report.render import render_diff, render_report

    evil = "x</td><script>alert(1)</script>\n## Owned | cell\x1b[2J"
    mof = {"class": 1, "label": evil, "progress": {"I": evil}, "framework": {"version": evil},
           "components": [{"id": "c", "name": evil, "class": evil, "status": evil,
                           "license": evil, "required": True}],
           "next": {"class": 1, "label": evil, "needs": [{"id": "c", "status": evil}]}}  # fmt: skip
    subject = {"reference": "oci:x", "digest": "sha256:" + "0" * 64,
               "layers": [{"path": evil, "kind": "doc", "digest": "sha256:" + "1" * 64,
                           "size": 1}]}  # fmt: skip
    doc = build_document(EvidenceSet(subject, [StatementEvidence(
        "sha256:" + "2" * 64, "https://attest.dev/mof/v1", "unsigned", predicate=mof)]))
    html = render_report(doc, "html")
    check_html(html)
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = render_report(doc, "markdown")
    assert "<script>" not in md and "\n## Owned" not in md and "\x1b" not in md
    rows = [line for line in md.splitlines() if "Owned" in line]
    assert rows and all(line.startswith(("| ", "**", "To reach", "<details>")) for line in rows)
    for line in rows:
        if line.startswith("| "):  # the fact stays inside its cell: 4 columns, 5 bars
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line
    # a predicate of the wrong shape: its section is empty and the report says why
    broken = build_document(EvidenceSet(subject, [StatementEvidence(
        "sha256:" + "3" * 64, "https://attest.dev/mof/v1", "unsigned",
        predicate={"components": "not a list", "framework": 7})]))  # fmt: skip
    validate(broken, "report.schema.json")
    assert broken["mof"] is None and broken["problems"][0].startswith("mof: unreadable")
    assert "**unreadable** mof: unreadable predicate" in render_report(broken, "markdown")
    check_html(render_report(broken, "html"))
    other = build_document(EvidenceSet(dict(subject, layers=[]), []))
    text = render_diff(diff_summary(doc, other, diff_documents(doc, other), CATEGORIES), "text")
    assert "\x1b" not in text and "\n## Owned" not in text
    assert all(not line.startswith("## ") for line in text.splitlines())


def test_a_thousand_files_render_whole_in_html_and_capped_in_markdown() -> None:
    """Not timed (bench/report.py measures it): the page holds every file, the Markdown stays
    inside a PR comment's 65,536 characters and says where the rest is."""
    from attest.report.document import build_document
    from attest.report.evidence import EvidenceSet, StatementEvidence
    from attest.report.render import render_report

    files = [(f"data/part-{i:04d}.jsonl", f"sha256:{i:064x}") for i in range(1000)]
    subject = {"reference": "oci:x", "digest": "sha256:" + "f" * 64,
               "layers": [{"path": p, "kind": "dataset", "digest": d, "size": 10}
                          for p, d in files]}  # fmt: skip
    bom = {"specVersion": "1.6", "metadata": {"component": {"name": "many"}},
           "components": [{"type": "file", "name": p, "hashes": [{"alg": "SHA-256",
                           "content": d.split(":")[1]}]} for p, d in files]}  # fmt: skip
    doc = build_document(EvidenceSet(subject, [StatementEvidence(
        "sha256:" + "e" * 64, "https://cyclonedx.org/bom/v1.6", "unsigned", predicate=bom)]))
    validate(doc, "report.schema.json")
    assert len(doc["sbom"]["files"]) == 1000
    tree = check_html(render_report(doc, "html"))
    rows = tree.findall(".//section[@id='sbom']/table/tbody/tr")
    assert [r[0][0].text for r in rows] == [p for p, _ in files]
    md = render_report(doc, "markdown")
    assert len(md) < 65536 and "… and 900 more (`--format json` lists every file)." in md
    assert md.count("| `data/part-") == 100


@pytest.mark.registry
def test_report_and_diff_from_the_real_registry(
    registry: Any, versions: dict[str, str], keys: dict[str, Path], tmp_path: Path
) -> None:
    """The same commands on Debian's docker-registry (referrers by the fallback tag)."""
    k = pub(keys["release"])
    for name in ("v1", "v2"):
        code, out = attest("copy", versions[name], f"{registry.ref}:{name}")
        assert code == 0, out
    code, text = attest("report", f"{registry.ref}:v2", "--key", k, "--format", "json")
    assert code == 0, text
    doc = json.loads(text)
    assert doc["verdict"]["status"] == "verified" and doc["model"]["quantization"] == "MOSTLY_Q8_0"
    assert doc["subject"]["reference"].startswith(f"{registry.ref}:v2@sha256:")
    code, text = attest("diff", f"{registry.ref}:v1", f"{registry.ref}:v2", "--key", k,
                        "--format", "json")  # fmt: skip
    assert code == 1
    got = [(c["category"], c["item"], c["change"]) for c in json.loads(text)["changes"]]
    assert got == EXPECTED_V1_V2


def test_notation_signature_is_a_signer_of_the_manifest(tmp_path: Path) -> None:
    """A notation signature signs the manifest, not a statement: the report names its subject
    DN and issuer as a signer, and the subject as verified; it shows no other section."""
    from attest.oci import mediatypes as mt
    from attest.oci.referrers import Blob, attach
    from attest.oci.store import Descriptor
    from tests import notation_fixtures as nf

    layout = tmp_path / "lay"
    store = LayoutStore(layout, create=True)
    from attest.modelpack.pack import pack as pack_dir

    packed = pack_dir(REPO_ROOT / "testdata" / "models" / "tiny-llm", store, "v1",
                      creation_time=False)  # fmt: skip
    subject = packed.descriptor
    ca = nf.make_ca()
    signer = nf.make_signer(ca)
    envelope = nf.jws(signer, {"mediaType": subject.media_type, "digest": subject.digest,
                               "size": subject.size})  # fmt: skip
    attach(store, subject, mt.NOTATION_SIGNATURE,
           [Blob(Descriptor.for_bytes(mt.NOTATION_JWS, envelope), envelope)],
           {mt.ANNOTATION_NOTATION_THUMBPRINTS: nf.thumbprints(signer)})  # fmt: skip
    trust_store = nf.write_trust_store(tmp_path / "truststore", "test", [ca[1]])
    policy = nf.write_policy(tmp_path / "trustpolicy.json")
    args = ["--notation-trust-policy", str(policy), "--notation-trust-store", str(trust_store)]
    code, text = attest("report", f"oci:{layout}:v1", *args, "--format", "json")
    assert code == 0, text
    doc = json.loads(text)
    validate(doc, "report.schema.json")
    [entry] = doc["verdict"]["signers"]
    assert entry["kind"] == "notation" and entry["identity"].startswith("CN=model-signer")
    assert entry["statements"][0]["predicateType"] == mt.NOTATION_SIGNATURE
    assert doc["subject"]["verified"] is True and doc["mof"] is None
    code, md = attest("report", f"oci:{layout}:v1", *args)
    assert "notation signature (of the manifest)" in md and "`CN=model-signer" in md
    # without the notation trust settings the signature cannot be trusted: exit 1, as verify
    code, text = attest("report", f"oci:{layout}:v1", "--format", "json")
    assert code == 1 and json.loads(text)["verdict"]["status"] == "failed"


def test_card_summary_is_the_opening_paragraph() -> None:
    from attest.report.cardtext import MAX_SUMMARY, card_summary

    card = "---\nlicense: mit\n---\n\n# Name\n\n<!-- note -->\nFirst line\nsecond  line.\n\nMore.\n"
    assert card_summary(card) == "First line second line."
    assert card_summary("# Only a title\n\n## Section\n") is None
    long = card_summary("# T\n\n" + "word " * 1000)
    assert long is not None and len(long) == MAX_SUMMARY and long.endswith("…")
