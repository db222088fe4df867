"""The local farm (`-i`, or no FARM): jobs run here, one after another with output streamed live, or
`-j N` at a time with one GPU slot each (pool.py); cancel stops a job's process tree (proctree.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, TextIO

from runx.core.errors import RunxError
from runx.core.farms import register
from runx.core.farms.base import Farm, RunState, Submission, job_script_path
from runx.core.plan import Job

__all__ = ["LocalFarm"]


@register
class LocalFarm(Farm):
    """Runs each job's script here; its status.log and this machine's processes are the witnesses."""

    kind = "local"
    uses_resources = False
    poll_seconds = 0.2

    @classmethod
    def claims(cls, name: str, submit_cmd: str) -> bool:
        return name == "local"

    @classmethod
    def check_settings(cls, values: Mapping[str, Any], submit_cmd: str, where: str, name: str) -> None:
        return None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots: list = []
        self._started: Dict[Path, tuple] = {}  # run_dir -> (process, GPU slot) of jobs start() began

    def ignored_flags(self) -> List[str]:
        return [] if self.options.array is None else ["--array" if self.options.array else "--no-array"]

    def where(self) -> str:
        return "here (-i)"

    def check(self) -> None:
        """Share out GPU slots for `-j N` (refusing a GPU listed twice) before anything is created."""
        from runx.core.farms.local.pool import detect_gpus, gpu_slots

        if self.options.jobs <= 1:
            return
        gpus = detect_gpus(self.options.gpus)
        twice = sorted({g for g in gpus if gpus.count(g) > 1})
        if twice:
            raise RunxError(f"--gpus {self.options.gpus}: GPU {', '.join(twice)} listed more than once; use --jobs-per-gpu to share a GPU")
        self.slots = gpu_slots(gpus, self.options.jobs_per_gpu)
        if self.slots and len(self.slots) < self.options.jobs:
            sys.stderr.write(f"runx: {len(gpus)} GPU(s) x {self.options.jobs_per_gpu} job(s) per GPU: "
                             f"at most {len(self.slots)} of -j {self.options.jobs} jobs run at once\n")

    def submissions(self, job: Job) -> list:
        return [["sh", job_script_path(job)]]

    def display(self, job: Job) -> str:
        return job.command

    def queued_fields(self) -> Dict[str, Any]:
        from runx.core.status import launcher_id

        return {"launcher": launcher_id()}

    def submit(self, job: Job) -> Submission:
        return Submission(_run_here(job.run_dir))

    def run(self, jobs: list, out: TextIO) -> int:
        from runx.core.farms.local import pool

        with pool.interrupted_by_hangup_and_term():
            if self.options.jobs > 1 or self.slots:
                return pool.run_parallel(jobs, self.options.jobs, self.slots, out, self.options.fail_fast)
            return pool.run_sequential(jobs, out, self.options.fail_fast)

    def start(self, job: Job) -> bool:
        """Start the job in a session of its own, output in its job.log, on a free GPU slot (with `-j`
        or SWEEP.parallel, where there are GPUs); it outlives this runx, so a search can be resumed."""
        from runx.core.farms.local.pool import JOB_LOG, interrupts_held, start

        self._reap()
        free = list(self.slots)
        for _, busy in self._started.values():
            if busy in free:
                free.remove(busy)
        slot = free[0] if free else None
        try:
            with interrupts_held():
                self._started[job.run_dir] = (start(job.run_dir, slot, job.run_dir / JOB_LOG), slot)
        except OSError as err:
            sys.stderr.write(f"runx: job {job.name}: cannot start it: {err.strerror or err}\n")
            return False
        return True

    def _reap(self) -> None:
        """Collect the exit of jobs start() began (no zombies), freeing their GPU slots."""
        for run_dir, (proc, _) in list(self._started.items()):
            if proc.poll() is not None:
                del self._started[run_dir]

    def query(self, entries: List[Any]) -> Dict[Path, RunState]:
        """A run whose runx process (queued) or job (running) is gone from this machine ended without writing
        so: queued becomes cancelled, running becomes failed (exit code unknown). A process that has the
        job's pid but is not provably the job's (proctree.is_job) does not keep a run running."""
        from runx.core.farms.local.proctree import is_job
        from runx.core.status import read_status
        from runx.logx.rundir.status import settled_state

        self._reap()
        found = {}
        for entry in entries:
            if entry.status is None:
                continue
            run_dir = str(entry.run_dir)

            def job_gone(status: Any, where: str = run_dir) -> bool:
                return not is_job(status.pid, where, status.started)

            state = settled_state(entry.status, job_gone)
            if state == entry.status.state:
                continue
            now = read_status(entry.run_dir)  # it may have ended (and said so) since status.log was read
            if now is not None and now != entry.status:
                found[entry.run_dir] = RunState("queued" if now.state == "submitted" else now.state, now.exit_code)
            else:
                found[entry.run_dir] = RunState(state, None)
        return found

    def cancel(self, entries: List[Any]) -> Dict[Path, str]:
        """Record each run cancelled, then stop its job's process tree where the job is provably running on
        this machine (the job script first: it cannot record the kill as a failure): a job this farm started
        (the search driver's) by its process, which needs no `started` line yet; any other by the pid in its
        status.log. A queued run is only recorded (its launcher skips it); a process that merely has the
        job's pid is never signalled."""
        import socket

        from runx.core.farms.local.pool import stop
        from runx.core.farms.local.proctree import is_job, process_tree, stop_processes
        from runx.core.status import record_event

        self._reap()  # what is left in _started is unreaped: its pid is still its own
        here = (None, socket.gethostname(), os.uname().nodename)
        for entry in entries:
            record_event(entry.run_dir, "cancelled", reason="runx-cancel")  # first: the launcher reads it when the job ends
            mine = self._started.pop(entry.run_dir, None)
            status = entry.status
            if mine is not None:
                stop([mine[0]])
            elif status and status.pid and status.host in here and is_job(status.pid, str(entry.run_dir), status.started):
                stop_processes(process_tree(status.pid))
        return {}

    def check_resubmit(self, entry: Any) -> None:
        return None  # it reruns the run directory's job.sh, whatever run.json's submit_argv says

    def resubmit(self, entry: Any) -> bool:
        """Run the job again here, in the foreground, from its own run directory."""
        return _run_here(entry.run_dir) == 0


def _run_here(run_dir: Path) -> int:
    """Run a job in the foreground, its output streamed here and to its job.log (pool.run_here)."""
    from runx.core.farms.local.pool import run_here

    return run_here(run_dir)
