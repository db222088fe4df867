"""runx.logx.rundir, module by module: layout, atomic writes, the value codec, the one summary fold and reader,
the status fold and the config/LOGROOT resolution."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runx.logx import LogxError
from runx.logx.rundir import atomic, config, layout
from runx.logx.rundir.codec import decode_value, encode_value, json_number, read_json, to_step
from runx.logx.rundir.records import read_records
from runx.logx.rundir.status import RunStatus, fold_status, settled_state
from runx.logx.rundir.summary import (
    HISTORY_POINTS,
    TREND_POINTS,
    SummaryState,
    fold_log,
    history_of,
    run_summary,
    state_from_json,
    summarize,
    trend_indices,
    trend_of,
)
from runx.logx.rundir.writer import MetricsWriter

# --- layout ---------------------------------------------------------------------------------------


def test_layout_names_and_predicates():
    assert layout.checkpoint_name("last", 3) == "last_checkpoint_ep3.pth"
    assert layout.checkpoint_epoch(layout.checkpoint_name("best", -1), "best") == -1
    assert layout.checkpoint_epoch(layout.checkpoint_name("best", 3), "last") is None
    assert layout.is_checkpoint("last_checkpoint_ep12.pth") and not layout.is_checkpoint("last_checkpoint_ep1.pth.tmp")
    with pytest.raises(ValueError):
        layout.checkpoint_name("other", 1)
    tmp = layout.temporary_name("/a/b/run.json")
    assert os.path.dirname(tmp) == "/a/b" and layout.is_temporary(os.path.basename(tmp))
    assert not layout.is_temporary("run.json") and not layout.is_temporary(".hidden")
    assert layout.not_searched("code") and layout.not_searched(".git") and not layout.not_searched("run_1")


# --- atomic -----------------------------------------------------------------------------------------


def test_write_json_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "run.json"
    atomic.write_json(str(path), {"a": [1, 2.5, "x"], "nan": math.nan})
    atomic.write_json(str(path), {"b": 1})
    assert json.loads(path.read_text()) == {"b": 1} and path.read_text().endswith("\n")
    with pytest.raises(TypeError):
        atomic.write_json(str(path), {"c": object()}, default=None)  # fails before anything is written
    with pytest.raises(ValueError):
        atomic.write_json(str(path), {"c": math.inf}, allow_nan=False)
    assert os.listdir(tmp_path) == ["run.json"] and json.loads(path.read_text()) == {"b": 1}


def test_a_failing_write_removes_its_temporary_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("old")
    (tmp_path / "sub").mkdir()
    with pytest.raises(OSError):
        atomic.write_text(str(tmp_path / "sub"), "new")  # a rename over a directory fails
    assert sorted(os.listdir(tmp_path)) == ["sub", "x.json"] and path.read_text() == "old"


WRITER = """
import sys
from runx.logx.rundir import atomic
path, a, b = sys.argv[1], b"A" * 2_000_000, b"B" * 3_000_000
print("ready", flush=True)
while True:
    atomic.write_bytes(path, a)
    atomic.write_bytes(path, b)
