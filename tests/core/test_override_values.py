"""Overrides as pure functions: how a `key=value` word reads, and what it does to the experiment mapping."""
from __future__ import annotations

import pytest
from runx.core.errors import RunxError
from runx.core.overrides import apply_overrides, parse_overrides


@pytest.mark.parametrize("word, expected", [
    ("lr=0.1", 0.1), ("lr=1e-5", 1e-5), ("lr=0.1,0.2", [0.1, 0.2]), ("flag=true", True), ("n=3", 3),
    ("name=a,b", ["a", "b"]), ('name="a,b"', "a,b"), ("name='a,b'", "a,b"), ("name=[a,b]", "[a,b]"),
    ("wd={uniform: [0, 1]}", {"uniform": [0, 1]}), ("s=None", "None"),
])
def test_hparam_values_read_as_yaml(word, expected):
    experiment, _ = apply_overrides({"HPARAMS": {"lr": 1}}, parse_overrides([word]), "exp.yml")
    assert experiment["HPARAMS"][word.split("=")[0]] == expected


def test_null_removes_and_every_mapping_changes_and_the_input_is_untouched():
    original = {"HPARAMS": [{"lr": 1, "a": 2}, {"lr": 3}], "RESOURCES": {"gpu": 1}}
    changed, warnings = apply_overrides(original, parse_overrides(["a=null", "lr=5", "RESOURCES.gpu=~", "b=null"]), "e.yml")
    assert changed == {"HPARAMS": [{"lr": 5}, {"lr": 5}], "RESOURCES": {}}
    assert original == {"HPARAMS": [{"lr": 1, "a": 2}, {"lr": 3}], "RESOURCES": {"gpu": 1}}
    assert warnings == ["override b=null: b is not in HPARAMS (e.yml); nothing to remove"]
    changed, _ = apply_overrides(original, parse_overrides(["HPARAMS.FARM=x", "CODE_IGNORE_PATTERNS=*.pyc,data*"]), "e.yml")
    assert changed["HPARAMS"][0]["FARM"] == "x" and changed["CODE_IGNORE_PATTERNS"] == "*.pyc,data*"


@pytest.mark.parametrize("word", ["x", "=1", "-x=1", "lr=", "lr= ", "lr=a,,b", "lr=a,[b]", "LR_TYPO=1", "SWEEP.x=1",
                                  "METRICS=1", "RESOURCES.a.b=1", "lr=[1"])
def test_refused(word):
    with pytest.raises(RunxError):
        apply_overrides({"HPARAMS": {"lr": 1}}, parse_overrides([word]), "exp.yml")
