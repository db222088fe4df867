"""`python -m runx.sumx EXP [EXP ...]` (and `sumx`): one table of an experiment's runs.

Parses nothing at import; `main(argv=None)` does.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

__all__ = ["main", "build_parser"]

EPILOG = """\
examples:
  sumx sweep                    the runs of LOGROOT/sweep, best first
  sumx sweep --sortwith acc     sort by the best value of acc
  sumx sweep --csv results.csv  also write the table as CSV
"""


def build_parser() -> argparse.ArgumentParser:
    """sumx's command line (runx 0.0.11's options plus a few)."""
    parser = argparse.ArgumentParser(prog="sumx", description="Summarize the runs of experiments in one table.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", help="experiment names below LOGROOT (or paths)")
    parser.add_argument("--logroot", help="directory holding the experiments (default: LOGROOT of the config)")
    parser.add_argument("-c", "--config", help="config file instead of ./.runx or ~/.config/runx.yml")
    parser.add_argument("--ignore", help="comma-separated hyperparameters not to show")
    parser.add_argument("--sortwith", "-s", help="sort by the best value of this metric")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: 0 on success, 2 on bad input."""
    from runx.sumx.errors import SumxError

    args = build_parser().parse_args(argv)
    try:
        from runx.sumx.table import run

        return run(args)
    except SumxError as err:
        sys.stderr.write(f"sumx: error: {err}\n")
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
