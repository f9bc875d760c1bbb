"""Byte progress on stderr (hashing, pack uploads, pull, copy), drawn by ``rich.progress``.

Shown only to a person watching: stderr must be a terminal, ``CI`` unset and ``-q`` not given.
Callers never branch on that: a :class:`Progress` that is off still counts (``done``) and every
other method is a cheap no-op. A transfer of many blobs shows one line per blob in flight under
the overall line; a blob's line goes away when it is done.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TextIO

from attest.text import safe

if TYPE_CHECKING:
    from rich.console import Console

_quiet = False


def set_quiet(quiet: bool) -> None:
    """``-q``: no progress at all (the CLI group sets this on every invocation)."""
    global _quiet
    _quiet = quiet


class Advancer(Protocol):
    def advance(self, n: int) -> None: ...


def progress_enabled(
    requested: bool | None = None, stream: TextIO | None = None, console: Console | None = None
) -> bool:
    """Decide whether to draw: ``requested`` False, ``-q`` or ``CI`` force it off; otherwise
    only on a terminal (``console``'s own judgement when one is given, else ``stream``'s).

    ``requested=True`` still needs a terminal: redraws in a log file or a pipe are only noise.
    """
    if requested is False or _quiet or os.environ.get("CI"):
        return False
    if console is not None:
        return console.is_terminal
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or fake stream
        return False


class Progress:
    """Thread-safe progress over ``total`` bytes (``0``: unknown, grown by :meth:`blob`).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        total: int = 0,
        label: str = "",
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        console: Console | None = None,
    ) -> None:
        self.total = max(0, total)
        self.label = label
        self.done = 0
        self._grows = self.total == 0  # blobs found as the work goes add to the total
        self._lock = threading.Lock()
        self._closed = False
        self.enabled = progress_enabled(enabled, stream, console)
        self._bar: Any = None
        if self.enabled:
            self._start(console or _console(stream if stream is not None else sys.stderr))

    def _start(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        self._bar = RichProgress(
            TextColumn("{task.description}", markup=False),  # labels are file names: no markup
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn(),  # decimal units, as TransferSpeedColumn (and pip) show them
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            redirect_stdout=False,  # data goes to stdout untouched, even while drawing
            redirect_stderr=False,
        )
        self._task = self._bar.add_task(safe(self.label), total=self.total or None)
        self._bar.start()

    @property
    def rich(self) -> Any:
        """The ``rich.progress.Progress`` drawing this (None when off)."""
        return self._bar

    def advance(self, n: int) -> None:
        """Record ``n`` more bytes done."""
        if n <= 0:
            return
        with self._lock:
            self.done += n
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def blob(self, label: str, size: int) -> BlobProgress:
        """A line for one blob in flight; its bytes also count towards this progress."""
        if self._grows and size > 0:
            with self._lock:
                self.total += size
            if self._bar is not None:
                self._bar.update(self._task, total=self.total)
        return BlobProgress(self, label, size)

    def close(self) -> None:
        """Draw the final figures and end the display. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._bar is not None:
            self._bar.stop()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class BlobProgress:
    """One blob's line under a :class:`Progress`; a context manager that removes the line."""

    def __init__(self, parent: Progress, label: str, size: int) -> None:
        self._parent = parent
        self.done = 0
        self._task = None
        if parent.rich is not None:
            self._task = parent.rich.add_task(f"  {safe(label)}", total=size or None)

    def advance(self, n: int) -> None:
        if n <= 0:
            return
        self.done += n
        self._parent.advance(n)
        if self._task is not None:
            self._parent.rich.advance(self._task, n)

    def close(self) -> None:
        if self._task is not None:
            self._parent.rich.remove_task(self._task)
            self._task = None

    def __enter__(self) -> BlobProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _console(stream: TextIO) -> Console:
    from rich.console import Console

    # the caller already decided this is a terminal (FORCE_COLOR alone must not make it one)
    return Console(file=stream, force_terminal=True)


class ProgressReader:
    """A binary stream that advances ``progress`` by what is read from it (uploads, copies).

    Passes ``seek``/``tell``/``seekable`` through so a retried upload can rewind; a rewind
    does not move the bar back (it shows work done, not position).
    """

    def __init__(self, stream: BinaryIO, progress: Advancer) -> None:
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
