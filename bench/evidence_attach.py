"""Benchmark: `attest run` of a small model to the real docker-registry (not a test).

Distribution 2.8 has no Referrers API, so every referrer is listed in the subject's fallback
tag index; `attest run` attaches about fifteen. This times the whole run (pack, facts, stages,
signing with a generated key, attach, self-verify) in process, best of ``--repeat``, so the
cost of the fallback-index updates shows. Compare two checkouts by running it in each.

    .venv/bin/python bench/evidence_attach.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers import run_attest  # noqa: E402
from tests.registry_fixtures import run_docker_registry  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", default=str(REPO / "testdata" / "models" / "open-llm"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="attest-bench-attach-"))
    os.environ["ATTEST_CONFIG_DIR"] = str(root / "config")
    with run_docker_registry(root) as server:
        assert run_attest("key", "generate", str(root / "k")).returncode == 0
        times = []
        for i in range(args.repeat):
            started = time.perf_counter()
            done = run_attest("run", args.model, "--to", f"{server.host}/bench/m{i}:v1",
                              "--key", str(root / "k.key"))  # fmt: skip
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(done.stderr)
        print(f"attest run to docker-registry: best {min(times):.2f} s, "
              f"median {sorted(times)[len(times) // 2]:.2f} s over {len(times)} runs")  # fmt: skip


if __name__ == "__main__":
    main()
