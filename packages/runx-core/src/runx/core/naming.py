"""Run names `[tag_]<coolname>_<YYYY.MM.DD_HH.MM>` and claiming their directories atomically."""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Optional

from runx.core.errors import RunxError
from runx.logx.rundir.layout import CODE_DIR

__all__ = ["timestamp", "run_name", "unique_names", "claim_run_dir", "check_tag", "name_max", "check_name_lengths",
           "MAX_SLUG", "SUFFIX_ROOM"]

_BAD_TAG = re.compile(r"[/\x00-\x1f\x7f]")  # a slash, or a control character such as a line break
RESERVED_NAMES = (CODE_DIR,)
"""Directory names that runx status, sumx and resubmit never look into for runs (nor dot-names)."""
MAX_SLUG = 50
"""The longest coolname slug (coolname's own `max_slug_length`)."""
STAMP_LENGTH = len("YYYY.MM.DD_HH.MM")
SUFFIX_ROOM = 8
"""Room left in a run name for the `_N` a clash adds."""


def timestamp(now: datetime) -> str:
    """The date part of a run name."""
    return now.strftime("%Y.%m.%d_%H.%M")


def check_tag(tag: str, where: str) -> str:
    """A tag must be usable as part of a directory name."""
    if not tag or _BAD_TAG.search(tag) or tag in (".", ".."):
        raise RunxError(f"{where}: expected a tag usable in a directory name (no '/', no line breaks or other control characters), found {tag!r}")
    if tag in RESERVED_NAMES or tag.startswith("."):
        raise RunxError(f"{where}: expected a tag that is not 'code' and does not start with '.' (runx status, sumx and "
                        f"resubmit skip such directories, so its runs would be invisible), found {tag!r}")
    return tag


def name_max(path: Path) -> int:
    """The longest file name (in bytes) the file system holding `path` allows; `path` need not exist yet."""
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _longest_run_name(tag: Optional[str], no_cooldir: bool) -> int:
    tag_bytes = len(tag.encode("utf-8", "surrogateescape")) if tag else 0
    if no_cooldir:
        return tag_bytes
    return (tag_bytes + 1 if tag else 0) + MAX_SLUG + 1 + STAMP_LENGTH + SUFFIX_ROOM


def check_name_lengths(exp_dir: Path, tags: Iterable[Optional[str]], no_cooldir: bool, where_tag: Callable[[str], str]) -> None:
    """Refuse a tag that would make a run directory's name longer than the file system allows (checked
    before anything is created); `where_tag(tag)` names where a tag came from."""
    limit = name_max(exp_dir)
    room = limit if no_cooldir else limit - (MAX_SLUG + 2 + STAMP_LENGTH + SUFFIX_ROOM)
    for tag in dict.fromkeys(tags):
        if tag is not None and _longest_run_name(tag, no_cooldir) > limit:
            size = len(tag.encode("utf-8", "surrogateescape"))
            raise RunxError(f"{where_tag(tag)}: expected a tag of at most {room} bytes, so that run names fit the "
                            f"{limit} bytes a file name may have here; found one of {size} bytes: {tag[:40]!r}...")


def run_name(tag: Optional[str], slug: Optional[str], stamp: Optional[str]) -> str:
    """`tag_slug_stamp`; without a slug (--no_cooldir) just the tag."""
    if slug is None:
        assert tag, "a run without a cool name needs a tag"
        return tag
    prefix = f"{tag}_" if tag else ""
    return f"{prefix}{slug}_{stamp}"


def unique_names(
    tags: Iterable[Optional[str]], stamp: str, make_slug: Callable[[], str]
) -> list:
    """One candidate name per run, distinct within the sweep (claiming makes them unique on disk)."""
    names, seen = [], set()
    for tag in tags:
        for _ in range(1000):
            name = run_name(tag, make_slug(), stamp)
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    return names


def claim_run_dir(exp_dir: Path, name: str, allow_suffix: bool = True) -> Path:
    """Create `exp_dir/name` atomically; if taken, `name_2`, `name_3`… (or an error without suffixes)."""
    exp_dir.mkdir(parents=True, exist_ok=True)
    candidate, n = name, 1
    while True:
        path = exp_dir / candidate
        try:
            os.mkdir(path)
            return path
        except FileNotFoundError:  # a failed launch removed the experiment directory it had made
            exp_dir.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            if not allow_suffix:
                raise RunxError(f"{path}: run directory already exists; --no_cooldir never reuses a run directory") from None
            n += 1
            candidate = f"{name}_{n}"
