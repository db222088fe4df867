"""`python -m runx.runx EXP.yml` (and the `runx` command): launch a sweep.

Parses nothing at import; `main(argv=None)` does.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

__all__ = ["main", "build_parser"]

EPILOG = """\
examples:
  runx sweep.yml -n          print the commands of every run, create nothing
  runx sweep.yml -i          run every job here, one after another
  runx sweep.yml -i -j 4     run 4 jobs at a time (one per GPU where there are GPUs)
  runx sweep.yml             submit every job to the FARM named in .runx
  runx sweep.yml --tag lr    name the runs lr_<coolname>_<date>
  runx sweep.yml --resume    launch only configurations with no succeeded or live run

  runx status sweep          the state of every run of experiment sweep
  runx cancel sweep [RUN..]  cancel runs (all unfinished ones without RUN)
  runx resubmit sweep --failed   rerun failed runs in their own directories
"""
SUBCOMMANDS = ("status", "cancel", "resubmit")


def build_parser() -> argparse.ArgumentParser:
    """The launcher's command line, as runx 0.0.11 had it plus a few additions."""
    parser = argparse.ArgumentParser(
        prog="runx",
        description="Expand an experiment YAML into runs, stage the code, and run or submit each job.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("exp_yml", help="experiment YAML: CMD and HPARAMS")
    parser.add_argument("--exp_name", help="experiment name (default: the YAML's base name)")
    parser.add_argument("--tag", help="prefix each run name with this tag")
    parser.add_argument("--no_cooldir", action="store_true", help="name runs by their tag only (no coolname or date)")
    parser.add_argument("--no_run", "-n", action="store_true", help="print the plan, create nothing")
    parser.add_argument("--interactive", "-i", action="store_true", help="run jobs here instead of on a farm")
    parser.add_argument("--farm", help="farm to submit to (overrides FARM)")
    parser.add_argument("--config_file", "-c", help="config file to use instead of ./.runx or ~/.config/runx.yml")
    parser.add_argument("--verbose", "-v", action="store_true", help="with -n, also print the full wrapped command")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="with -i, run N jobs at once (output to each run's job.log)")
    parser.add_argument("--gpus", metavar="LIST", help="with -i -j, GPU ids to share out (default: CUDA_VISIBLE_DEVICES, else nvidia-smi)")
    parser.add_argument("--jobs-per-gpu", type=int, default=1, metavar="K", help="with -i -j, run K jobs on each GPU")
    parser.add_argument("--array", action="store_true", help="on a slurm farm, submit the sweep as one job array")
    parser.add_argument("--resume", action="store_true", help="skip configurations that already have a succeeded, queued or running run")
    parser.add_argument("--seed", type=int, metavar="S", help="seed for hyperparameters drawn from distributions (overrides SWEEP.seed)")
    return parser


def launch_main(args: argparse.Namespace) -> int:
    """Plan, validate, then create and run or submit."""
    from runx.core.config import load_settings
    from runx.core.errors import RunxError
    from runx.core.farms import make_farm
    from runx.core.plan import make_plan

    settings = load_settings(
        args.exp_yml,
        config_file=args.config_file,
        farm=args.farm,
        exp_name=args.exp_name,
        interactive=args.interactive,
    )
    if args.seed is not None:
        settings = settings._replace(sweep={**settings.sweep, "seed": args.seed})
    if args.jobs < 1 or args.jobs_per_gpu < 1:
        raise RunxError("--jobs and --jobs-per-gpu: expected a number of at least 1")
    plan = make_plan(settings, tag=args.tag, no_cooldir=args.no_cooldir)
    if args.resume:
        from runx.core.resume import drop_done

        plan, kept = drop_done(plan)
        sys.stderr.write(f"runx: --resume: {kept} configuration(s) already succeeded, queued or running; {len(plan.runs)} to launch\n")
        if not plan.runs:
            return 0
    farm = make_farm(settings, array=args.array)
    if args.no_run:
        from runx.core.dryrun import show_plan

        show_plan(plan, farm, args.verbose, sys.stdout)
        return 0
    from runx.core.launch import create_runs, run_jobs

    farm.check()
    slots: list = []
    if farm.kind == "local" and args.jobs > 1:
        from runx.core.localpool import detect_gpus, gpu_slots

        slots = gpu_slots(detect_gpus(args.gpus), args.jobs_per_gpu)
    jobs = create_runs(plan, farm, Path.cwd())
    return run_jobs(jobs, farm, sys.stdout, concurrency=args.jobs, slots=slots)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: returns 0 on success, 1 when a job or submission failed, 2 on bad input."""
    from runx.core.errors import RunxError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            from runx.runx.ledger_cli import ledger_main

            return ledger_main(argv)
        args = build_parser().parse_args(argv)
        return launch_main(args)
    except RunxError as err:
        sys.stderr.write(f"runx: error: {err}\n")
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
