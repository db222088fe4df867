"""TensorBoard writing: logx's scalars in an event file of its own, everything else through tensorboardX.

tensorboardX spends ~100 us per scalar handing each event to its own writer thread and then ~20 us
on the event's checksum, one byte at a time in Python. logx encodes each metric() call's scalars as
one event record in the caller's thread (runx.logx.tfevents and runx.logx.crc32c, a few
microseconds) and queues the bytes; a daemon thread appends what has gathered every LATENCY seconds
to logx's own event file (`events.out.tfevents.<time>.<host>.<pid>.<n>.logx` in the logdir), in one
write, and hands it to the OS, so TensorBoard sees scalars within ~0.1 s. The caller never waits for the thread and never
wakes it per call, and the thread holds the GIL only briefly.

Every other call (images, histograms, text, add_scalar with extra options...) goes to a tensorboardX
SummaryWriter through its public API, in the caller's thread, so arrays the caller later changes in
place are read at call time. The SummaryWriter opens on the first such call and writes an event file
of its own beside logx's; TensorBoard reads every event file of a directory as one run. The run's
session start and end for TensorBoard's HParams dashboard (runx.logx.tensorboard_hparams) go into
logx's own file, written in the caller's thread: no thread is started for them, at initialize() or
at interpreter exit. With eager_flush (the default) a call returns once its event is in the file:
tensorboardX's thread writes it, and logx flushes and reads the records appended to the file until
one holds the call's tag and step (runx.logx.tensorboard.EventFileTail). Before the process forks
the SummaryWriter is closed (its queue and at-exit handler are shared with a forked child, and a
child that exits would stop the parent's writer thread); the next call opens a new one.
"""
from __future__ import annotations

import itertools
import os
import socket
import sys
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, List, Mapping, Optional, Tuple

from runx.logx import tfevents
from runx.logx.proxy import TensorBoardSink
from runx.logx.rundir.codec import to_number
from runx.logx.rundir.layout import LOGX_EVENTS_SUFFIX, TFEVENTS_PREFIX

__all__ = ["open_writer", "BackgroundWriter", "EventFileTail", "silence", "EVENT_PREFIX", "LOGX_EVENT_SUFFIX"]

EVENT_PREFIX = TFEVENTS_PREFIX
"""How every TensorBoard event file's name starts (TensorBoard looks for "tfevents")."""
LOGX_EVENT_SUFFIX = LOGX_EVENTS_SUFFIX
"""How the name of logx's own scalar event file ends."""

_WRITERS = itertools.count()


def _suffix() -> str:
    """A file name suffix no other writer of this host uses: pid and a counter of this process, zero-padded
    so that this process's files of one second sort (as TensorBoard reads them) in the order they were opened."""
    return f".{os.getpid()}.{next(_WRITERS):06d}"


def _summary_writer_class() -> Any:
    """tensorboardX.SummaryWriter, imported on first use."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("logx tensorboard=True needs tensorboardX: pip install 'runx-logx[tensorboard]'") from None
    return SummaryWriter


def open_writer(logdir: str, suffix: str) -> Any:
    """A tensorboardX SummaryWriter for `logdir` whose event file name ends with `suffix`."""
    SummaryWriter = _summary_writer_class()
    # tensorboardX names event files by the second and opens them with "wb": a second writer for the
    # same logdir within that second would truncate the first one's file. The suffix keeps them apart.
    return SummaryWriter(logdir=logdir, flush_secs=1, filename_suffix=suffix)


def _open_event_file(logdir: str) -> Tuple[Any, str]:
    """Create logx's own event file in `logdir`, starting with its file_version event."""
    host = socket.gethostname()
    while True:
        now = time.time()
        path = os.path.join(logdir, f"{EVENT_PREFIX}{int(now):010d}.{host}{_suffix()}{LOGX_EVENT_SUFFIX}")
        try:
            file = open(path, "xb", buffering=0)  # unbuffered: a failed write can be cut back to a record boundary
        except FileExistsError:
            continue
        _write_all(file, tfevents.record(tfevents.file_version_event(now)))
        return file, path


