"""`runx rm` and `runx restore`: move runs into the trash below LOGROOT and back; `runx rm --purge` empties it.

The trash of experiment `LOGROOT/<exp>` is `LOGROOT/.trash/<exp>/`, each run at the same path below it as
below the experiment. A run is moved with one os.rename (atomic, on the same filesystem): a run is either
where it was or in the trash, never half of each. Nothing outside the experiment and its trash is touched:
a symbolic link on the way, or a name with `..`, is refused; a queued or running run is refused.
"""
from __future__ import annotations

import os
import shutil
import sys
from argparse import Namespace
from pathlib import Path
from typing import List, Tuple

from runx.core.argparser import Parser
from runx.core.errors import RunxError
from runx.core.text import printable
from runx.runx.commands.common import (
    add_location_options,
    experiment_dir,
    logroot,
    new_parser,
    read_experiment,
    run_key,
    select_runs,
)

__all__ = ["parser", "run", "trash_of", "LIVE_STATES"]

LIVE_STATES = ("queued", "running", "staging")
"""States of a run that something may still write to: never moved."""
EXAMPLES = {
    "rm": """\
examples:
  runx rm sweep RUN [RUN ...]   move these runs to LOGROOT/.trash/sweep/
  runx rm sweep --failed        every failed run (--cancelled: every cancelled one)
  runx rm sweep -y              every run of sweep, without asking
  runx restore sweep RUN        bring a run back
  runx rm sweep --purge         delete sweep's trash for good (runx rm --purge: all of LOGROOT/.trash)
""",
    "restore": """\
examples:
  runx restore sweep RUN        move RUN back from LOGROOT/.trash/sweep/
  runx restore sweep            every run of sweep in the trash
""",
}


def parser(command: str = "rm") -> Parser:
    if command == "restore":
        p = new_parser(command, "[options] EXPERIMENT [RUN ...]",
                       "Move runs back from the trash (LOGROOT/.trash/EXPERIMENT) into their experiment.", EXAMPLES[command])
        p.add_positional("experiment", "EXPERIMENT", "experiment name below LOGROOT (or a path to its directory)")
        p.add_positional("runs", "RUN", "runs to restore (default: every run in the experiment's trash)", many=True,
                         required=False)
    else:
        p = new_parser(command, "[options] EXPERIMENT [RUN ...]",
                       "Move runs to the trash (LOGROOT/.trash/EXPERIMENT), asking first on a terminal; queued and "
                       "running runs are refused. --purge deletes the trash.", EXAMPLES[command])
        p.add_positional("experiment", "EXPERIMENT", "experiment name below LOGROOT (or a path to its directory); "
                         "optional with --purge", required=False)
        p.add_positional("runs", "RUN", "runs to move (default: every run, or those --failed/--cancelled select)",
                         many=True, required=False)
        p.add_argument("--failed", action="store_true", help="every failed run (also those that failed to stage)")
        p.add_argument("--cancelled", action="store_true", help="every cancelled run")
        p.add_argument("--purge", action="store_true", help="delete the experiment's trash (every experiment's without "
                                                            "EXPERIMENT) for good")
        p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_location_options(p)
    return p


def trash_of(exp_dir: Path) -> Path:
    """The trash folder of an experiment: `<LOGROOT>/.trash/<experiment>`."""
    from runx.logx.rundir.layout import TRASH_DIR

    return exp_dir.parent / TRASH_DIR / exp_dir.name


def _check_names(names: List[str]) -> None:
    for name in names:
        parts = name.rstrip("/").split("/")
        if not name.strip() or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise RunxError(printable(f"RUN {name!r}: expected a run name below the experiment (no '..', not absolute)"))


def _no_links(base: Path, rel: str) -> None:
    """RunxError when `base` or any folder from it down to `base/rel` is a symbolic link."""
    path = base
    for part in [""] + rel.split("/"):
        path = path / part if part else path
        if path.is_symlink():
            raise RunxError(printable(f"{path}: is a symbolic link; runx moves only what is inside the experiment"))


def _confirm(question: str, yes: bool) -> bool:
    """True with -y or without a terminal; else the user's answer."""
    if yes or not sys.stdin.isatty():
        return True
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _moves(pairs: List[Tuple[Path, Path]]) -> None:
    """Check every move first (the target free, one filesystem), then make each with one rename."""
    for source, target in pairs:
        if os.path.lexists(target):
            raise RunxError(printable(f"{target}: already exists; nothing moved"))
        probe = target.parent
        while not probe.exists():
            probe = probe.parent
        if os.stat(source).st_dev != os.stat(probe).st_dev:
            raise RunxError(printable(f"{source}: on another filesystem than {probe}; nothing moved"))
    for source, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)
        print(printable(f"{source.name}: moved to {target}"))


