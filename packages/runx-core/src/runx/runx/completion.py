"""Shell completion for `runx` and `sumx` through argcomplete (the optional extra `runx-core[completion]`).

The shell hook (`eval "$(register-python-argcomplete runx)"`) runs the program with `_ARGCOMPLETE` set and the
command line in COMP_LINE/COMP_POINT; `main()` then calls `complete()` before anything else, which writes the
candidates to the hook (argcomplete's protocol) and exits. Candidates: subcommands, options, experiment YAMLs,
experiment names below LOGROOT and run names of the experiment on the line.
"""
from __future__ import annotations

import argparse
import os
import sys
from argparse import Namespace
from typing import Any, Callable, List, Optional

from runx.core.argparser import Parser

__all__ = ["complete", "experiment_names", "run_names"]


def _root(parsed_args: Namespace) -> Any:
    from runx.runx.commands.common import logroot

    return logroot(Namespace(logroot=getattr(parsed_args, "logroot", None), config_file=getattr(parsed_args, "config_file", None)))


def experiment_names(prefix: str, parsed_args: Namespace, **_: Any) -> List[str]:
    """The experiments below LOGROOT (of --logroot, -c or the config found) whose names start with `prefix`."""
    from runx.runx.commands.ls import experiments_under

    try:
        return [p.name for p in experiments_under(_root(parsed_args)) if p.name.startswith(prefix)]
    except Exception:  # no config, an unreadable LOGROOT: nothing to offer, never a traceback in the shell
        return []


_VALUED = ("--logroot", "-c", "--config_file", "--config-file")


def _experiment_on_line() -> str:
    """The first word after the subcommand that is neither an option nor an option's value (argcomplete's
    partial parse may not have stored it yet)."""
    import argcomplete

    words = argcomplete.split_line(os.environ.get("COMP_LINE", ""), int(os.environ.get("COMP_POINT", "0") or 0))[3]
    skip = False
    for word in words[1:]:
        if skip or word.startswith("-"):
            skip = not skip and word in _VALUED
            continue
        return word
    return ""


def run_names(prefix: str, parsed_args: Namespace, **_: Any) -> List[str]:
    """The runs of the experiment already on the command line whose names start with `prefix`."""
    from runx.core.ledger import find_runs

    try:
        exp_dir = _root(parsed_args) / (getattr(parsed_args, "experiment", None) or _experiment_on_line())
        return [n for n in (p.relative_to(exp_dir).as_posix() for p in find_runs(exp_dir)) if n.startswith(prefix)]
    except Exception:
        return []


def _first_words(prefix: str, **_: Any) -> List[str]:
    """The first word of `runx ...`: a subcommand or an experiment YAML (or a folder on the way to one)."""
    from argcomplete.completers import FilesCompleter

    from runx.runx.cli import SUBCOMMANDS

    return [c for c in SUBCOMMANDS if c.startswith(prefix)] + list(FilesCompleter(("yml", "yaml"))(prefix))


def _completes(action: argparse.Action, completer: Optional[Callable[..., List[str]]]) -> None:
    """Give an argument its completer (argcomplete reads the action's `completer` attribute)."""
    action.completer = completer  # type: ignore[attr-defined]


def _runx_parser(words: List[str]) -> Parser:
    """The parser of the subcommand on the line (`runx show ...`), else the launcher's, with completers set."""
    from runx.runx.cli import LEDGER_COMMANDS, SUBCOMMANDS, launcher_parser, ledger_parser

    if len(words) > 1 and words[1] in SUBCOMMANDS:
        if words[1] in LEDGER_COMMANDS:
            p = ledger_parser(words[1])
        else:
            from runx.runx.commands import command_module

            p = command_module(words[1]).parser(words[1])
        required = {dest for dest, _, _, many, needed in p.positionals if needed and not many}
        for dest, action in p.positional_actions.items():
            _completes(action, experiment_names if dest == "experiment" else run_names if dest in (
                "run", "runs", "run_a", "run_b") else None)
            if dest in required:
                action.nargs = None  # one word each, so that after EXPERIMENT the next word is completed as RUN
        return p
    p = launcher_parser()
    _completes(p.positional_actions["exp_yml"], _first_words)
    p.positional_actions["exp_yml"].nargs = None  # the first word is the YAML; KEY=VALUE words come after it
    for dest, action in p.positional_actions.items():
        if dest != "exp_yml":
            _completes(action, _nothing)
    return p


def _nothing(prefix: str, **_: Any) -> List[str]:
    """No candidates (KEY=VALUE overrides are the user's to write)."""
    return []


def complete(prog: str) -> None:
    """Answer the shell's completion request for `prog` ("runx" or "sumx") and exit; exit 1 without argcomplete."""
    try:
        import argcomplete
    except ImportError:
        sys.exit(1)
    line, point = os.environ.get("COMP_LINE", ""), int(os.environ.get("COMP_POINT", "0") or 0)
    words = argcomplete.split_line(line, point)[3]
    if prog == "sumx":
        from runx.sumx.cli import sumx_parser

        parser = sumx_parser()
        _completes(parser.positional_actions["experiments"], experiment_names)
    else:
        parser = _runx_parser(words)
        if len(words) > 1 and parser.prog != "runx":  # argcomplete sees `runx <rest>` for `runx show <rest>`
            cut = line.index(words[1], len(words[0]))
            rest = line[cut + len(words[1]):].lstrip(" ")
            os.environ["COMP_LINE"] = line[:cut] + rest
            os.environ["COMP_POINT"] = str(max(0, point - (len(line) - len(line[:cut] + rest))))
    argcomplete.autocomplete(parser)
    sys.exit(0)  # argcomplete exits itself when it answered; here only when it was not asked
