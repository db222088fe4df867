"""The files runx writes into each run directory before its job starts."""
from __future__ import annotations

import getpass
import json
import socket
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from runx.core.argv import shell_join
from runx.core.plan import Job
from runx.core.staging import GitState
from runx.logx.rundir import atomic
from runx.logx.rundir.layout import CODE_DIR, GIT_DIFF_FILE, HPARAMS_FILE, RUN_FILE, STATUS_FILE, SUBMIT_FILE

__all__ = ["JOB_START", "job_script", "record_job_id", "record_submission", "write_executable", "write_json", "run_record", "HPARAMS_FILE", "RUN_FILE", "SUBMIT_FILE", "GIT_DIFF_FILE"]

JOB_START = "RUNX_JOB_START"
"""Set (to the epoch second) by a launcher that starts job.sh itself, the local farm: the script's `started`
line takes that time instead of running `date`, and removes it before the command runs."""


def job_script(job: Job, command: Optional[str] = None) -> str:
    """The POSIX shell script a job runs: cd into the staged code, run `command` (default: the job's), record status."""
    q = shell_join
    return f"""#!/bin/sh
# runx job script for run {job.name}: runs the training command from the staged code
# and appends started/finished lines to {STATUS_FILE} (see runx docs: run directory).
RUNX_LOGDIR={q([job.job_logdir])}
export RUNX_LOGDIR
RUNX_STATUS="$RUNX_LOGDIR/{STATUS_FILE}"
{{ read -r RUNX_HOST < /proc/sys/kernel/hostname; }} 2>/dev/null || RUNX_HOST=$(uname -n)
echo "started ${{{JOB_START}:-$(date +%s)}} host=$RUNX_HOST pid=$$ gpus=${{CUDA_VISIBLE_DEVICES:--}}" >> "$RUNX_STATUS"
unset {JOB_START}
if ! cd "$RUNX_LOGDIR/{CODE_DIR}"; then
    echo "finished $(date +%s) exit=127" >> "$RUNX_STATUS"
    exit 127
fi
PYTHONPATH={q([job.pythonpath])}
export PYTHONPATH
{job.command if command is None else command}
rc=$?
echo "finished $(date +%s) exit=$rc" >> "$RUNX_STATUS"
exit $rc
"""


def write_executable(path: Path, text: str) -> None:
    """Write a script and make it executable."""
    path.write_text(text, encoding="utf-8")
    mode = path.stat().st_mode
    path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _user() -> Optional[str]:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _json_default(value: Any) -> Any:
    return str(value)


def write_json(path: Path, data: Any, durable: bool = True) -> None:
    """Write JSON atomically (temp file + rename) so readers never see half a file; `durable=False` leaves
    the fsync to the caller (runx.logx.rundir.atomic.sync_files)."""
    atomic.write_json(str(path), data, indent=2, default=_json_default, durable=durable)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return float(value)
    return value


def plain_hparams(job: Job) -> dict:
    """The hyperparameters as JSON values (floats as plain floats)."""
    return {k: _plain(v) for k, v in job.hparams.items()}


def run_record(
    job: Job,
    experiment: str,
    farm: dict,
    submit_argv: list,
    git: Optional[GitState],
    source_dir: Path,
    version: str,
    metric_goals: dict,
    extra: Optional[dict] = None,
) -> dict:
    """The contents of run.json: everything needed to know what this run was and redo it."""
    record = {
        "runx_version": version,
        "experiment": experiment,
        "run": job.name,
        "run_dir": str(job.run_dir),
        "job_logdir": job.job_logdir,
        "tag": job.tag,
        "hparams": plain_hparams(job),
        "args": list(job.args),
        "command": job.command,
        "pythonpath": job.pythonpath,
        "farm": farm,
        "resources": {k: _plain(v) for k, v in job.resources.items()},
        "submit_argv": submit_argv,
        "job_id": None,
        "source_dir": str(source_dir),
        "git": None if git is None else {"commit": git.commit, "dirty": git.dirty, "untracked": list(git.untracked)},
        "host": socket.gethostname(),
        "user": _user(),
        "created": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "metric_goals": dict(metric_goals),
    }
    if extra:
        record.update(extra)
    return record


def record_job_id(run_dir: Path, job_id: str, durable: bool = True) -> None:
    """Set run.json's job_id to the latest attempt's, keeping every attempt's in job_ids."""
    path = run_dir / RUN_FILE
    record = json.loads(path.read_text(encoding="utf-8"))
    ids = record.get("job_ids") or ([record["job_id"]] if record.get("job_id") else [])
    record["job_ids"] = ids + [job_id]
    record["job_id"] = job_id
    write_json(path, record, durable)


def record_submission(run_dir: Path, returncode: int, job_id: Optional[str], durable: bool = True) -> bool:
    """Record a farm's answer to a submission in status.log (and the job id in run.json); True if accepted.
    `durable=False`: run.json is not fsynced (the caller syncs once for many runs)."""
    from runx.core.status import record_event

    if returncode == 0:
        record_event(run_dir, "submitted", job_id=job_id)
        if job_id:
            record_job_id(run_dir, job_id, durable)
        return True
    record_event(run_dir, "finished", exit=returncode, reason="submission-failed")
    return False
