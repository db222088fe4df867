"""Acting on recorded runs: cancel them, or resubmit them in their own run directories."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

from runx.core.errors import RunxError
from runx.core.farms.base import run_submissions
from runx.core.runfiles import RUN_FILE, record_submission
from runx.core.status import launcher_id, record_event

__all__ = ["cancel_runs", "resubmit_runs"]


def cancel_runs(entries: list) -> int:
    """Cancel each run on its farm (or its local processes) and record it; 1 if any could not be."""
    failed = 0
    slurm_ids = [e.job_id for e in entries if e.farm_kind == "slurm" and e.job_id]
    if slurm_ids:
        from runx.core.farms import slurm

        slurm.cancel(slurm_ids)
    for e in entries:
        if e.state not in ("queued", "running"):
            print(f"{e.name}: already {e.state}, nothing to cancel")
            continue
        kind = e.farm_kind
        if kind == "local":
            status = e.status
            if status and status.pid and status.host in (None, socket.gethostname(), os.uname().nodename):
                from runx.core.proctree import process_tree, stop_processes

                stop_processes(process_tree(status.pid))  # the job script first: it cannot record the kill as a failure
        elif kind == "ngc" and e.job_id:
            subprocess.run(["ngc", "batch", "kill", e.job_id], check=False)
        elif kind not in ("slurm",):
            sys.stderr.write(f"runx: {e.name}: farm type {kind} has no cancel command; cancel job {e.job_id or '?'} with the farm's own tool\n")
            failed += 1
            continue
        record_event(e.run_dir, "cancelled", reason="runx-cancel")
        print(f"{e.name}: cancelled")
    return 1 if failed else 0


def resubmit_runs(entries: list) -> int:
    """Run or submit each run again from its own staged code and arguments; 1 if any failed."""
    if not entries:
        print("nothing to resubmit")
        return 0
    failed = 0
    for e in entries:
        kind = e.farm_kind
        print(f"Resubmitting {e.name} ({kind})")
        sys.stdout.flush()
        record_event(e.run_dir, "queued", attempt="resubmit", launcher=launcher_id() if kind == "local" else None)
        argvs = e.record.get("submit_argv")
        if not argvs:
            raise RunxError(f"{e.run_dir / RUN_FILE}: submit_argv: missing; cannot resubmit")
        result = run_submissions(argvs, capture=kind != "local")
        if kind == "local":
            failed += result.returncode != 0
        elif not record_submission(e.run_dir, result.returncode, result.job_id):
            failed += 1
        elif result.job_id:
            print(f"{e.name}: resubmitted as job {result.job_id}")
    return 1 if failed else 0
