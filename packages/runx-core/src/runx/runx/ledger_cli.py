"""`runx status|cancel|resubmit EXP ...`: what became of each run, and acting on it."""
from __future__ import annotations

import os
from argparse import Namespace
from pathlib import Path

from runx.core.errors import RunxError
from runx.runx.cli import ledger_parser

__all__ = ["ledger_main"]


def _exp_dir(args: Namespace) -> Path:
    given = Path(args.experiment)
    as_path = given.is_dir() and (given.is_absolute() or args.logroot is None and "/" in args.experiment)
    if as_path:  # a path: anything but the current directory itself
        refused = all(p in ("", ".") for p in args.experiment.split("/"))
    else:  # a name: it must lead below LOGROOT
        normal = os.path.normpath(args.experiment.strip() or ".")
        refused = normal in (".", "..") or normal.startswith(("../", "/"))
    if refused:
        raise RunxError(f"EXPERIMENT: expected an experiment name below LOGROOT or a path to one, found {args.experiment!r}")
    if as_path:
        return given
    if args.logroot:
        return Path(args.logroot) / args.experiment
    from runx.core.config import config_logroot, locate_config

    config = locate_config(args.config_file)
    if config is None:
        raise RunxError("no --logroot and no config found (tried -c, .runx here or in a folder above, ~/.config/runx.yml)")
    return config_logroot(config) / args.experiment


def _select(entries: list, names: list, default) -> list:
    if not names:
        return [e for e in entries if default(e)]
    by_name = {e.name: e for e in entries}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise RunxError(f"no run named {', '.join(missing)} in this experiment")
    return [by_name[n] for n in names]


def _read(exp_dir: Path) -> list:
    from runx.core.ledger import read_ledger

    entries = read_ledger(exp_dir)
    experiments = sorted({str(e.record["experiment"]) for e in entries if e.record.get("experiment")})
    if len(experiments) > 1:
        shown = ", ".join(experiments[:5]) + (", ..." if len(experiments) > 5 else "")
        raise RunxError(f"{exp_dir}: holds the runs of {len(experiments)} experiments ({shown}); name one of them")
    return entries


def ledger_main(argv: list) -> int:
    """Dispatch a ledger subcommand; 0 ok, 1 when an action failed, 2 on bad input."""
    command, rest = argv[0], argv[1:]
    args = ledger_parser(command).read(rest)
    from runx.core.actions import skipped

    exp_dir = _exp_dir(args)
    if command == "status":
        from runx.core.ledger import format_table

        print(format_table(_read(exp_dir)))
        return 0
    if command == "cancel":
        entries = _read(exp_dir)
        chosen = skipped(_select(entries, args.runs, lambda e: e.state in ("queued", "running") or e.note), "cancelled")
        from runx.core.actions import cancel_runs

        return cancel_runs(chosen)
    if not args.failed and not args.runs:
        raise RunxError("runx resubmit: name runs, or pass --failed")
    from runx.core.actions import claim_runs, resubmit_runs
    from runx.core.explock import experiment_lock

    with experiment_lock(exp_dir):  # choosing and claiming, one runx at a time
        entries = _read(exp_dir)
        chosen = skipped(_select(entries, args.runs, lambda e: e.state in ("failed", "cancelled") or e.note), "resubmitted")
        alive = [f"{e.name} ({e.state}{', job ' + e.job_id if e.job_id else ''})" for e in chosen if e.state in ("queued", "running")]
        if alive:
            raise RunxError(f"runx resubmit: {', '.join(alive)} may still run; cancel first (runx cancel EXP RUN)")
        claimed = claim_runs(chosen)
    return resubmit_runs(claimed)
