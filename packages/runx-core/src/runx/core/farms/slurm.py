"""The slurm farm: an sbatch script per run (or job arrays for a large sweep), batched status, scancel.

Below the farm class: RESOURCES as sbatch options, the batch script, and the batched
sbatch / squeue / sacct / scancel calls (usable on their own). As runx.core.farms.batch says, a
sweep of more than ARRAY_THRESHOLD runs goes as job arrays, here of at most the cluster's
MaxArraySize tasks, and runs submitted one job each go at most SUBMIT_RATE per second; an sbatch
the controller is too busy to take is tried again with backoff (runx.core.farms.throttle).

Status comes from one `squeue -t all` call per chunk of job ids (it also lists jobs that ended less
than MinJobAge ago, with their exit codes; array tasks are asked as their array); ids it no longer
knows go to `sacct` where accounting exists, then to the job completion log where that is a
readable text file. `scontrol show job` would only repeat what `squeue -t all` says, so it is not asked.
"""
from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from runx.core.argv import display_quote, shell_join
from runx.core.errors import RunxError
from runx.core.farms import register
from runx.core.farms.base import job_script_path
from runx.core.farms.batch import BatchFarm, array_list, mem_amount, run_command, task_ranges
from runx.core.farms.slurm_nodes import (
    NODE_KEYS,
    NodeLayout,
    check_launcher,
    launch_command,
    node_layout,
    node_options,
    rendezvous_lines,
)
from runx.core.farms.slurm_requeue import rank0_exit, requeue_lines, signal_option
from runx.core.farms.throttle import RETRY_DELAYS, Busy, retry
from runx.core.plan import Job

__all__ = [
    "SlurmFarm",
    "BATCH_SCRIPT",
    "OUTPUT",
    "ERROR",
    "SlurmError",
    "JobState",
    "sbatch_options",
    "array_option",
    "array_list",
    "batch_script",
    "submit",
    "query",
    "cancel",
    "job_state",
]

BATCH_SCRIPT = "sbatch.sh"
OUTPUT = "slurm-%j.out"
ERROR = "slurm-%j.err"
TIMEOUT = 120.0
DEFAULT_MAX_ARRAY_SIZE = 1001
"""Slurm's default MaxArraySize, used where `scontrol show config` does not answer."""
ID_LIST_CHARS = 60_000
"""The longest `--jobs=` list runx passes in one call (Linux takes at most 128 KiB in one argument)."""

_FLAGS = {
    "cpu": "--cpus-per-task",
    "mem": "--mem",
    "time": "--time",
    "partition": "--partition",
    "nodes": "--nodes",
    "account": "--account",
    "qos": "--qos",
    "constraint": "--constraint",
}
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_JOB_ID = re.compile(r"\d+(_\d+)?\Z")
_BUSY = re.compile(
    r"socket timed out|resource temporarily unavailable|temporarily unable|try again|not responding|"
    r"unable to contact slurm controller|connection refused|connection timed out|EAGAIN", re.I
)
_USER_ERROR = re.compile(
    r"invalid|unrecognized option|not available|can ?not be satisfied|violates|exceed|not permitted|denied", re.I
)

