"""The runx metrics format (spec: docs/metrics-format.md): a writer and readers, stdlib only.

`metrics.jsonl` is append-only, one JSON object per line: a header, then records
`{"phase", "step", "time", "metrics"}` and session starts `{"event": "start", "time"}`.
Non-finite values are the strings "nan", "inf", "-inf". `metrics.summary.json` beside it is replaced
atomically and says how many bytes of the log it covers, so a reader folds in only the tail.
"""
from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Dict, List, NamedTuple, Optional

METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "metrics.summary.json"
FORMAT_VERSION = 1

__all__ = [
    "METRICS_FILE", "SUMMARY_FILE", "FORMAT_VERSION", "encode_value", "decode_value",
    "ReadResult", "read_records", "MetricSummary", "PhaseSummary", "RunSummary", "summarize",
    "SummaryBuilder", "MetricsWriter",
]

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_value(value: float) -> Any:
    """A metric value as JSON: a number, or "nan" / "inf" / "-inf"."""
    if value != value:
        return "nan"
    if value in (math.inf, -math.inf):
        return "inf" if value > 0 else "-inf"
    return value


def decode_value(value: Any) -> float:
    """Inverse of encode_value."""
    if isinstance(value, str):
        return _NON_FINITE[value]
    return value


class ReadResult(NamedTuple):
    """Records read from a log; `torn` when a line did not parse; `end_offset` after the last good line."""

    records: list
    torn: bool
    end_offset: int


def read_records(path: str, offset: int = 0) -> ReadResult:
    """Read every complete record from `offset`; skip (and flag) lines that do not parse."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    records, torn, consumed = [], False, 0
    for line in data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"):
        end = consumed + len(line) + 1
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError
        except ValueError:
            torn = torn or bool(line.strip())
            if end > len(data):  # an unterminated last line: not consumed, a writer may finish it
                break
            consumed = end
            continue
        if end > len(data):
            torn = True  # complete JSON but no newline yet: treat as in flight
            break
        records.append(record)
        consumed = end
    return ReadResult(records, torn, offset + consumed)


class MetricSummary(NamedTuple):
    """Latest, min and max of one metric, with their steps."""

    last: float
    last_step: int
    min: float
    min_step: int
    max: float
    max_step: int
    count: int


class PhaseSummary(NamedTuple):
    """One phase's record count, last step, times and metrics."""

    count: int
    last_step: Optional[int]
    first_time: Optional[float]
    last_time: Optional[float]
    metrics: Dict[str, MetricSummary]


class RunSummary(NamedTuple):
    """A run's metrics at a glance."""

    phases: Dict[str, PhaseSummary]
    start_time: Optional[float]
    first_time: Optional[float]
    last_time: Optional[float]
    records: int
    torn: bool
    summary_used: bool


class SummaryBuilder:
    """Folds records into the summary's plain-JSON form (what metrics.summary.json holds)."""

    def __init__(self, data: Optional[dict] = None) -> None:
        self.data = data or {"runx_metrics_summary": FORMAT_VERSION, "log_bytes": 0, "records": 0,
                             "start_time": None, "first_time": None, "last_time": None, "phases": {}}

    def add(self, record: dict) -> None:
        """Fold one record in."""
        data = self.data
        when = record.get("time")
        if record.get("event") == "start":
            if data["start_time"] is None:
                data["start_time"] = when
            return
        phase = record.get("phase")
        if phase is None:
            return
        data["records"] += 1
        if data["first_time"] is None:
            data["first_time"] = when
        data["last_time"] = when
        p = data["phases"].setdefault(phase, {"count": 0, "last_step": None, "first_time": when, "last_time": when, "metrics": {}})
        p["count"] += 1
        p["last_step"] = step = record.get("step")
        p["last_time"] = when
        for name, raw in (record.get("metrics") or {}).items():
            value = decode_value(raw)
            m = p["metrics"].get(name)
            if m is None:
                p["metrics"][name] = m = {"last": raw, "last_step": step, "min": None, "min_step": None,
                                          "max": None, "max_step": None, "count": 0}
            m["last"], m["last_step"] = raw, step
            m["count"] += 1
            if value == value:
                if m["min"] is None or value < decode_value(m["min"]):
                    m["min"], m["min_step"] = raw, step
                if m["max"] is None or value > decode_value(m["max"]):
                    m["max"], m["max_step"] = raw, step

    def result(self, torn: bool, summary_used: bool) -> RunSummary:
        """The typed RunSummary."""
        d = self.data
        phases = {}
        for name, p in d["phases"].items():
            metrics = {
                k: MetricSummary(
                    decode_value(m["last"]), m["last_step"],
                    math.nan if m["min"] is None else decode_value(m["min"]), m["min_step"],
                    math.nan if m["max"] is None else decode_value(m["max"]), m["max_step"], m["count"])
                for k, m in p["metrics"].items()
            }
            phases[name] = PhaseSummary(p["count"], p["last_step"], p["first_time"], p["last_time"], metrics)
        return RunSummary(phases, d["start_time"], d["first_time"], d["last_time"], d["records"], torn, summary_used)


