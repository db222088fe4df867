"""Acting on recorded runs: cancel them, or resubmit them in their own run directories, each on the farm
it was launched on (rebuilt from its run.json)."""
from __future__ import annotations

import sys

from runx.core.ledger import group_by_farm
from runx.core.status import record_event
from runx.core.text import printable

__all__ = ["cancel_runs", "resubmit_runs"]


def cancel_runs(entries: list) -> int:
    """Cancel each open run on its farm and record it; 1 if any could not be."""
    open_runs = [e for e in entries if e.state in ("queued", "running")]
    problems: dict = {}
    for farm, runs in group_by_farm(open_runs).items():
        problems.update(farm.cancel(runs))
    failed = 0
    for e in entries:
        if e.state not in ("queued", "running"):
            print(f"{printable(e.name)}: already {e.state}, nothing to cancel")
        elif e.run_dir in problems:
            sys.stderr.write(printable(f"runx: {e.name}: {problems[e.run_dir]}") + "\n")
            failed += 1
        else:
            record_event(e.run_dir, "cancelled", reason="runx-cancel")
            print(f"{printable(e.name)}: cancelled")
    return 1 if failed else 0


def resubmit_runs(entries: list) -> int:
    """Run or submit each run again from its own staged code and arguments; 1 if any failed."""
    if not entries:
        print("nothing to resubmit")
        return 0
    farm_of = {e.run_dir: farm for farm, runs in group_by_farm(entries).items() for e in runs}
    failed = 0
    for e in entries:
        farm = farm_of[e.run_dir]
        print(printable(f"Resubmitting {e.name} ({farm.kind})"))
        sys.stdout.flush()
        failed += not farm.resubmit(e)
    return 1 if failed else 0
