"""The generic farm: `SUBMIT_CMD <RESOURCES as --k v> -c "<job>"`, as runx 0.0.11 documented."""
from __future__ import annotations

from runx.core.argv import display_quote, resource_args, shell_join
from runx.core.farms import register
from runx.core.farms.base import Farm, job_script_path
from runx.core.plan import Job

__all__ = ["GenericFarm"]


@register
class GenericFarm(Farm):
    """Any submit command that takes resources as options and the job as one string; no status or cancel
    command (status.log, which the job writes, is the witness)."""

    kind = "generic"

    def display_uses_name(self) -> bool:
        return bool(self.farm.name_flag)

    def _prefix(self, job: Job) -> list:
        argv = self.submit_argv() + resource_args(job.resources)
        if self.farm.name_flag:
            argv += [self.farm.name_flag, f"{self.settings.experiment}_{job.name}"]
        return argv

    def submissions(self, job: Job) -> list:
        return [self._prefix(job) + [self.farm.job_flag, shell_join(["sh", job_script_path(job)])]]

    def display(self, job: Job) -> str:
        return f"{shell_join(self._prefix(job))} {self.farm.job_flag} {display_quote(job.command)}"
