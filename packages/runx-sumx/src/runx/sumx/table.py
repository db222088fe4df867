"""The table as data: which columns, which rows (runs, or groups of runs), best first."""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from runx.logx.rundir.summary import Histories
from runx.sumx.errors import SumxError
from runx.sumx.goals import resolve_goals
from runx.sumx.reader import Run

DEFAULT_IGNORE = ("logdir", "command", "result_dir", "nbr_workers", "paths", "val_paths")

__all__ = ["DEFAULT_IGNORE", "Stat", "Row", "Table", "build_table", "latest_launch", "launch_time", "sort_metric_history"]


class Stat(namedtuple("Stat", "mean std n")):
    """Mean, sample standard deviation (None for one value) and count of a group's values."""

    __slots__ = ()
    mean: float
    std: Optional[float]
    n: int


class Row(namedtuple("Row", "experiment name names hparams final best epoch epoch_seconds state exit_code notes launch "
                           "run_notes trend", defaults=(None,))):
    """One line of the table: a run, or a group of runs that differ only in the --group-by keys.

    `trend` is the sort metric's sparkline when the runs' trends were drawn (a group's: its best run's).
    """

    __slots__ = ()
    experiment: str
    name: str
    names: Tuple[str, ...]
    hparams: Dict[str, Any]
    final: Dict[str, Any]
    best: Any
    epoch: Any
    epoch_seconds: Any
    state: Optional[str]
    exit_code: Optional[int]
    notes: Tuple[str, ...]
    launch: Optional[str]
    run_notes: Tuple[str, ...]
    trend: Optional[str]


class Table(namedtuple("Table", "experiments hparams metrics goals sort_metric group_by rows show_launch show_notes phase",
                       defaults=(False, False, "val"))):
    """Everything a renderer needs."""

    __slots__ = ()
    experiments: List[str]
    hparams: List[str]
    metrics: List[str]
    goals: Dict[str, str]
    sort_metric: Optional[str]
    group_by: List[str]
    rows: List[Row]
    show_launch: bool
    """Whether an experiment holds runs of more than one launch (then a `launched` column tells them apart)."""
    show_notes: bool
    """Whether the user's notes are shown (`--notes`)."""
    phase: str