def _write_all(file: Any, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[file.write(view):]


class EventFileTail:
    """The records appended to an event file since the last look, each read once, whole."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0  # where the first record not read yet starts

    def new_events(self) -> List[Any]:
        """The Events of the records completed since the last call (a record cut short waits for the next)."""
        from tensorboardX.proto.event_pb2 import Event

        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                events = []
                for data in tfevents.read_records(file):
                    self.offset = file.tell()
                    events.append(Event.FromString(data))
                return events
        except OSError:
            return []


def _call_target(method: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Optional[str], Optional[int]]:
    """The tag and step a SummaryWriter call writes its event under, each None where the call has none."""
    import inspect

    try:
        arguments = inspect.signature(method).bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return None, None  # the call itself will say what is wrong with its arguments
    tag, step = arguments.get("tag"), arguments.get("global_step")
    return (tag if isinstance(tag, str) else None), (int(step) if isinstance(step, int) else None)


def _holds(event: Any, tag: Optional[str], step: Optional[int]) -> bool:
    """Whether `event` is the one a call with `tag` and `step` writes (tensorboardX may extend the tag:
    add_text's is `<tag>/text_summary`)."""
    if step is not None and event.step != step:
        return False
    return tag is None or any(value.tag.startswith(tag) for value in event.summary.value)


class BackgroundWriter(TensorBoardSink):
    """logx's scalars, written by a thread to logx's event file; other calls through a tensorboardX SummaryWriter."""

    LATENCY = 0.1
    """Seconds the thread gathers encoded scalars before appending them to the event file at once."""
    FLUSH_SECONDS = 1.0
    """Seconds between flushes of the SummaryWriter while its calls arrive without eager_flush."""
    MAX_PENDING = 100_000
    """Queued events beyond which a caller waits: a runaway loop slows down instead of growing."""
    WAIT_SECONDS = 60.0
    """How long a direct call with eager_flush waits at most for tensorboardX's thread to write its event:
    a bound for a writer thread that hangs, not for a slow one (a loaded machine takes seconds); one that
    died is seen at once."""
    MAX_ENCODERS = 1_000
    """Encoders kept for metrics(): a name per step (f"loss_{step}") must not grow the cache forever."""

    def __init__(self, logdir: str) -> None:
        _summary_writer_class()  # a missing extra is an error at initialize(), not at the first image
        self.logdir = logdir
        self._writer: Any = None  # the SummaryWriter, opened on the first call that needs it
        self._writer_file: Optional[EventFileTail] = None  # its main event file, found by its unique suffix
        self._writer_threads: List[threading.Thread] = []  # the threads tensorboardX started for it
        self._writer_died = False
        self._lock = threading.Lock()  # one caller of the SummaryWriter at a time
        self._write_lock = threading.Lock()  # one writer of logx's event file at a time
        self._pending: Deque[bytes] = deque()  # encoded records
        self._file, self.path = _open_event_file(logdir)
        self._event, self._record = tfevents.scalar_event, tfevents.record
        self._encoders: Dict[Tuple[str, Tuple[str, ...]], tfevents.ScalarEncoder] = {}
        self._wake = threading.Event()
        self._idle = False  # the thread waits for scalars: the next caller wakes it
        self._flush_wanted = False
        self._closing = False
        self._failed = False  # the last write of logx's event file failed (warned once)
        self._thread = threading.Thread(target=self._run, name="logx-tensorboard", daemon=True)
        self._thread.start()

    @property
    def writer(self) -> Any:
        """The tensorboardX SummaryWriter for direct calls (opened now if it is not open)."""
        with self._lock:
            return self._summary_writer()

    def _summary_writer(self) -> Any:
        if self._writer is not None and not self._writer_alive():
            self._drop_dead_writer()
        if self._writer is None:
            suffix = _suffix()
            running = set(threading.enumerate())
            self._writer = open_writer(self.logdir, suffix)
            self._writer_threads = [thread for thread in threading.enumerate()
                                    if thread not in running and type(thread).__module__.startswith("tensorboardX")]
            names = [n for n in os.listdir(self.logdir) if n.startswith(EVENT_PREFIX) and n.endswith(suffix)]
            self._writer_file = EventFileTail(os.path.join(self.logdir, names[0])) if len(names) == 1 else None
        return self._writer

    def _writer_alive(self) -> bool:
        return all(thread.is_alive() for thread in self._writer_threads)

    def _drop_dead_writer(self) -> None:
        """tensorboardX's writer thread died (a full disk, its error printed by Python): what it had not
        written is lost; close what is left of it, so that the next call opens a new event file."""
        writer, self._writer, self._writer_file, self._writer_threads = self._writer, None, None, []
        if not self._writer_died:  # once: on a full disk each new writer's thread dies at its first write
            print(f"logx: tensorboardX's writer thread for {self.logdir} stopped (its error is above); events it "
                  "had not written are lost, a new event file takes the next ones", file=sys.stderr)
        self._writer_died = True
        try:
            writer.close()
        except (OSError, ValueError):
            pass

    def scalars(self, tag_values: List[Tuple[str, float]], step: Optional[int], walltime: Optional[float] = None) -> None:
        """Queue scalars that share a step; each value must already be a Python number.

        They are encoded here, in the caller's thread: a thread busy encoding would hold the GIL in
        long stretches, and every file write of the caller would then wait for it (a convoy).
        """
        if walltime is None:
            walltime = time.time()
        self._queue(self._record(self._event(walltime, step, tag_values)))

    def metrics(self, phase: str, values: Mapping[str, float], step: Optional[int]) -> None:
        """Queue metric()'s values (Python numbers) as the scalars `phase/name` at `step`, as `scalars` does.

        Each phase and list of names has its encoder (tfevents.ScalarEncoder), made on first use.
        """
        key = (phase, tuple(values))
        encoder = self._encoders.get(key)
        if encoder is None:
            if len(self._encoders) >= self.MAX_ENCODERS:
                self._encoders.clear()
            encoder = self._encoders[key] = tfevents.ScalarEncoder([f"{phase}/{name}" for name in values])
        self._queue(self._record(encoder.event(time.time(), step, values.values())))

    def _queue(self, record: bytes) -> None:
        pending = self._pending
        pending.append(record)
        if self._idle:
            self._idle = False
            self._wake.set()
        elif len(pending) > self.MAX_PENDING:
            self._wake.set()
            while len(pending) > self.MAX_PENDING // 2 and self._thread.is_alive():
                time.sleep(0.01)

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Optional[int] = None,
                   walltime: Optional[float] = None, **kwargs: Any) -> None:
        """SummaryWriter.add_scalar, queued to logx's file (extra keyword arguments make it a SummaryWriter call)."""
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
        """Call a SummaryWriter method now, in this thread, and return its result."""
        return self.call_waiting(False, method, args, kwargs)

    def call_waiting(self, wait: bool, method: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """Call a SummaryWriter method now, in this thread, and return its result.

        With `wait`, return once tensorboardX's thread has written the call's event (one holding the
        call's tag and step, or any new one for a call without a tag) and it is flushed to the OS, or
        after WAIT_SECONDS.
        """
        with self._lock:
            writer = self._summary_writer()
            call = getattr(writer, method)
            tail = self._writer_file
            if not wait or tail is None:
                return call(*args, **kwargs)
            tag, step = _call_target(call, args, kwargs)
            _flush(writer)
            tail.new_events()  # what is in the file before the call is not its event
            result = call(*args, **kwargs)
            self._wait_written(writer, tail, tag, step)
            return result

    def _wait_written(self, writer: Any, tail: EventFileTail, tag: Optional[str], step: Optional[int]) -> None:
        deadline = time.monotonic() + self.WAIT_SECONDS
        pause = 0.0005
        while True:
            _flush(writer)
            if any(_holds(event, tag, step) for event in tail.new_events()):
                return
            if not self._writer_alive() or time.monotonic() > deadline:
                return
            time.sleep(pause)
            pause = min(2 * pause, 0.02)

    def add_summary(self, summary: Any, walltime: Optional[float] = None) -> None:
        """Write a ready-made Summary (runx.logx.tensorboard_hparams' session start and end) into logx's
        event file now, in this thread."""
        when = time.time() if walltime is None else walltime
        self._pending.append(self._record(tfevents.summary_event(when, summary.SerializeToString())))
        self._write_pending()

    def flush(self) -> None:
        """Write everything queued so far and flush the SummaryWriter, in this thread."""
        self._write_pending()
        with self._lock:
            if self._writer is not None:
                _flush(self._writer)

    def flush_soon(self) -> None:
        """Ask the thread to flush the SummaryWriter within LATENCY."""
        self._flush_wanted = True
        if self._idle:
            self._idle = False
            self._wake.set()

    def before_fork(self) -> None:
        """Close the SummaryWriter (a forked child must not share its queue); the next call opens another."""
        with self._lock:
            writer, self._writer, self._writer_file = self._writer, None, None
            if writer is not None:
                writer.close()
        self._write_pending()

    def _run(self) -> None:
        wake, pending = self._wake, self._pending
        while not self._closing:
            if not pending and not self._flush_wanted:
                self._idle = True
                if not pending and not self._flush_wanted:  # a caller may have queued after the first look
                    wake.wait()
                self._idle = False
                wake.clear()
                if self._closing:
                    return
            wake.wait(self.LATENCY)  # gather a batch: callers append without waking anyone; close() cuts it short
            wake.clear()
            self._write_pending()
            if self._flush_wanted:
                self._flush_wanted = False
                with self._lock:
                    if self._writer is not None:
                        _flush(self._writer)

    def _write_pending(self) -> bool:
        """Append the queued scalars to logx's event file in one write; True if anything was written."""
        with self._write_lock:
            pending = self._pending
            batch = [pending.popleft() for _ in range(len(pending))]
            if not batch or self._file is None:
                return False
            file = self._file
            good = file.tell()
            try:
                _write_all(file, b"".join(batch))
            except OSError as err:  # TensorBoard's copy is a view (metrics.jsonl keeps every record): go on without it
                try:
                    file.truncate(good)  # no torn record: TensorBoard's reader would stop there
                    file.seek(good)
                except OSError:
                    pass
                if not self._failed:
                    print(f"logx: cannot write {self.path} ({err.strerror or err}); TensorBoard misses these scalars "
                          "(metrics.jsonl keeps them)", file=sys.stderr)
                self._failed = True
                return False
            self._failed = False
            return True

    def close(self) -> None:
        """Write everything queued, flush and close both event files."""
        self._closing = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        self._write_pending()
        with self._write_lock:
            file, self._file = self._file, None
            if file is not None:
                try:
                    file.close()
                except OSError as err:
                    print(f"logx: closing {self.path} failed: {err}", file=sys.stderr)
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.flush()
                writer.close()

    def abandon(self) -> None:
        """In a forked child: drop what the parent queued and make every write of this copy go nowhere.

        No lock is taken: the threads that held them are gone. The SummaryWriter was closed before the fork.
        """
        self._closing = True
        self._pending.clear()
        self._writer = None
        if self._file is not None:
            silence(self._file)
            self._file = None


def _flush(writer: Any) -> None:
    """Flush a SummaryWriter; a write that fails (a full disk) fails in its thread too, which prints the
    error and dies, and the next call replaces the writer (BackgroundWriter._drop_dead_writer)."""
    try:
        writer.flush()
    except OSError:
        pass


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
