"""Disk full while logging (issue 14.4), on a real 64 KiB tmpfs: nothing metric() accepted is lost."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runx.logx import LogX, LogxError
from runx.logx.rundir.records import read_records
from runx.logx.rundir.summary import summarize
from runx.logx.rundir.writer import MetricsWriter
from runx_testing import require


def _log_lines(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")


def _records(logdir):
    return [r for r in read_records(str(logdir / "metrics.jsonl")).records if "phase" in r]


def _check_no_glued_line(logdir):
    """Every line is one JSON object or a torn prefix that readers skip; never two records on one line."""
    for line in _log_lines(logdir / "metrics.jsonl"):
        assert line.count(b'{"phase"') + line.count(b'{"event"') + line.count(b'{"runx_metrics"') <= 1, line


def test_metric_survives_a_full_disk_and_loses_nothing_once_space_returns(small_disk, capfd):
    logdir = small_disk.path / "run"
    log = LogX().initialize(logdir=str(logdir))
    accepted = {"train": [], "val": []}

    def log_some(n):
        for _ in range(n):
            step = log.epoch["train"]
            log.metric("train", {"loss": 1.0 / (step + 1), "lr": 0.001 * step})
            accepted["train"].append(step)
            if step % 5 == 0:
                log.metric("val", {"acc": step / 1000.0}, step)
                accepted["val"].append(step)

    log_some(50)
    log.flush()
    small_disk.fill()
    log_some(150)  # the disk is full: records wait in memory, metric() returns
    log.flush()  # the summary cannot be replaced either
    summary = json.loads((logdir / "metrics.summary.json").read_text())
    in_log = len(_records(logdir))
    assert summary["records"] <= in_log + 1, (summary["records"], in_log)  # never more than the log holds (+ start event)
    err = capfd.readouterr().err
    assert err.count("logx: cannot write") >= 1 and err.count("metrics.jsonl (No space left on device)") == 1, err
    _check_no_glued_line(logdir)
    small_disk.release()
    log_some(30)
    log.close()
    err = capfd.readouterr().err
    assert "is writable again" in err and "still unwritten" not in err, err
    records = _records(logdir)
    assert [r["step"] for r in records if r["phase"] == "train"] == accepted["train"]
    assert [r["step"] for r in records if r["phase"] == "val"] == accepted["val"]
    _check_no_glued_line(logdir)
    got = summarize(str(logdir))
    assert got.phases["train"].count == len(accepted["train"]) and got.phases["val"].count == len(accepted["val"])
    final = json.loads((logdir / "metrics.summary.json").read_text())
    assert final["log_bytes"] == (logdir / "metrics.jsonl").stat().st_size, (final, err)  # the summary caught up
    torn = _torn_lines(logdir)
    assert final["skipped_lines"] == len(torn) <= 1, (final, torn)  # a write cut by the full disk leaves at most one


def _torn_lines(logdir):
    """The lines that are not JSON; each must be the start of a record written whole on a later line."""
    lines = _log_lines(logdir / "metrics.jsonl")
    assert lines[-1] == b""  # the log ends with a newline
    torn = []
    for i, line in enumerate(lines[:-1]):
        try:
            json.loads(line)
        except ValueError:
            assert any(later.startswith(line) for later in lines[i + 1:-1]), line
            torn.append(line)
    return torn


def test_metric_raises_once_records_would_be_dropped(small_disk, monkeypatch, capfd):
    monkeypatch.setattr(MetricsWriter, "MAX_UNWRITTEN", 200)
    logdir = small_disk.path / "run"
    log = LogX().initialize(logdir=str(logdir))
    log.metric("val", {"acc": 0.0}, 0)
    small_disk.fill()
    accepted = [0]
    with pytest.raises(LogxError, match=r"cannot write .*metrics.jsonl .*records wait in memory; this one is refused"):
        for step in range(1, 10_000):
            log.metric("val", {"acc": step / 10_000}, step)
            accepted.append(step)
    assert 150 <= len(accepted) <= 260, len(accepted)
    small_disk.release()
    log.metric("val", {"acc": 1.0}, 10_000)  # room again: accepted, after everything that waited
    accepted.append(10_000)
    log.close()
    assert [r["step"] for r in _records(logdir)] == accepted
    _check_no_glued_line(logdir)
    assert len(_torn_lines(logdir)) <= 1


def test_close_and_the_at_exit_hook_do_not_raise_on_a_full_disk(small_disk):
    require("tensorboardX")
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[2])
        from conftest import SmallDisk
        from pathlib import Path
        from runx.logx import logx
        disk = SmallDisk(Path(sys.argv[1]))
        logx.initialize(logdir=sys.argv[1] + "/run", tensorboard=True)
        for step in range(20):
            logx.metric("train", {"loss": 1.0})
        disk.fill()
        for step in range(200):
            logx.metric("train", {"loss": 0.5})
            logx.metric("val", {"acc": 0.5}, step)
        logx.msg("a message on a full disk")
        # no close(): the at-exit hook runs on a full disk
    """)
    done = subprocess.run([sys.executable, "-c", script, str(small_disk.path), str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "still unwritten" in done.stderr  # the loss is reported, at exit, not hidden
    assert done.stderr.count("metrics.jsonl (No space left on device)") == 1, done.stderr[-3000:]
    assert done.stderr.count("TensorBoard misses these scalars") <= 1, done.stderr[-3000:]
    _check_no_glued_line(small_disk.path / "run")


def test_a_direct_tensorboard_call_on_a_full_disk_does_not_hang_and_writes_again_once_space_returns(small_disk):
    """tensorboardX's writer thread dies on ENOSPC: an eager call sees it at once (it used to wait out its
    bound, a minute, per call), the next call opens a new event file, and with room again it is written."""
    require("tensorboardX")
    require("tensorboard")
    script = textwrap.dedent("""
        import os, sys, time
        sys.path.insert(0, sys.argv[2])
        from conftest import SmallDisk
        from pathlib import Path
        from runx.logx import logx
        disk = SmallDisk(Path(sys.argv[1]))
        logx.initialize(logdir=sys.argv[1] + "/run", tensorboard=True)
        logx.add_image("img", [[[0.5]]], 0)
        disk.fill()
        started = time.monotonic()
        for step in range(1, 4):
            logx.tensorboard.add_text("note", "x" * 20_000, step)  # past what the event file's page holds
        print(f"{time.monotonic() - started:.1f}", flush=True)  # os._exit below drops what is buffered
        disk.release()
        logx.tensorboard.add_text("note", "room again", 9)
        os._exit(0)  # what the call did not write by its return is lost
    """)
    done = subprocess.run([sys.executable, "-c", script, str(small_disk.path), str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout) < 30, done.stderr[-3000:]  # three waits of the one-minute bound would be 180 s
    assert done.stderr.count("tensorboardX's writer thread") == 1, done.stderr[-3000:]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(small_disk.path / "run"), size_guidance={"tensors": 0, "images": 0})
    events.Reload()
    assert [e.step for e in events.Images("img")] == [0]
    assert [e.step for e in events.Tensors("note/text_summary")][-1] == 9


def test_save_model_on_a_full_disk_keeps_the_last_good_checkpoints_loadable(small_disk):
    """ENOSPC inside save_model: it raises, the previous latest and best still load, no temporary is
    left behind, a resumed logger finds them, and saving works again once space returns."""
    require("torch")
    import torch

    logdir = small_disk.path / "run"
    log = LogX().initialize(logdir=str(logdir), tensorboard=False)
    log.save_model({"state_dict": {"w": torch.full((16,), 1.0)}}, 1.0, 0)
    log.save_model({"state_dict": {"w": torch.full((16,), 2.0)}}, 0.5, 1)
    before = sorted(p.name for p in logdir.iterdir())
    small_disk.fill()
    with pytest.raises(OSError) as raised:
        log.save_model({"state_dict": {"w": torch.full((16,), 3.0)}}, 9.0, 2)
    assert raised.value.errno == 28  # ENOSPC, reported to the caller
    assert sorted(p.name for p in logdir.iterdir()) == before  # no temporary, nothing replaced
    latest, best = log.latest_checkpoint(), log.get_best_checkpoint()
    assert latest.endswith("last_checkpoint_ep1.pth") and best.endswith("best_checkpoint_ep0.pth")
    assert torch.load(latest, weights_only=True)["state_dict"]["w"][0] == 2.0
    assert torch.load(best, weights_only=True)["state_dict"]["w"][0] == 1.0
    log.close()

    resumed = LogX().initialize(logdir=str(logdir), tensorboard=False)  # still full: resume reads, writes nothing big
    assert resumed.latest_checkpoint() == latest and resumed.get_best_checkpoint() == best
    small_disk.release()
    assert resumed.save_model({"state_dict": {"w": torch.full((16,), 4.0)}}, 9.0, 2) is True
    assert torch.load(resumed.latest_checkpoint(), weights_only=True)["state_dict"]["w"][0] == 4.0
    assert resumed.get_best_checkpoint().endswith("best_checkpoint_ep2.pth")
    resumed.close()
