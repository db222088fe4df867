"""The table as text (tabulate, in any of its formats), CSV or JSON.

Text outputs show every value through runx.core.text.printable (no terminal control characters
from run files reach the screen); CSV and JSON keep the real values. The default text table is
laid out by runx.sumx.fast_table, byte for byte tabulate's "simple" format without importing
tabulate; every other format is tabulate's own.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from runx.core.text import printable
from runx.sumx.table import Row, Stat, Table, launch_time, state_text

__all__ = ["fmt_number", "fmt_seconds", "text_table", "render_text", "render_format", "render_markdown",
           "render_csv", "render_json", "TEXT_FORMAT"]

TEXT_FORMAT = "simple"  # tabulate's name for the default table's layout

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


class Column(NamedTuple):
    """A shown column: its title, the function giving its cells for all rows, right-aligned or not, and whether
    its cells are sparklines (runx.sumx.spark: nothing to escape, one terminal column a character)."""

    title: str
    cells: Callable[[List[Row]], List[str]]
    numeric: bool
    sparklines: bool = False


def _hparam_cells(name: str) -> Callable[[List[Row]], List[str]]:
    return lambda rows: [fmt_hparam(r.hparams.get(name)) for r in rows]


def _metric_cells(name: str, grouped: bool) -> Callable[[List[Row]], List[str]]:
    if grouped:
        return lambda rows: [fmt_metric(r.final.get(name)) for r in rows]
    return lambda rows: [fmt_number(r.final.get(name)) for r in rows]


def _trend_cells(rows: List[Row]) -> List[str]:
    return [r.trend or "" for r in rows]


def _columns(table: Table, trend: Optional[str] = None) -> List[Column]:
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
        if trend:
            cols.append(Column(f"{table.sort_metric}-trend", _trend_cells, False, True))
    cols.append(Column("epoch", lambda rows: [fmt_number(r.epoch) for r in rows], True))
    cols.append(Column("epoch time", lambda rows: [fmt_seconds(r.epoch_seconds) for r in rows], True))
    cols.append(Column("state", lambda rows: [state_text(r.state, r.exit_code) or "" for r in rows], False))
    if table.show_launch:
        cols.append(Column("launched", lambda rows: [launch_time(r.launch) for r in rows], False))
    if table.show_notes:
        cols.append(Column("notes", lambda rows: ["; ".join(r.run_notes) for r in rows], False))
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


def _printable_cells(cells: List[str], sparklines: bool) -> List[str]:
    """A column's cells through printable(); as they are when all of them together are (sparklines always are)."""
    if sparklines:
        return cells
    joined = "".join(cells)
    if joined.isascii() and joined.isprintable():  # printable() would return each cell unchanged
        return cells
    return [printable(text) for text in cells]


def text_table(table: Table, wrap: bool = True, trend: Optional[str] = None) -> Tuple[List[str], List[List[str]], List[str]]:
    """(headers, rows, aligns) of the text outputs: every cell printable, long headers wrapped after
    _ . / - (with `wrap`) to the width of their column or HEADER_WIDTH, numbers right-aligned; with
    `trend` ("unicode" or "ascii") the trend column after the sort metric's best value: each row's sparkline,
    drawn in that style when the runs were read (runx.sumx.app.collect)."""
    cols = _columns(table, trend)
    columns = [_printable_cells(c.cells(table.rows), c.sparklines) for c in cols]
    titles = [printable(c.title) for c in cols]
    if wrap:
        widths = [max(map(len if c.sparklines or "".join(cells).isascii() else _width, cells), default=0)
                  for c, cells in zip(cols, columns)]
        titles = ["\n".join(_wrap(t, max(HEADER_WIDTH, w))) for t, w in zip(titles, widths)]
    rows = [list(row) for row in zip(*columns)]
    return titles, rows, ["right" if c.numeric else "left" for c in cols]


def render_text(table: Table, trend: Optional[str] = None) -> str:
    """The default text table: tabulate's "simple" layout (runx.sumx.fast_table); `trend` as in text_table."""
    from runx.sumx.fast_table import simple

    return simple(*text_table(table, trend=trend)) + "\n"


def render_format(table: Table, fmt: str, trend: Optional[str] = None) -> str:
    """The table in tabulate format `fmt` (headers wrapped only in the default, "simple"); `trend` as in text_table."""
    from tabulate import tabulate

    headers, rows, aligns = text_table(table, wrap=fmt == TEXT_FORMAT, trend=trend)
    if fmt in ("github", "pipe"):  # a `|` in a cell would end it
        headers = [h.replace("|", "\\|") for h in headers]
        rows = [[c.replace("|", "\\|") for c in row] for row in rows]
    return tabulate(rows, headers, tablefmt=fmt, colalign=aligns, disable_numparse=True) + "\n"


def render_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table (tabulate's "pipe": `---:` for numbers, pipes in cells escaped)."""
    return render_format(table, "pipe")


def check_format(fmt: str) -> None:
    """SumxError unless tabulate knows `fmt`."""
    from tabulate import tabulate_formats

    if fmt not in tabulate_formats:
        from runx.sumx.errors import SumxError

        raise SumxError(f"--format {fmt}: expected one of tabulate's formats: {', '.join(sorted(tabulate_formats))}")


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (CJK) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(ch) else 2 if east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _plain(value: Any) -> Any:
    """A value for CSV and JSON: numbers kept (non-finite as "nan"/"inf"/"-inf", also inside lists and mappings), tuples as lists."""
    if isinstance(value, float) and (value != value or value in (_INF, -_INF)):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, Stat):  # before tuple: a Stat is one
        return {"mean": _plain(value.mean), "std": _plain(value.std), "n": value.n}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):  # a hyperparameter's nested value: NaN and inf inside it too
        return {k: _plain(v) for k, v in value.items()}
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
    header += ["epoch", "epoch time (s)", "state"] + (["launch"] if table.show_launch else []) + (
        ["notes"] if table.show_notes else []) + ["note"]
    writer = csv.writer(out)
    writer.writerow(_csv_writable(header))
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
        row += [_csv_cell(r.epoch), "" if seconds is None else round(seconds, 3), state_text(r.state, r.exit_code) or ""]
        row += ([r.launch or ""] if table.show_launch else []) + (["; ".join(r.run_notes)] if table.show_notes else [])
        row.append("; ".join(r.notes))
        writer.writerow(_csv_writable(row))


def _csv_writable(row: List[Any]) -> List[Any]:
    """The row as the csv module of this Python can write it: before 3.11 it cannot hold a NUL, which is
    then written as the four characters `\\x00` (every other character is kept as it is)."""
    if sys.version_info >= (3, 11):
        return row
    return [c.replace("\0", "\\x00") if isinstance(c, str) else c for c in row]


def render_json(table: Table) -> str:
    """One JSON document: the sort, the shown columns, and every row with all its hyperparameters."""
    rows = []
    for r in table.rows:
        entry: Dict[str, Any] = {"experiment": r.experiment}
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
            launch=r.launch,
        )
        if table.show_notes:
            entry["run_notes"] = list(r.run_notes)
        rows.append(entry)
    sort: Optional[dict] = None
    if table.sort_metric:
        sort = {"metric": table.sort_metric, "goal": table.goals.get(table.sort_metric)}
    import json

    doc = {"experiments": table.experiments, "sort": sort, "goals": table.goals, "group_by": table.group_by,
           "hparams": table.hparams, "metrics": table.metrics, "rows": rows}
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"
