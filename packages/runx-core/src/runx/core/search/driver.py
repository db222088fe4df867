"""The foreground driver of an adaptive search: ask a trial, create its run (plan -> stage -> farm, as
every run), poll the farm once per round for all runs in flight, report each run's val metric to the
pruner, prune, tell the study how each run ended; until SWEEP.trials runs have been launched and ended.

Crash-safe by construction: a trial is asked (the study's journal) before its run is created, its run
says its trial number (run.json `sweep.trial`), and a run is told only once it has ended. A driver
started with --resume matches trials to runs: runs that ended meanwhile are told, live ones watched,
a trial asked but never given a run gets one, a run created but never handed to the farm is handed over.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, TextIO

from runx.core.config import Settings
from runx.core.errors import RunxError
from runx.core.farms import Farm
from runx.core.farms.local.pool import interrupted_by_hangup_and_term
from runx.core.ledger import LedgerEntry, find_runs
from runx.core.plan import Job, job_for, plan_runs
from runx.core.runfiles import RUN_FILE
from runx.core.search.options import SearchOptions
from runx.core.search.space import SearchSpace, combination_for
from runx.core.search.study import STUDY_DIR, Study
from runx.core.staging import git_state, staging_state
from runx.core.status import read_status, record_event
from runx.core.text import printable
from runx.logx.rundir.codec import decode_value
from runx.logx.rundir.layout import CODE_DIR, METRICS_FILE, PRUNED_FILE
from runx.logx.rundir.records import read_records
from runx.logx.rundir.status import RunStatus, settled_state, submission_abandoned
from runx.logx.rundir.summary import summarize

__all__ = ["Driver", "search_lock", "trial_runs", "ABANDONED_AFTER"]

LOCK_FILE = "driver.lock"
ABANDONED_AFTER = 5.0
"""Seconds after its `queued` line a run that never started, whose runx is gone, counts as never handed over."""
_OPEN = ("queued", "running")


class Trial:
    """A trial with a run in flight: its run directory and record, and what the driver knows of it."""

    def __init__(self, number: int, params: Dict[str, Any], run_dir: Path, record: dict,
                 last_step: Optional[int] = None) -> None:
        self.number = number
        self.params = params
        self.run_dir = run_dir
        self.record = record
        self.last_step = last_step
        self.log_offset = 0
        self.pruned_at: Optional[float] = None
        self.started = False


@contextmanager
def search_lock(exp_dir: Path) -> Iterator[None]:
    """One driver per experiment: hold `.search/driver.lock`, or RunxError naming the one that holds it."""
    folder = exp_dir / STUDY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (11, 13):  # EAGAIN, EACCES: held; anything else: a file system without locks
                sys.stderr.write(f"runx: warning: cannot lock {path}: {error.strerror}; run one driver at a time\n")
            else:
                raise RunxError(f"{exp_dir}: another runx is driving this search (lock: {path}); "
                                "wait for it, or stop it and run --resume") from None
        yield
    finally:
        os.close(fd)


def _load(run_dir: Path) -> dict:
    try:
        record = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def trial_runs(exp_dir: Path) -> Dict[int, tuple]:
    """trial number -> (run_dir, run.json) of every completely created run of the experiment's search."""
    found: Dict[int, tuple] = {}
    if not exp_dir.is_dir():
        return found
    for run_dir in find_runs(exp_dir):
        if staging_state(run_dir) is not None:
            continue  # the runx creating it died first: not a run
        record = _load(run_dir)
        sweep = record.get("sweep")
        trial = sweep.get("trial") if isinstance(sweep, dict) and sweep.get("method") == "tpe" else None
        if isinstance(trial, int) and not isinstance(trial, bool):
            found[trial] = (run_dir, record)
    return found


def _state(status: Optional[RunStatus]) -> str:
    if status is None:
        return "unknown"
    return "queued" if status.state == "submitted" else status.state


