"""What the batch-scheduler farms (slurm, sge) share: a script per run, array jobs, batched status.

`BatchFarm` writes each run's scheduler script into its run directory, checks each distinct set of
options with the scheduler before anything is created, submits a sweep of more than ARRAY_THRESHOLD
runs as arrays cut to the scheduler's limit (runs with the same options share one; `ARRAY: true|false`
or `--array|--no-array` decide instead), paces one-job-per-run submissions to SUBMIT_RATE per second
(runx.core.farms.throttle), writes an array's list file and script beside the runs, rewrites each
arrayed run's submit script to say how it went, and believes the scheduler's batched answer where the
job could not write its own status line. A subclass gives the scheduler's words: its options for a
job, how to verify them, a run's script and an array's, how to submit one, how to ask about many jobs.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, Iterable, List, Mapping, Optional, Tuple, Type

from runx.core.argv import shell_join
from runx.core.errors import RunxError
from runx.core.farms.base import Farm, RunState, Submission
from runx.core.farms.throttle import RateLimit
from runx.core.plan import Job, Plan, job_for, planned_dir
from runx.logx.rundir.status import ended_unrecorded

__all__ = ["BatchFarm", "ARRAY_THRESHOLD", "SUBMIT_RATE", "array_list", "mem_amount", "run_command", "task_ranges"]

ARRAY_THRESHOLD = 100
"""A sweep of more runs than this goes as arrays, unless `--no-array` or `ARRAY: false`."""
SUBMIT_RATE = 20.0
"""Submissions per second at most when runs go one job each (the farm's SUBMIT_RATE; 0: no limit)."""


def task_ranges(tasks: Iterable[int]) -> List[str]:
    """Array task numbers as ranges, for a scheduler's cancel: [5, 0, 1, 2, 7] → ["0-2", "5", "7"]."""
    ranges: List[str] = []
    ordered = sorted(set(tasks))
    start = prev = ordered[0]
    for task in ordered[1:] + [None]:
        if task is not None and task == prev + 1:
            prev = task
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if task is not None:
            start = prev = task
    return ranges


def array_list(run_dirs: Iterable[str]) -> str:
    """An array's list file: one run directory a line, in task order."""
    lines = []
    for run_dir in run_dirs:
        if "\n" in run_dir or "\r" in run_dir:
            raise RunxError(f"a run directory cannot contain a line break: {run_dir!r}")
        lines.append(run_dir + "\n")
    return "".join(lines)


def mem_amount(value: Any, other: Callable[[Any], str] = str) -> str:
    """`mem: 128` (GB) as `128G`, `0.5` as `512M`; anything else as `other(value)` says (text with a unit)."""
    if isinstance(value, bool):
        raise RunxError(f"RESOURCES.mem: expected an amount such as 128 (GB) or '500M', found {value!r}")
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip())):
        gb = float(value)
        return f"{int(gb)}G" if gb == int(gb) else f"{int(round(gb * 1024))}M"
    return other(value)


def run_command(argv: List[str], timeout: float, error: Type[Exception], missing: str) -> subprocess.CompletedProcess:
    """Run a scheduler command with its output captured; RunxError(`missing`) when it is not installed,
    `error` when it cannot be run or does not answer within `timeout` seconds."""
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                              timeout=timeout)
    except FileNotFoundError:
        raise RunxError(missing) from None
    except subprocess.TimeoutExpired:
        raise error(f"{argv[0]} did not answer within {timeout:.0f} s") from None
    except OSError as err:
        raise error(f"cannot run {argv[0]}: {err}") from None


