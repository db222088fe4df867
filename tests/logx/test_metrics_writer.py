"""MetricsWriter's fast path: hand-built lines, record shapes, batched folds, threads, the clock."""
from __future__ import annotations

import enum
import json
import math
import os
import threading
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runx.logx import LogxError
from runx.logx.rundir.layout import METRICS_FILE, SUMMARY_FILE
from runx.logx.rundir.records import read_records
from runx.logx.rundir.summary import SummaryState, summarize
from runx.logx.rundir.writer import MetricsWriter


def records(run_dir) -> list:
    return [r for r in read_records(str(run_dir / METRICS_FILE)).records if "phase" in r]


def strict(run_dir) -> list:
    """Every line parsed as strict JSON (no NaN/Infinity constants)."""
    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")
    return [json.loads(line, parse_constant=reject) for line in (run_dir / METRICS_FILE).read_text().splitlines()]


def stored(value):
    """A value as the format stores it: a number, or "nan" / "inf" / "-inf"."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return value


def same(a, b) -> bool:
    """Equal as stored values, of the same type (0 is not 0.0), -0.0 keeping its sign."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def plain_summary(run_dir) -> str:
    summary = summarize(str(run_dir))
    return json.dumps({k: {**v._asdict(), "metrics": {n: m._asdict() for n, m in v.metrics.items()}}
                       for k, v in summary.phases.items()}, sort_keys=True)


number = st.one_of(
    st.floats(width=64),  # NaN, ±inf, -0.0, subnormals, huge
    st.integers(),  # beyond 64 bits too
    st.integers(-2 ** 1100, 2 ** 1100),  # too large to add to a float
    st.booleans(),
    st.sampled_from([0.1, 1e-05, 1e16, 1e300, 5e-324, -0.0, 2.0 ** 53 + 1]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["train", "val"]), st.lists(number, min_size=1, max_size=4)),
                     min_size=1, max_size=6))
def test_lines_read_back_as_the_values_and_the_summary_agrees(tmp_path_factory, rows):
    run = tmp_path_factory.mktemp("run")
    writer = MetricsWriter(str(run))
    for step, (phase, values) in enumerate(rows):
        # the same names every time: all but the first record of a shape take the fast path
        writer.write(phase, step, {f"m{i}": v for i, v in enumerate(values)})
    writer.close()
    got = [r for r in strict(run) if "phase" in r]
    assert [(r["phase"], r["step"]) for r in got] == [(phase, step) for step, (phase, _) in enumerate(rows)]
    for record, (_, values) in zip(got, rows):
        assert list(record["metrics"]) == [f"m{i}" for i in range(len(values))]
        for read, value in zip(record["metrics"].values(), values):
            assert same(read, stored(value)), (read, value)
    with_summary = plain_summary(run)
    os.remove(run / SUMMARY_FILE)
    assert plain_summary(run) == with_summary


