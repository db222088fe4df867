"""Finding `.runx`, merging it with the experiment YAML, and validating the result into Settings.

Precedence, highest first: the experiment YAML's top-level keys, the selected farm's section
(the experiment may add to or change it key by key), then the config file's top-level keys.
A relative LOGROOT resolves against the folder of the file that set it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, NamedTuple, Optional, Sequence

from runx.core.errors import RunxError, did_you_mean
from runx.core.naming import name_max
from runx.core.yamlfile import load_yaml
from runx.logx.errors import LogxError
from runx.logx.rundir import config as rundir_config

DEFAULT_IGNORE_PATTERNS = (".git", "*.pyc", "docs*", "test*")
DEFAULT_LOGROOT = rundir_config.NO_CONFIG_LOGROOT
"""LOGROOT when no config is found and the experiment sets none: `logs` beside the experiment file."""
ALWAYS_IGNORED = ("*.pth",)
FARM_KEYS = ("SUBMIT_CMD", "RESOURCES", "PYTHONPATH", "NGC_LOGROOT", "WORKSPACE", "TYPE", "JOB_FLAG", "NAME_FLAG", "ARRAY",
             "ARRAY_MAX_SIZE", "SUBMIT_RATE", "LAUNCHER", "TORCHRUN", "MAX_ATTEMPTS", "SIGNAL")
HPARAMS_ONLY_PREFIXES = ("RUNX.", "SUBMIT_JOB.")
TOP_LEVEL_KEYS = ("CMD", "HPARAMS", "LOGROOT", "FARM", "CODE_IGNORE_PATTERNS", "PYTHONPATH", "METRICS", "SWEEP") + FARM_KEYS


def _unknown_keys(config: Mapping[str, Any], config_path: Optional[Path], experiment: Mapping[str, Any],
                  exp_path: Path, farm_name: Optional[str]) -> list:
    """Warnings for keys runx would ignore: likely typos (`FRAM`, `RESOURCE`), which 0.0.11 ignored silently.

    A top-level key holding a mapping may be a farm section, so only scalar and list values are named,
    unless the key is one letter away from a known key.
    """
    warnings = []
    for source, mapping in ((config_path, config), (exp_path, experiment)):
        if source is None:
            continue
        for key, value in mapping.items():
            if not isinstance(key, str) or key in TOP_LEVEL_KEYS or key.startswith(HPARAMS_ONLY_PREFIXES):
                continue
            hint = did_you_mean(key, TOP_LEVEL_KEYS)
            if hint or not isinstance(value, dict):
                warnings.append(f"{source}: {key}: unknown key, ignored{hint}")
            elif key == farm_name or value.keys() & set(FARM_KEYS):
                for sub in value:
                    if sub not in FARM_KEYS:
                        warnings.append(f"{source}: {key}.{sub}: unknown farm key, ignored{did_you_mean(str(sub), FARM_KEYS)}; "
                                        f"expected one of {', '.join(FARM_KEYS)}")
    return warnings

__all__ = [
    "FarmSettings",
    "Settings",
    "locate_config",
    "config_logroot",
    "load_settings",
    "load_yaml",
    "shell_comment",
    "DEFAULT_IGNORE_PATTERNS",
]


class FarmSettings(NamedTuple):
    """The farm the runs go to: `kind` names its backend (local, generic, ngc, slurm, or a registered one)."""

    name: str
    kind: str
    submit_cmd: str = ""
    resources: Mapping[str, Any] = {}
    job_flag: str = "-c"
    name_flag: Optional[str] = None
    ngc_logroot: Optional[str] = None
    workspace: Optional[str] = None
    source: str = ""
    array: Optional[bool] = None
    """ARRAY: true or false; None lets the farm choose by the sweep's size."""
    array_max_size: Optional[int] = None
    """ARRAY_MAX_SIZE: at most this many runs per job array (None: the scheduler's own limit)."""
    submit_rate: Optional[float] = None
    """SUBMIT_RATE: at most this many submissions per second (0: no limit; None: the farm's default)."""
    launcher: Optional[str] = None
    """LAUNCHER: who starts a multi-node job's processes (torchrun, srun, none; None: the farm's default)."""
    torchrun: str = "torchrun"
    """TORCHRUN: the command that runs torchrun (e.g. `python -m torch.distributed.run`)."""
    max_attempts: int = 3
    """MAX_ATTEMPTS: how many attempts a run gets when the scheduler ends one at its time limit (1: no requeue)."""
    signal: Optional[str] = "USR1@90"
    """SIGNAL: the warning the scheduler sends before the time limit, `<signal>@<seconds>`; None: ask for none."""


