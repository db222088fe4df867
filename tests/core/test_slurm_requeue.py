"""runx.core.farms.slurm_requeue: the batch script's requeue lines, run by a real sh with a fake sbatch,
the real signal, logx's checkpoint-and-exit, and the status fold of what they write."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runx.core.farms import slurm, slurm_requeue
from runx.core.farms.slurm_requeue import requeue_lines, signal_option
from runx.logx.rundir.status import REQUEUE_EXIT, fold_status

# The job: logx with an on_requeue callback that saves a (JSON, torch-free) checkpoint; it waits for
# the signal, then keeps logging, so logx's exit at the next metric() is what ends it.
JOB = textwrap.dedent("""
    import json, os, sys, time
    from runx.logx import logx
    logdir = os.environ["RUNX_LOGDIR"]
    def save():
        with open(os.path.join(logdir, "saved_at_attempt"), "a") as f:
            f.write(os.environ["RUNX_ATTEMPT"] + "\\n")
    mode = sys.argv[1]
    if mode == "crash":  # no logx: the signal's default action ends it
        open(os.path.join(logdir, "ready"), "w").close()
        time.sleep(30)
    logx.initialize(logdir=logdir, on_requeue=save)
    open(os.path.join(logdir, "ready"), "w").close()
    for step in range(600):
        if mode == "fail" and logx.requeue_requested:
            sys.exit(3)
        logx.metric("train", {"step": step})
        time.sleep(0.05)
    sys.exit(0)
