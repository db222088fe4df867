"""The slurm farm: an sbatch script per run (or one job array per sweep), status and cancel.

`RESOURCES` map to sbatch options (see runx.core.farms.slurm.sbatch_options); `ARRAY: true` in the
farm section (or `runx --array`) submits the whole sweep as one job array.
"""
from __future__ import annotations

import sys
from typing import Optional

from runx.core.argv import display_quote, shell_join
from runx.core.errors import RunxError
from runx.core.farms import slurm
from runx.core.farms.base import Farm, Submission, job_script_path
from runx.core.plan import Job, Plan, job_for, planned_dir

__all__ = ["SlurmFarm", "BATCH_SCRIPT"]

BATCH_SCRIPT = "sbatch.sh"


class SlurmFarm(Farm):
    """sbatch / squeue / sacct / scancel."""

    kind = "slurm"

    def __init__(self, settings, array: bool = False) -> None:
        super().__init__(settings)
        self.array = array or bool(settings.farm.array)

    def submit_argv(self) -> list:
        return ["sbatch"]

    def _options(self, job: Job) -> list:
        return slurm.sbatch_options(job.resources)

    def _script_path(self, job: Job) -> str:
        return f"{job.run_dir}/{BATCH_SCRIPT}"

    def check_plan(self, plan: Plan) -> None:
        """Each distinct set of sbatch options in the plan, tried with `sbatch --test-only`."""
        tried = set()
        for run in plan.runs:
            options = tuple(self._options(job_for(plan, run, planned_dir(plan, run))))
            if options in tried:
                continue
            tried.add(options)
            try:
                slurm.test_options(list(options))
            except RunxError as err:
                raise RunxError(f"{self.farm.source}: {self.farm.name}.RESOURCES: {err}") from None
            except slurm.SlurmError:
                return  # the controller did not answer: the submission will say so

    def prepare(self, job: Job) -> None:
        script = slurm.batch_script(f"{self.settings.experiment}_{job.name}", str(job.run_dir), job_script_path(job), self._options(job))
        with open(self._script_path(job), "w", encoding="utf-8") as f:
            f.write(script)

    def submissions(self, job: Job) -> list:
        return [["sbatch", "--parsable", self._script_path(job)]]

    def display(self, job: Job) -> str:
        return f"{shell_join(['sbatch', *self._options(job)])} --wrap {display_quote(job.command)}"

    def submit(self, job: Job) -> Submission:
        try:
            job_id = slurm.submit(self._script_path(job))
        except (slurm.SlurmError, RunxError) as err:  # recorded as a failed submission, the others still tried
            print(f"runx: {err}", file=sys.stderr)
            return Submission(1)
        print(f"Submitted batch job {job_id}")
        return Submission(0, job_id)

    def _array_paths(self, first: Job) -> tuple:
        """(the array's list file, its sbatch script), beside the runs in the experiment directory."""
        exp_dir, stamp = first.run_dir.parent, first.run_dir.name
        return exp_dir / f".array_{stamp}.txt", exp_dir / f".array_{stamp}.sbatch"

    def display_batch(self, first: Job, count: int) -> Optional[str]:
        if not self.array or count < 2:
            return None
        options = shell_join([*self._options(first), slurm.array_option(count)])
        return f"# one job array of {count} tasks: sbatch --parsable {self._array_paths(first)[1]}  ({options})"

    def submit_all(self, jobs: list) -> Optional[list]:
        if not self.array or len(jobs) < 2:
            return None
        options = {tuple(self._options(j)) for j in jobs}
        if len(options) != 1:
            raise RunxError(f"{self.farm.source}: {self.farm.name}.ARRAY: a job array needs the same resources for every run")
        exp_dir = jobs[0].run_dir.parent
        list_path, script_path = self._array_paths(jobs[0])
        list_path.write_text(slurm.array_list(str(j.run_dir) for j in jobs), encoding="utf-8")
        opts = [*options.pop(), slurm.array_option(len(jobs))]
        script_path.write_text(slurm.batch_script(f"{self.settings.experiment}_array", str(exp_dir), str(list_path), opts, array=True))
        try:
            array_id = slurm.submit(str(script_path))
        except (slurm.SlurmError, RunxError) as err:
            print(f"runx: {err}", file=sys.stderr)
            return [Submission(1) for _ in jobs]
        print(f"Submitted batch job {array_id} (array of {len(jobs)})")
        from runx.core.runfiles import SUBMIT_FILE, write_executable

        for index, job in enumerate(jobs):  # say how the run was submitted; its own sbatch.sh reruns it alone
            comment = (f"# Submitted by runx as task {index} of Slurm job array {array_id}:\n"
                       f"#   sbatch --parsable {shell_join([str(script_path)])}\n"
                       "# This script submits this run alone again (as runx resubmit does).")
            write_executable(job.run_dir / SUBMIT_FILE, self.script(job, comment))
        return [Submission(0, f"{array_id}_{i}") for i in range(len(jobs))]
