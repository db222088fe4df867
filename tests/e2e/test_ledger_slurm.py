"""Real Slurm end to end: submit a sweep, status, a failing job, cancel, resubmit --failed, --resume."""
from __future__ import annotations

import json
import sys
import textwrap
import time

from runx_testing import require

TRAIN = textwrap.dedent("""
    import json, os, sys, time
    logdir = os.environ["RUNX_LOGDIR"]
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    with open(os.path.join(logdir, "argv.json"), "w") as f:
        json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "pythonpath": os.environ.get("PYTHONPATH")}, f)
    time.sleep(float(args.get("--sleep", 0)))
    code = int(args.get("--exit", 0))
    if code and os.path.exists(os.path.join(logdir, "retry_ok")):
        code = 0
    sys.exit(code)
""")


def states(project, experiment):
    done = project.runx("status", experiment)
    assert done.returncode == 0, done.stderr
    rows = {}
    for line in done.stdout.splitlines()[2:]:
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


def wait_until(project, experiment, predicate, timeout=180):
    deadline = time.monotonic() + timeout
    while True:
        rows = states(project, experiment)
        if predicate(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last status: {rows}")
        time.sleep(0.5)


def finished(rows):
    return rows and all(r[2] in ("succeeded", "failed", "cancelled") for r in rows.values())


def test_slurm_sweep_status_cancel_resubmit_resume(project):
    require("slurm")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1, mem: 1, time: 10}\n")
    project.write("sweep.yml", f"""\
        CMD: '{sys.executable} train.py'
        HPARAMS:
          - {{exit: 0, n: [1, 2, 3]}}
          - {{exit: 3, n: 4}}
        """)
    done = project.runx("sweep.yml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Submitted batch job") == 4
    rows = wait_until(project, "sweep", finished)
    assert sorted(r[2] for r in rows.values()) == ["failed", "succeeded", "succeeded", "succeeded"]
    [failed_name] = [name for name, r in rows.items() if r[2] == "failed"]
    assert rows[failed_name][3] == "3"
    for run in project.runs("sweep"):
        seen = project.argv_of(run)
        assert seen["cwd"] == str(run / "code") and seen["pythonpath"] == str(run / "code")
        record = json.loads((run / "run.json").read_text())
        assert record["job_id"] and list(run.glob("slurm-*.out")), run
        assert (run / "sbatch.sh").read_text().startswith("#!/bin/sh")

    (project.logroot / "sweep" / failed_name / "retry_ok").write_text("")
    again = project.runx("resubmit", "sweep", "--failed")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("Resubmitting") == 1 and failed_name in again.stdout
    rows = wait_until(project, "sweep", lambda r: finished(r) and r[failed_name][2] == "succeeded")
    assert all(r[2] == "succeeded" for r in rows.values())
    assert rows[failed_name][-1] == "2" and {r[-1] for n, r in rows.items() if n != failed_name} == {"1"}
    assert len(project.runs("sweep")) == 4

    resumed = project.runx("sweep.yml", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Submitted" not in resumed.stdout and "0 to launch" in resumed.stderr
    assert len(project.runs("sweep")) == 4

    project.write("long.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS: {{sleep: 300}}\n")
    assert project.runx("long.yml").returncode == 0
    wait_until(project, "long", lambda r: r and all(x[2] == "running" for x in r.values()))
    cancelled = project.runx("cancel", "long")
    assert cancelled.returncode == 0, cancelled.stderr
    rows = wait_until(project, "long", finished, timeout=60)
    assert [r[2] for r in rows.values()] == ["cancelled"]


def test_slurm_job_array(project):
    require("slurm")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1, mem: 1}\n")
    project.write("arr.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS: {{exit: [0, 3, 0]}}\n")
    done = project.runx("arr.yml", "--array")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Submitted batch job") == 1
    rows = wait_until(project, "arr", finished)
    assert sorted(r[2] for r in rows.values()) == ["failed", "succeeded", "succeeded"]
    assert all("_" in r[1] for r in rows.values())
    exp_dir = project.logroot / "arr"
    assert not list(exp_dir.glob("slurm-*")), "each task's output belongs in its run directory"
    array_id = next(iter(rows.values()))[1].split("_")[0]
    for run in project.runs("arr"):
        assert list(run.glob("slurm-*.out")), run
        submit = (run / "submit_cmd.sh").read_text()
        assert f"of Slurm job array {array_id}:" in submit and str(run / "sbatch.sh") in submit
    dry = project.runx("arr.yml", "--array", "-n", "--verbose")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("sbatch --parsable") == 1
    assert dry.stdout.rstrip().splitlines()[-1].startswith("# one job array of 3 tasks: sbatch --parsable ")
    assert "--array=0-2" in dry.stdout


def test_options_slurm_rejects_are_refused_before_anything_exists(project):
    require("slurm")
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {partition: nosuchpart}\n")
    project.write("sweep.yml", "CMD: python train.py\nHPARAMS: {x: [1, 2]}\n")
    for args in ([], ["--array"]):
        done = project.runx("sweep.yml", *args)
        assert done.returncode == 2, (done.stdout, done.stderr)
        [line] = done.stderr.splitlines()
        assert line.startswith(f"runx: error: {project.root / '.runx'}: slurm.RESOURCES: sbatch rejects --partition=nosuchpart: "), line
        assert "invalid partition" in line.lower()
        assert not project.logroot.exists()
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1}\n")
    done = project.runx("sweep.yml", "-n")  # a dry run asks nothing of the farm
    assert done.returncode == 0, done.stderr
