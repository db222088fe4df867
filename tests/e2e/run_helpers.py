"""Helpers for end-to-end tests that watch runs: status.log's text, a polling wait, the rows of
`runx status`, and the scheduler farms' shared sweep. Import as `from run_helpers import ...` in tests/e2e."""
from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

DONE = ("succeeded", "failed", "cancelled")


def status_text(run: Path) -> str:
    """status.log so far ('' while runx is still writing the run's files)."""
    try:
        return (run / "status.log").read_text()
    except FileNotFoundError:
        return ""


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05) -> None:
    """Poll `predicate` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)


def states(project, experiment: str, env: Optional[dict] = None) -> Dict[str, List[str]]:
    """`runx status <experiment>`'s rows (with `env` added to the environment): run name -> the row's other cells."""
    done = project.runx("status", experiment, env=env)
    assert done.returncode == 0, done.stderr
    rows = {}
    for line in done.stdout.splitlines()[2:]:
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


def logging_wrappers(root: Path, extras: Dict[str, Callable[[str], str]]) -> dict:
    """A PATH folder of wrappers of the programs named in `extras`: each logs `<time> <arguments>` to
    `root/<name>.calls`, runs its extra shell lines (given the real program's path), then the real program.
    Returns {"env": the PATH to use, <name>: its log path}."""
    folder = root / "wrap"
    folder.mkdir()
    logs = {}
    for name, extra in extras.items():
        real = shutil.which(name)
        assert real, name
        log = root / f"{name}.calls"
        (folder / name).write_text(f'#!/bin/sh\necho "$(date +%s.%N) $*" >> "{log}"\n{extra(real)}exec "{real}" "$@"\n')
        (folder / name).chmod(0o755)
        logs[name] = log
    return {"env": {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, **logs}


def logged_calls(log: Path) -> List[Tuple[float, str]]:
    """(time, argument string) of every call a logging wrapper logged."""
    if not log.exists():
        return []
    return [(float(line.split(" ", 1)[0]), line.split(" ", 1)[1] if " " in line else "") for line in log.read_text().splitlines()]


def wait_until(project, experiment: str, predicate: Callable[[dict], object], timeout: float = 180) -> dict:
    """Poll `runx status` until its rows satisfy `predicate`; fail with the last rows after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        rows = states(project, experiment)
        if predicate(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last status: {rows}")
        time.sleep(0.5)


def finished(rows: dict) -> bool:
    """Whether every run in the rows has ended."""
    return bool(rows) and all(r[2] in DONE for r in rows.values())


# A training script for time-limit tests: `--steps` of 0.5 s, a metric each, a checkpoint from logx's on_requeue
# callback when the scheduler's warning comes (then exit 75), resumed from the latest checkpoint; `--fail_at`
# exits 3 at that step.
REQUEUE_TRAIN = textwrap.dedent("""
    import os, sys, time
    from runx.logx import logx
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    total, fail_at = int(args["--steps"]), int(args.get("--fail_at", -1))
    state = {"step": 0}
    def save():
        import torch
        logx.save_model({"state_dict": {"w": torch.full((2,), float(state["step"]))}, "step": state["step"]},
                        metric=float(state["step"]), epoch=state["step"])
    logx.initialize(on_requeue=save)
    checkpoint = logx.latest_checkpoint()
    if checkpoint:
        _, meta = logx.load_model(checkpoint)
        state["step"] = meta["step"]
        logx.msg(f"resumed at step {state['step']}, attempt {os.environ['RUNX_ATTEMPT']}")
    while state["step"] < total:
        if state["step"] == fail_at:
            sys.exit(3)
        time.sleep(0.5)
        state["step"] += 1
        logx.metric("train", {"attempt": int(os.environ["RUNX_ATTEMPT"])}, epoch=state["step"])
    save()
""")


SCHEDULER_TRAIN = textwrap.dedent("""
    import json, os, sys, time
    logdir = os.environ["RUNX_LOGDIR"]
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    with open(os.path.join(logdir, "argv.json"), "w") as f:
        json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "pythonpath": os.environ.get("PYTHONPATH"),
                   "nslots": os.environ.get("NSLOTS"), "job_id": os.environ.get("JOB_ID"),
                   "task": os.environ.get("SGE_TASK_ID")}, f)
    print("trained", *sys.argv[1:])
    time.sleep(float(args.get("--sleep", 0)))
    code = int(args.get("--exit", 0))
    if code and os.path.exists(os.path.join(logdir, "retry_ok")):
        code = 0
    sys.exit(code)
""")
"""A train.py for scheduler tests: records what the job saw, sleeps `--sleep`, exits `--exit` until
the run directory holds `retry_ok`."""


def sweep_with_a_failure(project, runx_file: str, submitted: str) -> Tuple[dict, str]:
    """Launch a 4-run sweep (one run exits 3) on the farm `runx_file` sets up, wait until it ends and
    check it: `submitted` printed once per run, three succeeded, one failed with exit code 3.
    Returns the status rows and the failed run's name."""
    (project.root / "train.py").write_text(SCHEDULER_TRAIN)
    project.write(".runx", runx_file)
    project.write("sweep.yml", f"""\
        CMD: '{sys.executable} train.py'
        HPARAMS:
          - {{exit: 0, n: [1, 2, 3]}}
          - {{exit: 3, n: 4}}
        """)
    done = project.runx("sweep.yml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(submitted) == 4, done.stdout
    rows = wait_until(project, "sweep", finished)
    assert sorted(r[2] for r in rows.values()) == ["failed", "succeeded", "succeeded", "succeeded"]
    [failed_name] = [name for name, r in rows.items() if r[2] == "failed"]
    assert rows[failed_name][3] == "3"
    return rows, failed_name
