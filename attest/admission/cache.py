"""A bounded TTL cache with single-flight loading.

Verification results are cached by manifest digest: content addressed, so a hit can only be
stale by the TTL (a new signature, a revoked key). Concurrent misses for the same key share one
load (single flight), so a burst of identical admission requests costs one verification.
Failures are not cached here: Gatekeeper already caches error items for its own TTL.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """LRU order, at most ``max_entries`` values, each valid for ``ttl`` seconds."""

    def __init__(self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic):
        if max_entries < 1:
            raise ValueError("a cache needs room for at least one entry")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: str, value: V) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._items[key] = (self._clock() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class SingleFlight(Generic[V]):
    """Run at most one load per key at a time on ``executor``; callers of the same key share
    its future. The executor bounds how many loads run at once."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._running: dict[str, Future[V]] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, load: Callable[[], V]) -> tuple[Future[V], bool]:
        """The future of ``key``'s load, and whether this call joined one already running."""
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                return running, True
            future = self._executor.submit(load)
            self._running[key] = future
        future.add_done_callback(lambda _f: self._forget(key, future))
        return future, False

    def _forget(self, key: str, future: Future[V]) -> None:
        with self._lock:
            if self._running.get(key) is future:
                del self._running[key]
