"""One live writer per logdir: an flock on `logx.lock` in the logdir, taken at initialize, released at close.

The kernel drops an flock when its process ends, however it ends, so the lock of a dead process
(kill -9, a node that rebooted) is simply taken over. The file keeps the owner's pid, host and
process start time so that the refusal can say who holds it. flock works across processes of one
host and on local filesystems; on NFS it depends on the server (Linux clients map it to an NFS lock).
"""
from __future__ import annotations

import json
import os
import time

from runx.logx.errors import LogxError
from runx.logx.rundir.layout import LOCK_FILE

__all__ = ["LOCK_FILE", "WriterLock", "process_start_time"]


def process_start_time(pid: int) -> int | None:
    """The start time of process `pid` in clock ticks since boot (/proc/<pid>/stat field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner(path: str) -> dict[str, object]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class WriterLock:
    """The exclusive writer lock of one logdir, held while its file descriptor is open."""

    def __init__(self, logdir: str) -> None:
        self.path = os.path.join(logdir, LOCK_FILE)
        self._fd: int | None = None

    def acquire(self, allow_second_writer: bool = False) -> bool:
        """Take the lock; if another live process holds it, raise LogxError (or warn and go on unlocked).

        Where there is no flock (Windows), nothing is locked.
        """
        try:
            import fcntl
        except ImportError:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            message = self._refusal()
            if not allow_second_writer:
                raise LogxError(f"{message}; wait for it to end, or pass allow_second_writer=True to write anyway") from None
            import sys

            print(f"logx: warning: {message}; writing anyway (allow_second_writer=True)", file=sys.stderr)
            return False
        pid = os.getpid()
        owner = {"pid": pid, "host": os.uname().nodename, "start_time": process_start_time(pid), "since": time.time()}
        data = json.dumps(owner).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data + b"\n", 0)
        self._fd = fd
        return True

    def _refusal(self) -> str:
        owner = _owner(self.path)
        who = ", ".join(f"{k} {owner[k]!r}" for k in ("pid", "host", "start_time") if k in owner) or "unknown owner"
        return f"{os.path.dirname(self.path)}: another logx is writing to this logdir ({who}, {self.path})"

    def release(self) -> None:
        """Let the lock go (closing the descriptor drops the flock)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def forget(self) -> None:
        """In a forked child: close this copy of the descriptor; the parent keeps the lock."""
        self.release()
