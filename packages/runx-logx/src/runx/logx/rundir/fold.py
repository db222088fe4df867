"""The one fold of a metrics log's records into a summary, and the summary file's content it gives.

The writer folds what it writes, every reader folds the log's tail past the summary it read
(runx.logx.rundir.summary): both with SummaryState.fold. Besides latest, min and max a metric keeps its
history thinned to at most HISTORY_POINTS points (`history_of` is the plain definition) and, in the
file, its trend: the TREND_POINTS values of that history a sparkline draws (`trend_of`). This module is on
the import path of every logx script, so it needs no `typing` at run time: its annotations are PEP
604/585 forms, which `from __future__ import annotations` leaves unevaluated.
"""
from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterable, Sequence
from functools import lru_cache

from runx.logx.rundir.codec import Number, decode_value, encode_value, is_time

__all__ = [
    "FORMAT_VERSION", "SUMMARY_VERSION", "HISTORY_POINTS", "TREND_POINTS", "history_of", "trend_indices", "trend_of",
    "MetricState", "PhaseState", "SummaryState", "SAMPLES",
]

FORMAT_VERSION = 1  # of metrics.jsonl (its header line)
SUMMARY_VERSION = 3  # of metrics.summary.json; 2 added each metric's history, 3 stores it as a JSON text
HISTORY_POINTS = 64
SAMPLES = HISTORY_POINTS - 1  # evenly thinned points; the latest one makes the 64th
TREND_POINTS = 16  # the values of a history that a sparkline draws: its trend

class MetricState:
    """One metric of one phase while folding: latest value, min and max (None until a non-NaN value), count,
    and its thinned history: the (step, value) of every `stride`-th record of it, from the first on
    (`samples` is None when unknown: read from a version-1 summary, or not read because its stored `trend`
    was: see runx.logx.rundir.summary.state_from_json). The fold replaces a metric's state with a new one
    (`trend` None: only the history is kept up to date) and appends to its own `samples` list."""

    __slots__ = ("last", "last_step", "min", "min_step", "max", "max_step", "count", "stride", "samples", "trend")

    def __init__(self, last: Number, last_step: int, min: Number | None, min_step: int | None, max: Number | None,
                 max_step: int | None, count: int, stride: int, samples: list[tuple[int, Number]] | None,
                 trend: list[Number] | None = None) -> None:
        self.last, self.last_step, self.count = last, last_step, count
        self.min, self.min_step, self.max, self.max_step = min, min_step, max, max_step
        self.stride, self.samples = stride, samples
        self.trend = trend  # as the summary file stores it, when read in place of the history

    def history(self) -> list[tuple[int, Number]] | None:
        """At most HISTORY_POINTS (step, value) points, evenly thinned, the latest one last; None when unknown."""
        if self.samples is None:
            return None
        if (self.count - 1) % self.stride == 0:
            return list(self.samples)
        return self.samples + [(self.last_step, self.last)]


class PhaseState:
    """One phase while folding: records, last step, first and last record time, its metrics (a dict the fold fills in)."""

    __slots__ = ("count", "last_step", "first_time", "last_time", "metrics")

    def __init__(self, count: int, last_step: int, first_time: float, last_time: float,
                 metrics: dict[str, MetricState]) -> None:
        self.count, self.last_step, self.first_time, self.last_time, self.metrics = (
            count, last_step, first_time, last_time, metrics)


