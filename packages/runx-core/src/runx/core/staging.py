"""Staging the code: one snapshot per launch, then a hard-linked `code/` tree per run.

The snapshot skips ignore patterns (matched against each name, like shutil.ignore_patterns),
the LOGROOT, the experiment directory and every run directory below the source, wherever the
source lies (runx started inside the experiment directory does not copy runs into themselves).
Symlinks stay links and are never followed; a relative link that points outside the project is
re-pointed to its absolute target so it still resolves from the run directory. A file that
vanishes while it is copied is left out and named (SnapshotStats.vanished).

A launch creates its run directories through Staging: each holds a marker (STAGING_FILE) naming
the runx process until every run is complete, and a failure removes every directory the launch
created, so a run directory is either complete, being staged by a live runx, or shown as
failed-to-stage (`staging_state`).
"""
from __future__ import annotations

import errno
import fnmatch
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Set, Tuple

from runx.core.errors import RunxError
from runx.core.naming import claim_run_dir
from runx.logx.rundir import atomic

__all__ = ["SnapshotStats", "GitState", "Staging", "snapshot", "link_tree", "git_state", "staging_state",
           "check_writable", "LARGE_SNAPSHOT_BYTES", "STAGING_FILE", "STAGING_STATES"]

LARGE_SNAPSHOT_BYTES = 100 * 1024 * 1024
STAGING_FILE = "staging.json"
"""In a run directory while runx stages it: `{"launcher": "<host>:<pid>", "process_start": ..., "time": ...}`."""
STAGING_STATES = ("staging", "failed-to-stage")
"""The states of a run directory whose launch has not completed it (see staging_state)."""
_VANISHED = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


@dataclass
class SnapshotStats:
    """What a snapshot holds: counts, bytes, the biggest files, and what vanished while it was taken."""

    files: int = 0
    links: int = 0
    bytes: int = 0
    biggest: list = field(default_factory=list)
    vanished: list = field(default_factory=list)
    dropped_python: list = field(default_factory=list)
    """(relative path, pattern): Python files and folders holding one that a reported pattern left out."""

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


def _identities(paths: tuple) -> Set[Tuple[int, int]]:
    found = set()
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        found.add((st.st_dev, st.st_ino))
    return found


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _holds_python(folder: str, limit: int = 10_000) -> bool:
    """Whether `folder` holds a `.py` file anywhere below it (looking at no more than `limit` entries)."""
    seen = 0
    for _, dirs, files in os.walk(folder):
        if any(name.endswith(".py") for name in files):
            return True
        seen += len(dirs) + len(files)
        if seen > limit:
            return False
    return False


def snapshot(source: Path, dest: Path, patterns: tuple, exclude: tuple = (), run_markers: tuple = (),
             report: tuple = ()) -> SnapshotStats:
    """Copy `source` into the new directory `dest`, skipping ignored names, the `exclude` directories,
    `dest` itself and any directory below `source` that holds one of the `run_markers` files.

    A file or directory that vanishes while it is copied is left out and listed in `vanished`; a `.py`
    file or a folder holding one that a pattern of `report` leaves out is listed in `dropped_python`."""
    source = Path(os.path.abspath(source))
    os.makedirs(dest)
    excluded = _identities(tuple(exclude) + (dest,))
    excluded_inodes = {ino for _, ino in excluded}
    markers = frozenset(run_markers)
    stats = SnapshotStats()
    stack = [(source, Path(dest), "")]
    while stack:
        src_dir, dst_dir, rel_dir = stack.pop()
        try:
            with os.scandir(src_dir) as scan:
                entries = list(scan)
        except _VANISHED:
            stats.vanished.append(rel_dir.rstrip("/") or ".")
            os.rmdir(dst_dir)
            continue
        if rel_dir and markers and any(e.name in markers for e in entries):
            os.rmdir(dst_dir)  # a run directory below the source
            continue
        for entry in entries:
            if _ignored(entry.name, patterns):
                pattern = next((p for p in report if fnmatch.fnmatch(entry.name, p)), None)
                if pattern is not None and not entry.is_symlink():
                    if entry.name.endswith(".py") and entry.is_file():
                        stats.dropped_python.append((f"{rel_dir}{entry.name}", pattern))
                    elif entry.is_dir() and _holds_python(entry.path):
                        stats.dropped_python.append((f"{rel_dir}{entry.name}/", pattern))
                continue
            src_path = Path(entry.path)
            dst_path = dst_dir / entry.name
            rel = f"{rel_dir}{entry.name}"
            try:
                if entry.is_symlink():
                    target = os.readlink(src_path)
                    os.symlink(_repointed_link(target, src_path, source), dst_path)
                    stats.links += 1
                elif entry.is_dir():
                    if entry.inode() in excluded_inodes and (entry.stat().st_dev, entry.inode()) in excluded:
                        continue
                    os.mkdir(dst_path)
                    stack.append((src_path, dst_path, rel + "/"))
                elif entry.is_file():
                    shutil.copy2(src_path, dst_path)
                    stats.note_file(rel, os.stat(dst_path).st_size)
            except _VANISHED:
                stats.vanished.append(rel)
                _remove(dst_path)
        try:
            shutil.copystat(src_dir, dst_dir, follow_symlinks=False)
        except _VANISHED:
            pass
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


