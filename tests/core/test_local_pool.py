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


INTERRUPTED_WHILE_STARTING = """
import io, os, signal, sys, time
from pathlib import Path
from types import SimpleNamespace
from runx.core.farms.local import pool
real_start = pool.start
def start(run_dir, *args, **kwargs):  # Ctrl-C lands once the job runs, before runx has noted it
    proc = real_start(run_dir, *args, **kwargs)
    deadline = time.monotonic() + 30
    while not (Path(run_dir) / "pid").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)
    return proc
pool.start = start
jobs = [SimpleNamespace(name=p.name, run_dir=p) for p in map(Path, sys.argv[2:])]
if sys.argv[1] == "parallel":
    print(pool.run_parallel(jobs, 2, [], io.StringIO()))
else:
    print(pool.run_sequential(jobs, io.StringIO()))
"""


@pytest.mark.parametrize("launcher", ["parallel", "sequential"])
def test_a_ctrl_c_while_a_job_starts_stops_that_job_and_records_it_cancelled(tmp_path, launcher):
    import subprocess
    import sys

    from runx.core.status import read_status

    runs = []
    for name in ("run0", "run1"):
        run_dir = tmp_path / name
        run_dir.mkdir()
        (run_dir / "job.sh").write_text(f"echo $$ > {run_dir}/pid.new && mv {run_dir}/pid.new {run_dir}/pid\nexec sleep 300\n")
        runs.append(run_dir)
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_STARTING, launcher, *map(str, runs)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "-1\n", done.stderr
    assert [read_status(run).state for run in runs] == ["cancelled", "cancelled"]
    pid = int((runs[0] / "pid").read_text())  # the job that was starting: stopped, not left running
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert not (runs[1] / "pid").exists()


def test_an_interrupt_held_while_a_job_starts_arrives_after_the_block(tmp_path):
    import signal

    steps = []
    with pytest.raises(KeyboardInterrupt):
        with pool.interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("after the signal")
        steps.append("after the block")
    assert steps == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_search_cancelling_a_job_it_just_started_stops_it_before_the_job_has_said_started(tmp_path):
    """The search driver cancels what is in flight on Ctrl-C: a job it started a moment ago has no pid in its
    status.log yet, and is still stopped (runx holds its process), not left running."""
    import time

    from runx.core.config import FarmSettings
    from runx.core.farms.local import LocalFarm
    from runx.core.status import read_status

    run_dir = tmp_path / "run0"
    run_dir.mkdir()
    (run_dir / "job.sh").write_text(f"echo $$ > {run_dir}/pid.new && mv {run_dir}/pid.new {run_dir}/pid\nexec sleep 300\n")  # it never writes `started`
    farm = LocalFarm(FarmSettings(name="local", kind="local"))
    assert farm.start(SimpleNamespace(name="run0", run_dir=run_dir))
    deadline = time.monotonic() + 30
    while not (run_dir / "pid").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    pid = int((run_dir / "pid").read_text())
    farm.cancel([SimpleNamespace(run_dir=run_dir, status=read_status(run_dir))])
    assert read_status(run_dir).state == "cancelled"
    assert not os.path.exists(f"/proc/{pid}")  # stopped and reaped