class SummaryState:
    """The running fold of a metrics log: what the summary file holds. The writer and every reader fold with `fold`.

    Not a record but the fold's accumulator: the writer folds into one at every flush. Its phases and
    their metrics are PhaseState and MetricState, replaced as they are folded into."""

    __slots__ = ("phases", "records", "start_time", "first_time", "last_time", "skipped")

    def __init__(self, phases: dict[str, PhaseState] | None = None, records: int = 0, start_time: float | None = None,
                 first_time: float | None = None, last_time: float | None = None, skipped: int = 0) -> None:
        self.phases: dict[str, PhaseState] = {} if phases is None else phases
        self.records, self.start_time, self.first_time, self.last_time, self.skipped = (
            records, start_time, first_time, last_time, skipped)

    def start(self, when: float) -> None:
        """Fold in a session start (the first one is the run's start)."""
        if self.start_time is None:
            self.start_time = when

    def fold(self, phase: str, names: Sequence[str], rows: Sequence[tuple], first_time: float, last_time: float,
             start: int = 1) -> None:
        """Fold in consecutive records of one phase that share metric `names`, in log order.

        Each row is (step, ...) with metric i at index start + i, its values Python numbers; the
        batch's records were written from `first_time` to `last_time`. Min and max ignore NaN; of equal
        values the first one's step is kept.
        """
        if not rows:
            return
        count = len(rows)
        last_step = rows[-1][0]
        self.records += count
        if self.first_time is None:
            self.first_time = first_time
        self.last_time = last_time
        p = self.phases.get(phase)
        if p is None:
            metrics: dict[str, MetricState] = {}
            self.phases[phase] = PhaseState(count, last_step, first_time, last_time, metrics)
        else:
            metrics = p.metrics
            self.phases[phase] = PhaseState(p.count + count, last_step, p.first_time, last_time, metrics)
        for index, name in enumerate(names, start):
            column = list(map(operator.itemgetter(index), rows))
            try:
                total = sum(column)
            except OverflowError:  # an int too large for a float beside a float
                total = math.inf
            real = column if total - total == 0 else [v for v in column if v == v]
            m = metrics.get(name)
            if m is None:
                before, stride, lo, lo_step, hi, hi_step = 0, 1, None, None, None, None
                samples: list[tuple[int, Number]] | None = []
            else:
                before, stride, samples = m.count, m.stride, m.samples
                lo, lo_step, hi, hi_step = m.min, m.min_step, m.max, m.max_step
            if samples is not None:
                for i in range(-before % stride, count, stride):  # the records at multiples of the stride
                    samples.append((rows[i][0], column[i]))
                while len(samples) > SAMPLES:  # thin evenly: every other one
                    stride *= 2
                    del samples[1::2]
            if real:
                low, high = min(real), max(real)
                if lo is None or low < lo:
                    lo, lo_step = low, rows[column.index(low)][0]
                if hi is None or high > hi:
                    hi, hi_step = high, rows[column.index(high)][0]
            metrics[name] = MetricState(column[-1], last_step, lo, lo_step, hi, hi_step, before + count, stride, samples)

    def fold_records(self, records: Iterable[object]) -> None:
        """Fold in records as read from the log; objects that are not a valid record or start are ignored.

        Consecutive records of one phase with the same metric names are folded as one batch.
        """
        key: tuple | None = None
        rows: list[tuple] = []
        for record in records:
            if not isinstance(record, dict):
                continue
            when = record.get("time")
            if not is_time(when):
                continue
            assert isinstance(when, (int, float))
            if record.get("event") == "start":
                self.start(when)
                continue
            phase, step, values = record.get("phase"), record.get("step"), record.get("metrics")
            if not isinstance(phase, str) or type(step) is not int or not isinstance(values, dict):
                continue
            try:
                row = (step, when, *map(decode_value, values.values()))
            except ValueError:
                continue
            shape = (phase, *values)
            if shape != key:
                if rows:
                    self.fold(key[0], key[1:], rows, rows[0][1], rows[-1][1], start=2)  # type: ignore[index]
                key, rows = shape, []
            rows.append(row)
        if rows:
            self.fold(key[0], key[1:], rows, rows[0][1], rows[-1][1], start=2)  # type: ignore[index]

    def to_json(self, log_bytes: int) -> dict:
        """The summary file's content, covering the first `log_bytes` bytes of the log."""
        phases = {}
        for name, p in self.phases.items():
            phases[name] = {
                "count": p.count, "last_step": p.last_step, "first_time": p.first_time, "last_time": p.last_time,
                "metrics": {k: _metric_json(m) for k, m in p.metrics.items()},
            }
        return {"runx_metrics_summary": SUMMARY_VERSION, "log_bytes": log_bytes, "records": self.records,
                "skipped_lines": self.skipped, "start_time": self.start_time, "first_time": self.first_time,
                "last_time": self.last_time, "phases": phases}


def history_of(points: Sequence[tuple[int, Number]]) -> list[tuple[int, Number]]:
    """The plain definition of a metric's history from all its (step, value) points in log order: every
    s-th point from the first, s the smallest power of two leaving at most HISTORY_POINTS - 1 of them,
    then the latest point if it is not one of those."""
    stride = 1
    while -(-len(points) // stride) > SAMPLES:
        stride *= 2
    out = list(points[::stride])
    if points and (len(points) - 1) % stride:
        out.append(points[-1])
    return out


@lru_cache(maxsize=256)
def trend_indices(n: int, width: int = TREND_POINTS) -> tuple[int, ...]:
    """The indices of at most `width` of `n` values, evenly spaced, the first and the last included."""
    if n <= width:
        return tuple(range(n))
    return tuple(round(i * (n - 1) / (width - 1)) for i in range(width))


def trend_of(points: Sequence[tuple[int, Number]], width: int = TREND_POINTS) -> list[Number]:
    """A history's trend: the values of its points at trend_indices, what a sparkline `width` wide draws of it."""
    return [points[i][1] for i in trend_indices(len(points), width)]


def _metric_json(m: MetricState) -> dict:
    enc = encode_value
    out: dict[str, object] = {"last": enc(m.last), "last_step": m.last_step,
           "min": None if m.min is None else enc(m.min), "min_step": m.min_step,
           "max": None if m.max is None else enc(m.max), "max_step": m.max_step, "count": m.count}
    points = m.history()
    if points is not None:
        out["history_stride"] = m.stride
        # a JSON text inside the summary: a table's json.loads then skips it as one string (see docs/metrics-format.md)
        out["history"] = json.dumps([[step, enc(value)] for step, value in points], separators=(",", ":"))
        out["trend"] = json.dumps([enc(value) for value in trend_of(points)], separators=(",", ":"))
    return out
