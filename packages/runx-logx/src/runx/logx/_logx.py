"""The LogX class: messages, metrics, TensorBoard and checkpoints for one training run.

Every training script imports this module, and most scripts are short-lived, so what it imports is kept to
what rank 0 needs for messages, metrics and checkpoints: TensorBoard, torch and the readers load only when
used, and no module on this path imports `typing` at run time (its annotations are PEP 604/585 forms, which
`from __future__ import annotations` leaves unevaluated; see runx.logx.rundir.codec).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from io import TextIOWrapper
from types import TracebackType

from runx.logx.checkpoints import BEST, LAST, Checkpoints, find_checkpoint, is_better, load
from runx.logx.errors import LogxError, TrialPruned
from runx.logx.proxy import TensorBoardSink, WriterProxy
from runx.logx.rank import rank_from_env
from runx.logx.rundir.layout import HPARAMS_FILE, LOG_FILE, PRUNED_FILE
from runx.logx.rundir.writer import MetricsWriter
from runx.logx.writer_lock import WriterLock

__all__ = ["LogX", "logx", "TRAIN_NAMES", "VAL_NAMES", "LOG_FILE"]

TRAIN_NAMES = ("trn", "train", "training")
VAL_NAMES = ("val", "validate", "validation", "test")
_CANONICAL = {**{n: "train" for n in TRAIN_NAMES}, **{n: "val" for n in VAL_NAMES}}


def _nothing() -> None:
    return None


_open_logs: list[LogX] = []
"""Rank 0's loggers from initialize() to close(): closed at exit, their TensorBoard writer closed before a fork,
dropped in a forked child. A logger nobody refers to any more stays here until then, so what it buffered is
still written."""
_hooks_installed = False
_multiprocessing_hook_pid: int | None = None  # the process whose multiprocessing exit hook closes _open_logs


def _close_open_logs() -> None:
    for log in list(_open_logs):
        log.close()


def _before_fork() -> None:
    for log in _open_logs:
        if log._tb is not None:
            log._tb.before_fork()


def _forget_open_logs_in_child() -> None:
    for log in list(_open_logs):
        log._forget_after_fork()


def _track(log: LogX) -> None:
    """Add an initialized logger to _open_logs; the first one installs the exit and fork hooks."""
    global _hooks_installed
    if log not in _open_logs:
        _open_logs.append(log)
    if not _hooks_installed:
        import atexit

        atexit.register(_close_open_logs)
        if hasattr(os, "register_at_fork"):  # POSIX
            os.register_at_fork(before=_before_fork, after_in_child=_forget_open_logs_in_child)
        _hooks_installed = True


def _untrack(log: LogX) -> None:
    if log in _open_logs:
        _open_logs.remove(log)


def _close_when_multiprocessing_child_exits() -> None:
    """A multiprocessing child ends with os._exit, skipping at-exit handlers: close the open loggers in its exit
    hook too (one hook per process)."""
    global _multiprocessing_hook_pid
    import sys

    if "multiprocessing" not in sys.modules or _multiprocessing_hook_pid == os.getpid():
        return
    from multiprocessing import util

    util.Finalize(None, _close_open_logs, exitpriority=0)
    _multiprocessing_hook_pid = os.getpid()


class _SuspendFlush:
    """The context manager LogX.suspend_flush returns."""

    def __init__(self, log: LogX, flush_at_end: bool) -> None:
        self._log, self._flush_at_end, self._previous = log, flush_at_end, log.eager_flush

    def __enter__(self) -> None:
        self._log.eager_flush = False

    def __exit__(self, *exc: object) -> None:
        self._log.eager_flush = self._previous
        if self._flush_at_end and self._log._tb is not None:
            self._log._tb.flush_soon()


class LogX:
    """Logging for one training run; use the shared `logx` object or make your own."""

    def __init__(self, rank: int = 0) -> None:
        self.initialized = False
        self.rank0 = True
        self.logdir: str | None = None
        self.eager_flush = True
        self.no_timestamp = False
        self.epoch: dict[str, int] = {"train": 0, "val": 0}
        self.save_metric: float | None = None
        self._metrics: MetricsWriter | None = None
        self._checkpoints: Checkpoints | None = None
        self._log_file: TextIOWrapper | None = None
        self._tb: TensorBoardSink | None = None
        self._writer_lock: WriterLock | None = None
        self._msg_failed = False
        self._step_lock = threading.Lock()  # threads logging one phase get distinct steps, written in order
        self.tensorboard = WriterProxy(None, _nothing)
        self.requeue_requested: int | None = None
        """The scheduler's warning signal, once received (runx.logx.requeue)."""
        self._on_requeue: Callable[[], object] | None = None
        self._leaving = False

    def initialize(self, logdir: str | None = None, coolname: bool = False, hparams: dict | None = None,
                   tensorboard: bool = False, no_timestamp: bool = False, global_rank: int | None = None,
                   eager_flush: bool = True, allow_second_writer: bool = False, all_ranks_log: bool = False,
                   on_requeue: Callable[[], object] | None = None) -> LogX:
        """Start logging into `logdir` ($RUNX_LOGDIR, else LOGROOT from the runx config); an existing one resumes.

        A logdir has one writer at a time: while another live process (or logger) writes to it,
        this raises LogxError naming the owner, unless `allow_second_writer` makes it a warning.

        `global_rank` defaults to $RANK (torchrun's, or runx's srun launcher's), then $SLURM_PROCID, else 0;
        only rank 0 writes metrics, events, checkpoints and logging.log, and the other ranks never wait for
        it. With `all_ranks_log` every other rank appends its msg() lines to its own `logging.rank<N>.log`.

        In a runx job with a time limit, the scheduler's warning signal ends the run for a requeue at rank 0's
        next safe point: after the next save_model(), or at the next metric() after calling `on_requeue()`
        (which should save a checkpoint); logx then closes and exits 75 (runx.logx.requeue). Other ranks
        only note the signal and go on; the job ends them when rank 0 leaves.
        `no_timestamp` is accepted for 0.0.11 scripts; records always carry their time.
        """
        self._start(logdir, coolname, hparams, tensorboard, no_timestamp, global_rank, eager_flush,
                    allow_second_writer, all_ranks_log)
        self.requeue_requested, self._on_requeue, self._leaving = None, on_requeue, False
        if os.environ.get("RUNX_REQUEUE_SIGNAL"):  # set by runx's Slurm job script
            from runx.logx.requeue import install

            install(self)
        return self

    def _start(self, logdir: str | None, coolname: bool, hparams: dict | None, tensorboard: bool,
               no_timestamp: bool, global_rank: int | None, eager_flush: bool, allow_second_writer: bool,
               all_ranks_log: bool) -> LogX:
        """initialize() but for the requeue signal."""
        if self.initialized:
            self.close()
        rank = rank_from_env() if global_rank is None else int(global_rank)
        self.rank0 = rank == 0
        self.initialized = True
        self.eager_flush = eager_flush
        self.no_timestamp = no_timestamp
        self.epoch = {"train": 0, "val": 0}
        self.save_metric = None
        self._checkpoints = None
        self.tensorboard = WriterProxy(None, _nothing)
        if not self.rank0:
            self.logdir = logdir or os.environ.get("RUNX_LOGDIR") or None
            if all_ranks_log and self.logdir:
                from runx.logx.rundir.layout import rank_log_name

                os.makedirs(self.logdir, exist_ok=True)
                self._log_file = open(os.path.join(self.logdir, rank_log_name(rank)), "a", encoding="utf-8")
            return self
        self.logdir = logdir or _default_logdir(coolname)
        new = not os.path.isdir(self.logdir)
        os.makedirs(self.logdir, exist_ok=True)
        lock = WriterLock(self.logdir)
        try:
            lock.acquire(allow_second_writer)
        except LogxError:
            self.initialized = False
            raise
        self._writer_lock = lock
        if hparams is not None:
            _save_hparams(hparams, self.logdir)
        self._checkpoints = Checkpoints(self.logdir)
        if not new:  # a logdir made just now holds nothing to resume
            self._checkpoints.resume()
        self._log_file = open(os.path.join(self.logdir, LOG_FILE), "a", encoding="utf-8")
        self._metrics = MetricsWriter(self.logdir)
        for phase, summary in self._metrics.state.phases.items():
            self.epoch[phase] = summary.last_step + 1  # the step after the last one logged
        if tensorboard:
            import time

            from runx.logx.tensorboard import BackgroundWriter

            self._tb = BackgroundWriter(self.logdir)  # an ImportError naming the extra without tensorboardX
            from runx.logx.tensorboard_hparams import session_start

            self.tensorboard = WriterProxy(self._tb, self._after_tensorboard, self._eager)
            now = time.time()
            self._tb.add_summary(session_start(_run_hparams(self.logdir, hparams), now), now)  # HParams dashboard
        _track(self)
        _close_when_multiprocessing_child_exits()
        return self

    def latest_checkpoint(self) -> str | None:
        """Path of the latest checkpoint in the logdir (what a resumed run continues from), or None.

        On rank 0 after initialize() it is the one save_model() wrote last (also after a resume);
        other ranks look for the last_checkpoint_ep<N>.pth with the highest epoch.
        """
        if self._checkpoints is not None and self._checkpoints.last:
            return self._checkpoints.last
        if not self.logdir:
            return None
        return find_checkpoint(self.logdir, LAST)

    @property
    def best_metric(self) -> float | None:
        """The best metric passed to save_model so far (also after a resume)."""
        return None if self._checkpoints is None else self._checkpoints.best_metric

    @property
    def save_ckpt_fn(self) -> str:
        """Path of the latest checkpoint, or ''."""
        return "" if self._checkpoints is None else self._checkpoints.last

    @property
    def best_ckpt_fn(self) -> str:
        """Path of the best checkpoint, or ''."""
        return "" if self._checkpoints is None else self._checkpoints.best

    def msg(self, msg: str) -> None:
        """Print a message and append it to the run's logging.log (another rank: to its own log, if asked)."""
        if not self.rank0 and self._log_file is None:
            return
        print(msg)
        if self._log_file is not None:
            try:
                self._log_file.write(f"{msg}\n")
                self._log_file.flush()
            except OSError as err:  # a full disk: the message was printed; training goes on
                if not self._msg_failed:
                    import sys

                    print(f"logx: cannot write {LOG_FILE} ({err.strerror or err}); logging.log may miss messages until there is room (they are printed)",
                          file=sys.stderr)
                self._msg_failed = True
            else:
                self._msg_failed = False

    def should_stop(self) -> bool:
        """Whether runx's adaptive search pruned this run (SWEEP.early_stop): stop cleanly, e.g. after
        saving a checkpoint; the search cancels a pruned run that goes on (SWEEP.early_stop.grace seconds)."""
        logdir = self.logdir or os.environ.get("RUNX_LOGDIR")
        if not logdir:
            return False
        return os.path.exists(os.path.join(logdir, PRUNED_FILE))

    def metric(self, phase: str, metrics: Mapping[str, object], epoch: int | None = None,
               raise_on_prune: bool = False) -> None:
        """Record metrics for a phase (train/trn/training or val/validate/validation/test) at a step.

        Without `epoch` each phase counts its own steps from 0; with it, that step is used (and kept).
        With `raise_on_prune`, raise TrialPruned after recording them once the run is pruned (should_stop()).
        """
        self._record_metric(phase, metrics, epoch)
        if raise_on_prune and self.should_stop():
            raise TrialPruned(f"{self.logdir or os.environ.get('RUNX_LOGDIR')}: pruned by runx's search")

    def _record_metric(self, phase: str, metrics: Mapping[str, object], epoch: int | None) -> None:
        writer = self._metrics  # None unless rank 0 and initialized
        if writer is None and not self.rank0:
            return  # another rank never leaves on the warning: rank 0 decides (runx.logx.requeue)
        canonical = _CANONICAL.get(phase)
        if canonical is None:
            raise LogxError(f"phase {phase!r}: expected one of {', '.join(TRAIN_NAMES + VAL_NAMES)}")
        if writer is None:
            raise LogxError("logx.metric() needs logx.initialize() first")
        steps = self.epoch
        if epoch is not None and type(epoch) is not int:
            from runx.logx.rundir.codec import to_step

            epoch = to_step(epoch)  # a bad one raises here and changes nothing
        with self._step_lock:  # threads logging one phase get distinct steps, written in order
            if epoch is None:
                step = steps[canonical]
                values = writer.write(canonical, step, metrics)
                steps[canonical] = step + 1
            else:
                values = writer.write(canonical, epoch, metrics)
                steps[canonical] = step = epoch
        if self._tb is not None:
            self._tb.metrics(phase, values, step)  # in the file within ~0.1 s
        if self.requeue_requested is not None and self._on_requeue is not None:
            self._requeue(saved=False)

    def add_scalar(self, name: str, val: object, idx: int | None = None) -> None:
        """Write a TensorBoard scalar."""
        self.tensorboard.add_scalar(name, val, idx)

    def add_scalars(self, main_tag: str, values: dict[str, object], idx: int | None = None) -> None:
        """Write several TensorBoard scalars under one tag (SummaryWriter.add_scalars)."""
        self.tensorboard.add_scalars(main_tag, values, idx)

    def add_image(self, path: str, img: object, step: int | None = None, **kwargs: object) -> None:
        """Write a TensorBoard image (CHW unless dataformats= says otherwise)."""
        self.tensorboard.add_image(path, img, step, **kwargs)

    def add_images(self, path: str, imgs: object, step: int | None = None, **kwargs: object) -> None:
        """Write a batch of TensorBoard images (NCHW unless dataformats= says otherwise)."""
        self.tensorboard.add_images(path, imgs, step, **kwargs)

    def add_histogram(self, name: str, values: object, step: int | None = None, **kwargs: object) -> None:
        """Write a TensorBoard histogram."""
        self.tensorboard.add_histogram(name, values, step, **kwargs)

    def _eager(self) -> bool:
        return self.eager_flush

    def _after_tensorboard(self) -> None:
        if self._tb is None:
            return
        if self.eager_flush:
            self._tb.flush()
        else:
            self._tb.flush_soon()

    def suspend_flush(self, flush_at_end: bool = True) -> _SuspendFlush:
        """A `with` block in which TensorBoard writes are not flushed one by one; flush once at the end."""
        return _SuspendFlush(self, flush_at_end)

    @staticmethod
    def is_better(save_metric: float, best_metric: float | None, higher_better: bool) -> bool:
        """Whether `save_metric` beats `best_metric` (None or NaN is beaten by anything)."""
        return is_better(save_metric, best_metric, higher_better)

    def save_model(self, save_dict: Mapping[str, object], metric: object, epoch: int, higher_better: bool = True,
                   delete_old: bool = True) -> bool | None:
        """Save the latest checkpoint and, when `metric` is the best so far, the best one; returns is-best.

        Checkpoints are named last_checkpoint_ep{epoch}.pth and best_checkpoint_ep{epoch}.pth; the
        saved dict gets `__metric`, the caller's `save_dict` is not changed.
        """
        if not self.rank0:
            return None
        if self._checkpoints is None:
            raise LogxError("logx.save_model() needs logx.initialize() first")
        better, self.save_metric = self._checkpoints.save(save_dict, metric, epoch, higher_better, delete_old)
        if self.requeue_requested is not None:
            self._requeue(saved=True)
        return better

    def _requeue(self, saved: bool) -> None:
        """After the scheduler's warning: save (on_requeue) unless a checkpoint was just saved, close, exit 75."""
        if self._leaving:
            return  # on_requeue's own save_model()
        self._leaving = True
        if not saved and self._on_requeue is not None:
            self._on_requeue()
        from runx.logx.requeue import REQUEUE_EXIT

        self.msg(f"logx: the scheduler's warning signal ({self.requeue_requested}) arrived: checkpoint saved, "
                 f"exiting {REQUEUE_EXIT} so runx requeues this run")
        self.close()
        run_dir = os.environ.get("RUNX_LOGDIR")
        if run_dir:  # the job's launcher may not pass 75 on (torchrun exits 1): the job script reads this line
            from runx.logx.rundir.status import REQUEUE_EVENT, append_event

            append_event(run_dir, REQUEUE_EVENT, exit=REQUEUE_EXIT, pid=os.getpid())
        raise SystemExit(REQUEUE_EXIT)

    def get_best_checkpoint(self) -> str | None:
        """Path of the best checkpoint in the logdir (the highest epoch if several), or None."""
        if not self.logdir:  # every rank may look (to resume), as in 0.0.11
            return None
        if self._checkpoints is not None and self._checkpoints.best:
            return self._checkpoints.best  # rank 0 skips a best it could not read at resume
        return find_checkpoint(self.logdir, BEST)

    def load_model(self, path: str) -> tuple[Mapping[str, object], dict[str, object]]:
        """Load a checkpoint onto the CPU; returns (its state_dict, the rest of its entries).

        LogxError when the file holds no dict with a `state_dict` mapping (save_model's save_dict should have one)."""
        checkpoint = load(path)
        if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), Mapping):
            raise LogxError(f"{path}: expected a checkpoint dict with a 'state_dict' mapping")
        state_dict = checkpoint["state_dict"]
        meta = {k: v for k, v in checkpoint.items() if k != "state_dict"}
        return state_dict, meta

    def flush(self) -> None:
        """Send buffered metrics to the OS, replace the summary, flush TensorBoard."""
        if self._metrics is not None:
            self._metrics.flush()
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        """Flush everything and close the files (also runs at exit); initialize() may follow.

        With TensorBoard on, the run's session ends in TensorBoard's HParams dashboard: with failure
        when closing while an exception propagates (in `except`, `finally`, at exit after an uncaught
        one) other than SystemExit(0), else with success.
        """
        import sys

        self._close(_failed(sys.exc_info()[1] or getattr(sys, "last_value", None)))

    def _close(self, failed: bool) -> None:
        _untrack(self)
        metrics, tb, log_file = self._detach()
        if metrics is not None:
            metrics.close()  # never raises OSError: a full disk is reported, not raised, at close
        if tb is not None:
            import time

            from runx.logx.tensorboard_hparams import session_end

            now = time.time()
            tb.add_summary(session_end("failure" if failed else "success", now), now)
        for closing in (tb, log_file):
            if closing is not None:
                try:
                    closing.close()
                except OSError as err:
                    import sys

                    print(f"logx: closing {self.logdir} failed: {err}", file=sys.stderr)
        lock, self._writer_lock = self._writer_lock, None
        if lock is not None:
            lock.release()

    def _forget_after_fork(self) -> None:
        """In a forked child: log nothing, and drop (never write) the copies of the parent's buffers."""
        _untrack(self)
        metrics, tb, log_file = self._detach()
        self.rank0 = False
        if metrics is not None:
            metrics.abandon()
        if tb is not None:
            tb.abandon()
        if log_file is not None:
            from runx.logx.tensorboard import silence

            silence(log_file)
        lock, self._writer_lock = self._writer_lock, None
        if lock is not None:
            lock.forget()

    def _detach(self) -> tuple[MetricsWriter | None, TensorBoardSink | None, TextIOWrapper | None]:
        """Take the open writers away from this logger (calls from now on write nothing) and return them."""
        writers = self._metrics, self._tb, self._log_file
        self._metrics = self._tb = self._log_file = None
        self.tensorboard = WriterProxy(None, _nothing)
        return writers

    def __enter__(self) -> LogX:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._close(_failed(error))


