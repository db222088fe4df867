"""The NGC farm: upload the staged run to the workspace, then `ngc batch run`; `ngc batch kill` cancels.

The workspace is mounted at NGC_LOGROOT in the job, so the job sees its run directory at
`NGC_LOGROOT/<experiment>/<run>`; LOGDIR in hparams and resources resolves to that path.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Dict, List, Mapping

from runx.core.argv import display_quote, resource_args, shell_join
from runx.core.config import FarmSettings
from runx.core.errors import RunxError
from runx.core.farms import register
from runx.core.farms.base import Farm, job_script_path
from runx.core.plan import Job

__all__ = ["NgcFarm"]


@register
class NgcFarm(Farm):
    """`ngc workspace upload` of each run, then `ngc batch run ... --commandline '<job>'`."""

    kind = "ngc"
    default_submit_cmd = "ngc batch run"

    @classmethod
    def claims(cls, name: str, submit_cmd: str) -> bool:
        return "ngc" in name or submit_cmd.startswith("ngc ")

    @classmethod
    def check_settings(cls, values: Mapping[str, Any], submit_cmd: str, where: str, name: str) -> None:
        if submit_cmd.split()[:3] != ["ngc", "batch", "run"]:
            raise RunxError(f"{where}: {name}.SUBMIT_CMD: expected 'ngc batch run' for an NGC farm, found {submit_cmd!r}")
        for key in ("NGC_LOGROOT", "WORKSPACE"):
            if not isinstance(values.get(key), str) or not values[key]:
                raise RunxError(f"{where}: {name}.{key}: missing; an NGC farm needs NGC_LOGROOT and WORKSPACE")

    @classmethod
    def job_logdir(cls, farm: FarmSettings, logroot: Path, run_dir: Path) -> str:
        if not farm.ngc_logroot:
            return str(run_dir)
        return str(Path(farm.ngc_logroot) / run_dir.relative_to(logroot))

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

    def cancel(self, entries: List[Any]) -> Dict[Path, str]:
        """`ngc batch kill <id>` for each run with a job id (its answer is not checked)."""
        for entry in entries:
            if entry.job_id:
                subprocess.run(["ngc", "batch", "kill", entry.job_id], check=False)
        return super().cancel([e for e in entries if not e.job_id])
