"""The search space of an adaptive search, read from HPARAMS (pure; no Optuna).

One mapping of hyperparameters: a distribution (`{uniform: [a, b]}`, `{loguniform: [a, b]}`,
`{randint: [a, b]}`, `{choice: [...]}`) or a list (a categorical choice) is searched; a plain value
(and LOGDIR) is passed as is; RUNX.TAG names each trial's run. What does not combine with a search
(a list of mappings, RUNX.ZIP, RUNX.REPLICAS, RUNX.TRIALS, RUNX.SKIP) is refused with one line.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, NamedTuple, Optional

from runx.core.errors import RunxError
from runx.core.sampling import Distribution, parse_distribution
from runx.core.sweep import (
    REPLICAS_KEY,
    RESOURCE_KEYS,
    RUNX_KEYS,
    SKIP_KEY,
    TAG_KEY,
    TRIALS_KEY,
    ZIP_KEY,
    Combination,
    _check_item,
    _check_value,
    substitute_tag,
)

__all__ = ["SearchSpace", "parse_space", "combination_for", "describe"]

_REFUSED = {
    ZIP_KEY: "pairs lists of a grid; a search chooses every value itself",
    REPLICAS_KEY: "each trial is one run; repeat a configuration with a grid sweep",
    TRIALS_KEY: "the budget of a search is SWEEP.trials",
    SKIP_KEY: "there is one mapping to search",
}


class SearchSpace(NamedTuple):
    """What is searched (name -> Distribution; a list is a `choice`), what is fixed, in the YAML's order."""

    keys: tuple
    searched: Mapping[str, Distribution]
    fixed: Mapping[str, Any]
    tag: Optional[str]


def parse_space(spec: Any, source: str, method: str) -> SearchSpace:
    """Validate HPARAMS as a search space; RunxError naming the key when it is not one."""
    where = f"{source}: HPARAMS"
    if isinstance(spec, list):
        raise RunxError(f"{where}: a list of mappings does not combine with method {method}; expected one mapping "
                        "of hyperparameters to search (run each mapping as an experiment of its own)")
    if not isinstance(spec, dict) or not spec:
        raise RunxError(f"{where}: expected a mapping of hyperparameters to search")
    searched: Dict[str, Distribution] = {}
    fixed: Dict[str, Any] = {}
    for key, value in spec.items():
        if not isinstance(key, str) or not key:
            raise RunxError(f"{where}: {key!r}: expected a hyperparameter name")
        if key in _REFUSED:
            raise RunxError(f"{where}.{key}: does not combine with method {method}: {_REFUSED[key]}")
        if key.startswith("RUNX.") and key not in RUNX_KEYS:
            raise RunxError(f"{where}.{key}: unknown RUNX key; expected {TAG_KEY} in a search")
        if key == TAG_KEY:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise RunxError(f"{where}.{TAG_KEY}: expected a tag string, found {value!r}")
            continue
        if isinstance(value, dict):
            searched[key] = parse_distribution(value, f"{where}.{key}", lambda item, k=key: _check_item(k, item, where))
        else:
            _check_value(key, value, where)
            if isinstance(value, list):
                searched[key] = Distribution("choice", tuple(value))
            else:
                fixed[key] = value
    if not searched:
        raise RunxError(f"{where}: nothing to search; expected at least one distribution ({{loguniform: [1e-5, 1e-1]}}, "
                        "...) or list of values")
    tag = spec.get(TAG_KEY)
    return SearchSpace(tuple(k for k in spec if k != TAG_KEY), searched, fixed, None if tag is None else str(tag))


def combination_for(space: SearchSpace, params: Mapping[str, Any], trial: int) -> Combination:
    """A trial's run: the values chosen for it beside the fixed ones, in the YAML's order."""
    values = {k: params[k] if k in space.searched else space.fixed[k] for k in space.keys}
    resources = {RESOURCE_KEYS[k]: values.pop(k) for k in list(values) if k in RESOURCE_KEYS}
    tag = substitute_tag(space.tag, values) if space.tag is not None else None
    return Combination(values, tag, resources, 0, trial, None)


def describe(space: SearchSpace) -> list:
    """One line per hyperparameter: how it is searched, or its fixed value (`-n` prints these)."""
    lines = []
    for key in space.keys:
        if key in space.searched:
            d = space.searched[key]
            args = ", ".join(map(repr, d.args)) if d.name == "choice" else f"{d.args[0]:g}, {d.args[1]:g}" \
                if d.name != "randint" else f"{d.args[0]}, {d.args[1]}"
            lines.append(f"{key}: {d.name}[{args}]")
        else:
            lines.append(f"{key}: {space.fixed[key]!r} (fixed)")
    return lines
