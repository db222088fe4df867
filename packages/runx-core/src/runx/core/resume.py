"""`--resume`: leave out the configurations that already have a succeeded, queued or running run."""
from __future__ import annotations

import json
from typing import Any

from runx.core.plan import Plan
from runx.core.yamlfile import EXPONENT_NUMBER

__all__ = ["drop_done", "configuration_key"]

LIVE_OR_DONE = ("succeeded", "queued", "running")


def _plain(value: Any, logdir: str) -> Any:
    if isinstance(value, str) and logdir and logdir in value:
        return value.replace(logdir, "LOGDIR")
    if isinstance(value, str) and EXPONENT_NUMBER.fullmatch(value):
        return float(value)  # `1e-5`: now a number, text in runs made by earlier versions
    if isinstance(value, float):
        return float(value)
    return value


def configuration_key(tag: Any, hparams: dict, logdir: str = "") -> str:
    """What makes two runs the same configuration: tag and hyperparameters, LOGDIR unsubstituted."""
    return json.dumps([tag, {k: _plain(v, logdir) for k, v in hparams.items()}], sort_keys=True, default=str)


def drop_done(plan: Plan) -> tuple:
    """(the plan without configurations already done or live, how many were left out)."""
    if not plan.exp_dir.is_dir():
        return plan, 0
    import sys

    from runx.core.ledger import read_ledger

    taken = set()
    for entry in read_ledger(plan.exp_dir):
        if entry.note:
            from runx.core.text import printable

            sys.stderr.write(printable(f"runx: warning: --resume: {entry.name}: skipped: {entry.note}; its configuration "
                                       "may be launched again") + "\n")
            continue
        if not entry.record and entry.state in LIVE_OR_DONE:
            sys.stderr.write(f"runx: warning: --resume: {entry.run_dir / 'run.json'} is unreadable, so its run's "
                             f"configuration ({entry.state}) is unknown and may be launched again\n")
        if entry.state in LIVE_OR_DONE:
            record = entry.record
            taken.add(configuration_key(record.get("tag"), record.get("hparams") or {}, record.get("job_logdir") or ""))
    remaining = [r for r in plan.runs if configuration_key(r.tag, dict(r.combination.hparams)) not in taken]
    return plan.with_runs(remaining), len(plan.runs) - len(remaining)
