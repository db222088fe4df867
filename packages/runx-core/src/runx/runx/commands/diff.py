"""`runx diff EXPERIMENT RUN_A RUN_B`: what differs between two runs: hyperparameters, git commits, and the
staged code (a unified diff of the two `code/` trees), paged on a terminal."""
from __future__ import annotations

import difflib
import os
import sys
from argparse import Namespace
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from runx.core.argparser import Parser
from runx.core.text import printable
from runx.runx.commands.common import (
    add_location_options,
    comparable_hparams,
    differing_keys,
    experiment_dir,
    find_run,
    new_parser,
    read_experiment,
    run_key,
    value_text,
)

__all__ = ["parser", "run", "code_files", "code_diff", "MAX_DIFF_BYTES"]

MAX_DIFF_BYTES = 2 * 2**20
"""A text file bigger than this is named as differing, not diffed."""
EXAMPLES = """\
examples:
  runx diff sweep RUN_A RUN_B        hparams, git commits and the code that differ (paged on a terminal)
  runx diff sweep RUN_A RUN_B | less
"""


def parser(command: str = "diff") -> Parser:
    p = new_parser(command, "[options] EXPERIMENT RUN_A RUN_B",
                   "Show what differs between two runs: hyperparameters, git commits and the staged code.\n"
                   "On a terminal the output goes through $PAGER (or less).", EXAMPLES)
    p.add_positional("experiment", "EXPERIMENT", "experiment name below LOGROOT (or a path to its directory)")
    p.add_positional("run_a", "RUN_A", "the first run")
    p.add_positional("run_b", "RUN_B", "the second run")
    add_location_options(p)
    return p


def code_files(code: Path) -> Dict[str, Path]:
    """Every file and symbolic link below a staged `code/` tree by its relative path (links not followed)."""
    found: Dict[str, Path] = {}
    if code.is_symlink() or not code.is_dir():
        return found
    for root, dirs, files in os.walk(code):
        base = Path(root)
        for name in dirs:
            if (base / name).is_symlink():
                files.append(name)
        dirs[:] = sorted(d for d in dirs if not (base / d).is_symlink())
        for name in sorted(files):
            found[(base / name).relative_to(code).as_posix()] = base / name
    return found


def _content(path: Path) -> Tuple[str, Optional[bytes]]:
    """("link", target) for a symbolic link, ("file", bytes) for a file, ("big", None) beyond MAX_DIFF_BYTES."""
    if path.is_symlink():
        return "link", os.fsencode(os.readlink(path))
    if path.stat().st_size > MAX_DIFF_BYTES:
        return "big", None
    return "file", path.read_bytes()


def _same(a: Path, b: Path) -> bool:
    sa, sb = os.lstat(a), os.lstat(b)
    return (sa.st_ino, sa.st_dev) == (sb.st_ino, sb.st_dev)  # runs of one launch share hard-linked files


def _text(data: bytes) -> Optional[List[str]]:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None


def code_diff(a: Path, b: Path, label_a: str, label_b: str) -> Iterator[str]:
    """The differences between two code trees, line by line: unified diffs of text files, one line for a
    binary or too-big file that differs, a link or a file found on one side only. Lines are printable."""
    files_a, files_b = code_files(a), code_files(b)
    for rel in sorted(set(files_a) | set(files_b)):
        if rel not in files_b:
            yield printable(f"Only in {label_a}: {rel}")
            continue
        if rel not in files_a:
            yield printable(f"Only in {label_b}: {rel}")
            continue
        pa, pb = files_a[rel], files_b[rel]
        if _same(pa, pb):
            continue
        (kind_a, data_a), (kind_b, data_b) = _content(pa), _content(pb)
        if kind_a == kind_b and data_a == data_b and kind_a != "big":
            continue
        if kind_a == "link" or kind_b == "link":
            shown = [f"-> {os.fsdecode(d or b'')}" if k == "link" else "a file" for k, d in ((kind_a, data_a), (kind_b, data_b))]
            yield printable(f"Links differ: {label_a}/{rel} ({shown[0]}) and {label_b}/{rel} ({shown[1]})")
            continue
        if kind_a == "big" or kind_b == "big":
            if pa.stat().st_size != pb.stat().st_size or pa.read_bytes() != pb.read_bytes():
                yield printable(f"Files {label_a}/{rel} and {label_b}/{rel} differ (bigger than {MAX_DIFF_BYTES} bytes)")
            continue
        lines_a, lines_b = _text(data_a or b""), _text(data_b or b"")
        if lines_a is None or lines_b is None:
            yield printable(f"Binary files {label_a}/{rel} and {label_b}/{rel} differ")
            continue
        for line in difflib.unified_diff(lines_a, lines_b, f"{label_a}/{rel}", f"{label_b}/{rel}", lineterm=""):
            yield printable(line)


def _git_text(record: dict) -> str:
    git = record.get("git")
    if not isinstance(git, dict):
        return "not recorded"
    return f"{value_text(git.get('commit'))}{' (with uncommitted changes)' if git.get('dirty') else ''}"


def report(exp_dir: Path, a, b) -> Iterator[str]:
    """The whole comparison of ledger entries `a` and `b`, line by line (printable)."""
    from runx.logx.rundir.layout import CODE_DIR

    name_a, name_b = run_key(a, exp_dir), run_key(b, exp_dir)
    yield printable(f"runx diff {name_a} {name_b}")
    hp_a, hp_b = comparable_hparams(a), comparable_hparams(b)
    keys = differing_keys([hp_a, hp_b])
    yield "hparams:" if keys else "hparams: the same"
    missing = "(not set)"
    for k in keys:
        yield printable(f"  {k}: {value_text(hp_a[k]) if k in hp_a else missing} -> {value_text(hp_b[k]) if k in hp_b else missing}")
    git_a, git_b = _git_text(a.record), _git_text(b.record)
    yield f"git: {git_a}" + (" (both)" if git_a == git_b else f" -> {git_b}")
    lines = list(code_diff(a.run_dir / CODE_DIR, b.run_dir / CODE_DIR, f"{name_a}/{CODE_DIR}", f"{name_b}/{CODE_DIR}"))
    yield f"code: {'the same' if not lines else 'differs'}"
    yield from lines


def run(command: str, args: Namespace) -> int:
    """Print (or page) the comparison."""
    exp_dir = experiment_dir(args)
    entries = read_experiment(exp_dir, ask_farms=False)
    a, b = find_run(entries, exp_dir, args.run_a), find_run(entries, exp_dir, args.run_b)
    text = "\n".join(report(exp_dir, a, b)) + "\n"
    if sys.stdout.isatty():
        import pydoc

        pydoc.pager(text)
    else:
        sys.stdout.write(text)
    return 0
