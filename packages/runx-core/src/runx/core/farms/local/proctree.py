"""Knowing a local job's processes, and stopping a job and everything it started: SIGTERM, a grace
period, then SIGKILL.

A pid alone does not name a job: once the job is gone the pid may be another process's. A local job
is started with `RUNX_JOB=<run dir>` in its environment (inherited by all it starts), and its
`started` line in status.log records when it began; a process is the job's only if its environment
holds that marker and it began no later than that line (`is_job`). Without /proc nothing is provable,
so nothing is signalled.

A job's script may exit on SIGTERM while its children ignore it; they are then no longer its
descendants, so the tree is read (from /proc) before any signal is sent, and every member is
waited for. A member is signalled only while it is the same process (same start time) as when the
tree was read.
"""
from __future__ import annotations

import math
import os
import signal
import time
from typing import Iterable, List, Optional

from runx.logx.rundir.status import process_alive

__all__ = ["process_tree", "is_job", "job_environment", "stop_processes", "grace_seconds", "GRACE_SECONDS",
           "JOB_MARKER"]

JOB_MARKER = "RUNX_JOB"
"""The environment variable that names the run directory of a local job's processes."""
START_SLACK = 2.0
"""Seconds a job's process may seem to start after its `started` line (whole-second clocks on both sides)."""

GRACE_SECONDS = 10.0
"""How long a job has to end after SIGTERM before it is killed, unless $RUNX_GRACE_SECONDS says."""


def grace_seconds() -> float:
    """$RUNX_GRACE_SECONDS if it is a number of seconds, else GRACE_SECONDS."""
    try:
        return max(0.0, float(os.environ["RUNX_GRACE_SECONDS"]))
    except (KeyError, ValueError):
        return GRACE_SECONDS


def _children(pid: int) -> List[int]:
    found: List[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def process_tree(pid: int) -> List[int]:
    """`pid` and all its descendants, parents before children."""
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in _children(parent)]
        tree += frontier
    return tree


def _start_ticks(pid: int) -> Optional[int]:
    """When the process began, in clock ticks since boot (/proc/<pid>/stat field 22); None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _boot_time() -> Optional[float]:
    try:
        with open("/proc/stat", encoding="utf-8") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def started_at(pid: int) -> Optional[float]:
    """When the process began, in Unix seconds; None if unknown (no such process, no /proc)."""
    ticks, boot = _start_ticks(pid), _boot_time()
    if ticks is None or boot is None:
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def job_environment(run_dir: str) -> dict:
    """This environment plus the marker that names the run's job (see `is_job`)."""
    return {**os.environ, JOB_MARKER: os.path.realpath(run_dir)}


def is_job(pid: int, run_dir: str, started: Optional[float]) -> bool:
    """Whether `pid` is provably the job of the run at `run_dir`: alive, its environment holds the run's
    marker, and it began no later than the `started` time its job script recorded."""
    if not isinstance(pid, int) or pid <= 1 or (started is not None and not math.isfinite(started)) or not process_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = f.read().split(b"\0")
    except OSError:
        return False
    if f"{JOB_MARKER}={os.path.realpath(run_dir)}".encode("utf-8", "surrogateescape") not in environ:
        return False
    began = started_at(pid)
    if began is None:
        return False
    return started is None or began <= started + START_SLACK


def stop_processes(pids: Iterable[int], grace: Optional[float] = None) -> None:
    """SIGTERM each process (in order), wait up to `grace` seconds (grace_seconds()) for all, SIGKILL the rest;
    a process is signalled only while it is the one that had its pid when this was called."""
    identity = {pid: _start_ticks(pid) for pid in pids}
    if grace is None:
        grace = grace_seconds()
    for pid in identity:
        _signal(pid, signal.SIGTERM, identity[pid])
    deadline = time.monotonic() + grace
    while any(process_alive(pid) for pid in identity) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in identity:
        if process_alive(pid):
            _signal(pid, signal.SIGKILL, identity[pid])


def _signal(pid: int, signum: int, ticks: Optional[int]) -> None:
    if ticks is None or _start_ticks(pid) != ticks:
        return  # gone, or its pid now belongs to another process
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