def _prune(folder: Path, keep: Path) -> None:
    """Remove `folder` and its parents while they are empty, up to (not including) `keep`."""
    while keep in folder.parents and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _remove(args: Namespace) -> int:
    from runx.core.explock import experiment_lock

    if not args.experiment:
        raise RunxError("runx rm: expected EXPERIMENT (only --purge may go without it)")
    _check_names(args.runs)
    exp_dir = experiment_dir(args)
    _no_links(exp_dir, "")
    with experiment_lock(exp_dir):  # no resubmit claims a run while it is being moved
        entries = read_experiment(exp_dir)
        chosen = select_runs(entries, exp_dir, args.runs) if args.runs else []
        if args.failed or args.cancelled:
            states = (("failed", "failed-to-stage") if args.failed else ()) + (("cancelled",) if args.cancelled else ())
            chosen += [e for e in entries if e.state in states and e not in chosen]
        elif not args.runs:
            chosen = entries
        if not chosen:
            print("nothing to remove")
            return 0
        live = [f"{run_key(e, exp_dir)} ({e.state})" for e in chosen if e.state in LIVE_STATES]
        if live:
            raise RunxError(printable(f"runx rm: {', '.join(live)} may still run; cancel first (runx cancel EXP RUN); "
                                      "nothing moved"))
        trash = trash_of(exp_dir)
        pairs = []
        for e in chosen:
            rel = run_key(e, exp_dir)
            _no_links(exp_dir, rel)
            pairs.append((e.run_dir, trash / rel))
        listing = "\n".join(f"  {printable(run_key(e, exp_dir))} ({e.state})" for e in chosen)
        if not _confirm(f"{listing}\nMove these {len(chosen)} run(s) to {printable(str(trash))}?", args.yes):
            print("nothing removed")
            return 0
        _moves(pairs)
        for source, _ in pairs:
            _prune(source.parent, exp_dir)  # a tag folder left empty; never the experiment itself
    print(printable(f"{len(pairs)} run(s) in {trash}; runx restore {exp_dir.name} [RUN ...] brings them back"))
    return 0


def _restore(args: Namespace) -> int:
    from runx.core.explock import experiment_lock
    from runx.core.ledger import find_runs

    _check_names(args.runs)
    exp_dir = experiment_dir(args)
    trash = trash_of(exp_dir)
    _no_links(exp_dir.parent, f"{trash.parent.name}/{trash.name}")
    if not trash.is_dir():
        print(printable(f"nothing to restore: {trash} does not exist"))
        return 0
    exp_dir.mkdir(exist_ok=True)
    with experiment_lock(exp_dir):
        in_trash = [(p, p.relative_to(trash).as_posix()) for p in find_runs(trash)]
        if args.runs:
            by_name = {rel: p for p, rel in in_trash}
            by_name.update((p.name, p) for p, _ in in_trash if p.name not in by_name)
            missing = [n for n in args.runs if n.rstrip("/") not in by_name]
            if missing:
                raise RunxError(printable(f"{trash}: no run named {', '.join(missing)} in the trash"))
            chosen = list(dict.fromkeys(by_name[n.rstrip("/")] for n in args.runs))
        else:
            chosen = [p for p, _ in in_trash]
        if not chosen:
            print("nothing to restore")
            return 0
        for p in chosen:
            _no_links(trash, p.relative_to(trash).as_posix())
        pairs = [(p, exp_dir / p.relative_to(trash)) for p in chosen]
        _moves(pairs)
        for source, _ in pairs:
            _prune(source.parent, exp_dir.parent)  # the emptied trash folders, up to LOGROOT
    print(printable(f"{len(pairs)} run(s) restored to {exp_dir}"))
    return 0


def _purge(args: Namespace) -> int:
    from runx.logx.rundir.layout import TRASH_DIR

    if args.runs or args.failed or args.cancelled:
        raise RunxError("runx rm --purge: deletes a whole trash; expected no RUN, --failed or --cancelled with it")
    if args.experiment:
        exp_dir = experiment_dir(args)
        trash = trash_of(exp_dir)
        _no_links(exp_dir.parent, f"{trash.parent.name}/{trash.name}")
    else:
        trash = logroot(args) / TRASH_DIR
        _no_links(trash, "")
    if not trash.is_dir():
        print(printable(f"nothing to purge: {trash} does not exist"))
        return 0
    from runx.core.ledger import find_runs

    count = len(find_runs(trash))
    if not _confirm(f"Delete {count} run(s) in {printable(str(trash))} for good?", args.yes):
        print("nothing deleted")
        return 0
    shutil.rmtree(trash)
    print(printable(f"deleted {count} run(s) in {trash}"))
    return 0


def run(command: str, args: Namespace) -> int:
    """rm, rm --purge or restore."""
    if command == "restore":
        return _restore(args)
    return _purge(args) if args.purge else _remove(args)
