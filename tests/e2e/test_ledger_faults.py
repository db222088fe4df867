"""Issue 14's ledger and local-farm faults, reproduced with real processes and files: a dead job's pid
held by another process (14.1), a pending run's directory deleted under -i -j 2 (14.12), nohup (14.15a),
a cancelled run reported by its launcher (14.15b), concurrent --resume and resubmit (14.6), malformed
run files (14.7)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_helpers import status_text, wait_for

LONG = "import sys, time\ntime.sleep(float(sys.argv[sys.argv.index('--sleep') + 1]) if '--sleep' in sys.argv else 300)\n"


def launch(project, *args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "runx.runx", *args], cwd=project.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def rows(project, experiment) -> dict:
    done = project.runx("status", experiment)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return {line.split()[0]: line for line in done.stdout.splitlines()[2:]}


def started_pid(run: Path) -> int:
    line = [ln for ln in status_text(run).splitlines() if ln.startswith("started ")][-1]
    return int(next(f for f in line.split() if f.startswith("pid="))[4:])


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---- 14.1: a pid is not a job -----------------------------------------------------------------


@pytest.mark.parametrize("stranger_env", ["plain", "same marker, started later"])
def test_cancel_and_status_never_trust_a_process_that_took_a_dead_jobs_pid(project, stranger_env):
    (project.root / "train.py").write_text(LONG)
    project.write("p.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1]\n")
    runx = launch(project, "p.yml", "-i", "-j", "2")
    wait_for(lambda: project.runs("p") and "started" in status_text(project.runs("p")[0]))
    run = project.runs("p")[0]
    job = started_pid(run)
    marker = open(f"/proc/{job}/environ", "rb").read().split(b"\0")
    assert f"RUNX_JOB={run}".encode() in marker  # how a job is known
    # SIGKILL the launcher and the job before either writes anything more: status.log still says running.
    runx.kill()
    runx.wait()
    os.killpg(job, signal.SIGKILL)
    wait_for(lambda: not alive(job))
    assert status_text(run).splitlines()[-1].startswith("started ")

    # Another process gets the job's pid. The kernel cannot be made to hand out a given pid, so the
    # stranger's pid is written where the job's was: what runx then reads is exactly a reused pid.
    env = dict(os.environ)
    lines = status_text(run).splitlines()
    if stranger_env != "plain":  # it even carries the run's marker, but began after the job's started line
        env["RUNX_JOB"] = str(run)
        head = lines[-1].split()
        lines[-1] = " ".join([head[0], str(int(head[1]) - 100), *head[2:]])
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], env=env, start_new_session=True)
    try:
        lines[-1] = lines[-1].replace(f"pid={job}", f"pid={stranger.pid}")
        (run / "status.log").write_text("\n".join(lines) + "\n")

        row = rows(project, "p")[run.name]
        assert " running " not in row and " failed " in row, row
        done = project.runx("cancel", "p", run.name)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert f"{run.name}: already failed, nothing to cancel" in done.stdout
        time.sleep(0.5)
        assert stranger.poll() is None and alive(stranger.pid)  # untouched
    finally:
        stranger.kill()
        stranger.wait()


def test_status_and_cancel_leave_pid_1_alone(project):
    """A status.log naming pid 1 on this host (hand-made or corrupted): never running, never signalled."""
    (project.root / "train.py").write_text("pass\n")
    project.write("q.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1]\n")
    assert project.runx("q.yml", "-i").returncode == 0
    run = project.runs("q")[0]
    (run / "status.log").write_text(f"queued {int(time.time())} launcher={os.uname().nodename}:{os.getpid()}\n"
                                    f"started {int(time.time())} host={os.uname().nodename} pid=1\n")
    assert " failed " in rows(project, "q")[run.name]
    done = project.runx("cancel", "q", run.name)
    assert done.returncode == 0 and "already failed" in done.stdout, (done.stdout, done.stderr)


# ---- 14.12: a pending run's directory deleted ------------------------------------------------


def test_a_pending_run_whose_directory_is_deleted_fails_alone(project):
    (project.root / "train.py").write_text(LONG)
    project.write("d.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  sleep: [2, 2, 0, 0]\n")
    runx = launch(project, "d.yml", "-i", "-j", "2")
    wait_for(lambda: sum("started" in status_text(r) for r in project.runs("d")) == 2)
    pending = [r for r in project.runs("d") if "started" not in status_text(r)]
    assert len(pending) == 2
    import shutil

    shutil.rmtree(pending[0])
    out, err = runx.communicate(timeout=120)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert runx.returncode == 1, (out, err)
    assert f"[{pending[0].name}] failed: cannot start it" in out
    assert "1 of 4 job(s) failed" in err
    others = [r for r in project.runs("d")]
    assert len(others) == 3 and all(status_text(r).splitlines()[-1].startswith("finished") and "exit=0" in status_text(r)
                                    for r in others)


# ---- 14.15a / 14.15b: nohup; a cancelled run is cancelled -------------------------------------


def test_an_ignored_sighup_stays_ignored(project):
    (project.root / "train.py").write_text(LONG)
    project.write("h.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  sleep: [2]\n")
    runx = subprocess.Popen([sys.executable, "-m", "runx.runx", "h.yml", "-i"], cwd=project.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))  # as nohup does
    wait_for(lambda: project.runs("h") and "started" in status_text(project.runs("h")[0]))
    runx.send_signal(signal.SIGHUP)  # the terminal closes
    out, err = runx.communicate(timeout=60)
    assert runx.returncode == 0, (out, err)
    assert "exit=0" in status_text(project.runs("h")[0]).splitlines()[-1]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_launcher_reports_a_cancelled_run_as_cancelled(project, jobs):
    (project.root / "train.py").write_text(LONG)
    project.write("c.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  sleep: [300, 0]\n")
    runx = launch(project, "c.yml", "-i", "-j", jobs)
    wait_for(lambda: len(project.runs("c")) == 2 and all((r / "run.json").exists() for r in project.runs("c")))
    first = next(r for r in project.runs("c") if json.loads((r / "run.json").read_text())["hparams"]["sleep"] == 300)
    wait_for(lambda: "started" in status_text(first))
    done = project.runx("cancel", "c", first.name)
    assert done.returncode == 0 and f"{first.name}: cancelled" in done.stdout, done.stderr
    out, err = runx.communicate(timeout=120)
    assert runx.returncode == 0, (out, err)
    assert "exit code -15" not in out + err and "failed" not in out + err, (out, err)
    assert (f"[{first.name}] cancelled" if jobs == "2" else f"Job {first.name} was cancelled") in out
    assert " cancelled " in rows(project, "c")[first.name]


# ---- 14.6: concurrent --resume and resubmit ---------------------------------------------------


def test_concurrent_resumes_launch_each_missing_run_once(project):
    (project.root / "train.py").write_text("import sys\n")
    project.write("r.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  lr: [1, 2]\n")
    assert project.runx("r.yml", "-i").returncode == 0  # two of the five configurations are done
    project.write("r.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  lr: [1, 2, 3, 4, 5]\n")
    procs = [launch(project, "r.yml", "-i", "--resume") for _ in range(4)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    lrs = sorted(json.loads((r / "run.json").read_text())["hparams"]["lr"] for r in project.runs("r"))
    assert lrs == [1, 2, 3, 4, 5], lrs  # each missing configuration launched exactly once
    launched = [int(re.search(r"; (\d+) to launch", err).group(1)) for _, err in outs]
    assert sorted(launched) == [0, 0, 0, 3], outs


def test_concurrent_resubmits_rerun_each_failed_run_once(project):
    (project.root / "train.py").write_text(  # a rerun takes a while, so the resubmits overlap it
        "import os, sys, time\n"
        "if open(os.path.join(os.environ['RUNX_LOGDIR'], 'status.log')).read().count('started') > 1:\n"
        "    time.sleep(1)\n"
        "sys.exit(3)\n")
    project.write("f.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1, 2, 3, 4, 5, 6, 7, 8]\n")
    assert project.runx("f.yml", "-i").returncode == 1
    procs = [subprocess.Popen([sys.executable, "-m", "runx.runx", "resubmit", "f", "--failed"], cwd=project.root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all("Traceback" not in err for _, err in outs), outs
    for run in project.runs("f"):
        assert status_text(run).count("started") == 2, (run.name, status_text(run), outs)
    assert sum(out.count("Resubmitting") for out, _ in outs) == 8


# ---- 14.7: one malformed run ------------------------------------------------------------------

MALFORMED = {
    "list": ("run.json", "[1]"),
    "farm string": ("run.json", None),
    "run list": ("run.json", None),
    "started inf": ("status.log", "started inf host=x pid=1\n"),
    "started nan": ("status.log", "started nan host=x pid=1\n"),
    "started 1e20": ("status.log", "started 1e20 host=x pid=1\n"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_one_malformed_run_is_unknown_with_a_note_and_the_others_are_unaffected(project, case):
    (project.root / "train.py").write_text("import sys\nsys.exit(3)\n")
    project.write("m.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1, 2, 3]\n")
    assert project.runx("m.yml", "-i").returncode == 1
    bad, *good = project.runs("m")
    name, text = MALFORMED[case]
    if text is None:
        record = json.loads((bad / "run.json").read_text())
        record.update({"farm": "local"} if case == "farm string" else {"run": ["a"]})
        text = json.dumps(record)
    (bad / name).write_text(text) if name == "run.json" else (bad / name).open("a").write(text)

    table = rows(project, "m")
    assert len(table) == 3
    assert " unknown " in table[bad.name] and name in table[bad.name], table
    assert all(" failed " in table[r.name] for r in good)

    cancel = project.runx("cancel", "m", bad.name)
    assert "Traceback" not in cancel.stderr and f"{bad.name}: not cancelled: {name}" in cancel.stderr, cancel.stderr
    assert status_text(bad).count("cancelled") == 0
    again = project.runx("resubmit", "m", "--failed")
    assert again.returncode == 1 and "Traceback" not in again.stderr, again.stderr  # the good ones fail again
    assert f"{bad.name}: not resubmitted: {name}" in again.stderr
    assert status_text(bad).count("started") == (1 if name == "run.json" else 2)  # the bad run was not rerun
    assert all(status_text(r).count("started") == 2 for r in good)
    resume = project.runx("m.yml", "-i", "--resume", "-n")
    assert resume.returncode == 0 and "Traceback" not in resume.stderr, resume.stderr
    assert f"--resume: {bad.name}: skipped: {name}" in resume.stderr


# ---- SIGKILL of runx between claiming a run and handing it to the farm -----------------------

SLOW_FARM = """#!/usr/bin/env python3
import os, subprocess, sys, time
if os.path.exists(os.environ["SLOW"]):
    time.sleep(30)  # the farm takes its time: runx is killed while it waits
