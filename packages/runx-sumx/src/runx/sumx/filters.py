"""`--filter EXPR`: keep the runs whose hyperparameter, metric or column satisfies a comparison."""
from __future__ import annotations

import re
from collections import namedtuple
from typing import Any, Callable, List

from runx.sumx.errors import SumxError
from runx.sumx.reader import Run

_EXPR = re.compile(r"^\s*([^<>=!~\s][^<>=!~]*?)\s*(<=|>=|!=|==|=|<|>|~)\s*(.*?)\s*$")
SPECIAL = ("run", "experiment", "state", "epoch")

__all__ = ["Filter", "parse_filter", "apply_filters"]


class Filter(namedtuple("Filter", "text key op value")):
    """One parsed `KEY OP VALUE`."""

    __slots__ = ()
    text: str
    key: str
    op: str
    value: str


def parse_filter(text: str) -> Filter:
    """Parse `lr<0.1`, `solver=adam`, `acc>=90`, `state!=failed`, `run~^tag/`."""
    match = _EXPR.match(text)
    if match is None:
        raise SumxError(f"--filter {text!r}: expected KEY OP VALUE with OP one of = == != < <= > >= ~")
    key, op, value = match.groups()
    if op != "~" and value[:1] in ("<", ">", "=", "!"):
        raise SumxError(f"--filter {text!r}: expected KEY OP VALUE with one operator, found {op!r} then {value!r}")
    if op == "~":
        try:
            re.compile(value)
        except re.error as err:
            raise SumxError(f"--filter {text!r}: bad regular expression: {err}") from None
    return Filter(text, key, "=" if op == "==" else op, value)


_NUMBER = re.compile(r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|inf(?:inity)?|nan)", re.IGNORECASE)


def _as_number(value: Any) -> Any:
    """A number, or text that spells one (`1e-5`, as runs made before hparams.json held numbers have it); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _shown(value: Any) -> str:
    """A value for an error line: quoted, control characters escaped, cut short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _lookup(run: Run, key: str) -> Any:
    if key in run.hparams:
        return run.hparams[key]
    if key in run.metrics:
        return run.metrics[key].last
    if key == "run":
        return run.name
    if key == "experiment":
        return run.experiment
    if key == "state":
        return run.state
    if key == "epoch":
        return run.epoch
    return None


_ORDER: dict = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _matches(flt: Filter, run: Run) -> bool:
    actual = _lookup(run, flt.key)
    if actual is None:
        return flt.op == "!="
    if flt.op == "~":
        return re.search(flt.value, _as_text(actual)) is not None
    want_num, have_num = _as_number(flt.value), _as_number(actual)
    numeric = want_num is not None and have_num is not None
    if flt.op in ("=", "!="):
        if numeric:
            equal = have_num == want_num or (want_num != want_num and have_num != have_num)  # nan = nan
        else:
            text = _as_text(actual)
            equal = text == flt.value or (isinstance(actual, bool) and text == flt.value.lower())
        return equal if flt.op == "=" else not equal
    compare: Callable[[Any, Any], bool] = _ORDER[flt.op]
    if numeric:
        return compare(have_num, want_num)
    return compare(_as_text(actual), flt.value)


def _check_order(flt: Filter, runs: List[Run]) -> None:
    """`<`, `<=`, `>`, `>=` compare numbers with numbers and text with text; anything else is an error."""
    want_number = _as_number(flt.value) is not None
    for run in runs:
        value = _lookup(run, flt.key)
        if value is None or (_as_number(value) is not None) == want_number:
            continue
        if want_number:
            raise SumxError(f"--filter {flt.text!r}: {flt.key} is not a number in run {run.name!r} (it is {_shown(value)}); "
                            f"expected a key that holds numbers to compare with {flt.value}")
        raise SumxError(f"--filter {flt.text!r}: {flt.key} is a number; expected a number to compare it with, found {flt.value!r}")


def apply_filters(runs: List[Run], filters: List[Filter]) -> List[Run]:
    """The runs that satisfy every filter; a key no run has, or an order between a number and text, is an error."""
    for flt in filters:
        if flt.key not in SPECIAL and not any(flt.key in r.hparams or flt.key in r.metrics for r in runs):
            raise SumxError(f"--filter {flt.text!r}: no hyperparameter or val metric named {flt.key!r}")
        if flt.op in _ORDER:
            _check_order(flt, runs)
    return [r for r in runs if all(_matches(f, r) for f in filters)]
