"""logx with TensorBoard on: the run's session in TensorBoard's HParams dashboard, read back with TensorBoard's reader."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from runx.logx import LogX


def sessions(logdir) -> dict:
    """{tag: HParamsPluginData} of the hparams plugin in `logdir`, through TensorBoard's own reader and protos."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {tag: HParamsPluginData.FromString(content) for tag, content in acc.PluginTagToContent("hparams").items()}


def status(logdir) -> str:
    from tensorboard.plugins.hparams.api_pb2 import Status

    data = sessions(logdir)["_hparams_/session_end_info"]
    return Status.Name(data.session_end_info.status)


def hparams_of(logdir) -> dict:
    from google.protobuf.json_format import MessageToDict

    info = sessions(logdir)["_hparams_/session_start_info"].session_start_info
    return {k: MessageToDict(v) for k, v in info.hparams.items()}


@pytest.fixture
def tensorboard(requires):
    requires("tensorboardX")
    requires("tensorboard")


def test_session_start_holds_the_runs_hparams_and_ends_by_how_logx_closed(tmp_path, tensorboard):
    given = {"lr": 0.1, "solver": "sgd", "layers": [64, 32], "wd": float("nan"), "warm": True, "seed": 3, "skip": None}
    with LogX().initialize(logdir=str(tmp_path / "ok"), hparams=given, tensorboard=True) as log:
        log.metric("val", {"acc": 0.5})
    assert hparams_of(tmp_path / "ok") == {"lr": 0.1, "solver": "sgd", "layers": "[64, 32]", "wd": "nan", "warm": True,
                                           "seed": 3.0}
    start = sessions(tmp_path / "ok")["_hparams_/session_start_info"].session_start_info
    assert start.start_time_secs > 1e9
    assert status(tmp_path / "ok") == "STATUS_SUCCESS"
    assert not [p for p in (tmp_path / "ok").iterdir() if p.is_dir()]  # no timestamped sub-run as add_hparams makes

    runx_wrote = tmp_path / "runx"  # runx wrote hparams.json before the job: that is the run's, as sumx shows it
    runx_wrote.mkdir()
    (runx_wrote / "hparams.json").write_text(json.dumps({"lr": 0.5}))
    with pytest.raises(RuntimeError):
        with LogX().initialize(logdir=str(runx_wrote), hparams={"lr": 9}, tensorboard=True):
            raise RuntimeError("diverged")
    assert hparams_of(runx_wrote) == {"lr": 0.5}
    assert status(runx_wrote) == "STATUS_FAILURE"

    log = LogX().initialize(logdir=str(tmp_path / "finally"), tensorboard=True)
    with pytest.raises(KeyError):
        try:
            raise KeyError("x")
        finally:
            log.close()  # closing while an exception propagates
    assert status(tmp_path / "finally") == "STATUS_FAILURE"
    assert hparams_of(tmp_path / "finally") == {}


def test_tensorboard_off_loads_none_of_it(tmp_path):
    code = textwrap.dedent("""
        import sys
        from runx.logx import logx
        logx.initialize(logdir=sys.argv[1], hparams={"lr": 0.1})
        logx.metric("val", {"acc": 1.0})
        logx.close()
        print(sorted(m for m in sys.modules if m.startswith("tensorboard")))
    """)
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
    assert not any(n.startswith("events.out") for n in os.listdir(tmp_path))


def test_a_logger_left_open_across_a_fork_ends_its_session_at_exit_without_a_thread(tmp_path, tensorboard):
    """The CI log of 05d8bc5: the fork closed the SummaryWriter, and the session end written at exit
    opened a new one, whose thread Python 3.12 refuses to start at interpreter shutdown (a traceback,
    and no session end). The session goes into logx's own event file, written without a thread."""
    script = textwrap.dedent("""
        import os, sys
        from runx.logx import logx
        logx.initialize(logdir=sys.argv[1], tensorboard=True)
        logx.add_image("img", [[[0.5]]], 0)  # opens the SummaryWriter
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        logx.metric("val", {"acc": 0.5})
    """)  # no close(): the logger is closed at exit
    quiet = ["-W", "ignore::DeprecationWarning"]  # Python 3.12's warning on a fork of a process with threads
    done = subprocess.run([sys.executable, *quiet, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert status(tmp_path) == "STATUS_SUCCESS"