def _default_logdir(coolname: bool) -> str:
    """Where initialize() writes without a logdir: $RUNX_LOGDIR (runx sets it for its jobs), else
    LOGROOT of the runx config (runx.logx.rundir.config, as runx and sumx resolve it) joined with a
    coolname slug, or with `default`."""
    from_env = os.environ.get("RUNX_LOGDIR")
    if from_env:
        return from_env
    from runx.logx.rundir.config import default_logroot

    root = default_logroot()
    if root is None:
        raise LogxError("logx.initialize(): no logdir given, RUNX_LOGDIR is not set, and there is no config with "
                        "LOGROOT (.runx here or in a folder above, ~/.config/runx.yml)")
    if coolname:
        try:
            from coolname import generate_slug
        except ImportError:
            raise ImportError("logx.initialize(coolname=True) needs coolname: pip install coolname") from None
        return os.path.join(root, generate_slug(2))
    return os.path.join(root, "default")


def _failed(exc: BaseException | None) -> bool:
    """Whether closing with `exc` propagating ends the run with failure (anything but no exception or SystemExit(0))."""
    if isinstance(exc, SystemExit):
        return exc.code not in (None, 0)
    return exc is not None


def _run_hparams(logdir: str, hparams: object) -> dict[str, object]:
    """The run's hyperparameters as sumx shows them: hparams.json, else initialize()'s `hparams`, else none."""
    from runx.logx.rundir.codec import read_json

    saved, _ = read_json(os.path.join(logdir, HPARAMS_FILE))
    if isinstance(saved, dict):
        return saved
    if hparams is None:
        return {}
    return dict(hparams) if isinstance(hparams, dict) else dict(vars(hparams))


def _save_hparams(hparams: object, logdir: str) -> None:
    """Write hparams.json unless runx (or an earlier session) already did."""
    from runx.logx.rundir.atomic import write_json

    path = os.path.join(logdir, HPARAMS_FILE)
    if os.path.exists(path):
        return
    if not isinstance(hparams, dict):
        hparams = vars(hparams)  # an argparse.Namespace
    write_json(path, hparams, indent=4, ensure_ascii=True)


logx = LogX()
"""The shared logger: `from runx.logx import logx`."""
