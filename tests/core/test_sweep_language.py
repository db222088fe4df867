"""The sweep language beyond the cross product: RUNX.ZIP, distributions with trials and a seed,
RUNX.REPLICAS with {replica}. Exhaustive expansion cases, properties, and a statistical test."""
import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runx.core.argv import hparam_args
from runx.core.errors import RunxError
from runx.core.sampling import Distribution, draw_trials
from runx.core.sweep import expand
from runx.core.yamlfile import parse_yaml


def hp(combos):
    return [dict(c.hparams) for c in combos]


def column(combos, key):
    return [c.hparams[key] for c in combos]


# --- RUNX.ZIP -------------------------------------------------------------------------------------

def test_zip_pairs_lists_position_by_position():
    combos = expand({"lr": [0.1, 0.01, 0.001], "warmup": [0, 500, 1000], "RUNX.ZIP": ["lr", "warmup"]})
    assert hp(combos) == [{"lr": 0.1, "warmup": 0}, {"lr": 0.01, "warmup": 500}, {"lr": 0.001, "warmup": 1000}]


def test_zip_group_is_one_axis_of_the_cross_product_at_its_first_key():
    combos = expand({"solver": ["sgd", "adam"], "lr": [0.1, 0.2], "epochs": 5, "warmup": [0, 9],
                     "RUNX.ZIP": ["lr", "warmup"]})
    assert [(c.hparams["solver"], c.hparams["lr"], c.hparams["warmup"]) for c in combos] == [
        ("sgd", 0.1, 0), ("sgd", 0.2, 9), ("adam", 0.1, 0), ("adam", 0.2, 9)]
    assert all(list(c.hparams) == ["solver", "lr", "epochs", "warmup"] for c in combos)


def test_two_zip_groups_cross_each_other():
    spec = {"a": [1, 2], "b": [3, 4], "c": ["x", "y", "z"], "d": [7, 8, 9], "RUNX.ZIP": [["a", "b"], ["c", "d"]]}
    combos = expand(spec)
    assert [(h["a"], h["b"], h["c"], h["d"]) for h in hp(combos)] == [
        (a, b, c, d) for a, b in [(1, 3), (2, 4)] for c, d in [("x", 7), ("y", 8), ("z", 9)]]


def test_zip_of_plain_values_is_one_run():
    assert hp(expand({"a": 1, "b": "x", "RUNX.ZIP": ["a", "b"]})) == [{"a": 1, "b": "x"}]


def test_zip_is_inherited_and_checked_per_dict():
    spec = [{"lr": [0.1, 0.2], "warmup": [0, 5], "RUNX.ZIP": ["lr", "warmup"]},
            {"lr": [0.3, 0.4], "arch": "big"}]
    combos = expand(spec)
    assert [(c.hparams["lr"], c.hparams["warmup"], c.group) for c in combos] == [
        (0.1, 0, 0), (0.2, 5, 0), (0.3, 0, 1), (0.4, 5, 1)]
    with pytest.raises(RunxError, match=r"^exp.yml: HPARAMS\[1\].RUNX.ZIP: zipped hyperparameters need the same number of values; lr has 3 values, warmup has 2 values$"):
        expand([spec[0], {"lr": [1, 2, 3]}], "exp.yml")


@given(st.lists(st.integers(), min_size=1, max_size=5), st.lists(st.integers(), min_size=1, max_size=3))
def test_zip_count_is_the_list_length_times_the_rest(values, other):
    spec = {"a": values, "b": list(reversed(values)), "c": other, "RUNX.ZIP": ["a", "b"]}
    combos = expand(spec)
    assert len(combos) == len(values) * len(other)
    assert [(h["a"], h["b"]) for h in hp(combos)[::len(other)]] == list(zip(values, reversed(values)))


# --- distributions, trials, seed -----------------------------------------------------------------

def test_distributions_draw_one_value_per_trial_within_bounds():
    spec = {"lr": {"loguniform": [1e-5, 1e-1]}, "m": {"uniform": [0.5, 0.99]}, "bs": {"randint": [16, 64]},
            "opt": {"choice": ["sgd", "adam", None]}, "epochs": 3}
    combos = expand(spec, options={"trials": 50, "seed": 7})
    assert len(combos) == 50
    assert all(list(h) == ["lr", "m", "bs", "opt", "epochs"] for h in hp(combos))
    assert all(1e-5 <= v <= 1e-1 and isinstance(v, float) for v in column(combos, "lr"))
    assert all(0.5 <= v <= 0.99 for v in column(combos, "m"))
    assert all(16 <= v <= 64 and type(v) is int for v in column(combos, "bs"))
    assert set(column(combos, "opt")) == {"sgd", "adam", None}
    assert set(column(combos, "epochs")) == {3}
    assert len(set(column(combos, "lr"))) == 50


