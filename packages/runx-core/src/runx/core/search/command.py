"""`runx EXP.yml` for an adaptive search: validate everything, then `-n` shows the search, else the
driver runs it in the foreground (under the experiment's search lock)."""
from __future__ import annotations

import sys
from argparse import Namespace

from runx.core.config import Settings
from runx.core.errors import RunxError
from runx.core.farms import LaunchOptions, make_farm
from runx.core.search.options import search_options
from runx.core.search.space import parse_space
from runx.core.text import printable

__all__ = ["search_main"]


def search_main(settings: Settings, args: Namespace) -> int:
    """Run (or with -n show) the experiment's search; the launcher's exit status."""
    source = str(settings.experiment_file)
    options = search_options(settings.sweep, source, settings.metric_goals)
    space = parse_space(settings.hparams, source, options.method)
    if args.no_cooldir:
        raise RunxError(f"{source}: --no_cooldir does not combine with SWEEP.method {options.method}: "
                        "every trial needs a run directory of its own")
    if args.max_runs is not None and options.trials > args.max_runs:
        raise RunxError(f"{source}: SWEEP.trials: the search has {options.trials:,} runs; expected at most "
                        f"{args.max_runs:,} (--max-runs)")
    if args.jobs != 1:
        options = options._replace(parallel=args.jobs)  # -j N: N trials at once, as a grid's -j
    if args.jobs < 1 or args.jobs_per_gpu < 1:
        raise RunxError("--jobs and --jobs-per-gpu: expected a number of at least 1")
    given = make_farm(settings, LaunchOptions(array=args.array, jobs=args.jobs, gpus=args.gpus, jobs_per_gpu=args.jobs_per_gpu))
    ignored = given.ignored_flags()
    if ignored:
        sys.stderr.write(f"runx: warning: {', '.join(ignored)} ignored {given.where()}\n")
    jobs = options.parallel if "-j" not in ignored else 1
    farm = make_farm(settings, LaunchOptions(jobs=jobs, gpus=args.gpus, jobs_per_gpu=args.jobs_per_gpu))
    from runx.core.search.study import load_optuna

    load_optuna()  # before anything is created: a missing extra is one line
    if args.no_run:
        from runx.core.search.show import show_search

        show_search(settings, options, space, farm, args.tag, args.verbose, sys.stdout)
        return 0
    farm.check()
    from runx.core.plan import plan_runs
    from runx.core.search.space import combination_for

    sample = {k: d.args[0] for k, d in space.searched.items()}  # a trial's shape: tags, resources, the farm's checks
    farm.check_plan(plan_runs(settings, [combination_for(space, sample, 0)], tag=args.tag))
    from runx.core.search.driver import Driver, search_lock
    from runx.core.search.study import open_study

    exp_dir = settings.logroot / settings.experiment
    from runx.core.staging import check_writable

    check_writable(exp_dir)
    with search_lock(exp_dir):
        study = open_study(exp_dir, options, space, resume=args.resume)
        driver = Driver(settings, options, space, study, farm, args.tag)
        sys.stdout.write(printable(f"[search] {options.method} on {farm.where()}: {options.trials} trial(s), "
                                   f"{options.parallel} at a time, {options.goal} {options.metric}; study in "
                                   f"{exp_dir / '.search'}") + "\n")
        return driver.run(args.resume)
