"""The one reader of a run's metrics: the summary file plus the log's tail past it, as records.

`metrics.summary.json` is replaced atomically and says how many bytes of `metrics.jsonl` it covers
(`log_bytes`), so a reader folds in only the log's tail past it, with the one fold of
runx.logx.rundir.fold. A summary that fails validation is ignored and the whole log is folded instead.
Besides latest, min and max it keeps each metric's history thinned to at most HISTORY_POINTS points
(`history_of` is the plain definition), so a picture of a run costs what its row in a table costs, and
beside it the metric's trend: the TREND_POINTS values of that history a sparkline draws (`trend_of`), so
a trend column decodes 16 values instead of 64 points. A version-1 summary (no history) is still read; its
history is refolded from the log when a reader asks for it.
"""

import json
import math
import os
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple, Union

from runx.logx.rundir.codec import Number, decode_value, encode_value, is_time, read_bytes
from runx.logx.rundir.fold import (
    FORMAT_VERSION,
    HISTORY_POINTS,
    SAMPLES,
    SUMMARY_VERSION,
    TREND_POINTS,
    MetricState,
    PhaseState,
    SummaryState,
    history_of,
    trend_indices,
    trend_of,
)
from runx.logx.rundir.layout import METRICS_FILE, SUMMARY_FILE
from runx.logx.rundir.records import ReadResult, read_records

READ_VERSIONS = (1, 2, 3)
_NUMBERS = frozenset((int, float))  # the types of a stored value that is stored as it is
_DECODER = json.JSONDecoder()  # its raw_decode: a short JSON text without json.loads' layers

Histories = Union[bool, str, Callable[[str, Iterable[str]], Union[bool, str]]]
"""Which metrics' histories a reader wants: all (True), none (False), only the metric of that name, or, for
each phase, what a function of the phase's name and its metrics' names answers (one of the other three)."""


def wants(history: Histories, metric: str) -> bool:
    """Whether `history` (as `chosen` gives it for the metric's phase) asks for this metric's history."""
    return history is True or history == metric


def chosen(history: Histories, phase: str, metrics: Iterable[str]) -> Union[bool, str]:
    """`history` for one phase with these metrics: a function's answer, anything else as it is."""
    return history(phase, metrics) if callable(history) else history

__all__ = [
    "FORMAT_VERSION", "SUMMARY_VERSION", "HISTORY_POINTS", "TREND_POINTS", "Histories", "history_of", "trend_indices",
    "trend_of", "wants", "chosen", "MetricState", "PhaseState", "SummaryState", "MetricSummary", "PhaseSummary", "RunSummary",
    "state_from_json", "has_history", "run_summary", "load_summary", "fold_log", "summarize",
]


class MetricSummary(NamedTuple):
    """One metric in one phase: latest value, min and max (NaN ignored; NaN if never anything else) with their steps,
    and, when asked for, its history: at most HISTORY_POINTS (step, value), evenly thinned, the latest one last,
    or its trend: the values of that history a sparkline draws (trend_of)."""

    last: Number
    last_step: Optional[int]
    min: Number
    min_step: Optional[int]
    max: Number
    max_step: Optional[int]
    count: int  # type: ignore[assignment]  # the field, not tuple.count
    history: Optional[List[Tuple[int, Number]]] = None
    trend: Optional[List[Number]] = None


class PhaseSummary(NamedTuple):
    """One phase: how many records, the last step, first and last record times, each metric."""

    count: int  # type: ignore[assignment]  # the field, not tuple.count
    last_step: Optional[int]
    first_time: Optional[float]
    last_time: Optional[float]
    metrics: Dict[str, MetricSummary]


class RunSummary(NamedTuple):
    """A run's metrics at a glance (from the summary file plus the log's unread tail)."""

    phases: Dict[str, PhaseSummary]
    start_time: Optional[float]
    first_time: Optional[float]
    last_time: Optional[float]
    records: int
    torn: bool
    summary_used: bool


def has_history(state: SummaryState, history: Histories = True, trend: bool = False) -> bool:
    """Whether the history (with `trend`: the history or the stored trend) of every metric `history` asks for
    is known in `state` (False after reading a version-1 summary)."""
    for name, p in state.phases.items():
        want = chosen(history, name, p.metrics)
        if want is True:  # every metric (see wants)
            asked = list(p.metrics.values())
        elif want and want in p.metrics:  # that metric
            asked = [p.metrics[want]]
        else:
            continue
        for m in asked:
            if m.samples is None and (not trend or m.trend is None):
                return False
    return True


