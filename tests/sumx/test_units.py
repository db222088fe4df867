"""sumx's pieces on their own: the summary fast path, status parsing, the fan-out, formatting, goals, argv."""
from __future__ import annotations

import math
import os
import subprocess

import pytest
from conftest import write_run
from runx.logx.rundir.layout import SUMMARY_FILE
from runx.sumx import fanout, fanout_fork, reader
from runx.sumx.cli import parse_args
from runx.sumx.errors import SumxError
from runx.sumx.goals import default_goal
from runx.sumx.render import fmt_number, fmt_seconds


def test_the_summary_alone_agrees_with_folding_the_log(tmp_path):
    values = [{"loss": 3.0, "acc": 1, "odd": float("nan")}, {"loss": 1.0, "acc": 5, "odd": 2.0},
              {"loss": 2.0, "acc": 4, "odd": float("-inf")}]
    run = write_run(tmp_path, "r", {"x": 1}, values, train=[{"loss": 9.0}] * 3)
    fast = reader.read_val(str(run))
    assert fast is not None
    os.remove(run / SUMMARY_FILE)
    slow = reader.read_val(str(run))
    assert fast.epoch == slow.epoch == 2
    assert fast.epoch_seconds == pytest.approx(slow.epoch_seconds)
    for name in ("loss", "acc", "odd"):
        a, b = fast.metrics[name], slow.metrics[name]
        assert repr(a) == repr(b), name
    assert fast.metrics["loss"] == (2.0, 1.0, 3.0) and fast.metrics["odd"].last == -math.inf
    assert slow.notes == (reader.NOTE_NO_SUMMARY,) and fast.notes == ()


