"""Run directories written with the real metrics writer, and sumx run as a real subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runx.logx.rundir.writer import MetricsWriter


def write_run(exp_dir: Path, rel: str, hparams: dict | None = None, val: list | None = None, train: list | None = None,
              state: tuple | None = ("finished", 0), goals: dict | None = None, epoch_seconds: float = 60.0) -> Path:
    """A run as runx and logx leave it: hparams.json, run.json, status.log, metrics.jsonl + summary.

    `val` is a list of {metric: value} per epoch; `state` is ("finished", exit) / ("started",) / None.
    """
    run_dir = exp_dir / rel
    run_dir.mkdir(parents=True)
    if hparams is not None:
        (run_dir / "hparams.json").write_text(json.dumps(hparams))
    record = {"experiment": exp_dir.name, "run": rel, "hparams": hparams or {}, "created": "2024-01-01T00:00:00",
              "farm": "local", "job_id": None, "metric_goals": goals or {}}
    (run_dir / "run.json").write_text(json.dumps(record))
    if state is not None:
        lines = ["queued 1700000000", "started 1700000001 host=h"]
        if state[0] == "finished":
            lines.append(f"finished 1700000100 exit={state[1]}")
        (run_dir / "status.log").write_text("\n".join(lines) + "\n")
    if val is not None or train is not None:
        writer = MetricsWriter(str(run_dir))
        t0 = time.time()
        for step, metrics in enumerate(train or []):
            writer.write("train", step, metrics, when=t0 + step)
        for epoch, metrics in enumerate(val or []):
            writer.write("val", epoch, metrics, when=t0 + epoch_seconds * (epoch + 1))
        writer.close()
    return run_dir


def write_legacy_run(exp_dir: Path, rel: str, hparams: dict, val: list, start: float = 1600000000.0) -> Path:
    """A run as runx 0.0.11 left it: hparams.json and metrics.csv (csv.writer rows, \\r\\n)."""
    run_dir = exp_dir / rel
    run_dir.mkdir(parents=True)
    (run_dir / "hparams.json").write_text(json.dumps(hparams))
    rows = [f"start,start/step,0,timestamp,{start!r}"]
    for epoch, metrics in enumerate(val):
        pairs = ",".join(f"{k},{v!r}" for k, v in metrics.items())
        rows.append(f"val,{pairs},epoch,{epoch},timestamp,{start + 30.0 * (epoch + 1)!r}")
    (run_dir / "metrics.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode())  # CRLF as csv.writer wrote it
    return run_dir


class Sumx:
    """`python -m runx.sumx` in a project directory whose .runx points LOGROOT at ./logs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logroot = root / "logs"
        self.logroot.mkdir(parents=True, exist_ok=True)
        (root / ".runx").write_text("LOGROOT: logs\n")

    def exp(self, name: str) -> Path:
        path = self.logroot / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def __call__(self, *args: str, ok: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "runx.sumx", *args], cwd=self.root, capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})
        if ok:
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr, done.stderr
        return done

    def json(self, *args: str) -> dict:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def sumx(tmp_path: Path) -> Sumx:
    return Sumx(tmp_path)
