"""Real Grid Engine end to end: a sweep, status, a failing job (exit code from qacct), cancel (qdel),
resubmit --failed, --resume, an array job, options the cell rejects, and the dry run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from run_helpers import SCHEDULER_TRAIN as TRAIN
from run_helpers import finished, sweep_with_a_failure, wait_until
from runx.core.farms import sge
from runx_testing import require

RUNX = "LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  RESOURCES: {RESOURCES}\n"


def qstat_ids():
    done = subprocess.run(["qstat", "-u", "*"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return {line.split()[0] for line in done.stdout.splitlines()[2:] if line.strip()}


def wait_for_acct(job_id, timeout=60):
    """qacct's record of an ended job (qstat may list it a moment after it wrote status.log, and the
    cell flushes its accounting every second or so)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = sge.query([job_id])[job_id]
        if answer.state in ("succeeded", "failed"):
            return answer
        assert time.monotonic() < deadline, f"qacct has no record of job {job_id}"
        time.sleep(0.5)


def test_sge_sweep_status_fail_cancel_resubmit_resume(project):
    require("sge")
    rows, failed_name = sweep_with_a_failure(
        project, RUNX.replace("{RESOURCES}", "{cpu: 2, time: 10, h_vmem: 2G}"), "Submitted SGE job")
    assert {r[0] for r in rows.values()} == {"sge"}
    for run in project.runs("sweep"):
        seen = project.argv_of(run)
        assert seen["cwd"] == str(run / "code") and seen["pythonpath"] == str(run / "code")
        assert seen["nslots"] == "2", "cpu: 2 is two slots of the smp parallel environment"
        record = json.loads((run / "run.json").read_text())
        assert record["job_id"] == seen["job_id"] and record["farm"]["type"] == "sge"
        assert record["submit_argv"] == [["qsub", "-terse", str(run / "qsub.sh")]]
        out = (run / f"sge-{record['job_id']}.out").read_text()
        assert out.startswith("trained --exit "), out
        script = (run / "qsub.sh").read_text()
        assert script.startswith("#!/bin/sh\n") and "#$ -pe smp 2\n" in script and "#$ -l h_rt=0:10:00\n" in script
        assert "#$ -l h_vmem=2G\n" in script and f"#$ -N sweep_{run.name}\n" in script

    # Grid Engine's accounting agrees with status.log about the failed job.
    killed = project.logroot / "sweep" / failed_name
    record = json.loads((killed / "run.json").read_text())
    answer = wait_for_acct(record["job_id"])
    assert (answer.state, answer.exit_code) == ("failed", 3), answer

    (killed / "retry_ok").write_text("")
    again = project.runx("resubmit", "sweep", "--failed")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("Resubmitting") == 1 and failed_name in again.stdout
    rows = wait_until(project, "sweep", lambda r: finished(r) and r[failed_name][2] == "succeeded")
    assert all(r[2] == "succeeded" for r in rows.values())
    assert rows[failed_name][-1] == "2" and {r[-1] for n, r in rows.items() if n != failed_name} == {"1"}
    assert rows[failed_name][1] != record["job_id"], "the resubmission is a new job"
    assert len(project.runs("sweep")) == 4

    resumed = project.runx("sweep.yml", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Submitted" not in resumed.stdout and "0 to launch" in resumed.stderr

    project.write("long.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS: {{sleep: 300}}\n")
    assert project.runx("long.yml").returncode == 0
    rows = wait_until(project, "long", lambda r: r and all(x[2] == "running" for x in r.values()))
    [long_id] = [r[1] for r in rows.values()]
    assert long_id in qstat_ids()
    cancelled = project.runx("cancel", "long")
    assert cancelled.returncode == 0, cancelled.stderr
    rows = wait_until(project, "long", finished, timeout=60)
    assert [r[2] for r in rows.values()] == ["cancelled"]
    deadline = time.monotonic() + 60
    while long_id in qstat_ids():  # qdel took the job off the cell
        assert time.monotonic() < deadline, f"job {long_id} still in qstat after runx cancel"
        time.sleep(0.5)


def test_sge_job_killed_outside_runx_reads_failed_with_qacct_exit(project):
    require("sge")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", RUNX.replace("{RESOURCES}", "{time: 10}"))
    project.write("kill.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS: {{sleep: 300}}\n")
    assert project.runx("kill.yml").returncode == 0
    rows = wait_until(project, "kill", lambda r: r and all(x[2] == "running" for x in r.values()))
    [job_id] = [r[1] for r in rows.values()]
    subprocess.run(["qdel", job_id], capture_output=True, timeout=30, check=True)  # not runx: only qacct knows
    rows = wait_until(project, "kill", finished, timeout=90)
    assert [(r[2], r[3]) for r in rows.values()] == [("failed", "137")], rows


def test_sge_array_job(project):
    require("sge")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", RUNX.replace("{RESOURCES}", "{time: 10}"))
    project.write("arr.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS: {{exit: [0, 3, 0]}}\n")
    done = project.runx("arr.yml", "--array")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Submitted SGE job") == 1 and "(array of 3)" in done.stdout
    rows = wait_until(project, "arr", finished)
    assert sorted(r[2] for r in rows.values()) == ["failed", "succeeded", "succeeded"]
    array_id = next(iter(rows.values()))[1].split(".")[0]
    assert sorted(r[1] for r in rows.values()) == [f"{array_id}.{k}" for k in (1, 2, 3)]
    exp_dir = project.logroot / "arr"
    assert not list(exp_dir.glob("sge-*")) and not list(exp_dir.glob("*.errors")), "task output belongs in its run directory"
    for run in project.runs("arr"):
        seen = project.argv_of(run)
        record = json.loads((run / "run.json").read_text())
        assert record["job_id"] == f"{array_id}.{seen['task']}"
        assert (run / f"sge-{array_id}.{seen['task']}.out").read_text().startswith("trained")
        submit = (run / "submit_cmd.sh").read_text()
        assert f"of Grid Engine array job {array_id}:" in submit and str(run / "qsub.sh") in submit
    [failed_name] = [name for name, r in rows.items() if r[2] == "failed"]
    assert rows[failed_name][3] == "3"
    (exp_dir / failed_name / "retry_ok").write_text("")
    again = project.runx("resubmit", "arr", "--failed")  # a task is resubmitted alone, as its own job
    assert again.returncode == 0, again.stderr
    rows = wait_until(project, "arr", lambda r: finished(r) and r[failed_name][2] == "succeeded")
    assert "." not in rows[failed_name][1]

    dry = project.runx("arr.yml", "--array", "-n", "--verbose")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.rstrip().splitlines()[-1].startswith("# one array job of 3 tasks: qsub -terse ")
    assert "-t 1-3" in dry.stdout


def test_sge_rejects_are_refused_before_anything_exists(project):
    require("sge")
    project.write(".runx", RUNX.replace("{RESOURCES}", "{queue: nosuch.q}"))
    project.write("sweep.yml", "CMD: python train.py\nHPARAMS: {x: [1, 2]}\n")
    for args in ([], ["--array"]):
        done = project.runx("sweep.yml", *args)
        assert done.returncode == 2, (done.stdout, done.stderr)
        [line] = done.stderr.splitlines()
        assert line.startswith(f"runx: error: {project.root / '.runx'}: sge.RESOURCES: qsub rejects -q nosuch.q: "), line
        assert "unknown queue" in line
        assert not project.logroot.exists()
    project.write(".runx", RUNX.replace("{RESOURCES}", "{cpu: 4, mem: 2, time: 90, queue: all.q, arch: lx-amd64}"))
    done = project.runx("sweep.yml", "-n")  # a dry run asks nothing of the cell
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == ("qsub -pe smp 4 -l mem_free=2G -l h_rt=1:30:00 -q all.q -l arch=lx-amd64 "
                                           "-l s_rt=1:28:30 -b y \"python train.py --x 1\""), "s_rt: the warning, 90 s before h_rt"


def test_sge_status_of_many_runs_is_one_qstat_call(project, tmp_path):
    require("sge")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "qstat.calls"
    real = subprocess.run(["sh", "-c", "command -v qstat"], capture_output=True, text=True).stdout.strip()
    wrapper = bin_dir / "qstat"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", RUNX.replace("{RESOURCES}", "{time: 10}"))
    project.write("many.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS: {{sleep: 120, n: [1, 2, 3, 4, 5]}}\n")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    assert project.runx("many.yml", env=env).returncode == 0
    job_ids = [json.loads((r / "run.json").read_text())["job_id"] for r in project.runs("many")]
    try:
        deadline = time.monotonic() + 60
        while len(qstat_ids() & set(job_ids)) < 5:  # all five known to the cell (queued: 2 slots here)
            assert time.monotonic() < deadline
            time.sleep(0.3)
        calls.unlink(missing_ok=True)
        status = project.runx("status", "many", env=env)
        assert status.returncode == 0, status.stderr
        rows = status.stdout.splitlines()[2:]
        assert len(rows) == 5 and all(" sge " in r for r in rows)
        assert calls.read_text().splitlines() == ["-xml -u *"], "one batched qstat call for the five open runs"
        cancelled = project.runx("cancel", "many", env=env)
        assert cancelled.returncode == 0, cancelled.stderr
        assert cancelled.stdout.count(": cancelled") == 5
    finally:
        subprocess.run(["qdel", *job_ids], capture_output=True, timeout=60)
    deadline = time.monotonic() + 60
    while qstat_ids() & set(job_ids):
        assert time.monotonic() < deadline, "runx cancel left jobs on the cell"
        time.sleep(0.5)
