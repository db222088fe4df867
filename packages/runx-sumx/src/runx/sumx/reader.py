"""Reading one run directory: its hyperparameters, val metrics at a glance, and status.

Every file name and format comes from runx.logx.rundir: the summary reader
(`runx.logx.rundir.summary.summarize`) uses `metrics.summary.json` alone when it covers the whole log
(the usual case for a finished run), so the cost per run does not grow with its history, and folds
in the log's tail otherwise. runx 0.0.11's `metrics.csv` is read by `runx.sumx.legacy`.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from runx.logx.rundir.codec import Number, read_bytes, read_json
from runx.logx.rundir.layout import HPARAMS_FILE, LEGACY_METRICS_FILE, RUN_FILE, SEARCH_DIR, SUMMARY_FILE
from runx.logx.rundir.status import read_status as read_run_status
from runx.logx.rundir.status import settled_state, submission_abandoned
from runx.logx.rundir.summary import Histories, RunSummary, summarize, trend_of
from runx.sumx.spark import bars

NOTE_NO_METRICS = "no metrics yet"
NOTE_NO_VAL = "no val metrics yet"
PHASES = ("val", "train")
NOTE_TORN = "torn or corrupt metrics line skipped"
NOTE_NO_SUMMARY = f"no valid {SUMMARY_FILE}: read the whole log"
NOTE_BAD_HPARAMS = f"{HPARAMS_FILE} unreadable"

__all__ = ["Metric", "Run", "Val", "load_run", "read_goals", "read_bytes", "read_json", "read_val", "read_status", "settle_interrupted",
           "read_run_notes", "run_name"]


class Metric(NamedTuple):
    """A val metric of one run: its last value and its min and max over the run (None if never finite)."""

    last: Any
    min: Optional[float]
    max: Optional[float]


class Run(NamedTuple):
    """What sumx knows about one run."""

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
    launch: Optional[str] = None
    """The id of the launch that created the run (status.log's `launch=`); None for runs of earlier versions."""
    run_notes: Tuple[str, ...] = ()
    """The user's notes (`runx note`), read only for `sumx --notes`: `TIME text` each."""
    history: Optional[Dict[str, tuple]] = None  # metric -> ((step, value), ...), thinned; only when asked for
    trends: Optional[Dict[str, str]] = None
    """Each trend read, drawn as a sparkline where the run was read (load_run's `trend`: the text table's trend column)."""
    interruption: Optional[str] = None
    """Why a scheduler interrupted the attempt of a run that reads running (no end written after its `interrupted` line)."""


class Val(NamedTuple):
    """One phase of a metrics file (val unless asked otherwise): metrics, last step, average seconds per
    record, notes, and each metric's thinned history when asked for, or its trend (the values of that history
    a sparkline draws: runx.logx.rundir.summary.trend_of)."""

    metrics: Dict[str, Metric]
    epoch: Optional[int]
    epoch_seconds: Optional[float]
    notes: Tuple[str, ...]
    history: Optional[Dict[str, tuple]] = None
    trend: Optional[Dict[str, List[Number]]] = None


def _epoch_seconds(start: Optional[float], last: Optional[float], count: int) -> Optional[float]:
    if start is None or last is None or not count:
        return None
    return max(0.0, (last - start) / count)


def _finite_or_none(value: float) -> Optional[float]:
    return None if value != value else value


def val_of(summary: RunSummary, phase: str = "val", asked: bool = True) -> Val:
    """One phase (val by default) of a run's metrics summary as sumx shows it; with its histories or trends
    unless none was `asked` for."""
    notes: Tuple[str, ...] = ()
    if summary.torn:
        notes += (NOTE_TORN,)
    if not summary.summary_used and summary.records:
        notes += (NOTE_NO_SUMMARY,)
    val = summary.phases.get(phase)
    if val is None:
        other = summary.phases.get("train" if phase == "val" else "val")
        return Val({}, None if other is None else other.last_step, None,
                   notes + (NOTE_NO_VAL if phase == "val" else f"no {phase} metrics yet",))
    metrics = {name: Metric(m.last, _finite_or_none(m.min), _finite_or_none(m.max)) for name, m in val.metrics.items()}
    start = summary.start_time if summary.start_time is not None else summary.first_time
    history = trend = None
    if asked:
        history = {name: tuple(m.history) for name, m in val.metrics.items() if m.history is not None} or None
        trend = {name: m.trend for name, m in val.metrics.items() if m.trend is not None} or None
    return Val(metrics, val.last_step, _epoch_seconds(start, val.last_time, val.count), notes, history, trend)


def read_val(run_dir: str, phase: str = "val", history: Histories = False, trend: bool = False) -> Optional[Val]:
    """The run's metrics of one phase from whichever metrics file it has (with the histories `history`
    asks for: True every metric's, or one metric's name; with `trend` their trends instead); None when it has none."""
    summary = summarize(run_dir, history, trend)
    if summary is not None:
        return val_of(summary, phase, bool(history))
    from runx.sumx.legacy import read_legacy

    val = read_legacy(os.path.join(run_dir, LEGACY_METRICS_FILE), phase, bool(history))
    if trend and val is not None and val.history is not None:
        return val._replace(history=None, trend={k: trend_of(h) for k, h in val.history.items()})
    return val


def read_status(run_dir: str) -> Tuple[Optional[str], Optional[int]]:
    """(state, exit code) from the run's status record; (None, None) without one (0.0.11 runs).

    The state is settled: a local run whose runx process or job script died unrecorded is shown as it ended.
    """
    return _status(run_dir)[:2]


def _status(run_dir: str) -> Tuple[Optional[str], Optional[int], Optional[str], Optional[str]]:
    """(state, exit code, launch id, interruption) from the run's status record (see read_status)."""
    status = read_run_status(run_dir)
    if status is None:
        return None, None, None, None
    if submission_abandoned(status):
        return "failed", None, status.launch, None  # runx stopped before its farm had the run (as runx status shows it)
    return settled_state(status), status.exit_code, status.launch, status.interruption


def settle_interrupted(runs: List[Run]) -> List[Run]:
    """The runs, each that reads running after an `interrupted` line with the state its farm tells (a job the
    scheduler killed at its limit writes no end: it reads timeout or preempted, as in runx status); one
    batched query per farm (runx.core.ledger.settle_interrupted), asked only when there is such a run."""
    waiting = [r.path for r in runs if r.state == "running" and r.interruption is not None]
    if not waiting:
        return runs
    from runx.core.ledger import settle_interrupted as ask_farms

    answers = ask_farms(waiting)
    return [r._replace(state=answers[r.path][0], exit_code=answers[r.path][1], interruption=None) if r.path in answers else r
            for r in runs]


def read_run_notes(run_dir: str) -> Tuple[str, ...]:
    """The run's notes (runx.logx.rundir.notes) as `TIME text` each, oldest first."""
    from runx.logx.rundir.notes import read_notes

    return tuple(f"{n.time} {n.text}" if n.time else n.text for n in read_notes(run_dir))


def read_goals(run_dir: str) -> Dict[str, str]:
    """The experiment's METRICS goals as runx recorded them in the run's run.json (`metric_goals`)."""
    record, _ = read_json(os.path.join(run_dir, RUN_FILE))
    goals = record.get("metric_goals") if isinstance(record, dict) else None
    if not isinstance(goals, dict):
        return {}
    return {str(k): v for k, v in goals.items() if v in ("min", "max")}


@lru_cache(maxsize=64)
def _is_search(exp_dir: str) -> bool:
    """Whether the experiment is an adaptive search (it holds its study), whose runs show their trial."""
    return os.path.isdir(os.path.join(exp_dir, SEARCH_DIR))


def _with_trial(run_dir: str, hparams: Dict[str, Any]) -> Dict[str, Any]:
    """The hyperparameters with the run's trial number first (run.json `sweep.trial`), when it has one."""
    record, _ = read_json(os.path.join(run_dir, RUN_FILE))
    sweep = record.get("sweep") if isinstance(record, dict) else None
    trial = sweep.get("trial") if isinstance(sweep, dict) else None
    if type(trial) is not int or "trial" in hparams:
        return hparams
    return {"trial": trial, **hparams}


def run_name(exp_dir: str, run_dir: str) -> str:
    """The run's name: its path below the experiment, with "/" between folders (os.path.relpath's answer).

    The paths discovery makes (the experiment joined with plain folder names) are cut after the
    experiment's prefix; any other path (a `.` or `..` part, a doubled or trailing separator) goes to relpath.
    """
    prefix = os.path.join(exp_dir, "")
    rest = run_dir[len(prefix):]
    if (os.sep == "/" and run_dir.startswith(prefix) and rest and "/." not in "/" + rest and "//" not in rest
            and not rest.endswith("/")):
        return rest
    return os.path.relpath(run_dir, exp_dir).replace(os.sep, "/")


def load_run(experiment: str, exp_dir: str, run_dir: str, phase: str = "val", history: Histories = False,
             trend: Optional[str] = None) -> Optional[Run]:
    """Read one run (its metrics of `phase`, the histories `history` asks for, or with `trend`, "unicode" or
    "ascii", their trends drawn as sparklines instead: Run.trends); problems become notes on the run, never exceptions.

    None when `run_dir` holds none of the files that make a run (hparams.json, run.json, a metrics
    file): then it is a folder of runs, e.g. a tag. run.json is read only without hparams.json.
    """
    notes: Tuple[str, ...] = ()
    hparams, present = read_json(os.path.join(run_dir, HPARAMS_FILE))
    if not isinstance(hparams, dict):
        if present:
            notes += (NOTE_BAD_HPARAMS,)
        hparams = None
    if not present:
        record, present = read_json(os.path.join(run_dir, RUN_FILE))
        if isinstance(record, dict) and isinstance(record.get("hparams"), dict):
            hparams = record["hparams"]
    val = read_val(run_dir, phase, history, trend is not None)
    if val is None:
        if not present:
            return None
        val = Val({}, None, None, (NOTE_NO_METRICS,))
    state, exit_code, launch, interruption = _status(run_dir)
    if _is_search(exp_dir):
        hparams = _with_trial(run_dir, hparams or {})
    trends = None
    if val.trend is not None:
        trends = {k: bars(v, trend == "ascii") for k, v in val.trend.items()}
    return Run(experiment, run_name(exp_dir, run_dir), run_dir, hparams or {}, val.metrics, val.epoch, val.epoch_seconds,
               state, exit_code, notes + val.notes, launch, history=val.history, trends=trends,
               interruption=interruption if state == "running" else None)