"""


def test_readers_and_a_kill_never_see_a_partial_file(tmp_path):
    path = tmp_path / "summary"
    path.write_bytes(b"A" * 2_000_000)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "ready\n"
        seen = set()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline or len(seen) < 2:
            data = path.read_bytes()
            assert data in (b"A" * 2_000_000, b"B" * 3_000_000)
            seen.add(data[:1])
            if time.monotonic() > deadline + 20:
                break
        assert seen == {b"A", b"B"}
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert path.read_bytes() in (b"A" * 2_000_000, b"B" * 3_000_000)
    leftovers = [n for n in os.listdir(tmp_path) if n != "summary"]
    assert all(layout.is_temporary(n) for n in leftovers)  # at most the killed write's hidden temporary


# --- codec --------------------------------------------------------------------------------------------

numbers_ = st.one_of(st.floats(width=64), st.integers(-(10 ** 30), 10 ** 30))


def same(a, b) -> bool:
    return (a != a and b != b) or (a == b and type(a) is type(b))


@settings(max_examples=500, deadline=None)
@given(numbers_)
def test_codec_round_trip_through_strict_json(value):
    text = json.dumps(encode_value(value), allow_nan=False)
    assert same(decode_value(json.loads(text)), value)
    assert same(decode_value(json.loads(json_number(value))), value)


@pytest.mark.parametrize("bad", [True, None, "x", "NaN", [1], {"a": 1}, "1.0"])
def test_decode_rejects_what_is_not_a_stored_number(bad):
    with pytest.raises(ValueError):
        decode_value(bad)


def test_decode_accepts_what_json_reads_as_non_finite():
    assert decode_value(json.loads("1e400")) == math.inf and math.isnan(decode_value(json.loads("NaN")))


def test_to_step():
    assert to_step(3) == 3 and to_step(4.0) == 4 and to_step(True) == 1
    for bad in (1.5, "3", None, math.nan, math.inf):
        with pytest.raises(LogxError):
            to_step(bad)


def test_read_records_keeps_its_old_import_from_codec_with_a_warning():
    from runx.logx.rundir import codec, records

    with pytest.warns(DeprecationWarning, match="moved to runx.logx.rundir.records"):
        assert codec.read_records is records.read_records
    with pytest.raises(AttributeError):
        codec.no_such_name  # noqa: B018


def test_read_records_skips_torn_and_corrupt_lines(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"a":1}\n[1]\nnot json\n\xff\xfe\n' + b"[" * 100000 + b'\n{"b":2}\n{"c":')
    result = read_records(str(path))
    assert result.records == [{"a": 1}, {"b": 2}] and result.torn and result.skipped == 4
    assert result.end_offset == path.stat().st_size - len(b'{"c":')
    assert read_records(str(path), result.end_offset).records == []


def test_read_json_never_raises(tmp_path):
    assert read_json(str(tmp_path / "absent")) == (None, False)
    assert read_json(str(tmp_path)) == (None, False)  # a directory
    for raw in (b"\xff", b"[" * 100000, b"{", b""):
        (tmp_path / "f").write_bytes(raw)
        assert read_json(str(tmp_path / "f")) == (None, True)
    (tmp_path / "f").write_bytes(b'{"a": NaN}')
    value, present = read_json(str(tmp_path / "f"))
    assert present and math.isnan(value["a"])


# --- summary: the fold against a plain reference ----------------------------------------------------------


def reference_fold(records) -> dict:
    """The summary, folded one record at a time the obvious way (the spec in docs/metrics-format.md)."""
    out = {"records": 0, "start_time": None, "first_time": None, "last_time": None, "phases": {}}
    for r in records:
        t = r.get("time") if isinstance(r, dict) else None
        if not (type(t) in (int, float) and math.isfinite(t)):
            continue
        if r.get("event") == "start":
            if out["start_time"] is None:
                out["start_time"] = t
            continue
        phase, step, metrics = r.get("phase"), r.get("step"), r.get("metrics")
        if not isinstance(phase, str) or type(step) is not int or not isinstance(metrics, dict):
            continue
        try:
            values = {k: decode_value(v) for k, v in metrics.items()}
        except ValueError:
            continue
        out["records"] += 1
        out["first_time"] = t if out["first_time"] is None else out["first_time"]
        out["last_time"] = t
        p = out["phases"].setdefault(phase, {"count": 0, "last_step": step, "first_time": t, "last_time": t, "metrics": {}})
        p["count"] += 1
        p["last_step"], p["last_time"] = step, t
        for k, v in values.items():
            m = p["metrics"].setdefault(k, {"last": v, "last_step": step, "min": None, "min_step": None,
                                            "max": None, "max_step": None, "count": 0})
            m["last"], m["last_step"], m["count"] = v, step, m["count"] + 1
            m.setdefault("points", []).append((step, v))
            if v == v:
                if m["min"] is None or v < m["min"]:
                    m["min"], m["min_step"] = v, step
                if m["max"] is None or v > m["max"]:
                    m["max"], m["max_step"] = v, step
    for p in out["phases"].values():
        for m in p["metrics"].values():
            points = m.pop("points")
            stride = 1
            while -(-len(points) // stride) > HISTORY_POINTS - 1:
                stride *= 2
            m["history_stride"] = stride
            m["history"] = [[s, encode_value(v)] for s, v in history_of(points)]
            m["trend"] = [v for _, v in reference_trend(m["history"])]
            for key in ("last", "min", "max"):
                if m[key] is not None:
                    m[key] = encode_value(m[key])
    return out


def reference_trend(points: list) -> list:
    """The plain definition of a trend: 16 of the points, evenly spaced, the first and the last included (all of
    them when there are at most 16)."""
    n = len(points)
    return points if n <= TREND_POINTS else [points[round(i * (n - 1) / (TREND_POINTS - 1))] for i in range(TREND_POINTS)]


def folded(state: SummaryState) -> dict:
    """The summary file's content, each history and trend (stored as JSON texts) decoded."""
    data = state.to_json(0)
    for p in data["phases"].values():
        for m in p["metrics"].values():
            if "history" in m:
                m["history"] = json.loads(m["history"])
                m["trend"] = json.loads(m["trend"])
    return {k: data[k] for k in ("records", "start_time", "first_time", "last_time", "phases")}