def test_floats_are_shortest_repr_and_the_time_is_milliseconds(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    for step in range(3):
        writer.write("val", step, {"a": 0.1, "b": 1e-05, "c": 1.0, "d": 7, "e": 1e16})
    writer.close()
    lines = (tmp_path / METRICS_FILE).read_text().splitlines()
    assert lines[-1].endswith(',"metrics":{"a":0.1,"b":1e-05,"c":1.0,"d":7,"e":1e+16}}')
    for line in lines:
        stamp = line.split('"time":')[1].split(",")[0].rstrip("}")
        assert len(stamp.split(".")[1]) == 3, line  # whole milliseconds, always three decimals
    header, start = json.loads(lines[0]), json.loads(lines[1])
    first = json.loads(lines[2])
    assert header["time"] <= start["time"] <= first["time"]


def test_names_with_quotes_percent_signs_and_unicode(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    names = ['q"uote', "100%", "%s%d%r", "ü/名", "back\\slash", "new\nline", 7]
    for step in range(3):
        writer.write("train", step, {name: step + 0.5 for name in names})
    writer.close()
    assert [list(r["metrics"]) for r in records(tmp_path)] == [[str(n) for n in names]] * 3
    assert records(tmp_path)[-1]["metrics"]["100%"] == 2.5


class Color(enum.IntEnum):
    RED = 1


class Weird(float):
    def __repr__(self) -> str:
        return "weird"


@pytest.mark.parametrize("value, expected", [
    (True, 1), (False, 0), (Color.RED, 1), (Weird(2.5), 2.5),
    (math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (10 ** 400, 10 ** 400),
    (Fraction(1, 4), 0.25), (Decimal("0.1"), 0.1), (Decimal("-Infinity"), "-inf"),
])
def test_values_the_fast_path_does_not_take_after_plain_ones(tmp_path, value, expected):
    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 0, {"x": 0.5, "y": 1.0})  # the shape exists: the next record tries the fast path
    returned = writer.write("val", 1, {"x": value, "y": 1.0})
    assert same(stored(returned["x"]), expected)
    writer.close()
    assert [r["metrics"]["x"] for r in strict(tmp_path) if "phase" in r] == [0.5, expected]


@pytest.mark.parametrize("value", ["high", None, [1.0], {"a": 1}, b"1", 1j, Decimal("sNaN"), Fraction(10 ** 400, 3)])
def test_a_non_number_names_the_metric_and_writes_nothing(tmp_path, value):
    writer = MetricsWriter(str(tmp_path))
    writer.write("train", 0, {"loss": 0.5, "acc": 1.0})
    with pytest.raises(LogxError, match="metric 'acc'"):
        writer.write("train", 1, {"loss": 0.5, "acc": value})
    writer.write("train", 2, {"loss": 0.25, "acc": 2.0})
    writer.close()
    assert [r["step"] for r in records(tmp_path)] == [0, 2]


@pytest.mark.parametrize("names", [(1, "1"), ("a", 2.0, "2.0")])
def test_names_that_would_be_stored_alike_are_refused(tmp_path, names):
    writer = MetricsWriter(str(tmp_path))
    with pytest.raises(LogxError, match="would both be stored as"):
        writer.write("val", 0, {name: 0.5 for name in names})
    writer.write("val", 1, {"a": 0.5})
    writer.close()
    assert [r["step"] for r in records(tmp_path)] == [1]


def test_numpy_and_torch_scalars_after_plain_values(tmp_path, requires):
    requires("numpy")
    import numpy as np

    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 0, {"a": 0.5, "b": 3, "c": 1.0})
    got = writer.write("val", 1, {"a": np.float32(0.1), "b": np.int64(4), "c": np.float64(0.25)})
    assert got == {"a": float(np.float32(0.1)), "b": 4, "c": 0.25}
    assert [type(v) for v in got.values()] == [float, int, float]
    requires("torch")
    import torch

    got = writer.write("val", 2, {"a": torch.tensor(0.5), "b": torch.tensor(5), "c": torch.tensor(float("nan"))})
    assert [type(v) for v in got.values()] == [float, int, float]
    writer.close()
    assert [r["metrics"] for r in strict(tmp_path) if "phase" in r] == [
        {"a": 0.5, "b": 3, "c": 1.0}, {"a": float(np.float32(0.1)), "b": 4, "c": 0.25}, {"a": 0.5, "b": 5, "c": "nan"}]


def test_shapes_switching_within_a_phase_keep_the_order(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    writer.FOLD_ROWS = 4  # several batches, some with two shapes in one phase
    sent = []
    for step in range(30):
        metrics = {"loss": 10.0 - step} if step % 3 else {"lr": 0.1, "loss": 5.0 + step}  # loss in both shapes
        if step % 7 == 0:
            metrics = dict(reversed(list(metrics.items())))  # the same names in another order
        sent.append(metrics)
        writer.write("train" if step % 4 else "val", step, metrics)
    writer.close()
    assert [r["metrics"] for r in records(tmp_path)] == sent
    with_summary = plain_summary(tmp_path)
    os.remove(tmp_path / SUMMARY_FILE)
    assert plain_summary(tmp_path) == with_summary
    last_train = max(step for step in range(30) if step % 4)
    train = summarize(str(tmp_path)).phases["train"].metrics["loss"]
    assert (train.last, train.last_step) == (sent[last_train]["loss"], last_train)


def test_threads_writing_at_once_lose_nothing(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    writer.FOLD_ROWS = 50

    def work(t: int) -> None:
        for i in range(500):
            writer.write("val" if i % 5 == 0 else "train", t * 1000 + i, {"x": float(i), "t": t})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    steps = sorted(r["step"] for r in strict(tmp_path) if "phase" in r)
    assert steps == sorted(t * 1000 + i for t in range(4) for i in range(500))
    with_summary = plain_summary(tmp_path)
    os.remove(tmp_path / SUMMARY_FILE)
    assert plain_summary(tmp_path) == with_summary


finite_or_not = st.one_of(st.floats(width=64), st.integers(-10 ** 20, 10 ** 20))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 10 ** 6), st.lists(finite_or_not, min_size=2, max_size=2)),
                     min_size=1, max_size=30),
       split=st.integers(0, 30))
def test_folding_a_batch_equals_folding_one_record_at_a_time(rows, split):
    one, batch = SummaryState(), SummaryState()
    for step, values in rows:
        one.fold("train", ("a", "b"), [(step, *values)], 1.0, 1.0)
    for part in (rows[:split], rows[split:]):
        if part:
            batch.fold("train", ("a", "b"), [(step, *values) for step, values in part], 1.0, 1.0)
    assert json.dumps(batch.to_json(0)["phases"]) == json.dumps(one.to_json(0)["phases"])  # NaN as "nan"


def test_close_rewrites_the_summary_only_when_the_log_grew(tmp_path):
    """The summary written by a val record is left as it is by a close with nothing new (one fsync less per
    script, issue 17 §5); once a record follows it, close replaces it and it counts that record."""
    summary = tmp_path / SUMMARY_FILE
    writer = MetricsWriter(str(tmp_path))
    writer.write("train", 0, {"loss": 1.0})
    writer.write("val", 0, {"acc": 0.5})  # the first write replaces the summary (the buffered train record with it)
    first = os.stat(summary).st_ino
    writer.close()
    assert os.stat(summary).st_ino == first  # not replaced: it already said all the log holds
    read = summarize(str(tmp_path))
    assert read.summary_used and (read.phases["train"].count, read.phases["val"].count) == (1, 1)
    again = MetricsWriter(str(tmp_path))  # a new session: its start line grows the log
    again.write("train", 1, {"loss": 0.5})
    again.close()
    assert os.stat(summary).st_ino != first
    read = summarize(str(tmp_path))
    assert read.summary_used and read.phases["train"].count == 2
    with_summary = plain_summary(tmp_path)
    os.remove(summary)
    assert plain_summary(tmp_path) == with_summary
