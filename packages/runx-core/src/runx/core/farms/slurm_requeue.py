"""Time limits and preemption on Slurm: a warning signal before the limit, and the next attempt queued.

With `SIGNAL: USR1@90` (the default) runx asks for `--signal=B:USR1@90`, but Slurm's timer checks
limits every 30 s, so its warning comes 90 to 120 s before the limit. The batch shell therefore arms
its own timer: at its start it asks `squeue` for the job's time left and signals itself exactly 90 s
before the limit; a warning from Slurm before that moment is let pass, and Slurm's warning counts
only when runx's own timer could not be armed (squeue did not answer, no limit). The batch shell
runs the job script in the background, and on the warning it records `interrupted reason=timeout`
in status.log and passes the signal on to the training process. logx (or any
script) saves a checkpoint and exits with REQUEUE_EXIT (75); the batch shell then submits the run's
own sbatch.sh again (`RUNX_ATTEMPT` counts attempts), up to MAX_ATTEMPTS (default 3), into the same
run directory, where the next attempt resumes from the latest checkpoint. A job that Slurm requeued
itself (preemption with PreemptMode=REQUEUE, a node failure: SLURM_RESTART_COUNT > 0) records
`interrupted reason=preempted` when it starts again. Anything else (a crash, a cancel) is not
requeued.

A multi-node job's launcher gets the signal from `pkill -P` (srun passes it on to every node's tasks;
torchrun is told to pass it on to its workers, runx.core.farms.slurm_nodes.torchrun_signal_env), and
`rank0_exit` makes the attempt's exit code REQUEUE_EXIT when logx's rank 0 asked for the requeue.

An array task runs its run's own sbatch.sh under sh (the same lines, so the same timer and requeue); the
next attempt is that run alone, a job of its own in the run's directory.

Pure: the option and the batch script's lines (tests/core/test_slurm_requeue.py runs them in a real sh).
"""
from __future__ import annotations

import shlex
from typing import List

from runx.logx.rundir.layout import STATUS_FILE
from runx.logx.rundir.status import REQUEUE_EVENT, REQUEUE_EXIT

__all__ = ["REQUEUE_EXIT", "ATTEMPT_VARIABLE", "SIGNAL_VARIABLE", "signal_option", "requeue_lines", "rank0_exit"]

ATTEMPT_VARIABLE = "RUNX_ATTEMPT"
"""This attempt's number (1, 2, ...), exported to the job."""
SIGNAL_VARIABLE = "RUNX_REQUEUE_SIGNAL"
"""The warning signal's name (USR1), exported to the job: logx turns it into a checkpoint and exit 75."""


def signal_option(signal: str) -> str:
    """`--signal=B:USR1@90`: the warning goes to the batch shell, which passes it on."""
    return f"--signal=B:{signal}"


def rank0_exit(command: str) -> str:
    """`command` (a launcher's line in job.sh) exiting REQUEUE_EXIT when rank 0 asked for a requeue.

    torchrun exits 1 when a worker exits 75, and srun with the exit code of its worst task (one it
    killed reads as 137), so logx's rank 0 also appends a `requeue` line to status.log as it leaves;
    when the launcher fails and that line came after this attempt's `started`, the attempt's exit code
    is REQUEUE_EXIT. A rank that fails without it (a crash, no warning) keeps its exit code: failed.
    """
    asked = f"awk '$1 == \"started\" {{r = 0}} $1 == \"{REQUEUE_EVENT}\" {{r = 1}} END {{exit !r}}'"
    return (f'{command} || {{ runx_rc=$?; if {asked} "$RUNX_STATUS" 2>/dev/null; then runx_rc={REQUEUE_EXIT}; fi; '
            '(exit "$runx_rc"); }')