values_ = st.one_of(numbers_, st.sampled_from(["nan", "inf", "-inf", "x", None, True, [1]]))
records_ = st.lists(st.one_of(
    st.fixed_dictionaries({"phase": st.sampled_from(["train", "val", 3]), "step": st.one_of(st.integers(0, 50), st.just(1.5)),
                           "time": st.one_of(st.floats(0, 2e9), st.just(math.inf), st.just("x"), st.just(True)),
                           "metrics": st.dictionaries(st.sampled_from(["a", "b", "c"]), values_, max_size=3)}),
    st.fixed_dictionaries({"event": st.just("start"), "time": st.floats(0, 2e9)}),
    st.just([1]), st.just({"time": 1.0}),
), max_size=40)


@settings(max_examples=400, deadline=None)
@given(records_)
def test_the_fold_equals_the_plain_reference(records):
    state = SummaryState()
    state.fold_records(records)
    assert json.dumps(folded(state), sort_keys=True) == json.dumps(reference_fold(records), sort_keys=True)


@settings(max_examples=200, deadline=None)
@given(records_)
def test_summary_file_round_trip(records):
    state = SummaryState()
    state.fold_records(records)
    data = json.loads(json.dumps(state.to_json(7), allow_nan=False))
    assert state_from_json(data).to_json(7) == data


def write_log(run_dir, records, cut: int):
    """A log of `records` whose summary covers the first `cut` of them."""
    lines = [json.dumps({"runx_metrics": 1, "time": 1.0}).encode() + b"\n"]
    lines += [json.dumps(r, allow_nan=False).encode() + b"\n" for r in records]
    (run_dir / layout.METRICS_FILE).write_bytes(b"".join(lines))
    state = SummaryState()
    state.fold_records(records[:cut])
    (run_dir / layout.SUMMARY_FILE).write_text(json.dumps(state.to_json(len(b"".join(lines[:cut + 1]))), allow_nan=False))


finite_records = st.lists(st.fixed_dictionaries({
    "phase": st.sampled_from(["train", "val"]), "step": st.integers(0, 20), "time": st.floats(0, 2e9),
    "metrics": st.dictionaries(st.sampled_from(["a", "b"]), st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                                                                      st.sampled_from(["nan", "inf"])), max_size=2)}),
    min_size=1, max_size=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(finite_records, st.integers(0, 20))
def test_summary_plus_tail_equals_folding_the_whole_log(tmp_path, records, cut):
    cut = min(cut, len(records))
    write_log(tmp_path, records, cut)
    summary = summarize(str(tmp_path))
    assert summary.summary_used
    whole = SummaryState()
    whole.fold_records(records)
    state, _, used = fold_log(str(tmp_path), history=True)
    assert used and json.dumps(folded(state)) == json.dumps(folded(whole))


HOSTILE = [("records", 1e999), ("records", "x"), ("records", -1), ("start_time", "x"), ("first_time", math.inf),
           ("last_time", math.nan), ("log_bytes", 1e400), ("skipped_lines", True), ("phases", [1]), ("phases", {"val": 1})]


