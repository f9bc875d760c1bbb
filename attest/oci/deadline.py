"""Overall deadlines for HTTP requests: requests/urllib3 only bound each socket read.

A server that sends one byte every 50 seconds never trips a 60-second read timeout, so a
manifest GET could take days. Each request is given a :class:`Deadline`; one watchdog thread
shuts down the socket of a request that is still running when its deadline passes, which makes
the blocked read fail at once. The adapter's connections record themselves on the deadline of
the request they carry (urllib3 reuses connections, so this happens per request, not per
connect).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_local = threading.local()


class Deadline:
    """One request's budget; ``expired`` tells a failure caused by it from a network one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.connection: HTTPConnection | None = None
        self.touched = 0.0  # last progress of a long body (see touch())

    def abort(self) -> None:
        self.expired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread firing :meth:`Deadline.abort` for deadlines that pass while armed."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._armed: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: Deadline, seconds: float) -> int:
        token = next(self._ids)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, token, deadline))
            self._armed.add(token)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="attest-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.discard(token)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)  # disarmed: drop lazily
                if not self._heap:
                    self._cond.wait()
                    continue
                due, token, deadline = self._heap[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                if deadline.touched and deadline.touched + budget_of(deadline) > time.monotonic():
                    # A streamed body made progress: the budget counts from its last step.
                    due = deadline.touched + budget_of(deadline)
                    heapq.heappush(self._heap, (due, token, deadline))
                    continue
                self._armed.discard(token)
            deadline.abort()


_WATCHDOG = _Watchdog()


def budget_of(deadline: Deadline) -> float:
    return deadline.seconds


def touch() -> None:
    """Record progress on the running request (a streamed upload body calls this per block):
    its deadline then bounds the time without progress, not the whole transfer."""
    deadline = getattr(_local, "deadline", None)
    if deadline is not None:
        deadline.touched = time.monotonic()


@contextlib.contextmanager
def bound(deadline: Deadline, seconds: float | None = None) -> Iterator[Deadline]:
    """Run the block under ``deadline`` (``seconds`` overrides its budget for this block)."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    token = _WATCHDOG.arm(deadline, deadline.seconds if seconds is None else seconds)
    try:
        yield deadline
    finally:
        _WATCHDOG.disarm(token)
        _local.deadline = previous


class _Tracked:
    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = getattr(_local, "deadline", None)
        if deadline is not None:
            deadline.connection = self
        super().request(*args, **kwargs)  # type: ignore[misc]


class _TrackedHTTPConnection(_Tracked, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections a :class:`Deadline` can abort."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
