"""Expanding HPARAMS into one combination per run: pure functions, no I/O.

- A mapping expands to the cross product of its list values, in key order, last key fastest.
- `RUNX.ZIP: [a, b]` pairs the lists of a and b (one run per position) instead of crossing them.
- A value `{uniform: [low, high]}` (also loguniform, randint, choice) is drawn for each of the
  sweep's trials (SWEEP.trials or RUNX.TRIALS), reproducibly from SWEEP.seed: grid × trials.
- `RUNX.REPLICAS: N` runs every configuration N times; `{replica}` in a value or tag is its index.
- A list of mappings: each inherits the keys of the first and overrides them.
- RUNX.TAG names the run (with `{key}` replaced by that run's value); it is inherited.
- RUNX.SKIP: true drops that mapping's runs; it is not inherited.
- SUBMIT_JOB.NODES / SUBMIT_JOB.PARTITION become the farm resources `nodes` / `partition`.
Runs come out grid point by grid point, then trial, then replica (replicas of a run side by side).
"""
from __future__ import annotations

import itertools
from typing import Any, Iterator, Mapping, NamedTuple, Optional, Union

from runx.core.errors import RunxError, did_you_mean

Scalar = Union[str, int, float, bool, None]

TAG_KEY = "RUNX.TAG"
SKIP_KEY = "RUNX.SKIP"
ZIP_KEY = "RUNX.ZIP"
TRIALS_KEY = "RUNX.TRIALS"
REPLICAS_KEY = "RUNX.REPLICAS"
RUNX_KEYS = (REPLICAS_KEY, SKIP_KEY, TAG_KEY, TRIALS_KEY, ZIP_KEY)
SWEEP_OPTIONS = ("early_stop", "goal", "method", "metric", "parallel", "poll", "replicas", "seed", "trials")
METHODS = ("grid", "random", "tpe", "bayes")
ADAPTIVE_METHODS = ("tpe", "bayes")
"""Methods that choose each run from the results so far (runx.core.search), rather than planning them up front."""
ADAPTIVE_ONLY = ("metric", "goal", "early_stop", "poll")
REPLICA = "{replica}"
RESOURCE_KEYS = {"SUBMIT_JOB.NODES": "nodes", "SUBMIT_JOB.PARTITION": "partition"}
MAX_RUNS = 100_000
"""The most runs a sweep may have unless the launcher is told more (`--max-runs N`)."""

__all__ = ["Combination", "SweepOptions", "expand", "sweep_options", "render_value", "substitute_tag", "is_adaptive",
           "MAX_RUNS", "METHODS", "ADAPTIVE_METHODS"]


class Combination(NamedTuple):
    """One run's hyperparameters (RUNX.* removed), its tag, the resources it adds, and where it
    came from: its HPARAMS mapping, its trial (when values are drawn) and its replica."""

    hparams: Mapping[str, Scalar]
    tag: Optional[str] = None
    resources: Mapping[str, Scalar] = {}
    group: int = 0
    trial: Optional[int] = None
    replica: Optional[int] = None


class SweepOptions(NamedTuple):
    """The experiment's `SWEEP:` mapping, validated: defaults for every mapping of HPARAMS."""

    trials: Optional[int] = None
    replicas: Optional[int] = None
    seed: int = 0
    method: str = "grid"
    parallel: Optional[int] = None


class _Group(NamedTuple):
    """One mapping of HPARAMS, validated and split into what is crossed and what is drawn."""

    position: int
    where: str
    keys: tuple  # hyperparameter names in the YAML's order
    axes: tuple  # ((names, rows), ...): the grid; zipped names share an axis
    draws: Mapping[str, Any]  # name -> sampling.Distribution
    tag: Optional[str]
    skip: bool
    trials: int
    replicas: Optional[int]


