"""`runx ls [EXPERIMENT]`: the experiments under LOGROOT with their runs by state, or one experiment's runs."""
from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import Dict, List, Optional

from runx.core.argparser import Parser
from runx.core.ledger import LedgerEntry, duration_seconds, duration_text, plain_table, time_text
from runx.core.text import printable
from runx.runx.commands.common import (
    add_location_options,
    comparable_hparams,
    differing_keys,
    experiment_dir,
    hparams_text,
    logroot,
    new_parser,
    print_json,
    read_experiment,
    record_hparams,
    run_key,
)

__all__ = ["parser", "run", "experiments_under", "last_activity"]

EXAMPLES = """\
examples:
  runx ls                 every experiment under LOGROOT: runs by state, last activity
  runx ls sweep           the runs of sweep: state, started, duration, the hyperparameters that differ
  runx ls sweep --json    the same for scripts
"""


def parser(command: str = "ls") -> Parser:
    p = new_parser(command, "[options] [EXPERIMENT]",
                   "List the experiments under LOGROOT, or the runs of one experiment.", EXAMPLES)
    p.add_positional("experiment", "EXPERIMENT", "experiment name below LOGROOT (or a path to its directory)",
                     required=False)
    p.add_argument("--json", action="store_true", help="print JSON (times in Unix seconds)")
    add_location_options(p)
    return p


def experiments_under(root: Path) -> List[Path]:
    """The experiment folders directly below LOGROOT (not the trash nor other dot-folders), sorted."""
    from runx.logx.rundir.layout import not_searched

    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not not_searched(p.name))
    except OSError:
        return []


def last_activity(entries: List[LedgerEntry]) -> Optional[float]:
    """The latest time any run's status record names (queued, started or finished)."""
    times = [t for e in entries if e.status and not e.note for t in (e.status.queued, e.status.started, e.status.finished)
             if t is not None]
    return max(times) if times else None


def _states(entries: List[LedgerEntry]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for e in entries:
        counts[e.state] = counts.get(e.state, 0) + 1
    return counts


def _list_experiments(args: Namespace) -> int:
    from runx.core.ledger import ask_farms_about, read_ledger

    root = logroot(args)
    farms: dict = {}
    found = {exp: read_ledger(exp, ask_farms=False, farms=farms) for exp in experiments_under(root)}
    settled = iter(ask_farms_about([e for entries in found.values() for e in entries]))  # one query per farm in all
    by_exp = {exp: [next(settled) for _ in entries] for exp, entries in found.items()}
    if args.json:
        print_json({"logroot": str(root), "experiments": [
            {"experiment": exp.name, "path": str(exp), "runs": len(entries), "states": _states(entries),
             "last_activity": last_activity(entries)} for exp, entries in by_exp.items()]})
        return 0
    if not by_exp:
        print(printable(f"no experiments under {root}"))
        return 0
    rows = [[printable(exp.name), str(len(entries)),
             ", ".join(f"{n} {s}" for s, n in sorted(_states(entries).items())), time_text(last_activity(entries))]
            for exp, entries in by_exp.items()]
    print(plain_table(["experiment", "runs", "states", "last activity"], rows))
    return 0


def _order(e: LedgerEntry) -> tuple:
    queued = e.status.queued if e.status and e.status.queued is not None and not e.note else float("inf")
    return (queued, e.run_dir.name)


def _list_runs(args: Namespace) -> int:
    exp_dir = experiment_dir(args)
    entries = sorted(read_experiment(exp_dir), key=_order)
    hparams = [record_hparams(e) for e in entries]
    keys = differing_keys([comparable_hparams(e) for e in entries]) if len(entries) > 1 else list(hparams[0]) if hparams else []
    if args.json:
        print_json({"experiment": exp_dir.name, "path": str(exp_dir), "differing": keys, "runs": [
            {"run": run_key(e, exp_dir), "run_dir": str(e.run_dir), "state": e.state, "exit_code": e.exit_code,
             "started": e.status.started if e.status else None,
             "duration": None if e.note else duration_seconds(e.status, e.state), "hparams": hp, "note": e.note or None}
            for e, hp in zip(entries, hparams)]})
        return 0
    if not entries:
        print(printable(f"{exp_dir}: no runs"))
        return 0
    rows = [[printable(run_key(e, exp_dir)), e.state if e.exit_code in (None, 0) else f"{e.state} ({e.exit_code})",
             "" if e.note else time_text(e.status.started if e.status else None),
             "" if e.note else duration_text(e.status, e.state), printable(e.note) if e.note else hparams_text(hp, keys)]
            for e, hp in zip(entries, hparams)]
    print(plain_table(["run", "state", "started", "duration", "hparams"], rows))
    return 0


def run(command: str, args: Namespace) -> int:
    """List experiments (no EXPERIMENT) or one experiment's runs."""
    return _list_runs(args) if args.experiment else _list_experiments(args)
