"""What every farm backend provides, and the defaults a submit-command farm shares.

A Farm is built for a launch from Settings (`make_farm`) or rebuilt from a run's run.json
(`farm_for_record`, no Settings then): it submits jobs, reports the state of many runs in one
batched call, cancels and resubmits them. Its class also answers the questions config and plan
ask about the kind (does a section belong to it, which keys it needs, where the job sees LOGDIR).
"""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Mapping, NamedTuple, Optional, TextIO

from runx.core.argv import shell_join
from runx.core.config import FarmSettings, Settings
from runx.core.errors import RunxError
from runx.core.plan import Job, Plan
from runx.logx.rundir.layout import JOB_SCRIPT

if TYPE_CHECKING:
    import subprocess

    from runx.core.ledger import LedgerEntry


__all__ = ["Farm", "Submission", "LaunchOptions", "RunState", "JOB_SCRIPT", "job_script_path", "run_and_echo",
           "find_job_id", "run_submissions"]



class Submission(NamedTuple):
    """The outcome of running or submitting one job."""

    returncode: int
    job_id: Optional[str] = None


class LaunchOptions(NamedTuple):
    """The launcher's farm-related flags (`--array`/`--no-array`, `-j`, `--gpus`, `--jobs-per-gpu`, `--fail-fast`)."""

    array: Optional[bool] = None
    jobs: int = 1
    gpus: Optional[str] = None
    jobs_per_gpu: int = 1
    fail_fast: bool = False


class RunState(NamedTuple):
    """What a farm says about one run now: a ledger state and the exit code once known."""

    state: str
    exit_code: Optional[int] = None


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


def run_submissions(argvs: list) -> Submission:
    """Run submission commands in order, stopping at the first failure; the last one's output names the job."""
    done = None
    for argv in argvs:
        done = run_and_echo(argv)
        if done.returncode != 0:
            return Submission(done.returncode)
    return Submission(0, find_job_id(done.stdout) if done else None)


