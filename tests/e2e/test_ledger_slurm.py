"""Real Slurm end to end: submit a sweep, status, a failing job, cancel, resubmit --failed, --resume."""
from __future__ import annotations

import json
import sys

from run_helpers import SCHEDULER_TRAIN as TRAIN
from run_helpers import finished, sweep_with_a_failure, wait_until
from runx_testing import require


def test_slurm_sweep_status_cancel_resubmit_resume(project):
    require("slurm")
    rows, failed_name = sweep_with_a_failure(
        project, "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1, mem: 1, time: 10}\n", "Submitted batch job")
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
