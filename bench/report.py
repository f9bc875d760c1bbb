"""Benchmark: `attest report` and `attest diff` on a 1,000-file artifact.

Makes a model directory of --files small files (plus one safetensors weight), packs, signs (a
fresh key) and attaches its evidence into an OCI layout with the real pipeline, then times,
in this process, each step a report takes: verify + read the statements, build the document,
render HTML, Markdown and JSON; and a diff of the artifact with a copy that changed one file.

    python bench/report.py [--files 1000] [--repeat 3] [--json]

Figures: docs/performance.md ("Reports of large artifacts"). Not a test: no timed assertion.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attest.flows.report import collect_artifact  # noqa: E402
from attest.flows.run import run_pipeline  # noqa: E402
from attest.flows.verify import VerifyRequest  # noqa: E402
from attest.oci.layout import LayoutStore  # noqa: E402
from attest.report.diff import CATEGORIES, diff_documents, diff_summary  # noqa: E402
from attest.report.document import build_document  # noqa: E402
from attest.report.render import render_diff, render_report  # noqa: E402
from attest.sign.keys import generate_key  # noqa: E402
from attest.sign.signer import choose_signer  # noqa: E402
from tests.helpers import write_safetensors  # noqa: E402


def make_model(root: Path, files: int, variant: int = 0) -> Path:
    root.mkdir(parents=True)
    write_safetensors(root / "model.safetensors", {"w": ("F16", [64, 64])})
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Many files\n\nA test.\n")
    for i in range(files - 2):
        sub = root / "data" / f"shard-{i // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"part-{i:04d}.jsonl").write_text(f'{{"i": {i}, "v": {variant if i == 0 else 0}}}\n')
    return root


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    runs, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        key = generate_key(root / "bench").private
        signer = choose_signer(key=key)
        refs = []
        pack_s = 0.0
        for v in (0, 1):
            model = make_model(root / f"model-{v}", args.files, v)
            store = LayoutStore(root / f"layout-{v}", create=True)
            start = time.perf_counter()
            run_pipeline(model, store, "v1", signer=signer, creation_time=False,
                         reference=f"oci:{root}/layout-{v}:v1")  # fmt: skip
            pack_s = pack_s or time.perf_counter() - start
            refs.append((store, f"oci:{root}/layout-{v}:v1"))
        request = VerifyRequest(key=key.with_suffix(".pub"))
        ref = refs[0][1]
        collect_s, evidence = timed(lambda: collect_artifact(ref, request), args.repeat)
        build_s, doc = timed(lambda: build_document(evidence), args.repeat)
        figures: dict[str, Any] = {
            "files": args.files,
            "pack_sign_attach_s": round(pack_s, 3),
            "verify_and_read_s": round(collect_s, 3),
            "build_document_s": round(build_s, 4),
        }
        for fmt in ("html", "markdown", "json"):
            seconds, text = timed(lambda fmt=fmt: render_report(doc, fmt), args.repeat)
            figures[f"render_{fmt}_s"] = round(seconds, 4)
            figures[f"{fmt}_bytes"] = len(text.encode())
        other = build_document(collect_artifact(refs[1][1], request))

        def diff() -> str:
            summary = diff_summary(doc, other, diff_documents(doc, other), CATEGORIES)
            return render_diff(summary, "text")

        figures["diff_s"] = round(timed(diff, args.repeat)[0], 4)
        figures["report_total_s"] = round(
            collect_s + build_s + figures["render_html_s"], 3
        )
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k:<22} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
