"""The examples stay runnable: every sweep plans against every farm config, and the classifier trains and resumes."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runx_testing import require

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SWEEPS = sorted(EXAMPLES.glob("*/*.yml"))
FARMS = sorted((EXAMPLES / "farms").glob("*.runx"))


@pytest.mark.parametrize("farm", FARMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_sweep_plans_on_every_farm(sweep, farm, tmp_path):
    config = tmp_path / "runx.yml"
    config.write_text(farm.read_text().replace("LOGROOT: ", f"LOGROOT: {tmp_path}/logs  # was: ", 1))
    done = subprocess.run([sys.executable, "-m", "runx.runx", str(sweep), "-n", "-c", str(config)],
                          cwd=sweep.parent, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and "train.py" in done.stdout
    assert not (tmp_path / "logs").exists()


def test_classifier_trains_logs_everything_and_resumes(tmp_path):
    require("torch")
    require("tensorboard")
    code = tmp_path / "code"
    shutil.copytree(EXAMPLES / "classify", code)
    logdir = tmp_path / "run"
    first = subprocess.run([sys.executable, "train.py", "--epochs", "2", "--logdir", str(logdir)], cwd=code,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "epoch 1:" in first.stdout
    second = subprocess.run([sys.executable, "train.py", "--epochs", "3", "--logdir", str(logdir)], cwd=code,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "resumed from" in second.stdout and "epoch 2:" in second.stdout and "epoch 0:" not in second.stdout
    names = {p.name for p in logdir.iterdir()}
    assert "last_checkpoint_ep2.pth" in names and any(n.startswith("best_checkpoint_ep") for n in names)
    assert {"metrics.jsonl", "logging.log", "hparams.json"} <= names and any(n.startswith("events.out") for n in names)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    assert {"val/loss", "val/accuracy", "train/loss", "lr"} <= set(acc.Tags()["scalars"])
    assert acc.Tags()["images"] == ["samples/first"]