class Settings(NamedTuple):
    """Everything the planner needs, validated; pure data."""

    experiment_file: Path
    experiment: str
    config_file: Optional[Path]
    logroot: Path
    cmd: str
    hparams: Any
    farm: FarmSettings
    pythonpath: Optional[str]
    ignore_patterns: tuple
    metric_goals: Mapping[str, str]
    sweep: Mapping[str, Any]
    warnings: tuple = ()
    overrides: tuple = ()
    """The `key=value` overrides of the command line, as given (recorded in run.json)."""
    notes: tuple = ()
    """What the user should know but need not fix (no config found: where runs go)."""
    command_line: tuple = ()
    """The runx command that launches the runs, as typed (`runx sweep.yml -i lr=0.1`; recorded in run.json)."""


def locate_config(explicit: Optional[str], cwd: Optional[Path] = None, home: Optional[Path] = None) -> Optional[Path]:
    """`-c FILE` (must exist), else `.runx` here or in the nearest folder above, else `~/.config/runx.yml`,
    else None (runx.logx.rundir.config owns the lookup)."""
    try:
        found = rundir_config.locate_config(explicit, None if cwd is None else str(cwd), None if home is None else str(home))
    except LogxError as err:
        raise RunxError(str(err)) from None
    return None if found is None else Path(found)


def _resolve_logroot(value: Any, source: Path) -> Path:
    """LOGROOT as every runx program resolves it (runx.logx.rundir.config.resolve_logroot), without control characters."""
    try:
        path = Path(rundir_config.resolve_logroot(value, str(source)))
    except LogxError as err:
        raise RunxError(str(err)) from None
    if any(ord(c) < 32 or c == "\x7f" for c in str(path)):
        raise RunxError(f"{source}: LOGROOT: expected a directory path without line breaks or other control characters "
                        f"(a farm's batch script could not name it), found {str(path)!r}")
    return path


def shell_comment(command: str) -> Optional[int]:
    """Where an unquoted `#` starts a comment as a POSIX shell reads `command` (at the start of a
    word), or None. Quotes and backslashes are followed; `a#b` and `"#"` are no comments."""
    quote: Optional[str] = None
    escaped = False
    word_start = True
    for index, char in enumerate(command):
        if escaped:
            escaped, word_start = False, False
        elif quote == "'":
            quote = None if char == "'" else quote
        elif quote == '"':
            if char == "\\":
                escaped = True
            elif char == '"':
                quote = None
        elif char == "\\":
            escaped, word_start = True, False
        elif char in "'\"":
            quote, word_start = char, False
        elif char == "#" and word_start:
            return index
        else:
            word_start = char.isspace() or char in ";&|()<>"
    return None


def _check_cmd(cmd: Any, exp_path: Path) -> str:
    """CMD as runx uses it: a non-empty command with no shell comment (it would swallow the hyperparameters)."""
    if not isinstance(cmd, str) or not cmd.strip():
        raise RunxError(f"{exp_path}: CMD: expected a non-empty command string, found {cmd!r}")
    comment = shell_comment(cmd)
    if comment is not None:
        raise RunxError(f"{exp_path}: CMD: the shell reads {cmd[comment:]!r} as a comment, which would swallow the "
                        f"hyperparameters runx appends; expected a command without a comment (quote a '#' that belongs "
                        f"to an argument), found {cmd!r}")
    return cmd.strip()


def config_logroot(config_path: Path) -> Path:
    """LOGROOT of a config file, resolved against the file's folder."""
    config = load_yaml(config_path)
    if "LOGROOT" not in config:
        raise RunxError(f"{config_path}: LOGROOT: missing; expected the directory that holds experiments")
    return _resolve_logroot(config["LOGROOT"], config_path)


def _farm_kind(name: str, section: Mapping[str, Any], source: str) -> str:
    """TYPE when it names a farm runx knows, else the kind the section's name and SUBMIT_CMD suggest."""
    from runx.core.farms import infer_kind, known_kinds, lookup

    kind = section.get("TYPE")
    if kind is None:
        return infer_kind(name, str(section.get("SUBMIT_CMD") or ""))
    if isinstance(kind, str):
        try:
            return lookup(kind).kind
        except RunxError:
            pass
    raise RunxError(f"{source}: {name}.TYPE: expected one of {', '.join(known_kinds())}, found {kind!r}")


