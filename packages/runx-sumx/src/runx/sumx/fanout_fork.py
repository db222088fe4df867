"""The speed trick beside runx.sumx.fanout (its plain reference): reading many runs on several CPUs, forked children read their share and send it back marshalled.

Reading a run is a few small file reads plus JSON parsing, all bound by the interpreter, so for
thousands of runs the CPUs help where threads would not. Where fork is missing, or for few runs,
everything is read in this process.
"""
from __future__ import annotations

import marshal
import os
from typing import Callable, List, Optional, Sequence

from runx.sumx.reader import Metric, Run

MIN_PER_WORKER = 400
MAX_WORKERS = 8
MAX_CHUNKS = 128  # the jobs are handed out in this many chunks (one byte each, so at most 256)

__all__ = ["load_all"]


def _workers(jobs: int) -> int:
    if not hasattr(os, "fork"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, jobs // MIN_PER_WORKER))


def _to_plain(run: Optional[Run]) -> Optional[tuple]:
    if run is None:
        return None
    return run[:4] + ({k: tuple(m) for k, m in run.metrics.items()},) + run[5:]


def _from_plain(data: Optional[tuple]) -> Optional[Run]:
    if data is None:
        return None
    return Run._make((*data[:4], {k: Metric._make(m) for k, m in data[4].items()}, *data[5:]))


def _read_all(fd: int) -> bytes:
    chunks: List[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _take(tokens: int) -> Optional[int]:
    """The next chunk nobody has taken yet, or None when all are taken."""
    token = os.read(tokens, 1)  # one byte from a pipe: each chunk goes to exactly one process
    return token[0] if token else None


def load_all(jobs: Sequence[tuple], load: Callable[..., Optional[Run]]) -> List[Optional[Run]]:
    """`load(*job)` for every job (experiment, experiment dir, run dir), in order.

    Spread over the CPUs from 2 * MIN_PER_WORKER jobs on: below that, forking (and the copy-on-write
    faults it brings to both processes) cost more than it saved here. The jobs are cut into chunks
    that this process and its children take in turn from a pipe, so a child that gets no CPU (the
    machine is busy) leaves its work to the others instead of being waited for.
    """
    workers = _workers(len(jobs))
    if workers == 1 or not jobs:
        return [load(*job) for job in jobs]
    size = -(-len(jobs) // MAX_CHUNKS)
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    tokens, fill = os.pipe()
    os.write(fill, bytes(range(len(chunks))))  # fits the pipe's buffer: no reader needed yet
    os.close(fill)  # before forking: once the chunks are taken, every reader sees the end
    children = []
    for _ in range(workers - 1):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: read chunks, send them, leave without running the parent's exit handlers
            code = 0
            try:
                os.close(read_end)
                done = []
                index = _take(tokens)
                while index is not None:
                    done.append((index, [_to_plain(load(*job)) for job in chunks[index]]))
                    index = _take(tokens)
                view = memoryview(marshal.dumps(done))
                while view:
                    view = view[os.write(write_end, view):]
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        children.append((pid, read_end))
    results: list = [None] * len(chunks)  # the runs of each chunk, in order
    index = _take(tokens)
    while index is not None:
        results[index] = [load(*job) for job in chunks[index]]
        index = _take(tokens)
    os.close(tokens)
    for pid, read_end in children:
        data = _read_all(read_end)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        if status == 0:
            for index, plain in marshal.loads(data):
                results[index] = [_from_plain(t) for t in plain]
    for index, chunk in enumerate(chunks):  # taken by a child that failed: read here, so a real error shows
        if results[index] is None:
            results[index] = [load(*job) for job in chunk]
    return [run for part in results for run in part]
