"""The table as text, Markdown, CSV or JSON.

Text and Markdown are laid out here rather than with tabulate: for 10,000 rows tabulate alone took
longer than the whole one-second budget.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable, List, Optional

from runx.sumx.table import Row, Stat, Table, state_text

__all__ = ["fmt_number", "fmt_seconds", "render_text", "render_markdown", "render_csv", "render_json"]

HEADER_WIDTH = 10
_BREAKS = "_./-"  # a long header may wrap after these
_INF = float("inf")


def fmt_number(value: Any) -> str:
    """Up to 4 significant digits; integers whole; no exponent between 1e-4 and 1e15."""
    if type(value) is float:
        size = abs(value)
        if 1e-4 <= size < 1e4 and not value.is_integer():
            return f"{value:.4g}"
        if value != value:
            return "nan"
        if size == _INF:
            return "inf" if value > 0 else "-inf"
        if size >= 1e15 or 0 < size < 1e-4:
            return f"{value:.4g}".replace("e-0", "e-").replace("e+", "e")
        return f"{value:.0f}"
    if value is None:
        return ""
    return str(value)


def fmt_seconds(seconds: Any) -> str:
    """Seconds as H:MM:SS, M:SS under an hour, 0:SS.s (tenths) under a minute."""
    if seconds is None:
        return ""
    tenths = round(seconds * 10)
    if tenths < 600:
        return f"0:{tenths // 10:02d}.{tenths % 10}"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_hparam(value: Any) -> str:
    """A hyperparameter as given: strings bare, numbers exact, lists and mappings as JSON."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float or kind is int:
        return repr(value)
    if value is None:
        return ""
    if isinstance(value, tuple):  # the values of a --group-by key
        text = ",".join(fmt_hparam(v) for v in value)
        return text if len(text) <= 24 else text[:23] + "…"
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value)
    return str(value)


def fmt_metric(value: Any) -> str:
    """A metric cell: the number, or `mean ± std` for a group."""
    if isinstance(value, Stat):
        return fmt_number(value.mean) if value.std is None else f"{fmt_number(value.mean)} ± {fmt_number(value.std)}"
    return fmt_number(value)


class Column(namedtuple("Column", "title cells numeric")):
    """A shown column: its title, the function giving its cells for all rows, right-aligned or not."""

    __slots__ = ()
    title: str
    cells: Callable[[List[Row]], List[str]]
    numeric: bool


def _hparam_cells(name: str) -> Callable[[List[Row]], List[str]]:
    return lambda rows: [fmt_hparam(r.hparams.get(name)) for r in rows]


def _metric_cells(name: str, grouped: bool) -> Callable[[List[Row]], List[str]]:
    if grouped:
        return lambda rows: [fmt_metric(r.final.get(name)) for r in rows]
    return lambda rows: [fmt_number(r.final.get(name)) for r in rows]


def _columns(table: Table) -> List[Column]:
    cols: List[Column] = []
    if len(table.experiments) > 1:
        cols.append(Column("experiment", lambda rows: [r.experiment for r in rows], False))
    if table.group_by:
        cols += [Column(h, _hparam_cells(h), False) for h in table.hparams]
        cols.append(Column("n", lambda rows: [str(len(r.names)) for r in rows], True))
    else:
        cols.append(Column("run", lambda rows: [r.name for r in rows], False))
        cols += [Column(h, _hparam_cells(h), False) for h in table.hparams]
    grouped = bool(table.group_by)
    cols += [Column(m, _metric_cells(m, grouped), True) for m in table.metrics]
    if table.sort_metric:
        cols.append(Column(f"{table.sort_metric}-best", lambda rows: [fmt_metric(r.best) for r in rows], True))
    cols.append(Column("epoch", lambda rows: [fmt_number(r.epoch) for r in rows], True))
    cols.append(Column("epoch time", lambda rows: [fmt_seconds(r.epoch_seconds) for r in rows], True))
    cols.append(Column("state", lambda rows: [state_text(r.state, r.exit_code) or "" for r in rows], False))
    if any(r.notes for r in table.rows):
        cols.append(Column("note", lambda rows: ["; ".join(r.notes) for r in rows], False))
    return cols


def _pieces(title: str) -> List[str]:
    """`title` split after each of _BREAKS (an empty last piece when it ends in one)."""
    pieces = []
    start = 0
    for i, char in enumerate(title):
        if char in _BREAKS:
            pieces.append(title[start:i + 1])
            start = i + 1
    pieces.append(title[start:])
    return pieces


