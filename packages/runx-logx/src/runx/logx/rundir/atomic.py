"""The one atomic write of a run directory's files: a temporary name in the same folder, fsync, rename.

A reader sees the old content or the new, never part of either; a crash leaves at most a hidden
`.<name>.tmp<pid>` beside the file (runx.logx.rundir.layout.is_temporary). A writer of many files
at once (runx staging thousands of runs) may pass `durable=False` and make them durable later with
`sync_files`, before it declares them complete: fsyncs issued together from several threads are
committed together by the file system, many times faster than one after another. On the import path of
every logx script, so no `typing` at run time (see runx.logx.rundir.codec).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from io import BufferedWriter
from types import TracebackType

from runx.logx.rundir.layout import temporary_name

__all__ = ["write_bytes", "write_text", "write_json", "replacing", "copy_file", "sync_files", "sync_folder"]

SYNC_THREADS = 16
"""Threads that fsync at once in sync_files."""


def write_bytes(path: str, data: bytes, mode: int = 0o644, durable: bool = True) -> None:
    """Replace `path` by `data` atomically (and, if `durable`, the data is fsynced before the rename)."""
    tmp = temporary_name(str(path))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def write_text(path: str, text: str, mode: int = 0o644, durable: bool = True) -> None:
    """Replace `path` by UTF-8 `text` atomically."""
    write_bytes(path, text.encode("utf-8"), mode, durable)


def write_json(path: str, data: object, indent: int | None = 2, default: Callable[[object], object] | None = str,
               allow_nan: bool = True, ensure_ascii: bool = False, durable: bool = True) -> None:
    """Replace `path` by `data` as JSON (a final newline) atomically; values JSON cannot hold go through `default`."""
    text = json.dumps(data, indent=indent, default=default, allow_nan=allow_nan, ensure_ascii=ensure_ascii)
    write_text(path, text + "\n", durable=durable)


class replacing:  # noqa: N801  # a context manager, named as contextlib's and open() are
    """`with replacing(path) as f:` a binary file to write (a large one streamed, as torch.save does) that
    replaces `path` atomically, fsynced, when the block ends; an error in the block removes it and leaves
    `path` as it was."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._tmp = temporary_name(str(path))

    def __enter__(self) -> BufferedWriter:
        self._file = open(self._tmp, "wb")
        return self._file

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            with self._file:  # closed however the block ended
                if error is None:
                    self._file.flush()
                    os.fsync(self._file.fileno())
            if error is None:
                os.replace(self._tmp, self.path)
                return
        except BaseException:
            _unlink(self._tmp)
            raise
        _unlink(self._tmp)


def copy_file(src: str, dst: str) -> None:
    """Replace `dst` atomically by a complete copy of the finished file `src`: a hard link where the
    file system allows, else a copy fsynced before the rename."""
    tmp = temporary_name(str(dst))
    _unlink(tmp)
    try:
        try:
            os.link(src, tmp)
        except OSError:
            import shutil  # only where hard links are refused: logx's import stays lean

            shutil.copyfile(src, tmp)
            _fsync(tmp)
        os.replace(tmp, dst)
    except BaseException:
        _unlink(tmp)
        raise


def sync_folder(path: str) -> None:
    """fsync a folder, so that the renames in it are durable; where a folder cannot be, nothing."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_files(paths: list[str]) -> None:
    """fsync each file (written with `durable=False`), several at once; an OSError is raised once all are tried."""
    if not paths:
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(SYNC_THREADS, len(paths))) as pool:
        for _ in pool.map(_fsync, paths):
            pass
