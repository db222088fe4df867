"""A small table-driven command-line parser, shared by runx and sumx.

argparse costs about 5 ms to import and run here (it loads gettext, locale and shutil): a tenth of
`runx sweep.yml -n`, and a tenth of sumx on a thousand runs. This parser keeps argparse's
conventions: `--opt VALUE`, `--opt=VALUE`, unique prefixes of long options, `-o VALUE`, `-oVALUE`,
bundled short flags (`-in`, `-ij4`), options before or after positionals, `--` ends options, a
negative number is a value, and usage errors raise RunxError (the caller prints usage and exits 2).
"""
from __future__ import annotations

import sys
import types
from typing import Any, Callable, Optional, Sequence

from runx.core.errors import RunxError

__all__ = ["Option", "Positional", "CommandLine", "positive_number"]

KINDS = ("flag", "value", "append", "optional")
HELP_COLUMN = 24


class Option:
    """One option.

    `kind`: "flag" (no value), "value" (one value; the last one given wins), "append" (a value each
    time, collected in a list) or "optional" (the next word when it is a number, else `const`).
    `convert` turns the text into the value and raises ValueError when it cannot; `expects` says
    what it wants, for the error message.
    """

    __slots__ = ("names", "dest", "kind", "convert", "expects", "default", "const", "metavar", "help")

    def __init__(
        self,
        *names: str,
        dest: Optional[str] = None,
        kind: str = "value",
        convert: Optional[Callable[[str], Any]] = None,
        expects: str = "",
        default: Any = None,
        const: Any = None,
        metavar: Optional[str] = None,
        help: str = "",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown option kind {kind!r}")
        long_names = [n for n in names if n.startswith("--")]
        self.names = names
        self.dest = dest or (long_names[0] if long_names else names[0]).lstrip("-").replace("-", "_")
        self.kind = kind
        self.convert = convert
        self.expects = expects
        if default is None:
            default = {"append": [], "flag": False}.get(kind)
        self.default = default
        self.const = const
        self.metavar = metavar or self.dest.upper()
        self.help = help

    def takes_value(self) -> bool:
        return self.kind != "flag"

    def value_of(self, name: str, text: str) -> Any:
        """The converted value of `text` given to option `name`."""
        if self.convert is None:
            return text
        try:
            return self.convert(text)
        except ValueError:
            raise RunxError(f"{name} {text}: expected {self.expects or self.metavar}") from None

    def invocation(self) -> str:
        """`-j, --jobs N` as the help shows it."""
        names = ", ".join(sorted(self.names, key=lambda n: n.startswith("--")))
        if self.kind == "flag":
            return names
        if self.kind == "optional":
            return f"{names} [{self.metavar}]"
        return f"{names} {self.metavar}"


class Positional:
    """A positional argument: `count` is 1 (exactly one), "*" (any number) or "+" (at least one)."""

    __slots__ = ("dest", "count", "metavar", "help")

    def __init__(self, dest: str, count: Any = 1, metavar: Optional[str] = None, help: str = "") -> None:
        if count not in (1, "*", "+"):
            raise ValueError(f"unknown positional count {count!r}")
        self.dest = dest
        self.count = count
        self.metavar = metavar or dest.upper()
        self.help = help

    def usage(self) -> str:
        if self.count == 1:
            return self.metavar
        if self.count == "+":
            return f"{self.metavar} [{self.metavar} ...]"
        return f"[{self.metavar} ...]"


def positive_number(text: str) -> float:
    """A number greater than zero (ValueError otherwise)."""
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _looks_negative(word: str) -> bool:
    """`-3` or `-0.5`, as argparse recognises a negative number."""
    whole, dot, fraction = word[1:].partition(".")
    if not word.startswith("-"):
        return False
    if dot:
        return (whole == "" or whole.isdecimal()) and fraction.isdecimal()
    return whole.isdecimal()


class CommandLine:
    """A program's options and positionals: parse argv, and write the usage and help text."""

    def __init__(
        self,
        prog: str,
        description: str,
        options: Sequence[Option],
        positionals: Sequence[Positional],
        epilog: str = "",
    ) -> None:
        self.prog = prog
        self.description = description
        self.options = [Option("-h", "--help", kind="flag", help="show this help and exit"), *options]
        self.positionals = list(positionals)
        self.epilog = epilog
        self._by_name = {name: option for option in self.options for name in option.names}

    def usage(self) -> str:
        words = " ".join(p.usage() for p in self.positionals)
        return f"usage: {self.prog} [options] {words}".rstrip()

    def help(self) -> str:
        """The --help text: usage, description, arguments, options and the epilog."""
        lines = [self.usage(), "", self.description, ""]
        if self.positionals:
            lines.append("positional arguments:")
            lines += [_help_row(p.metavar, p.help) for p in self.positionals]
            lines.append("")
        lines.append("options:")
        lines += [_help_row(o.invocation(), o.help) for o in self.options]
        if self.epilog:
            lines += ["", self.epilog.rstrip("\n")]
        return "\n".join(lines) + "\n"

    def _long(self, name: str) -> str:
        """The long option `name` stands for: itself, or the one option it is a unique prefix of."""
        if name in self._by_name:
            return name
        hits: dict = {}
        for known, option in self._by_name.items():
            if known.startswith("--") and known.startswith(name):
                hits.setdefault(id(option), known)
        if len(hits) == 1:
            return next(iter(hits.values()))
        if hits:
            raise RunxError(f"ambiguous option {name}: could be {', '.join(sorted(hits.values()))}")
        raise RunxError(f"unrecognized option {name} (see {self.prog} --help)")

    def parse_or_report(self, argv: Sequence[str]) -> tuple:
        """(namespace, None) to go on with; or (None, exit status) once the help was printed (0) or
        a usage error was, with the usage line (2)."""
        try:
            args = self.parse(argv)
        except RunxError as err:
            sys.stderr.write(f"{self.usage()}\n{self.prog}: error: {err}\n")
            return None, 2
        if args.help:
            sys.stdout.write(self.help())
            return None, 0
        return args, None

    def _is_option(self, word: str) -> bool:
        """Whether `word` is an option rather than a positional or a value (argparse's reading: a
        negative number or a word with a space that names no option is not one)."""
        if not word.startswith("-") or word == "-":
            return False
        name = word.partition("=")[0]
        if name in self._by_name or word[:2] in self._by_name:
            return True
        if word.startswith("--") and any(known.startswith(name) for known in self._by_name):
            return True
        return not (_looks_negative(word) or " " in word)

    def parse(self, argv: Sequence[str]) -> types.SimpleNamespace:
        """The namespace of every option's and positional's dest; `help` is True when -h was given
        (positionals are then not checked). Raises RunxError for a usage error."""
        values = {o.dest: (list(o.default) if o.kind == "append" else o.default) for o in self.options}
        words: list = []
        args = list(argv)
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                words += args[i:]
                break
            if not self._is_option(arg):
                words.append(arg)
                continue
            name, eq, inline = arg.partition("=")
            if arg.startswith("--") or (eq and name in self._by_name):
                i = self._take(self._long(name), inline if eq else None, args, i, values)
                continue
            chars = arg[1:]
            while chars:
                name = "-" + chars[0]
                option = self._by_name.get(name)
                if option is None:
                    raise RunxError(f"unrecognized option {name} (see {self.prog} --help)")
                chars = chars[1:]
                if option.takes_value():
                    i = self._take(name, chars or None, args, i, values)
                    break
                i = self._take(name, None, args, i, values)
        namespace = types.SimpleNamespace(**values)
        if not namespace.help:
            self._assign(words, namespace)
        return namespace

    def _take(self, name: str, inline: Optional[str], args: list, i: int, values: dict) -> int:
        """Record option `name` (its value inline, or the next word); returns the index of the next word."""
        option = self._by_name[name]
        if option.kind == "flag":
            if inline is not None:
                raise RunxError(f"{name}: takes no value")
            values[option.dest] = True
            return i
        if option.kind == "optional":
            if inline is None and i < len(args) and _is_number(args[i]):
                inline = args[i]
                i += 1
            values[option.dest] = option.const if inline is None else option.value_of(name, inline)
            return i
        if inline is None:
            if i >= len(args) or self._is_option(args[i]):
                raise RunxError(f"{name}: expected a value ({option.metavar})")
            inline = args[i]
            i += 1
        value = option.value_of(name, inline)
        if option.kind == "append":
            values[option.dest].append(value)
        else:
            values[option.dest] = value
        return i

    def _assign(self, words: list, namespace: types.SimpleNamespace) -> None:
        """Share the positional words out to the positionals, as argparse would."""
        fixed = sum(1 for p in self.positionals if p.count == 1)
        spare = len(words) - fixed
        for positional in self.positionals:
            if positional.count == 1:
                if not words:
                    raise RunxError(f"expected {positional.metavar}: {' '.join(positional.help.split())}")
                setattr(namespace, positional.dest, words.pop(0))
                continue
            taken, words = words[: max(spare, 0)], words[max(spare, 0):]
            spare = 0
            if positional.count == "+" and not taken:
                raise RunxError(f"expected at least one {positional.metavar}: {' '.join(positional.help.split())}")
            setattr(namespace, positional.dest, taken)
        if words:
            raise RunxError(f"unrecognized arguments: {' '.join(words)}")


def _help_row(invocation: str, text: str) -> str:
    """`  invocation   help`, the help starting at HELP_COLUMN (on the next line when it does not fit)."""
    lead = f"  {invocation}"
    rest = text.split("\n")
    indent = " " * HELP_COLUMN
    if len(lead) <= HELP_COLUMN - 2:
        first = lead.ljust(HELP_COLUMN) + rest[0]
        return "\n".join([first.rstrip()] + [indent + line for line in rest[1:]])
    return "\n".join([lead] + [indent + line for line in rest if line])
