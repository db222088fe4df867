"""sumx's command line, parsed by a small table-driven parser.

argparse alone (import, building the parser: it loads locale and shutil) took about 17 ms here, a
quarter of the budget for summarising 1,000 runs. This parser keeps argparse's conventions:
`--opt VALUE`, `--opt=VALUE`, `-s VALUE`, `-sVALUE`, unique prefixes of long options, `--` to end
options, usage errors as one line and exit status 2.
"""
from __future__ import annotations

from runx.sumx.errors import SumxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Sequence

USAGE = "usage: sumx [options] EXP [EXP ...]"

HELP = f"""{USAGE}

Summarize the runs of experiments in one table, best run first.

positional arguments:
  EXP                   experiment name below LOGROOT, or a path to one (absolute or starting with ./ or ../)

options:
  -h, --help            show this help and exit
  --logroot DIR         directory holding the experiments (default: LOGROOT of the config)
  -c, --config FILE     config file instead of ./.runx or ~/.config/runx.yml
  -s, --sortwith METRIC sort by the best value of this val metric
  --goal METRIC=min|max which way is better for a metric (repeatable; overrides the experiment's METRICS)
  --ignore A,B          hyperparameters or metrics not to show (always ignored:
                        logdir,command,result_dir,nbr_workers,paths,val_paths)
  --metrics A,B         show only these val metrics, in this order
  --filter EXPR         keep runs where EXPR holds: 'lr<0.1', solver=adam, 'acc>=90', state!=failed,
                        'run~^tag/' (repeatable; all must hold)
  --group-by K1,K2      runs that differ only in these hyperparameters become one row: mean ± std, n
  --json                print the table as JSON
  --markdown            print the table as Markdown
  --csv FILE            also write the table as CSV to FILE (.csv added if missing; - for stdout only)
  --watch [SECONDS]     redraw the table every SECONDS (default 5) until Ctrl-C

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

# long option -> (attribute, kind): "value", "list" (repeatable), "flag", or "watch" (optional number)
OPTIONS = {
    "--logroot": ("logroot", "value"),
    "--config": ("config", "value"),
    "--sortwith": ("sortwith", "value"),
    "--goal": ("goal", "list"),
    "--ignore": ("ignore", "value"),
    "--metrics": ("metrics", "value"),
    "--filter": ("filter", "list"),
    "--group-by": ("group_by", "value"),
    "--json": ("json", "flag"),
    "--markdown": ("markdown", "flag"),
    "--csv": ("csv", "value"),
    "--watch": ("watch", "watch"),
    "--help": ("help", "flag"),
}
SHORT = {"-c": "--config", "-s": "--sortwith", "-h": "--help"}
DEFAULT_WATCH = 5.0

__all__ = ["Options", "parse_args", "HELP", "USAGE"]


class Options:
    """The parsed command line."""

    def __init__(self) -> None:
        self.experiments: list[str] = []
        self.logroot: str | None = None
        self.config: str | None = None
        self.sortwith: str | None = None
        self.goal: list[str] = []
        self.ignore: str | None = None
        self.metrics: str | None = None
        self.filter: list[str] = []
        self.group_by: str | None = None
        self.json = False
        self.markdown = False
        self.csv: str | None = None
        self.watch: float | None = None
        self.help = False


def _long(name: str) -> str:
    """The long option `name` stands for: exact, or a unique prefix."""
    if name in OPTIONS:
        return name
    matches = [o for o in OPTIONS if o.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise SumxError(f"ambiguous option {name}: could be {', '.join(matches)}")
    raise SumxError(f"unrecognized option {name} (see sumx --help)")


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def parse_args(argv: Sequence[str]) -> Options:
    """Options from argv (without the program name); SumxError for a usage error."""
    opts = Options()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            opts.experiments += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            opts.experiments.append(arg)
            continue
        value: str | None = None
        if arg.startswith("--"):
            name, eq, inline = arg.partition("=")
            name = _long(name)
            value = inline if eq else None
        else:
            name = SHORT.get(arg[:2])
            if name is None:
                raise SumxError(f"unrecognized option {arg} (see sumx --help)")
            value = arg[2:] or None
        attr, kind = OPTIONS[name]
        if kind == "flag":
            if value is not None:
                raise SumxError(f"{name}: takes no value")
            setattr(opts, attr, True)
            continue
        if kind == "watch":
            if value is None and i < len(args) and _seconds(args[i]) is not None:
                value = args[i]
                i += 1
            seconds = DEFAULT_WATCH if value is None else _seconds(value)
            if seconds is None or not seconds > 0:
                raise SumxError(f"--watch {value}: expected a positive number of seconds")
            opts.watch = seconds
            continue
        if value is None:
            if i >= len(args):
                raise SumxError(f"{name}: expected a value")
            value = args[i]
            i += 1
        if kind == "list":
            getattr(opts, attr).append(value)
        else:
            setattr(opts, attr, value)
    if opts.help:
        return opts
    if opts.json and opts.markdown:
        raise SumxError("--json and --markdown: choose one")
    if not opts.experiments:
        raise SumxError("expected at least one experiment: sumx EXP [EXP ...]")
    return opts

