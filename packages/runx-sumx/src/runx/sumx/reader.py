"""Reading one run directory: its hyperparameters, val metrics at a glance, and status.

The fast path reads `metrics.summary.json` alone when it covers the whole log (the usual case for a
finished run), so the cost per run does not grow with its history. Otherwise (a log that grew past
the summary, no summary, a summary of another version) `runx.logx.metrics_format.summarize` folds
in what the summary lacks. runx 0.0.11's `metrics.csv` is read by `runx.sumx.legacy`.
"""
from __future__ import annotations

import os
from collections import namedtuple
from typing import Any, Dict, Optional, Tuple

from runx.core.status_fold import fold_status, settled_state

# File names fixed by docs/metrics-format.md, version 1 (tests check they match runx.logx's).
# Kept here so the fast path needs no import of runx.logx.
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "metrics.summary.json"
SUMMARY_VERSION = 1
LEGACY_FILE = "metrics.csv"
STATUS_FILE = "status.log"
SEP = os.sep  # paths are joined by hand: os.path.join is a measurable share of a run's cost

NOTE_NO_METRICS = "no metrics yet"
NOTE_NO_VAL = "no val metrics yet"
NOTE_TORN = "torn or corrupt metrics line skipped"
NOTE_NO_SUMMARY = "no valid metrics.summary.json: read the whole log"
NOTE_BAD_HPARAMS = "hparams.json unreadable"

_NAN, _INF = float("nan"), float("inf")  # not from math: its import is a shared library here
_NON_FINITE = {"nan": _NAN, "inf": _INF, "-inf": -_INF}

__all__ = ["Metric", "Run", "load_run", "read_goals", "read_bytes", "read_json", "decode_json"]


class Metric(namedtuple("Metric", "last min max")):
    """A val metric of one run: its last value and its min and max over the run (None if never finite)."""

    __slots__ = ()
    last: Any
    min: Optional[float]
    max: Optional[float]


class Run(namedtuple("Run", "experiment name path hparams metrics epoch epoch_seconds state exit_code notes")):
    """What sumx knows about one run."""

    __slots__ = ()
    experiment: str
    name: str
    path: str
    hparams: Dict[str, Any]
    metrics: Dict[str, Metric]
    epoch: Optional[int]
    epoch_seconds: Optional[float]
    state: Optional[str]
    exit_code: Optional[int]
    notes: Tuple[str, ...]


class Val(namedtuple("Val", "metrics epoch epoch_seconds notes")):
    """The val phase of a metrics file: metrics, last epoch, average seconds per val epoch, notes."""

    __slots__ = ()
    metrics: Dict[str, Metric]
    epoch: Optional[int]
    epoch_seconds: Optional[float]
    notes: Tuple[str, ...]


def read_bytes(path: str) -> Optional[bytes]:
    """A whole small file, or None when it is absent or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunk = os.read(fd, 8192)  # run files are small; a large first buffer costs more than it saves
        if len(chunk) < 8192:  # a short read of a regular file: its end (saves a read per file)
            return chunk
        chunks = [chunk]
        while chunk:
            chunk = os.read(fd, 1 << 20)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


class _JsonContext:
    """The settings json.JSONDecoder hands its C scanner: json.loads' defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": _NAN, "Infinity": _INF, "-Infinity": -_INF}.__getitem__


try:  # json's own C scanner, without importing json: json.decoder imports re, 4 ms of a 50 ms sumx
    from _json import make_scanner as _make_scanner
except ImportError:  # an interpreter without CPython's _json
    _make_scanner = None
_scan = _make_scanner(_JsonContext()) if _make_scanner is not None else None
_WHITESPACE = " \t\n\r"  # JSON's whitespace, as json.decoder skips it


def decode_json(text: str) -> Any:
    """`json.loads(text)` for a str: the same value, or the same error (then from json.loads itself)."""
    if _scan is not None:
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _scan(text, start)
        except Exception:  # no value, or bad syntax: 3.11's scanner can only report it once json is imported
            pass
        else:
            if end == len(text) or not text[end:].strip(_WHITESPACE):
                return value
    import json

    return json.loads(text)


def read_json(path: str) -> Tuple[Optional[dict], bool]:
    """(object, present): the JSON object in `path`, None if absent or not a JSON object."""
    raw = read_bytes(path)
    if raw is None:
        return None, False
    try:
        data = decode_json(raw.decode())
    except (ValueError, RecursionError):
        return None, True
    return (data if isinstance(data, dict) else None), True


_metric = Metric._make


