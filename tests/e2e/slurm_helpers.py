"""Helpers for tests against the real single-node Slurm that `.ci/slurm.sh start` runs.

Import as `from slurm_helpers import ...` in tests/e2e, or `from e2e.slurm_helpers import ...`
elsewhere under tests/. Call `require("slurm")` first: these helpers assume Slurm answers.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Iterable, Optional

from runx.core.farms import slurm

DONE = ("succeeded", "failed", "cancelled")


def wait_for_state(job_id: str, states: Iterable[str] = DONE, timeout: float = 120.0) -> slurm.JobState:
    """Poll `slurm.query` until the job reaches one of `states`; fail with what it last was."""
    return wait_for_states([job_id], states, timeout)[job_id]


def wait_for_states(job_ids: list[str], states: Iterable[str] = DONE, timeout: float = 120.0) -> dict:
    """Poll (one query per round for all ids) until every job is in one of `states`."""
    wanted = set(states)
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        answers = slurm.query(job_ids)
        if all(answers[j].state in wanted for j in job_ids):
            return answers
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s, not all in {sorted(wanted)}: {answers}\n{queue_snapshot()}")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


def queue_snapshot() -> str:
    """squeue and sinfo as text, for failure messages."""
    parts = []
    for argv in (["squeue", "--states=all"], ["sinfo", "-N", "-l"]):
        try:
            parts.append(subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout)
        except (OSError, subprocess.TimeoutExpired) as err:
            parts.append(f"{argv[0]}: {err}")
    return "\n".join(parts)


def make_run_dir(root: Path, name: str, body: str) -> Path:
    """A run directory with a POSIX `job.sh` running `body` (the launcher writes the real one)."""
    run_dir = root / name
    run_dir.mkdir(parents=True)
    (run_dir / "job.sh").write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    return run_dir


def submit_run(run_dir: Path, body: Optional[str] = None, options: Optional[list] = None, job_name: str = "") -> str:
    """Write (if `body`) job.sh and batch.sh in `run_dir`, sbatch it, return the job id."""
    if body is not None:
        (run_dir / "job.sh").write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script = slurm.batch_script(
        job_name or f"runx-test-{run_dir.name}", str(run_dir), str(run_dir / "job.sh"), options or []
    )
    path = run_dir / "batch.sh"
    path.write_text(script, encoding="utf-8")
    os.chmod(path, 0o755)
    return slurm.submit(str(path))


def read_output(run_dir: Path, job_id: str, timeout: float = 10.0) -> str:
    """The job's stdout file in the run directory (it can appear a moment after the job ends)."""
    path = run_dir / f"slurm-{job_id}.out"
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.read_text(encoding="utf-8", errors="replace")
