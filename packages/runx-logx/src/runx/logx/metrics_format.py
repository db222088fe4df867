"""The runx metrics format (spec: docs/metrics-format.md): its writer and readers, stdlib only.

`metrics.jsonl` is append-only, one JSON object per line: a header, then records
`{"phase", "step", "time", "metrics"}` and session starts `{"event": "start", "time"}`.
Non-finite values are the strings "nan", "inf", "-inf". `metrics.summary.json` beside it is replaced
atomically and says how many bytes of the log it covers, so a reader folds in only the tail.
"""
from __future__ import annotations

import itertools
import json
import math
import operator
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "metrics.summary.json"
FORMAT_VERSION = 1

__all__ = [
    "METRICS_FILE", "SUMMARY_FILE", "FORMAT_VERSION", "encode_value", "decode_value", "to_number",
    "ReadResult", "read_records", "MetricSummary", "PhaseSummary", "RunSummary", "summarize",
    "SummaryState", "MetricsWriter",
]

Number = Union[int, float]
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_NON_FINITE_JSON = {"nan": '"nan"', "inf": '"inf"', "-inf": '"-inf"'}


def encode_value(value: Number) -> Union[Number, str]:
    """A metric value as it is stored in JSON: the number, or "nan" / "inf" / "-inf"."""
    if value != value:
        return "nan"
    if value == math.inf:
        return "inf"
    if value == -math.inf:
        return "-inf"
    return value


def decode_value(value: Any) -> Number:
    """The inverse of encode_value; raises ValueError for anything that is not a stored number."""
    if isinstance(value, str):
        try:
            return _NON_FINITE[value]
        except KeyError:
            raise ValueError(f"not a metric value: {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a metric value: {value!r}")
    return value


def to_number(value: Any, name: str) -> Number:
    """`value` as a Python int or float (numpy scalars, 0-d tensors, Fraction, Decimal too); LogxError otherwise."""
    if type(value) is float or type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return float(value) if isinstance(value, float) else int(value)
    item = getattr(value, "item", None)  # numpy scalars, 0-d numpy arrays and torch tensors
    if item is not None:
        try:
            inner = item()
        except (TypeError, ValueError, RuntimeError):
            inner = None
        if isinstance(inner, (int, float)):
            return to_number(inner, name)
    import numbers

    if isinstance(value, numbers.Real) or isinstance(value, numbers.Number) and not isinstance(value, numbers.Complex):
        try:  # fractions.Fraction, decimal.Decimal and other real number types
            return float(value)
        except (TypeError, ValueError, OverflowError):
            pass
    from runx.logx.errors import LogxError

    raise LogxError(f"metric {name!r}: expected a number, got {type(value).__name__} {value!r:.80}")


def _json_number(value: Number) -> str:
    """A number's JSON text (non-finite floats as strings)."""
    if type(value) is float and value - value != 0:
        return _NON_FINITE_JSON[encode_value(value)]
    return repr(value)


def to_step(step: Any) -> int:
    """A step as an int (numpy and torch integers too); LogxError for a fractional or non-numeric one."""
    from runx.logx.errors import LogxError

    try:
        number = to_number(step, "step")
    except LogxError:
        number = None
    if number is None or isinstance(number, float) and not number.is_integer():
        raise LogxError(f"step {step!r:.80}: expected a whole number")
    return int(number)


@dataclass
class ReadResult:
    """What read_records found: complete records, whether any line was torn, where reading stopped."""

    records: List[dict]
    torn: bool
    end_offset: int
    skipped: int = 0
    """Complete lines that did not parse as a JSON object (an unterminated last line is not counted)."""


