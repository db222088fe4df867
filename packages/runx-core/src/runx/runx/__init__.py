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
  runx sweep.yml             submit every job to the FARM named in .runx
  runx sweep.yml --tag lr    name the runs lr_<coolname>_<date>
"""


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
    return parser


def launch_main(args: argparse.Namespace) -> int:
    """Plan, validate, then create and run or submit."""
    from runx.core.config import load_settings
    from runx.core.farms import make_farm
    from runx.core.plan import make_plan

    settings = load_settings(
        args.exp_yml,
        config_file=args.config_file,
        farm=args.farm,
        exp_name=args.exp_name,
        interactive=args.interactive,
    )
    plan = make_plan(settings, tag=args.tag, no_cooldir=args.no_cooldir)
    farm = make_farm(settings)
    if args.no_run:
        from runx.core.dryrun import show_plan

        show_plan(plan, farm, args.verbose, sys.stdout)
        return 0
    from runx.core.launch import create_runs, run_jobs

    farm.check()
    jobs = create_runs(plan, farm, Path.cwd())
    return run_jobs(jobs, farm, args.interactive)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: returns 0 on success, 1 when a job or submission failed, 2 on bad input."""
    from runx.core.errors import RunxError

    args = build_parser().parse_args(argv)
    try:
        return launch_main(args)
    except RunxError as err:
        sys.stderr.write(f"runx: error: {err}\n")
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
