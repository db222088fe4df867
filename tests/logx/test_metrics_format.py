"""The metrics format: typed values, torn lines, summaries that cover the log, when records reach the OS."""
from __future__ import annotations

import json
import math
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runx.logx import LogxError
from runx.logx.rundir.layout import METRICS_FILE, SUMMARY_FILE
from runx.logx.rundir.records import read_records
from runx.logx.rundir.summary import FORMAT_VERSION, SUMMARY_VERSION, RunSummary, summarize
from runx.logx.rundir.writer import MetricsWriter


def write_run(run_dir, n=5):
    writer = MetricsWriter(str(run_dir))
    for step in range(n):
        writer.write("train", step, {"loss": 1.0 / (step + 1)})
        writer.write("val", step, {"loss": 2.0 / (step + 1), "acc": step * 10, "odd": [math.nan, math.inf, -math.inf][step % 3]})
    writer.close()


def strict_lines(path):
    """Parse every line as strict JSON (no NaN/Infinity constants)."""
    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")
    return [json.loads(line, parse_constant=reject) for line in path.read_text(encoding="utf-8").splitlines()]


def test_file_layout_header_starts_and_records(tmp_path):
    write_run(tmp_path, 2)
    lines = strict_lines(tmp_path / METRICS_FILE)
    assert lines[0]["runx_metrics"] == FORMAT_VERSION and isinstance(lines[0]["time"], float)
    assert lines[1]["event"] == "start" and lines[1]["time"] >= lines[0]["time"]
    records = lines[2:]
    assert [(r["phase"], r["step"]) for r in records] == [("train", 0), ("val", 0), ("train", 1), ("val", 1)]
    assert all(set(r) == {"phase", "step", "time", "metrics"} for r in records)
    assert records[1]["metrics"] == {"loss": 2.0, "acc": 0, "odd": "nan"}
    assert type(records[1]["metrics"]["acc"]) is int
    summary = json.loads((tmp_path / SUMMARY_FILE).read_text())
    assert summary["runx_metrics_summary"] == SUMMARY_VERSION == 3
    assert summary["log_bytes"] == os.path.getsize(tmp_path / METRICS_FILE)


def test_values_are_typed_and_non_finite_survive(tmp_path):
    write_run(tmp_path)
    strict_lines(tmp_path / METRICS_FILE)
    vals = [r for r in read_records(str(tmp_path / METRICS_FILE)).records if r.get("phase") == "val"]
    assert [r["metrics"]["acc"] for r in vals] == [0, 10, 20, 30, 40]
    assert [r["metrics"]["odd"] for r in vals] == ["nan", "inf", "-inf", "nan", "inf"]
    summary = summarize(str(tmp_path))
    assert isinstance(summary, RunSummary)
    val = summary.phases["val"]
    assert val.count == 5 and val.last_step == 4
    assert val.metrics["loss"].min == pytest.approx(0.4) and val.metrics["loss"].min_step == 4
    assert val.metrics["loss"].max == 2.0 and val.metrics["loss"].max_step == 0
    assert val.metrics["acc"].max == 40 and val.metrics["acc"].count == 5
    odd = val.metrics["odd"]
    assert odd.last == math.inf and odd.last_step == 4
    assert (odd.min, odd.min_step, odd.max, odd.max_step) == (-math.inf, 2, math.inf, 1)  # NaN ignored
    assert summary.phases["train"].count == 5 and summary.records == 10
    assert summary.summary_used and not summary.torn
    assert summary.start_time <= summary.first_time <= summary.last_time


def test_a_metric_that_is_only_nan(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 0, {"x": math.nan})
    writer.write("val", 1, {"x": math.nan})
    writer.close()
    for used in (True, False):
        if not used:
            os.remove(tmp_path / SUMMARY_FILE)
        m = summarize(str(tmp_path)).phases["val"].metrics["x"]
        assert math.isnan(m.last) and math.isnan(m.min) and math.isnan(m.max) and m.min_step is None and m.count == 2


def test_numbers_from_numpy_and_errors_name_the_metric(tmp_path, requires):
    writer = MetricsWriter(str(tmp_path))
    with pytest.raises(LogxError, match="metric 'acc'"):
        writer.write("val", 0, {"acc": "high"})
    with pytest.raises(LogxError, match="metric 'acc'"):
        writer.write("val", 0, {"acc": [1.0]})
    with pytest.raises(LogxError, match="step"):
        writer.write("val", 2.5, {"acc": 1.0})
    writer.write("val", 3.0, {"flag": True})
    requires("numpy")
    import numpy as np

    got = writer.write("val", np.int64(4), {"a": np.float32(0.5), "b": np.int64(3), "c": np.float64("nan"), "d": np.array(2.0)})
    assert type(got["a"]) is float and type(got["b"]) is int and math.isnan(got["c"]) and got["d"] == 2.0
    writer.close()
    records = [r for r in read_records(str(tmp_path / METRICS_FILE)).records if "phase" in r]
    assert [(r["step"], r["metrics"]) for r in records] == [(3, {"flag": 1}), (4, {"a": 0.5, "b": 3, "c": "nan", "d": 2.0})]


