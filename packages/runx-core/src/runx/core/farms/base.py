"""What every farm backend provides."""
from __future__ import annotations

import re
import shlex
import sys
from typing import TYPE_CHECKING, NamedTuple, Optional

from runx.core.argv import shell_join
from runx.core.config import Settings
from runx.core.errors import RunxError
from runx.core.plan import Job, Plan

if TYPE_CHECKING:
    import subprocess


__all__ = ["Farm", "Submission", "JOB_SCRIPT", "job_script_path", "run_and_echo", "find_job_id", "run_submissions"]

JOB_SCRIPT = "job.sh"


class Submission(NamedTuple):
    """The outcome of running or submitting one job."""

    returncode: int
    job_id: Optional[str] = None


def job_script_path(job: Job) -> str:
    """The job script's path as the job itself sees it."""
    return f"{job.job_logdir}/{JOB_SCRIPT}"


def run_and_echo(argv: list) -> "subprocess.CompletedProcess":
    """Run a submission command, echo what it printed, and return it for parsing."""
    import subprocess

    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    except OSError as err:
        print(f"runx: cannot run {argv[0]}: {err}", file=sys.stderr)
        return subprocess.CompletedProcess(argv, 127, "", str(err))
    if done.stdout:
        sys.stdout.write(done.stdout)
    if done.stderr:
        sys.stderr.write(done.stderr)
    sys.stdout.flush()
    return done


# What submit commands print about the job, most specific first (compiled on first use: a dry run
# never needs them).
_JOB_ID_PATTERNS = (
    (r"^\s*(\d+)\s*$", re.M),
    (r"\bjob[ _-]?id\b\s*[:=]?\s*([\w.-]+)", re.I),
    (r"^\s*Id:\s*(\S+)", re.M),
    (r"\bSubmitted batch job (\d+)", re.I),
    (r"\bjob\s+(\d+)\b", re.I),
)


def find_job_id(output: str) -> Optional[str]:
    """A job id in what a submit command printed, when it printed one."""
    for pattern, flags in _JOB_ID_PATTERNS:
        match = re.search(pattern, output, flags)
        if match:
            return match.group(1)
    return None


def run_submissions(argvs: list, capture: bool = True) -> Submission:
    """Run submission commands in order, stopping at the first failure; the last one's output names the job.

    With `capture=False` (a job run here) output goes straight to this terminal and no id is sought.
    """
    done = None
    for argv in argvs:
        if capture:
            done = run_and_echo(argv)
        else:
            done = _run_here(argv)
        if done.returncode != 0:
            return Submission(done.returncode)
    return Submission(0, find_job_id(done.stdout) if capture and done else None)


def _run_here(argv: list) -> "subprocess.CompletedProcess":
    """Run a job in the foreground; when runx is interrupted, stop it and all it started, then re-raise."""
    import subprocess

    proc = subprocess.Popen(argv)
    try:
        return subprocess.CompletedProcess(argv, proc.wait())
    except BaseException:
        from runx.core.proctree import process_tree, stop_processes

        stop_processes(process_tree(proc.pid))
        proc.wait()
        raise


class Farm:
    """Base backend: subclasses give `submissions` and `display`; `submit` runs them in order."""

    kind = "base"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.farm = settings.farm

    def submit_argv(self) -> list:
        """SUBMIT_CMD split as a shell would."""
        return shlex.split(self.farm.submit_cmd)

    def check(self) -> None:
        """Raise RunxError when this farm cannot be used from here (checked before anything is created)."""
        import shutil

        argv = self.submit_argv()
        if argv and shutil.which(argv[0]) is None:
            raise RunxError(f"{self.farm.source}: {self.farm.name}.SUBMIT_CMD: command {argv[0]!r} not found on PATH")

    def check_plan(self, plan: Plan) -> None:
        """Raise RunxError when the farm would refuse the plan's jobs (asked before anything is created)."""
        return None

    def submissions(self, job: Job) -> list:
        """The argv lists that run or submit this job, in order."""
        raise NotImplementedError

    def prepare(self, job: Job) -> None:
        """Write any farm-specific file into the run directory before submission (default: none)."""
        return None

    def submit_all(self, jobs: list) -> Optional[list]:
        """Submit every job at once where the farm can (a job array); None to submit one by one."""
        return None

    def display_batch(self, first: Job, count: int) -> Optional[str]:
        """How a dry run shows a submission of all `count` jobs at once (a job array), or None."""
        return None

    def display_uses_name(self) -> bool:
        """Whether `display` shows the run's name (so a dry run must draw names)."""
        return False

    def display(self, job: Job) -> str:
        """The readable one-line form of the submission, as runx 0.0.11's README shows it."""
        raise NotImplementedError

    def script(self, job: Job, comment: Optional[str] = None) -> str:
        """submit_cmd.sh: the submission as an executable shell script, under `comment` if given."""
        lines = ["#!/bin/sh", comment or f"# What runx ran or submitted for run {job.name}.", "set -e"]
        lines += [shell_join(argv) for argv in self.submissions(job)]
        return "\n".join(lines) + "\n"

    def submit(self, job: Job) -> Submission:
        """Run every submission command; stop at the first failure; the last one names the job."""
        return run_submissions(self.submissions(job))
