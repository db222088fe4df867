"""The NGC farm: upload the staged run to the workspace, then `ngc batch run`.

The workspace is mounted at NGC_LOGROOT in the job, so the job sees its run directory at
`NGC_LOGROOT/<experiment>/<run>`; LOGDIR in hparams and resources resolves to that path.
"""
from __future__ import annotations

from runx.core.argv import display_quote, resource_args, shell_join
from runx.core.farms.base import Farm, job_script_path
from runx.core.plan import Job

__all__ = ["NgcFarm"]


class NgcFarm(Farm):
    """`ngc workspace upload` of each run, then `ngc batch run ... --commandline '<job>'`."""

    kind = "ngc"

    def display_uses_name(self) -> bool:
        return True

    def _upload(self, job: Job) -> list:
        destination = job.run_dir.relative_to(self.settings.logroot).as_posix()
        return ["ngc", "workspace", "upload", "--source", str(job.run_dir), "--destination", destination, self.farm.workspace]

    def _batch_prefix(self, job: Job) -> list:
        return self.submit_argv() + resource_args(job.resources) + ["--name", f"{self.settings.experiment}_{job.name}"]

    def _workspace(self) -> list:
        return ["--workspace", f"{self.farm.workspace}:{self.farm.ngc_logroot}:RW"]

    def submissions(self, job: Job) -> list:
        commandline = shell_join(["sh", job_script_path(job)])
        return [self._upload(job), self._batch_prefix(job) + ["--commandline", commandline] + self._workspace()]

    def display(self, job: Job) -> str:
        return f"{shell_join(self._batch_prefix(job))} --commandline {display_quote(job.command)} {shell_join(self._workspace())}"