def read_records(path: str, offset: int = 0) -> ReadResult:
    """Every complete record from byte `offset` on; lines that do not parse are skipped and flagged."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    records: List[dict] = []
    torn = False
    skipped = 0
    end = data.rfind(b"\n") + 1  # bytes up to the last complete line
    if end < len(data):
        torn = True  # an unterminated last line: in flight or torn; a writer may still finish it
    for line in data[:end].split(b"\n")[:-1]:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            records.append(record)
        else:
            torn = True
            skipped += 1
    return ReadResult(records, torn, offset + end, skipped)


@dataclass
class MetricSummary:
    """One metric in one phase: latest value, min and max (NaN ignored) with their steps, count."""

    last: Number
    last_step: Optional[int]
    min: Number
    min_step: Optional[int]
    max: Number
    max_step: Optional[int]
    count: int


@dataclass
class PhaseSummary:
    """One phase: how many records, the last step, first and last record times, each metric."""

    count: int
    last_step: Optional[int]
    first_time: Optional[float]
    last_time: Optional[float]
    metrics: Dict[str, MetricSummary] = field(default_factory=dict)


@dataclass
class RunSummary:
    """A run's metrics at a glance (from the summary file plus the log's unread tail)."""

    phases: Dict[str, PhaseSummary]
    start_time: Optional[float]
    first_time: Optional[float]
    last_time: Optional[float]
    records: int
    torn: bool
    summary_used: bool


class SummaryState:
    """The running fold of a log into a summary; the same fold serves the writer and the readers.

    Per phase it keeps [count, last_step, first_time, last_time, metrics], per metric
    [last, last_step, min, min_step, max, max_step, count] with raw Python numbers.
    """

    __slots__ = ("phases", "records", "start_time", "first_time", "last_time", "skipped")

    def __init__(self) -> None:
        self.phases: Dict[str, list] = {}
        self.records = 0
        self.start_time: Optional[float] = None
        self.first_time: Optional[float] = None
        self.last_time: Optional[float] = None
        self.skipped = 0

    def start(self, when: float) -> None:
        """Fold in a session start."""
        if self.start_time is None:
            self.start_time = when

    def add(self, phase: str, step: int, when: float, values: Dict[str, Number]) -> None:
        """Fold in one record whose values are already Python numbers."""
        self.records += 1
        if self.first_time is None:
            self.first_time = when
        self.last_time = when
        p = self.phases.get(phase)
        if p is None:
            p = self.phases[phase] = [0, step, when, when, {}]
        p[0] += 1
        p[1] = step
        p[3] = when
        metrics = p[4]
        for name, value in values.items():
            m = metrics.get(name)
            if m is None:
                if value == value:
                    metrics[name] = [value, step, value, step, value, step, 1]
                else:
                    metrics[name] = [value, step, None, None, None, None, 1]
                continue
            m[0] = value
            m[1] = step
            m[6] += 1
            lo = m[2]
            if lo is None:
                if value == value:
                    m[2] = m[4] = value
                    m[3] = m[5] = step
            elif value < lo:
                m[2] = value
                m[3] = step
            elif value > m[4]:
                m[4] = value
                m[5] = step

    def add_batch(self, phase: str, names: tuple, rows: List[tuple], first_time: float, last_time: float,
                  start: int = 1) -> None:
        """Fold in consecutive records of one phase that share metric `names`, in order.

        Each row is (step, ...) with metric i at index start + i. The same result as add() per record,
        with min and max taken per column; it does not count `records` or set the run's first and
        last time.
        """
        count = len(rows)
        last_step = rows[-1][0]
        p = self.phases.get(phase)
        if p is None:
            p = self.phases[phase] = [0, rows[0][0], first_time, first_time, {}]
        p[0] += count
        p[1] = last_step
        p[3] = last_time
        metrics = p[4]
        for index, name in enumerate(names, start):
            column = list(map(operator.itemgetter(index), rows))
            try:
                total = sum(column)
            except OverflowError:
                total = math.inf
            real = column if total - total == 0 else [v for v in column if v == v]
            m = metrics.get(name)
            if m is None:
                m = metrics[name] = [column[-1], last_step, None, None, None, None, count]
            else:
                m[0] = column[-1]
                m[1] = last_step
                m[6] += count
            if not real:
                continue
            lo, hi = min(real), max(real)
            if m[2] is None or lo < m[2]:
                m[2] = lo
                m[3] = rows[column.index(lo)][0]
            if m[4] is None or hi > m[4]:
                m[4] = hi
                m[5] = rows[column.index(hi)][0]

    def add_record(self, record: dict) -> None:
        """Fold in one record as read from the log; unknown or malformed objects are ignored."""
        when = record.get("time")
        if not isinstance(when, (int, float)) or isinstance(when, bool):
            return
        if record.get("event") == "start":
            self.start(when)
            return
        phase, step, metrics = record.get("phase"), record.get("step"), record.get("metrics")
        if not isinstance(phase, str) or not isinstance(step, int) or isinstance(step, bool) or not isinstance(metrics, dict):
            return
        try:
            values = {str(k): decode_value(v) for k, v in metrics.items()}
        except ValueError:
            return
        self.add(phase, step, when, values)

    def to_json(self, log_bytes: int) -> dict:
        """The summary file's content, covering the first `log_bytes` bytes of the log."""
        enc = encode_value
        phases = {}
        for name, (count, last_step, first, last, metrics) in self.phases.items():
            phases[name] = {
                "count": count, "last_step": last_step, "first_time": first, "last_time": last,
                "metrics": {
                    k: {"last": enc(m[0]), "last_step": m[1],
                        "min": None if m[2] is None else enc(m[2]), "min_step": m[3],
                        "max": None if m[4] is None else enc(m[4]), "max_step": m[5], "count": m[6]}
                    for k, m in metrics.items()
                },
            }
        return {"runx_metrics_summary": FORMAT_VERSION, "log_bytes": log_bytes, "records": self.records,
                "skipped_lines": self.skipped, "start_time": self.start_time, "first_time": self.first_time,
                "last_time": self.last_time, "phases": phases}

    @classmethod
    def from_json(cls, data: Any) -> "SummaryState":
        """Parse a summary file's content; ValueError when it is not a valid version-1 summary."""
        try:
            if data.get("runx_metrics_summary") != FORMAT_VERSION:
                raise ValueError("not a version 1 summary")
            state = cls()
            state.records = int(data["records"])
            state.skipped = int(data.get("skipped_lines", 0))
            state.start_time, state.first_time, state.last_time = data["start_time"], data["first_time"], data["last_time"]
            for name, p in data["phases"].items():
                metrics = {}
                for k, m in p["metrics"].items():
                    lo = None if m["min"] is None else decode_value(m["min"])
                    hi = None if m["max"] is None else decode_value(m["max"])
                    metrics[k] = [decode_value(m["last"]), m["last_step"], lo, m["min_step"], hi, m["max_step"], int(m["count"])]
                state.phases[name] = [int(p["count"]), p["last_step"], p["first_time"], p["last_time"], metrics]
        except (AttributeError, KeyError, TypeError) as err:
            raise ValueError(f"malformed summary: {err}") from None
        return state

    def result(self, torn: bool, summary_used: bool) -> RunSummary:
        """The typed RunSummary (a metric that was only ever NaN has min and max NaN)."""
        phases = {}
        for name, (count, last_step, first, last, metrics) in self.phases.items():
            phases[name] = PhaseSummary(count, last_step, first, last, {
                k: MetricSummary(m[0], m[1], math.nan if m[2] is None else m[2], m[3],
                                 math.nan if m[4] is None else m[4], m[5], m[6])
                for k, m in metrics.items()
            })
        return RunSummary(phases, self.start_time, self.first_time, self.last_time, self.records,
                          torn or self.skipped > 0, summary_used)