@pytest.mark.parametrize("key, bad", HOSTILE)
def test_a_summary_that_fails_validation_is_ignored_and_the_log_refolded(tmp_path, key, bad):
    records = [{"phase": "val", "step": s, "time": 10.0 + s, "metrics": {"acc": s}} for s in range(3)]
    write_log(tmp_path, records, 3)
    data = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())
    data[key] = bad
    (tmp_path / layout.SUMMARY_FILE).write_text(json.dumps(data))  # NaN and Infinity as JSON's constants
    summary = summarize(str(tmp_path))
    assert not summary.summary_used and summary.records == 3 and summary.phases["val"].metrics["acc"].max == 2


@pytest.mark.parametrize("field, bad", [("last", "x"), ("min", [1]), ("count", 1.5), ("last_step", None), ("max_step", "1")])
def test_a_bad_metric_in_the_summary_is_caught_too(field, bad):
    state = SummaryState()
    state.fold_records([{"phase": "val", "step": 1, "time": 1.0, "metrics": {"acc": 0.5}}])
    data = state.to_json(0)
    data["phases"]["val"]["metrics"]["acc"][field] = bad
    with pytest.raises(ValueError, match=field):
        state_from_json(data)


def test_the_writer_folds_what_the_reader_folds(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    for step in range(30):
        writer.write("train", step, {"loss": 1.0 / (step + 1), "odd": [math.nan, math.inf, 2][step % 3]})
        if step % 5 == 0:
            writer.write("val", step // 5, {"acc": step})
    writer.close()
    written = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())
    os.remove(tmp_path / layout.SUMMARY_FILE)
    state, _, used = fold_log(str(tmp_path))
    assert not used and state.to_json(written["log_bytes"]) == written


# --- status -----------------------------------------------------------------------------------------------------


def test_status_fold_takes_no_huge_pid():
    status = fold_status("queued 100\nstarted 101 host=h pid=99999999999999999999999\n")
    assert status == RunStatus("running", None, 100.0, 101.0, None, None, "h", 1, None, None)


def test_settled_state_of_a_local_run_whose_processes_are_gone():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = os.uname().nodename
    queued = RunStatus("queued", launcher=f"{here}:{dead.pid}")
    running = RunStatus("running", started=1.0, host=here, pid=dead.pid, launcher=f"{here}:{os.getpid()}")
    assert settled_state(queued) == "cancelled" and settled_state(running) == "failed"
    assert settled_state(queued._replace(launcher=f"{here}:{os.getpid()}")) == "queued"
    assert settled_state(RunStatus("running", host=here, pid=dead.pid)) == "running"  # not local: left to its farm


# --- config --------------------------------------------------------------------------------------------------------


def test_config_lookup_order(tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    (home / ".config").mkdir(parents=True)
    cwd.mkdir()
    assert config.locate_config(None, str(cwd), str(home)) is None
    (home / ".config" / "runx.yml").write_text("LOGROOT: u\n")
    assert config.locate_config(None, str(cwd), str(home)) == str(home / ".config" / "runx.yml")
    (cwd / ".runx").write_text("LOGROOT: c\n")
    assert config.locate_config(None, str(cwd), str(home)) == str(cwd / ".runx")
    assert config.locate_config(str(home / ".config" / "runx.yml")) == str(home / ".config" / "runx.yml")
    with pytest.raises(LogxError, match="missing.yml: config file given with -c does not exist"):
        config.locate_config(str(tmp_path / "missing.yml"))
    with pytest.raises(LogxError, match="is a directory"):
        config.locate_config(str(tmp_path))


def test_logroot_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RUNX_TEST_ROOT", "/data")
    source = str(tmp_path / "proj" / ".runx")
    here = os.path.realpath(tmp_path / "proj")
    assert config.resolve_logroot("$HOME/x", source) == str(tmp_path / "home" / "x")
    assert config.resolve_logroot("~/x", source) == str(tmp_path / "home" / "x")
    assert config.resolve_logroot("${RUNX_TEST_ROOT}/a/../b", source) == "/data/b"
    assert config.resolve_logroot("logs", source) == os.path.join(here, "logs")
    assert config.resolve_logroot("../logs/", source) == os.path.join(os.path.dirname(here), "logs")
    for bad, message in (("$RUNX_NOT_SET_ANYWHERE/x", r"\$RUNX_NOT_SET_ANYWHERE is not set"), ("", "expected a directory"),
                         (3, "expected a directory"), (None, "expected a directory")):
        with pytest.raises(LogxError, match=message):
            config.resolve_logroot(bad, source)


@pytest.mark.parametrize("text, message", [("LOGROOT: [1\n", "not valid YAML"), ("- a\n", "expected a mapping"),
                                           ("FARM: x\n", "LOGROOT: missing"), ("LOGROOT: 5\n", "expected a directory path")])
def test_read_logroot_names_the_file_and_the_problem(tmp_path, text, message):
    pytest.importorskip("yaml")  # .runx is YAML: present everywhere but the logx-slim env, which has no PyYAML
    path = tmp_path / ".runx"
    path.write_text(text)
    with pytest.raises(LogxError, match=message) as err:
        config.read_logroot(str(path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


# --- summary: the bounded history -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 700), st.lists(st.integers(1, 90), min_size=1, max_size=30), st.booleans())
def test_history_is_bounded_even_and_ends_exact_however_the_writes_are_batched(n, batches, round_trip):
    """Folding n records in batches of any size (through the summary file between batches, or not) gives
    history_of: at most 64 points, the first record, every stride-th after it, the latest record last."""
    points = [(step * 3, float(step) if step % 7 else "nan") for step in range(n)]
    state, done, i = SummaryState(), 0, 0
    while done < n:
        size = batches[i % len(batches)]
        chunk = points[done:done + size]
        state.fold("val", ["m"], [(s, decode_value(v)) for s, v in chunk], 1.0, 2.0)
        if round_trip:
            state = state_from_json(json.loads(json.dumps(state.to_json(0), allow_nan=False)))
        done, i = done + len(chunk), i + 1
    data = state.to_json(0)["phases"]["val"]["metrics"]["m"]
    expected = history_of(points)
    assert json.loads(data["history"]) == [[s, v] for s, v in expected]
    assert len(expected) <= HISTORY_POINTS and expected[0] == points[0] and expected[-1] == points[-1]
    stride = data["history_stride"]
    assert [s for s, _ in expected[:-1]] == [s for s, _ in points[::stride]][:len(expected) - 1]
    assert n <= HISTORY_POINTS or len(expected) >= HISTORY_POINTS // 2  # thinned, not starved
    summary = run_summary(state, False, True, history=True).phases["val"].metrics["m"]
    assert [(s, encode_value(v)) for s, v in summary.history] == expected


def test_a_version_1_summary_is_read_and_its_history_refolded_from_the_log(tmp_path):
    records = [{"phase": "val", "step": s, "time": 10.0 + s, "metrics": {"acc": s / 10}} for s in range(200)]
    write_log(tmp_path, records, 200)
    data = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())
    assert data["runx_metrics_summary"] == 3
    data["runx_metrics_summary"] = 1
    for m in data["phases"]["val"]["metrics"].values():
        del m["history"], m["history_stride"]
    (tmp_path / layout.SUMMARY_FILE).write_text(json.dumps(data))
    table = summarize(str(tmp_path))  # a table needs no history: the old summary serves as it is
    assert table.summary_used and table.phases["val"].metrics["acc"].max == 19.9
    assert table.phases["val"].metrics["acc"].history is None
    pictured = summarize(str(tmp_path), history=True)  # a picture does: the log is refolded
    assert not pictured.summary_used
    history = pictured.phases["val"].metrics["acc"].history
    assert history == history_of([(s, s / 10) for s in range(200)]) and len(history) <= HISTORY_POINTS
    writer = MetricsWriter(str(tmp_path))  # a resumed writer writes version 3 with the whole history
    writer.write("val", 200, {"acc": 0.5})
    writer.close()
    data = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())
    assert data["runx_metrics_summary"] == 3
    assert json.loads(data["phases"]["val"]["metrics"]["acc"]["history"]) == [
        [s, v] for s, v in history_of([(s, s / 10) for s in range(200)] + [(200, 0.5)])]


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("field, bad", [("history", "x"), ("history", [[1, 2, 3]]), ("history", [["1", 2]]),
                                        ("history", [[0, "x"]]), ("history", [[0, 1.0], [5, 2.0]]),
                                        ("history", {"a": 1}), ("history", "[[0, 0.5]"), ("history", "[" * 100_000),
                                        ("history_stride", 3), ("history_stride", 0), ("history_stride", None)])
def test_a_bad_history_is_caught_and_only_when_asked_for(tmp_path, field, bad, version):
    """Version 2 stores each history as a list, version 3 as the JSON text of that list: the same checks hold."""
    state = SummaryState()
    state.fold_records([{"phase": "val", "step": s, "time": 1.0, "metrics": {"acc": 0.5}} for s in range(3)])
    data = state.to_json(0)
    if version == 2:
        data["runx_metrics_summary"] = 2
        for m in data["phases"]["val"]["metrics"].values():
            m["history"] = json.loads(m["history"])
        assert state_from_json(data).phases["val"].metrics["acc"].history() == [(0, 0.5), (1, 0.5), (2, 0.5)]
    elif field == "history" and isinstance(bad, list):
        bad = json.dumps(bad)  # the same bad content, as version 3 stores it
    data["phases"]["val"]["metrics"]["acc"][field] = bad
    with pytest.raises(ValueError, match=f"phases.val.metrics.acc.{field}"):
        state_from_json(data)
    assert state_from_json(data, history=False).phases["val"].metrics["acc"].count == 3


# --- summary: the stored trend ---------------------------------------------------------------------------------

trend_writes = st.lists(st.tuples(st.sampled_from(["train", "val"]), st.dictionaries(
    st.sampled_from(["a", "b"]), st.one_of(st.floats(width=32), st.integers(-9, 9)), min_size=1, max_size=2)),
    min_size=1, max_size=160)


@settings(max_examples=40, deadline=None)
@given(trend_writes, st.sets(st.integers(1, 159), max_size=3))
def test_the_stored_trend_is_the_trend_of_the_stored_history(writes, resumes):
    """After any records, written by writers that resume the run, each metric's stored `trend` is the rule applied
    to its stored history, and a reader gets the same trend from the field, from the history and from the log."""
    with tempfile.TemporaryDirectory() as tmp:
        writer = MetricsWriter(tmp)
        for i, (phase, metrics) in enumerate(writes):
            if i in resumes:
                writer.close()
                writer = MetricsWriter(tmp)
            writer.write(phase, i, metrics)
        writer.close()
        data = json.loads((Path(tmp) / layout.SUMMARY_FILE).read_text())
        for p in data["phases"].values():
            for m in p["metrics"].values():
                history = json.loads(m["history"])
                assert json.loads(m["trend"]) == [v for _, v in reference_trend(history)]
        stored = summarize(tmp, history=True, trend=True)
        histories = summarize(tmp, history=True)
        os.remove(Path(tmp) / layout.SUMMARY_FILE)
        refolded = summarize(tmp, history=True, trend=True)
    assert stored.summary_used and not refolded.summary_used
    for name, phase in histories.phases.items():
        for k, m in phase.metrics.items():
            assert m.trend is None and stored.phases[name].metrics[k].history is None
            trend = stored.phases[name].metrics[k].trend
            assert repr(trend) == repr(trend_of(m.history)) == repr(refolded.phases[name].metrics[k].trend)  # NaN too
            assert len(trend) == min(TREND_POINTS, len(m.history)) and repr(trend[-1]) == repr(m.last)


def test_trend_of_picks_evenly_with_the_first_and_the_last():
    points = [(s, float(s)) for s in range(64)]
    assert trend_of(points) == [round(i * 63 / 15) for i in range(16)] and trend_of(points)[-1] == 63.0
    assert trend_of(points[:5]) == [0.0, 1.0, 2.0, 3.0, 4.0] and trend_of([]) == []
    assert trend_indices(64, 3) == (0, 32, 63) and trend_of(points, 3) == [0.0, 32.0, 63.0]


def test_a_summary_without_trends_gives_them_from_its_history_or_its_log(tmp_path):
    """A summary of runx before the trend (version 3 without `trend`, or version 1) still gives every trend."""
    records = [{"phase": "val", "step": s, "time": 10.0 + s, "metrics": {"acc": s / 10}} for s in range(200)]
    write_log(tmp_path, records, 200)
    expected = trend_of(history_of([(s, s / 10) for s in range(200)]))
    data = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())
    del data["phases"]["val"]["metrics"]["acc"]["trend"]
    (tmp_path / layout.SUMMARY_FILE).write_text(json.dumps(data))
    older = summarize(str(tmp_path), history="acc", trend=True)
    assert older.summary_used and older.phases["val"].metrics["acc"].trend == expected
    data["runx_metrics_summary"] = 1
    del data["phases"]["val"]["metrics"]["acc"]["history"], data["phases"]["val"]["metrics"]["acc"]["history_stride"]
    (tmp_path / layout.SUMMARY_FILE).write_text(json.dumps(data))
    oldest = summarize(str(tmp_path), history="acc", trend=True)
    assert not oldest.summary_used and oldest.phases["val"].metrics["acc"].trend == expected


def test_a_trend_is_not_read_where_records_follow_the_summary(tmp_path):
    """A summary that covers only part of the log: its trend would be stale, so the history is read and folded on."""
    records = [{"phase": "val", "step": s, "time": 10.0 + s, "metrics": {"acc": float(s)}} for s in range(40)]
    write_log(tmp_path, records, 30)
    data = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())
    data["phases"]["val"]["metrics"]["acc"]["trend"] = "[0]"  # would be caught if it were read
    (tmp_path / layout.SUMMARY_FILE).write_text(json.dumps(data))
    summary = summarize(str(tmp_path), history=True, trend=True)
    assert summary.summary_used and summary.phases["val"].metrics["acc"].trend == trend_of([(s, float(s)) for s in range(40)])