def _key(value: Any) -> Any:
    """A value's identity for comparing hyperparameters across runs (1 and 1.0 and True all differ)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return (kind, value)
    import json

    return json.dumps(value, sort_keys=True, default=str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _best(run: Run, metric: Optional[str], goal: str) -> Any:
    m = run.metrics.get(metric) if metric else None
    if m is None:
        return None
    return m.min if goal == "min" else m.max


def _stat(values: Iterable[Any]) -> Optional[Stat]:
    import math  # only groups need it

    nums = [v for v in values if _is_number(v)]
    if not nums:
        return None
    odd = [v for v in nums if not math.isfinite(v)]
    if odd:  # a diverged run is part of the group: its NaN or infinity shows in the mean, not dropped
        mean = odd[0] if all(v == odd[0] for v in odd) else math.nan
        return Stat(mean, None if len(nums) == 1 else math.nan, len(nums))
    mean = math.fsum(nums) / len(nums)
    if len(nums) == 1:
        return Stat(mean, None, 1)
    var = math.fsum((v - mean) ** 2 for v in nums) / (len(nums) - 1)
    return Stat(mean, math.sqrt(var), len(nums))


def _mean(values: Iterable[Any]) -> Optional[float]:
    stat = _stat(values)
    return None if stat is None else stat.mean


def launch_time(launch: Optional[str]) -> str:
    """A launch id (`2026-12-02T16:18:02Z-4242`) as the local time it names, `2026-12-02 16:18:02`; an id of
    another shape as it is; '' for none."""
    if not launch:
        return ""
    import calendar
    import time

    try:
        when = calendar.timegm(time.strptime(launch[:20], "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return launch
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def state_text(state: Optional[str], exit_code: Optional[int]) -> Optional[str]:
    if state == "failed" and exit_code is not None:
        return f"failed ({exit_code})"
    return state


def _trend(run: Run, metric: Optional[str]) -> Optional[str]:
    return None if run.trends is None or metric is None else run.trends.get(metric)


def _run_rows(runs: List[Run], sort_metric: Optional[str], goal: str) -> List[Row]:
    """One row per run (built with Row._make, the cheap constructor: this runs once per run)."""
    make = Row._make
    best = 1 if goal == "min" else 2  # Metric is (last, min, max)
    no_metric = (None, None, None)
    if sort_metric is None:
        return [make((r.experiment, r.name, (r.name,), r.hparams, {k: m[0] for k, m in r.metrics.items()},
                      None, r.epoch, r.epoch_seconds, r.state, r.exit_code, r.notes, r.launch, r.run_notes, None))
            for r in runs]
    return [make((r.experiment, r.name, (r.name,), r.hparams, {k: m[0] for k, m in r.metrics.items()},
                  r.metrics.get(sort_metric, no_metric)[best], r.epoch, r.epoch_seconds, r.state, r.exit_code, r.notes,
                  r.launch, r.run_notes, _trend(r, sort_metric)))
            for r in runs]


def _distinct(values: Iterable[Any]) -> tuple:
    """Distinct values, numbers in numeric order, then the rest as first seen."""
    seen: Dict[str, Any] = {}
    for v in values:
        seen.setdefault(_key(v), v)
    nums = sorted((v for v in seen.values() if _is_number(v)))
    return tuple(nums + [v for v in seen.values() if not _is_number(v)])


def _group_rows(runs: List[Run], keys: Sequence[str], ignore: set, metrics: List[str],
                sort_metric: Optional[str], goal: str) -> List[Row]:
    groups: Dict[tuple, List[Run]] = {}
    for run in runs:
        ident = tuple(sorted((k, _key(v)) for k, v in run.hparams.items() if k not in keys and k not in ignore))
        groups.setdefault((run.experiment, ident), []).append(run)
    rows = []
    for (experiment, _), members in groups.items():
        first = members[0]
        hparams = {k: v for k, v in first.hparams.items() if k not in keys and k not in ignore}
        for k in keys:
            hparams[k] = _distinct(r.hparams[k] for r in members if k in r.hparams)
        final = {m: _stat(r.metrics[m].last for r in members if m in r.metrics) for m in metrics}
        states: Dict[str, int] = {}
        for r in members:
            text = state_text(r.state, r.exit_code)
            if text:  # runs without a status record (logx alone, 0.0.11) have no state
                states[text] = states.get(text, 0) + 1
        notes = tuple(dict.fromkeys(n for r in members for n in r.notes))
        launches = [r.launch for r in members if r.launch]
        ranked = [r for r in members if _is_number(_best(r, sort_metric, goal))]
        leader = min(ranked, key=lambda r: (1 if goal == "min" else -1) * _best(r, sort_metric, goal)) if ranked else first
        rows.append(Row(experiment, first.name, tuple(r.name for r in members), hparams,
                        {m: s for m, s in final.items() if s is not None},
                        _stat(_best(r, sort_metric, goal) for r in members),
                        _mean(r.epoch for r in members), _mean(r.epoch_seconds for r in members),
                        ", ".join(f"{n} {s}" for s, n in states.items()) or None, None, notes,
                        max(launches) if launches else None, tuple(n for r in members for n in r.run_notes),
                        _trend(leader, sort_metric)))
    return rows


def _differing(rows: List[Row], ignore: set) -> List[str]:
    """Hyperparameters whose values differ between rows, in first-seen order."""
    if len(rows) < 2:
        return []
    seen: Dict[str, Any] = {}  # the keys in first-seen order (values unused)
    for row in rows:
        seen.update(row.hparams)
    out = []
    for k in seen:
        if k in ignore:
            continue
        first = _key(rows[0].hparams[k]) if k in rows[0].hparams else None
        if any((_key(r.hparams[k]) if k in r.hparams else None) != first for r in rows[1:]):
            out.append(k)
    return out


def _default_sort_metric(metrics: List[str], explicit: Mapping[str, str], recorded: Mapping[str, str]) -> Optional[str]:
    """0.0.11's choice (the first metric named like a loss), else one with a configured goal, else the first."""
    return (_first_loss(metrics)
            or next((m for m in metrics if m in explicit or m in recorded), None)
            or (metrics[0] if metrics else None))


