"""The plan: every run of a sweep expanded, named and validated before anything is created."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, Optional

from runx.core.argv import hparam_args, shell_join, substitute_logdir
from runx.core.config import Settings
from runx.core.errors import RunxError
from runx.core.naming import check_tag, timestamp, unique_names
from runx.core.sweep import Combination, Scalar, expand

__all__ = ["PlannedRun", "Plan", "Job", "make_plan", "job_for"]


@dataclass(frozen=True)
class PlannedRun:
    """A run before its directory exists: its candidate name and hyperparameters."""

    index: int
    name: str
    combination: Combination


@dataclass(frozen=True)
class Plan:
    """The validated sweep: settings, experiment directory and runs."""

    settings: Settings
    exp_dir: Path
    runs: tuple
    no_cooldir: bool = False


@dataclass(frozen=True)
class Job:
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
) -> Plan:
    """Expand and name every run; raises RunxError on any problem, creating nothing."""
    combinations = expand(settings.hparams, str(settings.experiment_file))
    if not combinations:
        raise RunxError(f"{settings.experiment_file}: HPARAMS: every run is skipped (RUNX.SKIP); nothing to launch")
    if tag is not None:
        check_tag(tag, "--tag")
    tags = []
    for combination in combinations:
        chosen = combination.tag if combination.tag is not None else tag
        if chosen is not None:
            check_tag(chosen, f"{settings.experiment_file}: HPARAMS: RUNX.TAG")
        tags.append(chosen)
    exp_dir = settings.logroot / settings.experiment
    if no_cooldir:
        names = _tag_only_names(tags, exp_dir, settings)
    else:
        stamp = timestamp(when or datetime.now())
        names = unique_names(tags, stamp, make_slug or _default_slug)
    runs = tuple(PlannedRun(i, n, c) for i, (n, c) in enumerate(zip(names, combinations)))
    return Plan(settings=settings, exp_dir=exp_dir, runs=runs, no_cooldir=no_cooldir)


def _tag_only_names(tags: list, exp_dir: Path, settings: Settings) -> list:
    if any(t is None for t in tags):
        raise RunxError(f"{settings.experiment_file}: --no_cooldir: every run needs a tag (--tag or RUNX.TAG) to name its directory")
    seen = set()
    for name in tags:
        if name in seen:
            raise RunxError(f"{settings.experiment_file}: --no_cooldir: two runs would share the directory {name!r}; give each a distinct RUNX.TAG")
        if (exp_dir / name).exists():
            raise RunxError(f"{exp_dir / name}: run directory already exists; --no_cooldir never reuses a run directory")
        seen.add(name)
    return list(tags)


def job_logdir(settings: Settings, run_dir: Path) -> str:
    """The run directory as the job sees it: under NGC_LOGROOT on NGC, else the same path."""
    if settings.farm.kind == "ngc" and settings.farm.ngc_logroot:
        relative = run_dir.relative_to(settings.logroot)
        return str(Path(settings.farm.ngc_logroot) / relative)
    return str(run_dir)


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
    return plan.exp_dir / run.name
