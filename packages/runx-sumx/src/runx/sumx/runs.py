"""Finding runs below an experiment and reading what each holds."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, NamedTuple, Optional

from runx.logx.metrics_format import METRICS_FILE, summarize

RUN_MARKERS = ("run.json", "hparams.json", METRICS_FILE, "metrics.csv")

__all__ = ["Run", "find_runs", "load_run"]


class Run(NamedTuple):
    """One run's name, hyperparameters, final val metrics, best values, epoch, epoch time and state."""

    name: str
    hparams: Dict[str, Any]
    final: Dict[str, float]
    best: Dict[str, float]
    epoch: Optional[int]
    epoch_seconds: Optional[float]
    state: str
    warning: Optional[str]


def find_runs(exp_dir: str) -> List[str]:
    """Run directories at any depth below `exp_dir`, never inside code/ or dot-dirs."""
    found = []
    for root, dirs, files in os.walk(exp_dir):
        dirs[:] = sorted(d for d in dirs if d != "code" and not d.startswith("."))
        if root != exp_dir and any(m in files for m in RUN_MARKERS):
            found.append(root)
    return found


def _json(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_run(exp_dir: str, run_dir: str, goals: Dict[str, str]) -> Run:
    """Read one run; a broken or empty metrics file gives a warning, not an exception."""
    from runx.core.status import read_status

    hparams = _json(os.path.join(run_dir, "hparams.json")) or (_json(os.path.join(run_dir, "run.json")) or {}).get("hparams") or {}
    summary = summarize(run_dir)
    final: Dict[str, float] = {}
    best: Dict[str, float] = {}
    epoch = seconds = None
    warning = None
    if summary is None or "val" not in summary.phases:
        warning = "no val metrics yet"
    else:
        val = summary.phases["val"]
        final = {k: m.last for k, m in val.metrics.items()}
        best = {k: (m.min if goals.get(k) == "min" else m.max) for k, m in val.metrics.items()}
        epoch = val.last_step
        start = summary.start_time or summary.first_time
        if start is not None and val.last_time is not None and val.count:
            seconds = (val.last_time - start) / val.count
        if summary.torn:
            warning = "metrics.jsonl has a torn or corrupt line (skipped)"
    status = read_status(run_dir)
    state = "-" if status is None else status.state + (f" ({status.exit_code})" if status.state == "failed" else "")
    return Run(os.path.relpath(run_dir, exp_dir), hparams, final, best, epoch, seconds, state, warning)
