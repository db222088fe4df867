"""runx's command lines: the launcher (`runx EXP.yml ...`) and `runx status|cancel|resubmit EXP ...`;
the other subcommands (ls, show, diff, note, rm, restore) have their parsers in runx.runx.commands."""
from __future__ import annotations

from runx.core.argparser import Converted, Parser, integer
from runx.core.overrides import looks_like_override
from runx.runx.commands import COMMANDS

__all__ = ["SUBCOMMANDS", "launcher_parser", "ledger_parser"]

DISTRIBUTION = "runx-core"
LEDGER_COMMANDS = ("status", "cancel", "resubmit")
SUBCOMMANDS = (*LEDGER_COMMANDS, *COMMANDS)
SPELLING = "Every --long_option may also be written with hyphens (--no-run, --exp-name)."
LAUNCH_EXAMPLES = """\
examples:
  runx sweep.yml -n          print the commands of every run, create nothing
  runx sweep.yml -i          run every job here, one after another
  runx sweep.yml -i -j 4     run 4 jobs at a time (one per GPU where there are GPUs)
  runx sweep.yml             submit every job to the FARM named in .runx
  runx sweep.yml --tag lr    name the runs lr_<coolname>_<date>
  runx sweep.yml lr=0.1,0.2 epochs=3   override HPARAMS (a comma makes a sweep axis)
  runx sweep.yml FARM=slurm RESOURCES.gpu=4   override top-level keys
  runx sweep.yml --resume    launch only configurations with no succeeded or live run
  runx --where               which config runx uses from here, and its LOGROOT

  runx ls                    the experiments under LOGROOT; runx ls sweep: its runs
  runx show sweep RUN        everything about one run; runx diff sweep RUN_A RUN_B
  runx status sweep          the state of every run of experiment sweep
  runx cancel sweep [RUN..]  cancel runs (all unfinished ones without RUN)
  runx note sweep RUN "text"     keep a note with a run (every command: docs/cli.md)
  runx rm sweep --failed         move failed runs to the trash (runx restore brings them back)
  runx resubmit sweep --failed   rerun failed runs in their own directories
"""
DESCRIPTIONS = {
    "status": "Show the state of every run of an experiment.",
    "cancel": "Cancel runs of an experiment (every queued or running one when no RUN is named).",
    "resubmit": "Rerun runs of an experiment in their own directories.",
}
EXAMPLES = {
    "status": "examples: runx status sweep\n          runx status sweep --json",
    "cancel": "examples: runx cancel sweep            (every queued or running run)\n          runx cancel sweep RUN_NAME",
    "resubmit": "examples: runx resubmit sweep --failed\n          runx resubmit sweep --failed -n   (only show what would be resubmitted)\n"
                "          runx resubmit sweep RUN_NAME",
}


def launcher_parser() -> Parser:
    """`runx EXP_YML [options]`: runx 0.0.11's options plus a few additions."""
    p = Parser("runx", "%(prog)s [options] EXP_YML [KEY=VALUE ...]",
               "Expand an experiment YAML into runs, stage the code, and run or submit each job.\n" + SPELLING,
               LAUNCH_EXAMPLES, DISTRIBUTION)
    p.add_positional("exp_yml", "EXP_YML", "experiment YAML: CMD and HPARAMS", unless="where")
    p.add_positional("overrides", "KEY=VALUE",
                     "change the experiment for this launch: lr=0.1,0.2 (a comma makes a sweep axis), flag=true, "
                     "x=null (removes x), FARM=slurm, RESOURCES.gpu=4, SWEEP.trials=20", many=True, required=False,
                     check=looks_like_override)
    p.add_argument("--exp_name", help="experiment name (default: the YAML's base name)")
    p.add_argument("--tag", help="prefix each run name with this tag")
    p.add_argument("--no_cooldir", action="store_true", help="name runs by their tag only (no coolname or date)")
    p.add_argument("-n", "--no_run", action="store_true", help="print the plan, create nothing")
    p.add_argument("-i", "--interactive", action="store_true", help="run jobs here instead of on a farm")
    p.add_argument("--farm", help="farm to submit to (overrides FARM)")
    p.add_argument("-c", "--config_file", metavar="FILE", help="config file to use instead of .runx (here or in a folder above) or ~/.config/runx.yml")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="with -n, also print the full wrapped command, the config file used and LOGROOT")
    p.add_argument("--where", action="store_true",
                   help="print which config file runx uses from here (-c, else .runx here or in a folder above, else "
                        "~/.config/runx.yml) and LOGROOT (EXP_YML's, when given), then exit")
    p.add_argument("-j", "--jobs", action=Converted, convert=integer, expects="an integer", default=1, metavar="N",
                   help="with -i, run N jobs at once (output to each run's job.log)")
    p.add_argument("--gpus", metavar="LIST", help="with -i -j, GPU ids to share out (default: CUDA_VISIBLE_DEVICES, else nvidia-smi)")
    p.add_argument("--jobs-per-gpu", action=Converted, convert=integer, expects="an integer", default=1, metavar="K",
                   help="with -i -j, run K jobs on each GPU")
    p.add_argument("--array", action="store_const", const=True, default=None,
                   help="on a slurm or sge farm, submit the sweep as job arrays (default: above 100 runs)")
    p.add_argument("--no-array", dest="array", action="store_const", const=False,
                   help="on a slurm or sge farm, submit one job per run however large the sweep")
    p.add_argument("--fail_fast", action="store_true",
                   help="once a run fails, launch no more and cancel this launch's pending runs (-i: those not started; "
                        "on a farm runx stays to watch the runs and cancels those still queued)")
    p.add_argument("--resume", action="store_true",
                   help="skip configurations that already have a succeeded, queued or running run")
    p.add_argument("--seed", action=Converted, convert=integer, expects="an integer", metavar="S",
                   help="seed for hyperparameters drawn from distributions (overrides SWEEP.seed)")
    p.add_argument("--max_runs", action=Converted, convert=integer, expects="an integer", metavar="N",
                   help="launch a sweep of up to N runs (default 100,000; a bigger sweep is refused before it is expanded)")
    return p


def ledger_parser(command: str) -> Parser:
    """`runx status|cancel|resubmit EXPERIMENT ...`."""
    runs = " [RUN ...]" if command != "status" else ""
    p = Parser(f"runx {command}", f"%(prog)s [options] EXPERIMENT{runs}", DESCRIPTIONS[command] + "\n" + SPELLING,
               EXAMPLES[command], DISTRIBUTION)
    p.add_positional("experiment", "EXPERIMENT", "experiment name below LOGROOT (or a path to its directory)")
    if command != "status":
        p.add_positional("runs", "RUN", "run names (default: see below)", many=True, required=False)
    if command == "resubmit":
        p.add_argument("--failed", action="store_true", help="every failed or cancelled run")
        p.add_argument("-n", "--no_run", action="store_true", help="show what would be resubmitted, change nothing")
    if command == "status":
        p.add_argument("--json", action="store_true", help="print the runs as JSON (times in Unix seconds)")
    p.add_argument("--logroot", metavar="DIR", help="directory holding the experiments (default: LOGROOT of the config)")
    p.add_argument("-c", "--config_file", metavar="FILE", help="config file instead of .runx (here or in a folder above) or ~/.config/runx.yml")
    return p
