"""LogX: the 0.0.11 API, rank handling, values, TensorBoard, import cost."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time

import pytest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from runx.logx import LogX, LogxError
from runx.logx.rundir.records import read_records
from runx.logx.rundir.summary import summarize
from runx_testing import require


def read_events(logdir: "str | os.PathLike") -> "EventAccumulator":
    """TensorBoard's own reader over `logdir`, loaded, keeping every event (nothing sampled away)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0, "histograms": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_import_loads_no_third_party_module():
    code = "import sys; from runx.logx import logx; print(sorted(m for m in ('torch','tensorboardX','numpy','yaml','coolname','tabulate') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_run_directory_modules_load_no_logger():
    """runx and sumx import runx.logx.rundir: the package's logger, its metrics writer and its checkpoints load
    only when `logx` or `LogX` is first used (PEP 562), so `runx -n` and sumx do not pay for them."""
    code = textwrap.dedent("""
        import sys
        before = set(sys.modules)
        import runx.logx.rundir.layout, runx.logx.rundir.summary, runx.logx.rundir.status
        print(sorted(m for m in ("runx.logx._logx", "runx.logx.rundir.writer", "runx.logx.checkpoints", "threading")
                     if m in set(sys.modules) - before))
        import runx.logx as package
        from runx.logx import *
        print(type(logx).__name__, LogX.__name__, package.logx is logx, LogxError.__name__, TrialPruned.__name__)
        try:
            package.no_such_name
        except AttributeError as err:
            print(err)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "LogX LogX True LogxError TrialPruned",
                                        "module 'runx.logx' has no attribute 'no_such_name'"]


def test_a_plain_logx_script_loads_no_heavy_stdlib_module(tmp_path):
    """initialize, metrics, close (no TensorBoard, no checkpoint) load neither dataclasses (inspect, ast, dis)
    nor socket, nor `typing` (about 3 ms with what it imports), weakref or numbers, nor the readers and the
    TensorBoard path: together they were most of a trivial logx script's start-up (docs/performance.md,
    issue 17 §5). Only what logx itself loads counts: whatever the interpreter's site loaded before is left out."""
    code = textwrap.dedent(f"""
        import sys
        before = set(sys.modules)
        from runx.logx import logx
        logx.initialize(logdir={str(tmp_path)!r}, tensorboard=False)
        logx.metric("train", {{"loss": 1.0}}, epoch=0)
        logx.metric("val", {{"acc": 0.5}}, epoch=0)
        logx.close()
        heavy = ("dataclasses", "inspect", "ast", "dis", "socket", "typing", "weakref", "numbers",
                 "runx.logx.rundir.summary", "runx.logx.rundir.records", "runx.logx.tensorboard")
        print(sorted(m for m in heavy if m in set(sys.modules) - before))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert [r["phase"] for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r] == ["train", "val"]


def test_a_logger_nobody_refers_to_still_writes_what_it_buffered_at_exit(tmp_path):
    """logx keeps every initialized logger until it is closed, so a train record still buffered (it reaches
    the OS within FLUSH_SECONDS) is written at exit even after the script dropped its logger."""
    code = textwrap.dedent(f"""
        import gc
        from runx.logx import LogX
        log = LogX().initialize(logdir={str(tmp_path)!r}, tensorboard=False)
        log.metric("train", {{"loss": 1.0}}, epoch=0)
        del log
        gc.collect()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [r["metrics"] for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r] == [{"loss": 1.0}]
    assert summarize(str(tmp_path)).phases["train"].count == 1


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


def test_numpy_and_torch_scalars_are_numbers(tmp_path, requires):
    requires("numpy")
    import numpy as np

    log = LogX()
    log.initialize(logdir=str(tmp_path))
    log.metric("val", {"a": np.float32(0.5), "b": np.int64(3), "c": np.float64("nan")})
    requires("torch")
    import torch

    log.metric("val", {"t": torch.tensor(0.25), "i": torch.tensor(7), "inf": torch.tensor(float("-inf"))})
    with pytest.raises(LogxError, match="metric 'v'"):
        log.metric("val", {"v": torch.ones(3)})
    log.close()
    recs = [r["metrics"] for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r]
    assert recs == [{"a": 0.5, "b": 3, "c": "nan"}, {"t": 0.25, "i": 7, "inf": "-inf"}]


def test_tensorboard_events_read_back_with_tensorboard(tmp_path, requires):
    requires("tensorboardX")
    requires("tensorboard")
    requires("numpy")
    import numpy as np
    with LogX().initialize(logdir=str(tmp_path), tensorboard=True) as log:
        for epoch in range(3):
            log.metric("val", {"loss": 1.0 / (epoch + 1), "acc": epoch * 0.25}, epoch)
            log.metric("trn", {"loss": 2.0 / (epoch + 1)})
        log.add_scalar("lr", np.float32(0.1), 0)
        log.add_scalars("pair", {"a": 1.0, "b": 2.0}, 0)
        log.add_image("sample", np.zeros((3, 8, 8), dtype=np.uint8), 0)
        log.add_images("batch", np.ones((2, 3, 4, 4), dtype=np.float32), 0)
        weights = np.arange(10.0)
        log.add_histogram("weights", weights, 0)
        weights[:] = 1000.0  # changed after the call: the histogram must show the values at call time
        log.tensorboard.add_text("note", "hello", 0)
        assert log.tensorboard.logdir == str(tmp_path)  # a plain attribute of the SummaryWriter
    acc = read_events(tmp_path)
    assert [e.value for e in acc.Scalars("val/loss")] == pytest.approx([1.0, 0.5, 1 / 3])
    assert [e.step for e in acc.Scalars("val/loss")] == [0, 1, 2]
    assert [e.value for e in acc.Scalars("val/acc")] == pytest.approx([0.0, 0.25, 0.5])
    assert [(e.step, round(e.value, 4)) for e in acc.Scalars("trn/loss")] == [(0, 2.0), (1, 1.0), (2, 0.6667)]
    assert acc.Scalars("lr")[0].value == pytest.approx(0.1)
    assert sorted(acc.Tags()["images"]) == ["batch", "sample"]
    assert (acc.Images("sample")[0].width, acc.Images("sample")[0].height) == (8, 8)
    assert acc.Histograms("weights")[0].histogram_value.max == 9.0
    assert "note/text_summary" in acc.Tags()["tensors"]
    pair = read_events(tmp_path / "pair" / "a")  # tensorboardX: one run per key
    assert pair.Scalars("pair")[0].value == 1.0


def test_tensorboard_scalars_reach_disk_without_a_flush_or_close(tmp_path, requires):
    """The background thread writes them on its own (within ~0.1 s on an idle machine; the bound here is
    for a loaded CI machine, not a figure: a thread that never writes fails it)."""
    requires("tensorboardX")
    requires("tensorboard")
    log = LogX().initialize(logdir=str(tmp_path), tensorboard=True, eager_flush=False)
    log.metric("val", {"loss": 0.5}, 3)
    start = time.monotonic()
    seen = []
    while time.monotonic() - start < 30 and not seen:
        acc = read_events(tmp_path)
        seen = acc.Tags()["scalars"]
        time.sleep(0.1)
    log.close()
    assert seen == ["val/loss"]


def test_tensorboard_needs_its_extra(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.modules["tensorboardX"] = None
        sys.modules["torch"] = None
        from runx.logx import logx
        try:
            logx.initialize(logdir=sys.argv[1], tensorboard=True)
        except ImportError as err:
            print(err)
        logx.initialize(logdir=sys.argv[1])
        try:
            logx.save_model({"state_dict": {}}, metric=1.0, epoch=0)
        except ImportError as err:
            print(err)
    """)
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pip install 'runx-logx[tensorboard]'" in done.stdout
    assert "pip install 'runx-logx[torch]'" in done.stdout


@pytest.mark.parametrize("tensorboard", [False, True])
def test_a_0_0_11_training_script_runs_unchanged(tmp_path, requires, tensorboard):
    requires("torch")
    if tensorboard:
        requires("tensorboardX")
    script = tmp_path / "train.py"
    # Written against runx 0.0.11's README: initialize, msg, add_scalar, add_image, metric, save_model.
    script.write_text(textwrap.dedent(f"""
        import argparse, torch
        from runx.logx import logx
        parser = argparse.ArgumentParser()
        parser.add_argument("--logdir")
        args = parser.parse_args()
        logx.initialize(logdir=args.logdir, coolname=True, tensorboard={tensorboard}, hparams=vars(args))
        model = torch.nn.Linear(2, 1)
        accs = [0.5, 0.9, 0.7]
        for epoch, acc in enumerate(accs):
            logx.metric(phase="train", metrics={{"loss": 1.0 - acc}})
            logx.add_scalar("train/lr", 0.1, epoch)
            logx.add_image("sample", torch.zeros(3, 4, 4), epoch)
            metrics = {{"loss": torch.tensor(1.0 - acc), "accuracy": acc}}
            logx.metric(phase="val", metrics=metrics, epoch=epoch)
            save_dict = {{"epoch": epoch + 1, "arch": "lin", "state_dict": model.state_dict(), "best_acc1": max(accs[:epoch + 1])}}
            is_best = logx.save_model(save_dict, metric=acc, epoch=epoch, higher_better=True)
            logx.msg(f"epoch {{epoch}} best={{is_best}} keys={{sorted(save_dict)}}")
        with logx.suspend_flush():
            logx.tensorboard.add_text("done", "yes", 0)
        best = logx.get_best_checkpoint()
        state, meta = logx.load_model(best)
        print("BEST", best.rsplit("/", 1)[1], meta["__metric"], sorted(state), logx.best_metric)
    """))
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, str(script), "--logdir", str(run)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "BEST best_checkpoint_ep1.pth 0.9 ['bias', 'weight'] 0.9" in done.stdout
    assert "epoch 0 best=True keys=['arch', 'best_acc1', 'epoch', 'state_dict']" in done.stdout
    assert "epoch 2 best=False" in done.stdout
    names = sorted(os.listdir(run))
    assert [n for n in names if n.endswith(".pth")] == ["best_checkpoint_ep1.pth", "last_checkpoint_ep2.pth"]
    assert any(n.startswith("events.out.tfevents") for n in names) == tensorboard
    assert json.loads((run / "hparams.json").read_text()) == {"logdir": str(run)}
    assert (run / "logging.log").read_text().count("\n") == 3
    records = [r for r in read_records(str(run / "metrics.jsonl")).records if "phase" in r]
    assert [(r["phase"], r["step"]) for r in records] == [("train", 0), ("val", 0), ("train", 1), ("val", 1), ("train", 2), ("val", 2)]
    assert records[3]["metrics"] == {"loss": pytest.approx(0.1), "accuracy": 0.9}


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


def test_hparams_written_once_and_logroot_from_config(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "hparams.json").write_text('{"lr": 1}')
    LogX().initialize(logdir=str(tmp_path / "run"), hparams={"lr": 2}).close()
    assert json.loads((tmp_path / "run" / "hparams.json").read_text()) == {"lr": 1}  # runx's own stays

    monkeypatch.delenv("RUNX_LOGDIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LogxError, match="RUNX_LOGDIR"):
        LogX().initialize()
    (tmp_path / ".runx").write_text(f"LOGROOT: {tmp_path / 'root'}\n")
    try:
        import yaml  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pyyaml"):
            LogX().initialize()
        return
    LogX().initialize().close()
    assert (tmp_path / "root" / "default" / "metrics.jsonl").exists()


def test_rank_from_slurm_when_rank_is_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.setenv("SLURM_PROCID", "2")
    log = LogX().initialize(logdir=str(tmp_path / "r2"))
    log.metric("val", {"a": 1})
    assert not log.rank0 and not (tmp_path / "r2").exists()
    log = LogX().initialize(logdir=str(tmp_path / "r0"), global_rank=0)  # an explicit rank wins
    assert log.rank0 and (tmp_path / "r0").exists()
    log.close()


@pytest.mark.parametrize("ending", ["raise RuntimeError('boom')", "pass", "logx.close()"])
def test_buffered_train_records_survive_exit_and_exceptions(tmp_path, ending):
    script = textwrap.dedent(f"""
        import sys
        from runx.logx import logx
        logx.initialize(logdir=sys.argv[1])
        for step in range(50):
            logx.metric("train", {{"loss": 1.0 / (step + 1)}})
        {ending}
    """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True)
    assert ("boom" in done.stderr) == ("raise" in ending)
    steps = [r["step"] for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r]
    assert steps == list(range(50))
    summary = json.loads((tmp_path / "metrics.summary.json").read_text())
    assert summary["phases"]["train"]["count"] == 50
    assert summary["log_bytes"] == os.path.getsize(tmp_path / "metrics.jsonl")


def test_context_manager_closes_and_initialize_returns_the_logger(tmp_path):
    with LogX() as log:
        assert log.initialize(logdir=str(tmp_path)) is log
        log.metric("train", {"loss": 1.0})
    assert [r["step"] for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r] == [0]
    with pytest.raises(LogxError, match="initialize"):
        log.metric("train", {"loss": 1.0})
    log.initialize(logdir=str(tmp_path))  # a closed logger can start again: it resumes
    log.metric("train", {"loss": 0.5})
    log.close()
    assert [r["step"] for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r] == [0, 1]


def test_save_model_leaves_the_callers_dict_alone_and_cleans_stale_files(tmp_path, requires):
    requires("torch")
    log = LogX().initialize(logdir=str(tmp_path))
    save_dict = {"state_dict": {"w": 1}, "epoch": 0}
    assert log.save_model(save_dict, metric=float("nan"), epoch=0) is True
    assert save_dict == {"state_dict": {"w": 1}, "epoch": 0}
    assert log.save_model({"state_dict": {}}, metric=0.1, epoch=1) is True  # anything beats NaN
    assert log.save_model({"state_dict": {}}, metric=float("nan"), epoch=2) is False
    log.close()
    for stale in ("last_checkpoint_ep3.pth.123.tmp", "best_checkpoint_ep3.pth.9.tmp", "checkpoints.json.tmp77",
                  "metrics.summary.json.tmp5"):
        (tmp_path / stale).write_bytes(b"partial")
    (tmp_path / "best_checkpoint_ep0.pth").write_bytes(b"an older best left by a kill")
    (tmp_path / "last_checkpoint_ep1.pth").write_bytes(b"an older latest left by a kill")
    (tmp_path / "notes.tmp").write_text("not ours")
    again = LogX().initialize(logdir=str(tmp_path))
    assert again.best_metric == pytest.approx(0.1) and again.save_ckpt_fn.endswith("last_checkpoint_ep2.pth")
    assert sorted(os.listdir(tmp_path)) == sorted([
        "best_checkpoint_ep1.pth", "last_checkpoint_ep2.pth", "checkpoints.json", "logging.log", "metrics.jsonl",
        "metrics.summary.json", "notes.tmp", "logx.lock"])
    again.close()


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path, requires):
    requires("torch")
    log = LogX().initialize(logdir=str(tmp_path))
    assert log.save_model({"state_dict": {"w": 1}}, metric=1.0, epoch=0) is True
    before = sorted(os.listdir(tmp_path))
    with pytest.raises((pickle.PicklingError, AttributeError)):  # torch.save cannot pickle a lambda: it fails while writing
        log.save_model({"state_dict": {"w": lambda: 2}}, metric=2.0, epoch=1)
    assert sorted(os.listdir(tmp_path)) == before  # no temporary file, no half checkpoint
    state, _ = log.load_model(log.save_ckpt_fn)
    assert log.save_ckpt_fn.endswith("last_checkpoint_ep0.pth") and state["w"] == 1
    log.close()


def test_load_model_refuses_a_file_without_a_state_dict_mapping(tmp_path, requires):
    requires("torch")
    import torch

    log = LogX()
    for i, saved in enumerate([[1, 2], {"weights": {"w": 1}}, {"state_dict": [1]}]):
        path = tmp_path / f"foreign{i}.pth"
        torch.save(saved, path)
        with pytest.raises(LogxError, match="expected a checkpoint dict with a 'state_dict' mapping"):
            log.load_model(str(path))
    torch.save({"state_dict": {"w": 1}, "epoch": 3}, tmp_path / "ok.pth")
    assert log.load_model(str(tmp_path / "ok.pth")) == ({"w": 1}, {"epoch": 3})


def test_python_m_runx_logx_prints_a_summary(tmp_path):
    with LogX().initialize(logdir=str(tmp_path)) as log:
        for epoch, loss in enumerate([0.5, 0.25, 0.375]):
            log.metric("val", {"loss": loss}, epoch)
    done = subprocess.run([sys.executable, "-m", "runx.logx", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "val: 3 records, last step 2: loss=0.375 (min 0.25 @1, max 0.5 @0)"
    missing = subprocess.run([sys.executable, "-m", "runx.logx", str(tmp_path / "nope")], capture_output=True, text=True)
    assert missing.returncode == 2 and "no metrics.jsonl" in missing.stderr
    version = subprocess.run([sys.executable, "-m", "runx.logx", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("runx-logx ") and "metrics format 1" in version.stdout
    from importlib.metadata import version as installed

    assert version.stdout == f"runx-logx {installed('runx-logx')}, metrics format 1\n"


def test_logx_scalars_have_their_own_event_file_and_tensorboard_shows_one_run(tmp_path, requires):
    """metric() scalars and the HParams session go to logx's .logx event file, images and histograms to
    tensorboardX's; one run."""
    requires("tensorboardX")
    requires("tensorboard")
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    with LogX().initialize(logdir=str(tmp_path), tensorboard=True) as log:
        log.metric("val", {"loss": 0.5, "acc": 0.75}, 4)
        log.add_image("img", [[[0.5]]], 4)
        log.add_histogram("h", [1.0, 2.0, 3.0], 4)
        log.tensorboard.add_scalar("opt", 0.25, 4, display_name="shown")  # tensorboardX's own add_scalar
    files = sorted(n for n in os.listdir(tmp_path) if n.startswith("events.out.tfevents."))
    assert len(files) == 2 and sum(n.endswith(".logx") for n in files) == 1, files

    def tags(name):
        found = set()
        for event in EventFileLoader(str(tmp_path / name)).Load():
            if event.file_version:
                assert event.file_version == "brain.Event:2"
            found.update(v.tag for v in event.summary.value)
        return found

    logx_file = next(n for n in files if n.endswith(".logx"))
    tbx_file = next(n for n in files if not n.endswith(".logx"))
    assert tags(logx_file) == {"val/loss", "val/acc", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    assert tags(tbx_file) == {"img", "h", "opt"}
    acc = read_events(tmp_path)  # TensorBoard's reader over the directory: one run with everything
    assert [(e.step, e.value) for e in acc.Scalars("val/loss")] == [(4, 0.5)]
    assert [(e.step, e.value) for e in acc.Scalars("val/acc")] == [(4, 0.75)]
    assert [(e.step, e.value) for e in acc.Scalars("opt")] == [(4, 0.25)]
    assert [e.step for e in acc.Images("img")] == [4] and [e.step for e in acc.Histograms("h")] == [4]


def test_logx_reads_and_patches_no_private_attribute_of_tensorboardx():
    """issue 13: tensorboardX through its public API only (its names starting with _ are its own business)."""
    import re

    src = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "runx-logx", "src", "runx", "logx")
    private = re.compile(r"_ev_writer|_get_file_writer|event_writer\._|_py_recordio_writer|\._closed\b|_logx_direct"
                         r"|all_writers|\.event_writer\b|file_writer\._")
    for name in os.listdir(src):
        if name.endswith(".py"):
            with open(os.path.join(src, name), encoding="utf-8") as f:
                hits = [line for line in f if private.search(line)]
            assert not hits, (name, hits)


@pytest.mark.parametrize("tensorboard", [False, True])
def test_a_forked_child_writes_nothing_its_parent_wrote_or_queued(tmp_path, requires, tensorboard):
    """A child forked mid-run (and exiting normally, so at-exit handlers run) must not repeat the parent."""
    if tensorboard:
        requires("tensorboardX")
        requires("tensorboard")
    script = textwrap.dedent(f"""
        import os, sys
        from runx.logx import logx
        logx.initialize(logdir=sys.argv[1], tensorboard={tensorboard})
        for step in range(5):
            logx.metric("train", {{"loss": 1.0 / (step + 1)}})  # queued, not yet written
        logx.add_image("img", [[[0.5]]], 0)
        logx.msg("parent")
        pid = os.fork()
        if pid == 0:
            logx.metric("val", {{"acc": 9.0}}, 99)
            logx.msg("child")
            sys.exit(0)  # a normal exit: at-exit handlers run in the child
        assert os.waitpid(pid, 0)[1] == 0
        logx.metric("val", {{"acc": 1.0}}, 5)
        logx.add_image("img", [[[0.25]]], 1)  # the parent's TensorBoard still works after the child left
        logx.msg("parent again")
    """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = [(r["phase"], r["step"]) for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r]
    assert records == [("train", s) for s in range(5)] + [("val", 5)]
    assert (tmp_path / "logging.log").read_text().splitlines() == ["parent", "parent again"]
    assert json.loads((tmp_path / "metrics.summary.json").read_text())["phases"]["val"]["count"] == 1
    if tensorboard:
        acc = read_events(tmp_path)
        assert [e.step for e in acc.Scalars("train/loss")] == list(range(5))
        assert [e.step for e in acc.Scalars("val/acc")] == [5]
        assert [e.step for e in acc.Images("img")] == [0, 1]


def test_threads_logging_one_phase_get_distinct_steps_in_order(tmp_path):
    import threading

    log = LogX().initialize(logdir=str(tmp_path))
    start = threading.Barrier(4)

    def work():
        start.wait()
        for _ in range(250):
            log.metric("val", {"acc": 1.0})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    steps = [r["step"] for r in read_records(str(tmp_path / "metrics.jsonl")).records if r.get("phase") == "val"]
    assert steps == list(range(1000)) and log.epoch["val"] == 1000


@pytest.mark.parametrize("bad", ["x", 2.5, [1], float("nan"), float("inf")])
def test_a_rejected_epoch_changes_nothing(tmp_path, bad):
    log = LogX().initialize(logdir=str(tmp_path))
    log.metric("val", {"acc": 1.0})
    with pytest.raises(LogxError, match=r"^step .*: expected a whole number$"):
        log.metric("val", {"acc": 2.0}, bad)
    log.metric("val", {"acc": 3.0})
    log.metric("val", {"acc": 4.0}, 7.0)  # a whole float is a step
    log.close()
    records = [(r["step"], r["metrics"]["acc"]) for r in read_records(str(tmp_path / "metrics.jsonl")).records if "phase" in r]
    assert records == [(0, 1.0), (1, 3.0), (7, 4.0)] and log.epoch["val"] == 7


def test_every_rank_finds_the_best_checkpoint_to_resume_from(tmp_path):
    require("torch")
    rank0 = LogX().initialize(logdir=str(tmp_path), global_rank=0)
    rank0.save_model({"state_dict": {}}, metric=0.5, epoch=4)
    rank0.close()
    for rank in (0, 1, 3):
        other = LogX().initialize(logdir=str(tmp_path), global_rank=rank)
        assert other.get_best_checkpoint() == str(tmp_path / "best_checkpoint_ep4.pth")
        other.close()
    assert sorted(os.listdir(tmp_path)).count("best_checkpoint_ep4.pth") == 1


def test_sessions_reopening_a_logdir_within_a_second_keep_every_event(tmp_path, requires):
    requires("tensorboardX")
    requires("tensorboard")
    # "train, then re-open the run for test" in one fresh process, 12 times: past the 10th file of this
    # process, whose names must still sort (as TensorBoard reads them) in the order they were opened.
    script = textwrap.dedent("""
        import json, os, sys
        from runx.logx import LogX
        logdir, opened = sys.argv[1], []
        for step in range(12):
            log = LogX().initialize(logdir=logdir, tensorboard=True)
            log.metric("val", {"acc": float(step)}, step)
            log.close()
            opened += sorted(set(f for f in os.listdir(logdir) if f.endswith(".logx")) - set(opened))
        print(json.dumps(opened))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    opened = json.loads(done.stdout)
    assert len(opened) == 12 and sorted(opened) == opened
    files = [f for f in os.listdir(tmp_path) if "tfevents" in f]
    assert len(files) == 12  # per session logx's (tensorboardX's opens on the first image, histogram...)
    acc = read_events(tmp_path)
    assert [(e.step, e.value) for e in acc.Scalars("val/acc")] == [(s, float(s)) for s in range(12)]


@pytest.mark.parametrize("tensorboard", [False, True])
def test_a_multiprocessing_child_that_logs_keeps_everything(tmp_path, requires, tensorboard):
    """Its process ends with os._exit after the target returns: no at-exit handler runs."""
    if tensorboard:
        requires("tensorboardX")
        requires("tensorboard")
    script = textwrap.dedent(f"""
        import multiprocessing, sys
        from runx.logx import logx

        def child(logdir):
            logx.initialize(logdir=logdir, tensorboard={tensorboard})
            for step in range(5):
                logx.metric("train", {{"loss": 1.0 / (step + 1)}})  # queued for up to a second
            logx.add_image("img", [[[0.5]]], 0)

        if __name__ == "__main__":
            p = multiprocessing.get_context("fork").Process(target=child, args=(sys.argv[1],))
            p.start()
            p.join()
            sys.exit(p.exitcode)
    """)
    (tmp_path / "run.py").write_text(script)
    done = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "logs")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = [r["step"] for r in read_records(str(tmp_path / "logs" / "metrics.jsonl")).records if "phase" in r]
    assert records == list(range(5))
    if tensorboard:
        acc = read_events(tmp_path / "logs")
        assert [e.step for e in acc.Scalars("train/loss")] == list(range(5))
        assert len(acc.Images("img")) == 1


def test_an_image_is_in_the_event_file_when_the_call_returns(tmp_path, requires):
    requires("tensorboardX")
    requires("tensorboard")
    log = LogX().initialize(logdir=str(tmp_path), tensorboard=True)
    log.add_image("img", [[[0.5]]], 3)
    log.add_histogram("h", [1.0, 2.0, 3.0], 3)
    acc = read_events(tmp_path)
    assert [e.step for e in acc.Images("img")] == [3] and [e.step for e in acc.Histograms("h")] == [3]
    log.close()


def test_a_direct_call_returns_only_once_its_own_event_is_written(tmp_path, requires):
    """The CI failure of 05d8bc5: a call returned once the event file grew (or after 1 s), so an event
    still on its way through tensorboardX's thread, or a slow thread, let add_histogram return before its
    own event was written. Here a 50 MB text, not waited for, is still in tensorboardX's queue when the
    histogram is logged (the old wait lost the histogram 2 times in 2 here); the process ends with
    os._exit right after, so what was not written by then is lost."""
    requires("tensorboardX")
    requires("tensorboard")
    script = textwrap.dedent("""
        import os, sys
        from runx.logx import LogX
        log = LogX().initialize(logdir=sys.argv[1], tensorboard=True)
        log.add_image("first", [[[0.5]]], 0)  # opens the SummaryWriter
        log.eager_flush = False
        log.tensorboard.add_text("large", "x" * 50_000_000, 1)
        log.eager_flush = True
        log.add_histogram("h", [1.0, 2.0, 3.0], 3)
        os._exit(0)
    """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    acc = read_events(tmp_path)
    assert [e.step for e in acc.Histograms("h")] == [3]
    assert [e.step for e in acc.Tensors("large/text_summary")] == [1]


def test_a_direct_call_that_writes_no_event_of_the_main_file_does_not_wait(tmp_path, requires):
    requires("tensorboardX")
    with LogX().initialize(logdir=str(tmp_path), tensorboard=True) as log:
        start = time.monotonic()
        log.tensorboard.add_hparams({"lr": 0.1}, {"acc": 0.5})  # tensorboardX writes it into a subdirectory
        # the eager wait (up to WAIT_SECONDS, 60 s) is only for calls that write an event of the main file
        assert time.monotonic() - start < 30


def test_all_ranks_log_gives_each_other_rank_its_own_message_log_and_nothing_else(tmp_path, monkeypatch):
    from runx.logx.rundir.layout import is_rank_log, rank_log_name

    monkeypatch.setenv("RUNX_LOGDIR", str(tmp_path))
    monkeypatch.delenv("SLURM_PROCID", raising=False)
    writer = LogX().initialize(global_rank=0, all_ranks_log=True)  # rank 0 holds the writer lock meanwhile
    others = []
    for rank in (1, 3):
        monkeypatch.setenv("RANK", str(rank))
        other = LogX().initialize(all_ranks_log=True)  # never waits for rank 0's lock
        other.msg(f"hello from {rank}")
        other.metric("train", {"loss": 1.0})
        assert other.save_model({"w": 1}, metric=1.0, epoch=0) is None
        others.append(other)
    monkeypatch.setenv("RANK", "2")
    silent = LogX().initialize()  # without all_ranks_log a rank > 0 writes nothing
    silent.msg("not kept")
    writer.msg("from rank 0")
    writer.metric("train", {"loss": 0.5})
    for log in (*others, silent, writer):
        log.close()
    assert (tmp_path / rank_log_name(1)).read_text() == "hello from 1\n"
    assert (tmp_path / "logging.rank3.log").read_text() == "hello from 3\n"
    assert (tmp_path / rank_log_name(0)).read_text() == "from rank 0\n"
    assert sorted(n for n in os.listdir(tmp_path) if is_rank_log(n)) == ["logging.rank1.log", "logging.rank3.log"]
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["metrics"] for r in records if "metrics" in r] == [{"loss": 0.5}]
    assert not list(tmp_path.glob("*.pth"))


REQUEUE_JOB = textwrap.dedent("""
    import os, signal, sys
    from runx.logx import logx
    out = os.path.join(os.environ["RUNX_LOGDIR"], "seen" + os.environ["RANK"])
    def save():
        with open(out, "a") as f:
            f.write("saved\\n")
    logx.initialize(on_requeue=save)
    for step in range(10):
        if step == 3:
            os.kill(os.getpid(), signal.SIGUSR1)  # the scheduler's warning, as runx's job script passes it on
        logx.metric("train", {"step": step})
        logx.save_model({"state_dict": {}}, metric=step, epoch=step) if step == 5 else None
        with open(out, "a") as f:
            f.write(f"step {step}\\n")
""")


@pytest.mark.parametrize("rank", [0, 1])
def test_the_warning_ends_rank_0_with_75_and_a_requeue_line_and_other_ranks_go_on(tmp_path, rank):
    """Rank 0 leaves at the next metric() after saving and appends `requeue` to status.log (a multi-node job's
    launcher exits 1, the job script reads that line); another rank only notes the signal: it must not leave a
    collective rank 0 still waits in, so it goes on until the job ends it (here: its loop ends, exit 0)."""
    (tmp_path / "job.py").write_text(REQUEUE_JOB)
    env = {**os.environ, "RUNX_LOGDIR": str(tmp_path), "RUNX_REQUEUE_SIGNAL": "USR1", "RANK": str(rank)}
    done = subprocess.run([sys.executable, str(tmp_path / "job.py")], env=env, capture_output=True, text=True, timeout=120)
    seen = (tmp_path / f"seen{rank}").read_text().splitlines()
    status = (tmp_path / "status.log").read_text().split() if (tmp_path / "status.log").exists() else []
    if rank == 0:
        assert done.returncode == 75, done.stderr
        assert seen == ["step 0", "step 1", "step 2", "saved"]
        assert status[0] == "requeue" and status[2:] == ["exit=75", f"pid={status[3][4:]}"] and status[3][4:].isdigit()
    else:
        assert done.returncode == 0, done.stderr
        assert seen == [f"step {n}" for n in range(10)] and status == []
