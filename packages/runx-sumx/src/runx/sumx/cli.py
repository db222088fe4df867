"""sumx's command line (argparse, with runx's conventions: runx.core.argparser)."""
from __future__ import annotations

from argparse import Namespace
from typing import Sequence

from runx.core.argparser import Converted, Parser, UsageError, positive_number
from runx.sumx.errors import SumxError

__all__ = ["DEFAULT_WATCH", "sumx_parser", "parse_args"]

DEFAULT_WATCH = 5.0
EXAMPLES = """\
examples:
  sumx sweep                        the runs of LOGROOT/sweep, best first
  sumx sweep --sortwith acc         sort by the best value of acc (higher is better for acc)
  sumx sweep --goal f1=min          say which way is better for a metric
  sumx sweep --filter 'lr<0.1' --filter solver=adam
  sumx sweep --group-by seed        mean ± std over seeds, one row per other setting
  sumx sweep --last --notes         only the latest launch's runs, with their notes
  sumx sweep other --markdown       two experiments in one table, as Markdown
  sumx sweep --format latex         the table in any of tabulate's formats
  sumx sweep --csv results.csv      also write the table as CSV
  sumx sweep --watch 10             redraw every 10 seconds
  sumx sweep --phase train          the train metrics instead of the val ones
  sumx sweep --plot loss            one curve per run: sweep_loss.png (-o FILE for .svg or .pdf)
  sumx sweep --plot-hparams acc     acc against each hyperparameter, and parallel coordinates
  sumx sweep --html report.html     one self-contained page: table, curves, hyperparameters
  sumx sweep --to-tensorboard       hparams, scalars and status for TensorBoard's HParams dashboard
"""


def sumx_parser() -> Parser:
    """`sumx EXP [EXP ...] [options]`."""
    p = Parser("sumx", "%(prog)s [options] EXP [EXP ...]",
               "Summarize the runs of experiments in one table, best run first.\n"
               "Every --long_option may also be written with the other separator (--group_by, --config-file).",
               EXAMPLES, "runx-sumx")
    p.add_positional("experiments", "EXP", "experiment name below LOGROOT, or a path to one (absolute or "
                     "starting with ./ or ../)", many=True)
    p.add_argument("--logroot", metavar="DIR", help="directory holding the experiments (default: LOGROOT of the config)")
    p.add_argument("-c", "--config_file", metavar="FILE", help="config file instead of .runx (here or in a folder above) or ~/.config/runx.yml")
    p.add_argument("-s", "--sortwith", metavar="METRIC", help="sort by the best value of this val metric")
    p.add_argument("--goal", action="append", metavar="METRIC=min|max",
                   help="which way is better for a metric (repeatable; overrides the experiment's METRICS)")
    p.add_argument("--ignore", metavar="A,B", help="hyperparameters or metrics not to show (always ignored: "
                                                   "logdir,command,result_dir,nbr_workers,paths,val_paths)")
    p.add_argument("--metrics", metavar="A,B", help="show only these val metrics, in this order")
    p.add_argument("--filter", action="append", metavar="EXPR",
                   help="keep runs where EXPR holds: 'lr<0.1', solver=adam, 'acc>=90', state!=failed, "
                        "'run~^tag/' (repeatable; all must hold)")
    p.add_argument("--group-by", metavar="K1,K2", help="runs that differ only in these hyperparameters become one row: "
                                                       "mean ± std, n")
    p.add_argument("--last", action="store_true", help="only the runs of each experiment's latest launch")
    p.add_argument("--notes", action="store_true", help="add a column with each run's notes (runx note)")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown (GitHub's pipe tables)")
    p.add_argument("--format", metavar="FMT", help="print the table in this tabulate format: github, latex, "
                                                   "latex_booktabs, html, rst, orgtbl, grid, ... (default: simple)")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV to FILE (.csv added if missing; "
                                                 "- for stdout only)")
    p.add_argument("--phase", choices=("val", "train"), default="val",
                   help="whose metrics to show: val (the default) or train")
    p.add_argument("--trend", action="store_true", default=None,
                   help="a sparkline of the sort metric per run (the default where stdout is a terminal)")
    p.add_argument("--no-trend", dest="trend", action="store_false", help="no sparkline column")
    p.add_argument("--plot", metavar="METRIC[,METRIC]",
                   help="draw each run's curve of METRIC (one panel per metric) to a PNG, SVG or PDF "
                        "(needs runx-sumx[plot])")
    p.add_argument("--plot-hparams", metavar="METRIC",
                   help="draw the best METRIC of each run against each differing hyperparameter, and "
                        "parallel coordinates (needs runx-sumx[plot])")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where --plot or --plot-hparams writes (.png, .svg or .pdf; default "
                        "<experiment>_<metric>.png in the current directory)")
    p.add_argument("--html", metavar="FILE", help="write one self-contained HTML report: the table (sortable, "
                                                  "filterable), curves and hyperparameter views")
    p.add_argument("--watch", action=Converted, convert=positive_number, expects="a positive number of seconds",
                   nargs="?", const=DEFAULT_WATCH, metavar="SECONDS",
                   help=f"redraw the table every SECONDS (default {DEFAULT_WATCH:g}) until Ctrl-C")
    p.add_argument("--to-tensorboard", action="store_true",
                   help="write the runs' hyperparameters, scalars and final status as TensorBoard event files "
                        "where they lack them (TensorBoard's HParams dashboard), instead of printing the table")
    return p


def parse_args(argv: Sequence[str]) -> Namespace:
    """Options from argv (without the program name); SumxError for a usage error (its text is the
    usage line and the error), SystemExit(0) once --help or --version was printed."""
    parser = sumx_parser()
    try:
        opts = parser.read(argv)
        chosen = [flag for flag, given in (("--json", opts.json), ("--markdown", opts.markdown),
                                           ("--format", opts.format is not None)) if given]
        if opts.to_tensorboard:
            chosen += [flag for flag, given in (("--csv", opts.csv is not None), ("--watch", opts.watch is not None))
                       if given]
            chosen.insert(0, "--to-tensorboard")
        if len(chosen) > 1:
            parser.error(f"{' and '.join(chosen)}: choose one")
        if opts.plot is not None and opts.plot_hparams is not None:
            parser.error("--plot and --plot-hparams: choose one")
        if opts.output is not None and opts.plot is None and opts.plot_hparams is None:
            parser.error("-o/--output: only with --plot or --plot-hparams")
        pictures = [flag for flag, given in (("--plot", opts.plot is not None), ("--plot-hparams", opts.plot_hparams
                                                                                   is not None),
                                             ("--html", opts.html is not None)) if given]
        if pictures and opts.watch is not None:
            parser.error(f"{pictures[0]} and --watch: choose one")
    except UsageError as err:
        raise SumxError(err.report.rstrip("\n")) from None
    opts.argv = list(argv)  # the command line, as the HTML report shows it
    return opts
