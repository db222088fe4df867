"""`sumx EXP --html FILE`: one self-contained HTML page (no network: styles, script and pictures inline).

The table (click a header to sort, a box to filter), the sort metric's curves, the best value
against each differing hyperparameter and parallel coordinates, as inline SVG drawn here (no
matplotlib needed), and the experiment's git commit and commands. Everything that comes from a run
directory is escaped (html.escape) before it reaches the page; the script holds no data.
"""
from __future__ import annotations

import math
import os
from collections import Counter
from html import escape
from typing import Any, Dict, List, Optional, Sequence, Tuple

from runx.sumx.table import Row, Table

__all__ = ["report", "curves_svg", "scatter_svg", "parallel_svg", "sort_key"]

BEST = "#d62728"
OTHER = "#1f77b4"

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
.meta { color: #555; } .meta code { background: #f3f3f3; padding: 0 .3em; }
table { border-collapse: collapse; margin-top: .5em; }
th, td { padding: .2em .6em; border-bottom: 1px solid #ddd; white-space: nowrap; }
th { cursor: pointer; background: #f5f5f5; user-select: none; }
th.asc::after { content: " \\25B2"; } th.desc::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { font-weight: 600; }
#filter { padding: .3em; width: 24em; }
svg { background: #fff; border: 1px solid #eee; margin: .3em .6em .3em 0; }
svg text { font: 11px sans-serif; fill: #333; }
.views { display: flex; flex-wrap: wrap; }
"""

SCRIPT = """
(function () {
  var table = document.getElementById('runs');
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function key(cell, numeric) {
    if (!numeric) { return cell.textContent.toLowerCase(); }
    var v = parseFloat(cell.getAttribute('data-v'));
    return isNaN(v) ? null : v;
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener('click', function () {
      var numeric = th.classList.contains('num');
      var up = !th.classList.contains('asc');
      Array.prototype.forEach.call(heads, function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(up ? 'asc' : 'desc');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
        if (x === null || y === null) { return (x === null) - (y === null); }
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  var box = document.getElementById('filter');
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      var text = r.textContent.toLowerCase();
      var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
      r.style.display = keep ? '' : 'none';
      shown += keep ? 1 : 0;
    });
    document.getElementById('shown').textContent = shown;
  });
})();
"""


def sort_key(text: str) -> Optional[float]:
    """The number a numeric cell sorts by: `a ± b` by a, H:MM:SS and M:SS as seconds; None for none."""
    text = text.split(" ± ")[0].strip()
    if not text:
        return None
    try:
        if ":" in text:
            total = 0.0
            for part in text.split(":"):
                total = total * 60 + float(part)
            return total
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _num(value: Any) -> Optional[float]:
    value = getattr(value, "mean", value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _fmt(x: float) -> str:
    return f"{x:.4g}"


class _Scale:
    """Maps data to pixels on one axis (log10 when asked)."""

    def __init__(self, lo: float, hi: float, a: float, b: float, log: bool = False) -> None:
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        self.lo, self.hi, self.a, self.b, self.log = lo, hi, a, b, log

    def __call__(self, v: float) -> float:
        if self.log:
            v = math.log10(v)
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ends(self) -> Tuple[float, float]:
        return (10 ** self.lo, 10 ** self.hi) if self.log else (self.lo, self.hi)


def _frame(width: int, height: int, title: str, xlabel: str, ylabel: str, xs: _Scale, ys: _Scale,
           left: int, bottom: int) -> List[str]:
    x0, x1 = xs.ends()
    y0, y1 = ys.ends()
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<title>{escape(title)}</title>',
        f'<text x="{width / 2:.0f}" y="14" text-anchor="middle">{escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#999"/>',
        f'<line x1="{left}" y1="20" x2="{left}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="{left}" y="{height - bottom + 14}">{escape(_fmt(x0))}</text>',
        f'<text x="{width - 10}" y="{height - bottom + 14}" text-anchor="end">{escape(_fmt(x1))}</text>',
        f'<text x="{width / 2:.0f}" y="{height - 4}" text-anchor="middle">{escape(xlabel)}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">{escape(_fmt(y0))}</text>',
        f'<text x="{left - 4}" y="28" text-anchor="end">{escape(_fmt(y1))}</text>',
        f'<text x="12" y="{(height - bottom) / 2:.0f}" transform="rotate(-90 12 {(height - bottom) / 2:.0f})" '
        f'text-anchor="middle">{escape(ylabel)}</text>',
    ]


def curves_svg(rows: Sequence[Tuple[str, Sequence[Tuple[int, Any]]]], metric: str, xlabel: str,
               width: int = 900, height: int = 360) -> str:
    """One path per (label, history), the first (the best) highlighted and drawn on top."""
    finite = [(float(s), float(v)) for _, h in rows for s, v in h
              if isinstance(v, (int, float)) and math.isfinite(v)]
    if not finite:
        return ""
    xs = _Scale(min(p[0] for p in finite), max(p[0] for p in finite), 60, width - 10)
    ys = _Scale(min(p[1] for p in finite), max(p[1] for p in finite), height - 30, 20)
    out = _frame(width, height, f"{metric}: {len(rows)} curves", xlabel, metric, xs, ys, 60, 30)
    for i in reversed(range(len(rows))):
        label, history = rows[i]
        d, pen = [], "M"
        for s, v in history:
            if isinstance(v, (int, float)) and math.isfinite(v):
                d.append(f"{pen}{xs(float(s)):.1f} {ys(float(v)):.1f}")
                pen = "L"
            else:
                pen = "M"  # a gap where the value is NaN or infinite
        style = f'stroke="{BEST}" stroke-width="2.5"' if i == 0 else f'stroke="{OTHER}" stroke-width="1" stroke-opacity=".5"'
        out.append(f'<path id="run-{i}" class="run" d="{" ".join(d)}" fill="none" {style}>'
                   f'<title>{escape(label)}</title></path>')
    out.append("</svg>")
    return "".join(out)


def scatter_svg(points: Sequence[Tuple[Any, float, str]], name: str, metric: str,
                width: int = 300, height: int = 230) -> str:
    """The metric against one hyperparameter: log axis where positive numbers span a decade or more, categories
    in order otherwise; the first point (the best run) highlighted."""
    from runx.sumx.render import fmt_hparam
    from runx.sumx.table import _distinct, _is_number, _key

    distinct = list(_distinct([p[0] for p in points]))
    numeric = all(_is_number(v) and math.isfinite(v) for v in distinct)
    ys = _Scale(min(p[1] for p in points), max(p[1] for p in points), height - 30, 22)
    if numeric:
        lo, hi = min(distinct), max(distinct)
        log = lo > 0 and hi / lo >= 10
        xs = _Scale(lo, hi, 60, width - 12, log)
        place = {_key(v): xs(v) for v in distinct}
    else:
        xs = _Scale(0, max(1, len(distinct) - 1), 60, width - 12)
        place = {_key(v): xs(i) for i, v in enumerate(distinct)}
    out = _frame(width, height, f"{metric} by {name}", name + (" (log)" if numeric and xs.log else ""), metric,
                 xs, ys, 60, 30)
    if not numeric:
        out += [f'<text x="{place[_key(v)]:.1f}" y="{height - 18}" text-anchor="middle">'
                f'{escape(fmt_hparam(v)[:12])}</text>' for v in distinct[:12]]
    for i in reversed(range(len(points))):
        value, y, label = points[i]
        color = BEST if i == 0 else OTHER
        out.append(f'<circle cx="{place[_key(value)]:.1f}" cy="{ys(y):.1f}" r="{4 if i == 0 else 3}" fill="{color}" '
                   f'fill-opacity=".7"><title>{escape(label)}</title></circle>')
    out.append("</svg>")
    return "".join(out)


def parallel_svg(rows: Sequence[Row], names: Sequence[str], metric: str, labels: Sequence[str],
                 width: int = 900, height: int = 300) -> str:
    """Parallel coordinates: one axis per hyperparameter and the metric last, one line per row."""
    from runx.sumx.table import _distinct, _key

    axes = list(names) + [metric]
    step = (width - 120) / max(1, len(axes) - 1)
    top, bottom = 30, height - 40
    spots: List[Dict[Any, float]] = []
    for name in names:
        distinct = list(_distinct([r.hparams.get(name) for r in rows if name in r.hparams]))
        spots.append({_key(v): bottom - (i / max(1, len(distinct) - 1)) * (bottom - top) for i, v in enumerate(distinct)})
    best = [_num(r.best) for r in rows]
    values = [v for v in best if v is not None]
    ys = _Scale(min(values), max(values), bottom, top) if values else None
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           f'<title>{escape(f"parallel coordinates of {metric}")}</title>']
    for j, name in enumerate(axes):
        x = 60 + j * step
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#999"/>'
                   f'<text x="{x:.1f}" y="{height - 20}" text-anchor="middle">{escape(name)}</text>')
    for i in reversed(range(len(rows))):
        value = best[i]
        if value is None or ys is None:
            continue
        pts = [(60 + j * step, spots[j][_key(rows[i].hparams[n])]) for j, n in enumerate(names) if n in rows[i].hparams]
        pts.append((60 + len(names) * step, ys(value)))
        style = f'stroke="{BEST}" stroke-width="2.5"' if i == 0 else f'stroke="{OTHER}" stroke-width="1" stroke-opacity=".45"'
        d = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f} {y:.1f}" for k, (x, y) in enumerate(pts))
        out.append(f'<path d="{d}" fill="none" {style}><title>{escape(labels[i])}</title></path>')
    out.append("</svg>")
    return "".join(out)


def _commit_of(record: Any) -> Optional[str]:
    """The git commit a run.json records, with " (dirty)" when the source had uncommitted changes; else None."""
    git = record.get("git") if isinstance(record, dict) else None
    if isinstance(git, dict) and isinstance(git.get("commit"), str):
        return git["commit"] + (" (dirty)" if git.get("dirty") is True else "")
    return None


def _provenance(paths: List[str]) -> Tuple[Optional[str], Optional[str], Optional[str], List[Tuple[str, int]]]:
    """(git commit, training command, the runx command that launched it) from the first of these runs'
    run.json that records them (the best run first), and every commit the runs record with its number of
    runs, the most common first."""
    from runx.logx.rundir.codec import read_json
    from runx.logx.rundir.layout import RUN_FILE

    first: Tuple[Optional[str], Optional[str], Optional[str]] = (None, None, None)
    counts: Counter[str] = Counter()
    for path in paths:
        record, _ = read_json(os.path.join(path, RUN_FILE))
        if not isinstance(record, dict):
            continue
        commit = _commit_of(record)
        if commit:
            counts[commit] += 1
        if first == (None, None, None):
            command, launched = record.get("command"), record.get("launch_command")
            first = (commit, command if isinstance(command, str) else None, launched if isinstance(launched, str) else None)
    return (*first, counts.most_common())


def _commits_text(commits: List[Tuple[str, int]], shown: int = 5) -> str:
    """`abc (3 runs), def (1 run)`, the first `shown` of them, then how many more."""
    parts = [f"{commit} ({n} run{'s' if n != 1 else ''})" for commit, n in commits[:shown]]
    more = len(commits) - shown
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def report(table: Table, runs: list, args: Any) -> str:
    """The whole page."""
    from runx.core.argv import shell_join
    from runx.sumx.pictures import curve_label
    from runx.sumx.render import text_table

    headers, cells, aligns = text_table(table, wrap=False, trend="unicode")
    several = len(table.experiments) > 1
    labels = [curve_label(r, table.hparams, several) for r in table.rows]
    by_name = {(r.experiment, r.name): r for r in runs}
    best_first = [by_name[(r.experiment, n)].path for r in table.rows for n in r.names if (r.experiment, n) in by_name]
    commit, command, launched, commits = _provenance(best_first)
    argv = getattr(args, "argv", None)
    made_by = "sumx " + shell_join(list(argv)) if argv else None
    title = "sumx: " + ", ".join(table.experiments)
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<link rel="icon" href="data:,">',
           f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
           f"<h1>{escape(title)}</h1><div class=\"meta\">",
           f"<div>{len(table.rows)} {'groups' if table.group_by else 'runs'}, {escape(table.phase)} metrics"
           + (f", sorted by <code>{escape(table.sort_metric)}</code> "
              f"({escape(table.goals.get(table.sort_metric, 'max'))} is best)" if table.sort_metric else "") + "</div>"]
    several_commits = _commits_text(commits) if len(commits) > 1 else None
    for name, value in (("git commit" + (" (best run)" if several_commits else ""), commit),
                        (f"runs from {len(commits)} commits", several_commits),
                        ("launched with", launched), ("command (best run)", command), ("report made by", made_by)):
        if value:
            out.append(f"<div>{name}: <code>{escape(value)}</code></div>")
    out.append('</div><h2>Runs</h2><input id="filter" type="search" placeholder="filter rows: words all must match">'
               f' <span id="shown">{len(cells)}</span> shown')
    out.append('<table id="runs"><thead><tr>')
    out += [f'<th class="{"num" if a == "right" else "text"}">{escape(h)}</th>' for h, a in zip(headers, aligns)]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(cells):
        out.append('<tr class="best">' if i == 0 else "<tr>")
        for text, align in zip(row, aligns):
            if align == "right":
                key = sort_key(text)
                out.append(f'<td class="num" data-v="{"" if key is None else repr(key)}">{escape(text)}</td>')
            else:
                out.append(f"<td>{escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    metric = table.sort_metric
    if metric:
        curves = []
        for shown, label in zip(table.rows, labels):
            run = by_name.get((shown.experiment, shown.name))
            history = (run.history or {}).get(metric) if run is not None else None
            curves.append((label, history or ()))
        svg = curves_svg(curves, metric, "epoch" if table.phase == "val" else "step")
        if svg:
            out.append(f"<h2>Curves: {escape(metric)}</h2>{svg}")
        names = [h for h in table.hparams if h not in table.group_by]
        ranked = [(r, lab) for r, lab in zip(table.rows, labels) if _num(r.best) is not None]
        if names and ranked:
            out.append(f'<h2>{escape(metric)} by hyperparameter</h2><div class="views">')
            for name in names:
                points = [(r.hparams[name], _num(r.best), lab) for r, lab in ranked if name in r.hparams]
                if points:
                    out.append(scatter_svg(points, name, metric))  # type: ignore[arg-type]
            out.append("</div><h2>Parallel coordinates</h2>")
            out.append(parallel_svg([r for r, _ in ranked], names, metric, [lab for _, lab in ranked]))
    out.append(f"<script>{SCRIPT}</script></body></html>\n")
    return "".join(out)
