"""Run names `[tag_]<coolname>_<YYYY.MM.DD_HH.MM>` and claiming their directories atomically."""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Optional

from runx.core.errors import RunxError

__all__ = ["timestamp", "run_name", "unique_names", "claim_run_dir", "check_tag"]

_BAD_TAG = re.compile(r"[/\x00-\x1f\x7f]")  # a slash, or a control character such as a line break


def timestamp(now: datetime) -> str:
    """The date part of a run name."""
    return now.strftime("%Y.%m.%d_%H.%M")


def check_tag(tag: str, where: str) -> str:
    """A tag must be usable as part of a directory name."""
    if not tag or _BAD_TAG.search(tag) or tag in (".", ".."):
        raise RunxError(f"{where}: expected a tag usable in a directory name (no '/', no line breaks or other control characters), found {tag!r}")
    return tag


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
        except FileExistsError:
            if not allow_suffix:
                raise RunxError(f"{path}: run directory already exists; --no_cooldir never reuses a run directory") from None
            n += 1
            candidate = f"{name}_{n}"
