"""runx 0.0.11's `metrics.csv`, so experiments logged before the metrics format keep summarising.

Rows are `phase,key,value,key,value,...`; the first is `start,start/step,0,timestamp,<t>`; val rows
carry `epoch` and `timestamp` beside the metrics. 0.0.11 wrote only val rows and start rows.
"""
from __future__ import annotations

import csv

from runx.sumx.reader import NOTE_NO_VAL, NOTE_TORN, Metric, Val, read_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

SKIPPED = ("timestamp", "epoch", "gpu util")

__all__ = ["read_legacy"]


def _number(text: str) -> Any:
    """An int or float when the text is one, else the text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_legacy(path: str) -> Optional[Val]:
    """The val phase of a 0.0.11 metrics.csv; None when there is no such file."""
    raw = read_bytes(path)
    if raw is None:
        return None
    lines = raw.decode("utf-8", "replace").replace("\0", "").split("\n")
    torn = lines[-1] != ""  # an unterminated last line: cut short by a crash, or being written
    start = last_time = epoch = None
    count = 0
    last: Dict[str, Any] = {}
    lows: Dict[str, float] = {}
    highs: Dict[str, float] = {}
    try:
        rows = list(csv.reader(lines[:-1]))
    except csv.Error:
        return Val({}, None, None, (NOTE_TORN, NOTE_NO_VAL))
    for row in rows:
        if not row:
            continue
        phase = row[0]
        if len(row) % 2 == 0:
            torn = True
            continue
        if phase == "start":
            for key, text in zip(row[1::2], row[2::2]):
                if key == "timestamp" and start is None:
                    value = _number(text)
                    start = value if isinstance(value, (int, float)) else None
        elif phase == "val":
            count += 1
            for key, text in zip(row[1::2], row[2::2]):
                value = _number(text)
                if key == "timestamp":
                    last_time = value if isinstance(value, (int, float)) else last_time
                elif key == "epoch":
                    epoch = value if isinstance(value, int) else epoch
                elif key not in SKIPPED:
                    last[key] = value
                    if isinstance(value, (int, float)) and value == value:
                        if key not in lows or value < lows[key]:
                            lows[key] = value
                        if key not in highs or value > highs[key]:
                            highs[key] = value
    notes = (NOTE_TORN,) if torn else ()
    if not count:
        return Val({}, None, None, notes + (NOTE_NO_VAL,))
    metrics = {k: Metric(v, lows.get(k), highs.get(k)) for k, v in last.items()}
    seconds = None if start is None or last_time is None else max(0.0, (last_time - start) / count)
    return Val(metrics, epoch, seconds, notes)
