"""Expanding HPARAMS into one combination per run: pure functions, no I/O.

- A mapping expands to the cross product of its list values, in key order, last key fastest.
- A list of mappings: each inherits the keys of the first and overrides them.
- RUNX.TAG names the run (with `{key}` replaced by that run's value); it is inherited.
- RUNX.SKIP: true drops that mapping's runs; it is not inherited.
- SUBMIT_JOB.NODES / SUBMIT_JOB.PARTITION become the farm resources `nodes` / `partition`.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterator, Mapping, NamedTuple, Optional, Union

from runx.core.errors import RunxError

Scalar = Union[str, int, float, bool, None]
TAG_KEY = "RUNX.TAG"
SKIP_KEY = "RUNX.SKIP"
RESOURCE_KEYS = {"SUBMIT_JOB.NODES": "nodes", "SUBMIT_JOB.PARTITION": "partition"}

__all__ = ["Combination", "expand", "render_value", "substitute_tag", "Scalar"]


class Combination(NamedTuple):
    """One run's hyperparameters (RUNX.* removed), its tag, and the resources it adds."""

    hparams: Mapping[str, Scalar]
    tag: Optional[str] = None
    resources: Mapping[str, Scalar] = {}
    group: int = 0


def render_value(value: Scalar) -> str:
    """The text a value becomes on the command line and in tags (floats as the YAML spelled them)."""
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _check_text(key: str, value: Any, where: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RunxError(f"{where}.{key}: expected text, found an unpaired surrogate escape in {value!r}") from None


def _check_value(key: str, value: Any, where: str) -> None:
    _check_text(key, value, where)
    if isinstance(value, list):
        if not value:
            raise RunxError(f"{where}.{key}: empty list; expected at least one value")
        for item in value:
            _check_text(key, item, where)
            if not _is_scalar(item):
                kind = "list" if isinstance(item, list) else type(item).__name__
                raise RunxError(f"{where}.{key}: expected a list of plain values, found a {kind} inside the list")
    elif not _is_scalar(value):
        kind = "mapping" if isinstance(value, dict) else type(value).__name__
        raise RunxError(f"{where}.{key}: expected a value or a list of values, found a {kind}")


def _check_special(mapping: Mapping[str, Any], where: str) -> None:
    if TAG_KEY in mapping and not isinstance(mapping[TAG_KEY], (str, int, float)):
        raise RunxError(f"{where}.{TAG_KEY}: expected a tag string, found {mapping[TAG_KEY]!r}")
    if SKIP_KEY in mapping and not isinstance(mapping[SKIP_KEY], bool):
        raise RunxError(f"{where}.{SKIP_KEY}: expected true or false, found {mapping[SKIP_KEY]!r}")


def substitute_tag(template: str, hparams: Mapping[str, Scalar]) -> str:
    """Replace each `{key}` in a tag with the run's value of key; plain text, no patterns."""
    out = template
    for key, value in hparams.items():
        needle = "{" + key + "}"
        if needle in out:
            out = out.replace(needle, render_value(value))
    return out


def _mappings(spec: Any, source: str) -> Iterator[tuple]:
    if isinstance(spec, dict):
        yield 0, spec, f"{source}: HPARAMS"
        return
    if not isinstance(spec, list) or not spec:
        raise RunxError(f"{source}: HPARAMS: expected a mapping or a non-empty list of mappings")
    first = spec[0]
    for index, item in enumerate(spec):
        where = f"{source}: HPARAMS[{index}]"
        if not isinstance(item, dict):
            raise RunxError(f"{where}: expected a mapping of hyperparameters, found {type(item).__name__}")
        merged = {k: v for k, v in first.items() if k != SKIP_KEY} if index else {}
        merged.update(item)
        yield index, merged, where


def _product(mapping: Mapping[str, Any]) -> Iterator[dict]:
    keys = list(mapping)
    choices = [v if isinstance(v, list) else [v] for v in mapping.values()]
    for values in itertools.product(*choices):
        yield dict(zip(keys, values))


def expand(spec: Any, source: str = "experiment") -> list:
    """Expand an HPARAMS value into Combinations, validating every value first."""
    groups = []
    for index, mapping, where in _mappings(spec, source):
        _check_special(mapping, where)
        for key, value in mapping.items():
            if not isinstance(key, str) or not key:
                raise RunxError(f"{where}: {key!r}: expected a hyperparameter name")
            if key not in (TAG_KEY, SKIP_KEY):
                _check_value(key, value, where)
        groups.append((index, mapping))

    combinations = []
    for index, mapping in groups:
        if mapping.get(SKIP_KEY) is True:
            continue
        tag_template = mapping.get(TAG_KEY)
        plain = {k: v for k, v in mapping.items() if k not in (TAG_KEY, SKIP_KEY)}
        for values in _product(plain):
            resources = {RESOURCE_KEYS[k]: values.pop(k) for k in list(values) if k in RESOURCE_KEYS}
            tag = None if tag_template is None else substitute_tag(str(tag_template), values)
            combinations.append(Combination(hparams=values, tag=tag, resources=resources, group=index))
    return combinations