@pytest.mark.parametrize("field, bad", [("trend", "x"), ("trend", 5), ("trend", "[0.5]"), ("trend", "[0.5, 0.5, \"x\"]"),
                                        ("trend", "[0.5, 0.5, true]"), ("trend", "{\"a\": 1}"), ("trend", "[0.5, 0.5, 0.4]"),
                                        ("trend", "[0.5, 9, 0.5]"), ("trend", "[]"), ("trend", "[" * 100_000),
                                        ("trend", "[0.5, 0.5, 0.5] x"), ("history_stride", 3), ("history_stride", None)])
def test_a_bad_trend_is_caught_and_only_when_asked_for(tmp_path, field, bad):
    """A damaged trend is handled as a damaged history: the summary is not used, the log is folded instead."""
    state = SummaryState()
    state.fold_records([{"phase": "val", "step": s, "time": 1.0, "metrics": {"acc": 0.5, "top5": 0.1}} for s in range(3)])
    data = state.to_json(0)
    assert state_from_json(data, trend=True).phases["val"].metrics["acc"].trend == [0.5, 0.5, 0.5]
    data["phases"]["val"]["metrics"]["acc"][field] = bad
    with pytest.raises(ValueError, match=f"phases.val.metrics.acc.{field}"):
        state_from_json(data, history="acc", trend=True)
    assert state_from_json(data, history="top5", trend=True).phases["val"].metrics["top5"].trend == [0.1] * 3
    records = [{"phase": "val", "step": s, "time": 10.0 + s, "metrics": {"acc": s, "top5": 1}} for s in range(3)]
    write_log(tmp_path, records, 3)
    data = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())
    data["phases"]["val"]["metrics"]["acc"][field] = bad
    (tmp_path / layout.SUMMARY_FILE).write_text(json.dumps(data))
    damaged = summarize(str(tmp_path), history="acc", trend=True)
    assert not damaged.summary_used and damaged.phases["val"].metrics["acc"].trend == [0, 1, 2]
    assert summarize(str(tmp_path), history="top5", trend=True).summary_used  # another metric's: not read, not checked


def test_a_trend_of_nan_and_infinity_is_stored_as_the_log_stores_them(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    for step, value in enumerate([1.0, math.inf, -math.inf, 2.0, math.nan]):
        writer.write("val", step, {"x": value})
    writer.close()
    m = json.loads((tmp_path / layout.SUMMARY_FILE).read_text())["phases"]["val"]["metrics"]["x"]
    assert json.loads(m["trend"]) == [1.0, "inf", "-inf", 2.0, "nan"]
    trend = summarize(str(tmp_path), history=True, trend=True).phases["val"].metrics["x"].trend
    assert repr(trend) == repr([1.0, math.inf, -math.inf, 2.0, math.nan])