def _first_loss(metrics: Iterable[str]) -> Optional[str]:
    """The first metric, in sorted order, named like a loss."""
    return min((m for m in metrics if "loss" in m.lower()), default=None)


def sort_metric_history(phase: str, sortwith: Optional[str]) -> Histories:
    """The histories the table's sort metric needs, for runx.logx.rundir.summary: of `phase`, only `sortwith`'s;
    without it, each run's first metric named like a loss (the table's default sort metric is the first such metric
    of all runs, and a run that has that metric has it as its first), or all of a run that has no such metric
    (then the goals, known only once every run is read, decide)."""

    def pick(name: str, metrics: Iterable[str]) -> Union[bool, str]:
        if name != phase:
            return False
        return sortwith or _first_loss(metrics) or True

    return pick


def build_table(runs: List[Run], experiments: List[str], *, ignore: Sequence[str] = (), sortwith: Optional[str] = None,
                goals: Optional[Mapping[str, str]] = None, group_by: Sequence[str] = (),
                only_metrics: Optional[Sequence[str]] = None, found: Optional[List[Run]] = None,
                recorded: Optional[Mapping[str, str]] = None, notes: bool = False, phase: str = "val") -> Table:
    """Columns and sorted rows for `runs`.

    Option names are checked against `found` (the runs before filtering); `recorded` holds the
    goals of the experiment's METRICS as runx recorded them; `notes` shows the runs' notes (`--notes`).
    """
    explicit = dict(goals or {})
    ignore_set = set(DEFAULT_IGNORE) | set(ignore)
    found = runs if found is None else found
    recorded = dict(recorded or {})
    known: set = set()
    for run in found:
        known.update(run.metrics)
    all_metrics = sorted(known)
    have = ", ".join(all_metrics) or "none"
    if sortwith is not None and sortwith not in known:
        raise SumxError(f"--sortwith {sortwith}: no {phase} metric of that name (have: {have})")
    if only_metrics is not None:
        missing = [m for m in only_metrics if m not in known]
        if missing:
            raise SumxError(f"--metrics {','.join(missing)}: no {phase} metric of that name (have: {have})")
        shown = list(only_metrics)
    else:
        present = known
        if runs is not found:
            present = set()
            for run in runs:
                present.update(run.metrics)
        shown = [m for m in sorted(present) if m not in ignore_set]
    for key in group_by:
        if not any(key in r.hparams for r in found):
            raise SumxError(f"--group-by {key}: no hyperparameter of that name")
    resolved = resolve_goals(all_metrics, explicit, recorded)
    sort_metric = sortwith or _default_sort_metric(all_metrics, explicit, recorded)
    goal = resolved.get(sort_metric, "max") if sort_metric else "max"
    if group_by:
        rows = _group_rows(runs, group_by, ignore_set, shown, sort_metric, goal)
    else:
        rows = _run_rows(runs, sort_metric, goal)
    sign = 1 if goal == "min" else -1

    def order(row: Row) -> tuple:
        value = row.best
        if type(value) is Stat:
            value = value.mean
        if _is_number(value) and value == value:  # not NaN
            return (False, sign * value, row.experiment, row.name)
        return (True, 0, row.experiment, row.name)

    rows.sort(key=order)
    hparams = [k for k in _differing(rows, ignore_set | set(group_by))] + list(group_by)
    launches: Dict[str, set] = {}
    for run in runs:
        launches.setdefault(run.experiment, set()).add(run.launch)
    show_launch = any(len(ids) > 1 for ids in launches.values())
    return Table(experiments, hparams, shown, resolved, sort_metric, list(group_by), rows, show_launch, notes, phase)


def latest_launch(runs: List[Run]) -> List[Run]:
    """`--last`: of each experiment, only the runs of its latest launch (launch ids sort by time); an
    experiment whose runs record no launch (made by earlier versions) keeps them all."""
    latest: Dict[str, str] = {}
    for run in runs:
        if run.launch and run.launch > latest.get(run.experiment, ""):
            latest[run.experiment] = run.launch
    return [r for r in runs if r.experiment not in latest or r.launch == latest[r.experiment]]