def _merge_sections(config: Mapping[str, Any], experiment: Mapping[str, Any]) -> dict:
    merged = dict(config)
    for key, value in experiment.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and key not in ("HPARAMS", "RESOURCES"):
            section = dict(old)
            for sub_key, sub_value in value.items():
                if sub_key == "RESOURCES" and isinstance(section.get(sub_key), dict) and isinstance(sub_value, dict):
                    section[sub_key] = {**section[sub_key], **sub_value}
                else:
                    section[sub_key] = sub_value
            merged[key] = section
        else:
            merged[key] = value
    return merged


def _farm_settings(
    farm_name: Optional[str],
    merged: Mapping[str, Any],
    config: Mapping[str, Any],
    experiment: Mapping[str, Any],
    origin,
) -> FarmSettings:
    if farm_name is None or (farm_name == "local" and not isinstance(merged.get("local"), dict)):
        return FarmSettings(name="local", kind="local")
    section = merged.get(farm_name)
    if not isinstance(section, dict):
        known = sorted(k for k, v in merged.items() if isinstance(v, dict) and k not in ("HPARAMS", "RESOURCES"))
        hint = f" (farm sections found: {', '.join(known)})" if known else " (no farm sections found)"
        raise RunxError(f"{origin('FARM')}: FARM: unknown farm {farm_name!r}: expected a section named {farm_name!r}{hint}")
    values = {k: v for k, v in config.items() if k in FARM_KEYS}
    values.update({k: v for k, v in section.items() if k in FARM_KEYS})
    for key in FARM_KEYS:
        if key not in experiment:
            continue
        if key == "RESOURCES" and isinstance(values.get(key), dict) and isinstance(experiment[key], dict):
            values[key] = {**values[key], **experiment[key]}
        else:
            values[key] = experiment[key]
    where = origin(farm_name)
    kind = _farm_kind(farm_name, values, where)
    resources = values.get("RESOURCES") or {}
    if not isinstance(resources, dict):
        if "RESOURCES" in experiment:
            raise RunxError(f"{origin('RESOURCES')}: RESOURCES: expected a mapping of option: value, found {type(resources).__name__}")
        raise RunxError(f"{where}: {farm_name}.RESOURCES: expected a mapping of option: value, found {type(resources).__name__}")
    for key, value in resources.items():
        if not isinstance(key, str) or not key or key.startswith("-") or any(c.isspace() or c == "=" for c in key):
            raise RunxError(f"{where}: {farm_name}.RESOURCES: {key!r} is not an option name; expected e.g. gpu, cpu, mem (each becomes --name value)")
        if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
            raise RunxError(f"{where}: {farm_name}.RESOURCES.{key}: expected a value or a list of values")
    from runx.core.farms import lookup

    farm_class = lookup(kind)
    submit_cmd = values.get("SUBMIT_CMD")
    if not submit_cmd and farm_class.default_submit_cmd:
        submit_cmd = farm_class.default_submit_cmd
    if submit_cmd is not None and (not isinstance(submit_cmd, str) or not submit_cmd.strip()):
        raise RunxError(f"{where}: {farm_name}.SUBMIT_CMD: expected a command string, found {submit_cmd!r}")
    if submit_cmd:
        import shlex

        try:
            shlex.split(submit_cmd)
        except ValueError as err:
            raise RunxError(f"{where}: {farm_name}.SUBMIT_CMD: {str(err).lower()}; expected a command as a shell would read it, found {submit_cmd!r}") from None
    farm_class.check_settings(values, str(submit_cmd or ""), str(where), farm_name)
    job_flag = values.get("JOB_FLAG", "-c")
    if not isinstance(job_flag, str) or not job_flag:
        raise RunxError(f"{where}: {farm_name}.JOB_FLAG: expected the option that carries the job, e.g. '-c'")
    name_flag = values.get("NAME_FLAG")
    if name_flag is not None and not isinstance(name_flag, str):
        raise RunxError(f"{where}: {farm_name}.NAME_FLAG: expected an option such as '--name'")
    return FarmSettings(
        name=farm_name,
        kind=kind,
        submit_cmd=str(submit_cmd or ""),
        resources=dict(resources),
        job_flag=job_flag,
        name_flag=name_flag,
        ngc_logroot=values.get("NGC_LOGROOT"),
        workspace=values.get("WORKSPACE"),
        source=str(where),
        **_array_settings(values, where, farm_name),
        launcher=values.get("LAUNCHER"),
        torchrun=values.get("TORCHRUN") or "torchrun",
        max_attempts=_max_attempts(values.get("MAX_ATTEMPTS", 3), f"{where}: {farm_name}.MAX_ATTEMPTS"),
        signal=_warning_signal(values.get("SIGNAL", "USR1@90"), f"{where}: {farm_name}.SIGNAL"),
    )


