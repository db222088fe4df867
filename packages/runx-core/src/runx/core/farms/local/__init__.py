"""The local farm (`-i`, or no FARM): jobs run here, one after another, output streamed live."""
from __future__ import annotations

from runx.core.farms.base import Farm, Submission, job_script_path, run_submissions
from runx.core.plan import Job

__all__ = ["LocalFarm"]


class LocalFarm(Farm):
    """Runs each job's script in the foreground with this terminal's stdin, stdout and stderr."""

    kind = "local"

    def check(self) -> None:
        return None

    def submissions(self, job: Job) -> list:
        return [["sh", job_script_path(job)]]

    def display(self, job: Job) -> str:
        return job.command

    def submit(self, job: Job) -> Submission:
        return run_submissions(self.submissions(job), capture=False)
