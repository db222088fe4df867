"""Sparklines: a run's thinned history of one metric, or its stored trend, as a few characters of a text table."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from runx.logx.rundir.summary import TREND_POINTS, trend_of

__all__ = ["BLOCKS", "ASCII", "WIDTH", "sparkline", "bars", "trend_style"]

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII = "_.-~=+*#"  # the same eight levels where the terminal cannot show the blocks
NOT_FINITE = {False: "×", True: "x"}
_LEVELS = {False: tuple(BLOCKS), True: tuple(ASCII)}  # one string each, made once
WIDTH = TREND_POINTS  # a run's stored trend is what its sparkline draws


def sparkline(points: Optional[Sequence[tuple]], width: int = WIDTH, ascii: bool = False) -> str:
    """The values of (step, value) `points` as at most `width` characters scaled from their min to their max
    (a NaN or infinity shows as × or x); "" without points. The values drawn are trend_of(points, width)."""
    if not points:
        return ""
    return bars(trend_of(points, width), ascii)


def bars(values: Sequence[Any], ascii: bool = False) -> str:
    """One character per value, scaled from their min to their max (a NaN or infinity shows as × or x): a
    sparkline of a stored trend (runx.logx.rundir.summary.trend_of), drawn as it is; "" without values."""
    if not values:
        return ""
    levels = _LEVELS[ascii]
    top = len(levels) - 1
    try:
        total = sum(values)
    except (TypeError, OverflowError):  # a value that is not a number, or an int too large beside a float
        total = math.nan
    if total - total == 0:  # the usual case: every value a finite number
        lo, hi = min(values), max(values)
        if hi - lo == math.inf:  # wider than the largest float: scale the halves
            values, lo, hi = [v / 2 for v in values], lo / 2, hi / 2
        span = hi - lo
        if span <= 0:
            return levels[top // 2] * len(values)
        # (v - lo) / span is at most 1 (v <= hi, and rounding keeps the order): no level past the top
        return "".join([levels[int((v - lo) / span * top + 0.5)] for v in values])
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    half = hi - lo == math.inf
    if half:
        lo, hi = lo / 2, hi / 2
    span = hi - lo
    out = []
    for v in values:
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            out.append(NOT_FINITE[ascii])
        elif span <= 0:
            out.append(levels[top // 2])
        else:
            out.append(levels[min(top, int(((v / 2 if half else v) - lo) / span * top + 0.5))])
    return "".join(out)


def trend_style(choice: Optional[bool], stream: Any) -> Optional[str]:
    """"unicode", "ascii" or None (no trend column): --trend / --no-trend (`choice`), else on where `stream`
    is a terminal; the blocks where its encoding is UTF-8, ASCII otherwise."""
    if choice is False:
        return None
    if choice is None:
        isatty = getattr(stream, "isatty", None)
        if not (isatty and isatty()):
            return None
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    return "unicode" if encoding in ("utf8", "utf8sig") else "ascii"
