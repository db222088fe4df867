"""Plain `-i` streams each job's output live and writes it to the run's job.log (through a pseudo-terminal
when runx's stdout is a terminal); `--fail-fast` stops a launch at the first failed run, here and on Slurm."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap
import time

from runx_testing import require

TRAIN = textwrap.dedent("""
    import os, sys, time
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    time.sleep(float(args.get("--sleep", 0)))
    print("out", args.get("--n"), "tty" if sys.stdout.isatty() else "pipe", flush=True)
    print("err", args.get("--n"), file=sys.stderr, flush=True)
    sys.exit(int(args.get("--exit", 0)))
""")


def states(project, experiment):
    done = project.runx("status", experiment)
    assert done.returncode == 0, done.stderr
    known = ("queued", "running", "succeeded", "failed", "cancelled")
    return {line.split()[0]: next(c for c in line.split() if c in known) for line in done.stdout.splitlines()[2:]}


def test_plain_i_streams_output_live_and_into_job_log(project):
    (project.root / "train.py").write_text(TRAIN)
    project.write("exp.yml", "CMD: 'python train.py'\nHPARAMS: {n: [1, 2]}\n")
    done = project.runx("exp.yml", "-i")
    assert done.returncode == 0, done.stderr
    for run in project.runs("exp"):
        n = json.loads((run / "hparams.json").read_text())["n"]
        assert f"out {n} pipe\n" in done.stdout and f"err {n}\n" in done.stderr
        log = (run / "job.log").read_text()
        assert f"out {n} pipe\n" in log and f"err {n}\n" in log, log
    assert done.stdout.index("out 1") < done.stdout.index("Running job", done.stdout.index("out 1"))

    primary, secondary = pty.openpty()  # runx in a terminal: the job sees one too
    proc = subprocess.Popen([sys.executable, "-m", "runx.runx", "exp.yml", "-i", "n=3"], cwd=project.root,
                            stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=120) == 0, seen
    os.close(primary)
    assert b"out 3 tty\r\n" in seen and b"err 3\r\n" in seen, seen
    [run] = [r for r in project.runs("exp") if json.loads((r / "run.json").read_text())["hparams"] == {"n": 3}]
    log = (run / "job.log").read_text()
    assert "out 3 tty\n" in log and "err 3\n" in log and "\r" not in log, log


def test_fail_fast_here_stops_at_the_first_failure(project):
    (project.root / "train.py").write_text(TRAIN)
    project.write("exp.yml", "CMD: 'python train.py'\nHPARAMS:\n  exit: [0, 3, 0, 0]\n")
    done = project.runx("exp.yml", "-i", "--fail-fast")
    assert done.returncode == 1
    assert "runx: --fail-fast: job " in done.stdout and "failed; 2 run(s) not started recorded as cancelled" in done.stdout
    assert sorted(states(project, "exp").values()) == ["cancelled", "cancelled", "failed", "succeeded"]
    assert done.stdout.count("out ") == 2

    project.write("par.yml", "CMD: 'python train.py'\nHPARAMS: [{exit: 3, n: 0}, {exit: 0, sleep: 2, n: [1, 2, 3, 4]}]\n")
    done = project.runx("par.yml", "-i", "-j", "2", "--fail_fast")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed; 3 run(s) not started recorded as cancelled" in done.stdout, done.stdout
    assert sorted(states(project, "par").values()) == ["cancelled"] * 3 + ["failed", "succeeded"]  # the running one ran on
    assert "--fail-fast" in project.runx("--help").stdout


def test_fail_fast_on_slurm_cancels_the_queued_runs_of_the_launch(project):
    require("slurm")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1, mem: 1, time: 10}\n")
    project.write("exp.yml", "CMD: 'python train.py'\nHPARAMS: [{exit: 3, n: 0}, {sleep: 60, n: [1, 2, 3, 4, 5]}]\n")
    try:
        done = project.runx("exp.yml", "--fail-fast", timeout=300)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "runx: --fail-fast: watching the 6 run(s) of this launch" in done.stdout
        assert "failed; cancelling the " in done.stdout, done.stdout
        rows = states(project, "exp")
        assert list(rows.values()).count("failed") == 1
        cancelled = [name for name, state in rows.items() if state == "cancelled"]
        assert cancelled, rows  # 2 cores, 6 one-core jobs: some were still queued
        for name in cancelled:  # cancelled while queued (one may start in the moment before scancel reaches it)
            assert "exit=0" not in (project.logroot / "exp" / name / "status.log").read_text()
    finally:
        project.runx("cancel", "exp")
    deadline = time.monotonic() + 60
    while any(s in ("queued", "running") for s in states(project, "exp").values()) and time.monotonic() < deadline:
        time.sleep(1)
