"""runx.logx.rundir.notes: every note comes back exactly as written, with its UTC time."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from runx.logx.rundir.layout import NOTES_FILE
from runx.logx.rundir.notes import append_note, read_notes


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=4))
def test_notes_round_trip_whatever_they_hold(tmp_path_factory, texts):
    run_dir = tmp_path_factory.mktemp("run")
    for i, text in enumerate(texts):
        append_note(str(run_dir), text, when=1_796_228_282 + i)
    notes = read_notes(str(run_dir))
    assert [n.text for n in notes] == texts
    assert [n.time for n in notes] == [f"2026-12-02T16:18:{2 + i:02d}Z" for i in range(len(texts))]
    for line in (run_dir / NOTES_FILE).read_bytes().decode("utf-8").split("\n")[:-1]:
        assert re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ |  )", line)  # an entry, or its continuation


def test_no_notes_file_is_no_notes_and_a_stray_line_is_kept(tmp_path):
    assert read_notes(str(tmp_path)) == []
    (tmp_path / NOTES_FILE).write_text("written by hand\n2026-12-02T16:18:02Z real\n")
    assert [(n.time, n.text) for n in read_notes(str(tmp_path))] == [("", "written by hand"), ("2026-12-02T16:18:02Z", "real")]
