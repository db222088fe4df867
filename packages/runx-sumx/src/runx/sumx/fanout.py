"""Reading many runs on several CPUs: forked children read their share and send it back marshalled.

Reading a run is a few small file reads plus JSON parsing, all bound by the interpreter, so for
thousands of runs the CPUs help where threads would not. Where fork is missing, or for few runs,
everything is read in this process.
"""
from __future__ import annotations

import marshal
import os

from runx.sumx.reader import Metric, Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, List, Optional, Sequence

MIN_PER_WORKER = 400
MAX_WORKERS = 8

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
    return Run(*data[:4], {k: Metric._make(m) for k, m in data[4].items()}, *data[5:])


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def load_all(jobs: Sequence[tuple], load: Callable[..., Optional[Run]]) -> List[Optional[Run]]:
    """`load(*job)` for every job (experiment, experiment dir, run dir), in order.

    Spread over the CPUs from 2 * MIN_PER_WORKER jobs on: below that, forking (and the copy-on-write
    faults it brings to both processes) cost more than it saved here.
    """
    workers = _workers(len(jobs))
    if workers == 1:
        return [load(*job) for job in jobs]
    # The parent also rebuilds what the children send, about a sixth of the cost of reading a run,
    # so it takes a smaller share: p + (workers - 1) * c / 6 = c.
    first = max(0, len(jobs) * (7 - workers) // (5 * workers + 1))
    size = -(-(len(jobs) - first) // (workers - 1))
    shares = [jobs[:first]] + [jobs[i:i + size] for i in range(first, len(jobs), size)]
    children = []
    for share in shares[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: read the share, send it, leave without running the parent's exit handlers
            code = 0
            try:
                os.close(read_end)
                data = marshal.dumps([_to_plain(load(*job)) for job in share])
                view = memoryview(data)
                while view:
                    view = view[os.write(write_end, view):]
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        children.append((pid, read_end, share))
    results = [load(*job) for job in shares[0]]
    for pid, read_end, share in children:
        data = _read_all(read_end)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        if status == 0:
            results += [_from_plain(t) for t in marshal.loads(data)]
        else:  # the child failed: read its share here, so a real error shows its traceback
            results += [load(*job) for job in share]
    return results
