"""Running local jobs N at a time, each with its own GPU slot, output into the run's job.log.

The terminal gets one line per event (started, succeeded, failed) instead of interleaved output.
Ctrl-C stops every running job (SIGTERM to its process group, SIGKILL after a grace period) and
records the running and pending runs as cancelled.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Optional, TextIO

from runx.core.farms.base import JOB_SCRIPT
from runx.core.status import record_event, was_cancelled

__all__ = ["detect_gpus", "gpu_slots", "run_parallel", "JOB_LOG"]

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
    return [l.strip() for l in done.stdout.splitlines() if l.strip()] if done.returncode == 0 else []


def gpu_slots(gpus: list, jobs_per_gpu: int) -> list:
    """One slot per concurrent job: each GPU `jobs_per_gpu` times."""
    return [g for g in gpus for _ in range(jobs_per_gpu)]


def run_parallel(jobs: list, concurrency: int, slots: list, out: TextIO) -> int:
    """Run jobs with at most `concurrency` at once (one per slot when slots are given); failures, or -1 if interrupted."""
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
                job = pending.pop(0)
                if was_cancelled(job.run_dir):
                    say(f"[{job.name}] cancelled before it started")
                    continue
                slot = free.pop(0)
                env = dict(os.environ)
                if slot is not None:
                    env["CUDA_VISIBLE_DEVICES"] = slot
                with open(job.run_dir / JOB_LOG, "ab") as log:
                    proc = subprocess.Popen(["sh", str(job.run_dir / JOB_SCRIPT)], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
                running[proc] = (job, slot)
                where = f" on GPU {slot}" if slot is not None else ""
                say(f"[{job.name}] running{where} (log: {job.run_dir / JOB_LOG})")
            time.sleep(0.05)
            for proc in [p for p in running if p.poll() is not None]:
                job, slot = running.pop(proc)
                free.append(slot)
                if proc.returncode == 0:
                    say(f"[{job.name}] succeeded")
                else:
                    failed += 1
                    say(f"[{job.name}] failed with exit code {proc.returncode}")
    except KeyboardInterrupt:
        from runx.core.proctree import process_tree, stop_processes

        trees = [pid for proc in running for pid in process_tree(proc.pid)]
        stop_processes(trees)
        for proc in running:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # anything of the job's group that left its tree
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        for job, _ in list(running.values()) + [(j, None) for j in pending]:
            record_event(job.run_dir, "cancelled", reason="interrupted")
        say(f"runx: interrupted; {len(running) + len(pending)} run(s) recorded as cancelled")
        return -1
    return failed
