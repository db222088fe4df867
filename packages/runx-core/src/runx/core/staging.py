"""Staging the code: one snapshot per launch, then a hard-linked `code/` tree per run.

The snapshot skips ignore patterns (matched against each name, like shutil.ignore_patterns)
and the LOGROOT when it lies inside the project. Symlinks stay links and are never followed;
a relative link that points outside the project is re-pointed to its absolute target so it
still resolves from the run directory.
"""
from __future__ import annotations

import errno
import fnmatch
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

__all__ = ["SnapshotStats", "GitState", "snapshot", "link_tree", "git_state", "LARGE_SNAPSHOT_BYTES"]

LARGE_SNAPSHOT_BYTES = 100 * 1024 * 1024


@dataclass
class SnapshotStats:
    """What a snapshot holds: counts, bytes and the biggest files."""

    files: int = 0
    links: int = 0
    bytes: int = 0
    biggest: list = field(default_factory=list)

    def note_file(self, relative: str, size: int) -> None:
        self.files += 1
        self.bytes += size
        self.biggest.append((size, relative))
        if len(self.biggest) > 64:
            self.biggest = sorted(self.biggest, reverse=True)[:5]

    def top(self, n: int = 5) -> list:
        return sorted(self.biggest, reverse=True)[:n]


@dataclass(frozen=True)
class GitState:
    """The source checkout's commit, whether it is dirty, its diff and untracked files."""

    commit: Optional[str]
    dirty: bool
    diff: str
    untracked: tuple


def _ignored(name: str, patterns: tuple) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _repointed_link(target: str, link_path: Path, source_root: Path) -> str:
    if os.path.isabs(target):
        return target
    resolved = os.path.normpath(os.path.join(os.path.dirname(link_path), target))
    root = os.path.normpath(str(source_root))
    if resolved == root or resolved.startswith(root + os.sep):
        return target
    return resolved


def snapshot(source: Path, dest: Path, patterns: tuple, exclude: tuple = ()) -> SnapshotStats:
    """Copy `source` into the new directory `dest`, skipping ignored names and `exclude` dirs."""
    source = Path(os.path.abspath(source))
    excluded = {os.path.realpath(p) for p in exclude}
    stats = SnapshotStats()
    os.makedirs(dest)
    stack = [(source, Path(dest), "")]
    while stack:
        src_dir, dst_dir, rel_dir = stack.pop()
        with os.scandir(src_dir) as entries:
            for entry in entries:
                if _ignored(entry.name, patterns):
                    continue
                src_path = Path(entry.path)
                dst_path = dst_dir / entry.name
                rel = f"{rel_dir}{entry.name}"
                if entry.is_symlink():
                    target = os.readlink(src_path)
                    os.symlink(_repointed_link(target, src_path, source), dst_path)
                    stats.links += 1
                elif entry.is_dir():
                    if os.path.realpath(src_path) in excluded:
                        continue
                    os.mkdir(dst_path)
                    stack.append((src_path, dst_path, rel + "/"))
                elif entry.is_file():
                    shutil.copy2(src_path, dst_path)
                    stats.note_file(rel, entry.stat().st_size)
        shutil.copystat(src_dir, dst_dir, follow_symlinks=False)
    return stats


def link_tree(src: Path, dest: Path) -> None:
    """Recreate `src` at `dest` with every file hard-linked (copied where links are impossible)."""
    can_link = True
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        target_root = os.path.join(dest, rel) if rel != "." else str(dest)
        os.makedirs(target_root, exist_ok=rel != ".")
        for name in dirs + files:
            path = os.path.join(root, name)
            target = os.path.join(target_root, name)
            if os.path.islink(path):
                os.symlink(os.readlink(path), target)
                if name in dirs:
                    dirs.remove(name)
            elif name in files:
                if can_link:
                    try:
                        os.link(path, target)
                        continue
                    except OSError as err:
                        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                            raise
                        can_link = False
                shutil.copy2(path, target)


def _git(source: Path, *args: str) -> Optional[str]:
    try:
        out = subprocess.run(["git", *args], cwd=source, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.decode("utf-8", errors="replace")


def git_state(source: Path) -> Optional[GitState]:
    """The git state of `source`, or None outside a git checkout (or without git)."""
    if _git(source, "rev-parse", "--is-inside-work-tree") is None:
        return None
    commit = (_git(source, "rev-parse", "HEAD") or "").strip() or None
    diff = _git(source, "diff", "HEAD", "--binary", "--", ".") or ""
    untracked = tuple(l for l in (_git(source, "ls-files", "--others", "--exclude-standard", "--", ".") or "").splitlines() if l)
    return GitState(commit=commit, dirty=bool(diff or untracked), diff=diff, untracked=untracked)
