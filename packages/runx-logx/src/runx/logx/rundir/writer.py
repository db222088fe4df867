"""The metrics writer: appends records to metrics.jsonl and keeps metrics.summary.json current (spec: docs/metrics-format.md).

The log is append-only, one JSON object per line: a header `{"runx_metrics": 1, "time"}`, then records
`{"phase", "step", "time", "metrics"}` and session starts `{"event": "start", "time"}`. The summary is
the fold of runx.logx.rundir.fold, replaced with runx.logx.rundir.atomic. On the import path of every logx
script, so no `typing` at run time (see runx.logx.rundir.codec).
"""
from __future__ import annotations

import itertools
import json
import operator
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping

from runx.logx.errors import LogxError
from runx.logx.rundir.atomic import write_bytes
from runx.logx.rundir.codec import Number, json_number, to_number, to_step
from runx.logx.rundir.fold import FORMAT_VERSION, SummaryState
from runx.logx.rundir.layout import METRICS_FILE, SUMMARY_FILE

__all__ = ["MetricsWriter"]


class _Shape:
    """One record shape, (phase, metric names): the JSON text around its values, built once."""

    __slots__ = ("phase", "names", "count", "values_of", "keys", "prefix", "template")

    def __init__(self, phase: str, names: tuple) -> None:
        self.phase = phase
        self.names = tuple(str(n) for n in names)
        if len(set(self.names)) < len(names):
            seen: dict[str, object] = {}
            for name, text in zip(names, self.names):
                if text in seen:
                    raise LogxError(f"metrics {seen[text]!r} and {name!r} would both be stored as {text!r}")
                seen[text] = name
        self.count = len(names)
        # metrics dict -> its values in this shape's order; KeyError when one is missing
        if len(names) == 1:
            name = names[0]
            self.values_of: Callable[[Mapping], tuple] = lambda metrics: (metrics[name],)
        elif names:
            self.values_of = operator.itemgetter(*names)
        else:
            self.values_of = lambda metrics: ()
        self.keys = [json.dumps(n) + ":" for n in self.names]
        self.prefix = '{"phase":%s,"step":' % json.dumps(phase)
        # For plain finite values only: %r is then int.__repr__ or float.__repr__. %s is the time.
        body = ",".join(k.replace("%", "%%") + "%r" for k in self.keys)
        text = self.prefix.replace("%", "%%") + '%d,"time":%s,"metrics":{' + body + "}}\n"
        self.template = text.encode("ascii")  # json.dumps escapes every non-ASCII character


_NO_SHAPE = _Shape("", ())
_NO_SHAPE.count = -1  # matches no metrics dict


def _now_ms() -> int:
    return time.time_ns() // 1000000


def _stamp(ms: int) -> bytes:
    """A clock reading in ms as the JSON number of seconds it is, e.g. b"1732796460.125"."""
    return b"%d.%03d" % divmod(ms, 1000)


_PLAIN = frozenset((int, float))
_LONG_AGO = -(2 ** 62)  # a clock reading in ms before any other
# A record: (line, phase, metric names, (step, time text, *values)), atomic values only, so the
# garbage collector soon stops tracking it.
_LINE, _PHASE, _NAMES, _ARGS = range(4)
_line_of = operator.itemgetter(_LINE)
_phase_of = operator.itemgetter(_PHASE)
_shape_of = operator.itemgetter(_PHASE, _NAMES)
_args_of = operator.itemgetter(_ARGS)


Record = tuple
"""(line: bytes, phase, metric names, (step, time text, *values)); phase and the rest are None for an event line."""


def _event_record(line: bytes) -> Record:
    """A line of the log that is not a metrics record (the header, a start event), queued like one."""
    return (line, None, None, None)


def _record_time(record: Record) -> float:
    return float(record[_ARGS][1])


