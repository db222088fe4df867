"""Crash-safe checkpoints: latest and best, each written to a temporary file, flushed and renamed.

A predecessor is deleted only after its successor is complete, so after kill -9 at any moment a
loadable latest and best from the last completed save exist. Beside them `checkpoints.json` (plain
JSON) remembers the best metric, so resuming needs no unpickling of the user's objects.
"""
from __future__ import annotations

import json
import os
import sys
from types import ModuleType

from runx.logx.errors import LogxError
from runx.logx.rundir.atomic import copy_file, replacing, sync_folder, write_json
from runx.logx.rundir.codec import decode_value, encode_value, to_number
from runx.logx.rundir.layout import (
    CHECKPOINTS_FILE,
    checkpoint_epoch,
    checkpoint_name,
    is_earlier_temporary,
    is_temporary,
)

__all__ = ["Checkpoints", "is_better", "find_checkpoint", "torch_module", "STATE_FILE"]

LAST = "last"
BEST = "best"
STATE_FILE = CHECKPOINTS_FILE


def torch_module() -> ModuleType:
    """torch, imported on first use."""
    try:
        import torch
    except ImportError:
        raise ImportError("logx checkpoints need torch: pip install 'runx-logx[torch]'") from None
    return torch


def is_better(value: float, best: float | None, higher_better: bool) -> bool:
    """Whether `value` beats `best`; anything beats None or NaN, NaN beats nothing else."""
    if best is None or best != best:
        return True
    return value > best if higher_better else value < best


def find_checkpoint(logdir: str, kind: str) -> str | None:
    """The checkpoint of `kind` (LAST or BEST) in `logdir` with the highest epoch, or None."""
    found = _epochs(logdir, kind)
    return os.path.join(logdir, found[max(found)]) if found else None


def _epochs(logdir: str, kind: str) -> dict[int, str]:
    try:
        names = os.listdir(logdir)
    except FileNotFoundError:
        return {}
    return {epoch: name for name in names for epoch in [checkpoint_epoch(name, kind)] if epoch is not None}


def atomic_save(obj: object, path: str) -> None:
    """torch.save to `path` so that `path` is either its old content or complete, even after kill -9."""
    torch = torch_module()
    with replacing(path) as f:
        torch.save(obj, f)
    sync_folder(os.path.dirname(path) or ".")


def atomic_copy(src: str, dst: str) -> None:
    """Make `dst` a complete copy of the finished file `src`: a hard link where the filesystem allows."""
    copy_file(src, dst)
    sync_folder(os.path.dirname(dst) or ".")


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def load(path: str) -> object:
    """torch.load on the CPU: weights_only first (torch >= 2.6's default), else a full unpickle as 0.0.11 did."""
    torch = torch_module()
    import pickle

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        return torch.load(path, map_location="cpu", weights_only=False)


class Checkpoints:
    """The latest and best checkpoints of one logdir, and the best metric so far."""

    def __init__(self, logdir: str) -> None:
        self.logdir = logdir
        self.last = ""
        self.best = ""
        self.best_metric: float | None = None

    def resume(self) -> None:
        """Pick up an existing logdir: remove leftovers of an interrupted save, find latest and best.

        Nothing is unpickled: the best metric comes from checkpoints.json, else from the best
        checkpoint loaded with weights_only=True. A checkpoint that cannot be read so (corrupt, or
        not logx's) is skipped with one warning line and left where it is.
        """
        for name in os.listdir(self.logdir):
            if is_earlier_temporary(name) or is_temporary(name):
                _remove(os.path.join(self.logdir, name))
        state = self._read_state()
        lasts, bests = _epochs(self.logdir, LAST), _epochs(self.logdir, BEST)
        for epoch in sorted(bests, reverse=True):
            path = os.path.join(self.logdir, bests[epoch])
            readable, metric = self._best_metric(path, state)
            if not readable:
                continue
            self.best, self.best_metric = path, metric
            for older in [e for e in bests if e < epoch]:  # a save was killed between writing a new best and removing the old
                _remove(os.path.join(self.logdir, bests.pop(older)))
            if not lasts or max(lasts) < epoch:
                # save() writes the best before the latest: a kill between them leaves this best as the newest save
                last = os.path.join(self.logdir, checkpoint_name("last", epoch))
                atomic_copy(path, last)
                lasts[epoch] = os.path.basename(last)
            break
        if lasts:
            self.last = os.path.join(self.logdir, lasts.pop(max(lasts)))
            if state.get("delete_old"):
                for name in lasts.values():
                    _remove(os.path.join(self.logdir, name))

    def _best_metric(self, path: str, state: dict[str, object]) -> tuple[bool, float | None]:
        """(readable, the metric saved with the best checkpoint at `path`: None if unknown); (False, None) when
        the checkpoint cannot be read without unpickling."""
        if state.get("best_checkpoint") == os.path.basename(path):
            try:
                return True, float(decode_value(state.get("best_metric")))
            except (ValueError, TypeError):
                pass
        torch = torch_module()
        try:
            import warnings

            with warnings.catch_warnings():  # torch warns about old pickle protocols: the one line below is enough
                warnings.simplefilter("ignore")
                saved = torch.load(path, map_location="cpu", weights_only=True)
            metric = saved.get("__metric") if isinstance(saved, dict) else None
            return True, None if metric is None else float(to_number(metric, "__metric"))
        except Exception as err:  # a foreign file may fail in any way; it must not block the resume
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            print(f"logx: skipping {path}: not a checkpoint logx can read without unpickling ({first})", file=sys.stderr)
            return False, None

    def save(self, save_dict: object, metric: object, epoch: int, higher_better: bool = True,
             delete_old: bool = True) -> tuple[bool, float]:
        """Write the latest checkpoint, and the best one when `metric` beats the best; (is_best, metric)."""
        if not isinstance(save_dict, dict):
            raise LogxError(f"save_model: save_dict must be a dict, got {type(save_dict).__name__}")
        value = float(to_number(metric, "save_model metric"))
        to_save = dict(save_dict)  # the caller's dict is left as it was
        to_save["__metric"] = value
        previous_last, previous_best = self.last, self.best
        last = os.path.join(self.logdir, checkpoint_name("last", epoch))
        better = is_better(value, self.best_metric, higher_better)
        if better:
            # the best first: a kill before the latest exists leaves a best newer than every latest, which
            # resume() links as the latest too; the other order left a first latest with no best at all
            best = os.path.join(self.logdir, checkpoint_name("best", epoch))
            atomic_save(to_save, best)
            atomic_copy(best, last)
            self.best, self.best_metric = best, value
        else:
            atomic_save(to_save, last)
        self.last = last
        self._write_state(higher_better, delete_old)
        if delete_old and previous_last and previous_last != last:
            _remove(previous_last)
        if better and previous_best and previous_best != self.best:
            _remove(previous_best)
        return better, value

    def _read_state(self) -> dict[str, object]:
        try:
            with open(os.path.join(self.logdir, STATE_FILE), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, higher_better: bool, delete_old: bool) -> None:
        state = {
            "best_metric": None if self.best_metric is None else encode_value(self.best_metric),
            "best_checkpoint": os.path.basename(self.best) or None,
            "last_checkpoint": os.path.basename(self.last) or None,
            "higher_better": higher_better,
            "delete_old": delete_old,
        }
        write_json(os.path.join(self.logdir, STATE_FILE), state, indent=None)
