"""`python -m runx.runx EXP.yml` (and the `runx` command): launch a sweep.

Parses nothing at import; `main(argv=None)` does. The command lines are in runx.runx.cli.
"""
from __future__ import annotations

import os
import sys
from argparse import Namespace
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from runx.core.farms import Farm
    from runx.core.plan import Plan

from runx.core.text import printable

__all__ = ["main"]


def _warn_about_ignored_flags(farm: Farm) -> None:
    """Name the launcher flags that do nothing on this farm, rather than ignore them silently."""
    ignored = farm.ignored_flags()
    if ignored:
        sys.stderr.write(f"runx: warning: {', '.join(ignored)} ignored {farm.where()}\n")


def launch_main(args: Namespace) -> int:
    """Plan, validate, then create and run or submit."""
    from runx.core.config import load_settings
    from runx.core.errors import RunxError
    from runx.core.farms import LaunchOptions, make_farm
    from runx.core.plan import make_plan

    settings = load_settings(
        args.exp_yml,
        config_file=args.config_file,
        farm=args.farm,
        exp_name=args.exp_name,
        interactive=args.interactive,
        overrides=args.overrides,
    )
    for warning in settings.warnings:
        sys.stderr.write(f"runx: warning: {printable(warning)}\n")
    for note in settings.notes:
        sys.stderr.write(f"runx: note: {printable(note)}\n")
    if args.seed is not None:
        settings = settings._replace(sweep={**settings.sweep, "seed": args.seed})
    settings = settings._replace(command_line=("runx", *args.argv))
    from runx.core.sweep import is_adaptive

    if is_adaptive(settings.sweep):
        from runx.core.search.command import search_main

        return search_main(settings, args)
    if args.jobs < 1 or args.jobs_per_gpu < 1:
        raise RunxError("--jobs and --jobs-per-gpu: expected a number of at least 1")
    if args.max_runs is not None and args.max_runs < 1:
        raise RunxError(f"--max-runs {args.max_runs}: expected a number of at least 1")
    from runx.core.sweep import MAX_RUNS

    plan = make_plan(settings, tag=args.tag, no_cooldir=args.no_cooldir,
                     max_runs=MAX_RUNS if args.max_runs is None else args.max_runs)
    farm = make_farm(settings, LaunchOptions(array=args.array, jobs=args.jobs, gpus=args.gpus, jobs_per_gpu=args.jobs_per_gpu,
                                             fail_fast=args.fail_fast))
    _warn_about_ignored_flags(farm)
    from pathlib import Path

    from runx.core.scriptcheck import unstaged_script

    script_problem = unstaged_script(settings.cmd, Path.cwd(), settings.ignore_patterns)
    if args.no_run:
        if script_problem:
            sys.stderr.write(f"runx: warning: {printable(script_problem)}\n")
        plan = _resume(plan) if args.resume else plan
        if plan.runs:
            from runx.core.dryrun import show_plan

            show_plan(plan, farm, args.verbose, sys.stdout)
        return 0
    from contextlib import nullcontext

    from runx.core.explock import experiment_lock
    from runx.core.launch import create_runs, run_jobs

    farm.check()
    farm.check_plan(plan)
    # With --resume, deciding what to launch and claiming it (creating its runs) is one step per experiment.
    with experiment_lock(plan.exp_dir, create=True) if args.resume else nullcontext():
        plan = _resume(plan) if args.resume else plan
        if not plan.runs:
            return 0
        jobs = create_runs(plan, farm, Path.cwd())
    if script_problem:
        sys.stderr.write(f"runx: warning: {printable(script_problem)}\n")
    return run_jobs(jobs, farm, sys.stdout)


def _resume(plan: Plan) -> Plan:
    """The plan without configurations that already succeeded or are queued or running (--resume)."""
    from runx.core.resume import drop_done

    plan, kept = drop_done(plan)
    sys.stderr.write(f"runx: --resume: {kept} configuration(s) already succeeded, queued or running; {len(plan.runs)} to launch\n")
    return plan


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: returns 0 on success, 1 when a job or submission failed, 2 on bad input."""
    from runx.core.argparser import UsageError
    from runx.core.errors import RunxError
    from runx.runx.cli import LEDGER_COMMANDS, SUBCOMMANDS, launcher_parser

    if argv is None and "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (runx-core[completion])
        from runx.runx.completion import complete

        complete("runx")
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in LEDGER_COMMANDS:
            from runx.runx.ledger_cli import ledger_main

            return ledger_main(argv)
        if argv and argv[0] in SUBCOMMANDS:
            from runx.runx.commands import command_module

            module = command_module(argv[0])
            return module.run(argv[0], module.parser(argv[0]).read(argv[1:]))
        args = launcher_parser().read(argv)
        args.argv = argv
        if args.where:
            from runx.runx.where import show_where

            show_where(args, sys.stdout)
            return 0
        return launch_main(args)
    except SystemExit as done:  # --help or --version was shown
        return int(done.code or 0)
    except UsageError as err:
        sys.stderr.write(err.report)
        return 2
    except RunxError as err:
        sys.stderr.write(f"runx: error: {printable(str(err))}\n")
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
