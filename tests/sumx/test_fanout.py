"""runx.sumx.fanout_fork (the raw-fork speed trick) reads exactly what runx.sumx.fanout (multiprocessing) reads."""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import pytest
from conftest import write_run
from hypothesis import given, settings
from hypothesis import strategies as st
from runx.logx.rundir.layout import SUMMARY_FILE
from runx.sumx import fanout, fanout_fork, reader

values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6))
epochs = st.lists(st.dictionaries(st.sampled_from(["acc", "loss", "lr"]), values, max_size=3), max_size=5)
runs = st.lists(st.one_of(
    st.none(),  # a folder that is not a run
    st.tuples(st.dictionaries(st.sampled_from(["x", "opt", "lr"]), values, max_size=3), epochs,
              st.sampled_from(["summary", "no summary", "torn"]), st.sampled_from([("finished", 0), ("started",), None])),
), max_size=24)


def _write(exp: Path, i: int, spec) -> None:
    if spec is None:
        (exp / f"r{i:02d}").mkdir()
        return
    hparams, val, kind, state = spec
    run = write_run(exp, f"r{i:02d}", hparams, val, state=state)
    if kind == "no summary" and (run / SUMMARY_FILE).exists():
        os.remove(run / SUMMARY_FILE)
    elif kind == "torn":
        with open(run / "metrics.jsonl", "a") as log:
            log.write('{"phase": "val", "st')


@settings(max_examples=30, deadline=None)
@given(specs=runs, workers=st.integers(1, 4), chunks=st.integers(1, 9),
       how=st.sampled_from(["val", "train", "history", "trend"]))
def test_the_fork_trick_reads_what_multiprocessing_reads(specs, workers, chunks, how):
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        exp = Path(tmp) / "e"
        exp.mkdir()
        for i, spec in enumerate(specs):
            _write(exp, i, spec)
        jobs = [("e", str(exp), str(exp / f"r{i:02d}")) for i in range(len(specs))]
        load = reader.load_run
        if how == "train":
            load = functools.partial(reader.load_run, phase="train")
        elif how in ("history", "trend"):
            load = functools.partial(reader.load_run, history=True, trend="unicode" if how == "trend" else None)
        for module in (fanout, fanout_fork):
            patch.setattr(module, "_workers", lambda n: workers)
            patch.setattr(module, "MAX_CHUNKS", chunks)
        plain = fanout.load_all(jobs, load)
        assert repr(plain) == repr([load(*job) for job in jobs])  # repr: nan equals nan
        assert repr(fanout_fork.load_all(jobs, load)) == repr(plain)
