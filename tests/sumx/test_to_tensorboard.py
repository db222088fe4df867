"""sumx --to-tensorboard: what each kind of run gets, read back with TensorBoard's reader; idempotent, incremental,
and never touching a file it did not write."""
from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import write_legacy_run, write_run
from runx.logx import LogX
from runx.logx.rundir.writer import MetricsWriter
from runx.sumx import main


def read(run_dir: Path):
    """TensorBoard's reader over one run: (scalars {tag: [(step, value)]}, hparams, status name or None)."""
    from google.protobuf.json_format import MessageToDict
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.api_pb2 import Status
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    scalars = {tag: [(e.step, "nan" if e.value != e.value else round(e.value, 6)) for e in acc.Scalars(tag)]
               for tag in acc.Tags()["scalars"]}
    try:
        plugin = {t: HParamsPluginData.FromString(c) for t, c in acc.PluginTagToContent("hparams").items()}
    except KeyError:  # no hparams data in the run
        plugin = {}
    start = plugin.get("_hparams_/session_start_info")
    hparams = {k: MessageToDict(v) for k, v in start.session_start_info.hparams.items()} if start else None
    end = plugin.get("_hparams_/session_end_info")
    return scalars, hparams, Status.Name(end.session_end_info.status) if end else None


def files(root: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def to_tensorboard(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main([*args, "--to-tensorboard"]) == 0
    return capsys.readouterr().out


def test_each_kind_of_run_gets_what_it_lacks_once(tmp_path, capsys, requires):
    requires("tensorboardX")
    requires("tensorboard")
    exp = tmp_path / "sweep"
    val = [{"loss": 1.0, "acc": 0.5}, {"loss": 0.5, "acc": float("nan")}]
    write_run(exp, "done", {"lr": 0.1, "solver": "sgd", "layers": [2, 3]}, val=val, train=[{"loss": 2.0}])
    write_run(exp, "failed", {"lr": 1.0, "solver": "adam"}, val=val[:1], state=("finished", 3))
    write_run(exp, "tag/running", {"lr": 0.5, "solver": "sgd"}, val=val[:1], state=("started",))
    write_legacy_run(exp, "legacy", {"lr": 0.01, "solver": "sgd"}, [{"loss": 0.75, "acc": 3}, {"loss": 0.5, "acc": 4}])
    with LogX().initialize(logdir=str(exp / "logx_tb"), hparams={"lr": 0.2}, tensorboard=True) as log:
        log.metric("val", {"loss": 0.25})
    old_tb = exp / "old_tb"  # a 0.0.11 run with TensorBoard on: scalars from tensorboardX, no hparams
    old_tb.mkdir()
    (old_tb / "hparams.json").write_text(json.dumps({"lr": 0.3}))
    from tensorboardX import SummaryWriter
    with SummaryWriter(str(old_tb)) as writer:
        writer.add_scalar("val/loss", 0.125, 0)

    before = files(exp)
    out = to_tensorboard(capsys, str(exp))
    assert out.startswith("TensorBoard data written for 5 of 6 runs (1 had it already); view them with: "
                          f"tensorboard --logdir {exp}"), out
    assert all(files(exp)[p] == data for p, data in before.items())  # nothing it did not write is touched
    new = sorted(p.relative_to(exp).parent.as_posix() for p in set(files(exp)) - set(before))
    assert new == ["done", "failed", "legacy", "old_tb", "tag/running"]
    assert all(p.name.endswith(".sumx") and "tfevents" in p.name for p in set(files(exp)) - set(before))

    assert read(exp / "done") == ({"val/loss": [(0, 1.0), (1, 0.5)], "val/acc": [(0, 0.5), (1, "nan")],
                                   "train/loss": [(0, 2.0)]},
                                  {"lr": 0.1, "solver": "sgd", "layers": "[2, 3]"}, "STATUS_SUCCESS")
    assert read(exp / "failed")[1:] == ({"lr": 1.0, "solver": "adam"}, "STATUS_FAILURE")
    assert read(exp / "tag/running") == ({"val/loss": [(0, 1.0)], "val/acc": [(0, 0.5)]},
                                         {"lr": 0.5, "solver": "sgd"}, None)
    assert read(exp / "legacy") == ({"val/loss": [(0, 0.75), (1, 0.5)], "val/acc": [(0, 3), (1, 4)]},
                                    {"lr": 0.01, "solver": "sgd"}, None)  # 0.0.11 recorded no status
    assert read(exp / "old_tb") == ({"val/loss": [(0, 0.125)]}, {"lr": 0.3}, None)  # its scalars are not doubled
    assert read(exp / "logx_tb") == ({"val/loss": [(0, 0.25)]}, {"lr": 0.2}, "STATUS_SUCCESS")

    after = files(exp)
    assert to_tensorboard(capsys, str(exp)).startswith("TensorBoard data written for 0 of 6 runs (6 had it already)")
    assert files(exp) == after  # idempotent: a second call writes nothing

    running = exp / "tag" / "running"  # the running run logs another epoch and finishes
    writer = MetricsWriter(str(running))
    writer.write("val", 1, {"loss": 0.25, "acc": 0.75})
    writer.close()
    with open(running / "status.log", "a") as f:
        f.write("finished 1700000200 exit=0\n")
    before = files(exp)
    assert to_tensorboard(capsys, str(exp)).startswith("TensorBoard data written for 1 of 6 runs")
    assert all(files(exp)[p] == data for p, data in before.items())
    assert read(running) == ({"val/loss": [(0, 1.0), (1, 0.25)], "val/acc": [(0, 0.5), (1, 0.75)]},
                             {"lr": 0.5, "solver": "sgd"}, "STATUS_SUCCESS")


def test_to_tensorboard_is_an_action_of_its_own(tmp_path, capsys):
    write_run(tmp_path / "sweep", "a", {"lr": 0.1}, val=[{"loss": 1.0}])
    for other in (["--json"], ["--csv", "x.csv"], ["--watch", "2"]):
        assert main([str(tmp_path / "sweep"), "--to-tensorboard", *other]) == 2
        err = capsys.readouterr().err
        assert "--to-tensorboard and " in err and "choose one" in err and len(err.splitlines()) == 2, err
    assert not os.path.exists(tmp_path / "x.csv")
    assert not [n for n in os.listdir(tmp_path / "sweep" / "a") if "tfevents" in n]