def _array_settings(values: Mapping[str, Any], where: Any, farm_name: str) -> dict:
    """ARRAY, ARRAY_MAX_SIZE and SUBMIT_RATE of a farm section, checked."""
    array, size, rate = values.get("ARRAY"), values.get("ARRAY_MAX_SIZE"), values.get("SUBMIT_RATE")
    if array is not None and not isinstance(array, bool):
        raise RunxError(f"{where}: {farm_name}.ARRAY: expected true or false, found {array!r}")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise RunxError(f"{where}: {farm_name}.ARRAY_MAX_SIZE: expected a whole number of runs of at least 1, found {size!r}")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < float("inf")):
        raise RunxError(f"{where}: {farm_name}.SUBMIT_RATE: expected submissions per second (a number, 0 for no limit), found {rate!r}")
    return {"array": array, "array_max_size": size, "submit_rate": None if rate is None else float(rate)}


def _max_attempts(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RunxError(f"{where}: expected a whole number of attempts, at least 1, found {value!r}")
    return value


def _warning_signal(value: Any, where: str) -> Optional[str]:
    """SIGNAL as `<name>@<seconds>` (`USR1@90`), or None for `false`/`null` (ask for no warning)."""
    import re

    if value is None or value is False:
        return None
    match = re.fullmatch(r"(?:SIG)?([A-Z][A-Z0-9]*)@([0-9]{1,5})", value.strip().upper()) if isinstance(value, str) else None
    if match is None or match.group(1) not in ("USR1", "USR2") or int(match.group(2)) < 1:
        raise RunxError(f"{where}: expected <signal>@<seconds before the time limit> such as USR1@90 (USR1 or USR2), "
                        f"or false, found {value!r}")
    return f"{match.group(1)}@{int(match.group(2))}"


def default_ignore_patterns() -> tuple:
    """The patterns in effect when neither the config nor the experiment sets CODE_IGNORE_PATTERNS."""
    return _ignore_patterns(None, "")


def _ignore_patterns(value: Any, where: str) -> tuple:
    if value is None:
        patterns = list(DEFAULT_IGNORE_PATTERNS)
    elif isinstance(value, str):
        patterns = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        patterns = [p.strip() for p in value if p.strip()]
    else:
        raise RunxError(f"{where}: CODE_IGNORE_PATTERNS: expected a comma-separated string or a list of patterns")
    return tuple(dict.fromkeys(patterns + list(ALWAYS_IGNORED)))


def _metric_goals(value: Any, where: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RunxError(f"{where}: METRICS: expected a mapping of metric name: min or max")
    goals = {}
    for name, goal in value.items():
        if goal not in ("min", "max"):
            raise RunxError(f"{where}: METRICS.{name}: expected min or max, found {goal!r}")
        goals[str(name)] = goal
    return goals


def _farm_uses_resources(farm: FarmSettings) -> bool:
    from runx.core.farms import lookup

    return lookup(farm.kind).uses_resources


def load_settings(
    experiment_file: str,
    config_file: Optional[str] = None,
    farm: Optional[str] = None,
    exp_name: Optional[str] = None,
    interactive: bool = False,
    overrides: Sequence[str] = (),
) -> Settings:
    """Read and validate the config and experiment files into Settings (creates nothing); `overrides`
    (`key=value` words, runx.core.overrides) change the experiment's keys first."""
    exp_path = Path(experiment_file)
    if not exp_path.is_file():
        raise RunxError(f"{experiment_file}: experiment file not found")
    config_path = locate_config(config_file)
    config = load_yaml(config_path) if config_path else {}
    experiment = load_yaml(exp_path)
    override_warnings: list = []
    notes: list = []
    overridden: set = set()
    if overrides:
        from runx.core.overrides import apply_overrides, parse_overrides

        parsed = parse_overrides(overrides)
        experiment, override_warnings = apply_overrides(experiment, parsed, str(exp_path))
        overridden = {o.key.split(".", 1)[0] for o in parsed}

    def origin(key: str) -> str:
        if key in overridden:
            return "the command line"
        if key in experiment or config_path is None:
            return str(exp_path)
        return str(config_path)

    if "LOGROOT" in experiment:
        logroot = _resolve_logroot(experiment["LOGROOT"], exp_path)
    elif config_path is None:
        logroot = _resolve_logroot(DEFAULT_LOGROOT, exp_path)
        notes.append(f"no config found ({rundir_config.LOOKUP}), so runs go to {logroot} beside {exp_path.name} "
                     f"(runx status, runx ls and sumx find them when run from {logroot.parent}, elsewhere with --logroot {logroot}; LOGROOT in a .runx sets another)")
    elif "LOGROOT" not in config:
        raise RunxError(f"{config_path}: LOGROOT: missing; expected the directory that holds experiments")
    else:
        logroot = _resolve_logroot(config["LOGROOT"], config_path)

    cmd = experiment.get("CMD")
    if cmd is None:
        raise RunxError(f"{exp_path}: CMD: missing; expected the training command, e.g. CMD: 'python train.py'")
    cmd = _check_cmd(cmd, exp_path)
    if "HPARAMS" not in experiment:
        near = [k for k in experiment if isinstance(k, str) and did_you_mean(k, ("HPARAMS",))]
        found = f" (found {near[0]}: did you mean HPARAMS?)" if near else ""
        raise RunxError(f"{exp_path}: HPARAMS: missing{found}; expected a mapping of hyperparameters or a list of them")
    hparams = experiment["HPARAMS"]
    if hparams is None or (isinstance(hparams, (dict, list)) and len(hparams) == 0):
        raise RunxError(f"{exp_path}: HPARAMS: empty; expected at least one hyperparameter")
    if not isinstance(hparams, (dict, list)):
        raise RunxError(f"{exp_path}: HPARAMS: expected a mapping or a list of mappings, found {type(hparams).__name__}")

    merged = _merge_sections(config, experiment)
    farm_name = farm if farm is not None else merged.get("FARM")
    if farm_name is not None and not isinstance(farm_name, str):
        raise RunxError(f"{origin('FARM')}: FARM: expected a farm name, found {farm_name!r}")
    farm_settings = _farm_settings(None if interactive else farm_name, merged, config, experiment, origin)

    pythonpath = merged.get("PYTHONPATH")
    if farm_name is not None and isinstance(merged.get(farm_name), dict) and "PYTHONPATH" in merged[farm_name]:
        pythonpath = merged[farm_name]["PYTHONPATH"]
    if "PYTHONPATH" in experiment:
        pythonpath = experiment["PYTHONPATH"]
    if pythonpath is not None and not isinstance(pythonpath, str):
        raise RunxError(f"{origin('PYTHONPATH')}: PYTHONPATH: expected a colon-separated string of paths")

    name = exp_name if exp_name is not None else exp_path.stem
    if not name or "/" in name or name.startswith(".") or any(ord(c) < 32 or c == "\x7f" for c in name):
        where = "--exp_name" if exp_name is not None else f"{exp_path}: the experiment's name (its file name; --exp_name sets another)"
        raise RunxError(f"{where}: expected a plain directory name (no '/', no leading '.', no control characters), found {name!r}")
    size, limit = len(name.encode("utf-8", "surrogateescape")), name_max(logroot)
    if size > limit:
        where = "--exp_name" if exp_name is not None else f"{exp_path}: the experiment's name (its file name; --exp_name sets another)"
        raise RunxError(f"{where}: expected a name of at most {limit} bytes (the longest file name in {logroot}), "
                        f"found one of {size} bytes: {name[:40]!r}...")

    sweep = experiment.get("SWEEP", {})
    if not isinstance(sweep, dict):
        raise RunxError(f"{exp_path}: SWEEP: expected a mapping of sweep options")
    warnings = tuple(
        override_warnings
        + [f"{exp_path}: {key}: ignored at the top level; it belongs inside HPARAMS (in each mapping it applies to)"
         for key in experiment if isinstance(key, str) and key.startswith(HPARAMS_ONLY_PREFIXES)]
        + _unknown_keys(config, config_path, experiment, exp_path, farm_name)
        + ([f"{exp_path}: RESOURCES: ignored, jobs run here (no farm)"]
           if "RESOURCES" in experiment and not _farm_uses_resources(farm_settings) else [])
    )

    return Settings(
        experiment_file=exp_path,
        experiment=name,
        config_file=config_path,
        logroot=logroot,
        cmd=cmd,
        hparams=hparams,
        farm=farm_settings,
        pythonpath=pythonpath,
        ignore_patterns=_ignore_patterns(merged.get("CODE_IGNORE_PATTERNS"), origin("CODE_IGNORE_PATTERNS")),
        metric_goals={**_metric_goals(config.get("METRICS"), config_path or exp_path), **_metric_goals(experiment.get("METRICS"), exp_path)},
        sweep=sweep,
        warnings=warnings,
        overrides=tuple(overrides),
        notes=tuple(notes),
    )
