"""Where logx writes when `initialize()` is given no logdir: $RUNX_LOGDIR, else LOGROOT from the runx config."""
from __future__ import annotations

import os
from typing import Optional

from runx.logx.errors import LogxError

__all__ = ["default_logdir", "config_path"]


def config_path() -> Optional[str]:
    """The runx config file as runx 0.0.11 looks it up: ./.runx, then ~/.config/runx.yml."""
    for path in (".runx", os.path.join(os.path.expanduser("~"), ".config", "runx.yml")):
        if os.path.isfile(path):
            return path
    return None


def _logroot() -> str:
    path = config_path()
    if path is None:
        raise LogxError("logx.initialize(): no logdir given, RUNX_LOGDIR is not set, and there is no ./.runx "
                        "or ~/.config/runx.yml with LOGROOT")
    try:
        import yaml
    except ImportError:
        raise ImportError(f"reading LOGROOT from {path} needs PyYAML: pip install pyyaml "
                          "(or pass logdir= to logx.initialize)") from None
    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    root = config.get("LOGROOT") if isinstance(config, dict) else None
    if not root:
        raise LogxError(f"logx.initialize(): no logdir given, RUNX_LOGDIR is not set, and {path} has no LOGROOT")
    return os.path.expanduser(str(root))


def default_logdir(coolname: bool) -> str:
    """$RUNX_LOGDIR (set by runx for its jobs), else LOGROOT/<coolname slug> or LOGROOT/default."""
    from_env = os.environ.get("RUNX_LOGDIR")
    if from_env:
        return from_env
    root = _logroot()
    if coolname:
        try:
            from coolname import generate_slug
        except ImportError:
            raise ImportError("logx.initialize(coolname=True) needs coolname: pip install coolname") from None
        return os.path.join(root, generate_slug(2))
    return os.path.join(root, "default")
