"""Adaptive search (SWEEP method tpe) end to end: real Optuna, real runs through the local farm and the
real single-node Slurm, pruning, kill -9 of the driver and --resume, bad input, a venv without Optuna."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runx_testing import require

# val loss after each epoch: a narrow optimum in (lr, depth), improving over epochs; stops when pruned
# unless --stubborn 1 (then the driver cancels it after the grace period).
TRAIN = textwrap.dedent(
    """
    import argparse, math, os, time
    from runx.logx import logx
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float)
    p.add_argument("--depth", type=int)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--sleep", type=float, default=0.15)
    p.add_argument("--stubborn", type=int, default=0)
    p.add_argument("--name", default="loss")
    a = p.parse_args()
    logx.initialize(logdir=os.environ["RUNX_LOGDIR"])
    for epoch in range(a.epochs):
        loss = (math.log10(a.lr) + 3) ** 2 + abs(a.depth - 4) / 4 + 1.0 / (epoch + 1)
        logx.metric("val", {a.name: loss}, epoch)
        time.sleep(a.sleep)
        if logx.should_stop() and not a.stubborn:
            open(os.path.join(os.environ["RUNX_LOGDIR"], "stopped_cleanly"), "w").close()
            break
    """
)


def search_yml(trials: int, parallel: int = 2, early_stop: str = "{method: asha, min_epochs: 1, reduction: 2, grace: 1}",
               extra: str = "") -> str:
    return textwrap.dedent(f"""\
        CMD: {sys.executable} train.py
        SWEEP: {{method: tpe, trials: {trials}, parallel: {parallel}, metric: loss, seed: 3, early_stop: {early_stop}{extra}}}
        HPARAMS:
          lr: {{loguniform: [1e-5, 1e-1]}}
          depth: [2, 4, 8]
        """)


def trial_runs(exp: Path) -> dict:
    """trial number -> run directory, for every run with a run.json."""
    found = {}
    for run_json in exp.glob("*/run.json"):
        record = json.loads(run_json.read_text())
        trial = record["sweep"]["trial"]
        assert trial not in found, f"trial {trial} launched twice: {found.get(trial)} and {run_json.parent}"
        assert record["sweep"]["method"] == "tpe"
        found[trial] = run_json.parent
    return found


def status_of(run_dir: Path) -> str:
    from runx.logx.rundir.status import read_status

    status = read_status(str(run_dir))
    return status.state if status else "none"


def job_processes(run_dirs) -> list:
    """pids of processes whose environment names one of these runs (the local farm's job marker)."""
    wanted = {f"RUNX_JOB={os.path.realpath(d)}".encode() for d in run_dirs}
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted.intersection(environ):
            found.append(int(pid))
    return found


def study_trials(exp: Path) -> list:
    import optuna

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(exp / ".search/journal.log")))
    return optuna.load_study(study_name="runx", storage=storage).get_trials(deepcopy=False)


@pytest.fixture
def searching(project):
    require_optuna()
    project.write("train.py", TRAIN)
    return project


def require_optuna():
    import importlib.util

    if importlib.util.find_spec("optuna") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("optuna is a dependency of py311 in CI (tox.ini) but is not installed")
        pytest.skip("optuna not installed")


