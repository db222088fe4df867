"""Crash-safe checkpoints: write to a temporary file, flush, rename; delete predecessors only after."""
from __future__ import annotations

import os
import re
from typing import Any, Optional

__all__ = ["atomic_save", "find_checkpoint", "clean_temporaries", "torch_module"]

LAST = re.compile(r"^last_checkpoint_ep(-?[0-9]+)\.pth$")
BEST = re.compile(r"^best_checkpoint_ep(-?[0-9]+)\.pth$")
TMP_SUFFIX = ".tmp"


def torch_module() -> Any:
    """torch, imported on first use."""
    try:
        import torch
    except ImportError:
        raise ImportError("logx checkpoints need torch: pip install 'runx-logx[torch]'") from None
    return torch


def atomic_save(obj: Any, path: str) -> None:
    """torch.save to `path` so that `path` is either absent or complete, even after kill -9."""
    torch = torch_module()
    tmp = f"{path}.{os.getpid()}{TMP_SUFFIX}"
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


def atomic_link_or_copy(src: str, dst: str) -> None:
    """Make `dst` a complete copy of the finished file `src` (hard link when possible)."""
    tmp = f"{dst}.{os.getpid()}{TMP_SUFFIX}"
    try:
        os.link(src, tmp)
    except OSError:
        import shutil

        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    _fsync_dir(os.path.dirname(dst) or ".")


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def find_checkpoint(logdir: str, pattern: "re.Pattern") -> Optional[str]:
    """The checkpoint matching `pattern` with the highest epoch, or None."""
    best_epoch, best = None, None
    for name in os.listdir(logdir):
        match = pattern.match(name)
        if match and (best_epoch is None or int(match.group(1)) > best_epoch):
            best_epoch, best = int(match.group(1)), name
    return None if best is None else os.path.join(logdir, best)


def clean_temporaries(logdir: str) -> None:
    """Remove temporary files left by a save that was killed midway."""
    for name in os.listdir(logdir):
        if name.endswith(TMP_SUFFIX) and (name.startswith("last_checkpoint_ep") or name.startswith("best_checkpoint_ep")):
            os.remove(os.path.join(logdir, name))
