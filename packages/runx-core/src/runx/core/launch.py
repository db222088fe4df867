"""Carrying out a validated plan: stage the code, write the run files, run or submit each job."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional, TextIO

from runx.core.argv import shell_join
from runx.core.config import DEFAULT_IGNORE_PATTERNS, Settings, default_ignore_patterns
from runx.core.errors import RunxError
from runx.core.farms import Farm
from runx.core.farms.base import JOB_SCRIPT
from runx.core.plan import Plan, job_for
from runx.core.progress import Progress
from runx.core.runfiles import (
    GIT_DIFF_FILE,
    HPARAMS_FILE,
    RUN_FILE,
    SUBMIT_FILE,
    job_script,
    plain_hparams,
    run_record,
    write_executable,
    write_json,
)
from runx.core.staging import LARGE_SNAPSHOT_BYTES, STAGING_FILE, GitState, Staging, git_state, link_tree, snapshot
from runx.core.status import record_event
from runx.core.sweep import Combination, is_adaptive, sweep_options
from runx.logx.rundir.layout import CODE_DIR

__all__ = ["create_runs", "run_jobs", "runx_version", "sweep_origin", "new_launch_id"]


def runx_version() -> str:
    """The installed runx-core version."""
    try:
        from runx.core._version import version
    except ImportError:
        return "unknown"
    return version


def new_launch_id() -> str:
    """The id every run of one launch records (run.json `launch`, status.log `launch=`): the UTC time and
    runx's pid, `2026-12-02T16:18:02Z-4242`, so ids sort by time and sumx tells launches apart."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + f"-{os.getpid()}"


def _warn_if_large(stats, err: TextIO) -> None:
    if stats.bytes < LARGE_SNAPSHOT_BYTES:
        return
    biggest = ", ".join(f"{rel} ({size / 2**20:.1f} MiB)" for size, rel in stats.top())
    err.write(
        f"runx: warning: the code snapshot is {stats.bytes / 2**20:.0f} MiB in {stats.files} files; "
        f"biggest: {biggest}. Add patterns to CODE_IGNORE_PATTERNS to leave data out.\n"
    )


def _warn_if_vanished(stats, err: TextIO) -> None:
    if not stats.vanished:
        return
    shown = ", ".join(repr(rel) for rel in stats.vanished[:5])
    more = f" and {len(stats.vanished) - 5} more" if len(stats.vanished) > 5 else ""
    err.write(f"runx: warning: {len(stats.vanished)} file(s) vanished while the code was staged and are not in "
              f"the snapshot: {shown}{more}\n")


def _warn_if_python_dropped(stats, err: TextIO) -> None:
    if not stats.dropped_python:
        return
    shown = ", ".join(f"{rel} ({pattern})" for rel, pattern in stats.dropped_python[:5])
    more = f" and {len(stats.dropped_python) - 5} more" if len(stats.dropped_python) > 5 else ""
    err.write(f"runx: warning: the default CODE_IGNORE_PATTERNS left Python code out of the staged code/: {shown}{more}; "
              "set CODE_IGNORE_PATTERNS in .runx or the experiment to keep it\n")


def create_runs(plan: Plan, farm: Farm, source_dir: Path, err: TextIO = sys.stderr,
                code_from: Optional[Path] = None, git: Optional[GitState] = None) -> list:
    """Claim each run directory, stage code once and link it into every run, write the run files.

    `code_from`: an earlier run's code/ of the same launch to link from instead of a new snapshot (an
    adaptive search creates its runs one by one), with that snapshot's `git` state.
    All or nothing: on any failure every directory this launch created is removed (see Staging)."""
    if any((source_dir / marker).exists() for marker in (RUN_FILE, STAGING_FILE)):
        raise RunxError(f"{source_dir}: runx was started inside a run directory, whose files would become the "
                        "new runs' code; expected to start it from the project (or from this run's code/)")
    with Staging(plan.exp_dir) as staging, Progress("staging runs", len(plan.runs), err) as progress:
        return _create_runs(plan, farm, source_dir, err, staging, progress, code_from, git)


def _create_runs(plan: Plan, farm: Farm, source_dir: Path, err: TextIO, staging: Staging, progress: Progress,
                 code_from: Optional[Path], git: Optional[GitState]) -> list:
    settings = plan.settings
    if code_from is None:
        git = git_state(source_dir)
    version = runx_version()
    farm_info = farm.record()
    launch = new_launch_id()
    exclude = (str(settings.logroot), str(plan.exp_dir))
    jobs = []
    first_code: Optional[Path] = code_from
    for run in plan.runs:
        run_dir = staging.claim(plan.name_of(run), allow_suffix=not plan.no_cooldir)
        job = job_for(plan, run, run_dir)
        code = run_dir / CODE_DIR
        if first_code is None:
            report = DEFAULT_IGNORE_PATTERNS if settings.ignore_patterns == default_ignore_patterns() else ()
            stats = snapshot(source_dir, code, settings.ignore_patterns, exclude, run_markers=(RUN_FILE, STAGING_FILE),
                             report=report)
            _warn_if_large(stats, err)
            _warn_if_vanished(stats, err)
            _warn_if_python_dropped(stats, err)
            first_code = code
        else:
            link_tree(first_code, code)
        write_json(run_dir / HPARAMS_FILE, plain_hparams(job), durable=False)
        staging.unsynced.append(run_dir / HPARAMS_FILE)
        write_executable(run_dir / JOB_SCRIPT, job_script(job, farm.job_command(job)))
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
                   "sweep": sweep_origin(settings, run.combination),
                   "overrides": list(settings.overrides), "launch": launch,
                   "launch_command": shell_join(list(settings.command_line)) if settings.command_line else None},
        )
        write_json(run_dir / RUN_FILE, record, durable=False)
        staging.unsynced.append(run_dir / RUN_FILE)
        record_event(run_dir, "queued", farm=settings.farm.name, launch=launch, **farm.queued_fields())
        jobs.append(job)
        progress.update(len(jobs))
    return jobs


def sweep_origin(settings: Settings, combination: Combination) -> Optional[dict]:
    """Where a drawn or replicated run came from (the sweep's seed, its trial and replica), so it
    can be told apart and redrawn; None for a plain grid run."""
    if is_adaptive(settings.sweep):
        from runx.core.search.options import search_options

        search = search_options(settings.sweep, str(settings.experiment_file), settings.metric_goals)
        return {"method": search.method, "trial": combination.trial, "seed": search.seed, "metric": search.metric,
                "goal": search.goal}
    if combination.trial is None and combination.replica is None:
        return None
    return {"seed": sweep_options(settings.sweep).seed, "trial": combination.trial, "replica": combination.replica}


def run_jobs(jobs: list, farm: Farm, out: TextIO = sys.stdout) -> int:
    """Run or submit each job on its farm; every job is tried (with --fail-fast, until one fails: on a farm
    runx then watches the runs, failfast.py); exit status 0, 1 if any failed, 130 if interrupted."""
    failed = farm.run(jobs, out)
    if failed == 0 and jobs and farm.options.fail_fast and farm.kind != "local":
        from runx.core.failfast import watch

        failed = watch(jobs, jobs[0].run_dir.parent, out)
        if failed == 130:
            return 130
    if failed < 0:
        return 130
    if failed:
        sys.stderr.write(f"runx: {failed} of {len(jobs)} job(s) failed\n")
        return 1
    return 0
