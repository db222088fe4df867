"""The LogX class: messages, metrics, TensorBoard and checkpoints for one training run."""
from __future__ import annotations

import atexit
import json
import math
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from runx.logx.checkpoints import BEST, LAST, atomic_link_or_copy, atomic_save, clean_temporaries, find_checkpoint, torch_module
from runx.logx.errors import LogxError
from runx.logx.metrics_format import MetricsWriter, summarize
from runx.logx.rank import rank_from_env
from runx.logx.tensorboard import WriterProxy

__all__ = ["LogX", "TRAIN_NAMES", "VAL_NAMES"]

TRAIN_NAMES = ("trn", "train", "training")
VAL_NAMES = ("val", "validate", "validation", "test")
_CANONICAL = {**{n: "train" for n in TRAIN_NAMES}, **{n: "val" for n in VAL_NAMES}}
STATE_FILE = "checkpoints.json"
LOG_FILE = "logging.log"


def _as_float(value: Any, what: str) -> float:
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, (int, float)):
        value = item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LogxError(f"{what}: expected a number, got {type(value).__name__} {value!r}")
    return float(value)


class LogX:
    """Logging for a training run; use the shared `logx` object or make your own."""

    def __init__(self, rank: int = 0) -> None:
        self.initialized = False
        self.rank0 = True
        self.logdir: Optional[str] = None
        self._metrics: Optional[MetricsWriter] = None
        self._log_file = None
        self._tb = None
        self.tensorboard = WriterProxy(None, lambda: None)

    def initialize(self, logdir: Optional[str] = None, coolname: bool = False, hparams: Optional[dict] = None,
                   tensorboard: bool = False, no_timestamp: bool = False, global_rank: Optional[int] = None,
                   eager_flush: bool = True) -> None:
        """Start logging into `logdir` (default: $RUNX_LOGDIR, else LOGROOT from .runx); resumes an existing one."""
        if self.initialized:
            self.close()
        rank = rank_from_env() if global_rank is None else int(global_rank)
        self.rank0 = rank == 0
        self.initialized = True
        self.eager_flush = eager_flush
        self.no_timestamp = no_timestamp
        self.epoch = {"train": 0, "val": 0}
        self.best_metric: Optional[float] = None
        self.save_metric: Optional[float] = None
        self.save_ckpt_fn = ""
        self.best_ckpt_fn = ""
        if not self.rank0:
            self.tensorboard = WriterProxy(None, lambda: None)
            return
        self.logdir = logdir or os.environ.get("RUNX_LOGDIR") or _default_logdir(coolname)
        os.makedirs(self.logdir, exist_ok=True)
        if hparams is not None:
            path = os.path.join(self.logdir, "hparams.json")
            if not os.path.exists(path):
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(hparams, f, indent=2, default=str)
        self._log_file = open(os.path.join(self.logdir, LOG_FILE), "a", encoding="utf-8")
        self._metrics = MetricsWriter(self.logdir)
        self._resume()
        if tensorboard:
            from runx.logx.tensorboard import BackgroundWriter

            self._tb = BackgroundWriter(self.logdir)
        else:
            self._tb = None
        self.tensorboard = WriterProxy(self._tb, self._after_tensorboard)
        atexit.register(self.close)

    def _resume(self) -> None:
        clean_temporaries(self.logdir)
        summary = summarize(self.logdir)
        if summary is not None:
            for phase, p in summary.phases.items():
                if p.last_step is not None:
                    self.epoch[phase] = p.last_step + 1
        self.save_ckpt_fn = find_checkpoint(self.logdir, LAST) or ""
        self.best_ckpt_fn = find_checkpoint(self.logdir, BEST) or ""
        state = _read_state(self.logdir)
        if state.get("best_checkpoint") and os.path.join(self.logdir, state["best_checkpoint"]) == self.best_ckpt_fn:
            self.best_metric = state.get("best_metric")
        elif self.best_ckpt_fn:
            torch = torch_module()
            saved = torch.load(self.best_ckpt_fn, map_location="cpu", weights_only=True)
            metric = saved.get("__metric") if isinstance(saved, dict) else None
            self.best_metric = None if metric is None else float(metric)

    def msg(self, msg: str) -> None:
        """Print a message and append it to the run's logging.log."""
        if not self.rank0:
            return
        print(msg)
        if self._log_file is not None:
            self._log_file.write(f"{msg}\n")
            self._log_file.flush()

    def metric(self, phase: str, metrics: dict, epoch: Optional[int] = None) -> None:
        """Record metrics for a phase (train/trn/training or val/validate/validation/test) at a step."""
        if not self.rank0:
            return
        canonical = _CANONICAL.get(phase)
        if canonical is None:
            raise LogxError(f"phase {phase!r}: expected one of {', '.join(TRAIN_NAMES + VAL_NAMES)}")
        if self._metrics is None:
            raise LogxError("logx.metric() before logx.initialize()")
        if epoch is not None:
            self.epoch[canonical] = epoch
        step = self.epoch[canonical]
        self._metrics.write(canonical, step, metrics)
        if self._tb is not None:
            for name, value in metrics.items():
                self._tb.enqueue("add_scalar", (f"{phase}/{name}", value, step), {})
            self._after_tensorboard()
        if epoch is None:
            self.epoch[canonical] += 1

    def add_scalar(self, name: str, val: Any, idx: Optional[int] = None) -> None:
        """Write a TensorBoard scalar."""
        self.tensorboard.add_scalar(name, val, idx)

    def add_scalars(self, main_tag: str, values: dict, idx: Optional[int] = None) -> None:
        """Write several TensorBoard scalars under one tag."""
        self.tensorboard.add_scalars(main_tag, values, idx)

    def add_image(self, path: str, img: Any, step: Optional[int] = None, **kwargs: Any) -> None:
        """Write a TensorBoard image (CHW by default, as SummaryWriter.add_image)."""
        self.tensorboard.add_image(path, img, step, **kwargs)

    def add_images(self, path: str, imgs: Any, step: Optional[int] = None, **kwargs: Any) -> None:
        """Write a batch of TensorBoard images (NCHW by default)."""
        self.tensorboard.add_images(path, imgs, step, **kwargs)

    def add_histogram(self, name: str, values: Any, step: Optional[int] = None, **kwargs: Any) -> None:
        """Write a TensorBoard histogram."""
        self.tensorboard.add_histogram(name, values, step, **kwargs)

    def _after_tensorboard(self) -> None:
        if self.eager_flush and self._tb is not None:
            self._tb.flush_soon()

    @contextmanager
    def suspend_flush(self, flush_at_end: bool = True) -> Iterator[None]:
        """Within this block, TensorBoard writes are not flushed; flush once at the end."""
        previous = self.eager_flush
        self.eager_flush = False
        try:
            yield
        finally:
            self.eager_flush = previous
            if flush_at_end and self._tb is not None:
                self._tb.flush_soon()

    @staticmethod
    def is_better(save_metric: float, best_metric: Optional[float], higher_better: bool) -> bool:
        """Whether `save_metric` beats `best_metric` (None is beaten by anything)."""
        if best_metric is None:
            return True
        return save_metric > best_metric if higher_better else save_metric < best_metric

    def save_model(self, save_dict: dict, metric: Any, epoch: int, higher_better: bool = True,
                   delete_old: bool = True) -> Optional[bool]:
        """Save the latest checkpoint and, when `metric` is the best so far, the best one; returns is-best."""
        if not self.rank0:
            return None
        value = _as_float(metric, "save_model metric")
        to_save = dict(save_dict)
        to_save["__metric"] = value
        previous_last = self.save_ckpt_fn
        last = os.path.join(self.logdir, f"last_checkpoint_ep{epoch}.pth")
        atomic_save(to_save, last)
        if delete_old and previous_last and previous_last != last and os.path.exists(previous_last):
            os.remove(previous_last)
        self.save_ckpt_fn = last
        self.save_metric = value
        better = self.is_better(value, self.best_metric, higher_better)
        if better:
            previous_best = self.best_ckpt_fn
            best = os.path.join(self.logdir, f"best_checkpoint_ep{epoch}.pth")
            atomic_link_or_copy(last, best)
            if previous_best and previous_best != best and os.path.exists(previous_best):
                os.remove(previous_best)
            self.best_ckpt_fn = best
            self.best_metric = value
        _write_state(self.logdir, {"best_metric": self.best_metric,
                                   "best_checkpoint": os.path.basename(self.best_ckpt_fn) or None,
                                   "last_checkpoint": os.path.basename(last), "higher_better": higher_better})
        return better

    def get_best_checkpoint(self) -> Optional[str]:
        """Path of the best checkpoint in the logdir (highest epoch if several), or None."""
        if not self.logdir:
            return None
        return find_checkpoint(self.logdir, BEST)

    def load_model(self, path: str) -> tuple:
        """Load a checkpoint; returns (state_dict, the rest of its entries)."""
        torch = torch_module()
        import pickle

        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        state_dict = checkpoint["state_dict"]
        meta = {k: v for k, v in checkpoint.items() if k != "state_dict"}
        return state_dict, meta

    def close(self) -> None:
        """Flush everything to disk and close files (also runs at exit)."""
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "LogX":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _default_logdir(coolname: bool) -> str:
    try:
        from runx.core.config import config_logroot, locate_config
    except ImportError:
        raise LogxError("logx.initialize(): pass logdir=, or run under runx (RUNX_LOGDIR), or install runx-core to read LOGROOT from .runx") from None
    path = locate_config(None)
    if path is None:
        raise LogxError("logx.initialize(): no logdir given, no RUNX_LOGDIR, and no .runx with LOGROOT found")
    root = str(config_logroot(path))
    if coolname:
        from coolname import generate_slug

        return os.path.join(root, generate_slug(2))
    return os.path.join(root, "default")


def _read_state(logdir: str) -> dict:
    try:
        with open(os.path.join(logdir, STATE_FILE), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(logdir: str, state: dict) -> None:
    path = os.path.join(logdir, STATE_FILE)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in state.items()}, f)
    os.replace(tmp, path)
