"""runx 0.0.11's `metrics.csv`, so experiments logged before the metrics format keep summarising.

Rows are `phase,key,value,key,value,...`; the first is `start,start/step,0,timestamp,<t>`; val rows
carry `epoch` and `timestamp` beside the metrics. 0.0.11 wrote only val rows and start rows.
"""
from __future__ import annotations

import csv
from typing import Any, Dict, Iterable, List, Optional, Tuple

from runx.logx.rundir.codec import read_bytes
from runx.sumx.reader import NOTE_NO_VAL, NOTE_TORN, Metric, Val

SKIPPED = ("timestamp", "epoch", "gpu util")

__all__ = ["read_legacy", "val_records"]


def _number(text: str) -> Any:
    """An int or float when the text is one (also a torch tensor as 0.0.11 wrote it, `tensor(0.5000)`), else the text."""
    try:
        value = float(text)
    except ValueError:
        if text.startswith("tensor(") and text.endswith(")"):
            try:
                return float(text[7:-1])
            except ValueError:
                pass
        return text
    if value.is_integer() and text.lstrip("-").isdigit():
        return int(text)
    return value


def _min_max(texts: Iterable[str]) -> tuple:
    """(min, max) of the finite-or-infinite numbers among `texts`, NaN and non-numbers ignored."""
    try:
        values = [v for v in map(float, texts) if v == v]
    except ValueError:
        values = [v for v in map(_number, texts) if isinstance(v, (int, float)) and v == v]
    if not values:
        return None, None
    return min(values), max(values)


def _rows(raw: bytes) -> Tuple[Optional[List[List[str]]], bool]:
    """(the complete rows of a metrics.csv, or None when its quoting is broken; whether the last line is unterminated)."""
    text = raw.decode("utf-8", "replace").replace("\0", "").replace("\r\n", "\n")
    lines = text.split("\n")
    torn = lines[-1] != ""  # an unterminated last line: cut short by a crash, or being written
    if '"' in text:  # quoted fields: the csv module; otherwise a plain split gives the same rows, faster
        try:
            return list(csv.reader(lines[:-1])), torn
        except csv.Error:
            return None, torn
    return [line.split(",") if line else [] for line in lines[:-1]], torn


def val_records(path: str) -> Optional[List[dict]]:
    """The val rows of a 0.0.11 metrics.csv as metrics.jsonl records (`phase`, `step`, `time`, `metrics`),
    numbers only; the step is the row's epoch, else its position. None when there is no such file."""
    raw = read_bytes(path)
    if raw is None:
        return None
    rows, _ = _rows(raw)
    records: List[dict] = []
    for row in rows or []:
        if len(row) % 2 == 0 or row[0] != "val":
            continue
        values = {k: _number(v) for k, v in zip(row[1::2], row[2::2])}
        epoch, when = values.get("epoch"), values.get("timestamp")
        metrics = {k: v for k, v in values.items() if k not in SKIPPED and isinstance(v, (int, float))}
        records.append({"phase": "val", "step": epoch if isinstance(epoch, int) else len(records),
                        "time": when if isinstance(when, (int, float)) else None, "metrics": metrics})
    return records


def _history(steps: list, values: list) -> tuple:
    """A metric's thinned history as the summary keeps it (0.0.11's epochs as steps, else the row index)."""
    from runx.logx.rundir.summary import history_of

    points = []
    for i, (step, text) in enumerate(zip(steps, values)):
        value = _number(text)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            points.append((step if isinstance(step, int) else i, value))
    return tuple(history_of(points))


def read_legacy(path: str, phase: str = "val", history: bool = False) -> Optional[Val]:
    """The val phase of a 0.0.11 metrics.csv (each metric's history with `history`); None when there is no such file.

    0.0.11 wrote no train rows: for `phase="train"` the run has no metrics."""
    raw = read_bytes(path)
    if raw is None:
        return None
    if phase != "val":
        return Val({}, None, None, (f"no {phase} metrics yet",))
    rows, torn = _rows(raw)
    if rows is None:
        return Val({}, None, None, (NOTE_TORN, NOTE_NO_VAL))
    start = None
    blocks: Dict[tuple, list] = {}  # the keys of val rows -> their value tuples (0.0.11 rows repeat their keys)
    last: Optional[list] = None
    count = 0
    for row in rows:
        if not row:
            continue
        if len(row) % 2 == 0:
            torn = True
            continue
        phase = row[0]
        if phase == "val":
            count += 1
            keys = tuple(row[1::2])
            block = blocks.get(keys)
            if block is None:
                block = blocks[keys] = []
            block.append(row[2::2])
            last = row
        elif phase == "start" and start is None:
            for key, text in zip(row[1::2], row[2::2]):
                value = _number(text) if key == "timestamp" else None
                if isinstance(value, (int, float)):
                    start = value
    notes = (NOTE_TORN,) if torn else ()
    if last is None:
        return Val({}, None, None, notes + (NOTE_NO_VAL,))
    final = {k: _number(v) for k, v in zip(last[1::2], last[2::2])}
    columns: Dict[str, list] = {}
    steps: Dict[str, list] = {}  # the epoch of each value in columns (None where its row had none)
    for keys, values in blocks.items():
        epochs = [_number(row[keys.index("epoch")]) for row in values] if "epoch" in keys else [None] * len(values)
        for key, column in zip(keys, zip(*values)):
            if key not in SKIPPED:
                columns.setdefault(key, []).extend(column)
                if history:
                    steps.setdefault(key, []).extend(epochs)
    metrics = {k: Metric(final[k], *_min_max(columns[k])) for k in final if k not in SKIPPED}
    trends = None
    if history:
        trends = {k: _history(steps[k], columns[k]) for k in metrics}
    epoch = final.get("epoch")
    last_time = final.get("timestamp")
    seconds = None
    if isinstance(start, (int, float)) and isinstance(last_time, (int, float)):
        seconds = max(0.0, (last_time - start) / count)
    return Val(metrics, epoch if isinstance(epoch, int) else None, seconds, notes, trends)
