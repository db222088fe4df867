"""Resubmitting on a generic farm replays the recorded submission; a refused one is recorded, not left queued."""
from __future__ import annotations

import os
import stat

FAKE = """#!/usr/bin/env python3
import os, subprocess, sys
if os.path.exists(os.environ["REFUSE"]):
    print("farm is closed", file=sys.stderr)
    sys.exit(4)
job = sys.argv[sys.argv.index("-c") + 1]
print("Job id: %d" % (int(os.environ.get("N", "0")) + 7))
subprocess.run(["bash", "-c", job])
"""


def test_resubmit_records_new_job_id_and_refusals(project, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "submit_job").write_text(FAKE)
    (bin_dir / "submit_job").chmod(0o755 | stat.S_IEXEC)
    refuse = tmp_path / "refuse"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "REFUSE": str(refuse)}
    project.write(".runx", "LOGROOT: logs\nFARM: big\nbig:\n  SUBMIT_CMD: submit_job\n")
    project.write("exp.yml", "CMD: python train.py\nHPARAMS: {exit: 3}\n")
    assert project.runx("exp.yml", env=env).returncode == 0
    [run] = project.runs("exp")

    again = project.runx("resubmit", "exp", "--failed", env={**env, "N": "1"})
    assert again.returncode == 0, again.stderr
    assert f"{run.name}: resubmitted as job 8" in again.stdout
    assert (run / "status.log").read_text().count("started") == 2
    import json

    record = json.loads((run / "run.json").read_text())
    assert record["job_id"] == "8" and record["job_ids"] == ["7", "8"]

    refuse.write_text("")
    refused = project.runx("resubmit", "exp", run.name, env=env)
    assert refused.returncode == 1 and "farm is closed" in refused.stderr
    rows = project.runx("status", "exp", env=env).stdout.splitlines()[2:]
    assert len(rows) == 1 and " failed " in rows[0] and " 4 " in rows[0], rows
