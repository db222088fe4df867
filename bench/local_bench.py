"""The local farm against a plain loop: the same trivial runs, one after another and two at a time.

Cases (each returns wall seconds for all runs; run.py interleaves them):
- loop: `subprocess.run([python, "train.py", "--seed", i])` for every run; `-j 2` beside two such loops.
- runx: `runx sweep.yml -i` (and `-i -j 2`) on a sweep of the same runs, a fresh LOGROOT each time.
- logx: the loop over a script that calls logx (initialize, 3 metrics, close) vs the same script without it.
- hydra: Hydra's multirun of the same seeds with the basic and the joblib launcher (`n_jobs=2`), from
  the bench venv `hydra` (bench/baselines.py: hydra-core, hydra-joblib-launcher); each of its jobs
  runs the same train.py with the same interpreter as the loop, so the figure is Hydra's cost per run.
"""
from __future__ import annotations

import itertools
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TRAIN = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--seed', type=int, default=0)\np.parse_args()\n"
TRAIN_LOGX = (TRAIN.replace("p.parse_args()\n", "a = p.parse_args()\n")
              + "import os\nfrom runx.logx import logx\n"
              "logx.initialize(logdir=os.environ['BENCH_LOGDIR'] + '/' + str(a.seed), tensorboard=False)\n"
              "logx.metric('train', {'loss': 1.0, 'acc': 0.5, 'lr': 0.1}, epoch=0)\n"
              "logx.metric('train', {'loss': 0.9, 'acc': 0.6, 'lr': 0.1}, epoch=1)\n"
              "logx.metric('val', {'loss': 0.8, 'acc': 0.7}, epoch=1)\n")
HYDRA_APP = """import os
import subprocess

import hydra


@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg):
    subprocess.run([os.environ["BENCH_PYTHON"], os.path.join(os.environ["BENCH_PROJECT"], "train.py"),
                    "--seed", str(cfg.seed)], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
"""


class Project:
    """A project folder (work/project) holding train.py, its logx twin, a sweep of `runs` seeds and
    Hydra's app; every output (LOGROOTs, logx logdirs, Hydra's sweep dirs) goes to work/out, outside
    it, so what runx stages as each run's code/ stays the same few files from one repeat to the next."""

    def __init__(self, work: Path, runs: int) -> None:
        self.work, self.out, self.runs = work / "project", work / "out", runs
        work = self.work
        work.mkdir(parents=True, exist_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        (work / "train.py").write_text(TRAIN)
        (work / "train_logx.py").write_text(TRAIN_LOGX)
        (work / "hydra_app.py").write_text(HYDRA_APP)
        seeds = ", ".join(str(i) for i in range(runs))
        (work / "sweep.yml").write_text(f"CMD: '{sys.executable} train.py'\n\nHPARAMS:\n  seed: [{seeds}]\n")
        self._fresh = itertools.count()

    def loop(self, jobs: int = 1, script: str = "train.py") -> float:
        """The plain loop over every run (with `jobs` workers)."""
        logdir = str(self.out / f"logx-{next(self._fresh)}")

        def one(seed: int) -> None:
            subprocess.run([sys.executable, script, "--seed", str(seed)], cwd=self.work, check=True,
                           stdout=subprocess.DEVNULL, env=_env(BENCH_LOGDIR=logdir))

        started = time.perf_counter()
        if jobs == 1:
            for seed in range(self.runs):
                one(seed)
        else:
            with ThreadPoolExecutor(jobs) as pool:
                list(pool.map(one, range(self.runs)))
        return time.perf_counter() - started

    def runx(self, jobs: int = 1) -> float:
        """`runx sweep.yml -i [-j N]` into a fresh LOGROOT; every run must succeed."""
        (self.work / ".runx").write_text(f"LOGROOT: {self.out / 'logs' / str(next(self._fresh))}\n")
        argv = [sys.executable, "-m", "runx.runx", "sweep.yml", "-i"] + (["-j", str(jobs)] if jobs > 1 else [])
        started = time.perf_counter()
        subprocess.run(argv, cwd=self.work, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        return time.perf_counter() - started

    def hydra(self, launcher: str, python: Path) -> float:
        """Hydra's multirun of the same seeds with `launcher` (basic, or joblib with 2 workers), Hydra
        running under `python` (its bench venv), each job running train.py as the loop does."""
        seeds = ",".join(str(i) for i in range(self.runs))
        argv = [str(python), "hydra_app.py", "--multirun", f"+seed={seeds}",
                f"hydra.sweep.dir={self.out / 'multirun' / str(next(self._fresh))}"]
        if launcher != "basic":
            argv += [f"hydra/launcher={launcher}", "hydra.launcher.n_jobs=2"]
        env = _env(BENCH_PYTHON=sys.executable, BENCH_PROJECT=str(self.work))
        started = time.perf_counter()
        subprocess.run(argv, cwd=self.work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        return time.perf_counter() - started


def _env(**extra: str) -> dict:
    import os

    env = dict(os.environ)
    env.update(extra)
    return env
