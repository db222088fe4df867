"""The local pool's two ways of waiting for `-j N` jobs: one os.waitid on any child, and the polling
fallback where Python has no os.waitid. Real job scripts, real processes."""
from __future__ import annotations

import io
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from runx.core.farms.local import pool


def _jobs(tmp_path: Path, codes: list, seconds: float = 0.1) -> list:
    jobs = []
    for i, code in enumerate(codes):
        run_dir = tmp_path / f"run{i}"
        run_dir.mkdir()
        # the shorter a job's sleep, the sooner it ends: the pool must start the next job then, not later
        (run_dir / "job.sh").write_text(f"sleep {seconds * (len(codes) - i)}\necho ran {i} > {run_dir}/out\nexit {code}\n")
        jobs.append(SimpleNamespace(name=f"run{i}", run_dir=run_dir))
    return jobs


@pytest.mark.parametrize("waitid", [True, False], ids=["waitid", "no-waitid"])
def test_every_job_runs_once_and_its_failure_is_counted(tmp_path, monkeypatch, waitid):
    if not waitid:
        monkeypatch.delattr(os, "waitid")
    jobs = _jobs(tmp_path, [0, 3, 0, 1, 0])
    out = io.StringIO()
    assert pool.run_parallel(jobs, 2, [], out) == 2
    for i, job in enumerate(jobs):
        assert (job.run_dir / "out").read_text() == f"ran {i}\n"
    text = out.getvalue()
    assert "[run1] failed with exit code 3" in text and "[run3] failed with exit code 1" in text
    assert text.count("] succeeded") == 3


STRANGER = """
import io, subprocess, sys, time
from pathlib import Path
from types import SimpleNamespace
from runx.core.farms.local import pool
stranger = subprocess.Popen(["true"])  # exits at once, unreaped: a wait on any child may see it first
jobs = [SimpleNamespace(name=p.name, run_dir=p) for p in map(Path, sys.argv[1:])]
before = time.process_time()
print(pool.run_parallel(jobs, 2, [], io.StringIO()), time.process_time() - before)
"""


def test_a_child_that_is_not_a_job_is_reaped_not_waited_on_in_a_busy_loop(tmp_path):
    import subprocess
    import sys

    jobs = _jobs(tmp_path, [0, 0], seconds=1)
    done = subprocess.run([sys.executable, "-c", STRANGER, *(str(j.run_dir) for j in jobs)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    failed, cpu_seconds = done.stdout.split()
    assert failed == "0" and all((j.run_dir / "out").exists() for j in jobs)
    # while its jobs sleep (2 s and 1 s) the pool only waits: a loop spinning on the stranger would burn those seconds
    assert float(cpu_seconds) < 0.5, cpu_seconds
