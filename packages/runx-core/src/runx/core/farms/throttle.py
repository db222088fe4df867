"""Pacing a scheduler's submit command: a submission rate, and new tries while the controller is busy.

A sweep submitted one job at a time must not hit the controller with thousands of calls in a
tight loop: `RateLimit` lets at most `rate` calls through per second (a burst of one second's worth,
then one every 1/rate s). When the controller answers that it is busy (its words are the farm's to
recognise), `retry` waits and tries again, each wait twice the last (`RETRY_DELAYS`).
"""
from __future__ import annotations

import sys
import time
from typing import Callable, Optional, Sequence, TextIO, TypeVar

__all__ = ["RateLimit", "retry", "RETRY_DELAYS", "Busy"]

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)
"""Seconds to wait before each new try of a call the controller was too busy to take (31 s in all)."""

T = TypeVar("T")


class Busy(Exception):
    """The scheduler's controller was too busy to answer; worth trying again a little later."""


class RateLimit:
    """At most `rate` calls per second on average, in bursts of up to one second's worth (rate 0: no limit)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = float(rate)
        self._clock, self._sleep = clock, sleep
        self._capacity = max(1.0, self.rate)
        self._tokens = self._capacity
        self._last: Optional[float] = None

    def wait(self) -> None:
        """Return once one more call may go (at once while the burst lasts)."""
        if self.rate <= 0:
            return
        now = self._clock()
        if self._last is not None:
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            pause = (1 - self._tokens) / self.rate
            self._sleep(pause)
            self._last = now + pause
            self._tokens = 1.0
        self._tokens -= 1


def retry(call: Callable[[], T], what: str, delays: Sequence[float] = RETRY_DELAYS, err: TextIO = sys.stderr,
          sleep: Callable[[float], None] = time.sleep) -> T:
    """`call()`; while it raises Busy, wait the next of `delays` (saying so on `err`) and call again.
    The last Busy is raised when the delays are used up."""
    for delay in delays:
        try:
            return call()
        except Busy as busy:
            err.write(f"runx: {what}: the controller is busy ({busy}); trying again in {delay:g} s\n")
            err.flush()
            sleep(delay)
    return call()
