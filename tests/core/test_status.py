"""status.log: the last event decides; what the job and runx append, folded."""
from __future__ import annotations

import pytest

from runx.core.status import parse_status, read_status, record_event


def lines(*events: str) -> str:
    return "".join(f"{event.split()[0]} {1700000000 + i} {' '.join(event.split()[1:])}\n" for i, event in enumerate(events))


@pytest.mark.parametrize("events, state, exit_code", [
    (["queued"], "queued", None),
    (["queued", "submitted job_id=12"], "submitted", None),
    (["queued", "started host=n1 pid=4", "submitted job_id=12"], "running", None),  # a job faster than sbatch's reply
    (["queued", "submitted job_id=12", "started", "finished exit=0"], "succeeded", 0),
    (["queued", "started", "finished exit=3"], "failed", 3),
    (["queued", "started", "finished exit=x"], "failed", None),
    (["queued", "started", "finished"], "failed", None),
    (["queued", "started", "cancelled", "finished exit=143"], "cancelled", 143),  # the job ending from the signal
    (["queued", "started", "cancelled", "finished exit=0"], "succeeded", 0),  # it finished before the signal
    (["queued", "started", "finished exit=1", "queued", "submitted job_id=13"], "submitted", None),  # resubmitted
])
def test_the_last_event_decides(events, state, exit_code):
    status = parse_status(lines(*events))
    assert (status.state, status.exit_code) == (state, exit_code)


def test_fields_of_the_latest_attempt():
    status = parse_status(lines("queued", "submitted job_id=12", "started host=n1 pid=4", "finished exit=1",
                                "queued", "submitted job_id=13", "started host=n2 pid=x", "finished exit=0"))
    assert status.job_id == "13" and status.host == "n2" and status.pid is None and status.attempts == 2
    assert (status.queued, status.started, status.finished) == (1700000004.0, 1700000006.0, 1700000007.0)


def test_lines_that_are_not_events_are_skipped():
    assert parse_status("") is None
    assert parse_status("garbage\nqueued notatime\n\n") is None
    status = parse_status("queued 1700000000\nhalf a li\nstarted 1700000001 host=a\nfinis")
    assert status.state == "running" and status.host == "a"


def test_record_event_appends_what_read_status_folds(tmp_path):
    assert read_status(tmp_path) is None
    record_event(tmp_path, "queued")
    record_event(tmp_path, "submitted", job_id="77", host=None)
    status = read_status(tmp_path)
    assert (status.state, status.job_id) == ("submitted", "77")
    assert (tmp_path / "status.log").read_text().splitlines()[1].split()[2:] == ["job_id=77"]
