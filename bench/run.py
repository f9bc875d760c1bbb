"""Benchmark: ``attest run`` against ``attest pack`` on the same model (not a test).

``run`` packs, gathers facts, writes SBOMs, the MOF report, cards and provenance, signs them
(the local development key), attaches them and verifies what it attached; ``pack`` only hashes
and writes the artifact. The difference is the overhead of everything but moving weight bytes.
Each run is a child process with an empty digest cache (both hash every byte) writing a fresh
OCI layout; runs are interleaved; the best of ``--repeat`` is reported with peak RSS.

    .venv/bin/python bench/run.py                        # 4 x 512 MiB
    .venv/bin/python bench/run.py --files 4 --size-mib 64 --repeat 3 --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.digest import GNU_TIME, Run, child_env, cpu_model, log, make_files, run_child  # noqa: E402

TARGET_RATIO = 1.3


def make_model(root: Path, files: int, size_mib: int) -> None:
    for rel in make_files(root, files, size_mib):  # opaque weights: random bytes
        os.rename(root / rel, root / rel.replace(".safetensors", ".bin"))
    (root / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Bench model\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="attest-run-bench-", dir=args.dir))
    runs: dict[str, list[Run]] = {"pack": [], "run": []}
    load_before = os.getloadavg()[0]
    try:
        model = work / "model"
        make_model(model, args.files, args.size_mib)
        for r in range(args.repeat):
            for name in ("pack", "run"):
                env = child_env(work / f"cache-{name}-{r}")  # empty cache: every byte hashed
                env["DOCKER_CONFIG"] = str(work / "no-docker-config")
                env["ATTEST_CONFIG_DIR"] = str(work / "config")
                layout = work / f"{name}-{r}"
                log(f"{name} #{r + 1}")
                runs[name].append(run_child(
                    [sys.executable, "-m", "attest", name, str(model), "--to",
                     f"oci:{layout}:v1", "--format", "json"], env,
                ))  # fmt: skip
                shutil.rmtree(layout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    pack_s = min(r.wall_s for r in runs["pack"])
    run_s = min(r.wall_s for r in runs["run"])
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "model": f"{args.files} x {args.size_mib} MiB",
        "peak_rss_method": "GNU time %M" if GNU_TIME else "os.wait4",
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "pack": {"best_s": round(pack_s, 2), "runs_s": [round(r.wall_s, 2) for r in runs["pack"]],
                 "peak_rss_mib": round(max(r.rss_mib for r in runs["pack"]), 1)},
        "run": {"best_s": round(run_s, 2), "runs_s": [round(r.wall_s, 2) for r in runs["run"]],
                "peak_rss_mib": round(max(r.rss_mib for r in runs["run"]), 1)},
        "run_over_pack": round(run_s / pack_s, 2),
        "overhead_s": round(run_s - pack_s, 2),
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['date']}  {report['cpu']} x{report['cores']}  model {report['model']}")
        print(f"load average before/after: {load_before:.1f}/{report['load_after']:.1f}")
        for name in ("pack", "run"):
            row = report[name]
            print(f"attest {name:5} best {row['best_s']:7.2f} s  runs {row['runs_s']}  "
                  f"peak RSS {row['peak_rss_mib']} MiB")  # fmt: skip
        print(f"run / pack = {report['run_over_pack']}x (target <= {TARGET_RATIO}x), "
              f"overhead {report['overhead_s']} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
