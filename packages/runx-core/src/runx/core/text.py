"""Text read from run files, made safe to print on a terminal.

A value in a run directory (an hparam, a metric name, a run or job name) may hold terminal control
sequences: `ESC ]0;...BEL` sets the window title, `ESC [2J` clears the screen, `\\r` and `\\n` break
a table, and bidirectional overrides reorder what is shown. `printable()` writes each such character
as an escape (`\\x1b`, `\\n`, `\\u202e`); every text output of runx and sumx passes values through it.
Machine-readable outputs (JSON, CSV) keep the real value.
"""
from __future__ import annotations

__all__ = ["printable"]

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}  # C0, DEL, C1
_ESCAPES.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
_ESCAPES.update({c: f"\\u{c:04x}" for c in (*_BIDI, 0x2028, 0x2029)})  # bidi controls, line/paragraph separators


def printable(text: str) -> str:
    """`text` with every control character, line separator and bidi control written as an escape."""
    if text.isascii() and text.isprintable():
        return text
    return text.translate(_ESCAPES)
