"""Whether the script CMD runs will be in the staged code: the launcher's warning, with -n too.

Kept apart from staging.py so that a dry run, which stages nothing, loads none of staging's
machinery (shutil, subprocess, dataclasses): `runx sweep.yml -n` is a command users wait on.
"""
from __future__ import annotations

import fnmatch
import os
import shlex
from pathlib import Path
from typing import Optional

__all__ = ["unstaged_script"]


def _cmd_script(cmd: str) -> Optional[str]:
    """The script CMD runs (`python train.py` → train.py, `./run.sh`, `bash tools/go.sh`), if it names one."""
    try:
        words = shlex.split(cmd)
    except ValueError:
        return None
    for word in words:
        if word.startswith("-") or "LOGDIR" in word or "$" in word or ("=" in word and "/" not in word.split("=")[0]):
            continue
        if word.endswith((".py", ".sh")) or word.startswith("./"):
            return word
    return None


def unstaged_script(cmd: str, source: Path, patterns: tuple) -> Optional[str]:
    """Why the script CMD runs is not in what will be staged from `source` (a warning), or None: it is
    outside `source`, missing there, or left out by an ignore pattern."""
    script = _cmd_script(cmd)
    if script is None:
        return None
    root = os.path.normpath(os.path.abspath(source))
    where = f"{root} (the folder runx was started from, staged as each run's code/)"
    path = os.path.normpath(script if os.path.isabs(script) else os.path.join(root, script))
    if path != root and not path.startswith(root.rstrip(os.sep) + os.sep):
        return f"CMD runs {script}, which is outside {where}; the jobs run it from outside their snapshot"
    if not os.path.exists(path):
        return f"CMD runs {script}, which is not in {where}; start runx from the folder that holds it"
    for part in os.path.relpath(path, root).split(os.sep):
        pattern = next((p for p in patterns if fnmatch.fnmatch(part, p)), None)
        if pattern is not None:
            return f"CMD runs {script}, which CODE_IGNORE_PATTERNS {pattern!r} leaves out of what is staged from {where}"
    return None
