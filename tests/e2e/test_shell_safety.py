"""Every hyperparameter value reaches the training script's argv byte for byte, through any farm."""
from __future__ import annotations

import json
import os
import shutil
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Any text a YAML string can hold and a POSIX argv can carry: no NUL, no surrogates, and no
# characters YAML itself refuses (C0/C1 controls other than tab and newline).
_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\x00\r\x85\u2028\u2029\ufeff",
        min_codepoint=0x09,
    ).filter(lambda c: c in "\t\n" or ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F),
    min_size=0,
    max_size=30,
)
NASTY = ["'", '"', "$HOME", "`id`", "a;b", "$(echo x)", "\\", "-x", "--lr", "é ñ 漢字 🙂", "a\nb", " lead", "trail ", "*", "!", "~"]
VALUES = st.one_of(st.sampled_from(NASTY), _text).filter(lambda s: s != "None")

FAKE_SUBMIT = """#!/usr/bin/env python3
import subprocess, sys
job = sys.argv[sys.argv.index("-c") + 1]
sys.exit(subprocess.run(["bash", "-c", job]).returncode)
"""


def _experiment(project, values):
    shutil.rmtree(project.logroot, ignore_errors=True)
    project.write("exp.yml", "CMD: python train.py\nHPARAMS:\n" + "".join(
        f"  k{i}: {json.dumps(v, ensure_ascii=False)}\n" for i, v in enumerate(values)))


def _check_runs(project, values):
    [run] = project.runs("exp")
    seen = project.argv_of(run)["argv"]
    expected = []
    for i, v in enumerate(values):
        expected += [f"--k{i}", v]
    assert seen == expected
    hparams = json.loads((run / "hparams.json").read_text(encoding="utf-8"))
    assert list(hparams.values()) == values


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(VALUES, min_size=1, max_size=4))
def test_values_survive_interactive(project, values):
    _experiment(project, values)
    done = project.runx("exp.yml", "-i", "--no_cooldir", "--tag", "t")
    assert done.returncode == 0, done.stderr
    _check_runs(project, values)


@pytest.fixture
def submit_job_on_path(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "submit_job"
    script.write_text(FAKE_SUBMIT)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(VALUES, min_size=1, max_size=4))
def test_values_survive_generic_farm(project, submit_job_on_path, values):
    project.write(".runx", "LOGROOT: logs\nFARM: bigfarm\nbigfarm:\n  SUBMIT_CMD: submit_job\n  RESOURCES: {gpu: 1}\n")
    _experiment(project, values)
    done = project.runx("exp.yml", "--no_cooldir", "--tag", "t", env=submit_job_on_path)
    assert done.returncode == 0, done.stderr
    _check_runs(project, values)
