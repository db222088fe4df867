"""The run's status record: `status.log`, one event per line, appended by runx and by the job.

Each line is `<event> <unix-seconds> [key=value ...]`. Events: `queued` (runx created the run, or is
about to resubmit it), `submitted` (a farm accepted it; `job_id=`; it names the job and does not undo
a `started` the job may already have written), `started` (the job began; `host=`), `finished`
(`exit=`), `cancelled`. The job's own lines are written by its POSIX shell script, so a
container without runx still records them. The last event decides the state.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple, Optional

STATUS_FILE = "status.log"
STATES = ("queued", "submitted", "running", "succeeded", "failed", "cancelled", "unknown")

__all__ = ["STATUS_FILE", "STATES", "RunStatus", "record_event", "read_status", "parse_status"]


class RunStatus(NamedTuple):
    """What a run's status record says about its latest attempt."""

    state: str
    exit_code: Optional[int] = None
    queued: Optional[float] = None
    started: Optional[float] = None
    finished: Optional[float] = None
    job_id: Optional[str] = None
    host: Optional[str] = None
    attempts: int = 0
    pid: Optional[int] = None


def record_event(run_dir: Path, event: str, **fields: object) -> None:
    """Append one event line (a single small write, so concurrent appends do not interleave)."""
    extra = "".join(f" {k}={v}" for k, v in fields.items() if v is not None)
    line = f"{event} {int(time.time())}{extra}\n"
    with open(Path(run_dir) / STATUS_FILE, "a", encoding="utf-8") as f:
        f.write(line)


def parse_status(text: str) -> Optional[RunStatus]:
    """Fold status lines into a RunStatus; None when there is no event."""
    state = None
    values: dict = {"attempts": 0}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        event, stamp = parts[0], parts[1]
        try:
            when = float(stamp)
        except ValueError:
            continue
        fields = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        if event == "queued":
            state, values["queued"] = "queued", when
            values.update(started=None, finished=None, exit_code=None)
        elif event == "submitted":
            # Only names the job: a fast job may have started (even finished) before runx wrote this.
            values["job_id"] = fields.get("job_id", values.get("job_id"))
            if state == "queued":
                state = "submitted"
        elif event == "started":
            state = "running"
            pid = fields.get("pid", "")
            values.update(started=when, finished=None, exit_code=None, host=fields.get("host"),
                          pid=int(pid) if pid.isdigit() else None)
            values["attempts"] += 1
        elif event == "finished":
            try:
                code = int(fields.get("exit", ""))
            except ValueError:
                code = None
            if state == "cancelled" and code is not None and code > 128:
                values["exit_code"] = code  # the job ending from the cancel's signal
                continue
            state = "succeeded" if code == 0 else "failed"
            values.update(finished=when, exit_code=code)
        elif event == "cancelled":
            state = "cancelled"
            values["finished"] = when
    if state is None:
        return None
    return RunStatus(state=state, **values)


def read_status(run_dir: Path) -> Optional[RunStatus]:
    """The run's status, or None when it has no status record (e.g. runs made by runx 0.0.11)."""
    try:
        text = (Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return parse_status(text)
