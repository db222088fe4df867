"""SWEEP and HPARAMS of an adaptive search, validated without Optuna (runx.core.search.options, .space)."""
from __future__ import annotations

import pytest
from runx.core.errors import RunxError
from runx.core.search.options import search_options
from runx.core.search.space import combination_for, describe, parse_space


def test_options_defaults_and_names():
    o = search_options({"method": "bayes", "trials": 5, "metric": "val_loss"}, "e.yml", {})
    assert (o.method, o.trials, o.parallel, o.goal, o.seed, o.early_stop, o.poll) == ("tpe", 5, 1, "min", 0, None, None)
    assert search_options({"method": "tpe", "trials": 5, "metric": "acc"}, "e.yml", {}).goal == "max"
    assert search_options({"method": "tpe", "trials": 5, "metric": "acc"}, "e.yml", {"acc": "min"}).goal == "min"
    stop = search_options({"method": "tpe", "trials": 5, "metric": "acc", "early_stop": "median"}, "e.yml", {}).early_stop
    assert (stop.method, stop.warmup_epochs, stop.startup_trials, stop.grace) == ("median", 0, 5, 10)
    stop = search_options({"method": "tpe", "trials": 5, "metric": "acc",
                           "early_stop": {"method": "hyperband", "min_epochs": 2, "max_epochs": 27}}, "e.yml", {}).early_stop
    assert (stop.min_epochs, stop.max_epochs, stop.reduction) == (2, 27, 3)


@pytest.mark.parametrize("sweep, message", [
    ({"method": "tpe", "trials": 5, "metric": "l", "goal": "down"}, "SWEEP.goal: expected min or max, found 'down'"),
    ({"method": "tpe", "trials": 5, "metric": "l", "early_stop": {"method": "ash"}},
     "SWEEP.early_stop.method: unknown early stopping method 'ash' (did you mean 'asha'?)"),
    ({"method": "tpe", "trials": 5, "metric": "l", "early_stop": {"method": "asha", "warmup_epochs": 1}},
     "SWEEP.early_stop.warmup_epochs: not an option of asha"),
    ({"method": "tpe", "trials": 5, "metric": "l", "early_stop": {"method": "hyperband", "max_epochs": 1}},
     "SWEEP.early_stop.max_epochs: expected more than min_epochs (1), found 1"),
    ({"method": "tpe", "trials": 5, "metric": "l", "replicas": 2}, "SWEEP.replicas: does not combine with method tpe"),
    ({"method": "tpe", "trials": 5, "metric": "l", "poll": -1}, "SWEEP.poll: expected a number of seconds"),
    ({"method": "tpe", "trials": 0, "metric": "l"}, "SWEEP.trials: expected a whole number of at least 1, found 0"),
    ({"method": "tpe", "trials": 5}, "SWEEP.metric: missing; method tpe needs the val metric to optimise"),
])
def test_bad_options(sweep, message):
    with pytest.raises(RunxError) as err:
        search_options(sweep, "e.yml", {})
    assert str(err.value).startswith(f"e.yml: {message}"), str(err.value)


def test_space_and_trial_runs():
    spec = {"lr": {"loguniform": [1e-5, 0.1]}, "depth": [2, 4], "n": {"randint": [1, 3]}, "epochs": 5,
            "logdir": "LOGDIR", "SUBMIT_JOB.PARTITION": "gpu", "RUNX.TAG": "d{depth}"}
    space = parse_space(spec, "e.yml", "tpe")
    assert sorted(space.searched) == ["depth", "lr", "n"] and space.fixed["epochs"] == 5
    assert describe(space)[:3] == ["lr: loguniform[1e-05, 0.1]", "depth: choice[2, 4]", "n: randint[1, 3]"]
    c = combination_for(space, {"lr": 0.01, "depth": 4, "n": 2}, 7)
    assert list(c.hparams) == ["lr", "depth", "n", "epochs", "logdir"]  # the YAML's order, resources out
    assert (c.tag, c.trial, c.resources) == ("d4", 7, {"partition": "gpu"})


@pytest.mark.parametrize("spec, message", [
    ({"lr": 1}, "HPARAMS: nothing to search"),
    ({"lr": [1, 2], "RUNX.REPLICAS": 2}, "HPARAMS.RUNX.REPLICAS: does not combine with method tpe"),
    ({"lr": {"uniform": [1, 0]}}, "HPARAMS.lr.uniform: expected low < high"),
    ({"lr": [[1], 2]}, "HPARAMS.lr: expected a list of plain values"),
])
def test_bad_space(spec, message):
    with pytest.raises(RunxError) as err:
        parse_space(spec, "e.yml", "tpe")
    assert str(err.value).startswith(f"e.yml: {message}"), str(err.value)
