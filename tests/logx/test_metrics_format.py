"""The metrics format: typed values, torn lines, summaries that cover the log."""
from __future__ import annotations

import json
import math
import os

import pytest

from runx.logx.metrics_format import METRICS_FILE, SUMMARY_FILE, MetricsWriter, read_records, summarize


def write_run(run_dir, n=5):
    writer = MetricsWriter(str(run_dir))
    for step in range(n):
        writer.write("train", step, {"loss": 1.0 / (step + 1)})
        writer.write("val", step, {"loss": 2.0 / (step + 1), "acc": step * 10, "odd": [math.nan, math.inf, -math.inf][step % 3]})
    writer.close()
    return writer


def test_values_are_typed_and_non_finite_survive(tmp_path):
    write_run(tmp_path)
    result = read_records(str(tmp_path / METRICS_FILE))
    vals = [r for r in result.records if r.get("phase") == "val"]
    assert [r["metrics"]["acc"] for r in vals] == [0, 10, 20, 30, 40]
    assert [r["metrics"]["odd"] for r in vals] == ["nan", "inf", "-inf", "nan", "inf"]
    for line in (tmp_path / METRICS_FILE).read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    summary = summarize(str(tmp_path))
    val = summary.phases["val"]
    assert val.count == 5 and val.last_step == 4
    assert val.metrics["loss"].min == pytest.approx(0.4) and val.metrics["loss"].min_step == 4
    assert val.metrics["acc"].max == 40 and math.isinf(val.metrics["odd"].last)
    assert summary.phases["train"].count == 5 and summary.summary_used and not summary.torn


def test_truncating_the_last_record_at_every_offset(tmp_path):
    write_run(tmp_path, 3)
    path = tmp_path / METRICS_FILE
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    full = read_records(str(path)).records
    for cut in range(last_start, len(data)):
        path.write_bytes(data[:cut])
        result = read_records(str(path))
        assert result.records == full[:-1], cut
        assert result.torn == (cut > last_start), cut
        assert result.end_offset == last_start
    path.write_bytes(data)
    assert read_records(str(path)).records == full


def test_summary_reads_only_the_tail_and_falls_back(tmp_path):
    write_run(tmp_path, 4)
    with open(tmp_path / METRICS_FILE, "a") as f:
        f.write('{"phase":"val","step":9,"time":1.0,"metrics":{"loss":0.01}}\n')
    summary = summarize(str(tmp_path))
    assert summary.summary_used and summary.phases["val"].last_step == 9
    assert summary.phases["val"].metrics["loss"].min == 0.01
    (tmp_path / SUMMARY_FILE).write_text("{corrupt")
    fallback = summarize(str(tmp_path))
    assert not fallback.summary_used and fallback.phases == summary.phases
    os.remove(tmp_path / SUMMARY_FILE)
    assert summarize(str(tmp_path)).phases == summary.phases


def test_resume_after_a_torn_line_keeps_everything(tmp_path):
    write_run(tmp_path, 2)
    with open(tmp_path / METRICS_FILE, "a") as f:
        f.write('{"phase":"val","st')
    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 7, {"loss": 0.5})
    writer.close()
    records = read_records(str(tmp_path / METRICS_FILE)).records
    assert [r["step"] for r in records if r.get("phase") == "val"] == [0, 1, 7]
    assert summarize(str(tmp_path)).phases["val"].count == 3


def test_val_records_reach_the_os_before_write_returns(tmp_path):
    writer = MetricsWriter(str(tmp_path))
    writer.write("val", 0, {"loss": 1.5})
    other_reader = read_records(str(tmp_path / METRICS_FILE)).records
    assert other_reader[-1]["metrics"] == {"loss": 1.5}
    writer.close()
