"""Sparklines: a run's thinned history of one metric as a few characters of a text table."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

__all__ = ["BLOCKS", "ASCII", "WIDTH", "sparkline", "trend_style"]

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII = "_.-~=+*#"  # the same eight levels where the terminal cannot show the blocks
NOT_FINITE = {False: "×", True: "x"}
WIDTH = 16


def _pick(values: Sequence[Any], width: int) -> list:
    """At most `width` of `values`, evenly spaced, the first and the last included."""
    n = len(values)
    if n <= width:
        return list(values)
    return [values[round(i * (n - 1) / (width - 1))] for i in range(width)]


def sparkline(points: Optional[Sequence[tuple]], width: int = WIDTH, ascii: bool = False) -> str:
    """The values of (step, value) `points` as at most `width` characters scaled from their min to their max
    (a NaN or infinity shows as × or x); "" without points."""
    if not points:
        return ""
    levels = ASCII if ascii else BLOCKS
    values = [v for _, v in _pick(points, width)]
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    span = hi - lo
    top = len(levels) - 1
    out = []
    for v in values:
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            out.append(NOT_FINITE[ascii])
        elif span <= 0:
            out.append(levels[top // 2])
        else:
            out.append(levels[min(top, int((v - lo) / span * top + 0.5))])
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
