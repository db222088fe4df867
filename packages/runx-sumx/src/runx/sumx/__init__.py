"""`python -m runx.sumx EXP [EXP ...]` (and `sumx`): one table of an experiment's runs.

Parses nothing at import; `main(argv=None)` does.
"""
from __future__ import annotations

import sys
from typing import Optional, Sequence

__all__ = ["main", "build_parser"]

EPILOG = """\
examples:
  sumx sweep                        the runs of LOGROOT/sweep, best first
  sumx sweep --sortwith acc         sort by the best value of acc (higher is better for acc)
  sumx sweep --goal f1=min          say which way is better for a metric
  sumx sweep --filter 'lr<0.1' --filter solver=adam
  sumx sweep --group-by seed        mean ± std over seeds, one row per other setting
  sumx sweep other --markdown       two experiments in one table, as Markdown
  sumx sweep --csv results.csv      also write the table as CSV (--csv - for CSV on stdout)
  sumx sweep --json                 the table as JSON
  sumx sweep --watch 10             redraw every 10 seconds
"""


def build_parser():
    """sumx's command line: runx 0.0.11's options plus more."""
    import argparse

    parser = argparse.ArgumentParser(prog="sumx", description="Summarize the runs of experiments in one table.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="+", metavar="EXP",
                        help="experiment name below LOGROOT, or a path to one (absolute or starting with ./ or ../)")
    parser.add_argument("--logroot", metavar="DIR", help="directory holding the experiments (default: LOGROOT of the config)")
    parser.add_argument("-c", "--config", metavar="FILE", help="config file instead of ./.runx or ~/.config/runx.yml")
    parser.add_argument("--sortwith", "-s", metavar="METRIC", help="sort by the best value of this val metric")
    parser.add_argument("--goal", action="append", metavar="METRIC=min|max",
                        help="which way is better for a metric (repeatable; overrides the experiment's METRICS)")
    parser.add_argument("--ignore", metavar="A,B", help="comma-separated hyperparameters or metrics not to show "
                        "(always ignored: logdir,command,result_dir,nbr_workers,paths,val_paths)")
    parser.add_argument("--metrics", metavar="A,B", help="show only these val metrics, in this order")
    parser.add_argument("--filter", action="append", metavar="EXPR",
                        help="keep runs where EXPR holds, e.g. 'lr<0.1', solver=adam, 'acc>=90', state!=failed, "
                             "'run~^tag/' (repeatable; all must hold)")
    parser.add_argument("--group-by", metavar="K1,K2",
                        help="collapse runs that differ only in these hyperparameters into one row: mean ± std, n")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the table as JSON")
    out.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--csv", metavar="FILE", help="also write the table as CSV to FILE (.csv added if missing; - for stdout)")
    parser.add_argument("--watch", nargs="?", type=float, const=5.0, metavar="SECONDS",
                        help="redraw the table every SECONDS (default 5) until Ctrl-C")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: 0 on success, 2 on bad input."""
    from runx.sumx.errors import SumxError

    args = build_parser().parse_args(argv)
    if args.watch is not None and args.watch <= 0:
        sys.stderr.write("sumx: error: --watch: expected a positive number of seconds\n")
        return 2
    try:
        from runx.sumx.app import run

        return run(args)
    except SumxError as err:
        sys.stderr.write(f"sumx: error: {err}\n")
        return 2
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error; keep Python from complaining at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
