"""The experiment lock: one runx at a time decides what to launch in an experiment and claims it.

`runx EXP.yml --resume` and `runx resubmit --failed` read the ledger, pick runs and record their
claim (a new run's `queued` line, or a resubmitted run's); done by two runx processes at once, both
would pick the same runs. Both hold this lock, a POSIX record lock (fcntl) on `.runx.lock` in the
experiment directory, from reading to claiming. On NFS the lock works where the client and server
run a lock manager (NFSv4, or NFSv3 with lockd); where locking is refused runx warns and goes on
unlocked, as before.
"""
from __future__ import annotations

import errno
import fcntl
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from runx.core.errors import RunxError

__all__ = ["experiment_lock", "LOCK_FILE"]

LOCK_FILE = ".runx.lock"


@contextmanager
def experiment_lock(exp_dir: Path, create: bool = False, err: TextIO = sys.stderr) -> Iterator[None]:
    """Hold the experiment's lock (waiting for another runx that holds it); `create` makes the directory."""
    if create:
        exp_dir.mkdir(parents=True, exist_ok=True)
    elif not exp_dir.is_dir():
        raise RunxError(f"{exp_dir}: no such experiment directory")
    path = exp_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        err.write(f"runx: warning: cannot open the experiment lock {path}: {error.strerror}; going on without it\n")
        yield
        return
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                err.write(f"runx: waiting for another runx working on {exp_dir} (lock: {path})\n")
                err.flush()
                fcntl.lockf(fd, fcntl.LOCK_EX)
            else:  # ENOLCK, EOPNOTSUPP: a file system without locks (NFS without a lock manager)
                err.write(f"runx: warning: cannot lock {path}: {error.strerror}; concurrent runx may pick the same runs\n")
        yield
    finally:
        os.close(fd)  # releases the lock
