"""Fixtures of the fault suite: a small real tmpfs mounted for the test (needs root)."""
from __future__ import annotations

import errno
import os
import subprocess
import uuid
from pathlib import Path

import pytest


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
