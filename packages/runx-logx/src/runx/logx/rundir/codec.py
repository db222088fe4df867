"""Values as the run directory stores them: the NaN/inf codec and the small-file readers.

A metric value is stored as its JSON number, or as the string "nan", "inf" or "-inf". The metrics log's
record reader is runx.logx.rundir.records. This module is on the import path of every logx script, so it
needs no `typing` at run time: its annotations are PEP 604/585 forms, which `from __future__ import
annotations` leaves unevaluated.
"""
from __future__ import annotations

import json
import math
import os
import stat

from runx.logx.errors import LogxError

__all__ = [
    "Number", "encode_value", "decode_value", "json_number", "to_number", "to_step", "is_time",
    "read_bytes", "read_json",
]

Number = float
"""A metric value: an int or a float (a type checker takes an int wherever `float` is annotated, PEP 484)."""
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_NON_FINITE_JSON = {"nan": '"nan"', "inf": '"inf"', "-inf": '"-inf"'}


def encode_value(value: Number) -> Number | str:
    """A metric value as it is stored in JSON: the number, or "nan" / "inf" / "-inf"."""
    if value != value:
        return "nan"
    if value == math.inf:
        return "inf"
    if value == -math.inf:
        return "-inf"
    return value


def decode_value(value: object) -> Number:
    """The inverse of encode_value; ValueError for anything that is not a stored number.

    A float that JSON read as infinite (`1e400`) or NaN (json's `NaN` constant) is accepted as the
    value it is; a bool is not a number here.
    """
    if isinstance(value, str):
        try:
            return _NON_FINITE[value]
        except KeyError:
            raise ValueError(f"not a metric value: {value!r:.80}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a metric value: {value!r:.80}")
    return value


def json_number(value: Number) -> str:
    """A number's JSON text as the metrics log stores it (non-finite floats as strings)."""
    if type(value) is float and value - value != 0:
        return _NON_FINITE_JSON[str(encode_value(value))]
    return repr(value)


def is_time(value: object) -> bool:
    """Whether `value` is a usable clock reading: a finite int or float (not a bool)."""
    return (type(value) is float and value - value == 0) or (type(value) is int and -2 ** 62 < value < 2 ** 62)


def to_number(value: object, name: str) -> Number:
    """`value` as a Python int or float (numpy scalars, 0-d tensors, Fraction, Decimal too); LogxError otherwise."""
    if type(value) is float or type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return float(value) if isinstance(value, float) else int(value)
    item = getattr(value, "item", None)  # numpy scalars, 0-d numpy arrays and torch tensors
    if item is not None:
        try:
            inner = item()
        except (TypeError, ValueError, RuntimeError):
            inner = None
        if isinstance(inner, (int, float)):
            return to_number(inner, name)
    import numbers  # only for the rare value that is none of the above

    if isinstance(value, numbers.Real) or isinstance(value, numbers.Number) and not isinstance(value, numbers.Complex):
        # fractions.Fraction, decimal.Decimal and other real number types
        try:
            return float(value)  # type: ignore[arg-type]  # a real number type converts
        except (TypeError, ValueError, OverflowError):
            pass
    raise LogxError(f"metric {name!r}: expected a number, got {type(value).__name__} {value!r:.80}")


def to_step(step: object) -> int:
    """A step as an int (numpy and torch integers too); LogxError for a fractional or non-numeric one."""
    try:
        number: Number | None = to_number(step, "step")
    except LogxError:
        number = None
    if number is None or isinstance(number, float) and not number.is_integer():
        raise LogxError(f"step {step!r:.80}: expected a whole number")
    return int(number)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block us


def read_bytes(path: str) -> bytes | None:
    """A whole file, or None when it is absent, not a regular file or unreadable.

    Through os.open and os.read: every reader of a run directory reads a few small files per run,
    and a buffered `open()` spends five more system calls on each (a terminal check, seeks, a second
    stat) than these four.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        chunks: list[bytes] = []
        size = info.st_size + 1  # one read for the whole file, the next sees its end
        while True:
            chunk = os.read(fd, size)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size = 1 << 16  # the file grew while being read
    except OSError:
        return None
    finally:
        os.close(fd)


def read_json(path: str) -> tuple[object, bool]:
    """(value, present): the JSON value in `path` (None if absent or not valid JSON), and whether the file exists.

    Bytes that are not UTF-8 and nesting too deep to parse count as invalid, never as an exception.
    """
    raw = read_bytes(path)
    if raw is None:
        return None, False
    try:
        return json.loads(raw.decode("utf-8")), True
    except (ValueError, RecursionError):
        return None, True


def __getattr__(name: str) -> object:
    """read_records and ReadResult moved to runx.logx.rundir.records; their old import still works, with a warning."""
    if name in ("read_records", "ReadResult"):
        import warnings

        from runx.logx.rundir import records

        warnings.warn(f"runx.logx.rundir.codec.{name} moved to runx.logx.rundir.records", DeprecationWarning, stacklevel=2)
        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
