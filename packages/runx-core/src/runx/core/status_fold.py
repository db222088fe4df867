"""Folding `status.log` lines into the latest attempt's fields (format: runx.core.status).

It imports nothing, so sumx reads thousands of status records without runx.core.status's imports.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

__all__ = ["fold_status"]


def fold_status(text: str) -> Optional[Dict[str, Any]]:
    """The fields of a RunStatus from status lines (the last event decides the state); None without an event.

    Lines that are short or whose time is not a number are skipped.
    """
    state = None
    values: Dict[str, Any] = {"exit_code": None, "queued": None, "started": None, "finished": None,
                              "job_id": None, "host": None, "attempts": 0, "pid": None}
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
            values["job_id"] = fields.get("job_id", values["job_id"])
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
    values["state"] = state
    return values