def test_grid_times_trials_each_grid_point_gets_the_same_draws():
    combos = expand({"solver": ["sgd", "adam"], "lr": {"uniform": [0, 1]}}, options={"trials": 4})
    assert len(combos) == 8
    assert column(combos, "solver") == ["sgd"] * 4 + ["adam"] * 4
    assert column(combos, "lr")[:4] == column(combos, "lr")[4:]


def test_randint_includes_both_ends_and_choice_every_value():
    combos = expand({"d": {"randint": [1, 3]}, "c": {"choice": ["a", "b"]}}, options={"trials": 200})
    assert set(column(combos, "d")) == {1, 2, 3}
    assert set(column(combos, "c")) == {"a", "b"}


def test_same_seed_same_values_other_seed_other_values_default_seed_is_0():
    spec = {"lr": {"loguniform": [1e-4, 1]}, "x": {"randint": [0, 10 ** 9]}}
    first = hp(expand(spec, options={"trials": 5, "seed": 3}))
    assert first == hp(expand(spec, options={"trials": 5, "seed": 3}))
    assert first != hp(expand(spec, options={"trials": 5, "seed": 4}))
    assert hp(expand(spec, options={"trials": 5})) == hp(expand(spec, options={"trials": 5, "seed": 0}))


def test_golden_draws_stay_the_same_on_every_python():
    assert draw_trials(Distribution("loguniform", (1e-5, 1e-1)), 0, "lr", 3) == [
        0.008215626453837497, 1.2627199738200466e-05, 0.0031837264825162535]
    assert draw_trials(Distribution("uniform", (0.0, 1.0)), 0, "x", 2) == [0.21307692217427954, 0.3742217218229831]
    assert draw_trials(Distribution("randint", (1, 6)), 0, "d", 5) == [5, 3, 4, 1, 1]
    assert draw_trials(Distribution("choice", ("a", "b", "c")), 0, "c", 5) == ["a", "b", "a", "c", "a"]


def test_draws_of_a_key_do_not_depend_on_other_keys_or_on_later_trials():
    alone = column(expand({"lr": {"uniform": [0, 1]}}, options={"trials": 3}), "lr")
    more = expand({"a": {"randint": [0, 9]}, "lr": {"uniform": [0, 1]}, "b": [1, 2]}, options={"trials": 6})
    assert column(more, "lr")[:3] == alone and column(more, "lr")[6:9] == alone


def test_runx_trials_overrides_sweep_trials_per_dict():
    spec = [{"lr": {"uniform": [0, 1]}, "arch": "a"},
            {"arch": "b", "RUNX.TRIALS": 2},
            {"arch": "c", "lr": 0.5}]
    combos = expand(spec, options={"trials": 3})
    assert column(combos, "arch") == ["a"] * 3 + ["b"] * 2 + ["c"]
    assert column(combos, "lr")[3:5] == column(combos, "lr")[:2]  # draws depend on the seed and the key only
    assert combos[-1].hparams["lr"] == 0.5


def test_runx_trials_inherited_by_a_dict_without_distributions_is_fine():
    combos = expand([{"lr": {"uniform": [0, 1]}, "RUNX.TRIALS": 2}, {"lr": [0.1, 0.2]}])
    assert len(combos) == 4 and column(combos, "lr")[2:] == [0.1, 0.2]


def test_skipped_dict_with_distributions_draws_nothing_but_is_validated():
    combos = expand([{"lr": {"uniform": [0, 1]}, "RUNX.SKIP": True, "RUNX.TRIALS": 2}, {"lr": 0.3}])
    assert hp(combos) == [{"lr": 0.3}]
    with pytest.raises(RunxError, match="unknown distribution"):
        expand([{"lr": {"unifrom": [0, 1]}, "RUNX.SKIP": True}, {"lr": 0.3}])