def test_truncating_the_last_record_at_every_offset(tmp_path):
    write_run(tmp_path, 3)
    path = tmp_path / METRICS_FILE
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    full = read_records(str(path)).records
    assert full[-1]["phase"] == "val"
    for cut in range(last_start, len(data)):
        path.write_bytes(data[:cut])
        result = read_records(str(path))
        assert result.records == full[:-1], cut
        assert result.torn == (cut > last_start), cut
        assert result.end_offset == last_start and result.skipped == 0, cut
        summary = summarize(str(tmp_path))  # the summary claims more bytes than there are: whole-log fallback
        assert not summary.summary_used and summary.phases["val"].count == 2 and summary.torn == (cut > last_start)
    path.write_bytes(data)
    assert read_records(str(path)).records == full


def test_a_corrupt_line_in_the_middle_is_skipped(tmp_path):
    write_run(tmp_path, 3)
    path = tmp_path / METRICS_FILE
    lines = path.read_bytes().split(b"\n")
    lines[3] = b"\x00" * len(lines[3])  # what a crashed NFS client can leave
    path.write_bytes(b"\n".join(lines))
    os.remove(tmp_path / SUMMARY_FILE)
    result = read_records(str(path))
    assert result.torn and result.skipped == 1 and len(result.records) == len(lines) - 2
    summary = summarize(str(tmp_path))
    assert summary.torn and summary.records == 5


def test_read_from_an_offset_returns_only_the_tail(tmp_path):
    write_run(tmp_path, 2)
    path = str(tmp_path / METRICS_FILE)
    first = read_records(path)
    with open(path, "a") as f:
        f.write('{"phase":"val","step":9,"time":1.0,"metrics":{"loss":0.01}}\n{"phase":"val","st')
    tail = read_records(path, first.end_offset)
    assert [r["step"] for r in tail.records] == [9] and tail.torn
    assert tail.end_offset == os.path.getsize(path) - len('{"phase":"val","st')


def test_summary_reads_only_the_tail_and_falls_back(tmp_path):
    write_run(tmp_path, 4)
    with open(tmp_path / METRICS_FILE, "a") as f:
        f.write('{"phase":"val","step":9,"time":1.0,"metrics":{"loss":0.01}}\n')
    summary = summarize(str(tmp_path))
    assert summary.summary_used and summary.phases["val"].last_step == 9
    assert summary.phases["val"].metrics["loss"].min == 0.01 and summary.phases["val"].metrics["loss"].min_step == 9

    # proof that only the tail is read: a summary with a made-up value is believed for what it covers
    data = json.loads((tmp_path / SUMMARY_FILE).read_text())
    data["phases"]["val"]["metrics"]["acc"]["max"] = 1234
    (tmp_path / SUMMARY_FILE).write_text(json.dumps(data))
    assert summarize(str(tmp_path)).phases["val"].metrics["acc"].max == 1234

    for broken in ("{corrupt", json.dumps({**data, "log_bytes": 10 ** 9}), json.dumps({**data, "log_bytes": 7}),
                   json.dumps({**data, "runx_metrics_summary": 99}), json.dumps({**data, "phases": []})):
        (tmp_path / SUMMARY_FILE).write_text(broken)
        fallback = summarize(str(tmp_path))
        # repr: the summaries hold NaN, which equals nothing, itself included, unless it is the same object
        assert not fallback.summary_used and repr(fallback.phases) == repr(summary.phases), broken
    os.remove(tmp_path / SUMMARY_FILE)
    assert repr(summarize(str(tmp_path)).phases) == repr(summary.phases)


def test_no_log_no_summary(tmp_path):
    assert summarize(str(tmp_path)) is None
    assert summarize(str(tmp_path / "missing")) is None


