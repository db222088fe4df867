"""Reading `status.log`: one event per line, `<event> <unix-seconds> [key=value ...]`, the last event decides.

Events: `queued` (runx created the run or is about to resubmit it, the first one naming its launch, `launch=`; a local run's names its runx
process, `launcher=<host>:<pid>`, another farm's the runx process submitting it, `submitter=`), `submitted` (a farm accepted it; `job_id=`), `started` (the job
began; `host=`, `pid=`), `finished` (`exit=`), `cancelled`, `pruned` (an adaptive search stopped the trial early; it
stays pruned through the job's own end and the cancel that follows, until a new `queued`), `interrupted` (the scheduler is ending
the attempt: `reason=timeout`, its warning before the time limit, or `reason=preempted`), `requeue` (logx on rank 0
saved its state after that warning and exits REQUEUE_EXIT; it changes no state: a multi-node job's script reads it,
since torchrun and srun do not pass the 75 on). runx appends with runx.core.status (through `append_event`), the
job's POSIX shell scripts write their own lines.

An attempt that was interrupted and then ended with REQUEUE_EXIT (it saved a checkpoint and asked to
be requeued) or by the scheduler's kill (exit 128 + a signal) reads as `timeout` or `preempted`, not
failed; runx's Slurm job script then queues the next attempt (`queued ... reason=requeue`). A job the
scheduler kills at its limit (SIGKILL, a program that ignored the warning) writes no `finished` line:
its attempt folds as running with `interruption` set, and `ended_unrecorded` reads the scheduler's word of
its end (failed, killed) as that interruption's reason. A non-zero exit with no `interrupted` line before
it is failed.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, List, NamedTuple, Optional

from runx.logx.rundir.codec import read_bytes
from runx.logx.rundir.layout import STATUS_FILE

__all__ = ["RunStatus", "INTERRUPTED_STATES", "REQUEUE_EXIT", "REQUEUE_EVENT", "append_event", "fold_status", "parse_status", "read_status", "settled_state", "submission_abandoned",
           "process_alive", "ended_unrecorded"]

_MAX_PID_DIGITS = 10
INTERRUPTED_STATES = ("timeout", "preempted")
"""The states of an attempt the scheduler ended (the `interrupted` line's `reason=`)."""
REQUEUE_EXIT = 75
"""The exit code (EX_TEMPFAIL) of a job that saved its state after the scheduler's warning and asks to be requeued."""
REQUEUE_EVENT = "requeue"
"""The line logx's rank 0 appends as it leaves with REQUEUE_EXIT (`requeue <time> exit=75 pid=<pid>`)."""


def append_event(run_dir: str, event: str, **fields: object) -> None:
    """Append one `<event> <unix-seconds> [key=value ...]` line (a single small write, so concurrent appends do
    not interleave); fields that are None are left out."""
    extra = "".join(f" {k}={v}" for k, v in fields.items() if v is not None)
    with open(os.path.join(run_dir, STATUS_FILE), "a", encoding="utf-8") as f:
        f.write(f"{event} {int(time.time())}{extra}\n")


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
    launcher: Optional[str] = None
    """`host:pid` of the runx process that runs a local run (the `queued` line's `launcher=`)."""
    submitter: Optional[str] = None
    """`host:pid` of the runx process that is handing the run to a farm (the `queued` line's `submitter=`)."""
    launch: Optional[str] = None
    """The id of the launch that created the run (the first `queued` line's `launch=`, kept by resubmissions)."""
    interrupted: int = 0
    """How many attempts the scheduler interrupted (time limit, preemption): `interrupted` lines."""
    interruption: Optional[str] = None
    """Why the scheduler interrupted the running attempt (`timeout`, `preempted`), while no `finished` line
    followed (a job killed at its limit writes none); None otherwise."""


def _field(parts: List[str], prefix: str, default: Any) -> Any:
    """The value of the last `key=value` part with this prefix, else `default`."""
    for part in reversed(parts):
        if part.startswith(prefix):
            return part[len(prefix):]
    return default


def _small_int(text: str) -> Optional[int]:
    """A non-negative int of a few digits (a pid), else None."""
    return int(text) if text.isdigit() and text.isascii() and len(text) <= _MAX_PID_DIGITS else None


def fold_status(text: str) -> Optional[RunStatus]:
    """Fold status lines into the latest attempt's RunStatus; None without an event.

    Lines that are short or whose time is not a number are skipped; a time that is not finite is kept
    as read (runx.core.ledger shows such a run as unknown, with a note).
    """
    state = exit_code = queued = started = finished = job_id = host = pid = launcher = submitter = launch = reason = None
    attempts = interrupted = 0
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
            state, queued, started, finished, exit_code, reason = "queued", when, None, None, None, None
            launcher = _field(parts, "launcher=", None)
            submitter = _field(parts, "submitter=", None)
            launch = _field(parts, "launch=", launch)
        elif event == "submitted":
            # Only names the job: a fast job may have started (even finished) before runx wrote this.
            job_id = _field(parts, "job_id=", job_id)
            if state == "queued":
                state = "submitted"
        elif event == "started":
            if state == "pruned":
                continue
            state, started, finished, exit_code, reason = "running", when, None, None, None
            host = _field(parts, "host=", None)
            pid = _small_int(_field(parts, "pid=", ""))
            attempts += 1
        elif event == "finished":
            code = _field(parts, "exit=", "")
            number = _small_int(code.lstrip("-"))
            exit_code_now = None if number is None else (-number if code.startswith("-") else number)
            if state == "pruned":  # the pruned job stopping, by itself or from the cancel's signal
                finished, exit_code = when, exit_code_now
                continue
            if state == "cancelled" and exit_code_now is not None and exit_code_now > 128:
                exit_code = exit_code_now  # the job ending from the cancel's signal
                continue
            state = "succeeded" if exit_code_now == 0 else "failed"
            if reason is not None and exit_code_now is not None and (exit_code_now == REQUEUE_EXIT or exit_code_now > 128):
                state = reason  # the scheduler ended it: it saved its state and asked for a requeue, or was killed
            finished, exit_code = when, exit_code_now
        elif event == "cancelled":
            if state == "pruned":
                finished = finished or when
                continue
            state, finished = "cancelled", when
        elif event == "interrupted":
            why = _field(parts, "reason=", "")
            reason = why if why in INTERRUPTED_STATES else "preempted"
            interrupted += 1
        elif event == "pruned":
            state, finished = "pruned", None
    if state is None:
        return None
    return RunStatus(state, exit_code, queued, started, finished, job_id, host, attempts, pid, launcher, submitter, launch,
                     interrupted, reason if state == "running" else None)


parse_status = fold_status


def read_status(run_dir: str) -> Optional[RunStatus]:
    """The run's status, or None when it has no (readable) status record, e.g. runs made by runx 0.0.11."""
    raw = read_bytes(os.path.join(run_dir, STATUS_FILE))
    return None if raw is None else fold_status(raw.decode("utf-8", "replace"))


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (and is not a zombie) on this machine."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    return not os.path.isdir("/proc")  # no /proc: trust kill(0)


def submission_abandoned(status: RunStatus) -> bool:
    """Whether runx stopped before handing this queued run to its farm: the `submitter=` process on this
    machine is gone and no `submitted` line followed (a farm run that nothing will ever start)."""
    if status.state != "queued" or not status.submitter:
        return False
    host, _, pid = status.submitter.rpartition(":")
    number = _small_int(pid)
    return host == os.uname().nodename and number is not None and not process_alive(number)


def ended_unrecorded(status: Optional[RunStatus], state: str, exit_code: Optional[int]) -> str:
    """The state of an attempt whose end its job could not record, from the scheduler's word (`state`,
    `exit_code`): an interrupted attempt (`status.interruption`) that the scheduler then killed or failed
    (exit 128 + a signal, REQUEUE_EXIT, 0 or none: not the program's own error) reads as the interruption's
    reason, as it would had the job script written its `finished` line; any other answer stands."""
    if status is None or status.interruption is None or state != "failed":
        return state
    if exit_code is None or exit_code in (0, REQUEUE_EXIT) or exit_code > 128:
        return status.interruption
    return state


def settled_state(status: RunStatus, job_gone: Optional[Callable[[RunStatus], bool]] = None) -> str:
    """The folded state, where a local run outlived what would have written its end: a queued run whose
    runx process is gone from this machine is cancelled, a running one whose job script is gone failed.

    `job_gone(status)` decides whether a running job is gone (runx's local farm passes a check that the
    pid is provably still the run's job, not a reused one); without it, any process with the pid counts.
    Only local runs name their launcher (`launcher=<host>:<pid>`); anything else is returned as folded.
    """
    state, launcher = status.state, status.launcher
    if launcher is None or state not in ("queued", "running"):
        return state
    here = os.uname().nodename
    host, _, pid = launcher.rpartition(":")
    number = _small_int(pid)
    if state == "queued" and host == here and number is not None and not process_alive(number):
        return "cancelled"
    if state == "running" and status.host == here and status.pid:
        gone = not process_alive(status.pid) if job_gone is None else job_gone(status)
        if gone:
            return "failed"
    return state
