"""Carrying out a validated plan: stage the code, write the run files, run or submit each job."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, TextIO

from runx.core.config import Settings
from runx.core.farms import Farm
from runx.core.farms.base import JOB_SCRIPT, Submission
from runx.core.naming import claim_run_dir
from runx.core.plan import Job, Plan, job_for
from runx.core.runfiles import (
    GIT_DIFF_FILE,
    HPARAMS_FILE,
    RUN_FILE,
    SUBMIT_FILE,
    job_script,
    plain_hparams,
    record_submission,
    run_record,
    write_executable,
    write_json,
)
from runx.core.staging import LARGE_SNAPSHOT_BYTES, git_state, link_tree, snapshot
from runx.core.status import launcher_id, record_event, was_cancelled
from runx.core.sweep import Combination, sweep_options

__all__ = ["create_runs", "run_jobs", "runx_version", "sweep_origin"]


def runx_version() -> str:
    """The installed runx-core version."""
    try:
        from runx.core._version import version
    except ImportError:
        return "unknown"
    return version


def _warn_if_large(stats, err: TextIO) -> None:
    if stats.bytes < LARGE_SNAPSHOT_BYTES:
        return
    biggest = ", ".join(f"{rel} ({size / 2**20:.1f} MiB)" for size, rel in stats.top())
    err.write(
        f"runx: warning: the code snapshot is {stats.bytes / 2**20:.0f} MiB in {stats.files} files; "
        f"biggest: {biggest}. Add patterns to CODE_IGNORE_PATTERNS to leave data out.\n"
    )


def create_runs(plan: Plan, farm: Farm, source_dir: Path, err: TextIO = sys.stderr) -> list:
    """Claim each run directory, stage code once and link it into every run, write the run files."""
    settings = plan.settings
    git = git_state(source_dir)
    version = runx_version()
    farm_info = {"name": settings.farm.name, "type": settings.farm.kind, "submit_cmd": settings.farm.submit_cmd or None}
    exclude = (str(settings.logroot), str(plan.exp_dir))
    jobs = []
    first_code: Optional[Path] = None
    for run in plan.runs:
        run_dir = claim_run_dir(plan.exp_dir, plan.name_of(run), allow_suffix=not plan.no_cooldir)
        job = job_for(plan, run, run_dir)
        code = run_dir / "code"
        if first_code is None:
            stats = snapshot(source_dir, code, settings.ignore_patterns, exclude)
            _warn_if_large(stats, err)
            first_code = code
        else:
            link_tree(first_code, code)
        write_json(run_dir / HPARAMS_FILE, plain_hparams(job))
        write_executable(run_dir / JOB_SCRIPT, job_script(job))
        farm.prepare(job)
        write_executable(run_dir / SUBMIT_FILE, farm.script(job))
        if git is not None and git.diff:
            (run_dir / GIT_DIFF_FILE).write_text(git.diff, encoding="utf-8")
        record = run_record(
            job,
            experiment=settings.experiment,
            farm=farm_info,
            submit_argv=farm.submissions(job),
            git=git,
            source_dir=source_dir,
            version=version,
            metric_goals=dict(settings.metric_goals),
            extra={"experiment_file": str(settings.experiment_file.resolve()),
                   "config_file": str(settings.config_file.resolve()) if settings.config_file else None,
                   "sweep": sweep_origin(settings, run.combination)},
        )
        write_json(run_dir / RUN_FILE, record)
        record_event(run_dir, "queued", farm=settings.farm.name, launcher=launcher_id() if farm.kind == "local" else None)
        jobs.append(job)
    return jobs


def sweep_origin(settings: Settings, combination: Combination) -> Optional[dict]:
    """Where a drawn or replicated run came from (the sweep's seed, its trial and replica), so it
    can be told apart and redrawn; None for a plain grid run."""
    if combination.trial is None and combination.replica is None:
        return None
    return {"seed": sweep_options(settings.sweep).seed, "trial": combination.trial, "replica": combination.replica}


def _record_submission(job: Job, result: Submission) -> bool:
    if record_submission(job.run_dir, result.returncode, result.job_id):
        return True
    sys.stderr.write(f"runx: job {job.name}: submission failed with exit code {result.returncode}\n")
    return False


def submit_jobs(jobs: list, farm: Farm, out: TextIO) -> int:
    """Submit every job (one job array where the farm does that); the number that failed."""
    results = farm.submit_all(jobs)
    if results is not None:
        return sum(not _record_submission(job, result) for job, result in zip(jobs, results))
    failed = 0
    for index, job in enumerate(jobs):
        out.write(f"Submitting job {job.name} ({index + 1}/{len(jobs)})\n")
        out.flush()
        failed += not _record_submission(job, farm.submit(job))
    return failed


def run_sequential(jobs: list, farm: Farm, out: TextIO) -> int:
    """Run local jobs one after another, output streamed live; the number that failed (or -1 if interrupted)."""
    failed = 0
    for index, job in enumerate(jobs):
        if was_cancelled(job.run_dir):
            out.write(f"Skipping job {job.name} ({index + 1}/{len(jobs)}): cancelled before it started\n")
            continue
        out.write(f"Running job {job.name} ({index + 1}/{len(jobs)})\n")
        out.flush()
        try:
            result = farm.submit(job)
        except KeyboardInterrupt:
            for pending in jobs[index:]:
                record_event(pending.run_dir, "cancelled", reason="interrupted")
            out.write(f"runx: interrupted; {len(jobs) - index} run(s) recorded as cancelled\n")
            return -1
        if result.returncode != 0:
            failed += 1
            sys.stderr.write(f"runx: job {job.name} exited with exit code {result.returncode}\n")
    return failed


@contextmanager
def _interrupted_by_hangup_and_term() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) stop local jobs as Ctrl-C does, so no run stays queued."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_jobs(jobs: list, farm: Farm, out: TextIO = sys.stdout, concurrency: int = 1, slots: Optional[list] = None) -> int:
    """Run (locally) or submit each job; every job is tried; exit status 0, 1 if any failed, 130 if interrupted."""
    if farm.kind != "local":
        failed = submit_jobs(jobs, farm, out)
    else:
        with _interrupted_by_hangup_and_term():
            if concurrency > 1 or slots:
                from runx.core.localpool import run_parallel

                failed = run_parallel(jobs, concurrency, slots or [], out)
            else:
                failed = run_sequential(jobs, farm, out)
    if failed < 0:
        return 130
    if failed:
        sys.stderr.write(f"runx: {failed} of {len(jobs)} job(s) failed\n")
        return 1
    return 0
