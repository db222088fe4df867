"""TensorBoard writing: tensorboardX loaded on first use; scalars written by a background thread.

tensorboardX spends ~100 us per scalar handing each event to its own writer thread and then ~20 us
on the event's checksum, one byte at a time in Python. logx encodes each call's scalars as one
event record in the caller's thread (runx.logx.tfevents, a few microseconds) and queues the bytes; a
daemon thread appends what has gathered every LATENCY seconds to the SummaryWriter's event file,
in one write under that file's own lock, and flushes it to the OS, so TensorBoard sees scalars
within ~0.1 s; the file is synced to disk every FLUSH_SECONDS while it changes. The caller never
waits for the thread and never wakes it per call, and the thread holds the GIL only briefly.
Every other SummaryWriter call (images, histograms, text...) runs in the caller's thread, so arrays
the caller later changes in place are read at call time.
"""
from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Tuple

from runx.logx.metrics_format import to_number

__all__ = ["open_writer", "BackgroundWriter", "silence"]


_WRITERS = itertools.count()


def open_writer(logdir: str) -> Any:
    """A tensorboardX SummaryWriter for `logdir` whose own thread flushes every second."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("logx tensorboard=True needs tensorboardX: pip install 'runx-logx[tensorboard]'") from None
    # tensorboardX names event files by the second and opens them with "wb": a second writer for the
    # same logdir within that second would truncate the first one's file. The suffix keeps them apart.
    suffix = f".{os.getpid()}.{next(_WRITERS)}"
    return SummaryWriter(logdir=logdir, flush_secs=1, filename_suffix=suffix)


class BackgroundWriter:
    """A SummaryWriter whose scalars reach its event file within ~0.1 s and disk within ~1 s, written by a thread."""

    LATENCY = 0.1
    """Seconds the thread gathers encoded scalars before appending them to the event file at once."""
    FLUSH_SECONDS = 1.0
    """Seconds between syncs of the event file to disk while scalars arrive."""
    MAX_PENDING = 100_000
    """Queued events beyond which a caller waits: a runaway loop slows down instead of growing."""

    def __init__(self, logdir: str) -> None:
        self.writer = open_writer(logdir)
        self._lock = threading.Lock()  # one caller of the SummaryWriter at a time
        self._write_lock = threading.Lock()  # one writer of queued scalars at a time
        self._pending: Deque[Any] = deque()  # encoded records, or (tag_values, step, walltime) without _file
        self._file = _event_file(self.writer)
        _write_in_caller(self.writer)
        if self._file is not None:
            from runx.logx import tfevents

            self._event, self._record = tfevents.scalar_event, tfevents.record
        self._wake = threading.Event()
        self._idle = False  # the thread waits for scalars: the next caller wakes it
        self._flush_wanted = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="logx-tensorboard", daemon=True)
        self._thread.start()

    def scalars(self, tag_values: List[Tuple[str, float]], step: Optional[int], walltime: Optional[float] = None) -> None:
        """Queue scalars that share a step; each value must already be a Python number.

        They are encoded here, in the caller's thread: a thread busy encoding would hold the GIL in
        long stretches, and every file write of the caller would then wait for it (a convoy).
        """
        if walltime is None:
            walltime = time.time()
        pending = self._pending
        if self._file is not None:
            pending.append(self._record(self._event(walltime, step, tag_values)))
        else:
            pending.append((tag_values, step, walltime))
        if self._idle:
            self._idle = False
            self._wake.set()
        elif len(pending) > self.MAX_PENDING:
            self._wake.set()
            while len(pending) > self.MAX_PENDING // 2 and self._thread.is_alive():
                time.sleep(0.01)

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Optional[int] = None,
                   walltime: Optional[float] = None, **kwargs: Any) -> None:
        """SummaryWriter.add_scalar, queued (extra keyword arguments make it a direct call)."""
        if kwargs or not isinstance(tag, str):
            self.call("add_scalar", tag, scalar_value, global_step, walltime, **kwargs)
        else:
            self.scalars([(tag, to_number(scalar_value, tag))], global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Dict[str, Any], global_step: Optional[int] = None,
                    walltime: Optional[float] = None) -> None:
        """SummaryWriter.add_scalars (one event file per key, as tensorboardX does), done directly."""
        values = {k: to_number(v, f"{main_tag}/{k}") for k, v in tag_scalar_dict.items()}
        self.call("add_scalars", main_tag, values, global_step, walltime)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call any SummaryWriter method now, in this thread, and return its result."""
        with self._lock:
            try:
                return getattr(self.writer, method)(*args, **kwargs)
            finally:
                _write_in_caller(self.writer)  # event writers add_scalars made meanwhile

    def show_now(self) -> None:
        """Hand what direct calls wrote to the OS now, so TensorBoard sees it; the thread syncs it to disk soon."""
        for events in _event_writers(self.writer):
            found = _lock_and_file(events)
            if found is not None:
                lock, file = found
                try:
                    with lock:
                        file.flush()
                except (OSError, ValueError):  # a closed or failing file: the thread's sync reports nothing either
                    pass
        self.flush_soon()

    def flush(self) -> None:
        """Write everything queued so far and flush the SummaryWriter to disk, in this thread."""
        self._write_pending()
        with self._lock:
            self.writer.flush()

    def flush_soon(self) -> None:
        """Ask the thread to flush the SummaryWriter (its direct calls included) within LATENCY."""
        self._flush_wanted = True
        if self._idle:
            self._idle = False
            self._wake.set()

    def _run(self) -> None:
        wake, pending = self._wake, self._pending
        synced = time.monotonic()
        dirty = False
        while not self._closing:
            if not pending and not self._flush_wanted:
                self._idle = True
                if not pending and not self._flush_wanted:  # a caller may have queued after the first look
                    wake.wait(max(0.0, synced + self.FLUSH_SECONDS - time.monotonic()) if dirty else None)
                self._idle = False
                wake.clear()
                if self._closing:
                    return
            wake.wait(self.LATENCY)  # gather a batch: callers append without waking anyone; close() cuts it short
            wake.clear()
            dirty = self._write_pending() or dirty
            flush, self._flush_wanted = self._flush_wanted, False
            if flush or dirty and time.monotonic() - synced >= self.FLUSH_SECONDS:
                with self._lock:
                    self.writer.flush()
                dirty, synced = False, time.monotonic()

    def _write_pending(self) -> bool:
        """Append the queued scalars to the event file in one write; True if the file needs a sync."""
        with self._write_lock:
            pending = self._pending
            batch = [pending.popleft() for _ in range(len(pending))]
            if not batch:
                return False
            if self._file is None:
                with self._lock:
                    for tag_values, step, walltime in batch:
                        self._add_scalars_slowly(tag_values, step, walltime)
                return False
            lock, file = self._file
            with lock:
                file.write(b"".join(batch))
                file.flush()
            return True

    def _add_scalars_slowly(self, tag_values: List[Tuple[str, float]], step: Optional[int], walltime: float) -> None:
        try:
            for tag, value in tag_values:
                self.writer.add_scalar(tag, value, step, walltime)
        except Exception as err:  # a bad value must not stop the writer thread
            print(f"logx: tensorboard scalars {[t for t, _ in tag_values]} failed: {err}", file=sys.stderr)

    def close(self) -> None:
        """Write everything queued, flush and close the event files."""
        self._closing = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self._write_pending()
        with self._lock:
            self.writer.flush()
            self.writer.close()

    def abandon(self) -> None:
        """In a forked child: drop what the parent queued and make every write of this copy go nowhere.

        tensorboardX's event queue is a multiprocessing.Queue shared with the parent, and its at-exit
        handler would put a stop signal into it (stopping the parent's writer thread) and flush the
        parent's buffered events into the parent's file again. Each event writer is marked closed and
        its file descriptor pointed at /dev/null. No lock is taken: the threads that held them are gone.
        """
        self._closing = True
        self._pending.clear()
        for events in _event_writers(self.writer):
            events._closed = True  # its close(), flush() and add_event() now do nothing
            found = _lock_and_file(events)
            if found is not None:
                silence(found[1])


