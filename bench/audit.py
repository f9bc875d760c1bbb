#!/usr/bin/env python3
"""Benchmark `attest audit`: how its time grows with the fleet size N and with --jobs.

    python bench/audit.py [--sizes 10,25,50] [--jobs 1,2,4,8] [--json]

Starts Debian's docker-registry on loopback, signs one model with `attest run` and copies it
(with its referrers) into N repositories, plus one unsigned copy and one plain image per ten
models, then times `attest audit HOST/bench --key ...` for every (N, jobs). Each model is a
distinct repository, so every one is verified (discovery, 7 signed referrers, policy-free
verification). A benchmark, not a test: it reports, it never fails on a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.registry_fixtures import run_docker_registry  # noqa: E402 - the same launcher as tests


def attest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATTEST_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "attest", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip


def must(done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        raise SystemExit(done.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,25,50")
    parser.add_argument("--jobs", default="1,2,4,8")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    jobs = [int(j) for j in args.jobs.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, run_docker_registry(Path(tmp) / "reg") as server:
        os.environ["ATTEST_CONFIG_DIR"] = str(Path(tmp) / "config")
        must(attest("key", "generate", f"{tmp}/release"))
        seed = f"{server.host}/seed/open-llm:v1"
        must(attest("run", str(REPO / "testdata/models/open-llm"), "--to", seed, "--key",
                    f"{tmp}/release.key"))  # fmt: skip
        made = 0
        for n in sorted(sizes):
            for i in range(made, n):
                must(attest("copy", seed, f"{server.host}/bench{n}/m{i:03d}:v1"))
            # earlier sizes' models are copied again under this size's namespace (cheap: the
            # registry already has every blob), so each namespace holds exactly n models
            for i in range(0, made):
                must(attest("copy", seed, f"{server.host}/bench{n}/m{i:03d}:v1"))
            made = n
            for j in jobs:
                started = time.monotonic()
                done = attest("audit", f"{server.host}/bench{n}", "--key", f"{tmp}/release.pub",
                              "--jobs", str(j), "--format", "json")  # fmt: skip
                seconds = time.monotonic() - started
                report = json.loads(done.stdout)
                rows.append({"models": n, "jobs": j, "seconds": round(seconds, 2),
                             "perModel": round(seconds / n, 3),
                             "verified": report["summary"]["verified"], "exit": done.returncode})
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"machine": machine, "rows": rows}, indent=2))
        return
    print(f"attest audit on {machine}\n")
    print("| models | --jobs | wall (s) | s/model | verified | exit |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['models']} | {r['jobs']} | {r['seconds']} | {r['perModel']} | "
              f"{r['verified']} | {r['exit']} |")


if __name__ == "__main__":
    main()
