"""`runx status|cancel|resubmit EXP ...`: what became of each run, and acting on it."""
from __future__ import annotations

import sys

from runx.core.errors import RunxError
from runx.runx.cli import ledger_parser
from runx.runx.commands.common import experiment_dir, print_json, read_experiment, select_runs

__all__ = ["ledger_main", "status_json"]


def _select(entries: list, exp_dir, names: list, default) -> list:
    return select_runs(entries, exp_dir, names) if names else [e for e in entries if default(e)]


def status_json(entries: list) -> list:
    """`runx status --json`: one object per run, times in Unix seconds."""
    from runx.core.ledger import duration_seconds

    out = []
    for e in entries:
        s = e.status
        out.append({"run": e.name, "run_dir": str(e.run_dir), "farm": e.farm_kind if e.farm else None,
                    "job_id": e.job_id, "state": e.state, "exit_code": e.exit_code,
                    "queued": s.queued if s else None, "started": s.started if s else None,
                    "finished": s.finished if s else None,
                    "duration": None if e.note else duration_seconds(s, e.state), "attempts": s.attempts if s else 0,
                    "note": e.note or None})
    return out


def _show_resubmit(chosen: list) -> int:
    """`runx resubmit -n`: the runs that would be resubmitted, each with its farm and command; nothing changes."""
    from runx.core.text import printable

    if not chosen:
        print("nothing to resubmit")
        return 0
    for e in chosen:
        command = e.record.get("command")
        print(printable(f"would resubmit {e.name} ({e.state}) on {e.farm_kind}: {command if isinstance(command, str) else '?'}"))
    return 0


def _not_trials(entries: list, named: bool) -> list:
    """Leave out (or, when named, refuse) the trials of an adaptive search: a rerun would not reach its
    study, which has told the trial failed; `runx EXP.yml --resume` continues the search instead."""
    from runx.core.text import printable

    trials = [e for e in entries if isinstance(e.record.get("sweep"), dict) and e.record["sweep"].get("method") == "tpe"]
    if trials and named:
        raise RunxError(printable(f"runx resubmit: {trials[0].name} is trial {trials[0].record['sweep'].get('trial')} of a "
                                  "search, whose study has counted it; continue the search with runx EXP.yml --resume"))
    for e in trials:
        sys.stderr.write(printable(f"runx: {e.name}: not resubmitted: a trial of a search (runx EXP.yml --resume continues it)") + "\n")
    return [e for e in entries if e not in trials]


def ledger_main(argv: list) -> int:
    """Dispatch a ledger subcommand; 0 ok, 1 when an action failed, 2 on bad input."""
    command, rest = argv[0], argv[1:]
    args = ledger_parser(command).read(rest)
    from runx.core.actions import skipped

    exp_dir = experiment_dir(args)
    if command == "status":
        entries = read_experiment(exp_dir)
        if args.json:
            print_json(status_json(entries))
        else:
            from runx.core.ledger import format_table

            print(format_table(entries))
        return 0
    if command == "cancel":
        entries = read_experiment(exp_dir)
        chosen = skipped(_select(entries, exp_dir, args.runs, lambda e: e.state in ("queued", "running") or e.note),
                         "cancelled")
        if not chosen:
            print("nothing to cancel: no run of this experiment is queued or running")
            return 0
        from runx.core.actions import cancel_runs

        return cancel_runs(chosen)
    if not args.failed and not args.runs:
        raise RunxError("runx resubmit: name runs, or pass --failed")
    from runx.core.actions import claim_runs, resubmit_runs
    from runx.core.explock import experiment_lock
    from runx.logx.rundir.status import INTERRUPTED_STATES

    with experiment_lock(exp_dir):  # choosing and claiming, one runx at a time
        entries = read_experiment(exp_dir)
        chosen = skipped(_select(entries, exp_dir, args.runs, lambda e: e.state in ("failed", "cancelled", *INTERRUPTED_STATES) or e.note),
                         "resubmitted")
        chosen = _not_trials(chosen, named=bool(args.runs))
        alive = [f"{e.name} ({e.state}{', job ' + e.job_id if e.job_id else ''})" for e in chosen if e.state in ("queued", "running")]
        if alive:
            raise RunxError(f"runx resubmit: {', '.join(alive)} may still run; cancel first (runx cancel EXP RUN)")
        if args.no_run:
            return _show_resubmit(chosen)
        claimed = claim_runs(chosen)
    return resubmit_runs(claimed)
