"""The pictures of `sumx --plot` and `--plot-hparams`, drawn with matplotlib (the optional extra runx-sumx[plot]).

Importing this module imports matplotlib (ImportError without it). Figures are made with
matplotlib.figure.Figure, no pyplot and no global backend: Agg for PNG, matplotlib's own SVG and PDF
writers. Each run's curve is a line whose SVG group id is `run-<i>` (its row in the table); text from
run directories is shown with mathtext off ($ escaped).
"""
from __future__ import annotations

import io
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from matplotlib.figure import Figure
from runx.sumx.pictures import curve_label
from runx.sumx.table import Row, Table

__all__ = ["curves", "hparams", "series", "hparam_axis"]

BEST_COLOR = "#d62728"
MAX_LEGEND = 12


def _text(text: str) -> str:
    """Text for matplotlib: `$` escaped (no mathtext from run files), a leading `_` kept visible in legends."""
    text = text.replace("\\", "\\\\").replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def series(history: Optional[Sequence[Tuple[int, Any]]]) -> Tuple[List[float], List[float]]:
    """(steps, values) of a thinned history, non-finite values as NaN (a gap in the line)."""
    if not history:
        return [], []
    steps = [float(s) for s, _ in history]
    values = [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan for _, v in history]
    return steps, values


def _histories(table: Table, runs: list, metric: str) -> List[Tuple[Row, Any]]:
    """(row, history of `metric`) for each row: a run's own, or for a group every member's."""
    by_name = {(r.experiment, r.name): r for r in runs}
    out = []
    for row in table.rows:
        members = [by_name.get((row.experiment, n)) for n in row.names]
        out.append((row, [(m.history or {}).get(metric) for m in members if m is not None]))
    return out


def _save(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Creator": None} if fmt == "pdf" else {"Date": None}
    fig.savefig(buf, format=fmt, dpi=100, metadata=metadata)
    return buf.getvalue()


def _band(histories: List[Any]) -> Tuple[List[float], List[float], List[float]]:
    """(steps, mean, std) over a group's histories, point by point up to the shortest."""
    parts = [series(h) for h in histories if h]
    if not parts:
        return [], [], []
    n = min(len(p[0]) for p in parts)
    steps = parts[0][0][:n]
    means, stds = [], []
    for i in range(n):
        vals = [p[1][i] for p in parts if p[1][i] == p[1][i]]
        mean = sum(vals) / len(vals) if vals else math.nan
        var = sum((v - mean) ** 2 for v in vals) / (len(vals) - 1) if len(vals) > 1 else 0.0
        means.append(mean)
        stds.append(math.sqrt(var))
    return steps, means, stds


def curves(table: Table, runs: list, metrics: Sequence[str], fmt: str) -> bytes:
    """One panel per metric, one curve per row over steps (a --group-by group: mean ± std band), the best
    row (the table's first) highlighted; the file's bytes in `fmt` (png, svg or pdf)."""
    several = len(table.experiments) > 1
    fig = Figure(figsize=(12, 3.6 * len(metrics) + 0.6))
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    colors = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"]
    for ax, metric in zip(axes, metrics):
        for i, (row, histories) in enumerate(_histories(table, runs, metric)):
            label = _text(curve_label(row, table.hparams, several)) if i < MAX_LEGEND else None
            best = i == 0
            color = BEST_COLOR if best else colors[i % len(colors)]
            width, alpha = (2.6, 1.0) if best else (1.0, 0.75 if len(table.rows) < 50 else 0.35)
            if table.group_by:
                steps, mean, std = _band(histories)
                if not steps:
                    continue
                line, = ax.plot(steps, mean, color=color, linewidth=width, alpha=alpha, label=label)
                ax.fill_between(steps, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)],
                                color=color, alpha=0.18, linewidth=0)
            else:
                steps, values = series(histories[0] if histories else None)
                if not steps:
                    continue
                line, = ax.plot(steps, values, color=color, linewidth=width, alpha=alpha, label=label,
                                zorder=3 if best else 2)
            line.set_gid(f"run-{i}")
        ax.set_ylabel(_text(metric))
        ax.set_xlabel("epoch" if table.phase == "val" else "step")
        ax.grid(True, alpha=0.3)
        title = f"{_text(metric)} ({table.phase}), {len(table.rows)} {'groups' if table.group_by else 'runs'}"
        if table.rows:  # the highlighted row is the best by the sort metric (the first), in every panel
            first = table.rows[0]
            by = "" if metric == table.sort_metric else f" by {_text(str(table.sort_metric))}"
            title += f", best{by}: {_text(f'{first.experiment}: {first.name}' if several else first.name)}"
        ax.set_title(title, fontsize=10)
        if 0 < len(table.rows):
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, title=None if len(table.rows) <= MAX_LEGEND
                      else f"first {MAX_LEGEND} of {len(table.rows)}", title_fontsize=7)
    fig.tight_layout()
    return _save(fig, fmt)


