"""status.log: the last event decides; what the job and runx append, folded."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runx.core.status import parse_status, read_status, record_event
from runx.logx.rundir.status import fold_status


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


@pytest.mark.parametrize("events, state, exit_code, interruption", [
    # the warning, then the scheduler's kill at the limit: the job script wrote no end
    (["queued", "started", "interrupted reason=timeout signal=USR1"], "running", None, "timeout"),
    (["queued", "started", "interrupted reason=preempted"], "running", None, "preempted"),
    (["queued", "started", "interrupted reason=timeout", "finished exit=137"], "timeout", 137, None),
    (["queued", "started", "interrupted reason=preempted", "finished exit=143"], "preempted", 143, None),
    (["queued", "started", "interrupted reason=timeout", "finished exit=75"], "timeout", 75, None),
    # a real failure, warned or not, and an end written before the warning's line
    (["queued", "started", "interrupted reason=timeout", "finished exit=3"], "failed", 3, None),
    (["queued", "started", "finished exit=137"], "failed", 137, None),
    (["queued", "started", "finished exit=137", "interrupted reason=timeout"], "failed", 137, None),
    (["queued", "started", "finished exit=0", "interrupted reason=timeout"], "succeeded", 0, None),
    # a warned attempt cancelled, or run again: the new attempt is not interrupted
    (["queued", "started", "interrupted reason=timeout", "cancelled"], "cancelled", None, None),
    (["queued", "started", "interrupted reason=timeout", "queued reason=requeue", "started"], "running", None, None),
    (["queued", "interrupted reason=preempted restarted=1", "started"], "running", None, None),
])
def test_an_attempt_interrupted_and_then_ended_or_not(events, state, exit_code, interruption):
    status = parse_status(lines(*events))
    assert (status.state, status.exit_code, status.interruption) == (state, exit_code, interruption)


@pytest.mark.parametrize("events, answer, code, expected", [
    (["queued", "started", "interrupted reason=timeout"], "failed", 137, "timeout"),  # Grid Engine's h_rt: qacct exit 137
    (["queued", "started", "interrupted reason=timeout"], "failed", 0, "timeout"),  # Slurm's TIMEOUT with exit 0:0
    (["queued", "started", "interrupted reason=timeout"], "failed", None, "timeout"),
    (["queued", "started", "interrupted reason=preempted"], "failed", 143, "preempted"),
    (["queued", "started", "interrupted reason=timeout"], "failed", 1, "failed"),  # the program's own error
    (["queued", "started", "interrupted reason=timeout"], "cancelled", 137, "cancelled"),
    (["queued", "started", "interrupted reason=timeout"], "queued", None, "queued"),  # run again (exit 99)
    (["queued", "started"], "failed", 137, "failed"),  # killed with no warning before: failed
    (["queued", "started", "finished exit=137", "interrupted reason=timeout"], "failed", 137, "failed"),
])
def test_the_schedulers_word_on_an_attempt_that_wrote_no_end(events, answer, code, expected):
    from runx.logx.rundir.status import ended_unrecorded

    assert ended_unrecorded(parse_status(lines(*events)), answer, code) == expected
    assert ended_unrecorded(None, answer, code) == answer


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


def reference_fold(text: str):
    """The fold written plainly (runx.core.status before the fold was made fast for sumx)."""
    state, values = None, {"exit_code": None, "queued": None, "started": None, "finished": None,
                           "job_id": None, "host": None, "attempts": 0, "pid": None, "launcher": None, "submitter": None,
                           "launch": None, "interrupted": 0}
    reason = None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            when = float(parts[1])
        except ValueError:
            continue
        event, fields = parts[0], dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        if event == "queued":
            state, reason = "queued", None
            values.update(queued=when, started=None, finished=None, exit_code=None, launcher=fields.get("launcher"),
                          submitter=fields.get("submitter"), launch=fields.get("launch", values["launch"]))
        elif event == "submitted":
            values["job_id"] = fields.get("job_id", values["job_id"])
            state = "submitted" if state == "queued" else state
        elif event == "started":
            if state == "pruned":
                continue
            state, pid, reason = "running", fields.get("pid", ""), None
            values.update(started=when, finished=None, exit_code=None, host=fields.get("host"),
                          pid=int(pid) if pid.isdigit() else None, attempts=values["attempts"] + 1)
        elif event == "finished":
            try:
                code = int(fields.get("exit", ""))
            except ValueError:
                code = None
            if state == "pruned":
                values.update(finished=when, exit_code=code)
                continue
            if state == "cancelled" and code is not None and code > 128:
                values["exit_code"] = code
                continue
            state = "succeeded" if code == 0 else "failed"
            if reason is not None and code is not None and (code == 75 or code > 128):
                state = reason  # the scheduler ended the attempt (time limit, preemption)
            values.update(finished=when, exit_code=code)
        elif event == "cancelled":
            if state == "pruned":
                values["finished"] = values["finished"] or when
                continue
            state, values["finished"] = "cancelled", when
        elif event == "interrupted":
            reason = fields.get("reason") if fields.get("reason") in ("timeout", "preempted") else "preempted"
            values["interrupted"] += 1
        elif event == "pruned":
            state, values["finished"] = "pruned", None
    values["interruption"] = reason if state == "running" else None  # killed after the warning: no `finished` line
    return None if state is None else {**values, "state": state}


events = st.lists(st.tuples(
    st.sampled_from(["queued", "submitted", "started", "finished", "cancelled", "interrupted", "pruned", "garbage"]),
    st.sampled_from(["1700000000", "1700000000.5", "x", "", "-1", "1e20"]),
    st.lists(st.sampled_from(["exit=0", "exit=1", "exit=137", "exit=", "exit=x", "job_id=7", "job_id=",
                              "host=n1", "pid=12", "pid=-1", "pid=", "noequals", "a=b=c", "launcher=h:1", "submitter=h:2",
                              "launch=L1", "launch=",
                              "exit=75", "exit=143", "reason=timeout", "reason=preempted", "reason=x"]), max_size=3),
), max_size=10)


@settings(max_examples=500, deadline=None)
@given(events)
def test_the_fold_matches_the_plain_reference(seq):
    text = "\n".join(" ".join([event, stamp, *fields]) for event, stamp, fields in seq)
    folded = fold_status(text)
    assert (None if folded is None else folded._asdict()) == reference_fold(text)


def test_runx_status_shows_interrupted_attempts_and_resubmit_failed_takes_timed_out_runs(tmp_path):
    import json
    import subprocess
    import sys

    exp = tmp_path / "logs" / "exp"
    lines = {"plain": "queued 1 farm=slurm\nsubmitted 1 job_id=7\nstarted 2 host=h pid=1\nfinished 3 exit=0\n",
             "timed": "queued 1 farm=slurm\nstarted 2 host=h pid=1\ninterrupted 3 reason=timeout signal=USR1\n"
                      "finished 4 exit=75\nqueued 4 reason=requeue attempt=2\nsubmitted 4 job_id=8\n"
                      "started 5 host=h pid=2\ninterrupted 6 reason=timeout\nfinished 7 exit=75\n"}
    for name, text in lines.items():
        run = exp / name
        run.mkdir(parents=True)
        (run / "status.log").write_text(text)
        (run / "run.json").write_text(json.dumps({"run": name, "farm": {"name": "w", "type": "generic", "submit_cmd": "true"},
                                                  "submit_argv": [["true"]]}))
    (tmp_path / ".runx").write_text("LOGROOT: logs\n")
    done = subprocess.run([sys.executable, "-m", "runx.runx", "status", "exp"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    header, _, *rows = done.stdout.splitlines()
    assert header.split()[-2:] == ["attempts", "interrupted"]
    cells = {r.split()[0]: r.split() for r in rows}
    assert cells["timed"][3:5] == ["timeout", "75"] and cells["timed"][-2:] == ["2", "2"]
    assert cells["plain"][3] == "succeeded" and cells["plain"][-2:] == ["1", "0"]
    again = subprocess.run([sys.executable, "-m", "runx.runx", "resubmit", "exp", "--failed"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "timed" in again.stdout and "plain" not in again.stdout
