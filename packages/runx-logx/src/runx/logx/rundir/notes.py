"""A run's notes (`notes.txt`): free text the user stores with a run (`runx note`), each entry with its UTC time.

Each entry starts a line with its time, `2026-12-02T16:20:05Z text`; a note of several lines continues on
lines indented by two spaces, so every note comes back exactly as written. Entries are appended with one
small write each (concurrent notes do not interleave).
"""
from __future__ import annotations

import os
import re
import time
from typing import List, NamedTuple, Optional

from runx.logx.rundir.layout import NOTES_FILE

__all__ = ["Note", "append_note", "read_notes", "format_note"]

_ENTRY = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z) (.*)$")
_CONTINUED = "  "


class Note(NamedTuple):
    """One note: when it was written (ISO 8601, UTC) and its text."""

    time: str
    text: str


def format_note(text: str, when: Optional[float] = None) -> str:
    """The entry `append_note` writes for `text` at Unix time `when` (now by default)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if when is None else when))
    lines = text.split("\n")
    return f"{stamp} {lines[0]}\n" + "".join(f"{_CONTINUED}{line}\n" for line in lines[1:])


def append_note(run_dir: str, text: str, when: Optional[float] = None) -> Note:
    """Append a note to the run's notes file (created when missing); returns it as read back."""
    entry = format_note(text, when)
    fd = os.open(os.path.join(run_dir, NOTES_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        try:
            data = entry.encode("utf-8", "surrogateescape")  # a command line's undecodable bytes, as they were
        except UnicodeEncodeError:
            data = entry.encode("utf-8", "backslashreplace")
        os.write(fd, data)
    finally:
        os.close(fd)
    return Note(entry[:20], text)


def read_notes(run_dir: str) -> List[Note]:
    """The run's notes, oldest first; [] without a notes file. A line before the first entry is kept as a
    note without a time."""
    try:
        with open(os.path.join(run_dir, NOTES_FILE), "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    notes: List[Note] = []
    for line in text[:-1].split("\n") if text.endswith("\n") else text.split("\n") if text else []:
        entry = _ENTRY.match(line)
        if entry is not None:
            notes.append(Note(entry.group(1), entry.group(2)))
        elif notes and line.startswith(_CONTINUED):
            notes[-1] = Note(notes[-1].time, notes[-1].text + "\n" + line[len(_CONTINUED):])
        else:
            notes.append(Note("", line))
    return notes
