"""A progress line for long launches: rewritten in place on a terminal, plain lines elsewhere.

Only launches of at least PROGRESS_MIN runs show one, so small sweeps print what they always did.
On a terminal the line is redrawn at most ten times a second; in a log file a line is written at
each tenth of the way and at the end.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Optional, TextIO

__all__ = ["Progress", "PROGRESS_MIN"]

PROGRESS_MIN = 100
"""The fewest runs a launch has for its progress to be shown."""


class Progress:
    """`with Progress("staging runs", total) as p: ... p.update(done)`: `runx: staging runs: 120/10000`."""

    def __init__(self, what: str, total: int, stream: Optional[TextIO] = None, min_total: int = PROGRESS_MIN) -> None:
        self.what, self.total = what, total
        self.stream = stream if stream is not None else sys.stderr
        self.shown = total >= min_total
        try:
            self.tty = self.shown and self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self._start = time.monotonic()
        self._drawn = 0.0
        self._next_tenth = 1
        self._done = 0

    def __enter__(self) -> "Progress":
        return self

    def update(self, done: int) -> None:
        """`done` of `total` are through."""
        self._done = done
        if not self.shown:
            return
        if self.tty:
            now = time.monotonic()
            if now - self._drawn >= 0.1:
                self._drawn = now
                self._write(f"\rrunx: {self.what}: {done}/{self.total}")
        elif done * 10 >= self._next_tenth * self.total and done < self.total:
            while done * 10 >= self._next_tenth * self.total:
                self._next_tenth += 1
            self._write(f"runx: {self.what}: {done}/{self.total}\n")

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if not self.shown:
            return
        took = time.monotonic() - self._start
        if kind is None:
            start = "\r" if self.tty else ""
            self._write(f"{start}runx: {self.what}: {self._done}/{self.total} in {took:.1f} s\n")
        elif self.tty:
            self._write("\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.shown = False