def test_tpe_search_with_asha_here_in_parallel(searching):
    """12 trials, 2 at a time: -n shows the first two, the search runs to exactly 12 runs, pruned runs
    are recorded pruned and their processes are gone, sumx agrees with the driver's best."""
    project = searching
    project.write("search.yml", search_yml(12))
    dry = project.runx("search.yml", "-i", "-n")
    assert dry.returncode == 0, dry.stderr
    assert "# search: method tpe, 12 trial(s), 2 at a time, seed 3" in dry.stdout
    assert "#   lr: loguniform[1e-05, 0.1]" in dry.stdout and "#   depth: choice[2, 4, 8]" in dry.stdout
    shown = [line for line in dry.stdout.splitlines() if line.startswith(sys.executable)]
    assert len(shown) == 2 and not project.logroot.exists()

    done = project.runx("search.yml", "-i", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    exp = project.logroot / "search"
    runs = trial_runs(exp)
    assert sorted(runs) == list(range(12))
    # -n showed what the search launched first (the same sampler and seed)
    first = [json.loads((runs[n] / "run.json").read_text())["command"] for n in (0, 1)]
    assert [s.split(" ", 1)[1] for s in shown] == [c.split(" ", 1)[1] for c in first]
    states = {n: status_of(d) for n, d in runs.items()}
    assert set(states.values()) <= {"succeeded", "pruned"}, states
    pruned = [runs[n] for n, s in states.items() if s == "pruned"]
    assert pruned, f"ASHA pruned nothing: {done.stdout}"
    for run_dir in pruned:
        assert (run_dir / "pruned").is_file()
    # logx.should_stop() told them (a run pruned after its last epoch's check just ends)
    assert any((run_dir / "stopped_cleanly").is_file() for run_dir in pruned), done.stdout
    assert job_processes(runs.values()) == []
    trials = study_trials(exp)
    assert len(trials) == 12 and {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    assert sum(t.state.name == "PRUNED" for t in trials) == len(pruned)

    status = project.runx("status", "search")
    assert status.stdout.count(" pruned ") == len(pruned), status.stdout
    best = re.search(r"\[search\] best loss (\S+): trial (\d+), run (\S+)", done.stdout)
    assert best, done.stdout
    table = subprocess.run([sys.executable, "-m", "runx.sumx", "search", "--sortwith", "loss"], cwd=project.root,
                           capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    header, _, top = table.stdout.splitlines()[:3]
    assert "trial" in header.split() and "pruned" in table.stdout
    assert top.split()[0] == best.group(3) and top.split()[1] == best.group(2)
    refused = project.runx("resubmit", "search", best.group(3))
    assert refused.returncode == 2 and f"is trial {best.group(2)} of a search" in refused.stderr, refused.stderr


def test_pruned_run_that_goes_on_is_cancelled(searching):
    """A script that ignores should_stop() is stopped through the farm's cancel after the grace period."""
    project = searching
    yml = search_yml(4, early_stop="{method: median, startup_trials: 1, grace: 0.5}")
    yml = yml.replace("  depth: [2, 4, 8]\n", "  depth: [2, 8]\n  stubborn: 1\n  epochs: 30\n  sleep: 0.1\n")
    project.write("stubborn.yml", yml)
    done = project.runx("stubborn.yml", "-i", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = trial_runs(project.logroot / "stubborn")
    pruned = [d for d in runs.values() if status_of(d) == "pruned"]
    assert len(runs) == 4 and pruned, done.stdout
    for run_dir in pruned:
        assert not (run_dir / "stopped_cleanly").exists()
        text = (run_dir / "status.log").read_text()
        assert "cancelled" in text.split("pruned", 1)[1], text  # the cancel came after the prune
    assert job_processes(runs.values()) == []


def test_kill_9_and_resume(searching):
    """kill -9 of the driver at several points; --resume goes on to exactly `trials` runs, none twice."""
    project = searching
    project.write("crash.yml", search_yml(8, extra=", poll: 0.1"))
    exp = project.logroot / "crash"
    for delay in (0.6, 1.1, 1.7, 2.4):
        args = [sys.executable, "-m", "runx.runx", "crash.yml", "-i"] + (["--resume"] if exp.exists() else [])
        driver = subprocess.Popen(args, cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        time.sleep(delay)
        driver.send_signal(signal.SIGKILL)
        driver.communicate()
    done = project.runx("crash.yml", "-i", "--resume", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--resume:" in done.stdout
    runs = trial_runs(exp)
    assert len(runs) == 8, sorted(runs)
    states = {n: status_of(d) for n, d in runs.items()}
    assert set(states.values()) <= {"succeeded", "pruned"}, states
    trials = {t.number: t.state.name for t in study_trials(exp)}
    assert all(trials[n] in ("COMPLETE", "PRUNED") for n in runs), trials
    assert "RUNNING" not in trials.values(), trials
    again = project.runx("crash.yml", "-i", "--resume")  # nothing left to do
    assert again.returncode == 0 and len(trial_runs(exp)) == 8
    refused = project.runx("crash.yml", "-i")
    assert refused.returncode == 2 and "--resume" in refused.stderr


def test_metric_never_logged(searching):
    project = searching
    yml = search_yml(3, early_stop="null").replace("  depth: [2, 4, 8]\n", "  depth: [2, 4, 8]\n  name: acc\n  epochs: 2\n  sleep: 0\n")
    project.write("nometric.yml", yml)
    done = project.runx("nometric.yml", "-i", timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    line, = done.stderr.strip().splitlines()
    assert line.startswith("runx: error: ") and "SWEEP.metric 'loss': the run finished without logging it in the val " \
        "phase (it logged acc)" in line, line


@pytest.mark.parametrize("sweep, hparams, message", [
    ("{method: hyperopt, trials: 3, metric: loss}", "  lr: [1, 2]\n",
     "SWEEP.method: unknown method 'hyperopt'; expected one of grid, random, tpe, bayes"),
    ("{method: tpe, trials: 3, early_stop: {method: asha}}", "  lr: [1, 2]\n",
     "SWEEP.metric: missing; early_stop needs the val metric to optimise"),
    ("{method: tpe, trials: 3, metric: loss, parallel: 0}", "  lr: [1, 2]\n",
     "SWEEP.parallel: expected a whole number of at least 1, found 0"),
    ("{method: tpe, trials: 3, metric: loss, early_stop: {method: asha, reduction: 1}}", "  lr: [1, 2]\n",
     "SWEEP.early_stop.reduction: expected a whole number of at least 2, found 1"),
    ("{method: bayes, trials: 3, metric: loss}", "  - {lr: [1, 2]}\n  - {lr: [3]}\n",
     "HPARAMS: a list of mappings does not combine with method tpe"),
    ("{method: tpe, trials: 3, metric: loss}", "  lr: [1, 2]\n  b: [1, 2]\n  RUNX.ZIP: [lr, b]\n",
     "HPARAMS.RUNX.ZIP: does not combine with method tpe"),
    ("{method: tpe, metric: loss}", "  lr: [1, 2]\n", "SWEEP.trials: missing"),
    ("{method: random, trials: 3, metric: loss}", "  lr: {uniform: [0, 1]}\n",
     "SWEEP.metric: only with an adaptive search (method: tpe)"),
])
def test_bad_search_input(project, sweep, hparams, message):
    project.write("bad.yml", f"CMD: python train.py\nSWEEP: {sweep}\nHPARAMS:\n{hparams}")
    for extra in ([], ["-n"]) if "hyperopt" in sweep else ([],):
        done = project.runx("bad.yml", "-i", *extra)
        assert done.returncode == 2, done.stdout + done.stderr
        line, = done.stderr.strip().splitlines()
        assert line.startswith(f"runx: error: bad.yml: {message}"), line
        assert not project.logroot.exists()


def test_without_optuna(project, tmp_path):
    """A venv without Optuna: a grid sweep's -n works (it never imports optuna); tpe is one line naming the extra."""
    import importlib.util

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python*/site-packages"))
    repo = Path(__file__).resolve().parents[2]
    paths = [str(repo / "packages" / p / "src") for p in ("runx-core", "runx-logx", "runx-sumx")]
    # yaml and coolname sit in a site-packages that also holds optuna: hide it by a directory of links
    links = tmp_path / "deps"
    links.mkdir()
    for m in ("yaml", "coolname"):
        (links / m).symlink_to(Path(importlib.util.find_spec(m).origin).parent)
    (site / "runx.pth").write_text("\n".join([str(links)] + paths) + "\n")
    python = str(venv / "bin" / "python")
    assert subprocess.run([python, "-c", "import optuna"], capture_output=True).returncode != 0
    project.write("grid.yml", "CMD: python train.py\nHPARAMS: {lr: [1, 2]}\n")
    grid = subprocess.run([python, "-X", "importtime", "-m", "runx.runx", "grid.yml", "-n"], cwd=project.root,
                          capture_output=True, text=True, timeout=60)
    assert grid.returncode == 0, grid.stderr
    assert "optuna" not in grid.stderr and "runx.core.search" not in grid.stderr
    project.write("tpe.yml", "CMD: python train.py\nSWEEP: {method: tpe, trials: 2, metric: loss}\nHPARAMS: {lr: [1, 2]}\n")
    for extra in ([], ["-n"]):
        done = subprocess.run([python, "-m", "runx.runx", "tpe.yml", "-i", *extra], cwd=project.root,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert done.stderr == ("runx: error: SWEEP.method tpe needs Optuna, which is not installed; install the search "
                               "extra: pip install 'runx-core[search]'\n")
        assert not project.logroot.exists()


def test_search_on_slurm(searching):
    """The same search on the real Slurm: sbatch per trial, one squeue per poll, pruning through scancel."""
    require("slurm")
    project = searching
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES: {cpu: 1, mem: 1, time: 10}\n")
    yml = search_yml(4, early_stop="{method: median, startup_trials: 1, grace: 0.5}", extra=", poll: 0.5")
    yml = yml.replace("  depth: [2, 4, 8]\n", "  depth: [2, 8]\n  stubborn: 1\n  epochs: 40\n  sleep: 0.1\n")
    project.write("slurm_search.yml", yml)
    done = project.runx("slurm_search.yml", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = trial_runs(project.logroot / "slurm_search")
    assert sorted(runs) == [0, 1, 2, 3]
    states = {n: status_of(d) for n, d in runs.items()}
    assert set(states.values()) <= {"succeeded", "pruned"} and "pruned" in states.values(), (states, done.stdout)
    from slurm_helpers import wait_for_states

    records = {n: json.loads((d / "run.json").read_text()) for n, d in runs.items()}
    from runx.logx.rundir.status import read_status

    job_ids = [read_status(str(d)).job_id for d in runs.values()]
    assert all(job_ids), job_ids
    answers = wait_for_states(job_ids, timeout=60)
    for n, state in states.items():  # a pruned job that had not ended by itself was scancelled
        text = (runs[n] / "status.log").read_text()
        if state != "pruned" or "finished" in text.split("pruned", 1)[0]:
            continue
        answer = answers[read_status(str(runs[n])).job_id]
        if answer.state == "succeeded":  # pruned in its last epochs: it ended by itself before scancel reached it
            assert re.search(r"^finished \d+ exit=0\b", text.split("pruned", 1)[1], re.M), (text, answers)
        else:
            assert answer.state in ("cancelled", "failed"), (text, answers)
    assert all(r["farm"]["type"] == "slurm" for r in records.values())
