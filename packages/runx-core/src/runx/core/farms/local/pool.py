"""Running local jobs: the one way a job starts (`start`), one after another with output streamed
live and appended to the run's job.log (stream.py), or N at a time, each with its own GPU slot and
its output in the run's job.log. With `fail_fast`, the first failure stops the launching: the runs
not started yet are recorded as cancelled (the running ones go on).

In parallel the terminal gets one line per event (started, succeeded, failed) instead of interleaved
output. Ctrl-C (or SIGTERM, or SIGHUP) stops every running job (SIGTERM to its process tree, SIGKILL
after a grace period) and records the running and pending runs as cancelled.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Dict, Iterator, List, Optional, TextIO

from runx.core.farms.base import JOB_SCRIPT
from runx.core.farms.local.proctree import job_environment, process_tree, stop_processes
from runx.core.farms.local.stream import Streamed
from runx.core.runfiles import JOB_START
from runx.core.status import record_event, was_cancelled

__all__ = ["detect_gpus", "gpu_slots", "start", "stop", "run_here", "run_sequential", "run_parallel",
           "interrupted_by_hangup_and_term", "interrupts_held", "JOB_LOG"]

JOB_LOG = "job.log"


def detect_gpus(explicit: Optional[str]) -> list:
    """GPU ids from --gpus, else CUDA_VISIBLE_DEVICES, else nvidia-smi; [] when there are none."""
    if explicit:
        return [g.strip() for g in explicit.split(",") if g.strip()]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def gpu_slots(gpus: list, jobs_per_gpu: int) -> list:
    """One slot per concurrent job: each GPU `jobs_per_gpu` times."""
    return [g for g in gpus for _ in range(jobs_per_gpu)]


def start(run_dir: Path, gpu: Optional[str] = None, log: Optional[Path] = None,
          streamed: Optional[Streamed] = None) -> subprocess.Popen:
    """Start the run's job script: in this terminal (its stdin; its output through `streamed`, which
    copies it here and to job.log) or, with `log`, in a session of its own with its output appended to
    `log`; `gpu` becomes CUDA_VISIBLE_DEVICES. Its
    environment names the run (proctree.JOB_MARKER), so `runx cancel` and `runx status` can tell its
    processes from any other that later gets the same pid."""
    argv = ["sh", str(Path(run_dir) / JOB_SCRIPT)]
    env = job_environment(str(run_dir))
    env[JOB_START] = str(int(time.time()))  # job.sh's `started` time, which it need not ask `date` for
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    if streamed is not None:
        try:
            return subprocess.Popen(argv, env=env, **streamed.popen_kwargs())
        finally:
            streamed.started()
    if log is None:
        return subprocess.Popen(argv, env=env)
    with open(log, "ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)


def stop(procs: List[subprocess.Popen]) -> None:
    """Stop started jobs and everything they started (trees read before any signal), and reap them."""
    stop_processes([pid for proc in procs for pid in process_tree(proc.pid)])
    for proc in procs:
        try:  # anything of a job's own session that left its tree (until it is reaped, the pid is the job's)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


@contextmanager
def interrupted_by_hangup_and_term() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) interrupt runx as Ctrl-C does (local jobs and the search
    driver), so no run stays queued.

    A SIGHUP that is ignored (`nohup runx ...`) stays ignored: the sweep outlives the terminal.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signals = [signal.SIGTERM] + ([signal.SIGHUP] if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN else [])
    previous = {sig: signal.signal(sig, interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (and SIGTERM, SIGHUP where they interrupt runx) until the block ends, then interrupt:
    a job started inside is in runx's hands before an interrupt can make it lost (left running, unrecorded).

    Only Python-level handlers are swapped (not the signal mask, which a job would inherit); outside the
    main thread, where signals cannot arrive, nothing is held.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: List[int] = []
    previous: Dict[int, Callable[[int, Optional[FrameType]], Any]] = {}
    for candidate in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        handler = signal.getsignal(candidate)
        if callable(handler):
            previous[candidate] = handler
    for signum in previous:
        signal.signal(signum, lambda number, frame: held.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if held:
        previous[held[0]](held[0], None)  # the handler it would have met: KeyboardInterrupt


def _has_exited(proc: subprocess.Popen) -> bool:
    """Whether the job has exited, without reaping it where the system can (os.waitid with WNOWAIT): until
    proc.wait() its pid stays the job's, so stop() never signals a process that took the pid over."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True
    except (AttributeError, OSError):  # no waitid here
        return proc.poll() is not None


def run_here(run_dir: Path) -> int:
    """Run a job in the foreground, its output streamed here and appended to its job.log by this thread
    while it waits; when runx is interrupted, stop the job and all it started (its output still copied
    meanwhile), then re-raise."""
    streamed = Streamed(Path(run_dir) / JOB_LOG)
    started: List[subprocess.Popen] = []
    try:
        with interrupts_held():  # an interrupt during the start is raised as the block ends, with the job in `started`
            started.append(start(run_dir, streamed=streamed))
        proc = started[0]
        streamed.copy_until(lambda: _has_exited(proc))
        return proc.wait()
    except BaseException:
        if started:
            streamed.copy_in_background()
            stop(started)
        raise
    finally:
        streamed.finish()


