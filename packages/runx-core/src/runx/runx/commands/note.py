"""`runx note EXPERIMENT RUN TEXT`: keep a note with a run (its notes file, each note with its UTC time)."""
from __future__ import annotations

from argparse import Namespace

from runx.core.argparser import Parser
from runx.core.errors import RunxError
from runx.core.text import printable
from runx.runx.commands.common import add_location_options, experiment_dir, find_run, new_parser, read_experiment

__all__ = ["parser", "run"]

EXAMPLES = """\
examples:
  runx note sweep RUN "diverged after the lr warm-up; rerun with clipping"
  runx show sweep RUN           shows the notes; sumx sweep --notes adds them as a column
"""


def parser(command: str = "note") -> Parser:
    p = new_parser(command, "[options] EXPERIMENT RUN TEXT",
                   "Append a note to a run (stored in the run directory with the time, shown by runx show and "
                   "sumx --notes).", EXAMPLES)
    p.add_positional("experiment", "EXPERIMENT", "experiment name below LOGROOT (or a path to its directory)")
    p.add_positional("run", "RUN", "run name (its folder below the experiment)")
    p.add_positional("text", "TEXT", "the note (several words are joined with spaces)", many=True)
    add_location_options(p)
    return p


def run(command: str, args: Namespace) -> int:
    """Append the note; it is written as given, whatever characters it holds."""
    from runx.logx.rundir.notes import append_note

    text = " ".join(args.text)
    if not text.strip():
        raise RunxError("TEXT: expected a note, found only white space")
    exp_dir = experiment_dir(args)
    entry = find_run(read_experiment(exp_dir, ask_farms=False), exp_dir, args.run)
    try:
        note = append_note(str(entry.run_dir), text)
    except OSError as err:
        raise RunxError(printable(f"{entry.run_dir}: cannot write the note: {err.strerror}")) from None
    print(printable(f"noted on {entry.run_dir.name} at {note.time}"))
    return 0
