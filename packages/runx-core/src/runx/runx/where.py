"""`runx --where [EXP_YML] [-c FILE]`: which config runx uses from here, and the LOGROOT it gives."""
from __future__ import annotations

from argparse import Namespace
from typing import TextIO

from runx.core.text import printable

__all__ = ["show_where"]


def show_where(args: Namespace, out: TextIO) -> None:
    """Print the config file found (and where it was looked for), then LOGROOT: the experiment's when
    EXP_YML is given, else the config's."""
    import os

    from runx.core.config import DEFAULT_LOGROOT, config_logroot, load_settings
    from runx.core.errors import RunxError
    from runx.logx.errors import LogxError
    from runx.logx.rundir.config import look_up_config

    try:
        lookup = look_up_config(args.config_file)
    except LogxError as err:
        raise RunxError(str(err)) from None
    lines = []
    if lookup.explicit:
        lines.append(f"config: {lookup.path} (given with -c)")
    elif lookup.path is not None:
        lines.append(f"config: {lookup.path} (found from {os.getcwd()})")
    else:
        lines.append(f"config: none (looked for .runx in {os.getcwd()} and every folder above it, "
                     f"then {lookup.searched[-1]})")
    lines += [f"passed over: {path} (owned by another user)" for path in lookup.passed_over]
    if args.exp_yml is not None:
        settings = load_settings(args.exp_yml, config_file=args.config_file, overrides=args.overrides)
        lines.append(f"LOGROOT: {settings.logroot}")
    elif lookup.path is not None:
        from pathlib import Path

        lines.append(f"LOGROOT: {config_logroot(Path(lookup.path))}")
    else:
        lines.append(f"LOGROOT: none configured; a launch uses ./{DEFAULT_LOGROOT} beside the experiment file")
    out.write("".join(printable(line) + "\n" for line in lines))