def test_the_state_column_reads_the_status_record(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    assert reader.read_status(str(run)) == (None, None)  # a runx 0.0.11 run has none
    (run / "status.log").write_text("queued 1700000000\nstarted 1700000001 host=a pid=7\nfinished 1700000009 exit=3\n")
    assert reader.read_status(str(run)) == ("failed", 3)
    host = os.uname().nodename
    dead = _a_dead_pid()
    (run / "status.log").write_text(f"queued 1700000000 submitter={host}:{os.getpid()}\n")
    assert reader.read_status(str(run)) == ("queued", None)  # its runx (this process) is still handing it over
    (run / "status.log").write_text(f"queued 1700000000 submitter={host}:{dead}\n")
    assert reader.read_status(str(run)) == ("failed", None)  # that runx is gone and the farm never had it
    (run / "status.log").write_text(f"queued 1700000000 submitter={host}:{dead}\nsubmitted 1700000001 job_id=4\n")
    assert reader.read_status(str(run)) == ("submitted", None)


def _a_dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


FANOUTS = pytest.mark.parametrize("fanout", [fanout, fanout_fork], ids=["multiprocessing", "fork"])


@FANOUTS
def test_fanout_gives_the_same_runs_in_the_same_order(tmp_path, monkeypatch, fanout):
    for i in range(12):
        write_run(tmp_path, f"r{i:02d}", {"i": i}, [{"acc": float(i)}])
    jobs = [("e", str(tmp_path), str(tmp_path / f"r{i:02d}")) for i in range(12)]
    sequential = [reader.load_run(*job) for job in jobs]
    monkeypatch.setattr(fanout, "MIN_PER_WORKER", 3)
    monkeypatch.setattr(fanout, "_workers", lambda n: 3)
    assert fanout.load_all(jobs, reader.load_run) == sequential


def _fake_run(experiment, exp_dir, run_dir):
    i = int(run_dir)
    if i % 7 == 0:
        return None  # not a run
    return reader.Run(experiment, run_dir, run_dir, {"i": i}, {"acc": reader.Metric(i / 3, 0.5, float("inf"))},
                      i, None, "running", None, ())


@FANOUTS
@pytest.mark.parametrize("workers, jobs", [(2, 1000), (3, 1000), (4, 130), (2, 3)])
def test_fanout_chunks_come_back_complete_and_in_order(monkeypatch, workers, jobs, fanout):
    work = [("e", "x", str(i)) for i in range(jobs)]
    monkeypatch.setattr(fanout, "_workers", lambda n: workers)
    assert fanout.load_all(work, _fake_run) == [_fake_run(*job) for job in work]


@FANOUTS
def test_fanout_falls_back_when_a_child_fails(tmp_path, monkeypatch, fanout):
    for i in range(6):
        write_run(tmp_path, f"r{i}", {"i": i}, [{"acc": float(i)}])
    jobs = [("e", str(tmp_path), str(tmp_path / f"r{i}")) for i in range(6)] + [("e", str(tmp_path), str(tmp_path))]
    parent = os.getpid()

    def load(*job):
        if os.getpid() != parent:
            raise RuntimeError("child trouble")
        return reader.load_run(*job)

    monkeypatch.setattr(fanout, "_workers", lambda n: 2)
    loaded = fanout.load_all(jobs, load)
    assert [r.name for r in loaded[:6]] == [f"r{i}" for i in range(6)] and loaded[6] is None  # not a run


@pytest.mark.parametrize("value, text", [
    (9.5, "9.5"), (100.0, "100"), (100, "100"), (0.123456, "0.1235"), (1234.5678, "1235"), (98765.4, "98765"),
    (0.0001234, "0.0001234"), (0.00001234, "1.234e-5"), (1e20, "1e20"), (0.0, "0"), (-2.5, "-2.5"),
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"), (None, ""), ("text", "text"),
])
def test_fmt_number(value, text):
    assert fmt_number(value) == text


def test_fmt_seconds():
    got = [fmt_seconds(s) for s in (None, 0, 0.04, 0.4, 9.96, 59.94, 59.96, 61, 3600, 3 * 3600 + 62)]
    assert got == ["", "0:00.0", "0:00.0", "0:00.4", "0:10.0", "0:59.9", "1:00", "1:01", "1:00:00", "3:01:02"]


@pytest.mark.parametrize("name, goal", [
    ("loss", "min"), ("val_loss", "min"), ("top1_error", "min"), ("top1err", "min"), ("wer", "min"), ("val/cer", "min"),
    ("ppl", "min"), ("perplexity", "min"), ("mse", "min"), ("rmse", "min"), ("MAE", "min"), ("nll", "min"),
    ("epoch_time", "min"), ("acc", "max"), ("top5", "max"), ("answer_acc", "max"), ("mIoU", "max"), ("bleu", "max"),
])
def test_default_goal(name, goal):
    assert default_goal(name) == goal


def test_argv_parsing():
    opts = parse_args(["a", "b", "--watch", "--filter", "x<1", "--filter=y=2", "-s", "acc", "--group", "seed"])
    assert opts.experiments == ["a", "b"] and opts.watch == 5.0 and opts.filter == ["x<1", "y=2"]
    assert opts.sortwith == "acc" and opts.group_by == "seed"
    assert parse_args(["a", "--watch", "2.5"]).watch == 2.5
    assert parse_args(["--watch", "1", "a"]).experiments == ["a"]
    with pytest.raises(SumxError, match="--watch a: expected a positive number of seconds"):
        parse_args(["--watch", "a"])  # argparse: --watch takes the word after it (write `sumx a --watch`)
    assert parse_args(["a", "--config", "f"]).config_file == "f" == parse_args(["a", "--config-file", "f"]).config_file
    assert parse_args(["a", "--group_by", "seed", "--format", "latex"]).group_by == "seed"
    assert parse_args(["--", "-odd-name"]).experiments == ["-odd-name"]
    for bad in (["a", "--g", "x"], ["a", "--json=1"], ["a", "--logroot"], ["a", "-x"]):
        with pytest.raises(SumxError):
            parse_args(bad)


def test_legacy_csv_with_quoted_fields_torn_tail_and_text_values(tmp_path):
    from runx.sumx.legacy import read_legacy

    path = tmp_path / "metrics.csv"
    path.write_bytes(b'start,start/step,0,timestamp,100.0\r\n'
                     b'val,loss,0.5,note,"a, b",epoch,0,timestamp,110.0\r\n'
                     b'val,loss,nan,note,"c",epoch,1,timestamp,120.0\r\n'
                     b'val,loss,0.2,epo')
    val = read_legacy(str(path))
    assert val.metrics["loss"].last != val.metrics["loss"].last  # nan, the last complete row
    assert (val.metrics["loss"].min, val.metrics["loss"].max) == (0.5, 0.5)
    assert val.metrics["note"] == ("c", None, None) and val.epoch == 1 and val.epoch_seconds == 10.0
    assert val.notes == (reader.NOTE_TORN,)


def test_large_and_odd_run_files(tmp_path):
    big = {f"key_{i}": "x" * 50 for i in range(400)}  # about 24 KB: more than one read
    run = write_run(tmp_path, "r", big, [{"acc": 1.0}])
    loaded = reader.load_run("e", str(tmp_path), str(run))
    assert loaded.hparams == big and loaded.notes == ()
    (run / "hparams.json").write_bytes(b"\xff\xfe not utf-8")
    assert reader.load_run("e", str(tmp_path), str(run)).notes == (reader.NOTE_BAD_HPARAMS,)
    (run / "metrics.summary.json").write_bytes(b"\xff")
    loaded = reader.load_run("e", str(tmp_path), str(run))
    assert loaded.metrics["acc"].last == 1.0 and reader.NOTE_NO_SUMMARY in loaded.notes


def test_read_bytes_reads_regular_files_only_and_never_blocks_on_a_fifo(tmp_path):
    from runx.logx.rundir.codec import read_bytes

    (tmp_path / "f").write_bytes(b"x" * 100_000)
    assert read_bytes(str(tmp_path / "f")) == b"x" * 100_000
    (tmp_path / "empty").write_bytes(b"")
    assert read_bytes(str(tmp_path / "empty")) == b""
    os.mkfifo(tmp_path / "fifo")  # no writer: a plain open() would wait for one forever
    assert read_bytes(str(tmp_path / "fifo")) is None
    assert read_bytes(str(tmp_path)) is None and read_bytes(str(tmp_path / "absent")) is None


def test_run_names_are_the_path_below_the_experiment(tmp_path):
    exp = tmp_path / "exp"
    runs = ("a", "tag/b", "tag/deeper/c", "d.e", ".hidden/f", "tag/../a", "tag/./b", "tag//b", "tag/")
    for exp_dir in (str(exp), os.path.relpath(exp), "/", "."):
        for run in runs:
            run_dir = os.path.join(exp_dir, *run.split("/"))
            assert reader.run_name(exp_dir, run_dir) == os.path.relpath(run_dir, exp_dir).replace(os.sep, "/")
    assert reader.run_name(str(exp) + "/", os.path.join(str(exp), "a")) == "a"


def test_a_trend_reads_only_the_sort_metrics_history(tmp_path):
    import json

    values = [{"loss": 3.0 - e / 50, "acc": e} for e in range(100)]
    run = write_run(tmp_path, "r", {"x": 1}, values)
    every = reader.load_run("e", str(tmp_path), str(run), history=True)
    acc = reader.load_run("e", str(tmp_path), str(run), history="acc")
    assert every is not None and acc is not None and every.history is not None
    assert set(every.history) == {"loss", "acc"} and acc.history == {"acc": every.history["acc"]}
    assert acc.metrics == every.metrics and not acc.notes
    # another metric's damaged history is neither read nor checked: the summary is still used, no note
    data = json.loads((run / SUMMARY_FILE).read_text())
    data["phases"]["val"]["metrics"]["loss"]["history"] = "not a list"
    (run / SUMMARY_FILE).write_text(json.dumps(data))
    acc = reader.load_run("e", str(tmp_path), str(run), history="acc")
    assert acc is not None and acc.history == {"acc": every.history["acc"]} and not acc.notes
    every = reader.load_run("e", str(tmp_path), str(run), history=True)
    assert every is not None and reader.NOTE_NO_SUMMARY in every.notes  # asked for, it is checked
    assert every.history is not None and every.history["acc"] == acc.history["acc"]


def test_without_sortwith_a_trend_reads_each_runs_first_loss_history(tmp_path):
    import json

    from runx.sumx.app import collect
    from runx.sumx.render import render_text
    from runx.sumx.table import build_table, sort_metric_history

    pick = sort_metric_history("val", None)
    assert pick("val", ["acc", "val_loss", "Loss"]) == "Loss" and pick("val", ["acc", "top5"]) is True
    assert pick("train", ["loss"]) is False and sort_metric_history("val", "acc")("val", ["loss", "acc"]) == "acc"
    exp = tmp_path / "e"
    for i in range(4):  # the last two log no loss: every history of theirs is read (goals could pick any)
        names = ("loss", "acc", "b_loss") if i < 2 else ("acc", "top5")
        write_run(exp, f"r{i}", {"x": i}, [{n: (e * (i + 1)) % 7 + len(n) for n in names} for e in range(40)],
                  train=[{"loss": 1.0}] * 40)
    run = reader.load_run("e", str(exp), str(exp / "r0"), history=pick)
    assert run is not None and run.history is not None and set(run.history) == {"b_loss"}
    other = reader.load_run("e", str(exp), str(exp / "r2"), history=pick)
    assert other is not None and other.history is not None and set(other.history) == {"acc", "top5"}
    for style in ("unicode", "ascii"):  # the same table as drawing every history
        tables = []
        for history in (pick, True):
            experiments, runs, goals, _ = collect(["e"], str(tmp_path), "val", history, style)
            assert all(r.history is None and r.trends for r in runs)  # drawn where read: only the sparklines kept
            tables.append(render_text(build_table(runs, experiments, recorded=goals), style))
        assert tables[0] == tables[1] and "b_loss-trend" in tables[0]
    data = json.loads((exp / "r0" / SUMMARY_FILE).read_text())
    data["phases"]["val"]["metrics"]["acc"]["history"] = "not a list"  # not read, so not checked
    (exp / "r0" / SUMMARY_FILE).write_text(json.dumps(data))
    assert reader.load_run("e", str(exp), str(exp / "r0"), history=pick) == run
