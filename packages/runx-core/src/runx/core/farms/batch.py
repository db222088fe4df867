"""What the batch-scheduler farms (slurm, sge) share: a script per run, array jobs, batched status.

`BatchFarm` writes each run's scheduler script into its run directory, checks each distinct set of
options with the scheduler before anything is created, writes an array's list file and script beside
the runs, rewrites each arrayed run's submit script to say how it went, and believes the scheduler's
batched answer where the job could not write its own status line. A subclass gives the scheduler's
words: its options for a job, how to verify them, a run's script, how to ask about many jobs.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, Iterable, List, Mapping, Tuple, Type

from runx.core.errors import RunxError
from runx.core.farms.base import Farm, RunState
from runx.core.plan import Job, Plan, job_for, planned_dir

__all__ = ["BatchFarm", "array_list", "mem_amount", "run_command"]


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

    # ---- shared ----------------------------------------------------------------------------------

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
        not write its own: it failed or was cancelled (or ended without writing), or it started."""
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
                found[entry.run_dir] = RunState(answer.state, answer.exit_code if answer.exit_code is not None else entry.exit_code)
        return found