def _load_summary(run_dir: str, log_size: int) -> Optional[tuple]:
    """(state, log_bytes) from a valid summary file that ends on a line boundary of the log, else None."""
    try:
        with open(os.path.join(run_dir, SUMMARY_FILE), "rb") as f:
            data = json.loads(f.read())
        log_bytes = data["log_bytes"]
        if not isinstance(log_bytes, int) or not 0 <= log_bytes <= log_size:
            return None
        if log_bytes:
            with open(os.path.join(run_dir, METRICS_FILE), "rb") as f:
                f.seek(log_bytes - 1)
                if f.read(1) != b"\n":
                    return None
        return SummaryState.from_json(data), log_bytes
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _fold_log(run_dir: str) -> tuple:
    """(state, ReadResult of the unread tail, summary_used) for a run whose metrics.jsonl exists."""
    log = os.path.join(run_dir, METRICS_FILE)
    loaded = _load_summary(run_dir, os.path.getsize(log))
    state, offset = loaded if loaded is not None else (SummaryState(), 0)
    tail = read_records(log, offset)
    for record in tail.records:
        state.add_record(record)
    state.skipped += tail.skipped
    return state, tail, loaded is not None


def summarize(run_dir: str) -> Optional[RunSummary]:
    """A run's summary: metrics.summary.json plus only the log's tail past it; None without a log."""
    try:
        state, tail, used = _fold_log(run_dir)
    except FileNotFoundError:
        return None
    return state.result(tail.torn, used)


