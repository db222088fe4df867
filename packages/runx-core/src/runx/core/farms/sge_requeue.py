"""Time limits and preemption on Grid Engine: the soft limit's warning, and the attempt run again in place.

With a time limit (RESOURCES `time`, or `h_rt`) and SIGNAL (`USR1@90` by default), runx asks for
`-l s_rt=` SIGNAL's seconds below h_rt. Grid Engine sends SIGUSR1 to the job's whole process group
when s_rt has passed, and SIGKILL at h_rt. qsub.sh traps it and records `interrupted reason=timeout
signal=USR1` in status.log; the job script runs with USR1 ignored (so job.sh's shell and the
training's worker processes live on), but logx installs its own handler for RUNX_REQUEUE_SIGNAL, saves
a checkpoint and exits with REQUEUE_EXIT (75). qsub.sh then records `queued ... reason=requeue
attempt=N job=<task>` and exits 99, on which Grid Engine runs the same job (or array task) again, with
the same job id, in the same run directory, where the next attempt resumes from the latest checkpoint;
up to MAX_ATTEMPTS attempts, counted by those lines. A job Grid Engine ran again on its own (`qmod -rj`,
a host that went down: RESTARTED=1) records `interrupted reason=preempted` when it starts again.
Anything else (a crash, a cancel, a job that ignored the warning and met h_rt) is not run again.

An array task runs its run's own qsub.sh under sh, so each task is warned and run again alone.

Pure: the options and the script's lines (tests/core/test_sge_unit.py runs them in a real sh).
"""
from __future__ import annotations

import re
from typing import List, Optional

from runx.core.farms.slurm_requeue import ATTEMPT_VARIABLE, SIGNAL_VARIABLE
from runx.logx.rundir.layout import STATUS_FILE
from runx.logx.rundir.status import REQUEUE_EXIT

__all__ = ["RERUN_EXIT", "SIGNAL", "time_seconds", "warning_options", "warned", "requeue_lines"]

RERUN_EXIT = 99
"""The exit status on which Grid Engine runs a job again (same job id, back in the queue)."""
SIGNAL = "USR1"
"""What Grid Engine sends at the soft limit s_rt (always SIGUSR1)."""


def time_seconds(text: str) -> Optional[int]:
    """Grid Engine's time `[[hours:]minutes:]seconds` (`1:30:00`, `::90`, `3600`) in seconds, or None."""
    parts = text.strip().split(":")
    if len(parts) > 3 or not all(re.fullmatch(r"\d*", p) for p in parts) or not any(parts):
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part or 0)
    return seconds


def _limit(options: List[str], name: str) -> Optional[str]:
    """The value of `-l <name>=<value>` among qsub options (the last one given), or None."""
    found = None
    for flag, value in zip(options, options[1:]):
        if flag == "-l" and value.lower().startswith(f"{name}="):
            found = value.split("=", 1)[1]
    return found


def warning_options(options: List[str], signal: Optional[str]) -> List[str]:
    """`["-l", "s_rt=<h_rt less SIGNAL's seconds>"]` for a job with these options; [] without SIGNAL, without
    an h_rt longer than the warning, or when the options give their own s_rt."""
    if not signal or _limit(options, "s_rt") is not None:
        return []
    h_rt = _limit(options, "h_rt")
    limit = time_seconds(h_rt) if h_rt is not None else None
    before = int(signal.split("@", 1)[1])
    if limit is None or limit <= before:
        return []
    soft = limit - before
    return ["-l", f"s_rt={soft // 3600}:{soft // 60 % 60:02d}:{soft % 60:02d}"]


def warned(options: List[str], signal: Optional[str]) -> bool:
    """Whether a job with these options (runx's warning included) gets the soft limit's warning and is run again."""
    return bool(signal) and _limit(options, "s_rt") is not None


def requeue_lines(max_attempts: int) -> List[str]:
    """qsub.sh's lines, after `run_dir` and `task` are set, that run job.sh and have it run again when it asks."""
    return [
        f"# runx: at s_rt Grid Engine sends {SIGNAL} to the whole job; job.sh runs with it ignored but for logx, which",
        f"# saves a checkpoint and exits {REQUEUE_EXIT}; then this run is run again (exit {RERUN_EXIT}), "
        f"attempt {ATTEMPT_VARIABLE} of at most {max_attempts}.",
        f'runx_status="$run_dir/{STATUS_FILE}" runx_warned=',
        'runx_done=$(grep -c " reason=requeue attempt=[0-9]* job=$task\\$" "$runx_status" 2>/dev/null)',
        f"{ATTEMPT_VARIABLE}=$((${{runx_done:-0}} + 1)) {SIGNAL_VARIABLE}={SIGNAL}",
        f"export {ATTEMPT_VARIABLE} {SIGNAL_VARIABLE}",
        "# run again by Grid Engine itself (qmod -rj, a host that went down), not after this script's own request",
        'if [ "${RESTARTED:-0}" = 1 ] && ! tail -n 1 "$runx_status" 2>/dev/null | grep -q " reason=requeue attempt=[0-9]* job=$task\\$"; then',
        '    echo "interrupted $(date +%s) reason=preempted restarted=1" >> "$runx_status"',
        "fi",
        f'trap \'[ -n "$runx_warned" ] || {{ runx_warned=1; echo "interrupted $(date +%s) reason=timeout signal={SIGNAL}" '
        f'>> "$runx_status"; }}\' {SIGNAL}',
        f"(trap '' {SIGNAL}; exec sh \"$run_dir/job.sh\") &",
        "runx_job=$!",
        "while :; do",
        '    wait "$runx_job"; runx_rc=$?',
        '    kill -0 "$runx_job" 2>/dev/null || break  # wait returns early when the trap runs',
        "done",
        f'if [ -n "$runx_warned" ] && [ "$runx_rc" -eq {REQUEUE_EXIT} ] && [ "${ATTEMPT_VARIABLE}" -lt {max_attempts} ]; then',
        f'    echo "queued $(date +%s) reason=requeue attempt=$(({ATTEMPT_VARIABLE} + 1)) job=$task" >> "$runx_status"',
        f"    exit {RERUN_EXIT}",
        "fi",
        'exit "$runx_rc"',
    ]
