"""Stopping local runs: jobs that ignore SIGTERM are killed after the grace period, whichever way
runx is stopped; a run cancelled while it waits never starts."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from run_helpers import status_text, wait_for

STUBBORN = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
open(os.path.join(os.environ["RUNX_LOGDIR"], "pid"), "w").write(str(os.getpid()))
time.sleep(300)
"""


def has_pid(run) -> bool:
    """Whether the job wrote its whole pid file (it is created empty, then written)."""
    try:
        return (run / "pid").read_text().strip().isdigit()
    except FileNotFoundError:
        return False


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_stopping_runx_stops_jobs_that_ignore_sigterm(project, jobs, signum):
    (project.root / "train.py").write_text(STUBBORN)
    project.write("s.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1, 2, 3]\n")
    # SIGHUP as a closed terminal sends it: not ignored, even when the tests themselves run under nohup
    # (runx keeps an ignored SIGHUP ignored on purpose).
    runx = subprocess.Popen([sys.executable, "-m", "runx.runx", "s.yml", "-i", "-j", jobs], cwd=project.root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "RUNX_GRACE_SECONDS": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    wait_for(lambda: len([r for r in project.runs("s") if has_pid(r)]) == int(jobs))
    pids = [int((r / "pid").read_text()) for r in project.runs("s") if has_pid(r)]
    runx.send_signal(signum)
    assert runx.wait(timeout=30) == 130
    wait_for(lambda: all(gone(pid) for pid in pids), timeout=30)
    from runx.core.status import read_status

    assert [read_status(r).state for r in project.runs("s")] == ["cancelled"] * 3


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_run_cancelled_while_it_waits_never_starts(project, jobs):
    (project.root / "train.py").write_text("import sys, time\ntime.sleep(float(sys.argv[2]))\n")
    project.write("w.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  - {{t: 3}}\n  - {{t: 3}}\n  - {{t: 0}}\n")
    runx = subprocess.Popen([sys.executable, "-m", "runx.runx", "w.yml", "-i", "-j", str(int(jobs))], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: sum("started" in status_text(r) for r in project.runs("w")) == int(jobs))
    waiting = [r for r in project.runs("w") if "started" not in status_text(r)]
    done = project.runx("cancel", "w", *[r.name for r in waiting])
    assert done.returncode == 0, done.stderr
    out, err = runx.communicate(timeout=60)
    assert runx.returncode == 0, (out, err)
    for run in waiting:
        assert "started" not in status_text(run) and "cancelled before it started" in out
    assert project.runx("status", "w").stdout.count(" cancelled ") == len(waiting)


def test_runs_of_a_launcher_killed_with_sigkill_are_not_left_queued(project):
    (project.root / "train.py").write_text(STUBBORN)
    project.write("k.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1, 2, 3]\n")
    runx = subprocess.Popen([sys.executable, "-m", "runx.runx", "k.yml", "-i"], cwd=project.root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: any((r / "pid").exists() for r in project.runs("k")))
    [first] = [r for r in project.runs("k") if (r / "pid").exists()]
    runx.kill()  # SIGKILL: nothing of runx's own cleanup runs; its job keeps running
    runx.wait()

    def states():
        rows = project.runx("status", "k").stdout.splitlines()[2:]
        return {row.split()[0]: row.split()[2] for row in rows}  # run, farm, state (no job id locally)

    assert states() == {r.name: ("running" if r == first else "cancelled") for r in project.runs("k")}
    table = subprocess.run([sys.executable, "-m", "runx.sumx", "k", "--json"], cwd=project.root, capture_output=True, text=True)
    assert {row["run"]: row["state"] for row in json.loads(table.stdout)["rows"]} == states()
    from runx.core.farms.local.proctree import process_tree, stop_processes
    from runx.core.status import read_status

    stop_processes(process_tree(read_status(first).pid), grace=0)  # the job dies too, before writing its exit
    wait_for(lambda: gone(int((first / "pid").read_text())), timeout=30)
    assert set(states().values()) == {"failed", "cancelled"} and states()[first.name] == "failed"
    # it ended, but nothing recorded when: no duration (not one that grows with every look)
    listed = json.loads(project.runx("status", "k", "--json").stdout)
    assert [r["duration"] for r in listed if r["run"] == first.name] == [None]
    resumed = project.runx("k.yml", "--resume", "-n")
    assert resumed.returncode == 0 and "0 configuration(s) already succeeded, queued or running; 3 to launch" in resumed.stderr


LAST_WORDS = """
import os, signal, sys, time
def leave(signum, frame):
    print("last words on SIGTERM", flush=True)
    sys.exit(3)
signal.signal(signal.SIGTERM, leave)
signal.signal(signal.SIGINT, signal.SIG_IGN)
print("start time passed on:", os.environ.get("RUNX_JOB_START"), flush=True)
open(os.path.join(os.environ["RUNX_LOGDIR"], "pid"), "w").write(str(os.getpid()))
time.sleep(300)
"""


def test_what_an_interrupted_plain_i_job_says_as_it_stops_reaches_its_job_log(project):
    (project.root / "train.py").write_text(LAST_WORDS)
    project.write("l.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1]\n")
    before = int(time.time())
    runx = subprocess.Popen([sys.executable, "-m", "runx.runx", "l.yml", "-i"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "RUNX_GRACE_SECONDS": "20"})
    wait_for(lambda: all(has_pid(r) for r in project.runs("l")) and project.runs("l"))
    runx.send_signal(signal.SIGINT)
    out, _ = runx.communicate(timeout=30)
    assert runx.returncode == 130
    [run] = project.runs("l")
    log = (run / "job.log").read_text()
    assert "last words on SIGTERM\n" in log and "last words on SIGTERM\n" in out.decode(), (log, out)
    assert "start time passed on: None\n" in log  # job.sh keeps runx's start time to itself
    started = [line.split() for line in status_text(run).splitlines() if line.startswith("started ")]
    assert len(started) == 1 and before <= int(started[0][1]) <= time.time()
