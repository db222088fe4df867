"""How long a run's latest attempt ran, as runx status, ls and show tell it."""
from __future__ import annotations

import time

from runx.core.ledger import duration_seconds, duration_text
from runx.logx.rundir.status import RunStatus


def test_an_ended_attempt_ran_from_its_start_to_its_recorded_end():
    done = RunStatus("succeeded", exit_code=0, started=100.0, finished=3761.0)
    assert duration_seconds(done) == 3661.0 and duration_text(done) == "1:01:01"
    assert duration_seconds(done, "succeeded") == 3661.0


def test_a_running_attempt_runs_until_now():
    started = time.time() - 65
    running = RunStatus("running", started=started)
    assert 65 <= duration_seconds(running) < 65 + 60 and duration_text(running).startswith("0:01:0")


def test_an_attempt_that_ended_without_recording_when_has_no_duration():
    record = RunStatus("running", started=time.time() - 600)  # the record says running: its end was never written
    for settled in ("failed", "timeout", "preempted", "cancelled"):  # what the farm (or the local check) says
        assert duration_seconds(record, settled) is None and duration_text(record, settled) == ""
    assert duration_seconds(record, "running") is not None


def test_nothing_before_an_attempt_started():
    assert duration_seconds(None) is None and duration_seconds(RunStatus("queued", queued=5.0)) is None
    requeued = RunStatus("queued", started=10.0)  # the next attempt waits: the last one's end is not this one's
    assert duration_seconds(requeued) is None
