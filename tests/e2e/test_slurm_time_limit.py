"""A time limit on the real single-node Slurm (the py311-sched env): the warning signal, a last checkpoint
from logx's on_requeue callback, and the run resubmitted into its own directory until its work is done.

Slurm checks time limits every 30 s, so its own warning may come up to 30 s early; runx's batch shell
arms its own timer from the job's time left and warns exactly SIGNAL seconds before the limit. With
`SIGNAL: USR1@10` on a 1-minute limit each attempt works for about 50 s (less its start-up), so 105 s
of work (210 steps of 0.5 s) does not fit in two attempts and needs exactly three.
"""
from __future__ import annotations

import json
import sys
import time

import pytest
from run_helpers import REQUEUE_TRAIN as TRAIN
from runx_testing import require

pytestmark = pytest.mark.slow_scheduler



def _ended(project, experiment: str, count: int, seconds: float) -> dict:
    """`runx status` rows (run name: the other columns) once all `count` runs ended, within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        rows = {c[0]: c[1:] for c in (line.split() for line in project.runx("status", experiment).stdout.splitlines()[2:])}
        if len(rows) == count and all(r[2] in ("succeeded", "failed", "timeout", "cancelled") for r in rows.values()):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(2)


def test_a_one_minute_limit_job_finishes_its_work_in_attempts_and_a_real_failure_is_not_requeued(project):
    require("slurm")
    require("torch")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  SIGNAL: USR1@10\n  RESOURCES: {time: 1, cpu: 1, mem: 1}\n")
    project.write("long.yml", f"""\
        CMD: {sys.executable} train.py
        HPARAMS:
          - {{steps: 210}}
          - {{steps: 210, fail_at: 3}}
        """)
    done = project.runx("long.yml")
    assert done.returncode == 0, done.stderr
    runs = {"fail_at" in json.loads((r / "hparams.json").read_text()): r for r in project.runs("long")}
    long, failing = runs[False], runs[True]

    rows = _ended(project, "long", 2, 420)
    text = (long / "status.log").read_text()
    assert rows[long.name][2:4] == ["succeeded", "0"], text
    attempts, interrupted = int(rows[long.name][-2]), int(rows[long.name][-1])  # the interrupted column is shown
    assert attempts == 3 and interrupted == 2, text
    assert text.count("reason=timeout signal=USR1") == attempts - 1 and text.count("reason=requeue") == attempts - 1
    assert len(list(long.glob("slurm-*.out"))) == attempts  # each attempt a job of its own, in the run's directory

    records = [json.loads(x) for x in (long / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in records if "metrics" in r]
    assert steps == list(range(1, 211)), steps  # continuous across the attempts, no step twice
    per_attempt = [r["metrics"]["attempt"] for r in records if "metrics" in r]
    assert per_attempt == sorted(per_attempt) and set(per_attempt) == set(range(1, attempts + 1))
    import torch

    checkpoints = list(long.glob("*_checkpoint_ep*.pth"))
    assert checkpoints, sorted(p.name for p in long.iterdir())
    for checkpoint in checkpoints:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        assert saved["step"] == 210 and saved["state_dict"]["w"].tolist() == [210.0, 210.0]
    assert "resumed at step" in (long / "logging.log").read_text()

    assert rows[failing.name][2:4] == ["failed", "3"]
    assert rows[failing.name][-2:] == ["1", "0"] and "interrupted" not in (failing / "status.log").read_text()


def test_array_tasks_are_warned_and_each_requeued_alone_into_its_own_run_directory(project):
    """Two runs as one job array: each task's own timer warns it 30 s before its 1-minute limit, and each
    run is resubmitted alone (a job of its own, in its run's directory); 40 s of work takes exactly two attempts."""
    require("slurm")
    require("torch")
    (project.root / "train.py").write_text(TRAIN)
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  ARRAY: true\n  SIGNAL: USR1@30\n"
                           "  RESOURCES: {time: 1, cpu: 1, mem: 1}\n")
    project.write("arr.yml", f"""\
        CMD: {sys.executable} train.py
        HPARAMS:
          steps: [80, 81]
        """)
    done = project.runx("arr.yml")
    assert done.returncode == 0, done.stderr
    assert "array of 2" in done.stdout, done.stdout
    runs = project.runs("arr")
    assert len(runs) == 2

    rows = _ended(project, "arr", 2, 300)
    for run in runs:
        text = (run / "status.log").read_text()
        assert rows[run.name][2:4] == ["succeeded", "0"], text
        assert rows[run.name][-2:] == ["2", "1"], text  # two attempts, one interrupted
        job_ids = [line.split("job_id=")[1].split()[0] for line in text.splitlines() if line.startswith("submitted")]
        assert len(job_ids) == 2 and "_" in job_ids[0] and job_ids[1].isdigit(), text  # an array task, then a job
        assert text.count("reason=timeout signal=USR1") == 1 and "reason=requeue attempt=2" in text
        assert sorted(p.name for p in run.glob("slurm-*.out")) == sorted([f"slurm-{job_ids[0]}.out", f"slurm-{job_ids[1]}.out"])
        steps = int(json.loads((run / "hparams.json").read_text())["steps"])
        records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in records if "metrics" in r] == list(range(1, steps + 1))
        assert "resumed at step" in (run / "logging.log").read_text()