def _never_handed_over(status: Optional[RunStatus]) -> bool:
    """Whether a run is queued, never submitted nor started, and the runx that created it is gone."""
    if status is None or status.state != "queued" or status.started is not None or status.job_id:
        return False
    return settled_state(status) == "cancelled" or submission_abandoned(status)


def _abandoned(run_dir: Path) -> bool:
    """A run whose runx died between creating it and handing it to the farm: still not started
    ABANDONED_AFTER seconds after its `queued` line (a job that was handed over says so sooner)."""
    status = read_status(run_dir)
    while _never_handed_over(status):
        assert status is not None
        if time.time() - (status.queued or 0) >= ABANDONED_AFTER:
            return True
        time.sleep(0.2)
        status = read_status(run_dir)
    return False


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Driver:
    """Runs one search to its budget; `run()` returns the exit status."""

    def __init__(self, settings: Settings, options: SearchOptions, space: SearchSpace, study: Study, farm: Farm,
                 tag: Optional[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.settings = settings
        self.options = options
        self.space = space
        self.study = study
        self.farm = farm
        self.tag = tag
        self.out = out
        self.err = err
        self.exp_dir = settings.logroot / settings.experiment
        self.source = Path.cwd()
        self.flight: List[Trial] = []
        self.launched = 0
        self.counts = {"complete": 0, "pruned": 0, "failed": 0}
        self.best: Optional[tuple] = None  # (value, number, run name)
        self.queries = 0
        self._code: Optional[Path] = None
        self._git: Any = None
        self.poll = options.poll if options.poll is not None else farm.poll_seconds

    # ---- output -----------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.out.write(printable(text) + "\n")
        self.out.flush()

    def progress(self) -> None:
        c = self.counts
        best = ""
        if self.best is not None:
            best = f"; best {self.options.metric} {self.best[0]:.6g} (trial {self.best[1]}, {self.best[2]})"
        self.say(f"[search] {sum(c.values())}/{self.options.trials} done: {c['complete']} complete, {c['pruned']} pruned, "
                 f"{c['failed']} failed; {len(self.flight)} running{best}")

    # ---- launching --------------------------------------------------------------------------------

    def _job(self, number: int, params: Dict[str, Any], run_dir: Optional[Path] = None) -> tuple:
        plan = plan_runs(self.settings, [combination_for(self.space, params, number)], tag=self.tag)
        return plan, (job_for(plan, plan.runs[0], run_dir) if run_dir is not None else None)

    def launch(self, number: int, params: Dict[str, Any]) -> None:
        """Create trial `number`'s run and hand it to the farm."""
        from runx.core.launch import create_runs

        plan, _ = self._job(number, params)
        job: Job = create_runs(plan, self.farm, self.source, self.err, code_from=self._code, git=self._git)[0]
        if self._code is None:
            self._code, self._git = job.run_dir / CODE_DIR, git_state(self.source)
        self.launched += 1
        trial = Trial(number, params, job.run_dir, _load(job.run_dir))
        self.flight.append(trial)
        self._start(trial, job)

    def _start(self, trial: Trial, job: Job) -> None:
        if self.farm.start(job):
            self.say(f"[trial {trial.number}] {job.name}: {self._shown(trial.params)}")
        # a refused submission is recorded in its status.log; the next poll tells the study it failed

    def _shown(self, params: Dict[str, Any]) -> str:
        return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())

    def resume(self) -> None:
        """Match the study's trials to the experiment's runs (after a driver that stopped, or was killed)."""
        runs = trial_runs(self.exp_dir)
        for info in self.study.trials():
            if info.state != "running":
                self.launched += info.launched
                if info.launched and info.number in runs:
                    self.counts["complete" if info.state == "complete" else "pruned" if info.state == "pruned" else "failed"] += 1
                    if info.state == "complete" and info.value is not None:
                        self._note_best(info.value, info.number, runs[info.number][0].name)
                elif info.launched:
                    self.counts["failed"] += 1
                continue
            if info.number in runs:
                run_dir, record = runs[info.number]
                self.launched += 1
                trial = Trial(info.number, info.params, run_dir, record, info.last_step)
                self.flight.append(trial)
                if _abandoned(run_dir):
                    _, job = self._job(info.number, info.params, run_dir)
                    record_event(run_dir, "queued", attempt="search-resume", **self.farm.queued_fields())
                    self._start(trial, job)
            elif set(info.params) == set(self.space.searched):
                self.launch(info.number, info.params)  # asked, never given a run
            else:
                self.study.mark_not_launched(info.number)  # killed while its values were drawn

    # ---- polling ----------------------------------------------------------------------------------

    def _entries(self) -> List[LedgerEntry]:
        entries = []
        for t in self.flight:
            status = read_status(t.run_dir)
            entries.append(LedgerEntry(t.run_dir, t.record, status, _state(status),
                                       status.exit_code if status else None, self.farm))
        return entries

    def _metric(self, trial: Trial) -> Any:
        """The run's val summary of SWEEP.metric (None: not logged), and the val metrics it does log."""
        summary = summarize(str(trial.run_dir))
        val = summary.phases.get("val") if summary is not None else None
        if val is None:
            return None, []
        return val.metrics.get(self.options.metric), sorted(val.metrics)

    def _report(self, trial: Trial) -> bool:
        """Report the val values of SWEEP.metric the run logged since the last poll; whether the pruner stops it.

        Every epoch is reported, not only the latest: the median pruner compares trials step by step."""
        try:
            found = read_records(str(trial.run_dir / METRICS_FILE), trial.log_offset)
        except OSError:
            return False
        trial.log_offset = found.end_offset
        values = []
        for record in found.records:
            metrics, step = record.get("metrics"), record.get("step")
            if record.get("phase") != "val" or type(step) is not int or not isinstance(metrics, dict):
                continue
            if self.options.metric not in metrics or (trial.last_step is not None and step <= trial.last_step):
                continue
            try:
                value = decode_value(metrics[self.options.metric])
            except ValueError:
                continue
            if _finite(value):
                values.append((step, float(value)))
                trial.last_step = step
        return bool(values) and self.study.report(trial.number, values)

    def _prune(self, trial: Trial, entry: LedgerEntry) -> None:
        (trial.run_dir / PRUNED_FILE).write_text(f"pruned at epoch {trial.last_step} by runx's search\n", encoding="utf-8")
        record_event(trial.run_dir, "pruned", epoch=trial.last_step)
        trial.pruned_at = time.monotonic()
        self.say(f"[trial {trial.number}] {trial.run_dir.name}: pruned at epoch {trial.last_step}")

    def _end(self, trial: Trial, state: str, value: Optional[float] = None) -> None:
        self.study.tell(trial.number, state, value)
        self.flight.remove(trial)
        self.counts["failed" if state == "fail" else state] += 1
        if state == "complete" and value is not None:
            self._note_best(value, trial.number, trial.run_dir.name)
        shown = {"complete": f"{self.options.metric}={value:.6g}" if value is not None else "", "pruned": "pruned",
                 "fail": "failed"}[state]
        self.say(f"[trial {trial.number}] {trial.run_dir.name}: {shown}")
        self.progress()

    def _note_best(self, value: float, number: int, name: str) -> None:
        better = self.best is None or (value < self.best[0] if self.options.goal == "min" else value > self.best[0])
        if better:
            self.best = (value, number, name)

    def _succeeded(self, trial: Trial) -> None:
        m, logged = self._metric(trial)
        if m is None:
            shown = f"it logged {', '.join(logged)}" if logged else "it logged no val metric"
            self._end(trial, "fail")
            raise RunxError(f"{trial.run_dir}: SWEEP.metric {self.options.metric!r}: the run finished without logging it "
                            f"in the val phase ({shown}); expected a metric the script passes to logx.metric('val', ...)")
        best = m.min if self.options.goal == "min" else m.max
        if _finite(best):
            self._end(trial, "complete", float(best))
        else:
            self._end(trial, "fail")

    def poll_once(self) -> None:
        """One round: one farm query for every open run, then each run's metrics, pruning and ending."""
        entries = self._entries()
        open_runs = [e for e in entries if e.state in _OPEN]
        answers = self.farm.query(open_runs) if open_runs else {}
        self.queries += 1
        to_cancel = []
        pruned_now = []
        for trial, entry in zip(list(self.flight), entries):
            state = answers[entry.run_dir].state if entry.run_dir in answers else entry.state
            if trial.pruned_at is not None or state == "pruned":
                if trial.pruned_at is None:  # pruned by a driver that is gone
                    trial.pruned_at = time.monotonic() - self._grace()
                if state not in _OPEN + ("pruned",) or (entry.status is not None and entry.status.finished is not None):
                    self._end(trial, "pruned")
                elif entry.status is None or entry.status.started is None or \
                        time.monotonic() - trial.pruned_at >= self._grace():
                    to_cancel.append((trial, entry._replace(state="running" if entry.status and entry.status.started else "queued")))
                continue
            if state in _OPEN:
                if state == "running" and self._report(trial):
                    self._prune(trial, entry)
                    pruned_now.append((trial, entry))
                continue
            if state == "succeeded":
                self._report(trial)
                self._succeeded(trial)
            else:
                self._end(trial, "fail")
        if self._grace() == 0:
            to_cancel += pruned_now
        if to_cancel:
            self.farm.cancel([entry for _, entry in to_cancel])
            for trial, _ in to_cancel:
                self._end(trial, "pruned")

    def _grace(self) -> float:
        return self.options.early_stop.grace if self.options.early_stop is not None else 0.0

    # ---- the loop ---------------------------------------------------------------------------------

    def run(self, resume: bool) -> int:
        """Search until the budget is spent and every run has ended; 0, 1 if a trial failed, 130 if interrupted."""
        with interrupted_by_hangup_and_term():
            try:
                if resume:
                    self.resume()
                    self.say(f"[search] --resume: {self.launched} of {self.options.trials} trial(s) launched before, "
                             f"{len(self.flight)} still running")
                while self.launched < self.options.trials or self.flight:
                    while self.launched < self.options.trials and len(self.flight) < self.options.parallel:
                        number, params = self.study.ask()
                        self.launch(number, params)
                    time.sleep(self.poll)
                    self.poll_once()
            except KeyboardInterrupt:
                self._stop_all("interrupted")
                self.say(f"runx: interrupted; the search continues with: runx {self.settings.experiment_file} --resume")
                return 130
            except RunxError:
                self._stop_all("search-stopped")
                raise
        self.report()
        return 1 if self.counts["failed"] else 0

    def _stop_all(self, reason: str) -> None:
        """Cancel every run in flight and tell the study they failed."""
        entries = [e for e in self._entries() if e.state in _OPEN]
        if entries:
            problems = self.farm.cancel(entries)
            for entry in entries:
                if entry.run_dir not in problems:
                    status = read_status(entry.run_dir)
                    if status is None or status.state != "cancelled":
                        record_event(entry.run_dir, "cancelled", reason=reason)
        for trial in list(self.flight):
            self.study.tell(trial.number, "fail")
            self.flight.remove(trial)

    def report(self) -> None:
        """The end: counts and the best trial."""
        c = self.counts
        self.say(f"[search] finished: {self.launched} run(s): {c['complete']} complete, {c['pruned']} pruned, {c['failed']} failed")
        if self.best is not None:
            value, number, name = self.best
            self.say(f"[search] best {self.options.metric} {value:.6g}: trial {number}, run {name}")
