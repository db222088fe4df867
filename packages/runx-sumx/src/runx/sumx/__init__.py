"""`python -m runx.sumx EXP [EXP ...]` (and `sumx`): one table of an experiment's runs.

Parses nothing at import; `main(argv=None)` does.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success, 2 on bad input (one line on stderr)."""
    from runx.sumx.cli import parse_args
    from runx.sumx.errors import SumxError

    if argv is None and "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (runx-core[completion])
        from runx.runx.completion import complete

        complete("sumx")
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SumxError as err:  # the usage line and the error
        sys.stderr.write(f"{err}\n")
        return 2
    except SystemExit as done:  # --help or --version was shown
        return int(done.code or 0)
    try:
        from runx.sumx.app import run

        return run(args)
    except SumxError as err:
        from runx.core.text import printable

        sys.stderr.write(f"sumx: error: {printable(str(err))}\n")
        return 2
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
