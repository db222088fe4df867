"""Finding experiments below LOGROOT, and the folders below them that may be runs.

Whether a folder is a run is decided by reading it (runx.sumx.reader.load_run): the usual run costs
no extra listing or stat. A folder that is not a run is listed in turn, so tagged runs at any depth
are found; a run's own sub-folders are never searched.
"""
from __future__ import annotations

import os
from typing import List, Optional

from runx.logx.rundir.layout import not_searched
from runx.sumx.errors import SumxError

__all__ = ["experiment_dir", "subdirs"]


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


def subdirs(folder: str) -> List[str]:
    """The sub-directories that may be runs or hold runs: sorted, without `code/` and dot-directories.

    Symbolic links are not followed (as `runx status` does not): a link to `.` or to a parent would
    show runs again and again, or never end.
    """
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if not not_searched(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    names.sort()
    return [os.path.join(folder, n) for n in names]