class BatchFarm(Farm):
    """A scheduler farm with a script per run and array jobs; subclasses fill in the hooks below."""

    script_name: ClassVar[str] = ""
    """The run's scheduler script in its run directory (`sbatch.sh`)."""
    array_suffix: ClassVar[str] = ""
    """The array script's suffix beside the runs (`.sbatch`)."""
    error: ClassVar[Type[Exception]] = RuntimeError
    """What the scheduler's commands raise when it fails or does not answer."""
    scheduler: ClassVar[str] = ""
    """The scheduler's name in messages (`Slurm`)."""
    array_nouns: ClassVar[Tuple[str, str]] = ("job array", "job arrays")
    """What the scheduler calls one array and several."""
    submitted: ClassVar[str] = "Submitted job"
    """The line printed before a submitted job's id (`Submitted batch job`)."""
    first_task: ClassVar[int] = 0
    """The task number of an array's first run (its list file's first line)."""
    task_separator: ClassVar[str] = "_"
    """What joins an array's job id and a task number in a task's job id (`42_7`)."""

    # ---- the scheduler's words (subclasses) ------------------------------------------------------

    def _options(self, job: Job) -> List[str]:
        """The job's RESOURCES as scheduler options (RunxError naming the bad key)."""
        raise NotImplementedError

    def verify(self, options: List[str]) -> None:
        """Ask the scheduler whether it would ever run a job with these options (RunxError when not)."""
        raise NotImplementedError

    def run_script(self, job: Job) -> str:
        """The scheduler script of one run, as `prepare` writes it."""
        raise NotImplementedError

    def ask(self, job_ids: List[str]) -> Mapping[str, Any]:
        """The scheduler's answer (with `state`, `exit_code`) for each job id, in one batched query."""
        raise NotImplementedError

    def owns(self, entry: Any, answer: Any) -> bool:
        """Whether the scheduler's answer is about this run's job (not a reused job id)."""
        return True

    def submit_words(self, script_path: str) -> List[str]:
        """The command that submits a script (`sbatch --parsable <path>`)."""
        raise NotImplementedError

    def submit_script(self, script_path: str) -> str:
        """Submit a script (trying again while the scheduler is busy); its job id. `error` when the
        scheduler fails, RunxError when it rejects the job's options."""
        raise NotImplementedError

    def scheduler_array_limit(self) -> int:
        """The most tasks one array may have on this cluster (below 2: no arrays)."""
        raise NotImplementedError

    def array_words(self, count: int) -> List[str]:
        """The option that makes an array of `count` tasks (`--array=0-<count-1>`)."""
        raise NotImplementedError

    def array_script(self, chunk: List[Job], list_path: Path) -> str:
        """The script of one array over `chunk`, whose list file is `list_path`."""
        raise NotImplementedError


    # ---- shared ----------------------------------------------------------------------------------

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rate = self.farm.submit_rate
        self._pace = RateLimit(SUBMIT_RATE if rate is None else rate)

    def ignored_flags(self) -> List[str]:
        return [flag for flag in super().ignored_flags() if flag not in ("--array", "--no-array")]

    def _script_path(self, job: Job) -> str:
        return f"{job.run_dir}/{self.script_name}"

    def _array_paths(self, first: Job) -> Tuple[Path, Path]:
        """(the array's list file, its script), beside the runs in the experiment directory."""
        exp_dir, stamp = first.run_dir.parent, first.run_dir.name
        return exp_dir / f".array_{stamp}.txt", exp_dir / f".array_{stamp}{self.array_suffix}"

    def check_plan(self, plan: Plan) -> None:
        """Each distinct set of options in the plan, verified with the scheduler."""
        tried = set()
        for run in plan.runs:
            options = tuple(self._options(job_for(plan, run, planned_dir(plan, run))))
            if options in tried:
                continue
            tried.add(options)
            try:
                self.verify(list(options))
            except RunxError as err:
                raise RunxError(f"{self.farm.source}: {self.farm.name}.RESOURCES: {err}") from None
            except self.error:
                return  # the scheduler did not answer: the submission will say so

    def prepare(self, job: Job) -> None:
        with open(self._script_path(job), "w", encoding="utf-8") as f:
            f.write(self.run_script(job))

    def uses_arrays(self, count: int) -> bool:
        """Whether a sweep of `count` runs goes as arrays: `--array`/`--no-array`, else ARRAY, else
        whether it has more than ARRAY_THRESHOLD runs (a single run is always a job of its own)."""
        choice = self.options.array if self.options.array is not None else self.farm.array
        return count >= 2 and (count > ARRAY_THRESHOLD if choice is None else choice)

    def array_size(self) -> int:
        """The most runs per array: ARRAY_MAX_SIZE where given, within the cluster's own limit."""
        cluster = self.scheduler_array_limit()
        given = self.farm.array_max_size
        return cluster if given is None else min(given, cluster)

    def submit(self, job: Job) -> Submission:
        """The run's own script, submitted at most SUBMIT_RATE per second."""
        self._pace.wait()
        try:
            job_id = self.submit_script(self._script_path(job))
        except (self.error, RunxError) as err:  # recorded as a failed submission, the others still tried
            print(f"runx: {err}", file=sys.stderr)
            return Submission(1)
        print(f"{self.submitted} {job_id}", flush=True)
        return Submission(0, job_id)

    def display_batch(self, first: Job, count: int) -> Optional[str]:
        if not self.uses_arrays(count):
            return None
        size = self.array_size()
        if size < 2:
            return None
        arrays = -(-count // size)
        options = shell_join([*self._options(first), *self.array_words(min(count, size))])
        command = shell_join(self.submit_words(str(self._array_paths(first)[1])))
        one, many = self.array_nouns
        if arrays == 1:
            return f"# one {one} of {count} tasks: {command}  ({options})"
        return f"# {arrays} {many} of at most {size} tasks (runs with the same options share one), the first: {command}  ({options})"

    def _arrays(self, jobs: List[Job]) -> List[List[int]]:
        """The indexes of `jobs` per array: runs with the same options, in order, cut to array_size."""
        size = self.array_size()
        groups: Dict[tuple, List[int]] = {}
        for index, job in enumerate(jobs):
            groups.setdefault(tuple(self._options(job)), []).append(index)
        return [group[i:i + size] for group in groups.values() for i in range(0, len(group), size)]

    def submit_all(self, jobs: list) -> Optional[list]:
        """Every job, as arrays (see `uses_arrays`); None to submit one job per run."""
        if not self.uses_arrays(len(jobs)) or self.array_size() < 2:
            return None
        results: List[Optional[Submission]] = [None] * len(jobs)
        for indexes in self._arrays(jobs):
            chunk = [jobs[i] for i in indexes]
            if len(chunk) == 1:
                results[indexes[0]] = self.submit(chunk[0])
                continue
            for index, result in zip(indexes, self._submit_array(chunk, len(jobs), indexes)):
                results[index] = result
        return results

    def _submit_array(self, chunk: List[Job], total: int, indexes: List[int]) -> List[Submission]:
        """One array of `chunk` (its list file and script beside the runs); each run's Submission."""
        script_path = self.write_array(chunk, lambda list_path: self.array_script(chunk, list_path))
        self._pace.wait()
        try:
            array_id = self.submit_script(str(script_path))
        except (self.error, RunxError) as err:
            print(f"runx: {err}", file=sys.stderr)
            return [Submission(1) for _ in chunk]
        which = "" if len(chunk) == total else f", runs {indexes[0] + 1}-{indexes[-1] + 1} of {total}"
        print(f"{self.submitted} {array_id} (array of {len(chunk)}{which})", flush=True)
        command = shell_join(self.submit_words(str(script_path)))
        self.note_arrayed(chunk, lambda index: (f"# Submitted by runx as task {index + self.first_task} "
                                                f"of {self.scheduler} {self.array_nouns[0]} {array_id}:\n#   {command}"))
        return [Submission(0, f"{array_id}{self.task_separator}{index + self.first_task}") for index in range(len(chunk))]

    def write_array(self, jobs: List[Job], script: Callable[[Path], str]) -> Path:
        """The array's list file (line K: the run directory of task K) and its script `script(list file)`,
        beside the runs; the script's path."""
        list_path, script_path = self._array_paths(jobs[0])
        list_path.write_text(array_list(str(j.run_dir) for j in jobs), encoding="utf-8")
        script_path.write_text(script(list_path), encoding="utf-8")
        return script_path

    def note_arrayed(self, jobs: List[Job], how: Callable[[int], str]) -> None:
        """Rewrite each arrayed run's submit script with a comment saying how it went (`how(index)`, the
        comment's first line); the script itself still submits that run alone (as runx resubmit does)."""
        from runx.core.runfiles import SUBMIT_FILE, write_executable

        for index, job in enumerate(jobs):
            comment = f"{how(index)}\n# This script submits this run alone again (as runx resubmit does)."
            write_executable(job.run_dir / SUBMIT_FILE, self.script(job, comment))

    def query(self, entries: List[Any]) -> Dict[Path, RunState]:
        """One batched query for every run with a job id. The scheduler's word counts where the job could
        not write its own: it failed or was cancelled (or ended without writing), or it started. An attempt
        the scheduler interrupted and then killed reads as the interruption (timeout, preempted)."""
        asked = [e for e in entries if e.job_id]
        if not asked:
            return {}
        try:
            answers = self.ask([e.job_id for e in asked])
        except (self.error, RunxError):
            return {}
        found = {}
        for entry in asked:
            answer = answers.get(entry.job_id)
            if answer is None or answer.state == "unknown" or not self.owns(entry, answer):
                continue
            if answer.state in ("failed", "cancelled") or (answer.state == "running" and entry.state == "queued"):
                code = answer.exit_code if answer.exit_code is not None else entry.exit_code
                found[entry.run_dir] = RunState(ended_unrecorded(entry.status, answer.state, code), code)
        return found
