"""What every ``manage.py`` command of this project does on the command line, whatever it is for.

- An argument that is not valid UTF-8 (the shell passed bytes Python could not decode) is refused
  in one line, ``error: invalid.encoding: …``, exit code 2, before anything reads the database.
- A closed output (``manage.py cycle audit 1 | head -1``) ends the command with one line on
  standard error, ``error: output.closed: …``, and exit code 141, as a tool killed by SIGPIPE;
  never a traceback.
- Stored text is printed escaped: control characters (other than tab and line feed),
  bidirectional overrides and isolates, and what is left of undecodable bytes appear as
  ``\\u001b`` or ``\\u202e``, so a title or a dissent cannot move the cursor, recolour the
  terminal or reorder what is shown.
  Commands whose output is a data format (``report``, ``audit export``) keep their exact bytes
  when written to a file or a pipe and are escaped only when a terminal reads them.
- Long work (``generate``, ``report``, ``audit export``) draws a progress bar on standard error
  when it is a terminal (``progress_bar``, ``cycle.management.progress``); nothing otherwise.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, OutputWrapper

from cycle.management.progress import ProgressBar

EXIT_USAGE = 2
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE, what a shell reports for a tool cut off by a pipe

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 controls but tab and line feed; DEL; C1 controls
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, isolates
    "\ud800-\udfff]"  # lone surrogates: undecodable bytes of an argument or a file
)


def _escaped(match: re.Match[str]) -> str:
    # The form JSON reads as well, so ``cycle show --json`` stays valid JSON.
    return f"\\u{ord(match.group()):04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every character that could control a terminal written as an escape."""
    return _UNSAFE.sub(_escaped, text)


def is_text(argument: str) -> bool:
    """Whether a command-line argument was valid UTF-8 (Python keeps bad bytes as surrogates)."""
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class TerminalSafeOutput:
    """A command's output stream that escapes what it writes (always, or only on a terminal)."""

    __slots__ = ("_always", "_wrapped")

    def __init__(self, wrapped: OutputWrapper, *, always: bool) -> None:
        object.__setattr__(self, "_wrapped", wrapped)
        object.__setattr__(self, "_always", always)

    def write(self, msg: str = "", style_func: Any = None, ending: str | None = None) -> None:
        if self._always or self._wrapped.isatty():
            msg = terminal_safe(msg)
        self._wrapped.write(msg, style_func, ending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._wrapped, name, value)


class CommandLine(BaseCommand):
    """A ``manage.py`` command with one-line failures and terminal-safe output (module doc)."""

    exact_output = False
    """True for a data format: its standard output is escaped only when a terminal reads it."""

    @property  # type: ignore[override]
    def stdout(self) -> TerminalSafeOutput:
        return self._safe_stdout

    @stdout.setter
    def stdout(self, value: OutputWrapper) -> None:
        self._safe_stdout = TerminalSafeOutput(value, always=not self.exact_output)

    @property  # type: ignore[override]
    def stderr(self) -> TerminalSafeOutput:
        return self._safe_stderr

    @stderr.setter
    def stderr(self, value: OutputWrapper) -> None:
        self._safe_stderr = TerminalSafeOutput(value, always=True)

    def execute(self, *args: Any, **options: Any) -> Any:
        # The stream a progress bar is drawn on: the error stream as given, not escaped (the
        # bar's own control characters move the cursor back), and only on a terminal.
        self._progress_stream: TextIO = options.get("stderr") or sys.stderr
        return super().execute(*args, **options)

    def progress_bar(
        self, label: str, total: int, *, unit: str = "", shown: bool = True, counts: bool = True
    ) -> ProgressBar:
        """A progress bar on standard error, drawn only when it is a terminal (and ``shown``:
        false where the bar would break into output going to the same terminal)."""
        stream = getattr(self, "_progress_stream", sys.stderr)
        return ProgressBar(stream, label, total, unit=unit, shown=shown, counts=counts)

    def run_from_argv(self, argv: list[str]) -> None:
        for position, argument in enumerate(argv[2:], start=1):
            if not is_text(argument):
                sys.stderr.write(
                    f"error: invalid.encoding: argument {position} ({terminal_safe(argument)[:60]})"
                    " is not valid UTF-8 text\n"
                )
                sys.exit(EXIT_USAGE)
        try:
            super().run_from_argv(argv)
            sys.stdout.flush()
        except BrokenPipeError:
            # Whatever is still buffered can never be written: point standard output at nothing
            # so that the flush at exit does not fail a second time.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.stderr.write(
                "error: output.closed: the output was closed before everything was written\n"
            )
            sys.exit(EXIT_OUTPUT_CLOSED)
