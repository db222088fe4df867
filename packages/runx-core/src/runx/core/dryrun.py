"""Printing the plan (`-n`): the readable command of every run; nothing is created."""
from __future__ import annotations

from typing import TextIO

from runx.core.argv import shell_join
from runx.core.farms.base import Farm
from runx.core.plan import Plan, job_for, planned_dir
from runx.core.text import printable

__all__ = ["show_plan"]

PLACEHOLDER = "<run>"


def show_plan(plan: Plan, farm: Farm, verbose: bool, out: TextIO) -> None:
    """Print (with `verbose`) the config file used and LOGROOT, the overrides given, then each run's
    readable command and, with `verbose`, its run directory and full submission (a control character
    in a value is shown as an escape: runx.core.text)."""
    named = verbose or plan.uses_logdir() or farm.display_uses_name()
    batch = None
    settings = plan.settings
    if verbose:
        config = settings.config_file if settings.config_file is not None else "none found"
        out.write(printable(f"# config: {config}") + "\n")
        out.write(printable(f"# LOGROOT: {settings.logroot}") + "\n")
    if settings.overrides:
        out.write(printable(f"# overrides: {shell_join(settings.overrides)}") + "\n")
    for index, run in enumerate(plan.runs):
        run_dir = planned_dir(plan, run) if named else plan.exp_dir / PLACEHOLDER
        job = job_for(plan, run, run_dir)
        if index == 0 and verbose:
            batch = farm.display_batch(job, len(plan.runs))
        out.write(printable(farm.display(job)) + "\n")
        if verbose:
            out.write(printable(f"    # run directory: {job.run_dir}") + "\n")
            out.write(printable(f"    # job: cd {shell_join([job.job_logdir + '/code'])} && PYTHONPATH={shell_join([job.pythonpath])} "
                                f"{farm.job_command(job)}") + "\n")
            if batch is None:
                for argv in farm.submissions(job):
                    out.write(printable(f"    {shell_join(argv)}") + "\n")
                for name, text in farm.files(job).items():
                    out.write(printable(f"    # {name}:") + "\n")
                    out.write("".join(printable(f"    {line}") + "\n" for line in text.splitlines()))
    if batch is not None:
        out.write("\n".join(printable(line) for line in batch.split("\n")) + "\n")
