"""tabulate's "simple" format for sumx's default table, without importing tabulate.

Importing tabulate (it loads importlib.metadata, dataclasses and wcwidth) and letting it lay out
1,000 rows cost more than the rest of `sumx` on 1,000 runs (docs/performance.md), and the default
table is the one a user waits on. `simple()` gives byte for byte what

    tabulate(rows, headers, tablefmt="simple", colalign=aligns, disable_numparse=True)

gives for the tables sumx builds: string cells that hold no control characters (runx.core.text
escapes them) and headers that may hold line breaks. It lays out text that is ASCII or sparklines
(one column a character); a table holding any other text (wide, combining or zero-width characters)
is handed to tabulate itself. tests/sumx/test_fast_table.py holds the two equal with hypothesis;
every other format is rendered by tabulate itself (runx.sumx.render).
"""
from __future__ import annotations

from typing import Sequence

__all__ = ["simple"]

MIN_PADDING = 2  # tabulate's MIN_PADDING: a header is this much narrower than its column


_ONE_COLUMN = frozenset("▁▂▃▄▅▆▇█×")  # the trend column's characters (runx.sumx.spark)


def _one_column_each(text: str) -> bool:
    """Whether every character of `text` takes one column on a terminal: ASCII, or a sparkline."""
    return text.isascii() or _ONE_COLUMN.issuperset(text)


def _one_column_all(texts: Sequence[str]) -> bool:
    """_one_column_each of every text (one check of them joined in the usual cases: all ASCII, all sparklines)."""
    joined = "".join(texts)
    return joined.isascii() or _ONE_COLUMN.issuperset(joined) or all(map(_one_column_each, texts))


def simple(headers: Sequence[str], rows: Sequence[Sequence[str]], aligns: Sequence[str]) -> str:
    """The table in tabulate's "simple" format; `aligns` holds "left" or "right" per column."""
    cells = [[c.strip() for c in row] for row in rows]
    columns = list(zip(*cells)) if cells else [() for _ in headers]
    if not (_one_column_all(headers) and all(map(_one_column_all, columns))):
        # wide, combining and zero-width characters: tabulate's own layout (and its corrections for them)
        from tabulate import tabulate

        return tabulate(rows, headers, tablefmt="simple", colalign=aligns, disable_numparse=True)
    # every character one column: a text's width is its length, and padding it is str.ljust / str.rjust
    multiline = any("\n" in h for h in headers)
    header_lines = [h.split("\n") for h in headers]
    if not cells:  # tabulate aligns the headers of an empty table left
        aligns = ["left"] * len(headers)
    widths = [max(max(map(len, lines)) + MIN_PADDING, max(map(len, column), default=0))
              for lines, column in zip(header_lines, columns)]
    right = [a == "right" for a in aligns]
    depth = max(len(lines) for lines in header_lines)
    out = []
    for i in range(depth):
        parts = [(lines[i].rjust(w) if r else lines[i].ljust(w)) if i < len(lines) else " " * w
                 for lines, w, r in zip(header_lines, widths, right)]
        out.append("  ".join(parts).rstrip())
    out.append("  ".join("-" * w for w in widths).rstrip())
    padded = [[c.rjust(w) for c in column] if r else [c.ljust(w) for c in column]
              for column, w, r in zip(columns, widths, right)]
    for line, row in zip(zip(*padded), cells):
        if multiline and not any(row):
            continue  # tabulate drops a row of empty cells from a table with multi-line headers
        out.append("  ".join(line).rstrip())
    return "\n".join(out)
