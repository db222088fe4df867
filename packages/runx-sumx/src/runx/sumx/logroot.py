"""LOGROOT from the runx config without PyYAML, when the file is plain enough to read safely.

Importing yaml costs about 18 ms, a third of summarising 1,000 runs, and sumx needs one key of the
config. `plain_logroot` reads it when every line is simple: top-level keys written as `KEY:`, each
either with a value on its line or opening an indented block, quotes and brackets closed on the line
they open, no anchors, aliases, tags or block scalars, and a LOGROOT that is one plain word of path
characters. It declines (returns UNDECIDED) on anything else, and then runx.core.config reads the
file with PyYAML as before. Where PyYAML reads the file, the answer is the same (a test checks it
against runx.core.config); the rest of the file is not validated here (a mistake deeper in a farm
section is runx's to report, not sumx's).
"""
from __future__ import annotations

import os
from typing import Optional, Union

__all__ = ["UNDECIDED", "plain_logroot"]

UNDECIDED = object()  # the file needs PyYAML (or an error message from runx.core.config)

_KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_KEY_CHARS = _KEY_START | frozenset("0123456789.-")
_PATH_CHARS = _KEY_CHARS | frozenset("/~$")
# Plain words YAML 1.1 reads as booleans or null rather than text (compared in lower case).
_NOT_TEXT = frozenset(("yes", "no", "true", "false", "on", "off", "y", "n", "null"))


def _content(line: str) -> Optional[str]:
    """The line without its comment; None when a quote or bracket may stay open past the line's end.

    As in YAML, a quote or bracket opens only where a value may start (at the start of the line, after
    `: `, `- `, `? `, or inside brackets after `,`, `[`, `{`, `:`); elsewhere it is part of plain text
    (`don't`). Anchors, aliases, tags, block scalars, a `]` or `}` outside brackets and escapes in
    double quotes are left to PyYAML.
    """
    quote = ""
    depth = 0
    last = ""  # the last character outside quotes that is not a space ("" at the line's start)
    spaced = False  # a space came after `last`
    i = 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\" and quote == '"':
                return None
            if char == quote:
                if quote == "'" and line[i + 1:i + 2] == "'":
                    i += 1  # '' is a quote inside single quotes
                else:
                    quote = ""
                    last, spaced = char, False
            i += 1
            continue
        if char == " ":
            spaced = True
            i += 1
            continue
        if last in ("'", '"') and (char not in ":,]}#" or (char == "#" and not spaced)):
            return None  # text after a quoted value
        at_start = last == "" or (last in ":-?" and spaced) or (depth > 0 and last in ",[{:")
        if at_start and char in "&*!|>%@`":
            return None
        if char in "'\"" and at_start:
            quote = char
        elif char in "[{" and (at_start or depth > 0):
            depth += 1
        elif char in "]}":
            if depth == 0:
                return None
            depth -= 1
        elif char == "#" and (last == "" or spaced):
            return line[:i].rstrip(" ") if depth == 0 else None
        last, spaced = char, False
        i += 1
    return line.rstrip(" ") if not quote and depth == 0 else None


def _key(line: str) -> Optional[str]:
    """`KEY` of a top-level `KEY: ...` line (a plain word of letters, digits and `_.-`), else None."""
    colon = line.find(":")
    key = line[:colon]
    if colon < 1 or key[0] not in _KEY_START or not _KEY_CHARS.issuperset(key):
        return None
    if len(line) > colon + 1 and line[colon + 1] != " ":
        return None
    return key


def _plain_value(value: str) -> bool:
    """Whether YAML reads `value` as this very text: path characters, not a number, bool or null."""
    if not value or not _PATH_CHARS.issuperset(value) or value.lower() in _NOT_TEXT:
        return False
    first = value[0]
    if first in _KEY_START or first in "/$":
        return True
    if first == "~":
        return len(value) > 1  # a lone ~ is null
    return value.startswith(("./", "../"))  # other starts (digits, '.', '-') may be numbers


def _read_logroot(text: str) -> Union[str, object]:
    """The LOGROOT text of a plain config, or UNDECIDED."""
    if not text.isascii() or any((c < " " and c != "\n") or c == "\x7f" for c in text):
        return UNDECIDED  # tabs, CR, other line breaks and control characters: PyYAML's rules
    keys = set()
    value: Union[str, object] = UNDECIDED
    nested = False  # the last top-level key opened a block (no value on its line)
    for line in text.split("\n"):
        content = _content(line)
        if content is None:
            return UNDECIDED
        if not content:
            continue  # blank, or a comment
        if line[0] == " ":
            if not nested:
                return UNDECIDED  # a value continued on this line, or bad indentation
            continue
        key = _key(content)
        if key is None or key in keys:
            return UNDECIDED  # not a plain top-level key, or a duplicate (an error for runx)
        keys.add(key)
        word = content[len(key) + 1:].strip(" ")
        nested = not word
        if key == "LOGROOT":
            if not _plain_value(word):
                return UNDECIDED
            value = word
    return value


def _locate(explicit: Optional[str]) -> Union[Optional[str], object]:
    """runx.core.config.locate_config's choice as a path, None for no config; UNDECIDED for a missing -c."""
    if explicit is not None:
        path = os.path.expanduser(explicit)
        return path if os.path.isfile(path) else UNDECIDED
    local = os.path.join(os.getcwd(), ".runx")
    if os.path.isfile(local):
        return local
    user = os.path.join(os.path.expanduser("~"), ".config", "runx.yml")
    return user if os.path.isfile(user) else None


def plain_logroot(explicit: Optional[str]) -> Union[Optional[str], object]:
    """LOGROOT as runx.core.config resolves it (None without a config file), or UNDECIDED."""
    path = _locate(explicit)
    if not isinstance(path, str):
        return path  # no config, or a missing -c file (runx.core.config's error names it)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return UNDECIDED
    value = _read_logroot(text)
    if not isinstance(value, str):
        return UNDECIDED
    root = os.path.expandvars(os.path.expanduser(value))
    if not os.path.isabs(root):
        root = os.path.join(os.path.dirname(os.path.realpath(path)), root)
    return os.path.normpath(root)