def _load_summary(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("runx_metrics_summary") != FORMAT_VERSION:
        return None
    return data


def summarize(run_dir: str) -> Optional[RunSummary]:
    """A run's summary from metrics.summary.json plus only the unread tail of metrics.jsonl."""
    log = os.path.join(run_dir, METRICS_FILE)
    try:
        size = os.path.getsize(log)
    except OSError:
        return None
    data = _load_summary(os.path.join(run_dir, SUMMARY_FILE))
    used = data is not None and isinstance(data.get("log_bytes"), int) and 0 <= data["log_bytes"] <= size
    builder = SummaryBuilder(data if used else None)
    offset = builder.data["log_bytes"] if used else 0
    tail = read_records(log, offset)
    for record in tail.records:
        builder.add(record)
    return builder.result(tail.torn, used)


def _fast_number(value: Any, name: str) -> Any:
    if type(value) is float:
        return value if value - value == 0 else encode_value(value)
    if type(value) is int:
        return value
    return _convert(value, name)


def _convert(value: Any, name: str) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return encode_value(float(value)) if isinstance(value, float) else int(value)
    item = getattr(value, "item", None)  # numpy scalars, 0-d torch tensors
    if item is not None:
        try:
            return _fast_number(item(), name)
        except (TypeError, ValueError, RuntimeError):
            pass
    from runx.logx.errors import LogxError

    raise LogxError(f"metric {name!r}: expected a number, got {type(value).__name__} {value!r}")


class MetricsWriter:
    """Appends records to metrics.jsonl; val records reach the OS at once, train ones within ~1 s."""

    FLUSH_SECONDS = 1.0
    SUMMARY_SECONDS = 1.0

    def __init__(self, run_dir: str) -> None:
        self.path = os.path.join(run_dir, METRICS_FILE)
        self.summary_path = os.path.join(run_dir, SUMMARY_FILE)
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._pending: List[bytes] = []
        self._keys: Dict[Any, str] = {}
        self._last_flush = self._last_summary = time.time()
        self._builder = SummaryBuilder()
        if not new:
            size = os.path.getsize(self.path)
            saved = _load_summary(self.summary_path)
            if saved is not None and isinstance(saved.get("log_bytes"), int) and 0 <= saved["log_bytes"] <= size:
                self._builder = SummaryBuilder(saved)
            tail = read_records(self.path, self._builder.data["log_bytes"])
            for record in tail.records:
                self._builder.add(record)
            if tail.end_offset < size:
                os.write(self._fd, b"\n")  # end a torn last line so the next record starts clean
        self._bytes = os.path.getsize(self.path)
        if new:
            self._write_now(json.dumps({"runx_metrics": FORMAT_VERSION, "time": time.time()}) + "\n")
        self.start()

    def _write_now(self, line: str) -> None:
        data = line.encode("utf-8")
        if self._pending:
            data = b"".join(self._pending) + data
            self._pending.clear()
        os.write(self._fd, data)
        self._bytes += len(data)

    def start(self) -> None:
        """Record a session start (each initialize, including a resume)."""
        record = {"event": "start", "time": time.time()}
        self._builder.add(record)
        self._write_now(json.dumps(record) + "\n")

    def write(self, phase: str, step: int, metrics: dict, when: Optional[float] = None) -> None:
        """Append one record; flush now for val, within FLUSH_SECONDS for others."""
        now = time.time() if when is None else when
        values = {k: _fast_number(v, k) for k, v in metrics.items()}
        keys = self._keys
        parts = []
        for k, v in values.items():
            key = keys.get(k)
            if key is None:
                key = keys[k] = json.dumps(str(k))
            parts.append(f"{key}:{json.dumps(v) if type(v) is str else repr(v)}")
        line = f'{{"phase":{json.dumps(phase)},"step":{int(step)},"time":{now!r},"metrics":{{{",".join(parts)}}}}}\n'
        self._builder.add({"phase": phase, "step": int(step), "time": now, "metrics": values})
        if phase == "val" or now - self._last_flush >= self.FLUSH_SECONDS:
            self._write_now(line)
            self._last_flush = now
            if now - self._last_summary >= self.SUMMARY_SECONDS:
                self.write_summary()
        else:
            self._pending.append(line.encode("utf-8"))

    def flush(self) -> None:
        """Send buffered records to the OS and refresh the summary."""
        if self._pending:
            self._write_now("")
        self.write_summary()

    def write_summary(self) -> None:
        """Replace metrics.summary.json atomically with what the log holds so far."""
        if self._pending:
            self._write_now("")
        self._builder.data["log_bytes"] = self._bytes
        tmp = f"{self.summary_path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self._builder.data, f)
        os.replace(tmp, self.summary_path)
        self._last_summary = time.time()

    def close(self) -> None:
        """Flush and close."""
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1
