"""Stopping a local job and everything it started: SIGTERM, a grace period, then SIGKILL.

A job's script may exit on SIGTERM while its children ignore it; they are then no longer its
descendants, so the tree is read (from /proc) before any signal is sent, and every member is
waited for.
"""
from __future__ import annotations

import os
import signal
import time
from typing import Iterable, List, Optional

__all__ = ["process_tree", "alive", "stop_processes", "grace_seconds", "GRACE_SECONDS"]

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


def alive(pid: int) -> bool:
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
    return not os.path.isdir("/proc")  # no /proc: trust kill(0)


def stop_processes(pids: Iterable[int], grace: Optional[float] = None) -> None:
    """SIGTERM each process (in order), wait up to `grace` seconds (grace_seconds()) for all, SIGKILL the rest."""
    pids = list(pids)
    if grace is None:
        grace = grace_seconds()
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            _signal(pid, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
