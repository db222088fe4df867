"""TensorBoard writing: tensorboardX loaded on first use; scalars written by a background thread.

tensorboardX spends ~100 µs per scalar handing each event to its own writer (a pickling
multiprocessing queue), so logx queues scalars, already converted to floats and stamped with their
wall time, for a daemon thread that writes the scalars of one call as one event straight into the
SummaryWriter's event file (through its locked EventsWriter), flushing within a second. Every other
SummaryWriter call (images, histograms, text...) runs in the caller's thread, so arrays the caller
later changes in place are read at call time.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from runx.logx.metrics_format import to_number

__all__ = ["open_writer", "BackgroundWriter"]

_FLUSH = "flush"
_STOP = "stop"


def open_writer(logdir: str) -> Any:
    """A tensorboardX SummaryWriter for `logdir` whose own thread flushes every second."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("logx tensorboard=True needs tensorboardX: pip install 'runx-logx[tensorboard]'") from None
    return SummaryWriter(logdir=logdir, flush_secs=1)


class BackgroundWriter:
    """A SummaryWriter whose scalar writes are done by a daemon thread; events reach disk within ~2 s."""

    FLUSH_SECONDS = 1.0
    MAX_PENDING = 100_000
    """Queued scalar batches beyond which a caller waits: a runaway loop slows down instead of growing."""

    def __init__(self, logdir: str) -> None:
        self.writer = open_writer(logdir)
        self._lock = threading.Lock()  # one caller of the SummaryWriter at a time
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._events = _events_writer(self.writer)
        if self._events is not None:
            from tensorboardX.proto.event_pb2 import Event
            from tensorboardX.proto.summary_pb2 import Summary

            self._protos = (Event, Summary)
        self._thread = threading.Thread(target=self._drain, name="logx-tensorboard", daemon=True)
        self._thread.start()

    def scalars(self, tag_values: List[Tuple[str, float]], step: Optional[int], walltime: Optional[float] = None) -> None:
        """Queue scalars that share a step; each value must already be a Python number."""
        if self._queue.qsize() > self.MAX_PENDING:
            while self._queue.qsize() > self.MAX_PENDING // 2:
                time.sleep(0.01)
        self._queue.put((tag_values, step, time.time() if walltime is None else walltime))

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Optional[int] = None,
                   walltime: Optional[float] = None, **kwargs: Any) -> None:
        """SummaryWriter.add_scalar, queued (extra keyword arguments make it a direct call)."""
        if kwargs:
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
            return getattr(self.writer, method)(*args, **kwargs)

    def flush(self) -> None:
        """Write everything queued so far, then flush the SummaryWriter."""
        done = threading.Event()
        self._queue.put(done)
        if self._thread.is_alive():
            done.wait()
        with self._lock:
            self.writer.flush()

    def flush_soon(self) -> None:
        """Ask the writer thread to flush once it has written what is queued."""
        self._queue.put(_FLUSH)

    def _drain(self) -> None:
        get, empty = self._queue.get, self._queue.empty
        dirty, flushed = False, time.monotonic()
        while True:
            try:
                item = get(timeout=self.FLUSH_SECONDS) if dirty else get()
            except queue.Empty:
                item = _FLUSH
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            if item is not _FLUSH:
                dirty = self._write(*item) or dirty
            if dirty and (item is _FLUSH and empty() or time.monotonic() - flushed >= self.FLUSH_SECONDS):
                with self._lock:
                    self.writer.flush()
                dirty, flushed = False, time.monotonic()

    def _write(self, tag_values: List[Tuple[str, float]], step: Optional[int], walltime: float) -> bool:
        """Write one batch of scalars; True when it went into the event file directly (needs a flush)."""
        try:
            if self._events is not None:
                event_class, summary_class = self._protos
                values = [summary_class.Value(tag=tag, simple_value=value) for tag, value in tag_values]
                event = event_class(wall_time=walltime, summary=summary_class(value=values))
                if step is not None:
                    event.step = int(step)
                self._events.write_event(event)
                return True
            with self._lock:
                for tag, value in tag_values:
                    self.writer.add_scalar(tag, value, step, walltime)
        except Exception as err:  # a bad value must not stop the writer thread
            print(f"logx: tensorboard scalars {[t for t, _ in tag_values]} failed: {err}", file=sys.stderr)
        return False

    def close(self) -> None:
        """Write everything queued, flush and close the event files."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        with self._lock:
            self.writer.flush()
            self.writer.close()


def _events_writer(writer: Any) -> Any:
    """The SummaryWriter's own EventsWriter (thread-safe, one event file), or None if this tensorboardX differs."""
    try:
        events = writer._get_file_writer().event_writer._ev_writer
        import tensorboardX.proto.event_pb2  # noqa: F401
        import tensorboardX.proto.summary_pb2  # noqa: F401
    except (AttributeError, ImportError):
        return None
    return events if callable(getattr(events, "write_event", None)) else None
