#!/usr/bin/env python3
"""Regenerate the real examples in docs/report.md and the screenshots under docs/img/.

Runs the real commands on testdata: packs and signs testdata/models/open-llm (a fresh key) and
two versions of tiny-gguf made by tests/report_models.py (re-quantized, a declared dataset,
relicensed), then `attest report` and `attest diff`; pastes their output between the markers
in docs/report.md; screenshots the HTML reports with headless Chromium.

    .venv/bin/python scripts/report_examples.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.report_models import gguf_v1, gguf_v2  # noqa: E402

DOC = ROOT / "docs" / "report.md"
IMG = ROOT / "docs" / "img"
CHROMIUM = ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run", "--hide-scrollbars"]  # fmt: skip


def attest(*args: str, cwd: Path, ok: tuple[int, ...] = (0,)) -> str:
    result = subprocess.run([sys.executable, "-m", "attest", *args], cwd=cwd,
                            capture_output=True, text=True)  # fmt: skip
    if result.returncode not in ok:
        raise SystemExit(f"attest {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result.stdout


def screenshot(page: Path, png: Path, height: int, profile: Path) -> None:
    subprocess.run([*CHROMIUM, f"--user-data-dir={profile}", f"--screenshot={png}",
                    f"--window-size=1100,{height}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)  # fmt: skip


def paste(doc: str, name: str, lang: str, body: str) -> str:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n````{lang}\n{body.rstrip()}\n````\n{end}"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(doc):
        raise SystemExit(f"docs/report.md has no {begin} ... {end} markers")
    return pattern.sub(lambda _: block, doc)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env_dir = work / "config"
        env_dir.mkdir()
        attest("key", "generate", "release", cwd=work)
        model = ROOT / "testdata" / "models" / "open-llm"
        attest("run", str(model), "--to", "oci:./models:open-llm", "--key", "release.key",
               "--no-creation-time", cwd=work)  # fmt: skip
        attest("run", str(ROOT / "testdata" / "models" / "tiny-llm"), "--to",
               "oci:./models:tiny-llm", "--no-sign", "--no-creation-time", cwd=work)  # fmt: skip
        gguf_v1(work / "tiny-gguf-v1")
        gguf_v2(work / "tiny-gguf-v2")
        for v in ("v1", "v2"):
            attest("run", f"tiny-gguf-{v}", "--to", f"oci:./models:tiny-gguf-{v}",
                   "--key", "release.key", "--no-creation-time", cwd=work)  # fmt: skip
        trust = ("--key", "release.pub")
        md = attest("report", "oci:./models:open-llm", *trust, "--format", "markdown", cwd=work)
        diff = attest("diff", "oci:./models:tiny-gguf-v1", "oci:./models:tiny-gguf-v2", *trust,
                      cwd=work, ok=(1,))  # fmt: skip
        diff_md = attest("diff", "oci:./models:tiny-gguf-v1", "oci:./models:tiny-gguf-v2",
                         *trust, "--format", "markdown", cwd=work, ok=(1,))  # fmt: skip
        for name, ref, code in (("open-llm", "oci:./models:open-llm", (0,)),
                                ("tiny-llm-unsigned", "oci:./models:tiny-llm", (1,))):
            page = work / f"{name}.html"
            attest("report", ref, *trust, "--format", "html", "-o", str(page), cwd=work, ok=code)
            screenshot(page, IMG / f"report-{name}.png", 3100 if code == (0,) else 1500,
                       work / "profile")  # fmt: skip
    doc = DOC.read_text()
    doc = paste(doc, "report-markdown", "markdown", md)
    doc = paste(doc, "diff-text", "text", diff)
    doc = paste(doc, "diff-markdown", "markdown", diff_md)
    DOC.write_text(doc)
    print(f"updated {DOC.relative_to(ROOT)} and docs/img/report-*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
