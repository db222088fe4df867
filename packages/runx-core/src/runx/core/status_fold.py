"""Folding `status.log` lines into the latest attempt's fields (format: runx.core.status).

It imports next to nothing, so sumx reads thousands of status records without runx.core.status's
imports.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

__all__ = ["fold_status", "settled_state"]


def fold_status(text: str) -> Optional[Dict[str, Any]]:
    """The fields of a RunStatus from status lines (the last event decides the state); None without an event.

    Lines that are short or whose time is not a number are skipped.
    """
    state = exit_code = queued = started = finished = job_id = host = pid = launcher = None
    attempts = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            when = float(parts[1])
        except ValueError:
            continue
        event = parts[0]
        if event == "queued":
            state, queued, started, finished, exit_code = "queued", when, None, None, None
            launcher = _field(parts, "launcher=", None)
        elif event == "submitted":
            # Only names the job: a fast job may have started (even finished) before runx wrote this.
            job_id = _field(parts, "job_id=", job_id)
            if state == "queued":
                state = "submitted"
        elif event == "started":
            state, started, finished, exit_code = "running", when, None, None
            host = _field(parts, "host=", None)
            text_pid = _field(parts, "pid=", "")
            pid = int(text_pid) if text_pid.isdigit() else None
            attempts += 1
        elif event == "finished":
            try:
                code: Optional[int] = int(_field(parts, "exit=", ""))
            except ValueError:
                code = None
            if state == "cancelled" and code is not None and code > 128:
                exit_code = code  # the job ending from the cancel's signal
                continue
            state = "succeeded" if code == 0 else "failed"
            finished, exit_code = when, code
        elif event == "cancelled":
            state, finished = "cancelled", when
    if state is None:
        return None
    return {"state": state, "exit_code": exit_code, "queued": queued, "started": started, "finished": finished,
            "job_id": job_id, "host": host, "attempts": attempts, "pid": pid, "launcher": launcher}


def settled_state(fields: Dict[str, Any], run_dir: Optional[str] = None) -> str:
    """The folded state, where a local run outlived what would have written its end: a queued run whose
    runx process is gone from this machine is cancelled, a running one whose job is gone failed.

    With `run_dir`, the job counts as alive only while a process is provably the run's job (its pid may
    belong to another process by now; see runx.core.farms.local.proctree.is_job); without, any process
    with its pid does. Only local runs name their launcher (`launcher=<host>:<pid>`); anything else is
    returned as folded.
    """
    state, launcher = fields["state"], fields["launcher"]
    if launcher is None or state not in ("queued", "running"):
        return state
    from runx.core.farms.local.proctree import alive, is_job

    here = os.uname().nodename
    host, _, pid = launcher.rpartition(":")
    if state == "queued" and host == here and pid.isdigit() and not alive(int(pid)):
        return "cancelled"
    if state == "running" and fields["host"] == here and fields["pid"]:
        gone = not alive(fields["pid"]) if run_dir is None else not is_job(fields["pid"], run_dir, fields["started"])
        if gone:
            return "failed"
    return state


def _field(parts: list, prefix: str, default: Any) -> Any:
    """The value of the last `key=value` part with this prefix, else `default`."""
    for part in reversed(parts):
        if part.startswith(prefix):
            return part[len(prefix):]
    return default
