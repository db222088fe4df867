"""`runx show EXPERIMENT RUN`: everything about one run, from its run directory and its farm."""
from __future__ import annotations

import os
from argparse import Namespace
from pathlib import Path
from typing import Any, List, Tuple

from runx.core.argparser import Parser
from runx.core.ledger import LedgerEntry, duration_text, time_text
from runx.core.text import printable
from runx.runx.commands.common import (
    add_location_options,
    experiment_dir,
    find_run,
    hparams_text,
    new_parser,
    print_json,
    read_experiment,
    record_hparams,
    run_key,
    value_text,
)

__all__ = ["parser", "run", "run_files", "metrics_lines"]

EXAMPLES = """\
examples:
  runx show sweep RUN           command, hparams, farm and job id, state, git commit, latest metrics, files, notes
  runx show sweep RUN --json
"""
LOG_SUFFIXES = (".log", ".out", ".err")


def parser(command: str = "show") -> Parser:
    p = new_parser(command, "[options] EXPERIMENT RUN", "Show everything runx knows about one run.", EXAMPLES)
    p.add_positional("experiment", "EXPERIMENT", "experiment name below LOGROOT (or a path to its directory)")
    p.add_positional("run", "RUN", "run name (its folder below the experiment)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_location_options(p)
    return p


def run_files(run_dir: Path) -> Tuple[List[Path], List[Path], bool]:
    """(log files, checkpoints, whether it has TensorBoard event files) of a run directory, sorted by name."""
    from runx.logx.rundir.layout import STATUS_FILE, TFEVENTS_PREFIX, is_checkpoint

    logs, checkpoints, events = [], [], False
    try:
        names = sorted(e.name for e in os.scandir(run_dir) if e.is_file(follow_symlinks=False))
    except OSError:
        return [], [], False
    for name in names:
        if is_checkpoint(name):
            checkpoints.append(run_dir / name)
        elif name.endswith(LOG_SUFFIXES) and name != STATUS_FILE:
            logs.append(run_dir / name)
        events = events or name.startswith(TFEVENTS_PREFIX)
    return logs, checkpoints, events


def _metrics(run_dir: Path) -> dict:
    """{phase: {"step": last step, "metrics": {name: {"last", "min", "max"}}}} from the run's metrics summary."""
    from runx.logx.rundir.summary import summarize

    summary = summarize(str(run_dir))
    if summary is None:
        return {}
    return {phase: {"step": p.last_step,
                    "metrics": {m: {"last": s.last, "min": s.min, "max": s.max} for m, s in p.metrics.items()}}
            for phase, p in summary.phases.items()}


def metrics_lines(metrics: dict) -> List[str]:
    """One printable line per phase: `val (step 3): acc=0.9 (min 0.5, max 0.9) ...`."""
    lines = []
    for phase, p in metrics.items():
        shown = "  ".join(f"{printable(m)}={value_text(s['last'])} (min {value_text(s['min'])}, max {value_text(s['max'])})"
                          for m, s in p["metrics"].items())
        lines.append(f"{printable(phase)} (step {p['step']}): {shown}")
    return lines


def _text(value: Any) -> str:
    return printable(value) if isinstance(value, str) else "-" if value is None else value_text(value)


def _git(record: dict) -> str:
    git = record.get("git")
    if not isinstance(git, dict):
        return "not recorded (the source was not a git checkout)"
    commit, dirty = git.get("commit"), git.get("dirty")
    return f"{_text(commit)}{' (with uncommitted changes)' if dirty else ''}"


def _details(entry: LedgerEntry, exp_dir: Path) -> dict:
    from runx.logx.rundir.notes import read_notes

    record, status = entry.record, entry.status
    logs, checkpoints, events = run_files(entry.run_dir)
    farm: dict = record["farm"] if isinstance(record.get("farm"), dict) else {}
    ids = record.get("job_ids") if isinstance(record.get("job_ids"), list) else []
    return {
        "run": run_key(entry, exp_dir), "experiment": record.get("experiment") or exp_dir.name,
        "run_dir": str(entry.run_dir), "command": record.get("command"),
        "hparams": record_hparams(entry),
        "farm": farm.get("name") or entry.farm_kind, "farm_type": entry.farm_kind, "job_id": entry.job_id,
        "job_ids": ids, "state": entry.state, "exit_code": entry.exit_code,
        "attempts": status.attempts if status else 0, "queued": status.queued if status else None,
        "started": status.started if status else None, "finished": status.finished if status else None,
        "git": record.get("git"), "launch": record.get("launch"), "created": record.get("created"),
        "metrics": _metrics(entry.run_dir), "logs": [str(p) for p in logs], "checkpoints": [str(p) for p in checkpoints],
        "tensorboard": str(entry.run_dir) if events else None,
        "notes": [{"time": n.time, "text": n.text} for n in read_notes(str(entry.run_dir))], "problem": entry.note or None,
    }


def _print(d: dict, entry: LedgerEntry) -> None:
    lines: List[Tuple[str, Any]] = [("run", d["run"]), ("experiment", d["experiment"]), ("directory", d["run_dir"]),
                                    ("command", d["command"])]
    lines.append(("hparams", hparams_text(d["hparams"]) or "-"))
    job = f", job {_text(d['job_id'])}" if d["job_id"] else ""
    earlier = [i for i in d["job_ids"] if i != d["job_id"]]
    job += f" (earlier: {', '.join(_text(i) for i in earlier)})" if earlier else ""
    lines.append(("farm", f"{_text(d['farm'])} ({_text(d['farm_type'])}){job}"))
    exit_text = "" if d["exit_code"] is None else f", exit {d['exit_code']}"
    lines.append(("state", f"{d['state']}{exit_text}, {d['attempts']} attempt(s)"))
    if d["problem"]:
        lines.append(("problem", d["problem"]))
    if d["started"] is not None and not d["problem"]:
        ran = duration_text(entry.status, entry.state)
        lines.append(("started", time_text(d["started"]) + (f", ran {ran}" if ran else "")))
    lines.append(("git", _git(entry.record)))
    if d["launch"] or d["created"]:
        lines.append(("launched", f"{_text(d['launch'] or d['created'])}"))
    metrics = metrics_lines(d["metrics"])
    lines += [("metrics" if i == 0 else "", m) for i, m in enumerate(metrics)] or [("metrics", "none yet")]
    lines += [("logs" if i == 0 else "", p) for i, p in enumerate(d["logs"])]
    lines += [("checkpoints" if i == 0 else "", p) for i, p in enumerate(d["checkpoints"])]
    if d["tensorboard"]:
        lines.append(("tensorboard", f"tensorboard --logdir {d['tensorboard']}"))
    for i, note in enumerate(d["notes"]):
        for j, text in enumerate(note["text"].split("\n")):
            lines.append(("notes" if i == j == 0 else "", f"{note['time'] or '?'}  {text}" if j == 0 else f"{' ' * 20}  {text}"))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key.ljust(width)}  {_text(value) if not isinstance(value, str) else printable(value)}".rstrip())


def run(command: str, args: Namespace) -> int:
    """Print one run's details."""
    exp_dir = experiment_dir(args)
    entry = find_run(read_experiment(exp_dir), exp_dir, args.run)
    details = _details(entry, exp_dir)
    if args.json:
        print_json(details)
    else:
        _print(details, entry)
    return 0