def _event_writers(writer: Any) -> List[Any]:
    """The EventFileWriter of each event file of a SummaryWriter (its own and add_scalars')."""
    found = []
    for file_writer in list((getattr(writer, "all_writers", None) or {}).values()):
        events = getattr(file_writer, "event_writer", None)
        if events is not None:
            found.append(events)
    return found


def _write_in_caller(writer: Any) -> None:
    """Make the SummaryWriter's event writers write each event in the calling thread.

    tensorboardX hands events to a writer thread through a multiprocessing queue, so an event is on
    disk only some time after the call, and never if the process then ends without exit handlers (a
    multiprocessing child, os._exit). Written in the caller, an image is in the file when the call
    returns. An event writer whose internals differ keeps tensorboardX's own way.
    """
    for events in _event_writers(writer):
        if getattr(events, "_logx_direct", False):
            continue
        write = getattr(getattr(events, "_ev_writer", None), "write_event", None)
        if write is None or not hasattr(events, "_closed"):  # the replacement checks _closed as tensorboardX's does
            continue

        def add_event(event: Any, events: Any = events, write: Any = write) -> None:
            if not events._closed:
                write(event)

        events.add_event = add_event
        events._logx_direct = True


def silence(file: Any) -> None:
    """Point the file descriptor under `file` at /dev/null, so a later flush of its buffer writes nowhere."""
    try:
        fd = file.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def _event_file(writer: Any) -> Optional[Tuple[Any, Any]]:
    """The lock and file object of the SummaryWriter's own event file, or None if this tensorboardX differs."""
    try:
        events = writer._get_file_writer().event_writer
    except AttributeError:
        return None
    return _lock_and_file(events)


def _lock_and_file(events: Any) -> Optional[Tuple[Any, Any]]:
    """The lock and file object under one of tensorboardX's EventFileWriters, or None if this tensorboardX differs."""
    try:
        raw = events._ev_writer
        lock, file = raw._lock, raw._py_recordio_writer._writer
    except AttributeError:
        return None
    if not (callable(getattr(file, "write", None)) and callable(getattr(file, "flush", None))
            and callable(getattr(lock, "__enter__", None))):
        return None
    return lock, file
