"""Large sweeps on the real Slurm: job arrays by default, chunked, batched status and cancel, paced sbatch.

The jobs are submitted held (RESOURCES `hold: true`), so 150 runs cost the machine nothing; one task is
released to prove that a task of a later array runs its own run directory. PATH wrappers around
squeue, scancel and sbatch log every call (and make the first sbatch fail as a busy controller does)
before they exec the real command.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_helpers import logged_calls, logging_wrappers, states
from runx_testing import require

RUNS = 150
CHUNK = 60
BUSY = "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation"


def _wrappers(root: Path, fail_first_sbatch: bool = False) -> dict:
    """Logging wrappers of squeue, sacct, scancel and sbatch (sbatch's first submission busy if asked)."""
    def sbatch(real: str) -> str:
        if not fail_first_sbatch:
            return ""
        flag = root / "sbatch.failed-once"
        return (f'case "$*" in *--parsable*) if [ ! -e "{flag}" ]; then : > "{flag}"; '
                f'echo "{BUSY}" >&2; exit 1; fi;; esac\n')

    def plain(real: str) -> str:
        return ""

    return logging_wrappers(root, {"squeue": plain, "sacct": plain, "scancel": plain, "sbatch": sbatch})


def _scancel_all(job_ids) -> None:
    ids = sorted({j.split("_")[0] for j in job_ids if j})
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, timeout=60)


@pytest.fixture
def held(project):
    """The project on Slurm with held jobs; every job it made is cancelled afterwards."""
    require("slurm")
    made: list = []
    yield made
    _scancel_all(made)


def test_a_large_sweep_goes_as_chunked_arrays_with_batched_status_and_cancel(project, held):
    project.write(".runx", f"LOGROOT: logs\nFARM: slurm\nslurm:\n  ARRAY_MAX_SIZE: {CHUNK}\n"
                           "  RESOURCES: {cpu: 1, mem: 0.1, hold: true}\n")
    project.write("big.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: {list(range(RUNS))}\n")
    wrap = _wrappers(project.root)

    dry = project.runx("big.yml", "-n", "-v")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.rstrip().splitlines()[-1].startswith(f"# 3 job arrays of at most {CHUNK} tasks"), dry.stdout[-300:]

    done = project.runx("big.yml", env=wrap["env"])
    runs = project.runs("big")
    held.extend(json.loads((r / "run.json").read_text()).get("job_id") for r in runs)
    assert done.returncode == 0, done.stderr
    submitted = [line for line in done.stdout.splitlines() if line.startswith("Submitted batch job")]
    assert [line.split("(")[1] for line in submitted] == [
        f"array of {CHUNK}, runs 1-60 of {RUNS})", f"array of {CHUNK}, runs 61-120 of {RUNS})", f"array of 30, runs 121-150 of {RUNS})"]
    assert "runx: staging runs: 150/150 in " in done.stderr
    sbatch_calls = [args for _, args in logged_calls(wrap["sbatch"]) if "--parsable" in args]
    assert len(sbatch_calls) == 3, sbatch_calls

    # Each run knows its task; the task numbers of each array follow the sweep's order.
    array_ids = [line.split()[3] for line in submitted]
    by_n = {}
    for run in runs:
        record = json.loads((run / "run.json").read_text())
        by_n[record["hparams"]["n"]] = (run, record["job_id"])
    assert [by_n[n][1] for n in (0, 59, 60, 149)] == [f"{array_ids[0]}_0", f"{array_ids[0]}_59", f"{array_ids[1]}_0",
                                                     f"{array_ids[2]}_29"]
    scripts = sorted((project.logroot / "big").glob(".array_*.sbatch"))
    assert sorted("--array=0-59" in s.read_text() for s in scripts) == [False, True, True]

    # Status: one squeue call for the three arrays, no sacct (squeue knows every task).
    rows = states(project, "big", wrap["env"])
    assert len(rows) == RUNS and {r[2] for r in rows.values()} == {"queued"}
    [(_, squeue_args)] = logged_calls(wrap["squeue"])
    [jobs] = [word for word in squeue_args.split() if word.startswith("--jobs=")]
    assert sorted(jobs[len("--jobs="):].split(",")) == sorted(array_ids)
    assert logged_calls(wrap["sacct"]) == []

    # A task of the second array runs its own run directory once released.
    run_65, job_65 = by_n[65]
    subprocess.run(["scontrol", "release", job_65], check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 90
    while states(project, "big")[run_65.name][2] != "succeeded":
        assert time.monotonic() < deadline, states(project, "big")[run_65.name]
        time.sleep(0.5)
    assert project.argv_of(run_65)["argv"] == ["--n", "65"]
    assert list(run_65.glob(f"slurm-{job_65}.out"))

    # Cancel one run, then all: one scancel call each, array tasks as ranges.
    run_3, job_3 = by_n[3]
    one = project.runx("cancel", "big", run_3.name, env=wrap["env"])
    assert one.returncode == 0, one.stderr
    rows = states(project, "big")
    assert rows[run_3.name][2] == "cancelled" and rows[by_n[4][0].name][2] == "queued"
    everything = project.runx("cancel", "big", env=wrap["env"])
    assert everything.returncode == 0, everything.stderr
    scancels = [args for _, args in logged_calls(wrap["scancel"])]
    assert scancels[0] == f"{array_ids[0]}_[3]"
    assert len(scancels) == 2 and sorted(scancels[1].split()) == sorted([
        f"{array_ids[0]}_[0-2,4-59]", f"{array_ids[1]}_[0-4,6-59]", f"{array_ids[2]}_[0-29]"]), scancels
    deadline = time.monotonic() + 60
    while True:
        rows = states(project, "big")
        seen = sorted({r[2] for r in rows.values()})
        if seen == ["cancelled", "succeeded"]:
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)


def test_no_array_submits_one_job_per_run_paced_and_retried_when_the_controller_is_busy(project, held):
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  ARRAY: true\n  SUBMIT_RATE: 4\n"
                           "  RESOURCES: {cpu: 1, mem: 0.1, hold: true}\n")
    project.write("each.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: {list(range(12))}\n")
    wrap = _wrappers(project.root, fail_first_sbatch=True)
    done = project.runx("each.yml", "--no-array", env=wrap["env"])
    runs = project.runs("each")
    held.extend(json.loads((r / "run.json").read_text()).get("job_id") for r in runs)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Submitted batch job") == 12 and "array" not in done.stdout
    [busy] = [line for line in done.stderr.splitlines() if "busy" in line]
    assert busy == f"runx: sbatch: the controller is busy ({BUSY}); trying again in 1 s"
    calls = [t for t, args in logged_calls(wrap["sbatch"]) if "--parsable" in args]
    assert len(calls) == 13  # the busy one, then each run's
    # SUBMIT_RATE 4: a burst of 4, then one every 0.25 s, so any 9 calls in a row span at least 1.25 s.
    spans = [calls[i + 8] - calls[i] for i in range(1, len(calls) - 8)]
    assert min(spans) >= 1.0, spans
    assert all(json.loads((r / "run.json").read_text())["job_id"].isdigit() for r in runs)
    rows = states(project, "each")
    assert len(rows) == 12 and {r[2] for r in rows.values()} == {"queued"}

    cancelled = project.runx("cancel", "each", env=wrap["env"])
    assert cancelled.returncode == 0, cancelled.stderr
    [(_, scancel_args)] = logged_calls(wrap["scancel"])
    assert len(scancel_args.split()) == 12
