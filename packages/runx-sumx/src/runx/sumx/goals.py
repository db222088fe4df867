"""Which way is better for a metric: "min" or "max"."""
from __future__ import annotations

from typing import Dict, Iterable, Mapping

from runx.sumx.errors import SumxError

# A name containing one of these is lower-is-better.
LOWER_SUBSTRINGS = ("loss", "error", "perplexity")
# A name with one of these as a word (split at anything that is not a letter) is lower-is-better:
# `val_wer`, `top1err`, `epoch_time`, but not `answer` or `runtime_ok`.
LOWER_WORDS = frozenset(("err", "wer", "cer", "ppl", "mse", "mae", "rmse", "nll", "time"))
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")

__all__ = ["default_goal", "parse_goals", "resolve_goals"]


def default_goal(metric: str) -> str:
    """min for loss/error-like names, else max."""
    lowered = metric.lower()
    words = "".join(c if c in _LETTERS else " " for c in lowered).split()  # no re: its import is 3 ms
    if any(s in lowered for s in LOWER_SUBSTRINGS) or not LOWER_WORDS.isdisjoint(words):
        return "min"
    return "max"


def parse_goals(specs: Iterable[str]) -> Dict[str, str]:
    """`--goal metric=min|max` options (each may hold several, comma separated)."""
    goals: Dict[str, str] = {}
    for spec in specs:
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, sep, goal = item.rpartition("=")
            if not sep or not name or goal not in ("min", "max"):
                raise SumxError(f"--goal {item}: expected METRIC=min or METRIC=max")
            goals[name] = goal
    return goals


def resolve_goals(metrics: Iterable[str], explicit: Mapping[str, str], recorded: Mapping[str, str]) -> Dict[str, str]:
    """Each metric's goal: the command line, else the experiment's METRICS (from run.json), else by name."""
    return {m: explicit.get(m) or recorded.get(m) or default_goal(m) for m in metrics}