def test_yaml_bounds_written_1e_5_count_as_numbers():
    spec = parse_yaml("lr: {loguniform: [1e-5, 1e-1]}\n", "x")
    bounds = spec["lr"]["loguniform"]  # YAML 1.1 reads these as text; runx reads them as numbers, spelled as written
    assert bounds == [1e-5, 1e-1] and all(isinstance(b, float) for b in bounds) and [str(b) for b in bounds] == ["1e-5", "1e-1"]
    assert all(1e-5 <= v <= 1e-1 for v in column(expand(spec, options={"trials": 20}), "lr"))
    quoted = parse_yaml("lr: {loguniform: ['1e-5', '1e-1']}\n", "x")  # quoted: text, still a usable bound
    assert quoted["lr"]["loguniform"] == ["1e-5", "1e-1"]
    assert all(1e-5 <= v <= 1e-1 for v in column(expand(quoted, options={"trials": 20}), "lr"))


def test_sampled_floats_reach_argv_exactly():
    combos = expand({"lr": {"loguniform": [1e-8, 1e-1]}}, options={"trials": 30})
    for combo in combos:
        args = hparam_args(combo.hparams)
        assert float(args[1]) == combo.hparams["lr"] and args[1] == repr(combo.hparams["lr"])


def test_tag_and_logdir_with_sampled_values():
    combos = expand({"d": {"randint": [1, 2]}, "out": {"choice": ["LOGDIR/a"]}, "RUNX.TAG": "d{d}"},
                    options={"trials": 5})
    assert [c.tag for c in combos] == [f"d{c.hparams['d']}" for c in combos]
    assert set(column(combos, "out")) == {"LOGDIR/a"}


def test_distribution_with_zip_and_list_of_dicts():
    spec = [{"lr": [0.1, 0.2], "warmup": [1, 2], "RUNX.ZIP": ["lr", "warmup"], "wd": {"loguniform": [1e-6, 1e-2]},
             "RUNX.TAG": "base"},
            {"arch": "big", "RUNX.TAG": "big{warmup}"}]
    combos = expand(spec, options={"trials": 3})
    assert len(combos) == 12
    assert [c.tag for c in combos] == ["base"] * 6 + ["big1"] * 3 + ["big2"] * 3
    assert [(c.hparams["lr"], c.hparams["warmup"]) for c in combos][:6] == [(0.1, 1)] * 3 + [(0.2, 2)] * 3


# --- replicas --------------------------------------------------------------------------------------

def test_replicas_repeat_each_configuration_side_by_side():
    combos = expand({"lr": [0.1, 0.2], "seed": "{replica}", "name": "r{replica}x", "RUNX.REPLICAS": 3,
                     "RUNX.TAG": "lr{lr}-{replica}"})
    assert [(h["lr"], h["seed"], h["name"]) for h in hp(combos)] == [
        (lr, r, f"r{r}x") for lr in (0.1, 0.2) for r in range(3)]
    assert all(type(c.hparams["seed"]) is int for c in combos)
    assert [c.tag for c in combos] == [f"lr{lr}-{r}" for lr in (0.1, 0.2) for r in range(3)]


def test_combinations_know_their_trial_and_replica():
    combos = expand({"lr": {"uniform": [0, 1]}, "wd": [0, 1]}, options={"trials": 2, "replicas": 2})
    assert [(c.hparams["wd"], c.trial, c.replica) for c in combos] == [
        (wd, t, r) for wd in (0, 1) for t in range(2) for r in range(2)]
    assert [(c.trial, c.replica) for c in expand({"lr": [1, 2]})] == [(None, None)] * 2
    assert [(c.trial, c.replica) for c in expand({"lr": [1], "RUNX.REPLICAS": 2})] == [(None, 0), (None, 1)]


def test_unquoted_replica_is_the_same_as_quoted():
    spec = parse_yaml("seed: {replica}\nRUNX.REPLICAS: 2\n", "x")
    assert hp(expand(spec)) == [{"seed": 0}, {"seed": 1}]


def test_replica_text_keeps_its_old_meaning_without_replicas():
    combos = expand({"s": "{replica}", "RUNX.TAG": "t{replica}"})
    assert hp(combos) == [{"s": "{replica}"}] and combos[0].tag == "t{replica}"


def test_replicas_of_a_trial_share_its_draws():
    combos = expand({"lr": {"uniform": [0, 1]}, "seed": "{replica}"}, options={"trials": 3, "replicas": 2})
    assert column(combos, "seed") == [0, 1] * 3
    lrs = column(combos, "lr")
    assert lrs[0::2] == lrs[1::2] and len(set(lrs)) == 3


