"""sumx's command line, on runx-core's small table-driven parser (argparse alone cost about 17 ms
here with building the parser, a quarter of the budget for summarising 1,000 runs)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Sequence

from runx.core.cmdline import CommandLine, Option, Positional, positive_number
from runx.core.errors import RunxError
from runx.sumx.errors import SumxError

DEFAULT_WATCH = 5.0
EXAMPLES = """\
examples:
  sumx sweep                        the runs of LOGROOT/sweep, best first
  sumx sweep --sortwith acc         sort by the best value of acc (higher is better for acc)
  sumx sweep --goal f1=min          say which way is better for a metric
  sumx sweep --filter 'lr<0.1' --filter solver=adam
  sumx sweep --group-by seed        mean ± std over seeds, one row per other setting
  sumx sweep other --markdown       two experiments in one table, as Markdown
  sumx sweep --csv results.csv      also write the table as CSV
  sumx sweep --watch 10             redraw every 10 seconds
"""

SUMX = CommandLine(
    prog="sumx",
    description="Summarize the runs of experiments in one table, best run first.",
    positionals=[Positional("experiments", count="+", metavar="EXP",
                            help="experiment name below LOGROOT, or a path to one (absolute or\nstarting with ./ or ../)")],
    options=[
        Option("--logroot", metavar="DIR", help="directory holding the experiments (default: LOGROOT of the config)"),
        Option("-c", "--config", metavar="FILE", help="config file instead of ./.runx or ~/.config/runx.yml"),
        Option("-s", "--sortwith", metavar="METRIC", help="sort by the best value of this val metric"),
        Option("--goal", kind="append", metavar="METRIC=min|max",
               help="which way is better for a metric (repeatable; overrides the\nexperiment's METRICS)"),
        Option("--ignore", metavar="A,B", help="hyperparameters or metrics not to show (always ignored:\n"
                                                 "logdir,command,result_dir,nbr_workers,paths,val_paths)"),
        Option("--metrics", metavar="A,B", help="show only these val metrics, in this order"),
        Option("--filter", kind="append", metavar="EXPR",
               help="keep runs where EXPR holds: 'lr<0.1', solver=adam, 'acc>=90', state!=failed,\n"
                    "'run~^tag/' (repeatable; all must hold)"),
        Option("--group-by", metavar="K1,K2", help="runs that differ only in these hyperparameters become one row:\nmean ± std, n"),
        Option("--json", kind="flag", help="print the table as JSON"),
        Option("--markdown", kind="flag", help="print the table as Markdown"),
        Option("--csv", metavar="FILE", help="also write the table as CSV to FILE (.csv added if missing;\n- for stdout only)"),
        Option("--watch", kind="optional", convert=positive_number, expects="a positive number of seconds",
               const=DEFAULT_WATCH, metavar="SECONDS", help=f"redraw the table every SECONDS (default {DEFAULT_WATCH:g}) until Ctrl-C"),
    ],
    epilog=EXAMPLES,
)
HELP = SUMX.help()
USAGE = SUMX.usage()

__all__ = ["parse_args", "HELP", "USAGE", "SUMX"]


def parse_args(argv: Sequence[str]) -> SimpleNamespace:
    """Options from argv (without the program name); SumxError for a usage error."""
    try:
        opts = SUMX.parse(argv)
    except RunxError as err:
        raise SumxError(str(err)) from None
    if not opts.help and opts.json and opts.markdown:
        raise SumxError("--json and --markdown: choose one")
    return opts
