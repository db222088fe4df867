"""A worked example of a farm (docs/farms.md, "Writing a farm"): jobs run here, detached from the
terminal in a session of their own, like a tiny task spooler. `runx sweep.yml` returns at once; the
jobs survive a closed terminal; `runx status|cancel|resubmit` work on them.

Install it as the `background` kind through an entry point of your package:

    [project.entry-points."runx.farms"]
    background = "background_farm"

then select it in .runx:  FARM: bg   with   bg: {TYPE: background}
"""
from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Dict, List, Mapping

from runx.core.farms import Farm, RunState, register

DETACH = 'RUNX_BACKGROUND_RUN="$1" setsid sh "$1/job.sh" >"$1/job.log" 2>&1 </dev/null & echo "$!"'


def _is_ours(pid: int, run_dir: Path) -> bool:
    """Whether process `pid` is this run's job: its environment names the run (a pid alone may be reused)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"RUNX_BACKGROUND_RUN={run_dir}".encode() in environ


@register
class BackgroundFarm(Farm):
    """`sh job.sh` detached (setsid); the job id is its pid, checked against the run before any signal."""

    kind = "background"
    uses_resources = False

    @classmethod
    def check_settings(cls, values: Mapping[str, Any], submit_cmd: str, where: str, name: str) -> None:
        return None  # no SUBMIT_CMD needed

    def check(self) -> None:
        return None

    def submissions(self, job: Any) -> list:
        return [["sh", "-c", DETACH, "sh", job.job_logdir]]

    def display(self, job: Any) -> str:
        return f"(in the background) {job.command}"

    def query(self, entries: List[Any]) -> Dict[Path, RunState]:
        """A job whose process is gone without writing `finished` failed."""
        return {e.run_dir: RunState("failed", None) for e in entries
                if e.state == "running" and e.job_id and not _is_ours(int(e.job_id), e.run_dir)}

    def cancel(self, entries: List[Any]) -> Dict[Path, str]:
        problems = {}
        for e in entries:
            if e.job_id and _is_ours(int(e.job_id), e.run_dir):
                os.killpg(int(e.job_id), signal.SIGTERM)
            elif e.state == "running":
                problems[e.run_dir] = f"process {e.job_id} is not this run's job; nothing signalled"
        return problems
