"""The run's status record: `status.log`, one event per line, appended by runx and by the job.

Each line is `<event> <unix-seconds> [key=value ...]`. Events: `queued` (runx created the run, or is
about to resubmit it), `submitted` (a farm accepted it; `job_id=`; it names the job and does not undo
a `started` the job may already have written; a local run's `queued` names the runx process that will
run it, `launcher=<host>:<pid>`), `started` (the job began; `host=`, `pid=`), `finished`
(`exit=`), `cancelled`, `interrupted` (the scheduler is ending the attempt: `reason=timeout|preempted`), `requeue` (logx's rank 0 saved and exits 75). The job's own lines are written by its POSIX shell script, so a
container without runx still records them. The last event decides the state.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from runx.logx.rundir.layout import STATUS_FILE
from runx.logx.rundir.status import RunStatus, append_event, fold_status
from runx.logx.rundir.status import read_status as _read_status

__all__ = ["STATUS_FILE", "RunStatus", "launcher_id", "record_event", "read_status", "parse_status", "was_cancelled"]


def launcher_id() -> str:
    """This process as a `launcher=` value: `<host>:<pid>`."""
    return f"{os.uname().nodename}:{os.getpid()}"


def record_event(run_dir: Path, event: str, **fields: object) -> None:
    """Append one event line (a single small write, so concurrent appends do not interleave)."""
    append_event(str(run_dir), event, **fields)


def parse_status(text: str) -> Optional[RunStatus]:
    """Fold status lines into a RunStatus (runx.logx.rundir.status); None when there is no event."""
    return fold_status(text)


def was_cancelled(run_dir: Path) -> bool:
    """Whether the run's latest event is a cancellation (`runx cancel` on a run still waiting to start)."""
    status = read_status(run_dir)
    return status is not None and status.state == "cancelled"


def read_status(run_dir: Path) -> Optional[RunStatus]:
    """The run's status, or None when it has no status record (e.g. runs made by runx 0.0.11)."""
    return _read_status(str(run_dir))