def hparam_axis(values: Sequence[Any]) -> Tuple[str, Dict[Any, float], List[Any]]:
    """How to place a hyperparameter's values on an axis: ("log" | "linear" | "category", position of each
    value's key, the distinct values in order). Positive numbers spanning a decade or more go on a log axis."""
    from runx.sumx.table import _distinct, _is_number, _key

    distinct = list(_distinct(values))
    numbers = [v for v in distinct if _is_number(v) and math.isfinite(v)]
    if numbers and len(numbers) == len(distinct):
        if min(numbers) > 0 and max(numbers) / min(numbers) >= 10:
            return "log", {_key(v): math.log10(v) for v in numbers}, distinct
        return "linear", {_key(v): float(v) for v in numbers}, distinct
    return "category", {_key(v): float(i) for i, v in enumerate(distinct)}, distinct


def _best_value(row: Row) -> Optional[float]:
    value = row.best
    value = getattr(value, "mean", value)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def hparams(table: Table, runs: list, metric: str, fmt: str) -> bytes:
    """The best `metric` of each row against each differing hyperparameter (a scatter each, log axis where
    the values span a decade or more), then parallel coordinates of all of them with the metric last."""
    from runx.sumx.render import fmt_hparam
    from runx.sumx.table import _key

    names = [h for h in table.hparams if h not in table.group_by]
    ranked = [(r, v) for r in table.rows for v in [_best_value(r)] if v is not None]
    rows = [r for r, _ in ranked]
    ys = [v for _, v in ranked]
    panels = len(names) + 1
    cols = min(3, max(1, len(names)))
    grid_rows = -(-len(names) // cols) + 1
    fig = Figure(figsize=(4 * cols, 3.3 * grid_rows + 0.4))
    grid = fig.add_gridspec(grid_rows, cols)
    goal = table.goals.get(metric, "max")
    for n, name in enumerate(names):
        ax = fig.add_subplot(grid[n // cols, n % cols])
        kind, pos, distinct = hparam_axis([r.hparams.get(name) for r in rows if name in r.hparams])
        pts = [(pos[_key(r.hparams[name])], y, i) for i, (r, y) in enumerate(zip(rows, ys)) if name in r.hparams]
        if kind == "log":
            ax.set_xscale("log")
            pts = [(10 ** x, y, i) for x, y, i in pts]
        pts.sort(key=lambda p: -p[2])  # the best row last, on top
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=18, alpha=0.7,
                   c=[BEST_COLOR if p[2] == 0 else "#1f77b4" for p in pts])
        if kind == "category":
            ax.set_xticks(range(len(distinct)))
            ax.set_xticklabels([_text(fmt_hparam(v))[:16] for v in distinct], rotation=30, fontsize=7)
        ax.set_xlabel(_text(name))
        ax.set_ylabel(_text(f"{metric} ({'min' if goal == 'min' else 'max'})"))
        ax.grid(True, alpha=0.3)
    ax = fig.add_subplot(grid[grid_rows - 1, :])
    axis_names = names + [metric]
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    placed = {}
    for name in names:
        kind, pos, _ = hparam_axis([r.hparams.get(name) for r in rows if name in r.hparams])
        vals = list(pos.values()) or [0.0]
        placed[name] = (pos, min(vals), max(vals))
    for i, (row, y) in enumerate(zip(rows, ys)):
        xs, coords = [], []
        for j, name in enumerate(names):
            if name in row.hparams:
                pos, a, b = placed[name]
                xs.append(j)
                coords.append(0.5 if b == a else (pos[_key(row.hparams[name])] - a) / (b - a))
        xs.append(len(names))
        coords.append(0.5 if hi == lo else (y - lo) / (hi - lo))
        shade = (y - lo) / (hi - lo) if hi != lo else 0.5
        if goal == "min":
            shade = 1 - shade
        line, = ax.plot(xs, coords, color=BEST_COLOR if i == 0 else (0.1, 0.3 + 0.5 * shade, 0.9 - 0.6 * shade),
                        linewidth=2.4 if i == 0 else 0.9, alpha=1.0 if i == 0 else 0.6, zorder=3 if i == 0 else 2)
        line.set_gid(f"run-{i}")
    ax.set_xticks(range(len(axis_names)))
    ax.set_xticklabels([_text(n) for n in axis_names], fontsize=8)
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["low", "high"], fontsize=7)
    ax.set_title(f"parallel coordinates: {_text(metric)} ({table.phase}), {len(rows)} of {len(table.rows)} rows, "
                 f"{panels - 1} hyperparameters", fontsize=10)
    ax.grid(True, axis="x", alpha=0.5)
    fig.tight_layout()
    return _save(fig, fmt)
