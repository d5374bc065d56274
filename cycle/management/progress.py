"""A progress bar for long commands (``generate``, ``report``, ``audit export``), drawn on
standard error only when that is a terminal.

    with self.progress_bar("Exporting events", total=count) as bar:  # a CommandLine's
        for record in records:
            ...
            bar.advance()

On a terminal it redraws one line in place, at most ten times a second:
``Exporting events [##########··········]  50%  5000/10000``. Written to a file or a pipe (a
log, a CI job, a test) it writes nothing, so the command's own output is unchanged.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, TextIO

WIDTH = 30
INTERVAL = 0.1
"""Seconds between two redraws."""


class ProgressBar:
    """``done`` of ``total`` steps, as a bar; ``advance()`` after each step (module docstring)."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        total: int,
        *,
        unit: str = "",
        clock: Any = None,
        shown: bool = True,
        counts: bool = True,
    ) -> None:
        self.stream = stream
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        self.counts = counts
        self.done = 0
        self.clock = clock or time.monotonic
        isatty = getattr(stream, "isatty", None)
        self.shown = shown and bool(isatty and isatty())
        self.drawn_at: float | None = None
        self.finished = False

    def __enter__(self) -> ProgressBar:
        self.draw(force=True)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.done = self.total
            self.finished = True
        self.draw(force=True)
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, steps: int = 1) -> None:
        self.done = min(self.done + steps, self.total) if self.total else self.done + steps
        self.draw()

    def update(self, done: int) -> None:
        """Set how many steps are done (for work measured as it goes, such as a time line)."""
        self.done = max(0, min(done, self.total))
        self.draw()

    def line(self) -> str:
        if not self.total and not self.finished:
            return f"{self.label} ... {self.done}" if self.done else f"{self.label} ..."
        share = self.done / self.total if self.total else 1.0
        filled = int(WIDTH * share)
        line = f"{self.label} [{'#' * filled}{'·' * (WIDTH - filled)}] {int(100 * share):3d}%"
        if self.counts:
            line += f"  {self.done}/{self.total}" + (f" {self.unit}" if self.unit else "")
        return line

    def draw(self, *, force: bool = False) -> None:
        if not self.shown:
            return
        now = self.clock()
        if not force and self.drawn_at is not None and now - self.drawn_at < INTERVAL:
            return
        self.drawn_at = now
        # Back to the start of the line and clear it, then the bar; no newline until the end.
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()
