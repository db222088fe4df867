"""LogX: the 0.0.11 API, rank handling, values, TensorBoard, import cost."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from runx.logx import LogX, LogxError
from runx.logx.metrics_format import read_records
from runx_testing import require


def test_import_loads_no_third_party_module():
    code = "import sys; from runx.logx import logx; print(sorted(m for m in ('torch','tensorboardX','numpy','yaml','coolname','tabulate') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_metrics_messages_and_phase_aliases(tmp_path, capsys):
    log = LogX()
    log.initialize(logdir=str(tmp_path), hparams={"lr": 0.1}, global_rank=0)
    log.msg("hello")
    for phase in ("trn", "training", "train"):
        log.metric(phase, {"loss": 1.0})
    log.metric("validate", {"acc": 3}, epoch=5)
    log.metric("test", {"acc": 4})
    with pytest.raises(LogxError, match="phase 'eval'"):
        log.metric("eval", {"acc": 1})
    with pytest.raises(LogxError, match="metric 'acc'"):
        log.metric("val", {"acc": "high"})
    log.close()
    assert "hello" in capsys.readouterr().out
    assert (tmp_path / "logging.log").read_text() == "hello\n"
    assert json.loads((tmp_path / "hparams.json").read_text()) == {"lr": 0.1}
    records = [r for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r]
    assert [(r["phase"], r["step"]) for r in records] == [("train", 0), ("train", 1), ("train", 2), ("val", 5), ("val", 5)]  # 0.0.11: an explicit epoch is reused, not advanced


def test_nonzero_rank_creates_nothing(tmp_path, monkeypatch):
    target = tmp_path / "run"
    monkeypatch.setenv("RANK", "1")
    log = LogX()
    log.initialize(logdir=str(target), tensorboard=True)
    log.msg("x")
    log.metric("val", {"a": 1})
    log.add_scalar("a", 1, 0)
    log.tensorboard.add_text("t", "x", 0)
    assert log.save_model({"a": 1}, metric=1.0, epoch=0) is None
    assert not target.exists()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("SLURM_PROCID", "3")
    log.initialize(logdir=str(target))
    assert target.exists()


def test_logdir_from_runx_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNX_LOGDIR", str(tmp_path / "fromenv"))
    log = LogX()
    log.initialize()
    log.metric("val", {"a": 1})
    log.close()
    assert (tmp_path / "fromenv" / "metrics.jsonl").exists()


def test_numpy_and_torch_scalars_are_numbers(tmp_path):
    require("numpy")
    import numpy as np

    log = LogX()
    log.initialize(logdir=str(tmp_path))
    log.metric("val", {"a": np.float32(0.5), "b": np.int64(3), "c": np.float64("nan")})
    log.close()
    [rec] = [r for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r]
    assert rec["metrics"] == {"a": 0.5, "b": 3, "c": "nan"}


def test_tensorboard_events_read_back_with_tensorboard(tmp_path):
    require("tensorboardX")
    require("tensorboard")
    require("numpy")
    import numpy as np
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with LogX() as log:
        log.initialize(logdir=str(tmp_path), tensorboard=True)
        for epoch in range(3):
            log.metric("val", {"loss": 1.0 / (epoch + 1)}, epoch)
        log.add_scalar("lr", 0.1, 0)
        log.add_image("sample", np.zeros((3, 8, 8), dtype=np.uint8), 0)
        log.add_histogram("weights", np.arange(10.0), 0)
    acc = EventAccumulator(str(tmp_path), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert [e.value for e in acc.Scalars("val/loss")] == pytest.approx([1.0, 0.5, 1 / 3])
    assert [e.step for e in acc.Scalars("val/loss")] == [0, 1, 2]
    assert acc.Tags()["images"] == ["sample"] and "weights" in acc.Tags()["histograms"]
    assert acc.Scalars("lr")[0].value == pytest.approx(0.1)


def test_a_0_0_11_training_script_runs_unchanged(tmp_path):
    require("torch")
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import sys, torch
        from runx.logx import logx
        logx.initialize(logdir=sys.argv[1], coolname=False, tensorboard=False, hparams={"lr": 0.1})
        model = torch.nn.Linear(2, 1)
        accs = [0.5, 0.9, 0.7]
        for epoch, acc in enumerate(accs):
            logx.metric(phase="train", metrics={"loss": 1.0 - acc})
            logx.metric(phase="val", metrics={"loss": 1.0 - acc, "accuracy": acc}, epoch=epoch)
            save_dict = {"epoch": epoch + 1, "arch": "lin", "state_dict": model.state_dict(), "best_acc1": max(accs[:epoch + 1])}
            is_best = logx.save_model(save_dict, metric=acc, epoch=epoch, higher_better=True)
            logx.msg(f"epoch {epoch} best={is_best} keys={sorted(save_dict)}")
        best = logx.get_best_checkpoint()
        state, meta = logx.load_model(best)
        print("BEST", best.rsplit("/", 1)[1], meta["__metric"], sorted(state))
    """))
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "run")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "BEST best_checkpoint_ep1.pth 0.9 ['bias', 'weight']" in done.stdout
    assert "epoch 0 best=True keys=['arch', 'best_acc1', 'epoch', 'state_dict']" in done.stdout
    assert "epoch 2 best=False" in done.stdout
    names = sorted(os.listdir(tmp_path / "run"))
    assert "best_checkpoint_ep1.pth" in names and "last_checkpoint_ep2.pth" in names
    assert not any(n.startswith("last_checkpoint_ep0") or n.startswith("last_checkpoint_ep1") for n in names)


def test_resume_restores_best_metric_and_steps(tmp_path):
    require("torch")
    require("numpy")
    import numpy as np

    log = LogX()
    log.initialize(logdir=str(tmp_path))
    log.metric("train", {"loss": 1.0})
    log.metric("train", {"loss": 0.9})
    assert log.save_model({"w": 1}, metric=np.float32(0.8), epoch=3, higher_better=False) is True
    log.close()
    (tmp_path / "checkpoints.json").unlink()  # force the weights_only=True path
    again = LogX()
    again.initialize(logdir=str(tmp_path))
    assert again.best_metric == pytest.approx(0.8)
    assert again.epoch["train"] == 2
    assert again.save_model({"w": 2}, metric=0.9, epoch=4, higher_better=False) is False
    assert again.save_model({"w": 3}, metric=0.7, epoch=5, higher_better=False) is True
    again.close()
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith(".pth")) == ["best_checkpoint_ep5.pth", "last_checkpoint_ep5.pth"]
