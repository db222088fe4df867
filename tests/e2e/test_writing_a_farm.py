"""docs/farms.md's worked example, end to end: examples/farms/background_farm.py installed as the
`background` kind through a `runx.farms` entry point, then launch, status, cancel and resubmit."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "farms"


def _install_entry_point(site: Path) -> dict:
    """A distribution on PYTHONPATH that names the example module under the runx.farms group."""
    info = site / "background_farm_example-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: background-farm-example\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[runx.farms]\nbackground = background_farm\n")
    return {"PYTHONPATH": os.pathsep.join([str(site), str(EXAMPLE_DIR), os.environ.get("PYTHONPATH", "")])}


def _states(project, env) -> dict:
    done = project.runx("status", "exp", env=env)
    assert done.returncode == 0, done.stderr
    return {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[2:]}


def _wait(project, env, predicate, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        rows = _states(project, env)
        if predicate(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_the_background_farm_of_the_docs_runs_end_to_end(project, tmp_path):
    env = _install_entry_point(tmp_path / "site")
    project.write("train.py", "import sys, time\ntime.sleep(float(sys.argv[2]))\n")
    project.write(".runx", "LOGROOT: logs\nFARM: bg\nbg:\n  TYPE: background\n")
    project.write("exp.yml", "CMD: python train.py\nHPARAMS:\n  sleep: [0, 300]\n")

    started = time.monotonic()
    done = project.runx("exp.yml", env=env)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30 and done.stdout.count("Submitting job") == 2  # returned without waiting
    runs = project.runs("exp")
    records = {r.name: json.loads((r / "run.json").read_text()) for r in runs}
    assert {r["farm"]["type"] for r in records.values()} == {"background"}
    short, long = sorted(runs, key=lambda r: records[r.name]["hparams"]["sleep"])

    rows = _wait(project, env, lambda rows: rows[short.name][2] == "succeeded" and rows[long.name][2] == "running")
    assert rows[short.name][:3] == ["background", records[short.name]["job_id"], "succeeded"], rows
    assert rows[long.name][2] == "running", rows
    pid = int(records[long.name]["job_id"])
    assert os.path.exists(f"/proc/{pid}")

    cancel = project.runx("cancel", "exp", env=env)
    assert cancel.returncode == 0, cancel.stderr
    assert f"{long.name}: cancelled" in cancel.stdout and short.name not in cancel.stdout
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
        assert time.monotonic() < deadline, "the cancelled job is still running"
        time.sleep(0.1)
    assert _states(project, env)[long.name][2] == "cancelled"

    again = project.runx("resubmit", "exp", "--failed", env=env)
    assert again.returncode == 0, again.stderr
    assert f"Resubmitting {long.name} (background)" in again.stdout
    new_id = json.loads((long / "run.json").read_text())["job_id"]
    assert new_id != str(pid)
    assert _wait(project, env, lambda rows: rows[long.name][2] == "running")[long.name][2] == "running"
    assert project.runx("cancel", "exp", long.name, env=env).returncode == 0
