"""The scheduler's warning before a time limit: a last checkpoint, then exit 75 so runx requeues the run.

runx's Slurm job script exports RUNX_REQUEUE_SIGNAL (e.g. USR1) and passes that signal on when Slurm
sends it. `logx.initialize()` then catches it; the handler only notes it. At the next safe point, the
end of `save_model()` (the checkpoint just written is the last one) or of `metric()` when an
`on_requeue` callback was given (logx calls it, and it saves), logx closes its files and raises
SystemExit(REQUEUE_EXIT), after appending a `requeue` line to the run's status.log (a multi-node launcher,
torchrun or srun, does not pass the 75 on; runx's job script reads that line instead). Only rank 0 leaves:
another rank that left by itself could leave rank 0 waiting in a collective, to crash before it saves, so
the other ranks only note the signal and are ended with the job. The next attempt resumes in the same
logdir: the metrics continue and `latest_checkpoint()` names the checkpoint to load. Without the variable
nothing is installed.
"""
from __future__ import annotations

import os
import signal
import threading
import weakref
from typing import Any, Optional

__all__ = ["REQUEUE_EXIT", "SIGNAL_VARIABLE", "install", "requeue_signal"]

REQUEUE_EXIT = 75
"""EX_TEMPFAIL: the job saved its state and asks to be requeued (runx.logx.rundir.status.REQUEUE_EXIT)."""
SIGNAL_VARIABLE = "RUNX_REQUEUE_SIGNAL"


def requeue_signal() -> Optional[int]:
    """The signal number RUNX_REQUEUE_SIGNAL names (USR1 or USR2), or None."""
    name = os.environ.get(SIGNAL_VARIABLE, "").strip().upper()
    if name.startswith("SIG"):
        name = name[3:]
    return int(getattr(signal, f"SIG{name}")) if name in ("USR1", "USR2") and hasattr(signal, f"SIG{name}") else None


def install(log: Any) -> bool:
    """Catch the requeue signal for `log` (noted in `log.requeue_requested`); False when there is none to catch
    or this is not the main thread (only it may set signal handlers)."""
    number = requeue_signal()
    if number is None or threading.current_thread() is not threading.main_thread():
        return False
    ref = weakref.ref(log)

    def note(signum: int, frame: Any) -> None:
        target = ref()
        if target is not None:
            target.requeue_requested = signum

    signal.signal(number, note)
    return True
