"""runx.core.farms.throttle: the submission rate and the retries while a controller is busy."""
from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runx.core.farms.throttle import Busy, RateLimit, retry


class Clock:
    """A fake monotonic clock that sleeping advances."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def test_a_burst_of_one_seconds_worth_then_one_call_per_interval():
    clock = Clock()
    pace = RateLimit(4, clock, clock.sleep)
    times = []
    for _ in range(12):
        pace.wait()
        times.append(clock.now)
    assert times[:4] == [100.0] * 4
    assert times[4:] == pytest.approx([100.0 + 0.25 * i for i in range(1, 9)])


def test_slow_callers_are_not_held_back_and_zero_means_no_limit():
    clock = Clock()
    pace = RateLimit(2, clock, clock.sleep)
    for _ in range(10):
        pace.wait()
        clock.now += 1.0  # each call takes longer than the interval
    assert clock.now == 110.0
    free = RateLimit(0, clock, clock.sleep)
    for _ in range(1000):
        free.wait()
    assert clock.now == 110.0


@given(rate=st.floats(0.5, 50), work=st.lists(st.floats(0, 0.5), min_size=1, max_size=60))
def test_no_window_holds_more_calls_than_the_rate_allows(rate, work):
    clock = Clock()
    pace = RateLimit(rate, clock, clock.sleep)
    times = []
    for seconds in work:
        pace.wait()
        times.append(clock.now)
        clock.now += seconds
    burst = max(1.0, rate)
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= burst + (times[j] - times[i]) * rate + 1e-6


def test_retry_waits_longer_each_time_and_gives_up_with_the_last_busy():
    waits: list = []
    err = io.StringIO()
    answers = iter([Busy("Socket timed out"), Busy("Resource temporarily unavailable"), "42"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retry(call, "sbatch", (1, 2, 4), err, waits.append) == "42"
    assert waits == [1, 2]
    assert err.getvalue().splitlines() == [
        "runx: sbatch: the controller is busy (Socket timed out); trying again in 1 s",
        "runx: sbatch: the controller is busy (Resource temporarily unavailable); trying again in 2 s",
    ]

    def always_busy():
        raise Busy("still")

    with pytest.raises(Busy, match="still"):
        retry(always_busy, "sbatch", (0.5, 1), io.StringIO(), waits.append)
    assert waits[2:] == [0.5, 1]