job = sys.argv[sys.argv.index("-c") + 1]
print("Job id: 7", flush=True)
subprocess.run(["bash", "-c", job])
"""


@pytest.mark.parametrize("command", [("resubmit", "k", "--failed"), ("k.yml",)])
def test_runx_killed_before_the_farm_has_a_run_leaves_it_failed_and_resubmittable(project, tmp_path, command):
    """A run runx claimed (queued) but never handed to the farm reads as failed once that runx is gone,
    not queued for ever; resubmit --failed then submits each such run once."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "submit_job").write_text(SLOW_FARM)
    (bin_dir / "submit_job").chmod(0o755)
    slow = tmp_path / "slow"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SLOW": str(slow)}
    project.write(".runx", "LOGROOT: logs\nFARM: big\nbig:\n  SUBMIT_CMD: submit_job\n")
    (project.root / "train.py").write_text("import sys\nsys.exit(3)\n")
    project.write("k.yml", "CMD: python train.py\nHPARAMS:\n  n: [1, 2, 3]\n")
    if command[0] == "resubmit":
        assert project.runx("k.yml", env=env).returncode == 0
        assert all(" failed " in row for row in rows(project, "k").values())
    slow.write_text("")
    runx = subprocess.Popen([sys.executable, "-m", "runx.runx", *command], cwd=project.root, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    queued = "attempt=resubmit" if command[0] == "resubmit" else "queued"

    def all_claimed() -> bool:
        runs = project.runs("k") if (project.root / "logs" / "k").exists() else []
        return len(runs) == 3 and all(queued in status_text(r) and not (r / "staging.json").exists() for r in runs)

    wait_for(all_claimed, timeout=60)
    os.killpg(runx.pid, signal.SIGKILL)  # runx, and the submission it waits on: a group this test made
    runx.wait()
    table = rows(project, "k")
    assert len(table) == 3 and all(" failed " in row for row in table.values()), table
    slow.unlink()
    again = project.runx("resubmit", "k", "--failed", env=env)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr  # the farm took all three
    assert again.stdout.count("resubmitted as job 7") == 3, again.stdout
    for run in project.runs("k"):
        assert status_text(run).count("submitted") == (2 if command[0] == "resubmit" else 1), status_text(run)
    assert all(" failed " in row and " 3 " in row for row in rows(project, "k").values())