def render_value(value: Scalar) -> str:
    """The text a value becomes on the command line and in tags (floats as the YAML spelled them)."""
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_text(key: str, value: Any, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise RunxError(f"{where}.{key}: a command-line argument cannot hold a NUL character, found {value!r}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RunxError(f"{where}.{key}: expected text, found an unpaired surrogate escape in {value!r}") from None


def _check_item(key: str, item: Any, where: str) -> None:
    _check_text(key, item, where)
    if not _is_scalar(item):
        kind = "list" if isinstance(item, list) else "mapping" if isinstance(item, dict) else type(item).__name__
        raise RunxError(f"{where}.{key}: expected a list of plain values, found a {kind} inside the list")


def _check_value(key: str, value: Any, where: str) -> None:
    _check_text(key, value, where)
    if isinstance(value, list):
        if not value:
            raise RunxError(f"{where}.{key}: empty list; expected at least one value")
        for item in value:
            _check_item(key, item, where)
    elif not _is_scalar(value):
        kind = "mapping" if isinstance(value, dict) else type(value).__name__
        raise RunxError(f"{where}.{key}: expected a value or a list of values, found a {kind}")


def _check_special(mapping: Mapping[str, Any], where: str) -> None:
    for key in mapping:
        if isinstance(key, str) and key.startswith("RUNX.") and key not in RUNX_KEYS:
            raise RunxError(
                f"{where}.{key}: unknown RUNX key{did_you_mean(key, RUNX_KEYS)}; expected one of {', '.join(RUNX_KEYS)}"
            )
    if TAG_KEY in mapping and not isinstance(mapping[TAG_KEY], (str, int, float)):
        raise RunxError(f"{where}.{TAG_KEY}: expected a tag string, found {mapping[TAG_KEY]!r}")
    if SKIP_KEY in mapping and not isinstance(mapping[SKIP_KEY], bool):
        raise RunxError(f"{where}.{SKIP_KEY}: expected true or false, found {mapping[SKIP_KEY]!r}")
    for key in (TRIALS_KEY, REPLICAS_KEY):
        if key in mapping and not _is_count(mapping[key]):
            raise RunxError(f"{where}.{key}: expected a whole number of at least 1, found {mapping[key]!r}")


def is_adaptive(options: Optional[Mapping[str, Any]]) -> bool:
    """Whether SWEEP asks for an adaptive search (method tpe or bayes), which runx.core.search drives."""
    return isinstance(options, Mapping) and options.get("method") in ADAPTIVE_METHODS


def sweep_options(options: Optional[Mapping[str, Any]], source: str = "experiment") -> SweepOptions:
    """Validate the experiment's `SWEEP:` mapping for a planned sweep (grid or random: trials, replicas,
    seed, parallel); the adaptive methods' own keys are validated by runx.core.search.options."""
    options = options or {}
    method = options.get("method", "grid")
    if method not in METHODS:
        hint = did_you_mean(str(method), METHODS)
        raise RunxError(f"{source}: SWEEP.method: unknown method {method!r}{hint}; expected one of {', '.join(METHODS)}")
    for key, value in options.items():
        where = f"{source}: SWEEP.{key}"
        if key not in SWEEP_OPTIONS:
            hint = did_you_mean(str(key), SWEEP_OPTIONS)
            raise RunxError(f"{where}: unknown sweep option{hint}; expected one of {', '.join(SWEEP_OPTIONS)}")
        if key == "method":
            continue
        if key in ADAPTIVE_ONLY:
            if method not in ADAPTIVE_METHODS:
                raise RunxError(f"{where}: only with an adaptive search (method: tpe); a {method} sweep is planned up front")
            continue
        if key == "seed":
            if not isinstance(value, int) or isinstance(value, bool):
                raise RunxError(f"{where}: expected a whole number, found {value!r}")
        elif not _is_count(value):
            raise RunxError(f"{where}: expected a whole number of at least 1, found {value!r}")
    return SweepOptions(options.get("trials"), options.get("replicas"), options.get("seed", 0), method,
                        options.get("parallel"))


def substitute_tag(template: str, hparams: Mapping[str, Scalar]) -> str:
    """Replace each `{key}` in a tag with the run's value of key in one pass, left to right; plain
    text, no patterns, and a substituted value is never substituted again."""
    if "{" not in template:
        return template
    parts = []
    rest = template
    while rest:
        start = rest.find("{")
        end = rest.find("}", start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            parts.append(rest)
            break
        key = rest[start + 1:end]
        if key in hparams:
            parts.append(rest[:start] + render_value(hparams[key]))
            rest = rest[end + 1:]
        else:  # not a key: keep the brace and look again after it
            parts.append(rest[:start + 1])
            rest = rest[start + 1:]
    return "".join(parts)


def _with_replica(value: Any, replica: int) -> Any:
    """`{replica}` replaced by the replica index; a value that is exactly `{replica}` becomes the number."""
    if value == REPLICA:
        return replica
    if isinstance(value, str) and REPLICA in value:
        return value.replace(REPLICA, str(replica))
    return value


def _mappings(spec: Any, source: str) -> Iterator[tuple]:
    if isinstance(spec, dict):
        yield 0, spec, spec, f"{source}: HPARAMS"
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
        yield index, merged, item, where


def _zip_groups(value: Any, plain: Mapping[str, Any], draws: Mapping[str, Any], where: str) -> list:
    """RUNX.ZIP as groups of names: `[a, b]` is one group, `[[a, b], [c, d]]` two."""
    where = f"{where}.{ZIP_KEY}"
    form = "expected the names of the hyperparameters to pair, e.g. [lr, warmup] or [[lr, warmup], [depth, width]]"
    if not isinstance(value, list) or not value:
        raise RunxError(f"{where}: {form}, found {value!r}")
    groups = [value] if all(isinstance(v, str) for v in value) else value
    seen: dict = {}
    for group in groups:
        if not isinstance(group, list) or not group or not all(isinstance(v, str) for v in group):
            raise RunxError(f"{where}: {form}, found {value!r}")
        for name in group:
            if name in draws:
                raise RunxError(f"{where}: {name} is drawn from a distribution; only lists of values can be zipped")
            if name not in plain:
                raise RunxError(f"{where}: {name!r} is not a hyperparameter here{did_you_mean(name, plain)}")
            if name in seen:
                raise RunxError(f"{where}: {name} is zipped twice")
            seen[name] = True
        lengths = {name: len(plain[name]) if isinstance(plain[name], list) else 1 for name in group}
        if len(set(lengths.values())) > 1:
            counts = ", ".join(f"{name} has {n} value{'s' if n != 1 else ''}" for name, n in lengths.items())
            raise RunxError(f"{where}: zipped hyperparameters need the same number of values; {counts}")
    return groups


def _parse_group(index: int, mapping: Mapping[str, Any], own: Mapping[str, Any], where: str,
                 options: SweepOptions) -> _Group:
    _check_special(mapping, where)
    replicas = mapping.get(REPLICAS_KEY, options.replicas)
    plain: dict = {}
    draws: dict = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or not key:
            raise RunxError(f"{where}: {key!r}: expected a hyperparameter name")
        if key in RUNX_KEYS:
            continue
        if replicas is not None and key == "replica":
            raise RunxError(f"{where}.replica: a hyperparameter cannot be named replica while {REPLICAS_KEY} or SWEEP.replicas gives {{replica}} its meaning")
        if isinstance(value, dict) and list(value) == ["replica"]:
            if value["replica"] is not None:
                raise RunxError(f"{where}.{key}: {{replica}} takes no value; write {key}: '{{replica}}'")
            if replicas is None:
                raise RunxError(f"{where}.{key}: {{replica}} is the replica number, but no {REPLICAS_KEY} or SWEEP.replicas is set")
            plain[key] = REPLICA
        elif isinstance(value, dict):
            from runx.core.sampling import parse_distribution

            draws[key] = parse_distribution(value, f"{where}.{key}", lambda item, k=key: _check_item(k, item, where))
        else:
            _check_value(key, value, where)
            plain[key] = value
    zipped = _zip_groups(mapping[ZIP_KEY], plain, draws, where) if ZIP_KEY in mapping else []
    axes = []
    placed: set = set()
    for key in plain:
        if key in placed:
            continue
        names = next((tuple(g) for g in zipped if key in g), (key,))
        columns = [plain[n] if isinstance(plain[n], list) else [plain[n]] for n in names]
        axes.append((names, tuple(zip(*columns))))
        placed.update(names)

    trials = mapping.get(TRIALS_KEY, options.trials)
    if draws and trials is None:
        name = next(iter(draws))
        raise RunxError(f"{where}.{name}: drawn from a distribution, so the sweep needs a number of trials: SWEEP: {{trials: N}} or {TRIALS_KEY}: N")
    if not draws and TRIALS_KEY in own:
        raise RunxError(f"{where}.{TRIALS_KEY}: no hyperparameter here is drawn from a distribution ({{uniform: [low, high]}}, ...); to repeat runs use {REPLICAS_KEY}")
    tag = mapping.get(TAG_KEY)
    keys = tuple(k for k in mapping if k not in RUNX_KEYS)
    return _Group(index, where, keys, tuple(axes), draws, None if tag is None else str(tag),
                  mapping.get(SKIP_KEY) is True, trials if draws else 1, replicas)


def _runs(group: _Group, seed: int) -> Iterator[tuple]:
    """(values, trial, replica) for every run of a group: grid point, then trial, then replica
    (trial None when nothing is drawn, replica None without replicas)."""
    samples: dict = {}
    if group.draws:
        from runx.core.sampling import draw_trials

        samples = {k: draw_trials(d, seed, k, group.trials) for k, d in group.draws.items()}
    names = [name for axis_names, _ in group.axes for name in axis_names]
    reorder = names != list(group.keys)  # drawn keys, or zipped keys moved beside the first of them
    if all(len(axis_names) == 1 for axis_names, _ in group.axes):
        points: Iterator[tuple] = itertools.product(*([row[0] for row in rows] for _, rows in group.axes))
    else:
        points = (tuple(itertools.chain.from_iterable(p)) for p in itertools.product(*(rows for _, rows in group.axes)))
    keys, replicas, trials = group.keys, group.replicas, range(group.trials)
    if not samples and not reorder and replicas is None:  # a plain grid
        yield from ((dict(zip(names, point)), None, None) for point in points)
        return
    for point in points:
        for trial in trials:
            values = dict(zip(names, point))
            if samples:
                values.update((k, drawn[trial]) for k, drawn in samples.items())
            if reorder:
                values = {k: values[k] for k in keys}
            drawn = trial if samples else None
            if replicas is None:
                yield values, drawn, None
                continue
            for replica in range(replicas):
                yield {k: _with_replica(v, replica) for k, v in values.items()}, drawn, replica


def _group_runs(group: _Group) -> int:
    """How many runs a group expands to, counted without expanding it."""
    count = group.trials * (group.replicas or 1)
    for _, rows in group.axes:
        count *= len(rows)
    return count


def _groups(spec: Any, source: str, sweep: SweepOptions) -> list:
    groups = [_parse_group(index, merged, own, where, sweep) for index, merged, own, where in _mappings(spec, source)]
    if sweep.trials is not None and not any(g.draws for g in groups):
        raise RunxError(
            f"{source}: SWEEP.trials: no hyperparameter is drawn from a distribution ({{uniform: [low, high]}}, ...); "
            "to repeat runs use SWEEP.replicas"
        )
    return groups


def expand(spec: Any, source: str = "experiment", options: Optional[Mapping[str, Any]] = None,
           max_runs: Optional[int] = MAX_RUNS) -> list:
    """Expand an HPARAMS value into Combinations, validating every value first.

    `options` is the experiment's SWEEP mapping (trials, replicas, seed). A sweep of more than
    `max_runs` runs (None: no limit) is refused after counting, before anything is expanded."""
    sweep = sweep_options(options, source)
    groups = _groups(spec, source, sweep)
    if max_runs is not None:
        total = sum(_group_runs(g) for g in groups if not g.skip)
        if total > max_runs:
            raise RunxError(f"{source}: HPARAMS: the sweep has {total:,} runs; expected at most {max_runs:,} "
                            f"(--max-runs N allows more)")

    combinations = []
    for group in groups:
        if group.skip:
            continue
        for values, trial, replica in _runs(group, sweep.seed):
            resources = {RESOURCE_KEYS[k]: values.pop(k) for k in list(values) if k in RESOURCE_KEYS}
            tag = None
            if group.tag is not None:
                template = group.tag if replica is None else group.tag.replace(REPLICA, str(replica))
                tag = substitute_tag(template, values)
            combinations.append(Combination(values, tag, resources, group.position, trial, replica))
    return combinations
