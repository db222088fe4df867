"""A time limit on the real Grid Engine: the soft limit's warning (s_rt, SIGNAL's seconds before h_rt), a
last checkpoint from logx's on_requeue callback, and the attempt run again by Grid Engine (exit 99) in
its own run directory, as a job and as an array task; a real failure is not run again.

`time: 1` with `SIGNAL: USR1@40` puts s_rt 20 s after each attempt starts; 48 steps of 0.5 s (24 s of
work) do not fit in one attempt and fit in two. The three runs take about a minute together.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from run_helpers import REQUEUE_TRAIN as TRAIN
from run_helpers import wait_until
from runx.core.farms import sge
from runx_testing import require

STEPS = 48
ENDED = ("succeeded", "failed", "timeout", "preempted", "cancelled")


def test_a_warned_job_saves_and_is_run_again_until_its_work_is_done_and_a_failure_is_not(project):
    require("sge")
    require("torch")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", "LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  SIGNAL: USR1@40\n  RESOURCES: {time: 1}\n")
    project.write("arr.yml", f"CMD: {sys.executable} train.py\nHPARAMS:\n  - {{steps: {STEPS}}}\n"
                             f"  - {{steps: {STEPS}, fail_at: 3}}\n")
    project.write("one.yml", f"CMD: {sys.executable} train.py\nHPARAMS: {{steps: {STEPS}}}\n")
    dry = project.runx("one.yml", "-n")
    assert dry.returncode == 0 and "-l h_rt=0:01:00 -l s_rt=0:00:20 -b y" in dry.stdout, dry.stdout
    arrayed = project.runx("arr.yml", "--array")
    assert arrayed.returncode == 0 and "(array of 2)" in arrayed.stdout, arrayed.stderr
    alone = project.runx("one.yml")
    assert alone.returncode == 0, alone.stderr

    done = lambda rows: len(rows) >= 1 and all(r[2] in ENDED for r in rows.values())  # noqa: E731
    runs = {}
    for experiment in ("arr", "one"):
        rows = wait_until(project, experiment, done, timeout=150)
        for run in project.runs(experiment):
            runs[(experiment, "fail_at" in json.loads((run / "hparams.json").read_text()))] = (run, rows[run.name])

    for key in (("arr", False), ("one", False)):
        run, row = runs[key]
        text = (run / "status.log").read_text()
        assert row[2:4] == ["succeeded", "0"], text
        assert row[-2:] == ["2", "1"], text  # two attempts, one interrupted
        assert text.count("reason=timeout signal=USR1") == 1 and text.count("reason=requeue attempt=2 job=") == 1, text
        record = json.loads((run / "run.json").read_text())
        assert text.count("submitted ") == 1 and f"job={record['job_id']}\n" in text, "the same job, run again"
        assert "." in record["job_id"] if key[0] == "arr" else record["job_id"].isdigit()
        assert "#$ -l s_rt=0:00:20\n" in (run / "qsub.sh").read_text()
        records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in records if "metrics" in r] == list(range(1, STEPS + 1))  # continuous, no step twice
        assert sorted({r["metrics"]["attempt"] for r in records if "metrics" in r}) == [1, 2]
        import torch

        checkpoints = list(run.glob("*_checkpoint_ep*.pth"))
        assert checkpoints, sorted(p.name for p in run.iterdir())
        for checkpoint in checkpoints:
            saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
            assert saved["step"] == STEPS and saved["state_dict"]["w"].tolist() == [float(STEPS)] * 2
        assert "resumed at step" in (run / "logging.log").read_text()
        # qacct's records: the attempt run again reads as queued (failed 25, rescheduling), the last one as
        # succeeded; between qstat no longer listing the job and the cell flushing its accounting (every
        # second, longer on a loaded machine) Grid Engine knows neither, and the job reads as unknown
        deadline = time.monotonic() + 60
        while (answer := sge.query([record["job_id"]])[record["job_id"]]).state != "succeeded":
            assert answer.state in ("queued", "unknown") and time.monotonic() < deadline, answer
            time.sleep(0.5)

    run, row = runs[("arr", True)]
    assert row[2:4] == ["failed", "3"] and row[-2:] == ["1", "0"]
    assert "interrupted" not in (run / "status.log").read_text() and "requeue" not in (run / "status.log").read_text()


def test_a_job_without_logx_killed_at_h_rt_reads_timeout_and_a_failure_after_the_warning_reads_failed(project):
    """A plain `sleep` ignores the warning and Grid Engine kills it at h_rt (SIGKILL: nothing writes its end):
    `runx status` and sumx read timeout, as on Slurm, and `resubmit --failed` takes it; a job that exits 3
    after the warning is failed. `h_rt` 20 s with `SIGNAL: USR1@10` warns at 10 s; this cell has enforced
    h_rt up to a minute late, so the test takes up to about 90 s."""
    require("sge")
    project.write(".runx", "LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  SIGNAL: USR1@10\n  RESOURCES: {h_rt: '0:00:20'}\n")
    project.write("plain.yml", "CMD: sh -c 'sleep 300'\nHPARAMS: {x: 1}\n")
    project.write("fails.yml", "CMD: sh -c 'sleep 16; exit 3'\nHPARAMS: {x: 1}\n")
    for name in ("plain.yml", "fails.yml"):
        done = project.runx(name)
        assert done.returncode == 0, done.stderr
    failing = wait_until(project, "fails", lambda rows: len(rows) == 1 and all(r[2] in ENDED for r in rows.values()), timeout=60)
    (run,) = project.runs("fails")
    text = (run / "status.log").read_text()
    assert list(failing.values())[0][2:4] == ["failed", "3"], text
    assert text.index("interrupted ") < text.index("finished "), text  # warned, then failed on its own

    rows = wait_until(project, "plain", lambda rows: len(rows) == 1 and all(r[2] in ENDED for r in rows.values()), timeout=150)
    (run,) = project.runs("plain")
    text = (run / "status.log").read_text()
    assert list(rows.values())[0][2:4] == ["timeout", "137"], text  # qacct: failed 37 (h_rt), exit 137
    assert "reason=timeout signal=USR1" in text and "finished " not in text, text  # killed: no end written
    table = subprocess.run([sys.executable, "-m", "runx.sumx", "plain", "--json"], cwd=project.root, capture_output=True,
                           text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert [(r["state"], r["exit_code"]) for r in json.loads(table.stdout)["rows"]] == [("timeout", 137)], table.stdout
    again = project.runx("resubmit", "plain", "--failed", "-n")
    assert again.returncode == 0 and run.name in again.stdout, again.stdout + again.stderr