class MetricsWriter:
    """Appends records to metrics.jsonl and keeps metrics.summary.json current.

    A val record reaches the OS (os.write) before write() returns; train records are buffered and
    reach it within FLUSH_SECONDS (checked on each call and by a one-shot timer), and on flush/close.
    Records carry the writer's clock in whole milliseconds.

    Buffering a record takes no lock: the queue is one list, only ever appended to, and whoever
    writes it (holding the lock) removes just the records it wrote. Written records wait in `_vals`
    (val) and `_rows` (the rest) to be folded into the summary state in batches, per phase and
    record shape with min and max per column, once FOLD_ROWS have piled up (a batch that fits in the
    CPU cache) and before each summary.
    """

    FLUSH_SECONDS = 1.0
    SUMMARY_SECONDS = 1.0
    FOLD_ROWS = 1000
    MAX_UNWRITTEN = 100_000
    """Records kept in memory while the log cannot be written (disk full); beyond that write() raises."""

    def __init__(self, run_dir: str) -> None:
        self.path = os.path.join(run_dir, METRICS_FILE)
        self.summary_path = os.path.join(run_dir, SUMMARY_FILE)
        self._lock = threading.Lock()
        self._queue: list[Record] = []  # records not written yet
        self._rows: list[Record] = []  # written, not folded yet: all but val records
        self._vals: list[Record] = []  # written, not folded yet: val records
        self._last: Record | None = None  # the last record this writer wrote
        self._unwritten: list[Record] = []  # records a failed write left out, in order: written before any other
        self._torn = 0  # bytes of a partial line at the log's end (a write that failed midway), not in _bytes
        self._failure: str | None = None  # why writing the log fails, while it does
        self._summary_failure: str | None = None
        self._shapes: dict[tuple, _Shape] = {}
        self._current: dict[str, _Shape] = {}  # each phase's latest shape
        self._timer: threading.Timer | None = None
        self._pid = os.getpid()
        self._flush_ms = int(self.FLUSH_SECONDS * 1000)
        self._summary_ms = int(self.SUMMARY_SECONDS * 1000)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(self._fd).st_size
        now = _now_ms()
        self._clock = (now, _stamp(now))  # the last clock reading and its text, read and replaced as one
        if size == 0:
            self._state = SummaryState()
            self._bytes = 0
            self._emit([_event_record(b'{"runx_metrics":%d,"time":%s}\n' % (FORMAT_VERSION, _stamp(now)))])
        else:
            from runx.logx.rundir.summary import fold_log  # a run resumed: read what it logged so far

            self._state, tail, _ = fold_log(run_dir, history=True, resume=True)
            self._bytes = tail.end_offset
            self._torn = size - tail.end_offset  # the next write ends that line first, so records start on their own
        self._flushed = now
        self._summarized = _LONG_AGO  # so the first write writes a summary, which folds just that write's records
        self._summarized_bytes = -1  # the log's size the summary file last written says it folds
        with self._lock:
            self._state.start(now / 1000)
            self._emit([_event_record(b'{"event":"start","time":%s}\n' % _stamp(now))])

    @property
    def state(self) -> SummaryState:
        """The summary of every record written so far."""
        with self._lock:
            self._fold()
            return self._state

    def write(self, phase: str, step: int, metrics: Mapping, when: float | None = None) -> Mapping[str, Number]:
        """Append one record and return its values as Python numbers; LogxError for a non-number.

        While the log cannot be written (disk full), records wait in memory and every write tries
        again; once MAX_UNWRITTEN wait, LogxError refuses the record rather than drop one later.
        """
        if self._failure is not None:
            self._retry_or_refuse()
        shape = self._current.get(phase, _NO_SHAPE)
        try:
            values = shape.values_of(metrics)
        except KeyError:
            shape = _NO_SHAPE
        if len(metrics) != shape.count:
            shape = self._shape(phase, metrics)
            values = shape.values_of(metrics)
        try:
            plain = (when is None and type(step) is int and _PLAIN.issuperset(map(type, values))
                     and not sum(values) * 0)  # NaN or ±inf: x * 0 is NaN
        except OverflowError:  # an int too large for a float
            plain = False
        if plain:
            now = time.time_ns() // 1000000
            clock = self._clock
            if clock[0] != now:
                clock = self._clock = (now, _stamp(now))
            args = (step, clock[1]) + values
            record: Record = (shape.template % args, phase, shape.names, args)
        else:
            record, now, metrics = self._other_record(shape, step, metrics, when)
        if phase == "val":
            lock = self._lock
            lock.acquire()
            try:
                queue = self._queue
                if queue:  # buffered records go first
                    count = len(queue)  # records that other threads append from here on wait for the next write
                    written = queue[:count]
                    del queue[:count]
                    data = b"".join(map(_line_of, written)) + record[_LINE]
                else:
                    written = None
                    data = record[_LINE]
                if self._unwritten or self._torn:
                    self._emit((written or []) + [record])
                else:
                    try:
                        count = os.write(self._fd, data)  # _emit, inline: this is the hot path
                    except OSError as err:
                        self._failed((written or []) + [record], 0, err)
                    else:
                        if count < len(data):
                            self._emit((written or []) + [record], count)
                        else:
                            self._bytes += count
                            if written:
                                self._rows += written
                            self._vals.append(record)
                            self._last = record
                self._flushed = now
                if now - self._summarized >= self._summary_ms or len(self._vals) + len(self._rows) >= self.FOLD_ROWS:
                    self._summarize_or_fold()
            finally:
                lock.release()
        else:
            self._queue.append(record)  # no lock: see the class docstring
            if now - self._flushed >= self._flush_ms:
                self._write_queue(now)
            elif self._timer is None:
                self._start_timer()
        return metrics

    def _shape(self, phase: str, metrics: Mapping) -> _Shape:
        """The shape of a record with these metric names (in their order), now the phase's latest."""
        key = (phase, *metrics)
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) >= 1024:
                self._shapes.clear()  # a caller whose metric names keep changing
            shape = self._shapes[key] = _Shape(phase, tuple(metrics))
        self._current[phase] = shape
        return shape

    def _other_record(self, shape: _Shape, step: object, metrics: Mapping,
                      when: float | None) -> tuple[Record, int, dict[str, Number]]:
        """(record, clock, values as Python numbers) for what write()'s fast path does not take.

        That is values that are not all plain finite ints and floats, a step that is not an int, or
        a given time. LogxError for a non-number.
        """
        if type(step) is not int:
            step = to_step(step)
        converted = {name: to_number(value, name) for name, value in metrics.items()}
        values = shape.values_of(converted)
        clock = _now_ms()
        stamp = _stamp(clock).decode() if when is None else repr(float(when))
        body = ",".join([key + json_number(value) for key, value in zip(shape.keys, values)])
        line = ('%s%d,"time":%s,"metrics":{%s}}\n' % (shape.prefix, step, stamp, body)).encode("ascii")
        return (line, shape.phase, shape.names, (step, stamp, *values)), clock, converted

    def _start_timer(self) -> None:
        with self._lock:
            if self._timer is None and self._fd >= 0:
                self._timer = threading.Timer(self.FLUSH_SECONDS, self._timed_flush)
                self._timer.daemon = True
                self._timer.start()

    def _write_queue(self, now: int) -> None:
        """Write the queued records with one os.write; then the summary if it is due, or a fold."""
        with self._lock:
            queue = self._queue
            count = len(queue)  # records that other threads append from here on wait for the next write
            if self._fd < 0 or not (count or self._unwritten):
                return
            written = queue[:count]
            del queue[:count]
            if self._unwritten or self._torn:
                self._emit(written)
            else:  # _emit, inline: every train record passes here
                data = b"".join(map(_line_of, written))
                try:
                    done = os.write(self._fd, data)
                except OSError as err:
                    self._failed(written, 0, err)
                else:
                    if done < len(data):
                        self._emit(written, done)
                    else:
                        self._bytes += done
                        self._rows += written
                        self._last = written[-1]
            self._flushed = now
            if now - self._summarized >= self._summary_ms or len(self._vals) + len(self._rows) >= self.FOLD_ROWS:
                self._summarize_or_fold()

    def _emit(self, records: list[Record], done: int = 0) -> bool:
        """Write the unwritten records, then `records`, each whole on a line of its own (the lock is held).

        `done` bytes of them (from the end of any torn line on) are out already. On an OSError the
        records not completely written stay unwritten, to be written first next time, and one
        warning is printed until a write succeeds again; returns whether everything is out.
        """
        pending = self._unwritten + records if self._unwritten else records
        if not pending and not self._torn:
            return True
        data = (b"\n" if self._torn else b"") + b"".join(map(_line_of, pending))
        try:
            while done < len(data):
                done += os.write(self._fd, data[done:] if done else data)
        except OSError as err:
            self._failed(pending, done, err)
            return False
        self._wrote(pending, done)
        if self._failure is not None:
            print(f"logx: {self.path} is writable again; every record that waited is written", file=sys.stderr)
            self._failure = None
        return True

    def _failed(self, pending: list[Record], done: int, err: OSError) -> None:
        """Keep what a failed write left out; warn once (the lock is held)."""
        self._wrote(pending, done)
        if self._failure is None:
            self._failure = err.strerror or str(err)
            print(f"logx: cannot write {self.path} ({self._failure}); {len(self._unwritten)} record(s) wait in memory "
                  f"and are retried on each write; logging raises once {self.MAX_UNWRITTEN} wait", file=sys.stderr)

    def _wrote(self, pending: list[Record], done: int) -> None:
        """Account for the first `done` bytes of a write of `pending` (after a newline ending a torn line)."""
        if self._torn:
            if not done:
                self._unwritten = list(pending)
                return
            self._bytes += self._torn + 1  # the torn line, now ended, is a line readers skip
            self._torn = 0
            self._state.skipped += 1
            done -= 1
        count = 0
        for record in pending:
            size = len(record[_LINE])
            if done < size:
                break
            done -= size
            count += 1
            phase = record[_PHASE]
            if phase is None:  # an event line, not a record
                continue
            if phase == "val":
                self._vals.append(record)
            else:
                self._rows.append(record)
            self._last = record
        self._bytes += sum(len(record[_LINE]) for record in pending[:count])
        self._torn = done  # a record that got out in part is written again, whole, on the next line
        self._unwritten = pending[count:] if count < len(pending) else []

    def _retry_or_refuse(self) -> None:
        """While the log fails: try to write what waits; refuse a new record once MAX_UNWRITTEN wait."""
        with self._lock:
            if self._fd < 0 or self._emit([]):
                return
            waiting = len(self._unwritten) + len(self._queue)
            if waiting >= self.MAX_UNWRITTEN:
                raise LogxError(f"cannot write {self.path} ({self._failure}): {waiting} records wait in memory; "
                                "this one is refused so that none is dropped (free some space)")

    def _summarize_or_fold(self) -> None:
        """Replace the summary if it is due, else fold what was written (the lock is held)."""
        if self._flushed - self._summarized >= self._summary_ms:
            self._write_summary()
        else:
            self._fold()

    def _fold(self) -> None:
        """Fold the written records into the state, each phase's in order (the lock is held)."""
        rows, vals = self._rows, self._vals
        if not rows and not vals:
            return
        self._rows, self._vals = [], []
        state = self._state
        if state.first_time is None:  # the first fold follows the log's first write, queue then val record
            state.first_time = _record_time(rows[0] if rows else vals[0])
        rows.sort(key=_phase_of)  # stable: each phase's records keep their order
        for batch in (rows, vals):
            for (phase, names), run in itertools.groupby(batch, key=_shape_of):
                args = list(map(_args_of, run))
                state.fold(phase, names, args, float(args[0][1]), float(args[-1][1]), start=2)
        if self._last is not None:
            state.last_time = _record_time(self._last)

    def _timed_flush(self) -> None:
        self._timer = None  # before the queue is looked at: a record queued after this arms a new timer
        self._write_queue(_now_ms())

    def flush(self) -> None:
        """Send buffered records to the OS and replace the summary."""
        if os.getpid() != self._pid or self._fd < 0:
            return  # a forked child must not write its parent's buffered records again
        self._write_queue(_now_ms())
        with self._lock:
            if self._fd >= 0 and self._summarized_bytes != self._bytes:  # else the file holds this summary already
                self._write_summary()

    def _write_summary(self) -> None:
        """Replace the summary file (the lock is held); on a full disk the old one stays (it claims less).

        Not fsynced: the log is not either, and a reader uses a summary only when it covers no more of the log
        than there is and ends on one of its line boundaries (load_summary), so after a crash a summary that
        did not reach the disk, or outlived the log's tail, is folded around or ignored, never believed."""
        self._fold()
        self._summarized = _now_ms()
        try:
            write_bytes(self.summary_path, json.dumps(self._state.to_json(self._bytes), allow_nan=False).encode("ascii"),
                        durable=False)
        except OSError as err:  # write_bytes removed its temporary file
            if self._summary_failure is None:
                self._summary_failure = err.strerror or str(err)
                print(f"logx: cannot write {self.summary_path} ({self._summary_failure}); readers fold the log "
                      "instead until it is written again", file=sys.stderr)
            return
        self._summary_failure = None
        self._summarized_bytes = self._bytes

    def abandon(self) -> None:
        """In a forked child: drop the parent's queued records and close this copy of the log, writing nothing.

        No lock is taken: a thread of the parent may have held it at the fork, and it is gone.
        """
        self._queue, self._rows, self._vals, self._unwritten = [], [], [], []
        self._timer = None
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def close(self) -> None:
        """Flush, write the summary and close the log; calling it again does nothing. Never raises OSError.

        Records that a full disk still keeps out of the log are lost only here, with a warning.
        """
        if self._fd < 0 or os.getpid() != self._pid:
            return
        self.flush()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            lost = len(self._unwritten) + len(self._queue)
            if lost:
                print(f"logx: closing {self.path} with {lost} record(s) still unwritten ({self._failure})", file=sys.stderr)
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = -1
