"""Run blob transfers on a few threads, largest first.

A model is a handful of large files and many small ones. One stream per blob leaves the network
(or the registry) idle while a single big layer is hashed and written; a few streams at once keep
it busy. Largest first, so the biggest transfer does not start last and finish alone. Threads
suit this: hashing and socket I/O release the GIL. The first failure stops new transfers from
starting and is raised once the running ones end.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_WORKERS = 4  # streams at once: enough to fill a link, few enough for a small registry
ENV_WORKERS = "ATTEST_TRANSFER_WORKERS"


def transfer_workers(requested: int | None = None) -> int:
    """``requested``, else ``$ATTEST_TRANSFER_WORKERS``, else 4; at least 1."""
    if requested is None:
        try:
            requested = int(os.environ.get(ENV_WORKERS, DEFAULT_WORKERS))
        except ValueError:
            requested = DEFAULT_WORKERS
    return max(1, requested)


def run_largest_first(
    items: Sequence[T],
    size: Callable[[T], int],
    work: Callable[[T], R],
    *,
    workers: int | None = None,
) -> list[R]:
    """``work(item)`` for every item, at most ``workers`` at once, biggest ``size`` first.

    Results come back in the order of ``items``. With one worker (or one item) everything runs
    on the calling thread.
    """
    n = min(transfer_workers(workers), len(items))
    if n <= 1:
        return [work(item) for item in items]
    order = sorted(range(len(items)), key=lambda i: size(items[i]), reverse=True)
    results: dict[int, R] = {}
    stop = threading.Event()

    def one(i: int) -> None:
        if not stop.is_set():
            results[i] = work(items[i])

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="attest-transfer") as pool:
        futures: list[Future[None]] = [pool.submit(one, i) for i in order]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            stop.set()
            for f in futures:
                f.cancel()
            wait(futures)
            raise failed.exception()  # type: ignore[misc]
    return [results[i] for i in range(len(items))]
