"""The SWEEP mapping of an adaptive search, validated into SearchOptions (pure; no Optuna)."""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional

from runx.core.errors import RunxError, did_you_mean
from runx.core.sweep import sweep_options

__all__ = ["EarlyStop", "SearchOptions", "search_options", "default_goal", "EARLY_STOP_METHODS"]

EARLY_STOP_METHODS = {
    "asha": ("min_epochs", "reduction", "grace"),
    "hyperband": ("min_epochs", "max_epochs", "reduction", "grace"),
    "median": ("warmup_epochs", "startup_trials", "grace"),
}
_DEFAULTS = {"min_epochs": 1, "reduction": 3, "warmup_epochs": 0, "startup_trials": 5, "grace": 10}
DEFAULT_PARALLEL = 1

# A name containing one of these is lower-is-better (as sumx decides a metric's goal).
_LOWER_SUBSTRINGS = ("loss", "error", "perplexity")
_LOWER_WORDS = frozenset(("err", "wer", "cer", "ppl", "mse", "mae", "rmse", "nll", "time"))


class EarlyStop(NamedTuple):
    """`SWEEP.early_stop`: the pruner and its settings (epochs are the steps logx records val metrics at);
    `grace`: seconds a pruned run has to stop by itself (logx.should_stop()) before its farm cancels it."""

    method: str
    min_epochs: int = 1
    max_epochs: Optional[int] = None
    reduction: int = 3
    warmup_epochs: int = 0
    startup_trials: int = 5
    grace: float = 10


class SearchOptions(NamedTuple):
    """A validated adaptive search: how many runs, how many at once, what to optimise and how to prune."""

    method: str
    trials: int
    parallel: int
    metric: str
    goal: str
    seed: int
    early_stop: Optional[EarlyStop]
    poll: Optional[float]


def default_goal(metric: str) -> str:
    """min for loss/error-like names, else max (the rule sumx applies to a metric without a goal)."""
    lowered = metric.lower()
    words = "".join(c if "a" <= c <= "z" else " " for c in lowered).split()
    if any(s in lowered for s in _LOWER_SUBSTRINGS) or not _LOWER_WORDS.isdisjoint(words):
        return "min"
    return "max"


def _count(value: Any, where: str, least: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise RunxError(f"{where}: expected a whole number of at least {least}, found {value!r}")
    return value


def _seconds(value: Any, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 86400:
        raise RunxError(f"{where}: expected a number of seconds (0 to 86400), found {value!r}")
    return float(value)


def _early_stop(value: Any, where: str) -> Optional[EarlyStop]:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"method": value}
    if not isinstance(value, dict) or "method" not in value:
        raise RunxError(f"{where}: expected a mapping with a method ({', '.join(EARLY_STOP_METHODS)}), "
                        f"e.g. {{method: asha, min_epochs: 1, reduction: 3}}, found {value!r}")
    method = value["method"]
    if method not in EARLY_STOP_METHODS:
        hint = did_you_mean(str(method), EARLY_STOP_METHODS)
        raise RunxError(f"{where}.method: unknown early stopping method {method!r}{hint}; "
                        f"expected one of {', '.join(EARLY_STOP_METHODS)}")
    known = EARLY_STOP_METHODS[method]
    fields: dict = {}
    for key, item in value.items():
        if key == "method":
            continue
        if key not in known:
            hint = did_you_mean(str(key), known)
            raise RunxError(f"{where}.{key}: not an option of {method}{hint}; expected {', '.join(known)}")
        if key == "grace":
            fields[key] = _seconds(item, f"{where}.{key}")
        else:
            least = 2 if key == "reduction" else 0 if key in ("warmup_epochs", "startup_trials") else 1
            fields[key] = _count(item, f"{where}.{key}", least)
    stop = EarlyStop(method, **{k: fields.get(k, _DEFAULTS[k]) for k in _DEFAULTS}, max_epochs=fields.get("max_epochs"))
    if stop.max_epochs is not None and stop.max_epochs <= stop.min_epochs:
        raise RunxError(f"{where}.max_epochs: expected more than min_epochs ({stop.min_epochs}), found {stop.max_epochs}")
    return stop


def search_options(sweep: Mapping[str, Any], source: str, metric_goals: Mapping[str, str]) -> SearchOptions:
    """Validate SWEEP for method tpe (or bayes, its other name); RunxError naming the key otherwise."""
    planned = sweep_options(sweep, source)  # method, the counts and seed; refuses unknown keys
    where = f"{source}: SWEEP"
    if "trials" not in sweep:
        raise RunxError(f"{where}.trials: missing; a {planned.method} search needs its budget, the number of runs to launch")
    if "replicas" in sweep:
        raise RunxError(f"{where}.replicas: does not combine with method {planned.method}; each trial is one run")
    if "parallel" in sweep:
        parallel = _count(sweep["parallel"], f"{where}.parallel")
    else:
        parallel = DEFAULT_PARALLEL
    metric = sweep.get("metric")
    early_stop = _early_stop(sweep.get("early_stop"), f"{where}.early_stop")
    if metric is None:
        need = "early_stop needs" if early_stop is not None else f"method {planned.method} needs"
        raise RunxError(f"{where}.metric: missing; {need} the val metric to optimise (a name the runs log with logx.metric('val', ...))")
    if not isinstance(metric, str) or not metric.strip():
        raise RunxError(f"{where}.metric: expected the name of a val metric, found {metric!r}")
    goal = sweep.get("goal", metric_goals.get(metric) or default_goal(metric))
    if goal not in ("min", "max"):
        raise RunxError(f"{where}.goal: expected min or max, found {goal!r}")
    poll = _seconds(sweep["poll"], f"{where}.poll") if "poll" in sweep else None
    return SearchOptions("tpe", planned.trials or 0, parallel, metric, goal, planned.seed, early_stop, poll)