class Farm:
    """A submit-command farm: subclasses give `kind`, `submissions` and `display`; the rest has defaults."""

    kind: ClassVar[str] = ""
    default_submit_cmd: ClassVar[Optional[str]] = None
    """SUBMIT_CMD when the farm section has none; None: the section must give one."""
    uses_resources: ClassVar[bool] = True
    """Whether RESOURCES mean anything here (runx warns when an experiment sets them for a farm that ignores them)."""
    poll_seconds: ClassVar[float] = 5.0
    """How often an adaptive search asks this farm about its runs (SWEEP.poll overrides)."""

    def __init__(self, farm: FarmSettings, settings: Optional[Settings] = None,
                 options: Optional[LaunchOptions] = None) -> None:
        self.farm = farm
        self._settings = settings
        self.options = options or LaunchOptions()

    # ---- what config and plan ask of the kind (no instance yet) ---------------------------------

    @classmethod
    def claims(cls, name: str, submit_cmd: str) -> bool:
        """Whether a farm section without TYPE, of this name and SUBMIT_CMD, is of this kind."""
        return False

    @classmethod
    def check_settings(cls, values: Mapping[str, Any], submit_cmd: str, where: str, name: str) -> None:
        """Raise RunxError when the farm section's keys do not suit this kind (`where`: the file that set them)."""
        if not submit_cmd:
            raise RunxError(f"{where}: {name}.SUBMIT_CMD: missing; expected the command that submits a job (e.g. 'submit_job')")

    @classmethod
    def job_logdir(cls, farm: FarmSettings, logroot: Path, run_dir: Path) -> str:
        """The run directory as the job sees it (the same path unless the farm mounts it elsewhere)."""
        return str(run_dir)

    # ---- launching --------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The launch's settings (a farm rebuilt from run.json has none, and never launches)."""
        if self._settings is None:
            raise RuntimeError(f"the {self.kind} farm was rebuilt from a run record and has no launch settings")
        return self._settings

    def record(self) -> Dict[str, Any]:
        """What run.json keeps of the farm (`farm_for_record` rebuilds it from this)."""
        return {"name": self.farm.name, "type": self.kind, "submit_cmd": self.farm.submit_cmd or None}

    def ignored_flags(self) -> List[str]:
        """The launcher flags given that this farm does nothing with."""
        o = self.options
        return [flag for flag, given in (("-j", o.jobs != 1), ("--gpus", o.gpus is not None),
                                         ("--jobs-per-gpu", o.jobs_per_gpu != 1),
                                         ("--array" if o.array else "--no-array", o.array is not None)) if given]

    def where(self) -> str:
        """Where jobs go, for messages: `on a generic farm`."""
        return f"on a {self.kind} farm"

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

    def job_command(self, job: Job) -> str:
        """The command line the job script runs (default: the training command; a multi-node farm wraps
        it in its launcher)."""
        return job.command

    def files(self, job: Job) -> Dict[str, str]:
        """The farm-specific files `prepare` writes, by name, as `-n -v` shows them (default: none)."""
        return {}

    def queued_fields(self) -> Dict[str, Any]:
        """Extra fields of the `queued` status line runx writes before the job is run or submitted: this
        runx process, so a run it never handed to the farm (runx killed) reads as failed, not queued forever."""
        from runx.core.status import launcher_id

        return {"submitter": launcher_id()}

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

    def run(self, jobs: list, out: TextIO) -> int:
        """Submit every job (one job array where the farm does that) and record each answer; the number that
        failed, or -1 when interrupted."""
        results = self.submit_all(jobs)
        if results is not None:
            from runx.core.progress import Progress

            failed = 0
            with Progress("recording job ids", len(jobs)) as progress:
                for index, (job, result) in enumerate(zip(jobs, results)):
                    failed += not _record_submission(job.run_dir, job.name, result, durable=False)
                    progress.update(index + 1)
            from runx.core.runfiles import RUN_FILE
            from runx.logx.rundir.atomic import sync_files

            sync_files([str(job.run_dir / RUN_FILE) for job, result in zip(jobs, results) if result.job_id])
            return failed
        failed = 0
        for index, job in enumerate(jobs):
            out.write(f"Submitting job {job.name} ({index + 1}/{len(jobs)})\n")
            out.flush()
            accepted = _record_submission(job.run_dir, job.name, self.submit(job))
            failed += not accepted
            if not accepted and self.options.fail_fast and index + 1 < len(jobs):
                from runx.core.status import record_event

                for pending in jobs[index + 1:]:
                    record_event(pending.run_dir, "cancelled", reason="fail-fast")
                out.write(f"runx: --fail-fast: the submission of {job.name} failed; {len(jobs) - index - 1} run(s) "
                          "not submitted recorded as cancelled\n")
                return failed
        return failed

    def start(self, job: Job) -> bool:
        """Hand one job to the farm and return without waiting for it to end (an adaptive search's
        trials); True if the farm accepted it. A submit-command farm's submission returns at once."""
        return _record_submission(job.run_dir, job.name, self.submit(job))

    # ---- the ledger: state, cancel, resubmit ------------------------------------------------------

    def query(self, entries: "List[LedgerEntry]") -> Dict[Path, RunState]:
        """What the farm says now about these queued or running runs, in one batched call; runs it has
        nothing to add about (their status.log is the witness) are left out."""
        return {}

    def cancel(self, entries: "List[LedgerEntry]") -> Dict[Path, str]:
        """Cancel these queued or running runs; for each one that could not be, why (the rest are recorded
        cancelled by the caller)."""
        return {e.run_dir: f"farm type {self.kind} has no cancel command; cancel job {e.job_id or '?'} with the farm's own tool"
                for e in entries}

    def check_resubmit(self, entry: "LedgerEntry") -> None:
        """Raise RunxError when the run cannot be resubmitted (asked of every chosen run before any is claimed)."""
        _recorded_argvs(entry)

    def claim(self, entry: "LedgerEntry") -> None:
        """Record that the run is being resubmitted (its `queued` line), under the experiment lock, so
        another runx resubmitting the experiment's failed runs leaves it alone."""
        from runx.core.status import record_event

        record_event(entry.run_dir, "queued", attempt="resubmit", **self.queued_fields())

    def resubmit(self, entry: "LedgerEntry") -> bool:
        """Submit the claimed run again from its own run directory (its recorded submit_argv); True if accepted."""
        from runx.core.runfiles import record_submission

        result = run_submissions(_recorded_argvs(entry))
        if not record_submission(entry.run_dir, result.returncode, result.job_id):
            return False
        if result.job_id:
            from runx.core.text import printable

            print(printable(f"{entry.name}: resubmitted as job {result.job_id}"))
        return True


def _recorded_argvs(entry: "LedgerEntry") -> list:
    from runx.core.runfiles import RUN_FILE

    argvs = entry.record.get("submit_argv")
    if not argvs:
        raise RunxError(f"{entry.run_dir / RUN_FILE}: submit_argv: missing; cannot resubmit")
    if not isinstance(argvs, list) or not all(isinstance(a, list) and a and all(isinstance(s, str) for s in a) for a in argvs):
        raise RunxError(f"{entry.run_dir / RUN_FILE}: submit_argv: expected a list of argument lists; cannot resubmit")
    return argvs


def _record_submission(run_dir: Path, name: str, result: Submission, durable: bool = True) -> bool:
    from runx.core.runfiles import record_submission

    if record_submission(run_dir, result.returncode, result.job_id, durable):
        return True
    sys.stderr.write(f"runx: job {name}: submission failed with exit code {result.returncode}\n")
    return False
