"""Turning hyperparameters and resources into argv lists, and argv into shell text."""
from __future__ import annotations

import shlex
from typing import Any, Iterable, Mapping

from runx.core.sweep import render_value

__all__ = ["hparam_args", "resource_args", "shell_join", "display_quote", "substitute_logdir"]

_DOUBLE_QUOTE_UNSAFE = set('"$`\\!\n')


def hparam_args(hparams: Mapping[str, Any]) -> list:
    """`--key value` per hyperparameter; true is a bare flag; false, null and 'None' are omitted."""
    args = []
    for key, value in hparams.items():
        if value is True:
            args.append(f"--{key}")
        elif value is False or value is None or value == "None":
            continue
        else:
            args += [f"--{key}", render_value(value)]
    return args


def resource_args(resources: Mapping[str, Any]) -> list:
    """`--key value` per resource; lists repeat the option; true is a bare flag; false/null omitted."""
    args = []
    for key, value in resources.items():
        for item in value if isinstance(value, list) else [value]:
            if item is True:
                args.append(f"--{key}")
            elif item is False or item is None:
                continue
            else:
                args += [f"--{key}", render_value(item)]
    return args


def shell_join(args: Iterable[str]) -> str:
    """Quote each argument so a POSIX shell gives back exactly these strings."""
    return " ".join(shlex.quote(a) for a in args)


def display_quote(text: str) -> str:
    """Quote for reading: double quotes where that is exact (as the seed README shows), else shlex."""
    if not text or _DOUBLE_QUOTE_UNSAFE & set(text):
        return shlex.quote(text)
    if shlex.quote(text) == text:
        return text
    return f'"{text}"'


def substitute_logdir(value: Any, logdir: str) -> Any:
    """Replace the word LOGDIR in a string value with the run's log directory."""
    if isinstance(value, str) and "LOGDIR" in value:
        return value.replace("LOGDIR", logdir)
    if isinstance(value, list):
        return [substitute_logdir(v, logdir) for v in value]
    return value
