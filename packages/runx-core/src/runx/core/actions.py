"""Acting on recorded runs: cancel them, or resubmit them in their own run directories, each on the farm
it was launched on (rebuilt from its run.json). A run whose files are malformed is skipped with a note."""
from __future__ import annotations

import sys

from runx.core.ledger import group_by_farm
from runx.core.status import record_event, was_cancelled
from runx.core.text import printable

__all__ = ["cancel_runs", "claim_runs", "resubmit_runs", "skipped"]


def skipped(entries: list, action: str) -> list:
    """The entries to act on: those with a note (malformed files) are named on stderr and left out."""
    for e in entries:
        if e.note:
            sys.stderr.write(printable(f"runx: {e.name}: not {action}: {e.note}") + "\n")
    return [e for e in entries if not e.note]


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
            if not was_cancelled(e.run_dir):  # a farm may record it itself, before it signals
                record_event(e.run_dir, "cancelled", reason="runx-cancel")
            print(f"{printable(e.name)}: cancelled")
    return 1 if failed else 0


def claim_runs(entries: list) -> list:
    """Claim each run for resubmission on its farm (under the experiment lock), once every one is known to be
    resubmittable (RunxError, and nothing claimed, when one is not)."""
    for e in entries:
        e.farm.check_resubmit(e)
    for e in entries:
        e.farm.claim(e)
    return list(entries)


def resubmit_runs(entries: list) -> int:
    """Run or submit each claimed run again from its own staged code and arguments; 1 if any failed."""
    if not entries:
        print("nothing to resubmit")
        return 0
    failed = 0
    for e in entries:
        print(printable(f"Resubmitting {e.name} ({e.farm.kind})"))
        sys.stdout.flush()
        failed += not e.farm.resubmit(e)
    return 1 if failed else 0