def _wrap(title: str, width: int) -> List[str]:
    """A header split after _ . / - into lines no wider than `width` where it can be."""
    lines: List[str] = []
    for piece in _pieces(title):
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return lines or [""]


def render_text(table: Table) -> str:
    """A plain-text table: numbers right-aligned, long headers wrapped, a rule under the header."""
    cols = _columns(table)
    columns = [c.cells(table.rows) for c in cols]
    widths = [max(map(_width, cells), default=0) for cells in columns]
    headers = [_wrap(c.title, max(HEADER_WIDTH, w)) for c, w in zip(cols, widths)]
    widths = [max(w, max(map(_width, hs))) for w, hs in zip(widths, headers)]
    depth = max(len(h) for h in headers)
    header_rows = [[hs[i - depth + len(hs)] if i >= depth - len(hs) else "" for hs in headers] for i in range(depth)]
    lines = ["  ".join(_pad(text, w, c.numeric) for text, c, w in zip(row, cols, widths)).rstrip() for row in header_rows]
    lines.append("  ".join("-" * w for w in widths))
    padded = [[_pad(cell, w, c.numeric) for cell in cells] for c, w, cells in zip(cols, widths, columns)]
    lines += ["  ".join(row).rstrip() for row in zip(*padded)]
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (CJK) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(ch) else 2 if east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def render_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped)."""
    cols = _columns(table)
    columns = [[text.replace("|", "\\|") for text in c.cells(table.rows)] for c in cols]
    lines = ["| " + " | ".join(c.title.replace("|", "\\|") for c in cols) + " |",
             "|" + "|".join("---:" if c.numeric else ":---" for c in cols) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in zip(*columns)]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    """A value for CSV and JSON: numbers kept (non-finite as "nan"/"inf"/"-inf"), tuples as lists."""
    if isinstance(value, float) and (value != value or value in (_INF, -_INF)):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, Stat):  # before tuple: a Stat is one
        return {"mean": _plain(value.mean), "std": _plain(value.std), "n": value.n}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _csv_cell(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value)
    return "" if value is None else value


def render_csv(table: Table, out: Any) -> None:
    """CSV with full-precision numbers; for groups each metric gets a `<metric> std` column and `n`."""
    import csv

    grouped = bool(table.group_by)
    header: List[str] = []
    if len(table.experiments) > 1:
        header.append("experiment")
    header += ["n", "runs"] if grouped else ["run"]
    header += table.hparams
    for m in table.metrics:
        header += [m, f"{m} std"] if grouped else [m]
    if table.sort_metric:
        best = f"{table.sort_metric}-best"
        header += [best, f"{best} std"] if grouped else [best]
    header += ["epoch", "epoch time (s)", "state", "note"]
    writer = csv.writer(out)
    writer.writerow(header)
    for r in table.rows:
        row: List[Any] = []
        if len(table.experiments) > 1:
            row.append(r.experiment)
        row += [len(r.names), " ".join(r.names)] if grouped else [r.name]
        row += [_csv_cell(r.hparams.get(h)) for h in table.hparams]
        values = [r.final.get(m) for m in table.metrics] + ([r.best] if table.sort_metric else [])
        for v in values:
            if grouped:
                row += [_csv_cell(v.mean), _csv_cell(v.std)] if isinstance(v, Stat) else ["", ""]
            else:
                row.append(_csv_cell(v))
        seconds = r.epoch_seconds
        row += [_csv_cell(r.epoch), "" if seconds is None else round(seconds, 3),
                state_text(r.state, r.exit_code) or "", "; ".join(r.notes)]
        writer.writerow(row)


def render_json(table: Table) -> str:
    """One JSON document: the sort, the shown columns, and every row with all its hyperparameters."""
    rows = []
    for r in table.rows:
        entry = {"experiment": r.experiment}
        if table.group_by:
            entry.update(n=len(r.names), runs=list(r.names))
        else:
            entry["run"] = r.name
        entry.update(
            hparams={k: _plain(v) for k, v in r.hparams.items()},
            metrics={m: _plain(v) for m, v in r.final.items()},
            best=_plain(r.best),
            epoch=_plain(r.epoch),
            epoch_seconds=_plain(r.epoch_seconds),
            state=r.state,
            exit_code=r.exit_code,
            notes=list(r.notes),
        )
        rows.append(entry)
    sort: Optional[dict] = None
    if table.sort_metric:
        sort = {"metric": table.sort_metric, "goal": table.goals.get(table.sort_metric)}
    import json

    doc = {"experiments": table.experiments, "sort": sort, "goals": table.goals, "group_by": table.group_by,
           "hparams": table.hparams, "metrics": table.metrics, "rows": rows}
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"
