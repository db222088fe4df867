"""The run ledger: every run of an experiment with its state, from status records and the farm.

A run's own status.log is the first witness (the job writes it); where the job never got to write
(queued, killed, cancelled by the farm) the farm's answer decides, asked once per farm in a batch.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional

from runx.core.errors import RunxError
from runx.core.runfiles import RUN_FILE
from runx.core.status import RunStatus, read_status

if TYPE_CHECKING:
    from runx.core.farms import Farm

__all__ = ["LedgerEntry", "find_runs", "read_ledger", "group_by_farm", "format_table"]


class LedgerEntry(NamedTuple):
    """One run: where it is, what runx recorded, and its state now."""

    run_dir: Path
    record: dict
    status: Optional[RunStatus]
    state: str
    exit_code: Optional[int]

    @property
    def name(self) -> str:
        return self.record.get("run") or self.run_dir.name

    @property
    def farm_kind(self) -> str:
        return (self.record.get("farm") or {}).get("type") or "local"

    @property
    def job_id(self) -> Optional[str]:
        return (self.status.job_id if self.status else None) or self.record.get("job_id")


def find_runs(exp_dir: Path) -> list:
    """Run directories (holding run.json) at any depth below the experiment, not inside code/ or dot-dirs."""
    if not exp_dir.is_dir():
        raise RunxError(f"{exp_dir}: no such experiment directory")
    found = []
    for root, dirs, files in os.walk(exp_dir):
        dirs[:] = sorted(d for d in dirs if d != "code" and not d.startswith("."))
        if RUN_FILE in files:
            found.append(Path(root))
            dirs[:] = []
    return found


def _load(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


_STATUS_STATE = {"submitted": "queued"}


def read_ledger(exp_dir: Path, ask_farms: bool = True) -> list:
    """Every run of the experiment with its state; each farm is asked about its open runs in one batch."""
    runs = []
    for run_dir in find_runs(exp_dir):
        status = read_status(run_dir)
        state = "unknown" if status is None else _STATUS_STATE.get(status.state, status.state)
        runs.append(LedgerEntry(run_dir, _load(run_dir), status, state, status.exit_code if status else None))
    if not ask_farms:
        return runs
    answers = {}
    for farm, entries in group_by_farm(runs).items():
        answers.update(farm.query([e for e in entries if e.state in ("queued", "running")]))
    return [r._replace(state=answers[r.run_dir].state, exit_code=answers[r.run_dir].exit_code) if r.run_dir in answers else r
            for r in runs]


def group_by_farm(entries: list) -> "Dict[Farm, List[LedgerEntry]]":
    """The entries by the farm each was launched on (rebuilt from run.json, one object per distinct farm)."""
    from runx.core.farms import farm_for_record

    farms: dict = {}
    groups: dict = {}
    for entry in entries:
        key = json.dumps(entry.record.get("farm"), sort_keys=True, default=str)
        if key not in farms:
            farms[key] = farm_for_record(entry.record.get("farm"))
        groups.setdefault(farms[key], []).append(entry)
    return groups


def _duration(status: Optional[RunStatus]) -> str:
    if status is None or status.started is None:
        return ""
    end = status.finished if status.finished is not None and status.state != "running" else time.time()
    seconds = int(max(0, end - status.started))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def format_table(entries: list) -> str:
    """A plain text table: run, farm, job id, state, exit code, started, duration, attempts (values printable)."""
    from runx.core.text import printable

    header = ["run", "farm", "job id", "state", "exit", "started", "duration", "attempts"]
    rows = []
    for e in entries:
        started = ""
        if e.status and e.status.started:
            started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.status.started))
        rows.append([printable(str(cell)) for cell in (
            e.name, e.farm_kind, e.job_id or "", e.state, "" if e.exit_code is None else e.exit_code,
            started, _duration(e.status), e.status.attempts if e.status else 0)])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)