def _process_start(pid: int) -> Optional[str]:
    """The start time of process `pid` (clock ticks since boot, from /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _launcher_alive(marker: Any) -> bool:
    """Whether the runx process a marker names still runs: same host, pid alive, same start time.
    A marker written on another host cannot be checked from here and counts as alive."""
    if not isinstance(marker, dict) or not isinstance(marker.get("launcher"), str):
        return False
    host, _, pid = marker["launcher"].rpartition(":")
    if host != os.uname().nodename:
        return True
    if not pid.isdigit():
        return False
    start = _process_start(int(pid))
    return start is not None and start == marker.get("process_start")


def staging_state(run_dir: Path) -> Optional[str]:
    """None for a run directory runx finished creating; `staging` while a live runx creates it;
    `failed-to-stage` when the runx that created it died or failed before it was complete."""
    try:
        text = (Path(run_dir) / STAGING_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "failed-to-stage"
    try:
        marker = json.loads(text)
    except ValueError:
        return "failed-to-stage"
    return "staging" if _launcher_alive(marker) else "failed-to-stage"


def _nearest_existing(path: Path) -> Path:
    probe = Path(os.path.abspath(path))
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    return probe


def check_writable(exp_dir: Path) -> None:
    """Refuse, before anything is created, an experiment directory that cannot be made or written
    (a read-only file system, no permission, a file in the way)."""
    probe = _nearest_existing(exp_dir)
    if not probe.is_dir():
        raise RunxError(f"{probe}: not a directory, so the experiment directory {exp_dir} cannot be created; "
                        "expected LOGROOT to be a directory")
    if os.access(probe, os.W_OK | os.X_OK):
        return
    try:
        read_only = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    why = "on a read-only file system" if read_only else "not writable (permission denied)"
    raise RunxError(f"{probe}: {why}, so runx cannot create {exp_dir}; expected a writable LOGROOT")


class Staging:
    """The run directories one launch creates, as a context manager.

    Each claimed directory gets a STAGING_FILE marker at once; on a clean exit every marker is
    removed (the runs are complete), on any exception every directory this launch created is
    removed (run directories, and the experiment directory and LOGROOT if it made them), and an
    OSError (disk full, permission, ...) becomes one RunxError line. A runx killed outright leaves
    its markers, so `runx status` shows those runs as failed-to-stage. Files written without an fsync
    (`durable=False`) and listed in `unsynced` are fsynced together before the markers go."""

    def __init__(self, exp_dir: Path) -> None:
        self.exp_dir = Path(exp_dir)
        self.run_dirs: List[Path] = []
        self.unsynced: List[Path] = []
        self._made: List[Path] = []
        self._marker = json.dumps({"launcher": f"{os.uname().nodename}:{os.getpid()}",
                                   "process_start": _process_start(os.getpid()), "time": time.time()})

    def __enter__(self) -> "Staging":
        check_writable(self.exp_dir)
        missing = []
        probe = Path(os.path.abspath(self.exp_dir))
        while not os.path.lexists(probe) and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        self._made = missing  # deepest first, as they are removed
        return self

    def claim(self, name: str, allow_suffix: bool = True) -> Path:
        """Create the run directory `name` (or `name_N` on a clash) with its staging marker."""
        run_dir = claim_run_dir(self.exp_dir, name, allow_suffix=allow_suffix)
        self.run_dirs.append(run_dir)
        (run_dir / STAGING_FILE).write_text(self._marker, encoding="utf-8")
        return run_dir

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is None:
            atomic.sync_files([str(path) for path in self.unsynced])  # durable before any run reads complete
            for run_dir in self.run_dirs:
                os.unlink(run_dir / STAGING_FILE)
            return
        for run_dir in self.run_dirs:
            shutil.rmtree(run_dir, ignore_errors=True)
        for made in self._made:
            try:
                os.rmdir(made)
            except OSError:
                break
        if isinstance(error, OSError):
            where = error.filename or self.exp_dir
            count = len(self.run_dirs)
            removed = f"removed the {count} run director{'y' if count == 1 else 'ies'} it had created" if count else "nothing was created"
            raise RunxError(f"{where}: {error.strerror or error} while this launch staged its runs; {removed}") from None
