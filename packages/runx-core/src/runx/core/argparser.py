"""argparse, as runx's and sumx's command lines use it.

- Every long option keeps runx 0.0.11's spelling (`--no_run`, `--exp_name`) and accepts its twin
  with the other separator (`--no-run`); an abbreviation of both twins (`--exp`) means that option,
  where argparse alone would call it ambiguous.
- `--version` prints the installed distribution's version (importlib.metadata, read when asked).
- A value that does not convert is reported as `-j x: expected an integer`.
- A usage error raises UsageError (argparse's usage line and the error), never exits the process.
- Positionals are checked after parsing, so options may come between them (`runx cancel EXP
  --logroot DIR RUN`) and a missing one says what it is (`expected EXPERIMENT: experiment name`).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

from runx.core.errors import RunxError

__all__ = ["Parser", "UsageError", "integer", "positive_number"]


class UsageError(RunxError):
    """A command line that does not parse; `report` is the usage line and `PROG: error: MESSAGE`."""

    def __init__(self, prog: str, usage: str, message: str) -> None:
        super().__init__(message)
        self.report = f"{usage}{prog}: error: {message}\n"


def integer(text: str) -> int:
    """A whole number (ValueError otherwise)."""
    return int(text)


def positive_number(text: str) -> float:
    """A number greater than zero (ValueError otherwise)."""
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def twins(*names: str) -> List[str]:
    """`names` with each long option's twin added after it: `--no_run` gets `--no-run` and back."""
    out: List[str] = []
    for name in names:
        out.append(name)
        if name.startswith("--"):
            for a, b in (("_", "-"), ("-", "_")):
                twin = "--" + name[2:].replace(a, b)
                if twin not in out and twin not in names:
                    out.append(twin)
    return out


class Converted(argparse.Action):
    """Store `convert(value)` (append it with `append=True`); a value it rejects is a usage error that
    names the option as given: `-j x: expected an integer`."""

    def __init__(self, option_strings: Sequence[str], dest: str, convert: Callable[[str], Any],
                 expects: str, append: bool = False, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.convert = convert
        self.expects = expects
        self.append = append

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        value = values
        if isinstance(values, str):
            try:
                value = self.convert(values)
            except ValueError:
                parser.error(f"{option_string} {values}: expected {self.expects}")
        if self.append:
            value = [*(getattr(namespace, self.dest, None) or []), value]
        setattr(namespace, self.dest, value)


class Version(argparse.Action):
    """`--version`: `PROG VERSION` on stdout, the version of the installed `distribution`."""

    def __init__(self, option_strings: Sequence[str], dest: str, distribution: str, help: Optional[str] = None) -> None:
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, default=argparse.SUPPRESS, help=help)
        self.distribution = distribution

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(self.distribution)
        except PackageNotFoundError:
            found = "(not installed)"
        sys.stdout.write(f"{parser.prog} {found}\n")
        parser.exit()


def _is_option(word: str) -> bool:
    """Whether an argument argparse left over is an option (a negative number is not)."""
    if not word.startswith("-") or word == "-":
        return False
    try:
        float(word)
    except ValueError:
        return True
    return False


def terminal_width() -> int:
    """The terminal's width as `shutil.get_terminal_size` finds it ($COLUMNS, then stdout's terminal, else 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    try:
        return (os.get_terminal_size(stdout.fileno()).columns if stdout is not None else 0) or 80
    except (AttributeError, ValueError, OSError):
        return 80


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter given the terminal's width, so building a parser does not import shutil
    (argparse makes a formatter at every add_argument, and asks shutil for the width when not given one)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: Optional[int] = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_width() if width is None else width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with runx's conventions (see the module docstring)."""

    def __init__(self, prog: str, usage: str, description: str, epilog: str, distribution: str) -> None:
        self.long_options: Dict[str, argparse.Action] = {}
        self.positionals: List[Tuple[str, str, str, bool, bool]] = []  # dest, metavar, help, many, required
        self.waivers: Dict[str, str] = {}  # positional dest -> the option whose presence makes it optional
        self.checks: Dict[str, Callable[[str], bool]] = {}  # list positional dest -> what each word must pass
        self.positional_actions: Dict[str, argparse.Action] = {}  # by dest (shell completion sets their completers)
        super().__init__(prog=prog, usage=usage, description=description, epilog=epilog,
                         formatter_class=Formatter)
        self.add_argument("--version", action=Version, distribution=distribution, help="show the version and exit")

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """argparse's add_argument; long option names also get their twin (`--no_run`, `--no-run`)."""
        if args and args[0].startswith("-"):
            args = tuple(twins(*args))
        action = super().add_argument(*args, **kwargs)
        self.long_options.update((name, action) for name in action.option_strings if name.startswith("--"))
        return action

    def add_positional(self, dest: str, metavar: str, help: str, many: bool = False, required: bool = True,
                       unless: Optional[str] = None, check: Optional[Callable[[str], bool]] = None) -> None:
        """One positional argument, or with `many` a list of them (options may come between them); a
        required one may be left out when option `unless` is given; a word of a list that fails
        `check` is an unrecognized argument."""
        self.positional_actions[dest] = self.add_argument(dest, nargs="*" if many else "?", metavar=metavar, help=help)
        self.positionals.append((dest, metavar, help, many, required))
        if unless is not None:
            self.waivers[dest] = unless
        if check is not None:
            self.checks[dest] = check

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, self.format_usage(), message)

    def _metavar(self, dest: str) -> str:
        return next(metavar for d, metavar, _, _, _ in self.positionals if d == dest)

    def spell_out(self, argv: Sequence[str]) -> List[str]:
        """argv with each abbreviated long option written in full when all the names it abbreviates
        are twins of one option (`--exp` → `--exp_name`); anything else is left to argparse."""
        out = list(argv)
        for i, word in enumerate(out):
            if word == "--":
                break
            name, eq, value = word.partition("=")
            if not word.startswith("--") or name in self.long_options:
                continue
            matches = {id(a): n for n, a in self.long_options.items() if n.startswith(name)}
            if len(matches) == 1:
                out[i] = next(iter(matches.values())) + eq + value
        return out

    def read(self, argv: Sequence[str]) -> argparse.Namespace:
        """The namespace of `argv`; UsageError for anything argparse rejects, an unknown option, an
        extra argument or a missing positional."""
        args, extra = self.parse_known_args(self.spell_out(argv))
        unknown = next((w for w in extra if _is_option(w)), None)
        if unknown is not None:
            self.error(f"unrecognized option {unknown} (see {self.prog} --help)")
        lists = [dest for dest, _, _, many, _ in self.positionals if many]
        if extra and lists:  # positionals after an option (`EXP --logroot DIR RUN`): they belong to the list
            getattr(args, lists[-1]).extend(extra)
        elif extra:
            self.error(f"unrecognized arguments: {' '.join(extra)}")
        for dest, check in self.checks.items():
            wrong = [word for word in getattr(args, dest) if not check(word)]
            if wrong:
                self.error(f"unrecognized arguments: {' '.join(wrong)} (expected {self._metavar(dest)})")
        for dest, metavar, help, many, required in self.positionals:
            if dest in self.waivers and getattr(args, self.waivers[dest]):
                continue
            if required and getattr(args, dest) in (None, []):
                expected = f"at least one {metavar}" if many else metavar
                self.error(f"expected {expected}: {' '.join(help.split())}")
        return args
