"""The run ledger: every run of an experiment with its state, from status records and the farm.

A run's own status.log is the first witness (the job writes it); where the job never got to write
(queued, killed, cancelled by the farm) the farm's answer decides, asked once per farm in a batch.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Tuple

from runx.core.errors import RunxError
from runx.core.runfiles import RUN_FILE
from runx.core.staging import STAGING_FILE, staging_state
from runx.core.status import STATUS_FILE, RunStatus, read_status
from runx.logx.rundir.layout import not_searched
from runx.logx.rundir.status import submission_abandoned

if TYPE_CHECKING:
    from runx.core.farms import Farm

__all__ = ["LedgerEntry", "find_runs", "read_ledger", "ledger_entry", "settle_interrupted", "ask_farms_about", "group_by_farm", "format_table", "duration_seconds",
           "duration_text", "time_text", "plain_table"]


class LedgerEntry(NamedTuple):
    """One run: where it is, what runx recorded, its state now, the farm it runs on, and what is wrong
    with its files (`note`: such a run reads as unknown and nothing acts on it)."""

    run_dir: Path
    record: dict
    status: Optional[RunStatus]
    state: str
    exit_code: Optional[int]
    farm: "Optional[Farm]" = None
    note: str = ""

    @property
    def name(self) -> str:
        run = self.record.get("run")
        return run if isinstance(run, str) and run else self.run_dir.name

    @property
    def farm_kind(self) -> str:
        return self.farm.kind if self.farm is not None else "?"

    @property
    def job_id(self) -> Optional[str]:
        return (self.status.job_id if self.status else None) or self.record.get("job_id")


def find_runs(exp_dir: Path) -> list:
    """Run directories (holding run.json, or a staging marker) at any depth below the experiment, not inside
    code/ or dot-dirs."""
    if not exp_dir.is_dir():
        raise RunxError(f"{exp_dir}: no such experiment directory")
    found = []
    for root, dirs, files in os.walk(exp_dir):
        dirs[:] = sorted(d for d in dirs if not not_searched(d))
        if RUN_FILE in files or STAGING_FILE in files:
            found.append(Path(root))
            dirs[:] = []
    return found


def _load(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


_STATUS_STATE = {"submitted": "queued"}
_LATEST_TIME = 1e10
"""Status times beyond this (the year 2286) are not times a job wrote."""
_RECORD_TYPES = (("run", str), ("tag", str), ("hparams", dict), ("job_id", str), ("job_logdir", str),
                 ("experiment", str), ("submit_argv", list))


def _record_problem(record: object) -> str:
    """What is wrong with a run.json's shape, or "" (an unparsable file is read as empty, as before)."""
    if not isinstance(record, dict):
        return f"{RUN_FILE}: expected a JSON object, found {type(record).__name__}"
    for key, kind in _RECORD_TYPES:
        value = record.get(key)
        if value is not None and not isinstance(value, kind):
            return f"{RUN_FILE}: {key}: expected a {'JSON object' if kind is dict else kind.__name__}, found {type(value).__name__}"
    return ""


def _status_problem(status: Optional[RunStatus]) -> str:
    if status is None:
        return ""
    for key in ("queued", "started", "finished"):
        value = getattr(status, key)
        if value is not None and not (math.isfinite(value) and 0 <= value < _LATEST_TIME):
            return f"{STATUS_FILE}: {key}: expected a time in Unix seconds, found {value!r}"
    return ""


def read_ledger(exp_dir: Path, ask_farms: bool = True, farms: Optional[dict] = None) -> list:
    """Every run of the experiment with its state; each farm is asked about its open runs in one batch.

    A run whose files are malformed is `unknown`, with a note saying what is wrong; the others are unaffected.
    `farms` caches the farm backends by their record: pass one dict to read several experiments and
    `ask_farms=False`, then call `ask_farms_about` once over all their entries (one query per farm in all).
    """
    farms = {} if farms is None else farms
    runs = [ledger_entry(run_dir, farms) for run_dir in find_runs(exp_dir)]
    return ask_farms_about(runs) if ask_farms else runs


