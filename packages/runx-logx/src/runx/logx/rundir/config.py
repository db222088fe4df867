"""The runx config file and its LOGROOT: one lookup and one resolution for runx, logx and sumx.

Lookup: `-c FILE` (an error if it is missing), else `.runx` in the current directory or the nearest
folder above it (up to the filesystem root, as git and tox look for their files), else
`~/.config/runx.yml`. A `.runx` in a folder above that belongs to another user (not root) is passed
over, as git passes over a repository another user owns: it could name any SUBMIT_CMD.
LOGROOT: `~` and `$VARS` expanded (an unset variable is an error), and a relative path resolved
against the folder of the file that set it (not the current directory).
"""
from __future__ import annotations

import os
from typing import Any, List, NamedTuple, Optional

from runx.logx.errors import LogxError

__all__ = ["CONFIG_NAMES", "LOOKUP", "ConfigLookup", "look_up_config", "locate_config", "resolve_logroot",
           "read_logroot", "default_logroot", "NO_CONFIG_LOGROOT", "logroot_without_config"]

CONFIG_NAMES = (".runx", "~/.config/runx.yml")
"""What the config is looked for as, in order (when not given with -c): `.runx` here or in a folder above."""
LOOKUP = ".runx here or in a folder above, ~/.config/runx.yml"
"""The lookup in words, for messages."""
NO_CONFIG_LOGROOT = "logs"
"""With no config anywhere, a launch puts its runs in this folder beside the experiment file, and the
commands that read runs (sumx, runx status, ls, ...) look for them in this folder of the current directory."""


class ConfigLookup(NamedTuple):
    """Where the config was looked for: `path` found (None: none), every candidate in order, and
    the `.runx` files passed over (another user's)."""

    path: Optional[str]
    searched: List[str]
    passed_over: List[str]
    explicit: bool = False


def _candidates(cwd: str, home: str) -> List[str]:
    """`.runx` in `cwd` and in each folder above it up to the root, then `home/.config/runx.yml`."""
    folder = os.path.abspath(cwd)
    found = []
    while True:
        found.append(os.path.join(folder, ".runx"))
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    found.append(os.path.join(home, ".config", "runx.yml"))
    return found


def _owned_by_another_user(path: str) -> bool:
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return False
    try:
        owner = os.stat(path).st_uid
    except OSError:
        return False
    return owner not in (getuid(), 0)


def look_up_config(explicit: Optional[str] = None, cwd: Optional[str] = None, home: Optional[str] = None) -> ConfigLookup:
    """The config lookup (see the module docstring), saying where it looked."""
    if explicit is not None:
        path = os.path.expanduser(str(explicit))
        if not os.path.isfile(path):
            problem = "is a directory, not a file" if os.path.isdir(path) else "does not exist"
            raise LogxError(f"{explicit}: config file given with -c {problem}")
        return ConfigLookup(path, [path], [], explicit=True)
    here = cwd if cwd is not None else os.getcwd()
    candidates = _candidates(here, home if home is not None else os.path.expanduser("~"))
    passed_over = []
    for index, candidate in enumerate(candidates):
        if not os.path.isfile(candidate):
            continue
        if 0 < index < len(candidates) - 1 and _owned_by_another_user(candidate):
            passed_over.append(candidate)
            continue
        return ConfigLookup(candidate, candidates[:index + 1], passed_over)
    return ConfigLookup(None, candidates, passed_over)


def locate_config(explicit: Optional[str] = None, cwd: Optional[str] = None, home: Optional[str] = None) -> Optional[str]:
    """`explicit` (must be a file), else the nearest `.runx` from `cwd` upward, else
    `<home>/.config/runx.yml`, else None."""
    return look_up_config(explicit, cwd, home).path


def resolve_logroot(value: Any, source: str) -> str:
    """LOGROOT `value` as set in file `source`: expanded, absolute (relative to `source`'s folder), normalised."""
    if not isinstance(value, str) or not value.strip():
        raise LogxError(f"{source}: LOGROOT: expected a directory path, found {value!r:.80}")
    expanded = os.path.expandvars(os.path.expanduser(value))
    if "$" in expanded:
        import re

        unset = re.search(r"\$(\w+|\{[^}]*\})", expanded)
        if unset is not None:
            raise LogxError(f"{source}: LOGROOT: {unset.group(0)} is not set in the environment; "
                            f"expected a directory path, found {value!r:.80}")
    if not os.path.isabs(expanded):
        expanded = os.path.join(os.path.dirname(os.path.realpath(source)), expanded)
    return os.path.normpath(expanded)


def read_logroot(path: str) -> str:
    """LOGROOT of config file `path` (read with PyYAML), resolved; LogxError naming the file when it has none."""
    try:
        import yaml
    except ImportError:
        raise ImportError(f"reading LOGROOT from {path} needs PyYAML: pip install pyyaml") from None
    try:
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    except OSError as err:
        raise LogxError(f"{path}: cannot read the config file: {err.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LogxError(f"{path}: not valid YAML: {first}") from None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise LogxError(f"{path}: expected a mapping of settings at the top level, found {type(config).__name__}")
    if "LOGROOT" not in config:
        raise LogxError(f"{path}: LOGROOT: missing; expected the directory that holds experiments")
    return resolve_logroot(config["LOGROOT"], path)


def default_logroot(explicit: Optional[str] = None) -> Optional[str]:
    """LOGROOT of the config file found (see locate_config); None when there is no config file."""
    path = locate_config(explicit)
    return None if path is None else read_logroot(path)


def logroot_without_config(cwd: Optional[str] = None) -> Optional[str]:
    """Where the readers of runs look when there is no config: NO_CONFIG_LOGROOT in `cwd` (default: the
    current directory) when it is a directory, else None."""
    path = os.path.join(os.path.abspath(cwd or os.getcwd()), NO_CONFIG_LOGROOT)
    return path if os.path.isdir(path) else None
