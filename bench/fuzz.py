#!/usr/bin/env python3
"""Long property-based fuzzing run of every hostile-input reader.

    python bench/fuzz.py [--examples 2000] [--only NAME ...] [--seed N]

Runs the targets of tests/hostile/fuzz_targets.py (the suite runs the same ones with 50 examples
each) with many more examples and prints, per target, the examples run, the time taken and the
first failure, if any, with its minimal falsifying input. A failure is a reader raising anything
but InputError (exit 2), or extraction writing outside its target or changing it on failure.
Every failure found becomes an ``@example`` regression in tests/hostile/test_fuzz.py.

This is a search, not a test: it exits 1 if it found a failure, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.hostile import fuzz_targets as ft  # noqa: E402


def _safetensors_both(case: tuple[bytes, int]) -> None:
    raw, data_size = case
    ft.fuzz_safetensors(raw, data_size)
    ft.fuzz_weight_file("safetensors", struct.pack("<Q", len(raw)) + raw + bytes(data_size % 64))


TARGETS: dict[str, tuple[Any, Callable[..., None]]] = {
    "manifest": (ft.mutated_manifests() | st.binary(max_size=400), ft.fuzz_manifest),
    "subject": (ft.mutated_manifests(), ft.fuzz_subject),
    "config": (
        ft.json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=200),
        ft.fuzz_config,
    ),  # fmt: skip
    "safetensors": (ft.safetensors_headers(), _safetensors_both),
    "gguf": (st.binary(max_size=1000), ft.fuzz_gguf),
    "onnx": (st.binary(max_size=1000), ft.fuzz_onnx),
    "front-matter": (ft.yaml_texts, ft.fuzz_front_matter),
    "mot-yaml": (ft.yaml_texts, ft.fuzz_mot_yaml),
    "tar": (st.lists(ft.tar_entries, min_size=1, max_size=3), ft.fuzz_extract),
}


def run(name: str, examples: int, seed: int | None) -> tuple[int, float, str | None]:
    strategy, target = TARGETS[name]
    count = 0

    def body(value: Any) -> None:
        nonlocal count
        count += 1
        target(value)

    test = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=seed is None,
    )(given(strategy)(body))
    if seed is not None:
        from hypothesis import seed as with_seed

        test = with_seed(seed)(test)
    start = time.perf_counter()
    try:
        test()
        failure = None
    except Exception:  # hypothesis re-raises the minimal failing example's exception
        failure = traceback.format_exc(limit=-6)
    return count, time.perf_counter() - start, failure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per target")
    parser.add_argument("--only", nargs="*", choices=sorted(TARGETS), help="targets to run")
    parser.add_argument("--seed", type=int, help="random seed (default: derandomized)")
    args = parser.parse_args()
    failed = False
    print(f"{'target':<14} {'examples':>9} {'seconds':>8}  result")
    for name in args.only or sorted(TARGETS):
        count, seconds, failure = run(name, args.examples, args.seed)
        print(f"{name:<14} {count:>9} {seconds:>8.1f}  {'FAILED' if failure else 'ok'}")
        if failure:
            failed = True
            print(failure)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
