"""Large sweeps on a real Slurm: stage and submit N runs (job arrays, and one job per run), then `runx status`.

  python bench/run.py --only slurm [--quick]

Every job is submitted held (RESOURCES `hold: true`) with a trivial CMD, so the figures are runx's and
the controller's, nothing runs on the machine, and `runx status` asks Slurm about every run (all are
queued: the worst case). Each launch's jobs are cancelled and its runs removed afterwards. Where no
Slurm answers, the area is skipped with a note.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from timing import ENV  # bench/ is on sys.path

CONFIG = "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1, mem: 0.1, hold: true}\n"
TRAIN = "import sys\n"


def unavailable() -> Optional[str]:
    """Why Slurm cannot be benchmarked here, or None when sinfo answers."""
    if shutil.which("sbatch") is None:
        return "no sbatch on PATH (start one with .ci/slurm.sh start)"
    try:
        done = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"sinfo does not answer: {err}"
    return None if done.returncode == 0 else f"sinfo failed: {done.stderr.strip()[:200]}"


def too_few_jobs(needed: int) -> Optional[str]:
    """Why the controller cannot hold `needed` jobs at once (its MaxJobCount), or None.

    Every task of a held array counts, and cancelled ones stay MinJobAge (300 s on the CI cluster), so
    the area's launches need room for all their runs together; below that sbatch sleeps and retries for
    minutes and then fails (.ci/slurm.sh sets MaxJobCount=50000)."""
    try:
        done = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"^MaxJobCount\s*=\s*(\d+)", done.stdout, re.M)
    if found and int(found.group(1)) < needed:
        return f"the cluster's MaxJobCount {int(found.group(1)):,} < {needed:,} jobs this area holds at once"
    return None


class Launch:
    """One experiment of `runs` runs in `work`, launched once; its status timed; then cancelled and removed."""

    def __init__(self, work: Path, name: str, runs: int, array: bool) -> None:
        self.work, self.name, self.runs, self.array = work, name, runs, array
        work.mkdir(parents=True, exist_ok=True)
        (work / ".runx").write_text(CONFIG)
        (work / "train.py").write_text(TRAIN)
        tens = max(1, runs // 10)
        (work / f"{name}.yml").write_text(f"CMD: '{sys.executable} train.py'\nHPARAMS:\n"
                                          f"  a: {list(range(tens))}\n  b: {list(range(runs // tens))}\n")
        self.job_ids: list = []

    def submit(self) -> float:
        """Seconds to stage and submit every run (a whole `runx EXP.yml` process)."""
        argv = [sys.executable, "-m", "runx.runx", f"{self.name}.yml", "--array" if self.array else "--no-array"]
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=self.work, capture_output=True, text=True, env=ENV)
        took = time.perf_counter() - start
        self.job_ids = re.findall(r"^Submitted batch job (\d+)", done.stdout, re.M)
        if done.returncode != 0:
            raise RuntimeError(f"runx exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return took

    def status(self) -> float:
        """Seconds for `runx status EXP` (every run queued, so Slurm is asked about all)."""
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "runx.runx", "status", self.name], cwd=self.work, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        return time.perf_counter() - start

    def clean(self) -> None:
        for i in range(0, len(self.job_ids), 500):
            subprocess.run(["scancel", *self.job_ids[i:i + 500]], capture_output=True, timeout=120)
        shutil.rmtree(self.work / "logs" / self.name, ignore_errors=True)
