"""A small byte-progress line on stderr, shared by hashing and uploads.

Shown only to a person watching: stderr must be a TTY and ``CI`` unset. Redraws are throttled
so that a fast producer (a hashing thread advancing every few MiB) costs almost nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import BinaryIO, TextIO

_MIB = 1024 * 1024
_REDRAW_INTERVAL = 0.1  # seconds: at most ~10 redraws per second


def progress_enabled(requested: bool | None = None, stream: TextIO | None = None) -> bool:
    """Decide whether to draw: ``requested`` False forces off; otherwise TTY and no ``CI``.

    ``requested=True`` still needs a TTY: writing ``\\r`` redraws into a log file or a pipe only
    makes noise, and the caller asked for progress, not for garbage in captured output.
    """
    if requested is False:
        return False
    stream = stream if stream is not None else sys.stderr
    if os.environ.get("CI"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or fake stream
        return False


def _fmt_mib(n: int) -> str:
    return f"{n / _MIB:,.1f} MiB"


class Progress:
    """Thread-safe progress over a known (or unknown, ``total=0``) number of bytes.

    Use as a context manager, or call :meth:`close`. When disabled every method is a cheap no-op,
    so callers never need to branch on whether progress is shown.
    """

    def __init__(
        self,
        total: int = 0,
        label: str = "",
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(0, total)
        self.label = label
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = progress_enabled(enabled, self._stream)
        self._lock = threading.Lock()
        self._clock = clock  # injectable, so tests step time instead of sleeping
        self._start = clock()
        self._last_draw = 0.0
        self._drawn = False
        self._closed = False
        self._width = 0

    def add_total(self, n: int) -> None:
        """Grow the total, for producers that discover work as they go (e.g. uploads)."""
        with self._lock:
            self.total += max(0, n)

    def advance(self, n: int) -> None:
        """Record ``n`` more bytes done; redraw if the last redraw is old enough."""
        if n <= 0:
            return
        with self._lock:
            self.done += n
            if not self.enabled or self._closed:
                return
            now = self._clock()
            if now - self._last_draw >= _REDRAW_INTERVAL:
                self._last_draw = now
                self._draw(now)

    def rate(self) -> float:
        """Average bytes per second since the reporter was created."""
        elapsed = self._clock() - self._start
        return self.done / elapsed if elapsed > 0 else 0.0

    def _line(self, now: float) -> str:
        elapsed = now - self._start
        rate = self.done / elapsed / _MIB if elapsed > 0 else 0.0
        head = f"{self.label} " if self.label else ""
        if self.total:
            pct = min(100.0, 100.0 * self.done / self.total)
            body = f"{_fmt_mib(self.done)} / {_fmt_mib(self.total)} ({pct:3.0f}%)"
        else:
            body = _fmt_mib(self.done)
        return f"{head}{body}  {rate:,.0f} MiB/s"

    def _draw(self, now: float) -> None:
        line = self._line(now)
        # Pad with spaces so a shorter line fully overwrites a longer previous one.
        pad = " " * max(0, self._width - len(line))
        self._width = len(line)
        try:
            self._stream.write(f"\r{line}{pad}")
            self._stream.flush()
        except (OSError, ValueError):  # stderr closed or broken pipe: progress is optional
            self.enabled = False
            return
        self._drawn = True

    def close(self) -> None:
        """Draw the final figures and end the line. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self.enabled:
                return
            self._draw(self._clock())
            if self._drawn:
                try:
                    self._stream.write("\n")
                    self._stream.flush()
                except (OSError, ValueError):
                    pass

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ProgressReader:
    """A binary stream that advances ``progress`` by what is read from it (uploads, copies).

    Passes ``seek``/``tell``/``seekable`` through so a retried upload can rewind; a rewind
    does not move the bar back (it shows work done, not position).
    """

    def __init__(self, stream: BinaryIO, progress: Progress) -> None:
        self._stream = stream
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self._progress.advance(len(data))
        return data

    def seekable(self) -> bool:
        return self._stream.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        self._stream.close()
