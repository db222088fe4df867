"""Every file name of a run directory `LOGROOT/<experiment>/<run>/` (docs/metrics-format.md, docs/architecture.md)."""
from __future__ import annotations

import os
import re

__all__ = [
    "RUN_FILE", "HPARAMS_FILE", "STATUS_FILE", "JOB_SCRIPT", "SUBMIT_FILE", "GIT_DIFF_FILE", "METRICS_FILE",
    "SUMMARY_FILE", "LEGACY_METRICS_FILE", "PRUNED_FILE", "SEARCH_DIR", "LOG_FILE", "CHECKPOINTS_FILE", "LOCK_FILE", "CODE_DIR",
    "NOTES_FILE", "TRASH_DIR", "TFEVENTS_PREFIX", "LOGX_EVENTS_SUFFIX", "SUMX_EVENTS_SUFFIX", "checkpoint_name", "checkpoint_epoch", "is_checkpoint", "rank_log_name", "is_rank_log", "is_temporary", "is_earlier_temporary", "temporary_name",
    "not_searched",
]

# Written by runx before the job starts.
RUN_FILE = "run.json"
"""The run's record: experiment, hparams, argv, farm, job ids, git state, host, user, times."""
HPARAMS_FILE = "hparams.json"
"""The hyperparameters as the script receives them (runx writes it; logx writes it when runx did not)."""
STATUS_FILE = "status.log"
"""One status event per line, appended by runx and by the job script (runx.logx.rundir.status)."""
JOB_SCRIPT = "job.sh"
"""The POSIX shell script the job runs."""
SUBMIT_FILE = "submit_cmd.sh"
"""What was run or submitted, as an executable shell script."""
GIT_DIFF_FILE = "git.diff"
"""The uncommitted changes of the source tree at launch."""
PRUNED_FILE = "pruned"
"""Written by an adaptive search's driver when it prunes the run: logx.should_stop() is then true."""
CODE_DIR = "code"
"""The staged snapshot the job runs from; never searched for runs."""
SEARCH_DIR = ".search"
"""In the experiment directory: an adaptive search's study (Optuna's journal) and its driver's lock."""

# Written by the user through runx.
NOTES_FILE = "notes.txt"
"""`runx note`'s notes, one per entry, each starting with its UTC time (runx.logx.rundir.notes)."""
TRASH_DIR = ".trash"
"""The folder below LOGROOT that `runx rm` moves runs into (`.trash/<experiment>/<run>`); never searched."""

# Written by logx during training.
METRICS_FILE = "metrics.jsonl"
"""The append-only metrics log, format version 1."""
SUMMARY_FILE = "metrics.summary.json"
"""The atomically replaced summary of the metrics log, saying how many of its bytes it covers."""
LEGACY_METRICS_FILE = "metrics.csv"
"""runx 0.0.11's metrics file, still read by sumx."""
LOG_FILE = "logging.log"
"""logx.msg()'s message log (rank 0's)."""
CHECKPOINTS_FILE = "checkpoints.json"
"""Plain JSON beside the checkpoints: the best metric, so resuming unpickles nothing."""
LOCK_FILE = "logx.lock"
"""The lock a live logx writer holds on the run directory."""
TFEVENTS_PREFIX = "events.out.tfevents."
"""TensorBoard event files start with this."""
LOGX_EVENTS_SUFFIX = ".logx"
"""The name of logx's own scalar event file ends with this (the rest go through tensorboardX)."""
SUMX_EVENTS_SUFFIX = ".sumx"
"""The name of an event file `sumx --to-tensorboard` wrote ends with this."""

# The name patterns below are matched with re.match, whose cache compiles each on first use: a logx script
# that lists no run directory compiles none of them.
_CHECKPOINT = r"^(last|best)_checkpoint_ep(-?[0-9]+)\.pth$"
_RANK_LOG = r"^logging\.rank([0-9]+)\.log$"


def checkpoint_name(kind: str, epoch: int) -> str:
    """`last_checkpoint_ep<epoch>.pth` or `best_checkpoint_ep<epoch>.pth` (kind: "last" or "best")."""
    if kind not in ("last", "best"):
        raise ValueError(f"checkpoint kind: expected 'last' or 'best', got {kind!r}")
    return f"{kind}_checkpoint_ep{epoch}.pth"


def checkpoint_epoch(name: str, kind: str) -> int | None:
    """The epoch of a checkpoint file name of `kind` ("last" or "best"), or None for any other name."""
    match = re.match(_CHECKPOINT, name)
    return int(match.group(2)) if match is not None and match.group(1) == kind else None


def is_checkpoint(name: str) -> bool:
    """Whether a file name is a latest or a best checkpoint's."""
    return re.match(_CHECKPOINT, name) is not None


def is_rank_log(name: str) -> bool:
    """Whether a file name is logx.msg()'s log of a rank other than 0 (initialize(all_ranks_log=True))."""
    return re.match(_RANK_LOG, name) is not None


def rank_log_name(rank: int) -> str:
    """The message log of `rank`: logging.log for rank 0, `logging.rank<N>.log` for the others."""
    if rank < 0:
        raise ValueError(f"rank: expected a number of at least 0, got {rank!r}")
    return LOG_FILE if rank == 0 else f"logging.rank{rank}.log"


def temporary_name(path: str) -> str:
    """The temporary name an atomic write of `path` uses: beside it, hidden, unique to this process."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.tmp{os.getpid()}")


_TEMPORARY = r"^\..+\.tmp[0-9]+$"
_EARLIER_TEMPORARY = (r"^(?:(?:last|best)_checkpoint_ep-?[0-9]+\.pth\.[0-9]+\.tmp"
                      r"|(?:checkpoints|metrics\.summary|hparams)\.json\.tmp[0-9]+)$")
"""The temporary names that earlier logx versions' checkpoint and JSON writes used."""


def is_temporary(name: str) -> bool:
    """Whether a file name is an atomic write's leftover (a writer killed between write and rename)."""
    return re.match(_TEMPORARY, name) is not None


def is_earlier_temporary(name: str) -> bool:
    """Whether a file name is the leftover of an earlier logx version's checkpoint or JSON write."""
    return re.match(_EARLIER_TEMPORARY, name) is not None


def not_searched(name: str) -> bool:
    """Whether a folder of this name below an experiment is never a run nor holds runs (`code/`, dot-folders)."""
    return name == CODE_DIR or name.startswith(".")