def test_replicas_in_choice_values_resources_and_sweep_default():
    spec = [{"seed": {"choice": ["{replica}"]}, "SUBMIT_JOB.PARTITION": "p{replica}"},
            {"RUNX.REPLICAS": 1, "x": 1}]
    combos = expand(spec, options={"trials": 1, "replicas": 2})
    assert [(c.hparams["seed"], c.resources["partition"]) for c in combos] == [(0, "p0"), (1, "p1"), (0, "p0")]


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_count_is_grid_times_trials_times_replicas(grid, trials, replicas):
    spec = {"g": list(range(grid)), "x": {"uniform": [0, 1]}, "RUNX.REPLICAS": replicas}
    combos = expand(spec, options={"trials": trials})
    assert len(combos) == grid * trials * replicas
    keys = [(h["g"], h["x"]) for h in hp(combos)]
    assert len(set(keys)) == grid * trials


# --- the seed's syntax is unchanged ----------------------------------------------------------------

@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3), st.lists(st.integers(), min_size=1, max_size=3), max_size=4),
       st.integers())
def test_a_grid_ignores_the_seed(spec, seed):
    combos = expand(spec, options={"seed": seed})
    assert hp(combos) == [dict(zip(spec, values)) for values in itertools.product(*spec.values())]


# --- properties of sampling ------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(st.integers(), st.tuples(finite, finite).filter(lambda b: b[0] < b[1]), st.integers(1, 30))
def test_uniform_is_reproducible_and_within_bounds(seed, bounds, trials):
    spec = {"x": {"uniform": list(bounds)}}
    combos = expand(spec, options={"trials": trials, "seed": seed})
    assert hp(combos) == hp(expand(spec, options={"trials": trials, "seed": seed}))
    assert all(bounds[0] <= v <= bounds[1] for v in column(combos, "x"))


@given(st.integers(), st.floats(1e-300, 1e300), st.floats(1.0000001, 1e6), st.integers(1, 30))
def test_loguniform_is_reproducible_and_within_bounds(seed, low, ratio, trials):
    high = low * ratio
    if not math.isfinite(high) or not low < high:
        return
    spec = {"x": {"loguniform": [low, high]}}
    combos = expand(spec, options={"trials": trials, "seed": seed})
    assert hp(combos) == hp(expand(spec, options={"trials": trials, "seed": seed}))
    assert all(low <= v <= high for v in column(combos, "x"))


@given(st.integers(), st.integers(-10 ** 12, 10 ** 12), st.integers(1, 10 ** 6), st.integers(1, 30))
def test_randint_is_reproducible_integral_and_within_bounds(seed, low, width, trials):
    spec = {"x": {"randint": [low, low + width]}}
    values = column(expand(spec, options={"trials": trials, "seed": seed}), "x")
    assert values == column(expand(spec, options={"trials": trials, "seed": seed}), "x")
    assert all(type(v) is int and low <= v <= low + width for v in values)


# What a YAML file can hold: no NUL, no unpaired surrogate (the sweep refuses both with one line).
NO_NUL_OR_SURROGATE = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@given(st.integers(), st.lists(st.one_of(st.integers(), st.text(NO_NUL_OR_SURROGATE, max_size=5),
                                         st.booleans(), st.none()), min_size=1, max_size=6),
       st.integers(1, 20), st.integers(1, 20))
def test_choice_draws_from_its_values_and_more_trials_keep_earlier_ones(seed, values, fewer, extra):
    spec = {"x": {"choice": values}}
    short = column(expand(spec, options={"trials": fewer, "seed": seed}), "x")
    longer = column(expand(spec, options={"trials": fewer + extra, "seed": seed}), "x")
    assert longer[:fewer] == short
    assert all(any(v is w or v == w and type(v) is type(w) for w in values) for v in longer)


def ks_statistic(samples, cdf):
    """Kolmogorov-Smirnov distance between the samples' empirical CDF and `cdf`."""
    xs = sorted(samples)
    n = len(xs)
    return max(max((i + 1) / n - cdf(x), cdf(x) - i / n) for i, x in enumerate(xs))


# One-sample KS at alpha = 0.001: reject when D > c / sqrt(n), c = sqrt(-ln(alpha / 2) / 2) = 1.9495.
KS_C = math.sqrt(-math.log(0.001 / 2) / 2)


