"""`--fail-fast` on a farm: after submitting, runx watches this launch's runs and, once one fails,
cancels those the farm still holds queued (the running ones go on; `runx cancel` stops them)."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from runx.logx.rundir.status import INTERRUPTED_STATES

__all__ = ["watch"]

ENDED = ("succeeded", "failed", "cancelled", "unknown", *INTERRUPTED_STATES)  # timeout, preempted: a scheduler ended it


def watch(jobs: list, exp_dir: Path, out: TextIO = sys.stdout, first_wait: float = 2.0, longest_wait: float = 30.0) -> int:
    """Poll the ledger (one batched farm query a round, waits growing from `first_wait` to `longest_wait`
    seconds) until a run of `jobs` fails, then cancel this launch's queued runs; or until every run has
    ended. The number of failed runs; 130 when interrupted (the runs go on)."""
    from runx.core.actions import cancel_runs
    from runx.core.ledger import read_ledger
    from runx.core.text import printable

    mine = {Path(job.run_dir) for job in jobs}
    wait = first_wait
    out.write(f"runx: --fail-fast: watching the {len(jobs)} run(s) of this launch (Ctrl-C stops watching; the runs go on)\n")
    out.flush()
    try:
        while True:
            entries = [e for e in read_ledger(exp_dir) if e.run_dir in mine]
            failed = [e for e in entries if e.state == "failed"]
            if failed:
                queued = [e for e in entries if e.state == "queued"]
                out.write(printable(f"runx: --fail-fast: run {failed[0].name} failed; cancelling the {len(queued)} "
                                    "queued run(s) of this launch") + "\n")
                out.flush()
                cancel_runs(queued)
                return len(failed)
            if all(e.state in ENDED for e in entries):
                return 0
            time.sleep(wait)
            wait = min(longest_wait, wait * 1.5)
    except KeyboardInterrupt:
        out.write("runx: --fail-fast: stopped watching; the runs go on (runx status, runx cancel)\n")
        return 130
