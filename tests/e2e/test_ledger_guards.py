"""runx status|cancel|resubmit act on one experiment, and never on a run that is still alive."""
from __future__ import annotations

import pytest


def launch_two_experiments(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS: {exit: [3]}\n")
    for name in ("expA", "expB"):
        done = project.runx("exp.yml", "-i", "--exp_name", name)
        assert done.returncode == 1, done.stderr  # the job exits 3: a failed run in each


@pytest.mark.parametrize("experiment", ["", " ", ".", "./", "expA/..", "expA/../..", "/"])
def test_a_name_that_is_not_an_experiment_is_refused(project, experiment):
    launch_two_experiments(project)
    for command in ("status", "cancel", "resubmit"):
        done = project.runx(command, experiment, *(["--failed"] if command == "resubmit" else []))
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert done.stderr.startswith("runx: error: EXPERIMENT: expected an experiment name"), done.stderr
        assert done.stderr.count("\n") == 1
    for name in ("expA", "expB"):
        [run] = project.runs(name)
        assert (run / "status.log").read_text().count("started") == 1  # nothing was resubmitted


@pytest.mark.parametrize("path", ["LOGROOT", "../PROJECT/logs"])
def test_a_directory_holding_several_experiments_is_refused(project, path):
    launch_two_experiments(project)
    path = path.replace("LOGROOT", str(project.logroot)).replace("PROJECT", project.root.name)
    done = project.runx("resubmit", path, "--failed")
    assert done.returncode == 2
    assert done.stderr.strip() == f"runx: error: {path}: holds the runs of 2 experiments (expA, expB); name one of them"
    assert project.runx("status", "expA").stdout.count("failed") == 1


def test_resubmit_refuses_a_run_that_is_still_running(project, tmp_path):
    import os
    import subprocess
    import sys
    import time

    project.write("exp.yml", "CMD: python -c 'import time; time.sleep(60)'\nHPARAMS: {x: [1]}\n")
    launcher = subprocess.Popen([sys.executable, "-m", "runx.runx", "exp.yml", "-i"], cwd=project.root,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = project.runs("exp")
            status = runs[0] / "status.log" if runs else None  # the run dir exists before its status.log
            if status is not None and status.exists() and "started" in status.read_text():
                break
            time.sleep(0.1)
        [run] = project.runs("exp")
        done = project.runx("resubmit", "exp", run.name)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == f"runx: error: runx resubmit: {run.name} (running) may still run; cancel first (runx cancel EXP RUN)"
        assert (run / "status.log").read_text().count("queued") == 1
    finally:
        os.killpg(launcher.pid, 9)
        launcher.wait()


FLAKY_SBATCH = """#!/bin/sh
# Accepts the options when asked with --test-only, rejects the submission itself (a limit reached meanwhile).
for arg in "$@"; do [ "$arg" = --test-only ] && exit 0; done
echo "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy" >&2
exit 1
"""


def test_a_submission_slurm_rejects_is_recorded_failed_not_left_queued(project, tmp_path):
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(FLAKY_SBATCH)
    (bin_dir / "sbatch").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1}\n")
    project.write("exp.yml", "CMD: python train.py\nHPARAMS: {x: [1, 2]}\n")
    done = project.runx("exp.yml", env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.count("violates accounting/QOS policy") == 2
    for run in project.runs("exp"):
        assert (run / "status.log").read_text().splitlines()[-1].endswith("exit=1 reason=submission-failed")
    rows = project.runx("status", "exp", env=env).stdout.splitlines()[2:]
    assert len(rows) == 2 and all(" failed " in row for row in rows), rows
