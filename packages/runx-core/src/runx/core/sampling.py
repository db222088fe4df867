"""Random search: the distributions a hyperparameter may be drawn from, and reproducible draws.

Imported only when an experiment uses a distribution, so a grid sweep never loads `random`.
Each hyperparameter has its own stream, seeded from (seed, name): the draws of `lr` do not
depend on which other hyperparameters are drawn, and raising the number of trials keeps the
values of the earlier trials.
"""
from __future__ import annotations

import math
import random
from typing import Any, List, Mapping, NamedTuple

from runx.core.errors import RunxError, did_you_mean

DISTRIBUTIONS = {
    "choice": "{choice: [a, b, ...]}",
    "loguniform": "{loguniform: [low, high]}",
    "randint": "{randint: [low, high]}",
    "uniform": "{uniform: [low, high]}",
}

__all__ = ["Distribution", "DISTRIBUTIONS", "parse_distribution", "draw_trials"]


class Distribution(NamedTuple):
    """A validated distribution: `uniform`/`loguniform` (floats in [low, high]), `randint`
    (integers low..high, both included) or `choice` (one of the values, each equally likely)."""

    name: str
    args: tuple

    def draw(self, rng: random.Random) -> Any:
        """One value drawn with `rng`."""
        if self.name == "choice":
            return self.args[rng.randrange(len(self.args))]
        low, high = self.args
        if self.name == "randint":
            return low + rng.randrange(high - low + 1)
        if self.name == "uniform":
            value = low + (high - low) * rng.random()
        else:
            log_low = math.log(low)
            value = math.exp(log_low + (math.log(high) - log_low) * rng.random())
        return min(max(value, low), high)


def _number(value: Any, integer: bool) -> Any:
    """A finite bound; numeric text such as '1e-5' (which YAML reads as a string) counts as a number."""
    if isinstance(value, bool):
        return None
    if integer:
        return value if isinstance(value, int) else None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def parse_distribution(spec: Mapping[str, Any], where: str, check_value) -> Distribution:
    """Validate `{name: args}`; `where` is `<file>: HPARAMS.<key>` for errors, `check_value`
    checks one choice value. Raises RunxError naming the key and what was expected."""
    known = ", ".join(DISTRIBUTIONS)
    if len(spec) != 1:
        names = ", ".join(map(str, spec))
        raise RunxError(f"{where}: expected one distribution ({known}) per hyperparameter, found a mapping of {names}")
    (name, args), = spec.items()
    if name not in DISTRIBUTIONS:
        hint = did_you_mean(str(name), DISTRIBUTIONS)
        raise RunxError(
            f"{where}: expected a value or a list of values, found a mapping with unknown distribution "
            f"{name!r}{hint}; distributions are {known}"
        )
    form = DISTRIBUTIONS[name]
    if name == "choice":
        if not isinstance(args, list) or not args:
            raise RunxError(f"{where}.choice: expected a non-empty list of values: {form}")
        for item in args:
            check_value(item)
        return Distribution(name, tuple(args))
    if not isinstance(args, list) or len(args) != 2:
        raise RunxError(f"{where}.{name}: expected two bounds: {form}, found {args!r}")
    integer = name == "randint"
    low, high = (_number(a, integer) for a in args)
    if low is None or high is None:
        kind = "integers" if integer else "finite numbers"
        raise RunxError(f"{where}.{name}: expected {kind} as bounds: {form}, found {args!r}")
    if not low < high:
        raise RunxError(f"{where}.{name}: expected low < high, found [{args[0]}, {args[1]}]")
    if name == "loguniform" and low <= 0:
        raise RunxError(f"{where}.loguniform: expected bounds above 0 (it is uniform in log space), found [{args[0]}, {args[1]}]")
    return Distribution(name, (low, high))


def draw_trials(distribution: Distribution, seed: int, key: str, trials: int) -> List[Any]:
    """The values of `key` for trials 0..trials-1: the same for the same seed, on every platform."""
    rng = random.Random(f"runx-sweep:{seed}:{key}")
    return [distribution.draw(rng) for _ in range(trials)]
