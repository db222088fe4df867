"""The baselines bench/run.py measures against, each in its own venv under a cache dir.

Each venv is created by the harness with python3.11 (torch 2.13.0 has wheels for it; any other torch
version would download gigabytes) and marked complete with a stamp naming what was installed, so a
half-done install is retried and a changed requirement list rebuilds the venv. An install that fails
is reported with pip's last line, never silently dropped.

The per-call loops here write one record of 3 scalars per call, as logx_bench's METRIC_LOOP does
for logx: the floor (a JSON line written and flushed), tensorboardX `add_scalar`, MLflow
`log_metrics` into a local file store, W&B `log` offline. They run in a network namespace with
loopback only (`unshare -n`) where that works, so none of them waits on the network.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("RUNX_BENCH_VENVS", "/tmp/runx-bench-venvs"))

# name -> pip requirements; the venv directory is CACHE/name.
VENVS = {
    "runx-0.0.11": ["runx==0.0.11", "tensorboardX", "torch==2.13.0"],
    "floor": [],
    "tensorboardX": ["tensorboardX"],
    "mlflow": ["mlflow-skinny"],
    "wandb": ["wandb"],
    "hydra": ["hydra-core", "hydra-joblib-launcher"],  # the local farm's peers (local_bench.py); no torch
}
# The distribution whose version names each venv in the report.
VERSION_OF = {"runx-0.0.11": "runx", "tensorboardX": "tensorboardX", "mlflow": "mlflow-skinny", "wandb": "wandb",
              "hydra": "hydra-core"}
STAMP = ".runx-bench-complete"

BASELINE_LOOP = r"""
import gc, json, os, sys, tempfile, time
kind, calls = sys.argv[1], int(sys.argv[2])
root = tempfile.mkdtemp(prefix="runx-bench-" + kind + "-")
records = [{"loss": 1.0 / (i + 1), "acc": i / 1000.0, "lr": 0.1 * 0.99 ** i} for i in range(1000)]
if kind == "floor":
    f = open(os.path.join(root, "metrics.jsonl"), "a")
    def log(i, rec):
        f.write(json.dumps({"phase": "val", "step": i, "time": time.time(), "metrics": rec}) + "\n")
        f.flush()
    close = f.close
elif kind == "tensorboardX":
    from tensorboardX import SummaryWriter
    w = SummaryWriter(root)
    def log(i, rec):
        for k, v in rec.items():
            w.add_scalar("val/" + k, v, i)
    close = w.close
elif kind == "mlflow":
    import mlflow
    mlflow.set_tracking_uri("file://" + root)
    mlflow.set_experiment("runx-bench")
    mlflow.start_run()
    def log(i, rec):
        mlflow.log_metrics(rec, step=i)
    close = mlflow.end_run
elif kind == "wandb":
    import wandb
    run = wandb.init(mode="offline", dir=root, project="runx-bench")
    def log(i, rec):
        run.log(rec, step=i)
    close = run.finish
for i in range(200):
    log(i, records[i % 1000])
gc.collect()  # as logx_bench's METRIC_LOOP: import garbage is collected before the timed calls
start = time.perf_counter()
for i in range(200, 200 + calls):
    log(i, records[i % 1000])
loop = time.perf_counter() - start
start = time.perf_counter()
close()
drain = time.perf_counter() - start
import shutil
shutil.rmtree(root, ignore_errors=True)  # as logx_bench's METRIC_LOOP: nothing left in the temp folder
print(json.dumps({"us_per_call": loop / calls * 1e6, "drain_ms": drain * 1e3}))
"""

BASELINE_ENV = {
    "MLFLOW_ALLOW_FILE_STORE": "true",  # mlflow 3.x refuses file:// stores without it
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
    "WANDB_DISABLE_GIT": "true",
}


class Venvs:
    """The baseline venvs under one cache dir; `install=False` uses only those already complete."""

    def __init__(self, cache: Path, install: bool) -> None:
        self.cache = cache
        self.install = install
        self.missing: dict[str, str] = {}  # name -> why it is not available

    def python(self, name: str) -> Path | None:
        """The venv's interpreter, creating the venv if allowed; None (reason in `missing`) otherwise."""
        if name in self.missing:
            return None
        env = self.cache / name
        python = env / "bin" / "python"
        wanted = "\n".join(VENVS[name]) + "\n"
        stamp = env / STAMP
        if stamp.exists() and stamp.read_text() == wanted and python.exists():
            return python
        if not self.install:
            self.missing[name] = f"not installed in {env} (quick mode installs no baseline; run without --quick once)"
            return None
        reason = self._create(env, python, VENVS[name])
        if reason:
            self.missing[name] = reason
            return None
        stamp.write_text(wanted)
        return python

    def _create(self, env: Path, python: Path, requirements: list) -> str | None:
        base = python311()
        if base is None:
            return "no python3.11 on PATH to create its venv"
        print(f"[bench] creating {env}: {' '.join(requirements) or '(stdlib only)'}", file=sys.stderr, flush=True)
        shutil.rmtree(env, ignore_errors=True)
        env.parent.mkdir(parents=True, exist_ok=True)
        made = subprocess.run([base, "-m", "venv", *([] if requirements else ["--without-pip"]), str(env)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            return f"venv creation failed: {last_line(made.stderr)}"
        if not requirements:
            return None
        log = env / "install.log"
        with open(log, "w") as out:
            done = subprocess.run([str(python), "-m", "pip", "install", *requirements],
                                  stdout=out, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            return f"pip install {' '.join(requirements)} failed: {last_line(log.read_text())} (log: {log})"
        return None

    def version(self, name: str) -> str:
        """The installed version of the venv's main distribution, or '' when unknown."""
        python = self.cache / name / "bin" / "python"
        dist = VERSION_OF.get(name)
        if not dist or not python.exists():
            return ""
        code = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
        done = subprocess.run([str(python), "-c", code, dist], capture_output=True, text=True)
        extra = ""
        if name == "runx-0.0.11":
            torch = subprocess.run([str(python), "-c", code, "torch"], capture_output=True, text=True)
            extra = f" (torch {torch.stdout.strip()})" if torch.returncode == 0 else ""
        return done.stdout.strip() + extra if done.returncode == 0 else ""


def python311() -> str | None:
    """An interpreter for the baseline venvs: this one when it is 3.11, else python3.11 on PATH."""
    if sys.version_info[:2] == (3, 11):
        return getattr(sys, "_base_executable", sys.executable)
    return shutil.which("python3.11")


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "(no output)"


_ISOLATION: list | None = None


def isolated() -> list:
    """A prefix running a command with loopback as its only network, or [] where unshare cannot."""
    global _ISOLATION
    if _ISOLATION is None:
        prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh"]
        try:
            ok = shutil.which("unshare") and subprocess.run(prefix + ["true"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        _ISOLATION = prefix if ok else []
    return _ISOLATION


def run_loop(argv: list, env: dict | None = None, timeout: float = 900) -> dict:
    """Run a per-call loop (isolated from the network) and parse the JSON on its last stdout line."""
    done = subprocess.run(isolated() + argv, capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          env={**os.environ, **BASELINE_ENV, **(env or {})}, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {done.returncode}: {last_line(done.stderr)}")
    return json.loads(done.stdout.strip().splitlines()[-1])
