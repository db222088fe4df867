"""runx's subcommands for finding and managing runs, one module each; runx.runx.cli wires them.

Each module has `parser() -> Parser` and `run(args) -> int` (0 ok, 1 when an action failed); bad input
raises RunxError, which runx.runx.main prints as one line (exit 2).
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["COMMANDS", "command_module"]

COMMANDS = {
    "ls": "runx.runx.commands.ls",
    "show": "runx.runx.commands.show",
    "diff": "runx.runx.commands.diff",
    "note": "runx.runx.commands.note",
    "rm": "runx.runx.commands.rm",
    "restore": "runx.runx.commands.rm",
}
"""Subcommand name -> its module."""


def command_module(name: str) -> ModuleType:
    """The module of subcommand `name` (imported on first use)."""
    return importlib.import_module(COMMANDS[name])
