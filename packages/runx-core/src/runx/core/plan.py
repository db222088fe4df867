"""The plan: every run of a sweep expanded, named and validated before anything is created."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Optional

from runx.core.argv import hparam_args, shell_join, substitute_logdir
from runx.core.config import Settings
from runx.core.errors import RunxError
from runx.core.naming import check_name_lengths, check_tag, timestamp, unique_names
from runx.core.sweep import MAX_RUNS, Combination, Scalar, expand

__all__ = ["PlannedRun", "Plan", "Job", "make_plan", "plan_runs", "job_for"]


class PlannedRun(NamedTuple):
    """A run before its directory exists: its position in the plan, tag and hyperparameters."""

    position: int
    tag: Optional[str]
    combination: Combination


class Plan:
    """The validated sweep: settings, experiment directory and runs.

    Run names are drawn on first use, so a dry run whose output does not show them never
    loads the name generator.
    """

    def __init__(self, settings: Settings, exp_dir: Path, runs: tuple, no_cooldir: bool,
                 stamp: str, make_slug: Callable[[], str]) -> None:
        self.settings = settings
        self.exp_dir = exp_dir
        self.runs = runs
        self.no_cooldir = no_cooldir
        self._stamp = stamp
        self._make_slug = make_slug
        self._names: Optional[list] = None

    def with_runs(self, runs: list) -> "Plan":
        """The same plan restricted to `runs` (renumbered)."""
        kept = tuple(PlannedRun(i, r.tag, r.combination) for i, r in enumerate(runs))
        return Plan(self.settings, self.exp_dir, kept, self.no_cooldir, self._stamp, self._make_slug)

    def names(self) -> list:
        """The candidate name of every run, distinct within the sweep."""
        if self._names is None:
            tags = [run.tag for run in self.runs]
            self._names = list(tags) if self.no_cooldir else unique_names(tags, self._stamp, self._make_slug)
        return self._names

    def name_of(self, run: PlannedRun) -> str:
        """A run's candidate name (claiming may add a suffix)."""
        return self.names()[run.position]

    def uses_logdir(self) -> bool:
        """Whether any hyperparameter or resource mentions LOGDIR."""
        values = [v for run in self.runs for v in run.combination.hparams.values()]
        values += [v for run in self.runs for v in run.combination.resources.values()]
        values += list(self.settings.farm.resources.values())
        return any("LOGDIR" in str(v) for v in values)


class Job(NamedTuple):
    """A run made concrete for one run directory: what the training script receives."""

    name: str
    run_dir: Path
    job_logdir: str
    hparams: Mapping[str, Scalar]
    args: tuple
    command: str
    resources: Mapping[str, Scalar]
    pythonpath: str
    tag: Optional[str]


def _default_slug() -> str:
    from coolname import generate_slug

    return generate_slug(2)


def make_plan(
    settings: Settings,
    tag: Optional[str] = None,
    no_cooldir: bool = False,
    when: Optional[datetime] = None,
    make_slug: Optional[Callable[[], str]] = None,
    max_runs: Optional[int] = MAX_RUNS,
) -> Plan:
    """Expand and name every run; raises RunxError on any problem, creating nothing.

    A sweep of more than `max_runs` runs is refused before it is expanded (None: no limit)."""
    combinations = expand(settings.hparams, str(settings.experiment_file), settings.sweep, max_runs=max_runs)
    if not combinations:
        raise RunxError(f"{settings.experiment_file}: HPARAMS: every run is skipped (RUNX.SKIP); nothing to launch")
    return plan_runs(settings, combinations, tag, no_cooldir, when, make_slug)


def plan_runs(
    settings: Settings,
    combinations: list,
    tag: Optional[str] = None,
    no_cooldir: bool = False,
    when: Optional[datetime] = None,
    make_slug: Optional[Callable[[], str]] = None,
) -> Plan:
    """Name and check runs of given Combinations (an adaptive search plans one trial at a time)."""
    if tag is not None:
        check_tag(tag, "--tag")
    tags = []
    for combination in combinations:
        chosen = combination.tag if combination.tag is not None else tag
        if chosen is not None:
            check_tag(chosen, f"{settings.experiment_file}: HPARAMS: RUNX.TAG")
        tags.append(chosen)
    exp_dir = settings.logroot / settings.experiment
    check_name_lengths(exp_dir, tags, no_cooldir,
                       lambda t: "--tag" if t == tag else f"{settings.experiment_file}: HPARAMS: RUNX.TAG")
    if no_cooldir:
        _check_tag_only_names(tags, exp_dir, settings)
    runs = tuple(PlannedRun(i, t, c) for i, (t, c) in enumerate(zip(tags, combinations)))
    stamp = timestamp(when or datetime.now())
    return Plan(settings, exp_dir, runs, no_cooldir, stamp, make_slug or _default_slug)


def _check_tag_only_names(tags: list, exp_dir: Path, settings: Settings) -> None:
    if any(t is None for t in tags):
        raise RunxError(f"{settings.experiment_file}: --no_cooldir: every run needs a tag (--tag or RUNX.TAG) to name its directory")
    seen = set()
    for name in tags:
        if name in seen:
            raise RunxError(f"{settings.experiment_file}: --no_cooldir: two runs would share the directory {name!r}; give each a distinct RUNX.TAG")
        if (exp_dir / name).exists():
            raise RunxError(f"{exp_dir / name}: run directory already exists; --no_cooldir never reuses a run directory")
        seen.add(name)


def job_logdir(settings: Settings, run_dir: Path) -> str:
    """The run directory as the job sees it, as its farm says (under NGC_LOGROOT on NGC, else the same path)."""
    from runx.core.farms import lookup

    return lookup(settings.farm.kind).job_logdir(settings.farm, settings.logroot, run_dir)


def job_for(plan: Plan, run: PlannedRun, run_dir: Path) -> Job:
    """Substitute LOGDIR and build the command for a run placed at `run_dir`."""
    settings = plan.settings
    logdir = job_logdir(settings, run_dir)
    hparams = {k: substitute_logdir(v, logdir) for k, v in run.combination.hparams.items()}
    resources = {**settings.farm.resources, **run.combination.resources}
    resources = {k: substitute_logdir(v, logdir) for k, v in resources.items()}
    args = tuple(hparam_args(hparams))
    command = settings.cmd + (" " + shell_join(args) if args else "")
    if settings.pythonpath:
        pythonpath = settings.pythonpath.replace("LOGDIR", logdir)
    else:
        pythonpath = f"{logdir}/code"
    return Job(
        name=run_dir.name,
        run_dir=run_dir,
        job_logdir=logdir,
        hparams=hparams,
        args=args,
        command=command,
        resources=resources,
        pythonpath=pythonpath,
        tag=run.combination.tag,
    )


def planned_dir(plan: Plan, run: PlannedRun) -> Path:
    """Where a run's directory will be if its name is free (dry runs show this)."""
    return plan.exp_dir / plan.name_of(run)
