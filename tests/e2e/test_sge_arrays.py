"""Large sweeps on the real Grid Engine: array jobs by default, chunked to the cell's max_aj_tasks,
batched status and cancel, paced qsub tried again while the qmaster is out of reach.

PATH wrappers log every call of qsub, qstat, qacct, qdel and qconf before they exec the real command;
the qsub wrapper submits jobs held (`-h`), so 150 runs cost the machine nothing (one task is released
to prove that a task of a later array runs its own run directory), and the qconf wrapper reports
`max_aj_tasks 60` from the cell's real configuration, as a cell whose admin set it would.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_helpers import logged_calls, logging_wrappers, states, wait_for
from runx_testing import require

RUNS = 150
CHUNK = 60
UNREACHABLE = 'Unable to run job: unable to send message to qmaster using port 16444 on host "vm": got send error.'


def _wrappers(root: Path, fail_first_qsub: bool = False) -> dict:
    """Logging wrappers of the Grid Engine commands (qsub submits held, qconf reports max_aj_tasks CHUNK)."""
    def qsub(real: str) -> str:
        body = ""
        if fail_first_qsub:
            flag = root / "qsub.failed-once"
            body += (f'case "$*" in *-terse*) if [ ! -e "{flag}" ]; then : > "{flag}"; '
                     f"echo '{UNREACHABLE}' >&2; exit 1; fi;; esac\n")
        return body + f'case "$*" in *-terse*) exec "{real}" -h "$@";; esac\n'

    def qconf(real: str) -> str:
        return (f'if [ "$*" = -sconf ]; then "{real}" -sconf | sed "s/^max_aj_tasks .*/max_aj_tasks {CHUNK}/"; '
                "exit $?; fi\n")

    def plain(real: str) -> str:
        return ""

    return logging_wrappers(root, {"qsub": qsub, "qstat": plain, "qacct": plain, "qdel": plain, "qconf": qconf})


def _submissions(log: Path) -> list:
    return [(t, args) for t, args in logged_calls(log) if args.startswith("-terse ")]


@pytest.fixture
def held():
    """Job ids the test made; every job among them still on the cell is deleted afterwards."""
    require("sge")
    made: list = []
    yield made
    numbers = sorted({j.split(".")[0] for j in made if j})
    if numbers:
        subprocess.run(["qdel", *numbers], capture_output=True, timeout=60)


def _job_ids(project, experiment: str) -> list:
    return [json.loads((r / "run.json").read_text()).get("job_id") for r in project.runs(experiment)]


def test_a_large_sweep_goes_as_array_jobs_chunked_to_max_aj_tasks_with_batched_status_and_cancel(project, held):
    project.write(".runx", "LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  RESOURCES: {time: 10}\n")
    project.write("big.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: {list(range(RUNS))}\n")
    wrap = _wrappers(project.root)

    dry = project.runx("big.yml", "-n", "-v", env=wrap["env"])
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.rstrip().splitlines()[-1].startswith(f"# 3 array jobs of at most {CHUNK} tasks"), dry.stdout[-300:]

    done = project.runx("big.yml", env=wrap["env"])
    held.extend(_job_ids(project, "big"))
    assert done.returncode == 0, done.stderr
    submitted = [line for line in done.stdout.splitlines() if line.startswith("Submitted SGE job")]
    assert [line.split("(")[1] for line in submitted] == [
        f"array of {CHUNK}, runs 1-60 of {RUNS})", f"array of {CHUNK}, runs 61-120 of {RUNS})", f"array of 30, runs 121-150 of {RUNS})"]
    assert "runx: staging runs: 150/150 in " in done.stderr
    assert len(_submissions(wrap["qsub"])) == 3
    assert [args for _, args in logged_calls(wrap["qconf"])] == ["-sconf"] * 2, "the cell's limit: once by -n, once by the launch"

    array_ids = [line.split()[3] for line in submitted]
    by_n = {}
    for run in project.runs("big"):
        record = json.loads((run / "run.json").read_text())
        by_n[record["hparams"]["n"]] = (run, record["job_id"])
    assert [by_n[n][1] for n in (0, 59, 60, 149)] == [f"{array_ids[0]}.1", f"{array_ids[0]}.60", f"{array_ids[1]}.1",
                                                     f"{array_ids[2]}.30"]
    scripts = sorted((project.logroot / "big").glob(".array_*.qsub"))
    assert sorted("#$ -t 1-60\n" in s.read_text() for s in scripts) == [False, True, True]

    # Status: one qstat call for the 150 open runs, no qacct (qstat lists every pending task).
    rows = states(project, "big", wrap["env"])
    assert len(rows) == RUNS and {r[2] for r in rows.values()} == {"queued"}
    assert [args for _, args in logged_calls(wrap["qstat"])] == ["-xml -u *"]
    assert logged_calls(wrap["qacct"]) == []

    # A task of the second array runs its own run directory once released.
    run_65, job_65 = by_n[65]
    assert job_65 == f"{array_ids[1]}.6"
    subprocess.run(["qrls", job_65], check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 90
    while states(project, "big")[run_65.name][2] != "succeeded":
        assert time.monotonic() < deadline, states(project, "big")[run_65.name]
        time.sleep(0.5)
    assert project.argv_of(run_65)["argv"] == ["--n", "65"]
    assert (run_65 / f"sge-{job_65}.out").exists()

    # Cancel one run, then all: one qdel call each, array tasks as ranges.
    run_3, job_3 = by_n[3]
    one = project.runx("cancel", "big", run_3.name, env=wrap["env"])
    assert one.returncode == 0, one.stderr
    rows = states(project, "big")
    assert rows[run_3.name][2] == "cancelled" and rows[by_n[4][0].name][2] == "queued"
    everything = project.runx("cancel", "big", env=wrap["env"])
    assert everything.returncode == 0, everything.stderr
    qdels = [args for _, args in logged_calls(wrap["qdel"])]
    assert qdels[0] == f"{array_ids[0]}.4"
    assert len(qdels) == 2 and sorted(qdels[1].split()) == sorted([
        f"{array_ids[0]}.1-3", f"{array_ids[0]}.5-60", f"{array_ids[1]}.1-5", f"{array_ids[1]}.7-60", f"{array_ids[2]}.1-30"]), qdels
    deadline = time.monotonic() + 60
    while True:
        seen = sorted({r[2] for r in states(project, "big").values()})
        if seen == ["cancelled", "succeeded"]:
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)

    def left_on_the_cell() -> set:
        listed = subprocess.run(["qstat", "-u", "*"], capture_output=True, text=True, timeout=30).stdout.splitlines()[2:]
        return set(array_ids) & {line.split()[0] for line in listed if line.split()}

    # qdel is asynchronous: the qmaster lists deleted tasks (state d) a moment longer; tasks runx left stay
    wait_for(lambda: not left_on_the_cell(), timeout=60, interval=0.5)


def test_no_array_submits_one_job_per_run_paced_and_retried_while_the_qmaster_is_out_of_reach(project, held):
    project.write(".runx", "LOGROOT: logs\nFARM: sge\nsge:\n  TYPE: sge\n  ARRAY: true\n  SUBMIT_RATE: 4\n"
                           "  RESOURCES: {time: 10}\n")
    project.write("each.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: {list(range(12))}\n")
    wrap = _wrappers(project.root, fail_first_qsub=True)
    done = project.runx("each.yml", "--no-array", env=wrap["env"])
    held.extend(_job_ids(project, "each"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Submitted SGE job") == 12 and "array" not in done.stdout
    [busy] = [line for line in done.stderr.splitlines() if "busy" in line]
    assert busy == f"runx: qsub: the controller is busy ({UNREACHABLE}); trying again in 1 s"
    calls = [t for t, _ in _submissions(wrap["qsub"])]
    assert len(calls) == 13  # the unanswered one, then each run's
    # SUBMIT_RATE 4: a burst of 4, then one every 0.25 s, so any 9 calls in a row span at least 1.25 s.
    spans = [calls[i + 8] - calls[i] for i in range(1, len(calls) - 8)]
    assert min(spans) >= 1.0, spans
    job_ids = _job_ids(project, "each")
    assert all(j.isdigit() for j in job_ids)
    rows = states(project, "each", wrap["env"])
    assert len(rows) == 12 and {r[2] for r in rows.values()} == {"queued"}
    assert len(logged_calls(wrap["qstat"])) == 1

    cancelled = project.runx("cancel", "each", env=wrap["env"])
    assert cancelled.returncode == 0, cancelled.stderr
    [(_, qdel_args)] = logged_calls(wrap["qdel"])
    assert sorted(qdel_args.split()) == sorted(job_ids)