def ledger_entry(run_dir: Path, farms: dict) -> LedgerEntry:
    """One run's entry from its own files (its farm not asked yet); `farms` caches the farm backends by record."""
    from runx.core.farms import farm_for_record

    status, record = read_status(run_dir), _load(run_dir)
    staged = staging_state(run_dir)  # staging, or failed-to-stage: the launch never completed it
    if staged is not None:
        return LedgerEntry(run_dir, record if isinstance(record, dict) else {}, status, staged, None)
    note = _record_problem(record) or _status_problem(status)
    record = record if isinstance(record, dict) else {}
    farm = None
    if not note:
        key = json.dumps(record.get("farm"), sort_keys=True, default=str)
        try:
            farm = farms[key] if key in farms else farms.setdefault(key, farm_for_record(record.get("farm")))
        except RunxError as err:
            note = f"{RUN_FILE}: {err}"
    if note:
        return LedgerEntry(run_dir, record, status, "unknown", None, None, note)
    state = "unknown" if status is None else _STATUS_STATE.get(status.state, status.state)
    if status is not None and submission_abandoned(status):
        state = "failed"  # runx stopped before the farm had it: resubmit --failed hands it over
    return LedgerEntry(run_dir, record, status, state, status.exit_code if status else None, farm)


def ask_farms_about(runs: list) -> list:
    """The entries with each queued or running run's state as its farm tells it (one batched query per farm)."""
    answers = {}
    for farm, entries in group_by_farm([r for r in runs if r.state in ("queued", "running")]).items():
        answers.update(farm.query(entries))
    return [r._replace(state=answers[r.run_dir].state, exit_code=answers[r.run_dir].exit_code) if r.run_dir in answers else r
            for r in runs]


def settle_interrupted(run_dirs: List[str]) -> Dict[str, Tuple[str, Optional[int]]]:
    """(state, exit code) of each of these running runs as its farm tells it, where that differs (one batched
    query per farm): sumx asks this about runs whose status.log leaves them running after an `interrupted`
    line, as a job the scheduler killed at its limit writes no end (it reads timeout or preempted)."""
    farms: dict = {}
    entries = [e for e in (ledger_entry(Path(d), farms) for d in run_dirs) if e.state == "running"]
    return {str(e.run_dir): (e.state, e.exit_code) for e in ask_farms_about(entries) if e.state != "running"}


def group_by_farm(entries: list) -> "Dict[Farm, List[LedgerEntry]]":
    """The entries by the farm each was launched on; entries with a note (no farm) are left out."""
    groups: dict = {}
    for entry in entries:
        if entry.farm is not None:
            groups.setdefault(entry.farm, []).append(entry)
    return groups


def duration_seconds(status: Optional[RunStatus], state: Optional[str] = None) -> Optional[float]:
    """How long the latest attempt ran (so far, while it runs); None before it started, and for an attempt
    that ended without recording when (a job its scheduler killed at its limit, a local job that outlived
    its runx): `state` is the run's settled state, its farm's word where asked (default: the record's)."""
    if status is None or status.started is None:
        return None
    if status.finished is not None and status.state != "running":
        return max(0.0, status.finished - status.started)
    if (status.state if state is None else state) != "running":
        return None
    return max(0.0, time.time() - status.started)


def duration_text(status: Optional[RunStatus], state: Optional[str] = None) -> str:
    """`H:MM:SS` of duration_seconds, or ''."""
    seconds = duration_seconds(status, state)
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def time_text(when: Optional[float]) -> str:
    """A Unix time as local `YYYY-MM-DD HH:MM:SS`, or ''."""
    return "" if when is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def format_table(entries: list) -> str:
    """A plain text table: run, farm, job id, state, exit code, started, duration, attempts (then an
    `interrupted` column when the scheduler ended an attempt of some run, and a note column when a run's
    files are malformed); values printable."""
    from runx.core.text import printable

    header = ["run", "farm", "job id", "state", "exit", "started", "duration", "attempts"]
    interrupted = any(e.status and e.status.interrupted for e in entries)
    if interrupted:
        header.append("interrupted")
    notes = any(e.note for e in entries)
    if notes:
        header.append("note")
    rows = []
    for e in entries:
        started = time_text(e.status.started) if e.status and e.status.started and not e.note else ""
        row = [e.name, e.farm_kind, e.job_id or "", e.state, "" if e.exit_code is None else e.exit_code,
               started, "" if e.note else duration_text(e.status, e.state), e.status.attempts if e.status else 0]
        if interrupted:
            row.append(e.status.interrupted if e.status else 0)
        rows.append([printable(str(cell)) for cell in (row + [e.note] if notes else row)])
    return plain_table(header, rows)


def plain_table(header: List[str], rows: List[List[str]]) -> str:
    """Columns padded with two spaces, a dashed line under the header (cells already printable)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)