""")


def _script(run: Path, mode: str, max_attempts: int) -> Path:
    (run / "job.sh").write_text(f"#!/bin/sh\nRUNX_LOGDIR={run}\nexport RUNX_LOGDIR\n"
                                f"echo \"started $(date +%s)\" >> {run}/status.log\n"
                                f"{sys.executable} {run}/job.py {mode}\nrc=$?\n"
                                f"echo \"finished $(date +%s) exit=$rc\" >> {run}/status.log\nexit $rc\n")
    (run / "job.py").write_text(JOB)
    lines = requeue_lines(str(run), str(run / "job.sh"), str(run / "sbatch.sh"), "USR1@90", max_attempts)
    text = slurm.batch_script("exp_run", str(run), str(run / "job.sh"), [signal_option("USR1@90")], run_lines=lines)
    assert "#SBATCH --signal=B:USR1@90\n" in text
    path = run / "sbatch.sh"
    path.write_text(text)
    return path


def _attempt(run: Path, env: dict, mode: str = "ok", signal_it: bool = True) -> subprocess.CompletedProcess:
    """One attempt: the batch script under sh, sent USR1 (as Slurm's --signal=B: does) once the job is ready."""
    (run / "ready").unlink(missing_ok=True)
    proc = subprocess.Popen(["sh", str(run / "sbatch.sh")], cwd=run, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (run / "ready").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    if signal_it:
        proc.send_signal(signal.SIGUSR1)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def fake_sbatch(tmp_path):
    """An sbatch that records its RUNX_ATTEMPT and argv, and answers with a job id."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text('#!/bin/sh\necho "$RUNX_ATTEMPT${SLURM_ARRAY_JOB_ID:+ array=$SLURM_ARRAY_JOB_ID}${SLURM_RESTART_COUNT:+ restarts=$SLURM_RESTART_COUNT} $*" >> "$SUBMITTED"\necho "$((4000 + RUNX_ATTEMPT))"\n')
    (bin_dir / "sbatch").chmod(0o755)
    submitted = tmp_path / "submitted.txt"
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SUBMITTED": str(submitted)}, submitted


def test_the_warning_saves_exits_75_and_queues_the_next_attempt_up_to_max_attempts(tmp_path, fake_sbatch):
    env, submitted = fake_sbatch
    run = tmp_path / "run"
    run.mkdir()
    _script(run, "ok", max_attempts=3)
    for attempt in (1, 2, 3):
        done = _attempt(run, {**env, "RUNX_ATTEMPT": str(attempt)} if attempt > 1 else env)
        assert done.returncode == REQUEUE_EXIT, done.stderr
    assert (run / "saved_at_attempt").read_text() == "1\n2\n3\n"
    assert submitted.read_text().splitlines() == [f"2 --parsable {run}/sbatch.sh", f"3 --parsable {run}/sbatch.sh"]
    text = (run / "status.log").read_text()
    assert [line.split()[0] for line in text.splitlines()] == [
        "started", "interrupted", "requeue", "finished", "queued", "submitted",
        "started", "interrupted", "requeue", "finished", "queued", "submitted",
        "started", "interrupted", "requeue", "finished"]  # the third attempt was the last: not queued again
    assert "reason=timeout signal=USR1" in text and "job_id=4002" in text and "job_id=4003" in text
    status = fold_status(text)
    assert (status.state, status.exit_code, status.attempts, status.interrupted) == ("timeout", REQUEUE_EXIT, 3, 3)
    assert fold_status(text.rsplit("started", 1)[0]).state == "submitted"  # between attempts (runx status: queued)
    assert "exiting 75 so runx requeues this run" in (run / "logging.log").read_text()


@pytest.mark.parametrize("mode, code, state", [("fail", 3, "failed"), ("crash", 128 + signal.SIGUSR1, "timeout")])
def test_a_job_that_does_not_save_is_not_requeued(tmp_path, fake_sbatch, mode, code, state):
    env, submitted = fake_sbatch
    run = tmp_path / "run"
    run.mkdir()
    _script(run, mode, max_attempts=3)
    done = _attempt(run, env, mode)
    assert done.returncode == code, done.stderr
    assert not submitted.exists()
    status = fold_status((run / "status.log").read_text())
    assert (status.state, status.exit_code, status.interrupted) == (state, code, 1)


def test_without_the_warning_the_exit_code_is_the_jobs(tmp_path, fake_sbatch):
    env, submitted = fake_sbatch
    run = tmp_path / "run"
    run.mkdir()
    _script(run, "ok", max_attempts=3)
    (run / "job.py").write_text("import os\nopen(os.path.join(os.environ['RUNX_LOGDIR'], 'ready'), 'w').close()\nraise SystemExit(4)\n")
    done = _attempt(run, env, signal_it=False)
    assert done.returncode == 4 and not submitted.exists()
    assert fold_status((run / "status.log").read_text())[:2] == ("failed", 4)


def test_a_job_slurm_requeued_itself_records_the_preemption(tmp_path, fake_sbatch):
    env, submitted = fake_sbatch
    run = tmp_path / "run"
    run.mkdir()
    _script(run, "ok", max_attempts=3)
    (run / "status.log").write_text("queued 1 farm=slurm\nsubmitted 2 job_id=77\nstarted 3 host=n1 pid=9\n")
    (run / "job.py").write_text("import os\nopen(os.path.join(os.environ['RUNX_LOGDIR'], 'ready'), 'w').close()\n")
    done = _attempt(run, {**env, "SLURM_RESTART_COUNT": "1"}, signal_it=False)
    assert done.returncode == 0, done.stderr
    text = (run / "status.log").read_text()
    assert "interrupted" in text and "reason=preempted restarts=1" in text
    status = fold_status(text)
    assert (status.state, status.attempts, status.interrupted) == ("succeeded", 2, 1)


@pytest.mark.parametrize("lines, state", [
    ("started 1\ninterrupted 2 reason=timeout\nfinished 3 exit=75\n", "timeout"),
    ("started 1\ninterrupted 2 reason=preempted\nfinished 3 exit=143\n", "preempted"),
    ("started 1\ninterrupted 2 reason=timeout\nfinished 3 exit=0\n", "succeeded"),
    ("started 1\ninterrupted 2 reason=timeout\nfinished 3 exit=3\n", "failed"),
    ("started 1\ninterrupted 2 reason=what\nfinished 3 exit=137\n", "preempted"),
    ("started 1\ninterrupted 2 reason=timeout\nfinished 3 exit=75\nqueued 4 reason=requeue\nfinished 5 exit=75 reason=requeue-failed\n",
     "failed"),
    ("started 1\nfinished 3 exit=75\n", "failed"),
    ("started 1\ninterrupted 2 reason=timeout\nfinished 3 exit=75\nqueued 4\nsubmitted 5 job_id=9\nstarted 6\n", "running"),
])
def test_status_fold_of_interrupted_attempts(lines, state):
    assert fold_status(lines).state == state


def _fake_squeue(env: dict, left: str) -> dict:
    """A squeue that answers array task 4000_1's time left (%L) with `left`, as the real one does inside
    it (`squeue -j 4000`, the whole array, would list every task)."""
    bin_dir = Path(env["PATH"].split(":", 1)[0])
    (bin_dir / "squeue").write_text(f'#!/bin/sh\n[ "$3" = 4000_1 ] && echo "{left}"\n')
    (bin_dir / "squeue").chmod(0o755)
    return {**env, "SLURM_JOB_ID": "4000", "SLURM_ARRAY_JOB_ID": "4000", "SLURM_ARRAY_TASK_ID": "1", "SLURM_RESTART_COUNT": "0"}


def test_runx_own_timer_warns_at_the_limit_less_signal_seconds_and_an_earlier_warning_is_let_pass(tmp_path, fake_sbatch):
    env, submitted = fake_sbatch
    run = tmp_path / "run"
    run.mkdir()
    _script(run, "ok", max_attempts=3)
    env = _fake_squeue(env, "1:33")  # 93 s left: runx's timer fires 3 s after the batch shell started
    start = time.time()
    done = _attempt(run, env)  # this USR1 comes before the due time (as Slurm's may, up to 30 s early): let pass
    assert done.returncode == REQUEUE_EXIT, done.stderr
    text = (run / "status.log").read_text()
    assert text.count("interrupted") == 1 and "reason=timeout signal=USR1" in text
    warned_at = int(text.split("interrupted ", 1)[1].split()[0])
    assert warned_at >= int(start) + 2, text  # not at the early signal, but when runx's own timer fired
    assert submitted.read_text().splitlines() == [f"2 --parsable {run}/sbatch.sh"]  # a job of its own, not an array task


def test_runx_own_timer_is_gone_when_the_job_ends_first(tmp_path, fake_sbatch):
    env, submitted = fake_sbatch
    run = tmp_path / "run"
    run.mkdir()
    _script(run, "ok", max_attempts=3)
    (run / "job.py").write_text("import os\nopen(os.path.join(os.environ['RUNX_LOGDIR'], 'ready'), 'w').close()\n")
    env = _fake_squeue(env, "1-00:00:07")  # a day and 7 s left: the timer would sleep 86317 s
    done = _attempt(run, env, signal_it=False)
    assert done.returncode == 0 and not submitted.exists(), done.stderr
    left = subprocess.run(["pgrep", "-f", "^sleep 86317$"], capture_output=True, text=True)
    assert left.stdout == "", left  # the batch shell ended its own timer
    assert "interrupted" not in (run / "status.log").read_text()


def test_a_warning_that_comes_as_the_job_finishes_interrupts_nothing(tmp_path, fake_sbatch):
    """The job's script has written `finished` (its last act) when the warning comes: no `interrupted` line,
    so the run does not count an interruption it never had."""
    env, submitted = fake_sbatch
    run = tmp_path / "run"
    run.mkdir()
    _script(run, "ok", max_attempts=3)
    (run / "job.sh").write_text(f"#!/bin/sh\necho \"started $(date +%s)\" >> {run}/status.log\n"
                                f"echo \"finished $(date +%s) exit=0\" >> {run}/status.log\n"
                                f"touch {run}/ready\nsleep 1\nexit 0\n")
    done = _attempt(run, env)
    assert done.returncode == 0 and not submitted.exists(), done.stderr
    assert [line.split()[0] for line in (run / "status.log").read_text().splitlines()] == ["started", "finished"]


@pytest.mark.parametrize("lines, code, expected", [
    (["started 1", "requeue 2 exit=75 pid=9"], 1, REQUEUE_EXIT),  # torchrun's 1 after rank 0 asked: 75
    (["started 1", "requeue 2 exit=75 pid=9"], 137, REQUEUE_EXIT),  # srun's worst task, killed
    (["started 1", "requeue 2 exit=75 pid=9", "finished 3 exit=75", "started 4"], 1, 1),  # an earlier attempt's line
    (["started 1"], 3, 3),  # a failing rank, no warning: its code
    (["started 1", "requeue 2 exit=75 pid=9"], 0, 0),
    ([], 1, 1),
])
def test_rank0_exit_reads_rank_0s_requeue_line_of_this_attempt(tmp_path, lines, code, expected):
    status = tmp_path / "status.log"
    if lines:
        status.write_text("".join(f"{line}\n" for line in lines))
    line = slurm_requeue.rank0_exit(f"sh -c 'exit {code}'")
    done = subprocess.run(["sh", "-c", f'RUNX_STATUS={status}\n{line}\necho "rc=$?"'], capture_output=True, text=True,
                          timeout=30)
    assert done.stdout.split() == [f"rc={expected}"], done.stderr