def _number(value: Any) -> Any:
    """A stored metric value as a number ("nan", "inf", "-inf" decoded)."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    return value


def _epoch_seconds(start: Optional[float], last: Optional[float], count: int) -> Optional[float]:
    if start is None or last is None or not count:
        return None
    return max(0.0, (last - start) / count)


def _val_from_summary(run_dir: str) -> Optional[Val]:
    """The fast path: the summary alone, when it is valid and covers every byte of the log."""
    raw = read_bytes(run_dir + SEP + SUMMARY_FILE)
    if raw is None:
        return None
    try:
        data = decode_json(raw.decode())
        if data.get("runx_metrics_summary") != SUMMARY_VERSION:
            return None
        if os.stat(run_dir + SEP + METRICS_FILE).st_size != data["log_bytes"]:
            return None  # the log grew past the summary (or is not the log it summarised)
        phases = data["phases"]
        notes = (NOTE_TORN,) if data.get("skipped_lines") else ()
        val = phases.get("val")
        if val is None:
            train = phases.get("train")
            return Val({}, train and train["last_step"], None, notes + (NOTE_NO_VAL,))
        metrics = {}
        for name, m in val["metrics"].items():
            last, low, high = m["last"], m["min"], m["max"]
            if type(last) is str or type(low) is str or type(high) is str:
                last, low, high = _number(last), _number(low), _number(high)
            metrics[name] = _metric((last, low, high))
        start = data["start_time"] if data["start_time"] is not None else data["first_time"]
        return Val(metrics, val["last_step"], _epoch_seconds(start, val["last_time"], val["count"]), notes)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _val_from_log(run_dir: str) -> Optional[Val]:
    """The slow path through runx.logx: summary (if any) plus the unread tail, or the whole log."""
    from runx.logx.metrics_format import summarize

    summary = summarize(run_dir)
    if summary is None:
        return None
    notes: Tuple[str, ...] = ()
    if summary.torn:
        notes += (NOTE_TORN,)
    if not summary.summary_used and summary.records:
        notes += (NOTE_NO_SUMMARY,)
    val = summary.phases.get("val")
    if val is None:
        train = summary.phases.get("train")
        return Val({}, train and train.last_step, None, notes + (NOTE_NO_VAL,))
    metrics = {
        name: Metric(m.last, None if m.min != m.min else m.min, None if m.max != m.max else m.max)
        for name, m in val.metrics.items()
    }
    start = summary.start_time if summary.start_time is not None else summary.first_time
    return Val(metrics, val.last_step, _epoch_seconds(start, val.last_time, val.count), notes)


def read_val(run_dir: str) -> Optional[Val]:
    """The run's val metrics from whichever metrics file it has; None when it has none."""
    val = _val_from_summary(run_dir)
    if val is None:
        val = _val_from_log(run_dir)
    if val is None:
        from runx.sumx.legacy import read_legacy

        val = read_legacy(run_dir + SEP + LEGACY_FILE)
    return val


def parse_state(text: str) -> Tuple[Optional[str], Optional[int]]:
    """(state, exit code) from status.log text: the last event decides (runx.core.status)."""
    fields = fold_status(text)
    if fields is None:
        return None, None
    return settled_state(fields), fields["exit_code"]  # settled: a local run whose runx or job died unrecorded


def read_status(run_dir: str) -> Tuple[Optional[str], Optional[int]]:
    """(state, exit code) from the run's status record; (None, None) without one (0.0.11 runs)."""
    raw = read_bytes(run_dir + SEP + STATUS_FILE)
    if raw is None:
        return None, None
    return parse_state(raw.decode("utf-8", "replace"))


def read_goals(run_dir: str) -> Dict[str, str]:
    """The experiment's METRICS goals as runx recorded them in the run's run.json (`metric_goals`)."""
    record, _ = read_json(run_dir + SEP + "run.json")
    goals = record.get("metric_goals") if record is not None else None
    if not isinstance(goals, dict):
        return {}
    return {str(k): v for k, v in goals.items() if v in ("min", "max")}


def load_run(experiment: str, exp_dir: str, run_dir: str) -> Optional[Run]:
    """Read one run; problems become notes on the run, never exceptions.

    None when `run_dir` holds none of the files that make a run (hparams.json, run.json, a metrics
    file): then it is a folder of runs, e.g. a tag. run.json is read only without hparams.json.
    """
    notes: Tuple[str, ...] = ()
    hparams, present = read_json(run_dir + SEP + "hparams.json")
    if present and hparams is None:
        notes += (NOTE_BAD_HPARAMS,)
    if not present:
        record, present = read_json(run_dir + SEP + "run.json")
        if record is not None and isinstance(record.get("hparams"), dict):
            hparams = record["hparams"]
    val = read_val(run_dir)
    if val is None:
        if not present:
            return None
        val = Val({}, None, None, (NOTE_NO_METRICS,))
    state, exit_code = read_status(run_dir)
    name = run_dir[len(exp_dir) + 1:] if run_dir.startswith(exp_dir + SEP) else os.path.relpath(run_dir, exp_dir)
    if SEP != "/":
        name = name.replace(SEP, "/")
    return Run(experiment, name, run_dir, hparams or {}, val.metrics, val.epoch, val.epoch_seconds,
               state, exit_code, notes + val.notes)
