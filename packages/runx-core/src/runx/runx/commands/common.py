"""What the subcommands share: where LOGROOT and an experiment are, reading its runs, naming one, printing values."""
from __future__ import annotations

import json
import os
from argparse import Namespace
from pathlib import Path
from typing import Any, Iterable, List, Optional

from runx.core.argparser import Parser
from runx.core.errors import RunxError, did_you_mean
from runx.core.ledger import LedgerEntry
from runx.core.text import printable

__all__ = ["add_location_options", "logroot", "experiment_dir", "read_experiment", "run_key", "find_run", "record_hparams", "comparable_hparams",
           "select_runs", "value_text", "hparams_text", "differing_keys", "json_value", "print_json"]

DISTRIBUTION = "runx-core"
SPELLING = "Every --long_option may also be written with hyphens (--no-run, --exp-name)."


def new_parser(command: str, usage: str, description: str, examples: str) -> Parser:
    """A subcommand's parser with runx's conventions."""
    return Parser(f"runx {command}", f"%(prog)s {usage}", description + "\n" + SPELLING, examples, DISTRIBUTION)


def add_location_options(p: Parser) -> None:
    """--logroot and -c, as every subcommand takes them."""
    p.add_argument("--logroot", metavar="DIR", help="directory holding the experiments (default: LOGROOT of the config)")
    p.add_argument("-c", "--config_file", metavar="FILE", help="config file instead of .runx (here or in a folder above) or ~/.config/runx.yml")


def logroot(args: Namespace) -> Path:
    """--logroot, else LOGROOT of the config runx finds (-c, .runx here or above, ~/.config/runx.yml), else ./logs
    when there is no config and that folder exists (where a launch with no config puts its runs)."""
    if args.logroot:
        return Path(args.logroot)
    from runx.core.config import config_logroot, locate_config

    config = locate_config(args.config_file)
    if config is None:
        from runx.logx.rundir.config import logroot_without_config

        found = logroot_without_config()
        if found is None:
            raise RunxError("no --logroot and no config found (tried -c, .runx here or in a folder above, ~/.config/runx.yml, "
                            "and ./logs, where a launch with no config puts its runs)")
        return Path(found)
    return config_logroot(config)


def experiment_dir(args: Namespace) -> Path:
    """The directory of `args.experiment`: a name below LOGROOT, or a path to an experiment directory."""
    given = Path(args.experiment)
    as_path = given.is_dir() and (given.is_absolute() or args.logroot is None and "/" in args.experiment)
    if as_path:  # a path: anything but the current directory itself
        refused = all(p in ("", ".") for p in args.experiment.split("/"))
    else:  # a name: it must lead below LOGROOT
        normal = os.path.normpath(args.experiment.strip() or ".")
        refused = normal in (".", "..") or normal.startswith(("../", "/"))
    if refused:
        raise RunxError(f"EXPERIMENT: expected an experiment name below LOGROOT or a path to one, found {args.experiment!r}")
    return given if as_path else logroot(args) / args.experiment


def read_experiment(exp_dir: Path, ask_farms: bool = True) -> List[LedgerEntry]:
    """The experiment's runs (runx.core.ledger); RunxError when the folder holds several experiments' runs."""
    from runx.core.ledger import read_ledger

    entries = read_ledger(exp_dir, ask_farms=ask_farms)
    experiments = sorted({str(e.record["experiment"]) for e in entries if e.record.get("experiment")})
    if len(experiments) > 1:
        shown = ", ".join(experiments[:5]) + (", ..." if len(experiments) > 5 else "")
        raise RunxError(f"{exp_dir}: holds the runs of {len(experiments)} experiments ({shown}); name one of them")
    return entries


def run_key(entry: LedgerEntry, exp_dir: Path) -> str:
    """How a run is named on the command line: its folder's path below the experiment (`tag/run` when nested)."""
    return entry.run_dir.relative_to(exp_dir).as_posix()


def find_run(entries: List[LedgerEntry], exp_dir: Path, name: str) -> LedgerEntry:
    """The run named `name` (its folder below the experiment, or its recorded name); RunxError otherwise."""
    return select_runs(entries, exp_dir, [name])[0]


def select_runs(entries: List[LedgerEntry], exp_dir: Path, names: Iterable[str]) -> List[LedgerEntry]:
    """The runs named, in the order named: by folder below the experiment, by recorded name, or by a prefix
    of exactly one run's folder name (`runx show sweep elegant-piculet`); RunxError naming what matches no run."""
    by_key = {run_key(e, exp_dir): e for e in entries}
    for e in entries:
        by_key.setdefault(e.run_dir.name, e)
        by_key.setdefault(e.name, e)
    chosen: dict = {}
    missing = []
    for name in names:
        key = name.rstrip("/")
        if key not in by_key:
            prefixed = {id(e): e for k, e in by_key.items() if key and k.startswith(key)}
            if len(prefixed) > 1:
                raise RunxError(printable(f"{exp_dir}: {name!r} is the start of {len(prefixed)} run names; "
                                          "expected one run's name"))
            key = next((k for k, e in by_key.items() if key and k.startswith(key)), key)
        if key in by_key:
            chosen.setdefault(by_key[key].run_dir, by_key[key])
        else:
            missing.append(name)
    if missing:
        hint = did_you_mean(missing[0], by_key) if len(missing) == 1 else ""
        raise RunxError(printable(f"{exp_dir}: no run named {', '.join(missing)}{hint}"))
    return list(chosen.values())


def record_hparams(entry: LedgerEntry) -> dict:
    """The hyperparameters run.json records for the run ({} when it records none)."""
    hparams = entry.record.get("hparams")
    return hparams if isinstance(hparams, dict) else {}


def comparable_hparams(entry: LedgerEntry) -> dict:
    """The run's hyperparameters with its own directory written as LOGDIR (as the YAML had it), so that
    `logdir: LOGDIR` is the same in every run (runx.core.resume compares configurations the same way)."""
    logdir = entry.record.get("job_logdir")
    if not isinstance(logdir, str) or not logdir:
        return record_hparams(entry)
    return {k: v.replace(logdir, "LOGDIR") if isinstance(v, str) else v for k, v in record_hparams(entry).items()}


def value_text(value: Any) -> str:
    """A hyperparameter or metric value as one short printable word: JSON for lists and mappings."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else str(value)
    return printable(json.dumps(json_value(value), sort_keys=True, ensure_ascii=False))


def hparams_text(hparams: dict, keys: Optional[Iterable[str]] = None) -> str:
    """`k=v k=v` for `keys` (all by default), printable."""
    return " ".join(f"{printable(str(k))}={value_text(hparams[k])}" for k in (hparams if keys is None else keys) if k in hparams)


def _identity(value: Any) -> str:
    return json.dumps(json_value(value), sort_keys=True) + type(value).__name__


def differing_keys(hparam_sets: List[dict]) -> List[str]:
    """Keys whose values are not the same in every set (missing counts as a value), in first-seen order."""
    if len(hparam_sets) < 2:
        return []
    keys: dict = {}
    for hp in hparam_sets:
        keys.update(dict.fromkeys(hp))
    missing = "\0missing"
    return [k for k in keys if len({_identity(hp[k]) if k in hp else missing for hp in hparam_sets}) > 1]


def json_value(value: Any) -> Any:
    """A value as strict JSON holds it: NaN and ±inf as "nan", "inf", "-inf" (as the run directory stores them)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def print_json(doc: Any) -> None:
    """One strict JSON document on stdout (the real values, not made printable: JSON escapes control characters)."""
    print(json.dumps(json_value(doc), indent=1, allow_nan=False))