class _Shape:
    """One record shape, (phase, metric names): the JSON text around its values, built once."""

    __slots__ = ("phase", "names", "count", "values_of", "keys", "prefix", "template")

    def __init__(self, phase: str, names: tuple) -> None:
        self.phase = phase
        self.names = tuple(str(n) for n in names)
        if len(set(self.names)) < len(names):
            seen: Dict[str, Any] = {}
            for name, text in zip(names, self.names):
                if text in seen:
                    from runx.logx.errors import LogxError

                    raise LogxError(f"metrics {seen[text]!r} and {name!r} would both be stored as {text!r}")
                seen[text] = name
        self.count = len(names)
        # metrics dict -> its values in this shape's order; KeyError when one is missing
        if len(names) == 1:
            name = names[0]
            self.values_of: Callable[[Dict[Any, Any]], tuple] = lambda metrics: (metrics[name],)
        elif names:
            self.values_of = operator.itemgetter(*names)
        else:
            self.values_of = lambda metrics: ()
        self.keys = [json.dumps(n) + ":" for n in self.names]
        self.prefix = '{"phase":%s,"step":' % json.dumps(phase)
        # For plain finite values only: %r is then int.__repr__ or float.__repr__. %s is the time.
        body = ",".join(k.replace("%", "%%") + "%r" for k in self.keys)
        text = self.prefix.replace("%", "%%") + '%d,"time":%s,"metrics":{' + body + "}}\n"
        self.template = text.encode("ascii")  # json.dumps escapes every non-ASCII character


_NO_SHAPE = _Shape("", ())
_NO_SHAPE.count = -1  # matches no metrics dict


def _now_ms() -> int:
    return time.time_ns() // 1000000


def _stamp(ms: int) -> bytes:
    """A clock reading in ms as the JSON number of seconds it is, e.g. b"1732796460.125"."""
    return b"%d.%03d" % divmod(ms, 1000)


_PLAIN = frozenset((int, float))
_LONG_AGO = -(2 ** 62)  # a clock reading in ms before any other
# A record: (line, phase, metric names, (step, time text, *values)), atomic values only, so the
# garbage collector soon stops tracking it.
_LINE, _PHASE, _NAMES, _ARGS = range(4)
_line_of = operator.itemgetter(_LINE)
_phase_of = operator.itemgetter(_PHASE)
_shape_of = operator.itemgetter(_PHASE, _NAMES)
_args_of = operator.itemgetter(_ARGS)


def _event_record(line: bytes) -> tuple:
    """A line of the log that is not a metrics record (the header, a start event), queued like one."""
    return (line, None, None, None)


def _record_time(record: tuple) -> float:
    return float(record[_ARGS][1])