def state_from_json(data: Any, history: Histories = True, trend: bool = False) -> SummaryState:
    """Parse and validate a summary file's content; ValueError (naming the field) when it is not a valid summary.

    A version-1 summary leaves every history unknown; a version-2 or 3 summary's histories that `history`
    does not ask for (all with False: a table needs none) are neither read nor checked, and are unknown too.
    With `trend`, of each metric asked for that stores its trend only the trend is read and checked (its
    history stays unknown: for a caller that folds in no more records); the others' histories are read.
    """
    version = data.get("runx_metrics_summary") if isinstance(data, dict) else None
    if version not in READ_VERSIONS or type(version) is not int:
        raise ValueError(f"not a version {SUMMARY_VERSION} summary")
    if version < 2:
        history = False
    state = SummaryState(records=_count(data, "records"), skipped=_count(data, "skipped_lines", 0),
                         start_time=_time(data, "start_time"), first_time=_time(data, "first_time"),
                         last_time=_time(data, "last_time"))
    phases = data.get("phases")
    if not isinstance(phases, dict):
        raise ValueError("phases: expected an object")
    for name, p in phases.items():
        if not isinstance(p, dict) or not isinstance(p.get("metrics"), dict):
            raise ValueError(f"phases.{name}: expected an object with metrics")
        first, last = _time(p, "first_time", None, False), _time(p, "last_time", None, False)
        phase = state.phases[name] = PhaseState(_count(p, "count"), _step(p, "last_step"), first, last, {})
        want = chosen(history, name, p["metrics"]) if history else False
        for k, m in p["metrics"].items():
            if not isinstance(m, dict):
                raise ValueError(f"phases.{name}.metrics.{k}: expected an object")
            lo = None if m.get("min") is None else _value(m, "min")
            hi = None if m.get("max") is None else _value(m, "max")
            metric = MetricState(_value(m, "last"), _step(m, "last_step"),
                                 lo, None if lo is None else _step(m, "min_step"),
                                 hi, None if hi is None else _step(m, "max_step"),
                                 _count(m, "count"), 1, None)
            if want and wants(want, k):
                try:
                    if trend and "trend" in m:
                        metric.trend = _trend(m, metric)
                    elif "history" in m or "history_stride" in m:  # neither: unknown (see fold_log)
                        metric.stride, metric.samples = _history(m, metric, version)
                except ValueError as err:
                    raise ValueError(f"phases.{name}.metrics.{k}.{err}") from None
            phase.metrics[k] = metric
    return state


def run_summary(state: SummaryState, torn: bool, summary_used: bool, history: Histories = False,
                trend: bool = False) -> RunSummary:
    """The RunSummary (a metric that was only ever NaN has min and max NaN); the histories `history` asks for,
    or with `trend` their trends instead."""
    phases = {}
    for name, p in state.phases.items():
        want = chosen(history, name, p.metrics) if history else False
        phases[name] = PhaseSummary(p.count, p.last_step, p.first_time, p.last_time, {
            k: MetricSummary(m.last, m.last_step, math.nan if m.min is None else m.min, m.min_step,
                             math.nan if m.max is None else m.max, m.max_step, m.count,
                             *(_asked(m, trend) if want and wants(want, k) else ()))
            for k, m in p.metrics.items()
        })
    return RunSummary(phases, state.start_time, state.first_time, state.last_time, state.records,
                      torn or state.skipped > 0, summary_used)


def _asked(m: MetricState, trend: bool) -> Tuple[Optional[List[Tuple[int, Number]]], Optional[List[Number]]]:
    """(history, None) of a metric asked for, or with `trend` (None, trend): the stored one, else its history's."""
    if not trend:
        return m.history(), None
    if m.trend is not None:
        return None, m.trend
    points = m.history()
    return None, None if points is None else trend_of(points)