@pytest.mark.parametrize("low, high", [(1e-5, 1e-1), (1.0, 2.0), (1e-12, 1e12)])
def test_loguniform_is_uniform_in_log_space(low, high):
    n = 4000
    values = draw_trials(Distribution("loguniform", (low, high)), 12345, "lr", n)
    span = math.log(high) - math.log(low)
    log_uniform_cdf = lambda x: min(1.0, max(0.0, (math.log(x) - math.log(low)) / span))  # noqa: E731
    assert ks_statistic(values, log_uniform_cdf) < KS_C / math.sqrt(n)
    # the test has power: plain uniform draws over the same bounds are far from log-uniform
    if high / low > 100:
        plain = draw_trials(Distribution("uniform", (low, high)), 12345, "lr", n)
        assert ks_statistic(plain, log_uniform_cdf) > 5 * KS_C / math.sqrt(n)


def test_uniform_passes_ks_and_randint_passes_chi_square():
    n = 4000
    values = draw_trials(Distribution("uniform", (-3.0, 5.0)), 99, "x", n)
    assert ks_statistic(values, lambda x: (x + 3.0) / 8.0) < KS_C / math.sqrt(n)
    ints = draw_trials(Distribution("randint", (0, 9)), 99, "k", n)
    chi2 = sum((ints.count(k) - n / 10) ** 2 / (n / 10) for k in range(10))
    assert chi2 < 27.877  # chi-square, 9 degrees of freedom, 0.999 quantile


# --- typos and bad input: one line naming file and key ---------------------------------------------

