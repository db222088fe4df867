"""Finding experiments below LOGROOT and the runs below an experiment, at any depth."""
from __future__ import annotations

import os

from runx.sumx.errors import SumxError
from runx.sumx.reader import MARKERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

__all__ = ["experiment_dir", "find_runs"]


def experiment_dir(name: str, logroot: Optional[str]) -> str:
    """The directory of experiment `name`: below LOGROOT, or a path (absolute, or ./ ../ relative)."""
    if os.path.isabs(name) or name.startswith(("./", "../")) or logroot is None:
        path = name
    else:
        path = os.path.join(logroot, name)
    path = os.path.normpath(path)
    if not os.path.isdir(path):
        where = f" below LOGROOT {logroot}" if logroot is not None and path != name else ""
        raise SumxError(f"{name}: no such experiment{where}")
    return path


def find_runs(exp_dir: str) -> List[str]:
    """Run directories below `exp_dir`, sorted; never inside `code/` or dot-directories, nor inside a run.

    A directory is a run when it holds run.json, hparams.json, metrics.jsonl or metrics.csv. The
    usual run is recognised by one stat of its hparams.json, without listing it.
    """
    found: List[str] = []
    pending = [exp_dir]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(e.name for e in os.scandir(folder) if e.is_dir() and e.name != "code" and not e.name.startswith("."))
        except OSError:
            continue
        subdirs = []
        for name in entries:
            path = os.path.join(folder, name)
            if os.path.exists(os.path.join(path, "hparams.json")):
                found.append(path)
                continue
            try:
                names = set(os.listdir(path))
            except OSError:
                continue
            if not names.isdisjoint(MARKERS):
                found.append(path)
            else:
                subdirs.append(path)
        pending.extend(reversed(subdirs))
    found.sort()
    return found