def _history(data: dict, m: MetricState, version: int) -> Tuple[int, List[Tuple[int, Number]]]:
    """(stride, samples) of a version-2 or 3 summary's metric, checked against its count and latest value."""
    stride, points = data.get("history_stride"), data.get("history")
    if type(stride) is not int or stride < 1 or stride & (stride - 1):
        raise ValueError(f"history_stride: expected a power of two, got {stride!r:.40}")
    if version >= 3:
        if not isinstance(points, str):
            raise ValueError(f"history: expected the JSON text of a list, got {points!r:.40}")
        try:
            points = json.loads(points)
        except (ValueError, RecursionError):
            raise ValueError(f"history: expected the JSON text of a list, got {points!r:.40}") from None
    if not isinstance(points, list):
        raise ValueError(f"history: expected a list, got {points!r:.40}")
    samples = _points(points)
    if not samples or samples[-1][0] != m.last_step:
        raise ValueError(f"history: expected the latest point (step {m.last_step}) last")
    if (m.count - 1) % stride:
        samples.pop()
    if len(samples) != -(-m.count // stride) or len(samples) > SAMPLES:
        raise ValueError(f"history: {len(points)} points do not fit count {m.count} and stride {stride}")
    return stride, samples


def _trend(data: dict, m: MetricState) -> List[Number]:
    """The stored trend of a metric, checked as its history would be: as many values as its count and stride
    leave the history points (at most TREND_POINTS), each a stored value from min to max, the latest one last."""
    stride, text = data.get("history_stride"), data.get("trend")
    if type(stride) is not int or stride < 1 or stride & (stride - 1):
        raise ValueError(f"history_stride: expected a power of two, got {stride!r:.40}")
    if type(text) is not str:
        raise ValueError(f"trend: expected the JSON text of a list, got {text!r:.40}")
    try:
        values, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):
        end = -1
    if end != len(text) or type(values) is not list:
        raise ValueError(f"trend: expected the JSON text of a list, got {text!r:.40}")
    if not _NUMBERS.issuperset(map(type, values)):  # a value to decode (NaN, infinity) or to reject
        try:
            values = [v if type(v) is float or type(v) is int else decode_value(v) for v in values]
        except ValueError as err:
            raise ValueError(f"trend: {err}") from None
    samples = -(-m.count // stride)
    if not values or samples > SAMPLES or len(values) != min(TREND_POINTS, samples + ((m.count - 1) % stride != 0)):
        raise ValueError(f"trend: {len(values)} values do not fit count {m.count} and stride {stride}")
    last = values[-1]
    if last != m.last and (last == last or m.last == m.last):  # (NaN, as the latest value, equals NaN here)
        raise ValueError(f"trend: expected the latest value {encode_value(m.last)!r} last, got {text!r:.40}")
    try:
        finite = math.isfinite(sum(values))  # the usual case: then no value is NaN
    except OverflowError:  # an int too large for a float beside a float
        finite = False
    real = values if finite else [v for v in values if v == v]
    if real and (m.min is None or m.max is None or min(real) < m.min or max(real) > m.max):
        raise ValueError(f"trend: expected values from min to max, got {text!r:.40}")
    return values


def _points(points: list) -> List[Tuple[int, Number]]:
    """Stored [step, value] points as (step, value), values decoded; ValueError at the first that is not one."""
    try:
        pairs = [(step, value) for step, value in points]
    except (TypeError, ValueError):  # a point that is not a pair
        return [_point(p) for p in points]
    for step, value in pairs:
        # a pair with a whole-number step was a 2-element list: JSON has no tuples and its object keys are strings
        if type(step) is not int or (type(value) is not float and type(value) is not int):
            return [_point(p) for p in points]  # a value to decode (NaN, infinity) or a point to reject
    return pairs


def _point(point: Any) -> Tuple[int, Number]:
    """A history point as stored, [step, value], as (step, value); ValueError when it is not one."""
    if type(point) is list and len(point) == 2:
        step, value = point
        if type(step) is int:
            if type(value) is float or type(value) is int:  # a plain number is a stored value as it is
                return step, value
            try:
                return step, decode_value(value)
            except ValueError as err:
                raise ValueError(f"history: {err}") from None
    raise ValueError(f"history: expected [step, value] pairs, got {point!r:.40}")


def _count(data: dict, key: str, default: Optional[int] = None) -> int:
    value = data.get(key, default)
    if type(value) is not int or value < 0:
        raise ValueError(f"{key}: expected a count, got {value!r:.40}")
    return value


def _step(data: dict, key: str) -> int:
    value = data.get(key)
    if type(value) is not int:
        raise ValueError(f"{key}: expected a whole number, got {value!r:.40}")
    return value


def _time(data: dict, key: str, default: Any = None, optional: bool = True) -> Any:
    value = data.get(key, default)
    if (value is None and optional) or is_time(value):
        return value
    raise ValueError(f"{key}: expected a finite time in seconds, got {value!r:.40}")


def _value(data: dict, key: str) -> Number:
    value = data.get(key)
    if type(value) is float or type(value) is int:  # a plain number is a stored value as it is
        return value
    try:
        return decode_value(value)
    except ValueError as err:
        raise ValueError(f"{key}: {err}") from None


def load_summary(run_dir: str, log_size: int, history: Histories = True,
                 trend: bool = False) -> Optional[Tuple[SummaryState, int]]:
    """(state, log_bytes) from a valid summary of this log that ends on one of its line boundaries, else None.

    Only the histories `history` asks for are read, with `trend` their stored trends instead where the summary
    covers the whole log (so no record is folded in after them) and has them (state_from_json)."""
    raw = read_bytes(os.path.join(run_dir, SUMMARY_FILE))
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        log_bytes = data.get("log_bytes") if isinstance(data, dict) else None
        if type(log_bytes) is not int or not 0 <= log_bytes <= log_size:
            return None
        state = state_from_json(data, history, trend and log_bytes == log_size)
        if 0 < log_bytes < log_size:
            with open(os.path.join(run_dir, METRICS_FILE), "rb") as f:
                f.seek(log_bytes - 1)
                if f.read(1) != b"\n":
                    return None
        return state, log_bytes
    except (OSError, ValueError, RecursionError):
        return None


def fold_log(run_dir: str, history: Histories = False, resume: bool = False,
             trend: bool = False) -> Tuple[SummaryState, ReadResult, bool]:
    """(state, the unread tail as read, whether the summary was used) for a run whose metrics.jsonl exists.

    With `history`, the history of every metric it asks for (True: all) is known in the state, with `trend`
    its history or its stored trend (load_summary): a summary
    without them (version 1) is not used and the whole log is folded. With `resume` (the writer reopening a run) a summary that
    is valid but for its histories is used as readers use it, so no figure a reader showed is lost to
    a damaged log line; each metric's history is then taken from the whole log where the log agrees
    with the summary on its count and latest step, and stays unknown (not written) where it does not.
    OSError (FileNotFoundError without a log) when the log cannot be read.
    """
    log = os.path.join(run_dir, METRICS_FILE)
    size = os.stat(log).st_size
    loaded = load_summary(run_dir, size, history, trend)
    if resume and loaded is None:
        loaded = load_summary(run_dir, size, False)
    if loaded is not None and history and not resume and not has_history(loaded[0], history, trend):
        loaded = None
    state, offset = loaded if loaded is not None else (SummaryState(), 0)
    if offset == size:
        tail = ReadResult([], False, size)
    else:
        tail = read_records(log, offset)
        state.fold_records(tail.records)
        state.skipped += tail.skipped
    if loaded is not None and history and (resume or offset != size) and not has_history(state, history, trend):
        _histories_from_log(state, log)  # (without a tail or `resume`, the check above was this one)
    return state, tail, loaded is not None


def _histories_from_log(state: SummaryState, log: str) -> None:
    """Fill in the unknown histories of `state` from a fold of the whole log, metric by metric, where
    the log agrees with the state on the metric's count and latest step."""
    full = SummaryState()
    full.fold_records(read_records(log).records)
    for name, phase in state.phases.items():
        for key, m in phase.metrics.items():
            other = full.phases[name].metrics.get(key) if name in full.phases else None
            if m.samples is None and other is not None and (other.count, other.last_step) == (m.count, m.last_step):
                m.stride, m.samples = other.stride, other.samples


def summarize(run_dir: str, history: Histories = False, trend: bool = False) -> Optional[RunSummary]:
    """A run's summary: metrics.summary.json plus only the log's tail past it; None without a readable log.

    With `history` (True: every metric, one metric's name, or a function choosing per phase; see Histories),
    the MetricSummary.history of each metric it
    asks for is filled in (from the log when the summary has none); with `trend` its MetricSummary.trend
    instead (the stored one, or its history's: a trend column then decodes 16 values a run).
    """
    try:
        state, tail, used = fold_log(run_dir, history, trend=trend)
    except OSError:
        return None
    return run_summary(state, tail.torn, used, history, trend)
