"""The `pruned` state of status.log, logx.should_stop() and metric(..., raise_on_prune=True)."""
from __future__ import annotations

import pytest
from runx.logx import LogX, TrialPruned
from runx.logx.rundir.layout import PRUNED_FILE
from runx.logx.rundir.status import fold_status

BASE = "queued 100 launcher=h:1\nstarted 101 host=h pid=5\n"


@pytest.mark.parametrize("tail, state, exit_code, finished", [
    ("pruned 102 epoch=3\n", "pruned", None, None),
    ("pruned 102\nfinished 103 exit=0\n", "pruned", 0, 103),  # stopped by itself (logx.should_stop())
    ("pruned 102\ncancelled 103 reason=runx-cancel\nfinished 104 exit=143\n", "pruned", 143, 104),
    ("pruned 102\nstarted 103 host=h pid=6\n", "pruned", None, None),
    ("pruned 102\nqueued 105 attempt=resubmit\n", "queued", None, None),  # a new attempt starts afresh
    ("finished 102 exit=0\n", "succeeded", 0, 102),
])
def test_pruned_is_a_state_of_its_own(tail, state, exit_code, finished):
    status = fold_status(BASE + tail)
    assert (status.state, status.exit_code, status.finished) == (state, exit_code, finished)


def test_should_stop_and_raise_on_prune(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNX_LOGDIR", raising=False)
    log = LogX()
    assert not log.should_stop()  # not initialized: nothing to stop
    log.initialize(logdir=str(tmp_path))
    log.metric("val", {"loss": 1.0}, 0, raise_on_prune=True)
    assert not log.should_stop()
    (tmp_path / PRUNED_FILE).write_text("pruned\n")
    assert log.should_stop()
    with pytest.raises(TrialPruned):
        log.metric("val", {"loss": 0.5}, 1, raise_on_prune=True)
    log.metric("val", {"loss": 0.4}, 2)  # without raise_on_prune it only records
    log.close()
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert sum('"loss"' in line for line in lines) == 3  # the value of the pruned step was recorded first
