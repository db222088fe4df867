"""Building and printing the table: differing hyperparameters, final and best metrics, sorted best first."""
from __future__ import annotations

import csv
import math
import os
import sys
from typing import Any, Dict, List

from runx.sumx.errors import SumxError
from runx.sumx.runs import Run, find_runs, load_run

DEFAULT_IGNORE = ("logdir", "command", "result_dir", "nbr_workers", "paths", "val_paths")
LOWER_IS_BETTER = ("loss", "error", "err", "wer", "cer", "perplexity", "ppl", "mse", "mae", "rmse", "nll")


def goal_of(metric: str, goals: Dict[str, str]) -> str:
    """min or max: explicit goal, else min for loss/error-like names, else max."""
    if metric in goals:
        return goals[metric]
    lowered = metric.lower()
    return "min" if any(word in lowered for word in LOWER_IS_BETTER) else "max"


def fmt(value: Any) -> str:
    """Numbers readably: up to 4 significant digits, integers as integers."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 1e15):
        return str(int(value))
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def fmt_seconds(seconds: Any) -> str:
    """Seconds as H:MM:SS or M:SS."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def differing(runs: List[Run], ignore: set) -> List[str]:
    """Hyperparameters whose values differ between runs, in first-seen order."""
    keys: Dict[str, None] = {}
    for run in runs:
        keys.update(dict.fromkeys(run.hparams))
    return [k for k in keys if k not in ignore and len({repr(r.hparams.get(k)) for r in runs}) > 1]


def run(args: Any) -> int:
    """Summarize the experiments named on the command line."""
    logroot = args.logroot
    if logroot is None:
        from runx.core.config import config_logroot, locate_config
        from runx.core.errors import RunxError

        try:
            path = locate_config(args.config)
            if path is None:
                raise SumxError("no --logroot and no config found (tried -c, ./.runx, ~/.config/runx.yml)")
            logroot = str(config_logroot(path))
        except RunxError as err:
            raise SumxError(str(err)) from None
    ignore = set(DEFAULT_IGNORE) | set(filter(None, (args.ignore or "").split(",")))
    for name in args.dirs:
        exp_dir = name if os.path.isabs(name) else os.path.join(logroot, name)
        if not os.path.isdir(exp_dir):
            raise SumxError(f"{exp_dir}: no such experiment")
        goals: Dict[str, str] = {}
        runs = [load_run(exp_dir, d, goals) for d in find_runs(exp_dir)]
        if not runs:
            raise SumxError(f"{exp_dir}: no runs found")
        goals = {m: goal_of(m, goals) for r in runs for m in r.final}
        runs = [load_run(exp_dir, os.path.join(exp_dir, r.name), goals) for r in runs]
        print_table(runs, args, ignore, goals)
    return 0


def print_table(runs: List[Run], args: Any, ignore: set, goals: Dict[str, str]) -> None:
    """Sort, print, and optionally write CSV."""
    metrics: Dict[str, None] = {}
    for r in runs:
        metrics.update(dict.fromkeys(r.final))
    sort_metric = args.sortwith or next((m for m in metrics if goals.get(m) == "min"), next(iter(metrics), None))
    if args.sortwith and args.sortwith not in metrics:
        raise SumxError(f"--sortwith {args.sortwith}: no such val metric (have: {', '.join(metrics) or 'none'})")
    hparams = differing(runs, ignore)
    header = ["run"] + hparams + list(metrics)
    if sort_metric:
        header.append(f"{sort_metric}-best")
        sign = 1 if goals.get(sort_metric) == "min" else -1

        def key(r: Run):
            value = r.best.get(sort_metric)
            return (value is None or value != value, 0 if value is None or value != value else sign * value)

        runs = sorted(runs, key=key)
    header += ["epoch", "epoch time", "state"]
    rows = []
    for r in runs:
        row = [r.name] + [r.hparams.get(h) for h in hparams] + [r.final.get(m) for m in metrics]
        if sort_metric:
            row.append(r.best.get(sort_metric))
        row += [r.epoch, r.epoch_seconds, r.state]
        rows.append(row)
        if r.warning:
            sys.stderr.write(f"sumx: warning: {r.name}: {r.warning}\n")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    from tabulate import tabulate

    shown = [[fmt(v) for v in row[:-2]] + [fmt_seconds(row[-2]), row[-1]] for row in rows]
    print(tabulate(shown, headers=header, disable_numparse=True))
