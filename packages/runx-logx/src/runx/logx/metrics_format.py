"""The runx metrics format (spec: docs/metrics-format.md): its writer and readers, stdlib only.

`metrics.jsonl` is append-only, one JSON object per line: a header, then records
`{"phase", "step", "time", "metrics"}` and session starts `{"event": "start", "time"}`.
Non-finite values are the strings "nan", "inf", "-inf". `metrics.summary.json` beside it is replaced
atomically and says how many bytes of the log it covers, so a reader folds in only the tail.
"""
from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

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
    """`value` as a Python int or float (numpy scalars and 0-d tensors too); LogxError otherwise."""
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
    from runx.logx.errors import LogxError

    raise LogxError(f"metric {name!r}: expected a number, got {type(value).__name__} {value!r:.80}")


def _json_number(value: Number) -> str:
    """A number's JSON text (non-finite floats as strings)."""
    if type(value) is float and value - value != 0:
        return _NON_FINITE_JSON[encode_value(value)]
    return repr(value)


def _to_step(step: Any) -> int:
    """A step as an int (numpy and torch integers too); LogxError for a fractional or non-numeric one."""
    number = to_number(step, "step")
    if isinstance(number, float):
        if not number.is_integer():
            from runx.logx.errors import LogxError

            raise LogxError(f"step {step!r}: expected a whole number")
        number = int(number)
    return number


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


class MetricsWriter:
    """Appends records to metrics.jsonl and keeps metrics.summary.json current.

    A val record reaches the OS (os.write) before write() returns; train records are buffered and
    reach it within FLUSH_SECONDS (checked on each call and by a one-shot timer), and on flush/close.
    """

    FLUSH_SECONDS = 1.0
    SUMMARY_SECONDS = 1.0

    def __init__(self, run_dir: str) -> None:
        self.path = os.path.join(run_dir, METRICS_FILE)
        self.summary_path = os.path.join(run_dir, SUMMARY_FILE)
        self._lock = threading.Lock()
        self._pending: List[bytes] = []
        self._keys: Dict[Any, str] = {}
        self._prefixes: Dict[str, str] = {}
        self._timer: Optional[threading.Timer] = None
        self._pid = os.getpid()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(self._fd).st_size
        if size == 0:
            self.state = SummaryState()
            self._bytes = 0
            self._write_now(json.dumps({"runx_metrics": FORMAT_VERSION, "time": time.time()}) + "\n")
        else:
            self.state, tail, _ = _fold_log(run_dir)
            self._bytes = size
            if tail.end_offset < size:
                self._write_now("\n")  # end a torn last line so the next record starts on its own line
                self.state.skipped += 1
        self._last_flush = self._last_summary = time.time()
        self.start()

    def _write_pending(self) -> None:
        """Send the buffered lines to the OS with one os.write (the caller holds the lock or is alone)."""
        data = b"".join(self._pending)
        self._pending = []
        while data:
            written = os.write(self._fd, data)
            self._bytes += written
            data = data[written:]

    def _write_now(self, text: str) -> None:
        self._pending.append(text.encode("utf-8"))
        self._write_pending()

    def start(self) -> None:
        """Record a session start (each initialize, including a resume)."""
        now = time.time()
        with self._lock:
            self.state.start(now)
            self._write_now('{"event":"start","time":%r}\n' % now)

    def _key(self, name: Any) -> str:
        key = self._keys[name] = json.dumps(str(name)) + ":"
        return key

    def _prefix(self, phase: str) -> str:
        text = self._prefixes[phase] = '{"phase":%s,"step":' % json.dumps(phase)
        return text

    def write(self, phase: str, step: int, metrics: Dict[str, Any], when: Optional[float] = None) -> Dict[str, Number]:
        """Append one record and return its values as Python numbers; LogxError for a non-number."""
        now = time.time() if when is None else when
        if type(step) is not int:
            step = _to_step(step)
        keys = self._keys
        buf = [self._prefixes.get(phase) or self._prefix(phase), repr(step), ',"time":', repr(now), ',"metrics":{']
        values = metrics  # replaced by a converted copy if a value is not a plain int or float
        for name, value in metrics.items():
            kind = type(value)
            if kind is float:
                text = repr(value) if value - value == 0 else _json_number(value)
            elif kind is int:
                text = repr(value)
            else:
                if values is metrics:
                    values = dict(metrics)
                value = values[name] = to_number(value, name)
                text = _json_number(value)
            buf.append(keys.get(name) or self._key(name))
            buf.append(text)
            buf.append(",")
        if metrics:
            buf[-1] = "}}\n"
        else:
            buf.append("}}\n")
        data = "".join(buf).encode()
        with self._lock:
            self.state.add(phase, step, now, values)
            if phase == "val" or now - self._last_flush >= self.FLUSH_SECONDS:
                self._pending.append(data)
                self._write_pending()
                self._last_flush = now
                if now - self._last_summary >= self.SUMMARY_SECONDS:
                    self._write_summary(now)
            else:
                self._pending.append(data)
                if self._timer is None:
                    self._timer = threading.Timer(self.FLUSH_SECONDS, self._timed_flush)
                    self._timer.daemon = True
                    self._timer.start()
        return values

    def _timed_flush(self) -> None:
        with self._lock:
            self._timer = None
            if self._fd >= 0 and self._pending:
                now = time.time()
                self._write_pending()
                self._last_flush = now
                if now - self._last_summary >= self.SUMMARY_SECONDS:
                    self._write_summary(now)

    def flush(self) -> None:
        """Send buffered records to the OS and replace the summary."""
        if os.getpid() != self._pid:
            return  # a forked child must not write its parent's buffered records again
        with self._lock:
            if self._fd >= 0:
                self._write_pending()
                self._write_summary(time.time())

    def _write_summary(self, now: float) -> None:
        tmp = f"{self.summary_path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.state.to_json(self._bytes), f, allow_nan=False)
        os.replace(tmp, self.summary_path)
        self._last_summary = now

    def close(self) -> None:
        """Flush, write the summary and close the log; calling it again does nothing."""
        if self._fd < 0 or os.getpid() != self._pid:
            return
        self.flush()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            os.close(self._fd)
            self._fd = -1