@pytest.mark.parametrize(
    "spec, options, message",
    [
        ({"lr": {"loguniforn": [1, 2]}}, {"trials": 1},
         "HPARAMS.lr: expected a value or a list of values, found a mapping with unknown distribution 'loguniforn' (did you mean 'loguniform'?); distributions are choice, loguniform, randint, uniform"),
        ({"lr": {"normal": [0, 1]}}, {"trials": 1}, "unknown distribution 'normal'; distributions are"),
        ({"lr": {"uniform": [0, 1], "randint": [0, 1]}}, {"trials": 1}, "HPARAMS.lr: expected one distribution"),
        ({"lr": {"uniform": [1, 1]}}, {"trials": 1}, "HPARAMS.lr.uniform: expected low < high, found [1, 1]"),
        ({"lr": {"uniform": [2, 1]}}, {"trials": 1}, "HPARAMS.lr.uniform: expected low < high"),
        ({"lr": {"uniform": [0, "x"]}}, {"trials": 1}, "HPARAMS.lr.uniform: expected finite numbers as bounds"),
        ({"lr": {"uniform": [0, ".inf"]}}, {"trials": 1}, "expected finite numbers as bounds"),
        ({"lr": {"uniform": [0, True]}}, {"trials": 1}, "expected finite numbers as bounds"),
        ({"lr": {"uniform": [0, 1, 2]}}, {"trials": 1}, "HPARAMS.lr.uniform: expected two bounds: {uniform: [low, high]}"),
        ({"lr": {"uniform": 1}}, {"trials": 1}, "expected two bounds"),
        ({"lr": {"loguniform": [0, 1]}}, {"trials": 1}, "HPARAMS.lr.loguniform: expected bounds above 0"),
        ({"lr": {"loguniform": [-1, 1]}}, {"trials": 1}, "expected bounds above 0"),
        ({"n": {"randint": [1.5, 3]}}, {"trials": 1}, "HPARAMS.n.randint: expected integers as bounds"),
        ({"n": {"randint": [3, 1]}}, {"trials": 1}, "HPARAMS.n.randint: expected low < high"),
        ({"c": {"choice": []}}, {"trials": 1}, "HPARAMS.c.choice: expected a non-empty list"),
        ({"c": {"choice": "a"}}, {"trials": 1}, "HPARAMS.c.choice: expected a non-empty list"),
        ({"c": {"choice": [[1]]}}, {"trials": 1}, "HPARAMS.c: expected a list of plain values, found a list inside the list"),
        ({"lr": {"uniform": [0, 1]}}, {}, "HPARAMS.lr: drawn from a distribution, so the sweep needs a number of trials"),
        ({"lr": [1, 2]}, {"trials": 3}, "SWEEP.trials: no hyperparameter is drawn from a distribution"),
        ({"lr": [1, 2], "RUNX.TRIALS": 3}, {}, "HPARAMS.RUNX.TRIALS: no hyperparameter here is drawn"),
        ({"lr": 1}, {"trails": 3}, "SWEEP.trails: unknown sweep option (did you mean 'trials'?); expected one of early_stop, goal, method, metric, parallel, poll, replicas, seed, trials"),
        ({"lr": 1}, {"replicas": 0}, "SWEEP.replicas: expected a whole number of at least 1, found 0"),
        ({"lr": {"uniform": [0, 1]}}, {"trials": True}, "SWEEP.trials: expected a whole number of at least 1, found True"),
        ({"lr": 1}, {"seed": "abc"}, "SWEEP.seed: expected a whole number, found 'abc'"),
        ({"lr": 1}, {"seed": 1.5}, "SWEEP.seed: expected a whole number"),
        ({"lr": 1, "RUNX.TAGS": "x"}, {}, "HPARAMS.RUNX.TAGS: unknown RUNX key (did you mean 'RUNX.TAG'?); expected one of RUNX.REPLICAS, RUNX.SKIP, RUNX.TAG, RUNX.TRIALS, RUNX.ZIP"),
        ([{"lr": 1}, {"RUNX.REPLICA": 2}], {}, "HPARAMS[1].RUNX.REPLICA: unknown RUNX key (did you mean 'RUNX.REPLICAS'?)"),
        ({"lr": 1, "RUNX.REPLICAS": 0}, {}, "HPARAMS.RUNX.REPLICAS: expected a whole number of at least 1, found 0"),
        ({"lr": 1, "RUNX.REPLICAS": "3"}, {}, "HPARAMS.RUNX.REPLICAS: expected a whole number of at least 1, found '3'"),
        ({"lr": {"uniform": [0, 1]}, "RUNX.TRIALS": -1}, {}, "HPARAMS.RUNX.TRIALS: expected a whole number of at least 1"),
        ({"seed": {"replica": None}}, {}, "HPARAMS.seed: {replica} is the replica number, but no RUNX.REPLICAS or SWEEP.replicas is set"),
        ({"seed": {"replica": 3}, "RUNX.REPLICAS": 2}, {}, "HPARAMS.seed: {replica} takes no value; write seed: '{replica}'"),
        ({"replica": [1, 2]}, {"replicas": 2}, "HPARAMS.replica: a hyperparameter cannot be named replica"),
        ({"a": [1], "RUNX.ZIP": ["a", "bb"]}, {}, "HPARAMS.RUNX.ZIP: 'bb' is not a hyperparameter here"),
        ({"lr": [1], "wu": [2], "RUNX.ZIP": ["lr", "wup"]}, {}, "HPARAMS.RUNX.ZIP: 'wup' is not a hyperparameter here (did you mean 'wu'?)"),
        ({"a": [1, 2], "b": [1]}, {}, None),
        ({"a": [1, 2], "b": [1], "RUNX.ZIP": ["a", "b"]}, {}, "HPARAMS.RUNX.ZIP: zipped hyperparameters need the same number of values; a has 2 values, b has 1 value"),
        ({"a": [1], "b": {"uniform": [0, 1]}, "RUNX.ZIP": ["a", "b"]}, {"trials": 1}, "HPARAMS.RUNX.ZIP: b is drawn from a distribution"),
        ({"a": [1], "b": [2], "RUNX.ZIP": [["a", "b"], ["b"]]}, {}, "HPARAMS.RUNX.ZIP: b is zipped twice"),
        ({"a": [1], "b": [2], "RUNX.ZIP": "a,b"}, {}, "HPARAMS.RUNX.ZIP: expected the names of the hyperparameters to pair"),
        ({"a": [1], "b": [2], "RUNX.ZIP": ["a", ["b"]]}, {}, "HPARAMS.RUNX.ZIP: expected the names"),
        ({"a": [1], "b": [2], "RUNX.ZIP": []}, {}, "HPARAMS.RUNX.ZIP: expected the names"),
    ],
)
def test_bad_sweeps_fail_with_one_line_naming_file_and_key(spec, options, message):
    if message is None:
        assert len(expand(spec, "exp.yml", options)) == 2
        return
    with pytest.raises(RunxError) as err:
        expand(spec, "exp.yml", options)
    text = str(err.value)
    assert text.startswith("exp.yml: ") and "\n" not in text
    assert message in text, text
