#!/usr/bin/env python3
"""What drawing progress costs a transfer: microseconds per advance, off and drawn by rich.

    python bench/progress.py [--advances 200000]

Hashing advances once per 1 MiB chunk; pull and copy once per read (and twice when a blob has
its own line). Drawn output goes to a terminal Console writing to /dev/null. A benchmark, not a
test: it reports, it never fails.
"""

from __future__ import annotations

import argparse
import os
import time

from rich.console import Console

from attest.progress import Progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--advances", type=int, default=200_000)
    n = parser.parse_args().advances
    os.environ.pop("CI", None)
    with open(os.devnull, "w") as sink:
        for label, kwargs in (
            ("off", {"enabled": False}),
            ("rich", {"console": Console(file=sink, force_terminal=True)}),
        ):
            start = time.perf_counter()
            with Progress(n * 1024, "bench", **kwargs) as p:  # type: ignore[arg-type]
                for _ in range(n):
                    p.advance(1024)
            spent = time.perf_counter() - start
            print(f"{label:5} {spent / n * 1e6:6.2f} us per advance")


if __name__ == "__main__":
    main()
