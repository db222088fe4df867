"""Resuming a logdir: nothing unpickled (issue 14.2), the latest checkpoint found (14.15d), one writer (14.5)."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time

import pytest
from runx.logx import LogX, LogxError
from runx.logx.rundir.records import read_records
from runx_testing import require


class _Evil:
    """Pickles to a call that creates a file when unpickled by a full (non weights_only) unpickler."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("fmt", ["torch-zip", "raw-pickle"])
def test_resume_never_unpickles_a_crafted_checkpoint(tmp_path, capfd, fmt):
    require("torch")
    import torch
    marker = tmp_path / "pwned"
    logdir = tmp_path / "run"
    logdir.mkdir()
    for name in ("best_checkpoint_ep1.pth", "last_checkpoint_ep1.pth"):
        if fmt == "torch-zip":
            torch.save({"state_dict": _Evil(str(marker)), "__metric": 1.0}, str(logdir / name))
        else:
            (logdir / name).write_bytes(pickle.dumps(_Evil(str(marker))))
    log = LogX().initialize(logdir=str(logdir))  # no checkpoints.json: the metadata must come from weights_only
    err = capfd.readouterr().err
    assert not marker.exists(), "resume executed code from a checkpoint"
    warnings = [line for line in err.splitlines() if "best_checkpoint_ep1.pth" in line]
    assert len(warnings) == 1 and warnings[0].startswith("logx: skipping ") and "without unpickling" in warnings[0], err
    assert log.best_metric is None and log.best_ckpt_fn == ""
    log.metric("val", {"acc": 0.5}, 2)  # the resume went on
    assert log.save_model({"state_dict": {}}, metric=0.5, epoch=2) is True
    log.close()
    assert not marker.exists()
    assert (logdir / "best_checkpoint_ep2.pth").exists() and (logdir / "best_checkpoint_ep1.pth").exists()  # not ours: left alone


def test_a_corrupt_best_is_skipped_and_an_older_readable_one_used(tmp_path, capfd):
    require("torch")
    log = LogX().initialize(logdir=str(tmp_path))
    log.save_model({"state_dict": {}}, metric=0.3, epoch=1)
    log.close()
    (tmp_path / "checkpoints.json").unlink()
    (tmp_path / "best_checkpoint_ep5.pth").write_bytes(b"\x80\x04 torn")
    again = LogX().initialize(logdir=str(tmp_path))
    err = capfd.readouterr().err
    assert err.count("logx: skipping ") == 1 and "best_checkpoint_ep5.pth" in err
    assert again.best_metric == pytest.approx(0.3) and again.best_ckpt_fn.endswith("best_checkpoint_ep1.pth")
    assert again.get_best_checkpoint() == again.best_ckpt_fn
    again.close()


def test_latest_checkpoint_is_the_last_save_not_the_best(tmp_path):
    require("torch")
    log = LogX().initialize(logdir=str(tmp_path))
    assert log.latest_checkpoint() is None
    for epoch, acc in enumerate([0.5, 0.9, 0.7]):
        log.save_model({"epoch": epoch, "state_dict": {}}, metric=acc, epoch=epoch)
    assert log.latest_checkpoint() == str(tmp_path / "last_checkpoint_ep2.pth")
    log.close()
    for rank in (0, 1):
        again = LogX().initialize(logdir=str(tmp_path), global_rank=rank)
        assert again.latest_checkpoint() == str(tmp_path / "last_checkpoint_ep2.pth")
        assert again.get_best_checkpoint() == str(tmp_path / "best_checkpoint_ep1.pth")
        again.close()


HOLDER = textwrap.dedent("""
    import sys, time
    from runx.logx import LogX
    log = LogX().initialize(logdir=sys.argv[1])
    log.metric("val", {"acc": 1.0})
    print("ready", flush=True)
    sys.stdin.readline()
    log.close()
""")

SECOND = textwrap.dedent("""
    import sys
    from runx.logx import LogX, LogxError
    try:
        LogX().initialize(logdir=sys.argv[1], allow_second_writer=sys.argv[2] == "allow").close()
    except LogxError as err:
        print(err)
        sys.exit(3)
    print("wrote")
""")


def test_a_second_live_writer_is_refused_and_a_dead_ones_lock_taken_over(tmp_path):
    logdir = str(tmp_path / "run")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, logdir], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        second = subprocess.run([sys.executable, "-c", SECOND, logdir, "refuse"], capture_output=True, text=True, timeout=60)
        assert second.returncode == 3, second.stderr
        lines = second.stdout.strip().splitlines()
        assert len(lines) == 1 and "another logx is writing to this logdir" in lines[0]
        assert f"pid {holder.pid}" in lines[0] and "allow_second_writer=True" in lines[0]
        warned = subprocess.run([sys.executable, "-c", SECOND, logdir, "allow"], capture_output=True, text=True, timeout=60)
        assert warned.returncode == 0 and warned.stdout.strip() == "wrote"
        assert warned.stderr.count("logx: warning: ") == 1 and f"pid {holder.pid}" in warned.stderr
        holder.kill()  # SIGKILL: no close(), the lock file stays with the dead owner's pid in it
        holder.wait()
        assert json.loads((tmp_path / "run" / "logx.lock").read_text())["pid"] == holder.pid
        after = subprocess.run([sys.executable, "-c", SECOND, logdir, "refuse"], capture_output=True, text=True, timeout=60)
        assert after.returncode == 0 and after.stdout.strip() == "wrote", after.stdout + after.stderr
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    records = [r for r in read_records(str(tmp_path / "run" / "metrics.jsonl")).records if "phase" in r]
    assert len(records) == 1


def test_the_lock_is_released_at_close_and_a_refused_initialize_changes_nothing(tmp_path):
    first = LogX().initialize(logdir=str(tmp_path))
    first.metric("val", {"acc": 1.0})
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(LogxError, match=r"another logx is writing to this logdir \(pid %d" % os.getpid()):
        LogX().initialize(logdir=str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == before
    first.close()
    LogX().initialize(logdir=str(tmp_path)).close()
    owner = json.loads((tmp_path / "logx.lock").read_text())
    assert owner["pid"] == os.getpid() and owner["since"] <= time.time()


CLASSIFY = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "classify", "train.py")


def test_a_resubmitted_classify_run_continues_from_the_latest_epoch(tmp_path):
    require("torch")
    require("tensorboardX")
    logdir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    first = subprocess.run([sys.executable, CLASSIFY, "--epochs", "3", "--logdir", str(logdir), "--lr", "0.5"],
                           capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    # the message names the file: resuming from the best would name best_checkpoint_ep<N>.pth
    state = json.loads((logdir / "checkpoints.json").read_text())
    latest = state["last_checkpoint"]
    again = subprocess.run([sys.executable, CLASSIFY, "--epochs", "5", "--logdir", str(logdir), "--lr", "0.5"],
                           capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resumed from {logdir / latest} (epoch 2)" in again.stdout
    vals = [r["step"] for r in read_records(str(logdir / "metrics.jsonl")).records if r.get("phase") == "val"]
    assert vals == [0, 1, 2, 3, 4], vals  # no val step repeated, none missing