def requeue_lines(run_dir: str, job_script: str, batch_script: str, signal: str, max_attempts: int) -> List[str]:
    """The batch script's lines that run `job_script` and queue the next attempt when the job asks for one."""
    name, seconds = signal.split("@", 1)
    q = shlex.quote
    status = q(f"{run_dir}/{STATUS_FILE}")
    return [
        f"# runx: {name} before the time limit is passed to the job, which saves a checkpoint and exits {REQUEUE_EXIT};",
        f"# then this run is submitted again (attempt {ATTEMPT_VARIABLE} of at most {max_attempts}).",
        f"{ATTEMPT_VARIABLE}=${{{ATTEMPT_VARIABLE}:-1}} {SIGNAL_VARIABLE}={name}",
        f"export {ATTEMPT_VARIABLE} {SIGNAL_VARIABLE}",
        f"runx_status={status} runx_warned= runx_job= runx_timer= runx_warn_at=",
        'if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then',
        '    echo "interrupted $(date +%s) reason=preempted restarts=$SLURM_RESTART_COUNT" >> "$runx_status"',
        "fi",
        "runx_warning() {",
        '    [ -z "$runx_warned" ] || return 0',
        "    # Slurm's own warning, early by up to 30 s: runx's timer comes at the due time",
        '    [ -z "$runx_warn_at" ] || [ "$(date +%s)" -ge "$((runx_warn_at - 1))" ] || return 0',
        "    # the job already wrote its end (the warning came as it finished): nothing is interrupted",
        '    tail -n 1 "$runx_status" 2>/dev/null | grep -q "^finished " && return 0',
        f'    runx_warned=1; echo "interrupted $(date +%s) reason=timeout signal={name}" >> "$runx_status"',
        f'    [ -z "$runx_job" ] || pkill -{name} -P "$runx_job"',
        "}",
        f"trap runx_warning {name}",
        "# runx's own timer: the job's time left (squeue %L, [days-][hours:]minutes:seconds) less the warning's seconds",
        'runx_self=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}  # an array task: its own line',
        'runx_left=$(squeue -h -j "${runx_self:-${SLURM_JOB_ID:-none}}" -o %L 2>/dev/null'
        " | awk '/^[0-9][-0-9:]*$/ {n = split($0, p, /[-:]/); s = 0; m = 1;"
        " for (i = n; i >= 1; i--) { s += p[i] * m; m = (n - i == 2) ? 24 * m : 60 * m }; print s; exit}')",
        f'if [ -n "$runx_left" ] && [ "$runx_left" -gt {seconds} ]; then',
        f"    runx_warn_at=$(($(date +%s) + runx_left - {seconds}))",
        f'    (sleep "$((runx_left - {seconds}))" && kill -{name} $$) &',
        "    runx_timer=$!",
        "fi",
        f"sh {q(job_script)} &",
        "runx_job=$!",
        "while :; do",
        '    wait "$runx_job"; runx_rc=$?',
        '    kill -0 "$runx_job" 2>/dev/null || break  # wait returns early when the trap runs',
        "done",
        'if [ -n "$runx_timer" ]; then pkill -P "$runx_timer" sleep; kill "$runx_timer" 2>/dev/null; fi',
        f'if [ -n "$runx_warned" ] && [ "$runx_rc" -eq {REQUEUE_EXIT} ] && [ "${ATTEMPT_VARIABLE}" -lt {max_attempts} ]; then',
        f'    echo "queued $(date +%s) reason=requeue attempt=$(({ATTEMPT_VARIABLE} + 1))" >> "$runx_status"',
        "    # the next attempt is a job of its own: not this one's array task, nor its restarts (sbatch passes the environment on)",
        f'    if runx_next=$(unset SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID SLURM_RESTART_COUNT; '
        f'{ATTEMPT_VARIABLE}=$(({ATTEMPT_VARIABLE} + 1)) sbatch --parsable {q(batch_script)}); then',
        '        echo "submitted $(date +%s) job_id=${runx_next%%;*}" >> "$runx_status"',
        "    else",
        '        echo "finished $(date +%s) exit=$runx_rc reason=requeue-failed" >> "$runx_status"',
        "    fi",
        "fi",
        'exit "$runx_rc"',
    ]
