#!/usr/bin/env python3
"""How long each pre-commit hook's command takes on a model with a large weight file.

    python bench/hooks.py [--weight-mib 1024] [--repeat 3] [--json]

Copies testdata/models/open-llm, replaces its weights by one safetensors file of --weight-mib
MiB (a valid header, zero-filled data), commits fresh evidence under .attest/, then times each
hook's command as pre-commit runs it (a child process, `attest ...` from this interpreter's
environment) with the digest cache empty ("cold": every file is hashed once) and again with the
cache filled ("warm": what every later commit sees). Median wall time of --repeat runs.
This is a benchmark, not a test: it reports, it never fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOOKS = {
    "attest-mof-floor": ["mof", "--min-class", "III", "."],
    "attest-card-lint": ["card", "lint", "README.md", "--subject", "."],
    "attest-yaml": ["check-yaml", "attest.yaml"],
    "attest-freshness": ["freshness", "."],
}


def write_weights(path: Path, mib: int) -> None:
    n = mib * 1024 * 1024 // 4
    header = {"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, n * 4]}}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        chunk = b"\0" * (8 * 1024 * 1024)
        left = n * 4
        while left:
            f.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))


def attest(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "attest", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)  # fmt: skip
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"attest {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weight-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model"
        shutil.copytree(ROOT / "testdata" / "models" / "open-llm", model)
        write_weights(model / "model.safetensors", opts.weight_mib)
        cache = Path(tmp) / "cache"
        env = {**os.environ, "ATTEST_CACHE_DIR": str(cache)}
        env.pop("ATTEST_NO_CACHE", None)
        (model / ".attest").mkdir()
        attest(["sbom", ".", "-o", ".attest/sbom.cdx.json"], model, env)
        attest(["card", ".", "-o", ".attest/model-card.md"], model, env)
        rows = []
        for hook, args in HOOKS.items():
            cold, warm = [], []
            for _ in range(opts.repeat):
                shutil.rmtree(cache, ignore_errors=True)
                cold.append(attest(args, model, env))
                warm.append(attest(args, model, env))
            rows.append({"hook": hook, "cold_s": statistics.median(cold),
                         "warm_s": statistics.median(warm)})  # fmt: skip
    if opts.json:
        print(json.dumps({"weight_mib": opts.weight_mib, "hooks": rows}, indent=2))
        return
    print(f"model: open-llm with a {opts.weight_mib} MiB safetensors file; median of "
          f"{opts.repeat}; load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    print(f"{'hook':<20} {'cold cache':>11} {'warm cache':>11}")
    for r in rows:
        print(f"{r['hook']:<20} {r['cold_s']:>10.2f}s {r['warm_s']:>10.2f}s")


if __name__ == "__main__":
    main()
