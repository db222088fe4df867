"""`sumx EXP --to-tensorboard`: TensorBoard's HParams data, after the fact, for runs whose event files lack it.

For a run logged without TensorBoard, or by runx 0.0.11, this writes what logx writes with TensorBoard
on (runx.logx.tensorboard_hparams): the session start with the run's hyperparameters, its scalars
(`<phase>/<metric>` at each record's step and time, from metrics.jsonl or 0.0.11's metrics.csv) when
no other writer left scalars in the run, and the session end once the run's status record says how it
ended. It first reads the run's event files, so a second call writes only what is still missing
(e.g. the end of a run that was running, the records logged since), and a run logx wrote with
TensorBoard on gets nothing. Everything goes into a new event file of sumx's own per call
(`...<pid>.sumx`), written through tensorboardX's FileWriter; no other file is touched.
"""
from __future__ import annotations

import itertools
import os
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from runx.logx.rundir.codec import decode_value
from runx.logx.rundir.layout import LEGACY_METRICS_FILE, METRICS_FILE, SUMX_EVENTS_SUFFIX, TFEVENTS_PREFIX
from runx.logx.rundir.records import read_records
from runx.logx.rundir.status import read_status
from runx.sumx.errors import SumxError
from runx.sumx.reader import Run

__all__ = ["Seen", "scan", "metric_records", "export_run", "export_runs"]

_FILES = itertools.count()
FINAL_STATUS = {"succeeded": "success", "failed": "failure", "cancelled": "failure"}
"""A run's settled state (runx.sumx.reader) -> the status its TensorBoard session ends with."""


class Seen(NamedTuple):
    """What a run directory's event files already hold."""

    start: bool
    """A session start (TensorBoard keeps the first one)."""
    end: bool
    """A session end (likewise)."""
    scalars: bool
    """Scalars written by anything but sumx (logx, runx 0.0.11, the training script)."""
    written: Dict[str, int]
    """How many values of each scalar tag sumx's own event files hold."""


def _tensorboardx() -> None:
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise SumxError("--to-tensorboard needs tensorboardX: pip install 'runx-sumx[tensorboard]'") from None


def _events(path: str) -> Iterator[Any]:
    """The Events of an event file, read as they come, up to a torn or corrupt record; one that does not
    parse is skipped (as TensorBoard does), a file that cannot be read holds none."""
    from google.protobuf.message import DecodeError
    from runx.logx.tfevents import read_records as read_tfrecords
    from tensorboardX.proto.event_pb2 import Event

    try:
        with open(path, "rb") as file:
            for raw in read_tfrecords(file):
                try:
                    yield Event.FromString(raw)
                except DecodeError:
                    continue
    except OSError:
        return


def scan(run_dir: str) -> Seen:
    """Read the event files directly in `run_dir` (one TensorBoard run; sub-folders are runs of their own)."""
    from runx.logx.tensorboard_hparams import SESSION_END_TAG, SESSION_START_TAG

    start = end = scalars = False
    written: Dict[str, int] = {}
    for name in sorted(os.listdir(run_dir)):
        if TFEVENTS_PREFIX not in name:
            continue
        ours = name.endswith(SUMX_EVENTS_SUFFIX)
        for event in _events(os.path.join(run_dir, name)):
            for value in event.summary.value:
                if value.tag == SESSION_START_TAG:
                    start = True
                elif value.tag == SESSION_END_TAG:
                    end = True
                elif value.HasField("simple_value") or value.metadata.plugin_data.plugin_name == "scalars":
                    if ours:
                        written[value.tag] = written.get(value.tag, 0) + 1
                    else:
                        scalars = True
    return Seen(start, end, scalars, written)


def metric_records(run_dir: str) -> List[dict]:
    """The run's metric records (`phase`, `step`, `time`, `metrics` with decoded values): metrics.jsonl's,
    else the val rows of 0.0.11's metrics.csv; lines that do not parse are left out."""
    path = os.path.join(run_dir, METRICS_FILE)
    try:
        records = read_records(path).records
    except OSError:
        from runx.sumx.legacy import val_records

        return val_records(os.path.join(run_dir, LEGACY_METRICS_FILE)) or []
    good = []
    for record in records:
        phase, step, metrics = record.get("phase"), record.get("step"), record.get("metrics")
        if not isinstance(phase, str) or type(step) is not int or not isinstance(metrics, dict):
            continue
        values = {}
        for name, value in metrics.items():
            try:
                values[name] = decode_value(value)
            except ValueError:
                continue
        when = record.get("time")
        good.append({"phase": phase, "step": step, "time": when if isinstance(when, (int, float)) else None,
                     "metrics": values})
    return good


def _scalar_events(records: Iterable[dict], written: Dict[str, int]) -> List[Tuple[Any, int, Optional[float]]]:
    """(Summary, step, time) per record, holding the values past those sumx's files already hold."""
    from tensorboardX.proto.summary_pb2 import Summary

    seen: Dict[str, int] = {}
    events = []
    for record in records:
        values = []
        for name, value in record["metrics"].items():
            tag = f"{record['phase']}/{name}"
            count = seen[tag] = seen.get(tag, 0) + 1
            if count > written.get(tag, 0):
                values.append(Summary.Value(tag=tag, simple_value=float(value)))
        if values:
            events.append((Summary(value=values), record["step"], record["time"]))
    return events


def export_run(run: Run) -> bool:
    """Write what `run`'s event files lack; True when something was written."""
    from runx.logx.tensorboard_hparams import session_end, session_start

    seen = scan(run.path)
    status = read_status(run.path)
    records: List[dict] = []
    if not seen.scalars or not seen.start:
        records = metric_records(run.path)
    summaries: List[Tuple[Any, Optional[int], Optional[float]]] = []
    if not seen.start:
        started = status.started if status is not None else None
        if started is None and records:
            started = records[0]["time"]
        summaries.append((session_start(run.hparams, started), None, started))
    if not seen.scalars:
        summaries += _scalar_events(records, seen.written)
    final = FINAL_STATUS.get(run.state or "")
    if not seen.end and final is not None:
        finished = status.finished if status is not None else None
        summaries.append((session_end(final, finished), None, finished))
    if not summaries:
        return False
    from tensorboardX import FileWriter

    # tensorboardX names the file by the second and opens it with "wb": pid and counter keep calls apart.
    suffix = f".{os.getpid()}.{next(_FILES)}{SUMX_EVENTS_SUFFIX}"
    try:
        writer = FileWriter(run.path, flush_secs=3600, filename_suffix=suffix)
    except OSError as err:
        raise SumxError(f"{run.path}: cannot write a TensorBoard event file: {err.strerror or err}") from None
    for summary, step, when in summaries:
        writer.add_summary(summary, step, when)
    writer.close()
    return True


def export_runs(runs: List[Run]) -> int:
    """export_run for each run; the number of runs something was written for."""
    _tensorboardx()
    return sum(export_run(run) for run in runs)
