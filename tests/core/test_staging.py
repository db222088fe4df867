"""Staging: ignore patterns, LOGROOT inside the project, symlinks, hard-linked trees, git state."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from runx.core.config import DEFAULT_IGNORE_PATTERNS
from runx.core.staging import git_state, link_tree, snapshot

PATTERNS = DEFAULT_IGNORE_PATTERNS + ("*.pth",)


def make_project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "train.py").write_text("print('hi')\n")
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "pkg" / "mod.pyc").write_bytes(b"junk")
    (root / "model.pth").write_bytes(b"weights")
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("doc")
    (root / "tests").mkdir()
    (root / ".git").mkdir()
    (root / "logs" / "exp" / "run").mkdir(parents=True)
    (root / "logs" / "exp" / "run" / "big.bin").write_bytes(b"x" * 100)
    return root


def test_snapshot_skips_ignored_and_logroot(tmp_path):
    src = make_project(tmp_path / "src")
    stats = snapshot(src, tmp_path / "dst", PATTERNS, exclude=(str(src / "logs"),))
    names = sorted(str(p.relative_to(tmp_path / "dst")) for p in (tmp_path / "dst").rglob("*"))
    assert names == ["pkg", "pkg/mod.py", "train.py"]
    assert stats.files == 2 and stats.bytes == len("print('hi')\n") + len("x = 1\n")


def test_symlinks_stay_links_and_relative_ones_outside_are_repointed(tmp_path):
    src = make_project(tmp_path / "src")
    data = tmp_path / "datasets" / "imagenet"
    data.mkdir(parents=True)
    (data / "huge.bin").write_bytes(b"d" * 1000)
    os.symlink("../datasets/imagenet", src / "data_rel")
    os.symlink(str(data), src / "data_abs")
    os.symlink("pkg/mod.py", src / "inside_link")
    dst = tmp_path / "runs" / "r1" / "code"
    dst.parent.mkdir(parents=True)
    snapshot(src, dst, PATTERNS)
    assert os.readlink(dst / "data_rel") == str(data)
    assert os.readlink(dst / "data_abs") == str(data)
    assert os.readlink(dst / "inside_link") == "pkg/mod.py"
    assert (dst / "data_rel" / "huge.bin").read_bytes() == b"d" * 1000
    assert not any(p.name == "huge.bin" for p in dst.rglob("*") if not p.is_symlink() and "data_" not in str(p))


def test_link_tree_shares_bytes(tmp_path):
    src = make_project(tmp_path / "src")
    os.symlink("pkg", src / "pkglink")
    first = tmp_path / "a" / "code"
    first.parent.mkdir()
    snapshot(src, first, PATTERNS, exclude=(str(src / "logs"),))
    second = tmp_path / "b" / "code"
    second.parent.mkdir()
    link_tree(first, second)
    assert os.path.samefile(first / "pkg" / "mod.py", second / "pkg" / "mod.py")
    assert os.readlink(second / "pkglink") == "pkg"
    assert sorted(p.relative_to(first) for p in first.rglob("*")) == sorted(p.relative_to(second) for p in second.rglob("*"))


def test_git_state_records_commit_diff_and_untracked(tmp_path):
    src = tmp_path / "repo"
    src.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(src)]
    subprocess.run(git + ["init", "-q"], check=True)
    (src / "train.py").write_text("a\n")
    subprocess.run(git + ["add", "train.py"], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    clean = git_state(src)
    assert clean is not None and len(clean.commit) == 40 and not clean.dirty
    (src / "train.py").write_text("b\n")
    (src / "new.py").write_text("n\n")
    dirty = git_state(src)
    assert dirty.dirty and "+b" in dirty.diff and dirty.untracked == ("new.py",)
    assert git_state(tmp_path / "nogit" if (tmp_path / "nogit").mkdir() is None else None) is None
