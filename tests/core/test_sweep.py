"""Expansion is pure: exhaustive cases and properties."""
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runx.core.argv import hparam_args, resource_args
from runx.core.errors import RunxError
from runx.core.sweep import expand, substitute_tag


def hp(combos):
    return [dict(c.hparams) for c in combos]


def test_cross_product_in_key_order_last_key_fastest():
    combos = expand({"lr": [0.01, 0.02], "solver": ["sgd", "adam"], "epochs": 10})
    assert hp(combos) == [
        {"lr": 0.01, "solver": "sgd", "epochs": 10},
        {"lr": 0.01, "solver": "adam", "epochs": 10},
        {"lr": 0.02, "solver": "sgd", "epochs": 10},
        {"lr": 0.02, "solver": "adam", "epochs": 10},
    ]


@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3), st.lists(st.integers(), min_size=1, max_size=3), max_size=4))
def test_product_count_and_order_match_itertools(spec):
    combos = expand(spec)
    expected = [dict(zip(spec, values)) for values in itertools.product(*spec.values())]
    assert hp(combos) == expected


def test_list_of_dicts_inherits_from_first_and_tags_per_dict():
    spec = [
        {"logdir": "LOGDIR", "adam": True, "arch": "alexnet", "lr": [0.01, 0.02], "epochs": 10, "RUNX.TAG": "alexnet"},
        {"arch": "resnet50", "lr": [0.002, 0.005], "RUNX.TAG": "resnet50"},
        {"RUNX.SKIP": True, "arch": "resnet50", "lr": [0.002, 0.005], "RUNX.TAG": "resnet50"},
    ]
    combos = expand(spec)
    assert [c.tag for c in combos] == ["alexnet", "alexnet", "resnet50", "resnet50"]
    assert [c.hparams["lr"] for c in combos] == [0.01, 0.02, 0.002, 0.005]
    assert all(c.hparams["adam"] is True and c.hparams["epochs"] == 10 for c in combos)
    assert combos[2].hparams["arch"] == "resnet50"
    assert all("RUNX.TAG" not in c.hparams and "RUNX.SKIP" not in c.hparams for c in combos)


def test_skip_is_not_inherited_but_tag_is():
    combos = expand([{"a": 1, "RUNX.SKIP": True, "RUNX.TAG": "t{a}"}, {"a": 2}])
    assert [(c.tag, c.hparams["a"]) for c in combos] == [("t2", 2)]


def test_tag_substitution_is_plain_text_and_per_run():
    combos = expand({"arch": ["r.50", "a*b"], "x": "[0-9]", "RUNX.TAG": "{arch}-{x}-{missing}-lrstudy"})
    assert [c.tag for c in combos] == ["r.50-[0-9]-{missing}-lrstudy", "a*b-[0-9]-{missing}-lrstudy"]
    assert substitute_tag("{a}{a}", {"a": True}) == "TrueTrue"
    # one pass: a value that looks like a key stays as it is; braces around no key stay too
    assert substitute_tag("{arch}_{lr}", {"arch": "{lr}", "lr": 0.01}) == "{lr}_0.01"
    assert substitute_tag("{{lr}}-{-}{lr", {"lr": 0.5}) == "{0.5}-{-}{lr"


def test_tag_does_not_leak_into_untagged_dicts_runs():
    combos = expand([{"a": [1, 2]}, {"a": 3, "RUNX.TAG": "x{a}"}, {"a": 4}])
    assert [c.tag for c in combos] == [None, None, "x3", None]


def test_submit_job_keys_become_resources():
    combos = expand({"SUBMIT_JOB.NODES": [1, 2], "SUBMIT_JOB.PARTITION": "p", "lr": 1})
    assert [dict(c.resources) for c in combos] == [{"nodes": 1, "partition": "p"}, {"nodes": 2, "partition": "p"}]
    assert all(dict(c.hparams) == {"lr": 1} for c in combos)


def test_booleans_none_and_strings_on_the_command_line():
    args = hparam_args({"flag": True, "off": False, "null": None, "none_str": "None", "s": "True", "n": 3})
    assert args == ["--flag", "--s", "True", "--n", "3"]
    combos = expand({"some_flag": [True, False]})
    assert [hparam_args(c.hparams) for c in combos] == [["--some_flag"], []]


def test_resources_lists_repeat_and_booleans_are_flags():
    assert resource_args({"gpu": 2, "mount": ["a:/a", "b:/b"], "x": True, "y": False, "z": None}) == [
        "--gpu", "2", "--mount", "a:/a", "--mount", "b:/b", "--x"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"a": {"b": 1}}, "HPARAMS.a: expected a value or a list of values, found a mapping"),
        ({"a": [[1, 2]]}, "HPARAMS.a: expected a list of plain values, found a list inside the list"),
        ({"a": []}, "HPARAMS.a: empty list"),
        ([{"a": 1}, 3], "HPARAMS[1]: expected a mapping"),
        ({"RUNX.SKIP": "yes", "a": 1}, "RUNX.SKIP: expected true or false"),
        ([{"a": 1}, {"b": {"c": 1}}], "HPARAMS[1].b: expected a value or a list of values, found a mapping"),
    ],
)
def test_bad_values_name_the_key(spec, message):
    with pytest.raises(RunxError, match=None) as err:
        expand(spec, "exp.yml")
    assert message in str(err.value)
    assert str(err.value).startswith("exp.yml: ")


def test_float_spelling_is_kept():
    from runx.core.yamlfile import parse_yaml

    spec = parse_yaml("lr: [0.00001, 1.0e-3, 2.50]\n", "x")
    combos = expand(spec)
    assert [hparam_args(c.hparams)[1] for c in combos] == ["0.00001", "1.0e-3", "2.50"]
