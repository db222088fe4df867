"""The fault suite's fixtures: real file systems that fill up or turn read-only, mounted by the test,
and real runx processes to break.

- `small_disk` is a 64 KiB tmpfs whose free space a test takes (`fill()`) and gives back (`release()`).

- `mounts` mounts a fresh tmpfs (`mounts.tmpfs(size="1m", inodes=64)`), changes its limits in place
  (`mounts.resize(path, size=..., inodes=...)`), remounts it read-only (`mounts.read_only(path)`) or
  bind-mounts a directory read-only onto itself (`mounts.bind_read_only(dir)`). Everything it mounted
  is unmounted at teardown, even when the test fails. Mounting needs root (and the right to mount):
  without it the test is skipped, except under CI=true, where it fails, so the suite cannot go green
  by skipping.
- `runx_process(args, cwd)` runs `python -m runx.runx ARGS` and returns (CompletedProcess, cpu_seconds,
  peak_rss_mib) measured for that process alone (os.wait4).

Only the standard library and pytest: the logx fault tests run where only runx-logx is installed.
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import List, Optional

import pytest

_MOUNT_PROBE: dict = {}


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise OSError(f"mount {' '.join(args)}: {done.stderr.strip()}")


def _umount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True, timeout=30).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def _why_no_mounts() -> Optional[str]:
    """None when this process can mount a tmpfs, else why not (probed once per session)."""
    if "why" not in _MOUNT_PROBE:
        why = None
        if os.geteuid() != 0:
            why = "not running as root"
        else:
            probe = Path(tempfile.mkdtemp(prefix="runx-mount-probe-"))
            try:
                _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe))
                _umount(probe)
            except (OSError, subprocess.TimeoutExpired) as err:
                why = str(err)
            finally:
                probe.rmdir()
        _MOUNT_PROBE["why"] = why
    return _MOUNT_PROBE["why"]


class Mounts:
    """File systems mounted for one test; unmount_all() undoes them, newest first."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.mounted: List[Path] = []

    def tmpfs(self, size: str = "1m", inodes: Optional[int] = None, name: Optional[str] = None) -> Path:
        """A new empty tmpfs of `size` bytes (k/m suffixes) holding at most `inodes` files and directories
        (its root directory counts as one)."""
        where = self.base / (name or f"tmpfs{len(self.mounted)}")
        where.mkdir(parents=True)
        _mount("-t", "tmpfs", "-o", f"size={size}" + (f",nr_inodes={inodes}" if inodes is not None else ""),
               "tmpfs", str(where))
        self.mounted.append(where)
        return where

    def resize(self, where: Path, size: Optional[str] = None, inodes: Optional[int] = None) -> None:
        """Change a mounted tmpfs's limits in place; its files stay."""
        options = ["remount"] + ([f"size={size}"] if size else []) + ([f"nr_inodes={inodes}"] if inodes else [])
        _mount("-o", ",".join(options), str(where))

    def read_only(self, where: Path) -> None:
        """Remount a tmpfs this fixture mounted read-only: every write then fails with EROFS."""
        _mount("-o", "remount,ro", str(where))

    def bind_read_only(self, directory: Path) -> None:
        """Make an existing directory read-only in place (a read-only bind mount onto itself)."""
        _mount("--bind", str(directory), str(directory))
        self.mounted.append(directory)
        _mount("-o", "remount,bind,ro", str(directory))

    def unmount_all(self) -> None:
        for where in reversed(self.mounted):
            _umount(where)
        self.mounted.clear()


@pytest.fixture
def mounts(tmp_path: Path):
    """Mount real small file systems for a test (see the module docstring); all unmounted afterwards."""
    why = _why_no_mounts()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the fault suite must run in CI, and it needs to mount file systems: {why}")
        pytest.skip(f"needs to mount file systems (root): {why}")
    found = Mounts(tmp_path / "mnt")
    try:
        yield found
    finally:
        found.unmount_all()


def run_measured(argv: list, cwd: Path, env: Optional[dict] = None, timeout: float = 120) -> tuple:
    """Run argv; (CompletedProcess, cpu seconds, peak RSS in MiB) of that process alone (os.wait4)."""
    import time

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})})
        deadline = time.monotonic() + timeout
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        while pid == 0:
            if time.monotonic() > deadline:
                proc.kill()  # never leave a hung child running
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(argv, proc.returncode, out.read().decode("utf-8", "replace"),
                                           err.read().decode("utf-8", "replace"))
    return done, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


@pytest.fixture
def runx_process():
    """`runx_process(args, cwd, env=None)`: run `python -m runx.runx ARGS` there, measured (see run_measured)."""
    def run(args: list, cwd: Path, env: Optional[dict] = None, timeout: float = 120) -> tuple:
        return run_measured([sys.executable, "-m", "runx.runx", *args], cwd, env, timeout)
    return run


class SmallDisk:
    """A tmpfs of `size` mounted at `path`; fill() takes all its free space, release() gives it back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / f".filler-{uuid.uuid4().hex}"

    def fill(self) -> None:
        """Write a file until the filesystem says ENOSPC."""
        with open(self.filler, "ab", buffering=0) as f:
            chunk = b"\0" * 4096
            while True:
                try:
                    if f.write(chunk) == 0:
                        break
                except OSError as err:
                    if err.errno != errno.ENOSPC:
                        raise
                    if len(chunk) == 1:
                        break
                    chunk = chunk[: len(chunk) // 2]

    def release(self) -> None:
        self.filler.unlink()


def _require_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the fault suite mounts a tmpfs and needs root under CI=true")
        pytest.skip("mounting a tmpfs needs root")


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs mounted under tmp_path for the test, unmounted afterwards."""
    _require_root()
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"mount -t tmpfs failed: {done.stderr.strip()}")
        pytest.skip(f"mount -t tmpfs failed: {done.stderr.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