def _ended(job, returncode: int) -> str:
    """How a job ended: succeeded, cancelled (`runx cancel` recorded it), or failed."""
    if returncode == 0:
        return "succeeded"
    return "cancelled" if was_cancelled(job.run_dir) else "failed"


def _record(run_dir: Path, event: str, **fields: object) -> None:
    """Record an event; a run directory that is gone cannot be, which is said and not fatal."""
    try:
        record_event(run_dir, event, **fields)
    except OSError as err:
        sys.stderr.write(f"runx: cannot record {event} in {run_dir}: {err.strerror or err}\n")


def _cancel_pending(pending: list, out: TextIO, failed_name: str) -> None:
    """--fail-fast: record the runs not started yet as cancelled, and say so."""
    for job in pending:
        _record(job.run_dir, "cancelled", reason="fail-fast")
    out.write(f"runx: --fail-fast: job {failed_name} failed; {len(pending)} run(s) not started recorded as cancelled\n")
    out.flush()


def run_sequential(jobs: list, out: TextIO, fail_fast: bool = False) -> int:
    """Run jobs one after another, output streamed live and to each job.log; the number that failed (or
    -1 if interrupted)."""
    failed = 0
    for index, job in enumerate(jobs):
        if was_cancelled(job.run_dir):
            out.write(f"Skipping job {job.name} ({index + 1}/{len(jobs)}): cancelled before it started\n")
            continue
        out.write(f"Running job {job.name} ({index + 1}/{len(jobs)})\n")
        out.flush()
        try:
            returncode = run_here(job.run_dir)
        except KeyboardInterrupt:
            for pending in jobs[index:]:
                _record(pending.run_dir, "cancelled", reason="interrupted")
            out.write(f"runx: interrupted; {len(jobs) - index} run(s) recorded as cancelled\n")
            return -1
        ended = _ended(job, returncode)
        if ended == "cancelled":
            out.write(f"Job {job.name} was cancelled\n")
        elif ended == "failed":
            failed += 1
            sys.stderr.write(f"runx: job {job.name} exited with exit code {returncode}\n")
            if fail_fast and index + 1 < len(jobs):
                _cancel_pending(jobs[index + 1:], out, job.name)
                break
    return failed


def _next_ended(running: dict) -> List[subprocess.Popen]:
    """Block until a running job exits; the jobs that have, not reaped yet (until proc.wait() a job's pid
    stays the job's, so stop() may still signal it). Ctrl-C and SIGTERM/SIGHUP interrupt the wait."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
        except AttributeError:  # no waitid here
            return [_first_to_end(running)]
        except ChildProcessError:  # none left to wait for (reaped elsewhere)
            info = None
        ended = [proc for proc in running if _has_exited(proc)]
        if ended or info is None:
            return ended
        os.waitpid(info.si_pid, 0)  # a child that is not a job (none is expected): reap it and wait on


def _first_to_end(running: dict) -> subprocess.Popen:
    """Where Python has no os.waitid: the first running job seen to end, polled every 10 ms."""
    while True:
        for proc in running:
            if proc.poll() is not None:
                return proc
        time.sleep(0.01)


def run_parallel(jobs: list, concurrency: int, slots: list, out: TextIO, fail_fast: bool = False) -> int:
    """Run jobs with at most `concurrency` at once (one per slot when slots are given); failures, or -1 if interrupted.

    The loop blocks in os.waitid until a job ends (not on a timer), and the next job starts at once.
    """
    free = list(slots) if slots else [None] * concurrency
    free = free[:concurrency] if concurrency else free
    pending = list(jobs)
    running: dict = {}
    failed = 0

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    try:
        while pending or running:
            while pending and free:
                with interrupts_held():  # from pending to running with no moment in neither
                    job = pending.pop(0)
                    if was_cancelled(job.run_dir):
                        say(f"[{job.name}] cancelled before it started")
                        continue
                    slot = free.pop(0)
                    try:
                        proc = start(job.run_dir, slot, job.run_dir / JOB_LOG)
                    except OSError as err:  # its run directory is gone (or unwritable): this run fails, the others go on
                        free.append(slot)
                        failed += 1
                        say(f"[{job.name}] failed: cannot start it: {err.strerror or err}: {err.filename or job.run_dir}")
                        continue
                    running[proc] = (job, slot)
                where = f" on GPU {slot}" if slot is not None else ""
                say(f"[{job.name}] running{where} (log: {job.run_dir / JOB_LOG})")
            if not running:
                continue
            for proc in _next_ended(running):  # every job that has ended, before new ones start
                proc.wait()  # reap it (at once: it has exited)
                job, slot = running.pop(proc)
                free.append(slot)
                ended = _ended(job, proc.returncode)
                if ended == "failed":
                    failed += 1
                    say(f"[{job.name}] failed with exit code {proc.returncode}")
                    if fail_fast and pending:
                        _cancel_pending(pending, out, job.name)
                        pending = []
                else:
                    say(f"[{job.name}] {ended}")
    except KeyboardInterrupt:
        stop(list(running))
        for job, _ in list(running.values()) + [(j, None) for j in pending]:
            _record(job.run_dir, "cancelled", reason="interrupted")
        say(f"runx: interrupted; {len(running) + len(pending)} run(s) recorded as cancelled")
        return -1
    return failed
