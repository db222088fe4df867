"""The study of an adaptive search: Optuna's sampler and pruner over a journal file in the experiment
directory (`.search/journal.log`), so a killed driver's successor reopens it where it stopped.

Optuna is the `runx-core[search]` extra, imported here only; a missing Optuna is one RunxError line.
"""
from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

from runx.core.errors import RunxError
from runx.core.search.options import SearchOptions
from runx.core.search.space import SearchSpace
from runx.logx.rundir.layout import SEARCH_DIR

__all__ = ["Study", "TrialInfo", "open_study", "load_optuna", "STUDY_DIR", "JOURNAL_FILE", "STUDY_NAME"]

STUDY_DIR = SEARCH_DIR
"""The study's folder in the experiment directory (a dot-folder: never searched for runs)."""
JOURNAL_FILE = "journal.log"
STUDY_NAME = "runx"
NOT_LAUNCHED = "not-launched"
"""The `runx` user attribute of a trial asked for but never given a run (the driver died first)."""


def load_optuna() -> Any:
    """The optuna module, or RunxError naming the extra that installs it."""
    try:
        import optuna
    except ImportError:
        raise RunxError("SWEEP.method tpe needs Optuna, which is not installed; install the search extra: "
                        "pip install 'runx-core[search]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


class TrialInfo(NamedTuple):
    """A trial as the study holds it: number, state (running, complete, pruned, fail), params, value,
    the last step reported and whether it ever got a run."""

    number: int
    state: str
    params: Dict[str, Any]
    value: Optional[float]
    last_step: Optional[int]
    launched: bool


def _distributions(optuna: Any, space: SearchSpace) -> dict:
    found = {}
    for key, d in space.searched.items():
        if d.name == "choice":
            found[key] = optuna.distributions.CategoricalDistribution(list(d.args))
        elif d.name == "randint":
            found[key] = optuna.distributions.IntDistribution(d.args[0], d.args[1])
        else:
            found[key] = optuna.distributions.FloatDistribution(d.args[0], d.args[1], log=d.name == "loguniform")
    return found


def _pruner(optuna: Any, options: SearchOptions) -> Any:
    stop = options.early_stop
    if stop is None:
        return optuna.pruners.NopPruner()
    if stop.method == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=stop.min_epochs, reduction_factor=stop.reduction,
                                                      min_early_stopping_rate=0)
    if stop.method == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=stop.min_epochs, max_resource=stop.max_epochs or "auto",
                                              reduction_factor=stop.reduction)
    return optuna.pruners.MedianPruner(n_startup_trials=stop.startup_trials, n_warmup_steps=stop.warmup_epochs)


def _repair_journal(path: Path) -> None:
    """Drop a journal's torn last line (a driver killed mid-write), so the next append starts a line of its own."""
    try:
        with open(path, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        pass


class Study:
    """One search's Optuna study: ask, report intermediate values, tell; trials by number."""

    def __init__(self, optuna: Any, study: Any, storage: Any, space: SearchSpace, options: SearchOptions) -> None:
        self.optuna = optuna
        self.study = study
        self.storage = storage
        self.options = options
        self.distributions = _distributions(optuna, space)
        self._ids: Dict[int, int] = {}
        self._study_id = storage.get_study_id_from_name(study.study_name) if storage is not None else None

    def ask(self) -> tuple:
        """(number, params) of a new trial."""
        trial = self.study.ask(self.distributions)
        if self._study_id is not None:
            self._ids[trial.number] = self.storage.get_trial_id_from_study_id_trial_number(self._study_id, trial.number)
        return trial.number, dict(trial.params)

    def _trial(self, number: int) -> Any:
        if number not in self._ids:
            self._ids[number] = self.storage.get_trial_id_from_study_id_trial_number(self._study_id, number)
        return self.optuna.trial.Trial(self.study, self._ids[number])

    def report(self, number: int, values: list) -> bool:
        """Report val values, [(step, value), ...] in step order; whether the pruner stops the trial now."""
        trial = self._trial(number)
        for step, value in values:
            trial.report(value, step)
        return bool(trial.should_prune())

    def tell(self, number: int, state: str, value: Optional[float] = None) -> None:
        """End a trial: complete with its value, pruned, or fail."""
        states = self.optuna.trial.TrialState
        if state == "complete":
            self.study.tell(number, value)
        else:
            self.study.tell(number, state=states.PRUNED if state == "pruned" else states.FAIL)

    def mark_not_launched(self, number: int) -> None:
        """A trial the driver asked for but never gave a run: failed, and not part of the budget."""
        self.study.set_user_attr(f"trial-{number}", NOT_LAUNCHED)
        self.study.tell(number, state=self.optuna.trial.TrialState.FAIL)

    def trials(self) -> List[TrialInfo]:
        """Every trial so far, by number."""
        attrs = self.study.user_attrs
        found = []
        for t in self.study.get_trials(deepcopy=False):
            value = t.value if t.value is not None and math.isfinite(t.value) else None
            steps = t.intermediate_values
            found.append(TrialInfo(t.number, t.state.name.lower(), dict(t.params), value,
                                   max(steps) if steps else None, attrs.get(f"trial-{t.number}") != NOT_LAUNCHED))
        return found


def _sampler(optuna: Any, options: SearchOptions) -> Any:
    return optuna.samplers.TPESampler(seed=options.seed, constant_liar=options.parallel > 1)


def open_study(exp_dir: Optional[Path], options: SearchOptions, space: SearchSpace, resume: bool) -> Study:
    """The experiment's study, created (or with `resume`, reopened); with no `exp_dir` an in-memory one (-n).

    Without `resume` an experiment that already has a study is refused: one study per experiment."""
    optuna = load_optuna()
    sampler, pruner = _sampler(optuna, options), _pruner(optuna, options)
    direction = "minimize" if options.goal == "min" else "maximize"
    if exp_dir is None:
        study = optuna.create_study(sampler=sampler, pruner=pruner, direction=direction)
        return Study(optuna, study, None, space, options)
    folder = exp_dir / STUDY_DIR
    journal = folder / JOURNAL_FILE
    exists = journal.exists() and journal.stat().st_size > 0
    if exists and not resume:
        raise RunxError(f"{exp_dir}: already holds a search ({journal}); continue it with --resume, "
                        "or start another with --exp_name NAME")
    folder.mkdir(parents=True, exist_ok=True)
    _repair_journal(journal)
    lock = Path(f"{journal}.lock")
    if lock.is_symlink() or lock.exists():
        os.unlink(lock)  # the search lock is held: whatever took this one is gone
    backend = optuna.storages.journal.JournalFileBackend(str(journal))
    storage = optuna.storages.journal.JournalStorage(backend)
    study = optuna.create_study(storage=storage, study_name=STUDY_NAME, sampler=sampler, pruner=pruner,
                                direction=direction, load_if_exists=True)
    if study.direction.name.lower() != direction:
        raise RunxError(f"{journal}: the search there maximises or minimises the other way; SWEEP.goal: expected "
                        f"{'min' if direction == 'maximize' else 'max'} as when it started")
    return Study(optuna, study, storage, space, options)