class MetricsWriter:
    """Appends records to metrics.jsonl and keeps metrics.summary.json current.

    A val record reaches the OS (os.write) before write() returns; train records are buffered and
    reach it within FLUSH_SECONDS (checked on each call and by a one-shot timer), and on flush/close.
    Records carry the writer's clock in whole milliseconds.

    Buffering a record takes no lock: the queue is one list, only ever appended to, and whoever
    writes it (holding the lock) removes just the records it wrote. Written records wait in `_vals`
    (val) and `_rows` (the rest) to be folded into the summary state in batches, per phase and
    record shape with min and max per column, once FOLD_ROWS have piled up (a batch that fits in the
    CPU cache) and before each summary.
    """

    FLUSH_SECONDS = 1.0
    SUMMARY_SECONDS = 1.0
    FOLD_ROWS = 1000
    MAX_UNWRITTEN = 100_000
    """Records kept in memory while the log cannot be written (disk full); beyond that write() raises."""

    def __init__(self, run_dir: str) -> None:
        self.path = os.path.join(run_dir, METRICS_FILE)
        self.summary_path = os.path.join(run_dir, SUMMARY_FILE)
        self._lock = threading.Lock()
        self._queue: List[tuple] = []  # records not written yet
        self._rows: List[tuple] = []  # written, not folded yet: all but val records
        self._vals: List[tuple] = []  # written, not folded yet: val records
        self._last: Optional[tuple] = None  # the last record this writer wrote
        self._unwritten: List[tuple] = []  # records a failed write left out, in order: written before any other
        self._torn = 0  # bytes of a partial line at the log's end (a write that failed midway), not in _bytes
        self._failure: Optional[str] = None  # why writing the log fails, while it does
        self._summary_failure: Optional[str] = None
        self._shapes: Dict[tuple, _Shape] = {}
        self._current: Dict[str, _Shape] = {}  # each phase's latest shape
        self._timer: Optional[threading.Timer] = None
        self._pid = os.getpid()
        self._flush_ms = int(self.FLUSH_SECONDS * 1000)
        self._summary_ms = int(self.SUMMARY_SECONDS * 1000)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(self._fd).st_size
        now = _now_ms()
        self._clock = (now, _stamp(now))  # the last clock reading and its text, read and replaced as one
        if size == 0:
            self._state = SummaryState()
            self._bytes = 0
            self._emit([_event_record(b'{"runx_metrics":%d,"time":%s}\n' % (FORMAT_VERSION, _stamp(now)))])
        else:
            self._state, tail, _ = _fold_log(run_dir)
            self._bytes = tail.end_offset
            self._torn = size - tail.end_offset  # the next write ends that line first, so records start on their own
        self._flushed = now
        self._summarized = _LONG_AGO  # so the first write writes a summary, which folds just that write's records
        with self._lock:
            self._state.start(now / 1000)
            self._emit([_event_record(b'{"event":"start","time":%s}\n' % _stamp(now))])

    @property
    def state(self) -> SummaryState:
        """The summary of every record written so far."""
        with self._lock:
            self._fold()
            return self._state

    def write(self, phase: str, step: int, metrics: Dict[str, Any], when: Optional[float] = None) -> Dict[str, Number]:
        """Append one record and return its values as Python numbers; LogxError for a non-number.

        While the log cannot be written (disk full), records wait in memory and every write tries
        again; once MAX_UNWRITTEN wait, LogxError refuses the record rather than drop one later.
        """
        if self._failure is not None:
            self._retry_or_refuse()
        shape = self._current.get(phase, _NO_SHAPE)
        try:
            values = shape.values_of(metrics)
        except KeyError:
            shape = _NO_SHAPE
        if len(metrics) != shape.count:
            shape = self._shape(phase, metrics)
            values = shape.values_of(metrics)
        try:
            plain = (when is None and type(step) is int and _PLAIN.issuperset(map(type, values))
                     and not sum(values) * 0)  # NaN or ±inf: x * 0 is NaN
        except OverflowError:  # an int too large for a float
            plain = False
        if plain:
            now = time.time_ns() // 1000000
            clock = self._clock
            if clock[0] != now:
                clock = self._clock = (now, _stamp(now))
            args = (step, clock[1]) + values
            record = (shape.template % args, phase, shape.names, args)
        else:
            record, now, metrics = self._other_record(shape, step, metrics, when)
        if phase == "val":
            lock = self._lock
            lock.acquire()
            try:
                queue = self._queue
                if queue:  # buffered records go first
                    count = len(queue)  # records that other threads append from here on wait for the next write
                    written = queue[:count]
                    del queue[:count]
                    data = b"".join(map(_line_of, written)) + record[_LINE]
                else:
                    written = None
                    data = record[_LINE]
                if self._unwritten or self._torn:
                    self._emit((written or []) + [record])
                else:
                    try:
                        count = os.write(self._fd, data)  # _emit, inline: this is the hot path
                    except OSError as err:
                        self._failed((written or []) + [record], 0, err)
                    else:
                        if count < len(data):
                            self._emit((written or []) + [record], count)
                        else:
                            self._bytes += count
                            if written:
                                self._rows += written
                            self._vals.append(record)
                            self._last = record
                self._flushed = now
                if now - self._summarized >= self._summary_ms or len(self._vals) + len(self._rows) >= self.FOLD_ROWS:
                    self._summarize_or_fold()
            finally:
                lock.release()
        else:
            self._queue.append(record)  # no lock: see the class docstring
            if now - self._flushed >= self._flush_ms:
                self._write_queue(now)
            elif self._timer is None:
                self._start_timer()
        return metrics

    def _shape(self, phase: str, metrics: Dict[Any, Any]) -> _Shape:
        """The shape of a record with these metric names (in their order), now the phase's latest."""
        key = (phase, *metrics)
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) >= 1024:
                self._shapes.clear()  # a caller whose metric names keep changing
            shape = self._shapes[key] = _Shape(phase, tuple(metrics))
        self._current[phase] = shape
        return shape

    def _other_record(self, shape: _Shape, step: Any, metrics: Dict[str, Any], when: Optional[float]) -> tuple:
        """(record, clock, values as Python numbers) for what write()'s fast path does not take.

        That is values that are not all plain finite ints and floats, a step that is not an int, or
        a given time. LogxError for a non-number.
        """
        if type(step) is not int:
            step = to_step(step)
        converted = {name: to_number(value, name) for name, value in metrics.items()}
        values = shape.values_of(converted)
        clock = _now_ms()
        stamp = _stamp(clock).decode() if when is None else repr(float(when))
        body = ",".join([key + _json_number(value) for key, value in zip(shape.keys, values)])
        line = ('%s%d,"time":%s,"metrics":{%s}}\n' % (shape.prefix, step, stamp, body)).encode("ascii")
        return (line, shape.phase, shape.names, (step, stamp, *values)), clock, converted

    def _start_timer(self) -> None:
        with self._lock:
            if self._timer is None and self._fd >= 0:
                self._timer = threading.Timer(self.FLUSH_SECONDS, self._timed_flush)
                self._timer.daemon = True
                self._timer.start()

    def _write_queue(self, now: int) -> None:
        """Write the queued records with one os.write; then the summary if it is due, or a fold."""
        with self._lock:
            queue = self._queue
            count = len(queue)  # records that other threads append from here on wait for the next write
            if self._fd < 0 or not (count or self._unwritten):
                return
            written = queue[:count]
            del queue[:count]
            if self._unwritten or self._torn:
                self._emit(written)
            else:  # _emit, inline: every train record passes here
                data = b"".join(map(_line_of, written))
                try:
                    done = os.write(self._fd, data)
                except OSError as err:
                    self._failed(written, 0, err)
                else:
                    if done < len(data):
                        self._emit(written, done)
                    else:
                        self._bytes += done
                        self._rows += written
                        self._last = written[-1]
            self._flushed = now
            if now - self._summarized >= self._summary_ms or len(self._vals) + len(self._rows) >= self.FOLD_ROWS:
                self._summarize_or_fold()

    def _emit(self, records: List[tuple], done: int = 0) -> bool:
        """Write the unwritten records, then `records`, each whole on a line of its own (the lock is held).

        `done` bytes of them (from the end of any torn line on) are out already. On an OSError the
        records not completely written stay unwritten, to be written first next time, and one
        warning is printed until a write succeeds again; returns whether everything is out.
        """
        pending = self._unwritten + records if self._unwritten else records
        if not pending and not self._torn:
            return True
        data = (b"\n" if self._torn else b"") + b"".join(map(_line_of, pending))
        try:
            while done < len(data):
                done += os.write(self._fd, data[done:] if done else data)
        except OSError as err:
            self._failed(pending, done, err)
            return False
        self._wrote(pending, done)
        if self._failure is not None:
            print(f"logx: {self.path} is writable again; every record that waited is written", file=sys.stderr)
            self._failure = None
        return True

    def _failed(self, pending: List[tuple], done: int, err: OSError) -> None:
        """Keep what a failed write left out; warn once (the lock is held)."""
        self._wrote(pending, done)
        if self._failure is None:
            self._failure = err.strerror or str(err)
            print(f"logx: cannot write {self.path} ({self._failure}); {len(self._unwritten)} record(s) wait in memory "
                  f"and are retried on each write; logging raises once {self.MAX_UNWRITTEN} wait", file=sys.stderr)

    def _wrote(self, pending: List[tuple], done: int) -> None:
        """Account for the first `done` bytes of a write of `pending` (after a newline ending a torn line)."""
        if self._torn:
            if not done:
                self._unwritten = list(pending)
                return
            self._bytes += self._torn + 1  # the torn line, now ended, is a line readers skip
            self._torn = 0
            self._state.skipped += 1
            done -= 1
        count = 0
        for record in pending:
            size = len(record[_LINE])
            if done < size:
                break
            done -= size
            count += 1
            phase = record[_PHASE]
            if phase is None:  # an event line, not a record
                continue
            if phase == "val":
                self._vals.append(record)
            else:
                self._rows.append(record)
            self._last = record
        self._bytes += sum(len(record[_LINE]) for record in pending[:count])
        self._torn = done  # a record that got out in part is written again, whole, on the next line
        self._unwritten = pending[count:] if count < len(pending) else []

    def _retry_or_refuse(self) -> None:
        """While the log fails: try to write what waits; refuse a new record once MAX_UNWRITTEN wait."""
        with self._lock:
            if self._fd < 0 or self._emit([]):
                return
            waiting = len(self._unwritten) + len(self._queue)
            if waiting >= self.MAX_UNWRITTEN:
                from runx.logx.errors import LogxError

                raise LogxError(f"cannot write {self.path} ({self._failure}): {waiting} records wait in memory; "
                                "this one is refused so that none is dropped (free some space)")

    def _summarize_or_fold(self) -> None:
        """Replace the summary if it is due, else fold what was written (the lock is held)."""
        if self._flushed - self._summarized >= self._summary_ms:
            self._write_summary()
        else:
            self._fold()

    def _fold(self) -> None:
        """Fold the written records into the state, each phase's in order (the lock is held)."""
        rows, vals = self._rows, self._vals
        if not rows and not vals:
            return
        self._rows, self._vals = [], []
        state = self._state
        state.records += len(rows) + len(vals)
        if state.first_time is None:  # the first fold follows the log's first write, queue then val record
            state.first_time = _record_time(rows[0] if rows else vals[0])
        state.last_time = _record_time(self._last)
        rows.sort(key=_phase_of)  # stable: each phase's records keep their order
        for batch in (rows, vals):
            for (phase, names), run in itertools.groupby(batch, key=_shape_of):
                args = list(map(_args_of, run))
                state.add_batch(phase, names, args, float(args[0][1]), float(args[-1][1]), start=2)

    def _timed_flush(self) -> None:
        self._timer = None  # before the queue is looked at: a record queued after this arms a new timer
        self._write_queue(_now_ms())

    def flush(self) -> None:
        """Send buffered records to the OS and replace the summary."""
        if os.getpid() != self._pid or self._fd < 0:
            return  # a forked child must not write its parent's buffered records again
        self._write_queue(_now_ms())
        with self._lock:
            if self._fd >= 0:
                self._write_summary()

    def _write_summary(self) -> None:
        """Replace the summary file (the lock is held); on a full disk the old one stays (it claims less)."""
        self._fold()
        tmp = f"{self.summary_path}.tmp{os.getpid()}"
        self._summarized = _now_ms()
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self._state.to_json(self._bytes), f, allow_nan=False)
            os.replace(tmp, self.summary_path)
        except OSError as err:
            try:
                os.remove(tmp)
            except OSError:
                pass
            if self._summary_failure is None:
                self._summary_failure = err.strerror or str(err)
                print(f"logx: cannot write {self.summary_path} ({self._summary_failure}); readers fold the log "
                      "instead until it is written again", file=sys.stderr)
            return
        self._summary_failure = None

    def abandon(self) -> None:
        """In a forked child: drop the parent's queued records and close this copy of the log, writing nothing.

        No lock is taken: a thread of the parent may have held it at the fork, and it is gone.
        """
        self._queue, self._rows, self._vals, self._unwritten = [], [], [], []
        self._timer = None
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def close(self) -> None:
        """Flush, write the summary and close the log; calling it again does nothing. Never raises OSError.

        Records that a full disk still keeps out of the log are lost only here, with a warning.
        """
        if self._fd < 0 or os.getpid() != self._pid:
            return
        self.flush()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            lost = len(self._unwritten) + len(self._queue)
            if lost:
                print(f"logx: closing {self.path} with {lost} record(s) still unwritten ({self._failure})", file=sys.stderr)
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = -1