_QUEUED = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SPECIAL_EXIT"}
_RUNNING = {"RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING"}
_FAILED = {"FAILED", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL", "OUT_OF_MEMORY", "DEADLINE", "PREEMPTED"}
_CANCELLED = {"CANCELLED", "REVOKED"}


class SlurmError(RuntimeError):
    """Slurm failed or did not answer (not a mistake in what the user wrote)."""


@dataclass(frozen=True)
class JobState:
    """What Slurm says about one job: a runx state, the exit code once known, and Slurm's own words."""

    state: str
    exit_code: Optional[int] = None
    raw: str = ""
    source: str = ""


# ---- options and scripts (pure) -----------------------------------------------------------------


def sbatch_options(resources: Mapping[str, Any]) -> list[str]:
    """RESOURCES as sbatch options, one complete option per item (`--cpus-per-task=16`, `--exclusive`)."""
    options = []
    for key, value in resources.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise RunxError(f"RESOURCES: {key!r} is not an sbatch option name")
        name = key.lower()
        for item in value if isinstance(value, list) else [value]:
            if item is False or item is None:
                continue
            if isinstance(item, (dict, list)):
                raise RunxError(f"RESOURCES.{key}: expected a value, found {item!r}")
            if "\n" in str(item) or "\r" in str(item):
                raise RunxError(f"RESOURCES.{key}: a value cannot contain a line break: {item!r}")
            if name == "gpu":
                if item is True:
                    options.append("--gres=gpu")
                elif item != 0:
                    options.append(f"--gres=gpu:{item}")
                continue
            if name == "mem":
                options.append(f"--mem={mem_amount(item)}")
                continue
            flag = _FLAGS.get(name) or (f"-{key}" if len(key) == 1 else f"--{key.replace('_', '-')}")
            if item is True:
                options.append(flag)
            elif len(flag) == 2:
                options.append(f"{flag}{item}")
            else:
                options.append(f"{flag}={item}")
    return options


def array_option(count: int) -> str:
    """`--array=0-<count-1>`: one task per line of the array's list file."""
    if count < 1:
        raise ValueError("a job array needs at least one task")
    return f"--array=0-{count - 1}"


def _directive(option: str) -> str:
    """One `#SBATCH` line; sbatch reads double quotes there (with \\" and \\\\), nothing else."""
    if "\n" in option or "\r" in option:
        raise RunxError(f"an sbatch option cannot contain a line break: {option!r}")

    def quote(text: str) -> str:
        if text and not re.search(r"[\s\"'#\\]", text):
            return text
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    if option.startswith("--") and "=" in option:
        flag, value = option.split("=", 1)
        return f"#SBATCH {flag}={quote(value)}"
    return f"#SBATCH {quote(option)}"


def _pattern_path(directory: str, name: str) -> str:
    """A path for --output/--error: the directory's own % doubled so Slurm does not expand it."""
    return directory.rstrip("/").replace("%", "%%") + "/" + name


def batch_script(job_name: str, run_dir: str, job_script: str, options: list[str], array: bool = False,
                 preamble: Sequence[str] = (), run_lines: Optional[Sequence[str]] = None) -> str:
    """The sbatch script for one run (`sh job_script`), or with array=True for a whole sweep.

    One run: output goes to `<run_dir>/slurm-<jobid>.out` and `.err`. Array: `run_dir` is the
    sweep's directory and `job_script` the list file (see `array_list`); task N reads line N, sends
    its output to `<that run dir>/slurm-<arrayjob>_<N>.out` and `.err`, and runs its `job.sh`; nothing
    is written beside the runs but `<list file>.errors` when a task finds no run.
    The caller adds `array_option(n)` to `options`. Options come after runx's own, so they win.
    `preamble`: shell lines run just before the job script (a multi-node job's rendezvous);
    `run_lines`: the lines that run it, instead of the preamble and `exec sh job_script` (the requeue's;
    for an array, the lines each task runs in its run directory `$run_dir`).
    """
    if array:  # each task's output goes to its run directory (below); nothing is left in the sweep's
        head = ["--output=/dev/null", "--error=/dev/null"]
    else:
        head = [f"--output={_pattern_path(run_dir, OUTPUT)}", f"--error={_pattern_path(run_dir, ERROR)}"]
    directives = [_directive(o) for o in [f"--job-name={job_name}", *head, f"--chdir={run_dir}", *options]]
    lines = ["#!/bin/sh", f"# Submitted by runx with sbatch: {'a job array over a sweep' if array else 'one run'}.", *directives]
    if array:
        lines += [
            f"list={shlex.quote(job_script)}",
            'run_dir=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$list")',
            'if [ -z "$run_dir" ]; then',
            '    echo "runx: no run for array task $SLURM_ARRAY_TASK_ID in $list" | tee -a "$list.errors" >&2',
            '    exit 2',
            'fi',
            'task="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
            'exec >"$run_dir/slurm-$task.out" 2>"$run_dir/slurm-$task.err" </dev/null',
            'cd "$run_dir" || exit 2',
            *(run_lines if run_lines is not None else [*preamble, 'exec sh "$run_dir/job.sh"']),
        ]
    else:
        lines += [*preamble, *(run_lines if run_lines is not None else [f"exec sh {shlex.quote(job_script)}"])]
    return "\n".join(lines) + "\n"


# ---- commands -----------------------------------------------------------------------------------


def _run(argv: list[str], timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return run_command(argv, timeout, SlurmError, f"the slurm farm needs {argv[0]!r}, which is not on PATH")


def _submit_once(script_path: str) -> str:
    done = _run(["sbatch", "--parsable", script_path])
    message = " ".join(done.stderr.split()) or " ".join(done.stdout.split())
    if done.returncode != 0:
        if _BUSY.search(message):
            raise Busy(message)
        if done.returncode == 255 or _USER_ERROR.search(message):
            raise RunxError(f"sbatch rejected {script_path}: {message}")
        raise SlurmError(f"sbatch failed ({done.returncode}): {message}")
    first = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    job_id = first.split(";")[0].strip()
    if not job_id.isdigit():
        raise SlurmError(f"sbatch printed no job id: {done.stdout.strip()!r}")
    return job_id


def submit(script_path: str, retry_delays: Sequence[float] = RETRY_DELAYS) -> str:
    """`sbatch --parsable script_path`; the job id (RunxError when sbatch rejects the options).

    While the controller says it is busy (a socket time-out, EAGAIN, "temporarily unable"), sbatch is
    tried again after each of `retry_delays` seconds (runx.core.farms.throttle); then SlurmError."""
    try:
        return retry(lambda: _submit_once(script_path), "sbatch", retry_delays)
    except Busy as busy:
        raise SlurmError(f"sbatch failed: the controller stayed busy: {busy}") from None


def test_options(options: list[str]) -> None:
    """`sbatch --test-only` with these options: RunxError naming sbatch's complaint when it rejects them.

    Nothing is submitted. A failure that is not about the options (an unreachable controller) is
    left for the submission to report.
    """
    done = _run(["sbatch", "--test-only", *options, "--wrap", "true"])
    message = " ".join(done.stderr.split()) or " ".join(done.stdout.split())
    if done.returncode != 0 and (done.returncode == 255 or _USER_ERROR.search(message)):
        raise RunxError(f"sbatch rejects {' '.join(options) or 'the default options'}: {message}")


def _exit_from_wait_status(raw: str) -> Optional[int]:
    """squeue's exit_code is a wait status: the exit code, or 128 + the signal that ended the job."""
    try:
        status = int(raw)
    except ValueError:
        return None
    return 128 + (status & 0x7F) if status & 0x7F else (status >> 8) & 0xFF


def _exit_from_pair(raw: str) -> Optional[int]:
    """sacct's and the completion log's `code:signal`, the same way."""
    code, _, signal = raw.partition(":")
    try:
        code_n, signal_n = int(code), int(signal or 0)
    except ValueError:
        return None
    return 128 + signal_n if signal_n else code_n


def job_state(slurm_state: str, exit_code: Optional[int], source: str = "") -> JobState:
    """The runx state for Slurm's state word (`CANCELLED by 0` reads as CANCELLED)."""
    word = slurm_state.split()[0].rstrip("+").upper() if slurm_state.strip() else ""
    if word in _QUEUED:
        return JobState("queued", None, slurm_state, source)
    if word in _RUNNING:
        return JobState("running", None, slurm_state, source)
    if word == "COMPLETED":
        return JobState("succeeded", 0 if exit_code is None else exit_code, slurm_state, source)
    if word in _FAILED:
        return JobState("failed", exit_code, slurm_state, source)
    if word in _CANCELLED:
        return JobState("cancelled", exit_code, slurm_state, source)
    return JobState("unknown", exit_code, slurm_state, source)


def _combine(states: list[JobState]) -> JobState:
    """A whole array's state from its tasks' states: active first, then the worst outcome."""
    for wanted in ("running", "queued", "failed", "cancelled", "unknown"):
        for st in states:
            if st.state == wanted:
                return JobState(wanted, st.exit_code, f"{len(states)} tasks; e.g. {st.raw}", st.source)
    first = states[0]
    return JobState("succeeded", 0, f"{len(states)} tasks; {first.raw}", first.source)


def _resolve(ids: list[str], found: dict[str, JobState], answers: dict[str, JobState]) -> None:
    """Move answers for `ids` out of `found` (keyed `N` or `N_K`) into `answers`; `N` also gathers `N_*`."""
    tasks_of: Optional[Dict[str, List[JobState]]] = None
    for job_id in ids:
        if job_id in answers:
            continue
        if job_id in found:
            answers[job_id] = found[job_id]
            continue
        if "_" not in job_id:
            if tasks_of is None:
                tasks_of = {}
                for key, st in found.items():
                    array_id, sep, _ = key.partition("_")
                    if sep:
                        tasks_of.setdefault(array_id, []).append(st)
            if job_id in tasks_of:
                answers[job_id] = _combine(tasks_of[job_id])


def _asked(ids: Iterable[str]) -> list[str]:
    """The ids to ask Slurm about: an array task `N_K` is asked as its array `N` (listed task by task)."""
    return list(dict.fromkeys(job_id.partition("_")[0] for job_id in ids))


def _chunks(words: list[str], limit: int = ID_LIST_CHARS) -> list[list[str]]:
    """`words` cut into runs whose comma-joined length stays within `limit` (one `--jobs=` list each)."""
    chunks: list[list[str]] = []
    size = limit + 1
    for word in words:
        if size + 1 + len(word) > limit:
            chunks.append([])
            size = -1
        chunks[-1].append(word)
        size += 1 + len(word)
    return chunks


def _from_squeue(ids: list[str]) -> dict[str, JobState]:
    fields = "JobArrayID:|,State:|,exit_code:|"
    done = _run(["squeue", "--noheader", "--array", "--states=all", f"--jobs={','.join(ids)}", f"--Format={fields}"])
    if done.returncode != 0:
        if "Invalid job id" in done.stderr:
            return {}
        raise SlurmError(f"squeue failed ({done.returncode}): {' '.join(done.stderr.split())}")
    found = {}
    for line in done.stdout.splitlines():
        parts = line.split("|")
        if len(parts) >= 3 and parts[0].strip():
            found[parts[0].strip()] = job_state(parts[1].strip(), _exit_from_wait_status(parts[2].strip()), "squeue")
    return found


def _from_sacct(ids: list[str]) -> dict[str, JobState]:
    done = _run(
        ["sacct", "--noheader", "--parsable2", "--allocations", f"--jobs={','.join(ids)}", "--format=JobID,State,ExitCode"]
    )
    if done.returncode != 0:
        return {}
    found = {}
    for line in done.stdout.splitlines():
        parts = line.split("|")
        if len(parts) >= 3 and _JOB_ID.match(parts[0].strip()):
            found[parts[0].strip()] = job_state(parts[1], _exit_from_pair(parts[2].strip()), "sacct")
    return found


_CLUSTER_CONFIG: Dict[str, str] = {}


def cluster_config() -> Dict[str, str]:
    """`scontrol show config` as key: value, asked once per process ({} where scontrol does not answer)."""
    if not _CLUSTER_CONFIG:
        try:
            done = _run(["scontrol", "show", "config"])
        except (RunxError, SlurmError):
            return {}
        if done.returncode != 0:
            return {}
        for line in done.stdout.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                _CLUSTER_CONFIG[key.strip()] = value.strip()
    return _CLUSTER_CONFIG


def max_array_size() -> int:
    """The most tasks one job array may have here: the cluster's MaxArraySize (0: arrays are off)."""
    value = cluster_config().get("MaxArraySize", "")
    return int(value) if value.isdigit() else DEFAULT_MAX_ARRAY_SIZE


def _jobcomp_file() -> Optional[str]:
    config = cluster_config()
    if config.get("JobCompType") != "jobcomp/filetxt":
        return None
    return config.get("JobCompLoc") or None


_JOBCOMP_FIELD = re.compile(r"\b(JobId|JobState|ExitCode|ArrayJobId|ArrayTaskId)=(\S*)")


def _from_jobcomp(wanted: set[str]) -> dict[str, JobState]:
    path = _jobcomp_file()
    if not path:
        return {}
    found = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = dict(_JOBCOMP_FIELD.findall(line))
                if "JobId" not in fields:
                    continue
                task = fields.get("ArrayTaskId", "")
                key = f"{fields['ArrayJobId']}_{task}" if task.isdigit() and fields.get("ArrayJobId") else fields["JobId"]
                if key in wanted or key.split("_")[0] in wanted:
                    found[key] = job_state(fields.get("JobState", ""), _exit_from_pair(fields.get("ExitCode", "")), "jobcomp")
    except OSError:
        return {}
    return found


def query(job_ids: list[str]) -> dict[str, JobState]:
    """Each job's state: one squeue call per chunk of ids, then sacct and the completion log for the rest.

    Ids are `N` (a job, or a whole array) or `N_K` (array task K); anything else reads as unknown.
    Array tasks are asked as their array (`--jobs=N`, which lists every task), so a sweep of 10,000
    runs in job arrays of 1,001 costs one squeue call with ten ids.
    """
    answers: dict[str, JobState] = {}
    ids = []
    for job_id in dict.fromkeys(str(j).strip() for j in job_ids):
        if _JOB_ID.match(job_id):
            ids.append(job_id)
        else:
            answers[job_id] = JobState("unknown", None, "not a Slurm job id")
    sources = (_from_squeue, _from_sacct)
    for source in sources:
        missing = [j for j in ids if j not in answers]
        if not missing:
            break
        found: dict[str, JobState] = {}
        for chunk in _chunks(_asked(missing)):
            found.update(source(chunk))
        _resolve(missing, found, answers)
    missing = [j for j in ids if j not in answers]
    if missing:
        _resolve(missing, _from_jobcomp(set(_asked(missing))), answers)
    for job_id in ids:
        answers.setdefault(job_id, JobState("unknown", None, "Slurm no longer knows this job"))
    return {str(j).strip(): answers[str(j).strip()] for j in job_ids}


def cancel(job_ids: list[str]) -> None:
    """`scancel` for all the jobs, one call per chunk of ids (array tasks as `N_[0-99,120]`); ids that
    are gone or already finished are not an error."""
    plain: list[str] = []
    tasks: dict[str, list[int]] = {}
    for job_id in dict.fromkeys(str(j).strip() for j in job_ids):
        if not _JOB_ID.match(job_id):
            continue
        array_id, sep, task = job_id.partition("_")
        if sep:
            tasks.setdefault(array_id, []).append(int(task))
        else:
            plain.append(job_id)
    words = plain + [f"{array_id}_[{','.join(task_ranges(numbers))}]" for array_id, numbers in tasks.items()]
    for chunk in _chunks(words):
        done = _run(["scancel", *chunk])
        if done.returncode != 0:
            message = " ".join(done.stderr.split())
            if re.search(r"already completing or completed|Invalid job id", message, re.I):
                continue
            raise SlurmError(f"scancel failed ({done.returncode}): {message}")


# ---- the farm ------------------------------------------------------------------------------------


@register
class SlurmFarm(BatchFarm):
    """sbatch / squeue / sacct / scancel."""

    kind = "slurm"
    default_submit_cmd = "sbatch"
    script_name = BATCH_SCRIPT
    array_suffix = ".sbatch"
    error = SlurmError
    scheduler = "Slurm"
    submitted = "Submitted batch job"

    @classmethod
    def claims(cls, name: str, submit_cmd: str) -> bool:
        return name == "slurm" or submit_cmd.split()[:1] == ["sbatch"]

    @classmethod
    def check_settings(cls, values: Mapping[str, Any], submit_cmd: str, where: str, name: str) -> None:
        check_launcher(values.get("LAUNCHER"), f"{where}: {name}.")
        torchrun = values.get("TORCHRUN")
        if torchrun is not None and (not isinstance(torchrun, str) or not torchrun.strip()):
            raise RunxError(f"{where}: {name}.TORCHRUN: expected a command such as 'python -m torch.distributed.run', found {torchrun!r}")

    def scheduler_array_limit(self) -> int:
        """The cluster's MaxArraySize (`scontrol show config`)."""
        return max_array_size()

    def array_words(self, count: int) -> List[str]:
        return [array_option(count)]

    def submit_words(self, script_path: str) -> List[str]:
        return ["sbatch", "--parsable", script_path]

    def submit_script(self, script_path: str) -> str:
        return submit(script_path)

    def submit_argv(self) -> list:
        return ["sbatch"]

    def _layout(self, job: Job) -> Optional[NodeLayout]:
        """The multi-node layout RESOURCES and LAUNCHER ask for (runx.core.farms.slurm_nodes), or None."""
        return node_layout(job.resources, self.farm.launcher, self.farm.torchrun, f"{self.farm.source}: {self.farm.name}.")

    def _options(self, job: Job) -> list:
        layout = self._layout(job)
        if layout is None:
            return sbatch_options(job.resources)
        rest = {k: v for k, v in job.resources.items() if not (isinstance(k, str) and k.lower() in NODE_KEYS)}
        return [*node_options(layout), *sbatch_options(rest)]

    def _warned(self) -> bool:
        """Whether a run's own sbatch.sh (and a job array's script) asks for the warning signal before its
        time limit (SIGNAL); an array task then runs its run's own sbatch.sh, which requeues it alone."""
        return bool(self.farm.signal)

    def _batch_options(self, job: Job) -> list:
        """The options in sbatch.sh: RESOURCES, then the warning signal (runx's own, ahead of a RESOURCES.signal)."""
        warning = [signal_option(str(self.farm.signal))] if self._warned() else []
        return [*warning, *self._options(job)]

    def _preamble(self, job: Job) -> list:
        layout = self._layout(job)
        return rendezvous_lines() if layout is not None and layout.launcher != "none" else []

    def job_command(self, job: Job) -> str:
        """The training command, started on every node by the layout's launcher (as is for a one-node job).

        With the warning signal, the launcher passes it to every process and the attempt exits 75 when
        rank 0 saved and asked for a requeue (runx.core.farms.slurm_requeue.rank0_exit)."""
        layout = self._layout(job)
        if layout is None or layout.launcher == "none":
            return job.command
        if not self._warned():
            return launch_command(layout, job.command)
        return rank0_exit(launch_command(layout, job.command, str(self.farm.signal)))

    def files(self, job: Job) -> Dict[str, str]:
        """sbatch.sh, exactly as `prepare` writes it."""
        return {BATCH_SCRIPT: self._batch_script(job)}

    def run_script(self, job: Job) -> str:
        return self._batch_script(job)

    def _batch_script(self, job: Job) -> str:
        run_lines = None
        if self._warned():
            run_lines = requeue_lines(job.job_logdir, job_script_path(job), self._script_path(job), str(self.farm.signal),
                                      self.farm.max_attempts)
        return batch_script(f"{self.settings.experiment}_{job.name}", str(job.run_dir), job_script_path(job),
                            self._batch_options(job), preamble=self._preamble(job), run_lines=run_lines)

    def verify(self, options: List[str]) -> None:
        """`sbatch --test-only` with these options."""
        test_options(options)

    def submissions(self, job: Job) -> list:
        return [["sbatch", "--parsable", self._script_path(job)]]

    def display(self, job: Job) -> str:
        line = f"{shell_join(['sbatch', *self._options(job)])} --wrap {display_quote(job.command)}"
        layout = self._layout(job)
        if layout is None or layout.launcher == "none":
            return line
        return f"{line}  # {layout.launcher} on {layout.nodes} node(s), {layout.per_node} process(es) each"

    def array_script(self, chunk: List[Job], list_path: Path) -> str:
        """One job array's script; with SIGNAL each task runs its run's own sbatch.sh (its warning timer
        and requeue, runx.core.farms.slurm_requeue)."""
        opts = [*self._batch_options(chunk[0]), array_option(len(chunk))]
        run_lines = [f'exec sh "$run_dir/{BATCH_SCRIPT}"'] if self._warned() else None
        return batch_script(f"{self.settings.experiment}_array", str(chunk[0].run_dir.parent), str(list_path), opts,
                            array=True, preamble=self._preamble(chunk[0]), run_lines=run_lines)

    def ask(self, job_ids: List[str]) -> Dict[str, JobState]:
        """One squeue call (then sacct, then the completion log) for all the job ids."""
        return query(job_ids)

    def cancel(self, entries: List[Any]) -> Dict[Path, str]:
        """One `scancel` for every run with a job id."""
        try:
            cancel([e.job_id for e in entries if e.job_id])
        except SlurmError as err:
            return {e.run_dir: str(err) for e in entries}
        return {}