def test_resume_after_a_torn_line_keeps_everything(tmp_path):
    write_run(tmp_path, 2)
    with open(tmp_path / METRICS_FILE, "a") as f:
        f.write('{"phase":"val","st')
    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 7, {"loss": 0.5})
    writer.close()
    records = read_records(str(tmp_path / METRICS_FILE)).records
    assert [r["step"] for r in records if r.get("phase") == "val"] == [0, 1, 7]
    assert sum(1 for r in records if r.get("event") == "start") == 2
    with_summary = summarize(str(tmp_path))
    os.remove(tmp_path / SUMMARY_FILE)
    whole_log = summarize(str(tmp_path))
    assert with_summary.summary_used and not whole_log.summary_used
    assert _plain(with_summary.phases) == _plain(whole_log.phases) and with_summary.records == whole_log.records == 5
    assert with_summary.phases["val"].count == 3 and with_summary.torn and whole_log.torn  # the torn line is remembered


def test_val_records_reach_the_os_before_write_returns(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 0, {"loss": 1.5})
    assert read_records(str(tmp_path / METRICS_FILE)).records[-1]["metrics"] == {"loss": 1.5}
    writer.close()


def test_train_records_reach_the_os_within_a_second_without_further_calls(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    writer.write("train", 0, {"loss": 1.0})
    writer.write("train", 1, {"loss": 0.9})
    path = str(tmp_path / METRICS_FILE)
    deadline = time.time() + 3
    while time.time() < deadline:
        steps = [r["step"] for r in read_records(path).records if r.get("phase") == "train"]
        if steps == [0, 1]:
            break
        time.sleep(0.05)
    assert steps == [0, 1]
    assert time.time() < deadline - 1.5  # well within the promised second (plus scheduling slack)
    writer.close()


def test_summary_is_refreshed_about_once_a_second_while_running(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 0, {"loss": 1.0})
    time.sleep(1.1)
    writer.write("val", 1, {"loss": 0.5})
    data = json.loads((tmp_path / SUMMARY_FILE).read_text())
    assert data["phases"]["val"]["last_step"] == 1 and data["log_bytes"] == os.path.getsize(tmp_path / METRICS_FILE)
    writer.write("val", 2, {"loss": 0.25})  # too soon for another summary
    assert json.loads((tmp_path / SUMMARY_FILE).read_text())["phases"]["val"]["last_step"] == 1
    writer.close()
    assert json.loads((tmp_path / SUMMARY_FILE).read_text())["phases"]["val"]["last_step"] == 2


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
value = st.one_of(finite, st.integers(-10 ** 12, 10 ** 12), st.sampled_from([math.nan, math.inf, -math.inf]))
record = st.tuples(st.sampled_from(["train", "val"]), st.integers(0, 10 ** 6),
                   st.dictionaries(st.sampled_from(["loss", "acc", "ü/名", 'q"uote']), value, max_size=3))
session = st.lists(record, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sessions=st.lists(session, min_size=1, max_size=4))
def test_summary_equals_the_whole_log_and_a_plain_fold(tmp_path_factory, sessions):
    run = tmp_path_factory.mktemp("run")
    expected: dict = {}
    for records in sessions:  # each session is one writer (an initialize, a resume)
        writer = MetricsWriter(str(run))
        for phase, step, metrics in records:
            writer.write(phase, step, metrics)
            for name, v in metrics.items():
                expected.setdefault((phase, name), []).append((step, v))
        writer.close()
    lines = strict_lines(run / METRICS_FILE)
    assert sum(1 for r in lines if r.get("event") == "start") == len(sessions)
    fast = summarize(str(run))
    os.remove(run / SUMMARY_FILE)
    slow = summarize(str(run))
    assert fast.summary_used and not slow.summary_used
    assert _plain(fast.phases) == _plain(slow.phases)
    assert (fast.records, fast.first_time, fast.last_time, fast.start_time) == (slow.records, slow.first_time, slow.last_time, slow.start_time)
    for (phase, name), seq in expected.items():
        m = fast.phases[phase].metrics[name]
        assert m.count == len(seq) and m.last_step == seq[-1][0]
        assert m.last == seq[-1][1] or (math.isnan(m.last) and math.isnan(seq[-1][1]))
        real = [(v, s) for s, v in seq if v == v]
        if real:
            lo = min(v for v, _ in real)
            hi = max(v for v, _ in real)
            assert (m.min, m.min_step) == (lo, next(s for v, s in real if v == lo))
            assert (m.max, m.max_step) == (hi, next(s for v, s in real if v == hi))
        else:
            assert math.isnan(m.min) and math.isnan(m.max)


def _plain(phases) -> str:
    """Phases as JSON text, so that NaN compares equal to NaN."""
    return json.dumps({k: {**v._asdict(), "metrics": {n: m._asdict() for n, m in v.metrics.items()}}
                       for k, v in phases.items()}, sort_keys=True)
