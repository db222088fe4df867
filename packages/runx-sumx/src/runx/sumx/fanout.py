"""Reading many runs on several CPUs with a multiprocessing pool (the fork start method where the platform has it).

Reading a run is a few small file reads plus JSON parsing, all bound by the interpreter, so for
thousands of runs the CPUs help where threads would not. For few runs everything is read in this process.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Callable, List, Optional, Sequence

from runx.sumx.reader import Run

MIN_PER_WORKER = 400
MAX_WORKERS = 8
MAX_CHUNKS = 128  # the jobs are handed out in this many chunks, so a worker that gets no CPU is not waited for

__all__ = ["load_all"]

_load: Optional[Callable[..., Optional[Run]]] = None  # the loader, in each worker


def _workers(jobs: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, jobs // MIN_PER_WORKER))


def _start(load: Callable[..., Optional[Run]]) -> None:
    global _load
    _load = load


def _read_chunk(chunk: Sequence[tuple]) -> Optional[List[Optional[Run]]]:
    """The runs of one chunk, or None if reading it failed here (the parent reads it again, so a real error shows)."""
    assert _load is not None
    try:
        return [_load(*job) for job in chunk]
    except Exception:
        return None


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def load_all(jobs: Sequence[tuple], load: Callable[..., Optional[Run]]) -> List[Optional[Run]]:
    """`load(*job)` for every job (experiment, experiment dir, run dir), in order.

    Spread over the CPUs from 2 * MIN_PER_WORKER jobs on: below that, starting the workers cost more than
    it saved. Without the fork start method `load` must pickle (a module-level function or a partial of one).
    """
    workers = _workers(len(jobs))
    if workers == 1 or not jobs:
        return [load(*job) for job in jobs]
    size = -(-len(jobs) // MAX_CHUNKS)
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    with _context().Pool(workers, initializer=_start, initargs=(load,)) as pool:
        parts = pool.map(_read_chunk, chunks, chunksize=1)
        pool.close()
        pool.join()
    return [run for chunk, part in zip(chunks, parts)
            for run in (part if part is not None else [load(*job) for job in chunk])]
