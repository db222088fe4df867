"""Bad input: one clear line naming the file and key, exit 2, no traceback, nothing created."""
from __future__ import annotations

import json

import pytest

GOOD = "CMD: python train.py\nHPARAMS: {lr: [0.1, 0.2]}\n"


def run_bad(project, args, expected, env=None):
    done = project.runx(*args, env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("runx: error: ")
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in done.stderr
    assert not project.logroot.exists(), "nothing may be created on bad input"
    return lines[0]


@pytest.mark.parametrize(
    "exp_text, expected",
    [
        ("HPARAMS: {lr: 0.1}\n", ["exp.yml", "CMD", "missing"]),
        ("CMD: python train.py\n", ["exp.yml", "HPARAMS", "missing"]),
        ("CMD: python train.py\nHPARAMS: {}\n", ["exp.yml", "HPARAMS", "empty"]),
        ("CMD: python train.py\nHPARAMS: []\n", ["exp.yml", "HPARAMS", "empty"]),
        ("CMD: python train.py\nHPARAMS:\n  lr: [0.1\n  x: 2\n", ["exp.yml:", "malformed YAML"]),
        ("CMD: python train.py\nHPARAMS:\n  opt: {name: sgd}\n", ["exp.yml", "HPARAMS.opt", "found a mapping"]),
        ("CMD: python train.py\nHPARAMS:\n  lr: [[0.1, 0.2]]\n", ["exp.yml", "HPARAMS.lr", "list inside the list"]),
        ("CMD: python train.py\nHPARAMS: {lr: 1, lr: 2}\n", ["exp.yml:2:", "duplicate key 'lr'"]),
        ("CMD: python train.py\nFARM: nosuch\nHPARAMS: {lr: 1}\n", ["exp.yml", "FARM", "nosuch"]),
        ("- just a list\n", ["exp.yml", "expected a mapping"]),
    ],
)
def test_bad_experiment(project, exp_text, expected):
    project.write("exp.yml", exp_text)
    run_bad(project, ["exp.yml"], expected)


def test_malformed_yaml_names_the_line(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS:\n  lr: [0.1\n  x: 2\n")
    run_bad(project, ["exp.yml"], ["exp.yml:4:4: malformed YAML: ", "expected ',' or ']'"])


def test_no_logroot(project):
    project.write(".runx", "FARM: x\n")
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml"], [".runx", "LOGROOT", "missing"])


def test_unknown_farm_from_config_and_from_flag(project):
    project.write(".runx", "LOGROOT: logs\nFARM: big\nsmall:\n  SUBMIT_CMD: x\n")
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml"], [".runx", "FARM", "'big'", "small"])
    project.write(".runx", "LOGROOT: logs\n")
    run_bad(project, ["exp.yml", "--farm", "gpu"], ["FARM", "'gpu'"])


def test_farm_without_submit_cmd(project):
    project.write(".runx", "LOGROOT: logs\nFARM: big\nbig:\n  RESOURCES: {gpu: 1}\n")
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml"], [".runx", "big.SUBMIT_CMD", "missing"])


def test_submit_cmd_not_on_path(project):
    project.write(".runx", "LOGROOT: logs\nFARM: big\nbig:\n  SUBMIT_CMD: no_such_submitter_xyz\n")
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml"], ["big.SUBMIT_CMD", "not found on PATH"])


def test_missing_config_file_given_with_c(project):
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml", "-c", "nope.yml"], ["nope.yml", "-c", "does not exist"])


def test_missing_experiment_file(project):
    run_bad(project, ["nope.yml"], ["nope.yml", "not found"])


def test_bad_hparam_in_a_later_dict_creates_nothing(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS:\n  - {lr: [0.1, 0.2]}\n  - {lr: [[1]]}\n")
    run_bad(project, ["exp.yml", "-i"], ["HPARAMS[1].lr"])


def test_every_run_skipped(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS:\n  - {lr: 1, RUNX.SKIP: true}\n")
    run_bad(project, ["exp.yml"], ["RUNX.SKIP", "nothing to launch"])


def test_no_cooldir_without_tag(project):
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml", "--no_cooldir"], ["--no_cooldir", "tag"])


def test_no_cooldir_with_two_runs_sharing_a_tag(project):
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml", "--no_cooldir", "--tag", "t"], ["--no_cooldir", "'t'"])


@pytest.mark.parametrize("key, value", [("RUNX.TAG", "'lr{lr}'"), ("SUBMIT_JOB.NODES", "2")])
def test_a_hparams_key_at_the_top_level_is_named_in_a_warning(project, key, value):
    project.write("exp.yml", f"CMD: python train.py\n{key}: {value}\nHPARAMS: {{lr: [0.1]}}\n")
    done = project.runx("exp.yml", "-n")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"runx: warning: exp.yml: {key}: ignored at the top level; it belongs inside HPARAMS (in each mapping it applies to)"]
    assert done.stdout.splitlines() == ["python train.py --lr 0.1"]


@pytest.mark.parametrize("exp_text, args, expected", [
    ("CMD: python train.py\nHPARAMS: {x: [1], RUNX.TAG: \"a\\ntouch INJECTED;\"}\n", [], ["RUNX.TAG", "control characters", "'a\\ntouch INJECTED;'"]),
    ("CMD: python train.py\nHPARAMS: {x: [\"1\\ntouch INJECTED\"], RUNX.TAG: \"t{x}\"}\n", [], ["RUNX.TAG", "control characters"]),
    (GOOD, ["--tag", "a\ntouch INJECTED"], ["--tag", "control characters"]),
    (GOOD, ["--tag", "a\tb"], ["--tag", "control characters"]),
    (GOOD, ["--exp_name", "e\ntouch INJECTED"], ["--exp_name", "control characters"]),
])
def test_a_line_break_in_a_name_is_refused(project, exp_text, args, expected):
    project.write("exp.yml", exp_text)
    run_bad(project, ["exp.yml", "-i", *args], expected)
    assert not (project.root / "INJECTED").exists()


def test_an_experiment_file_whose_name_is_no_directory_name(project):
    project.write(".yml", GOOD)
    run_bad(project, [".yml"], [".yml: the experiment's name", "--exp_name sets another", "no leading '.'"])


def test_a_submit_cmd_a_shell_could_not_split(project):
    project.write(".runx", "LOGROOT: logs\nFARM: w\nw:\n  SUBMIT_CMD: 'submit_job \"unterminated'\n")
    project.write("exp.yml", GOOD)
    for args in (["-n"], []):
        run_bad(project, ["exp.yml", *args], [".runx: w.SUBMIT_CMD: no closing quotation", "'submit_job \"unterminated'"])


@pytest.mark.parametrize("runx_text, exp_text, expected", [
    ("LOGROOT: logs\n", "CMD: python train.py\nHPARAMS: {d: \"a\\0b\"}\n", ["exp.yml", "HPARAMS.d", "NUL"]),
    ("LOGROOT: $RUNX_TEST_UNSET_ROOT/x\n", GOOD, [".runx", "LOGROOT", "$RUNX_TEST_UNSET_ROOT is not set"]),
    ("LOGROOT: logs\nFARM: w\nw:\n  SUBMIT_CMD: submit_job\n  RESOURCES: {'': 1}\n", GOOD, ["w.RESOURCES", "'' is not an option name"]),
    ("LOGROOT: logs\nFARM: w\nw:\n  SUBMIT_CMD: submit_job\n  RESOURCES: {-x: 1}\n", GOOD, ["w.RESOURCES", "'-x' is not an option name"]),
    ("LOGROOT: logs\nFARM: w\nw:\n  SUBMIT_CMD: submit_job\n  RESOURCES: {a b: 1}\n", GOOD, ["w.RESOURCES", "'a b' is not an option name"]),
])
def test_values_no_command_line_can_carry(project, runx_text, exp_text, expected):
    project.write(".runx", runx_text)
    project.write("exp.yml", exp_text)
    run_bad(project, ["exp.yml", "-n"], expected)
    assert not any(p.name.startswith("$") for p in project.root.iterdir())


def test_a_directory_given_with_c(project, tmp_path):
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml", "-c", str(tmp_path)], [str(tmp_path), "is a directory, not a file"])


def test_misspelled_keys_are_named_in_warnings(project):
    project.write(".runx", "LOGROOT: logs\nFARM: w\nw:\n  SUBMIT_CMD: echo\n  RESOURCE: {gpu: 1}\nCODE_IGNORE: '*.ckpt'\n")
    project.write("exp.yml", "CMD: python train.py\nFRAM: other\nHPARAMS: {lr: [0.1]}\nnotes: {author: me}\n")
    done = project.runx("exp.yml", "-n")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"runx: warning: {project.root / '.runx'}: w.RESOURCE: unknown farm key, ignored (did you mean 'RESOURCES'?); "
        "expected one of SUBMIT_CMD, RESOURCES, PYTHONPATH, NGC_LOGROOT, WORKSPACE, TYPE, JOB_FLAG, NAME_FLAG, ARRAY, ARRAY_MAX_SIZE, SUBMIT_RATE, "
        "LAUNCHER, TORCHRUN, MAX_ATTEMPTS, SIGNAL",
        f"runx: warning: {project.root / '.runx'}: CODE_IGNORE: unknown key, ignored (did you mean 'CODE_IGNORE_PATTERNS'?)",
        "runx: warning: exp.yml: FRAM: unknown key, ignored (did you mean 'FARM'?)",
    ]  # `notes`, a mapping like no known key, may be anything (a YAML anchor, another tool's section)
    project.write("exp.yml", "CMD: python train.py\nHPARAM: {lr: [0.1]}\n")
    run_bad(project, ["exp.yml", "-n"], ["exp.yml: HPARAMS: missing (found HPARAM: did you mean HPARAMS?)"])


def test_experiment_resources_errors_name_the_experiment_and_are_warned_without_a_farm(project):
    project.write(".runx", "LOGROOT: logs\nFARM: w\nw:\n  SUBMIT_CMD: echo\n  RESOURCES: {gpu: 1}\n")
    project.write("exp.yml", "CMD: python train.py\nRESOURCES: 5\nHPARAMS: {x: [1]}\n")
    run_bad(project, ["exp.yml", "-n"], ["exp.yml: RESOURCES: expected a mapping"])
    project.write("exp.yml", "CMD: python train.py\nRESOURCES: {gpu: 2}\nHPARAMS: {x: [1]}\n")
    done = project.runx("exp.yml", "-n", "-i")
    assert done.returncode == 0 and done.stderr == "runx: warning: exp.yml: RESOURCES: ignored, jobs run here (no farm)\n"


def test_resume_names_a_run_whose_record_is_unreadable(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS: {x: [1, 2]}\n")
    assert project.runx("exp.yml", "-i").returncode == 0
    broken = project.runs("exp")[0]
    (broken / "run.json").write_text("{not json")
    done = project.runx("exp.yml", "--resume", "-n")
    assert done.returncode == 0
    assert f"runx: warning: --resume: {broken / 'run.json'} is unreadable" in done.stderr
    assert "1 configuration(s) already succeeded, queued or running; 1 to launch" in done.stderr


@pytest.mark.parametrize("exp_text, args, expected", [
    (GOOD, ["--tag", "code"], ["--tag", "not 'code'", "invisible"]),
    (GOOD, ["--tag", ".hidden"], ["--tag", "start with '.'", "'.hidden'"]),
    ("CMD: python train.py\nHPARAMS: {x: [1], RUNX.TAG: code}\n", [], ["HPARAMS: RUNX.TAG", "'code'"]),
    ("CMD: python train.py\nHPARAMS: {x: [.a], RUNX.TAG: '{x}'}\n", [], ["HPARAMS: RUNX.TAG", "'.a'"]),
    (GOOD, ["--no_cooldir", "--tag", "code"], ["--tag", "'code'"]),
])
def test_a_tag_whose_runs_discovery_would_skip_is_refused(project, exp_text, args, expected):
    project.write("exp.yml", exp_text)
    for extra in (["-n"], ["-i"]):
        run_bad(project, ["exp.yml", *extra, *args], expected)


@pytest.mark.parametrize("cmd, comment", [
    ("python train.py # baseline", "'# baseline'"),
    ("python train.py #", "'#'"),
    ("cd src && python train.py;# x", "'# x'"),
    ("python train.py --name 'a b' #c", "'#c'"),
])
def test_a_cmd_with_a_shell_comment_is_refused(project, cmd, comment):
    project.write("exp.yml", f"CMD: {json.dumps(cmd)}\nHPARAMS: {{lr: [0.1]}}\n")
    line = run_bad(project, ["exp.yml", "-i"], ["exp.yml: CMD: ", comment, "as a comment", "swallow the hyperparameters"])
    assert repr(cmd) in line


@pytest.mark.parametrize("cmd", ["python train.py --note '#1'", "python train.py --note a#b", 'python train.py "#x"',
                                 "python train.py --n \\#2"])
def test_a_hash_that_is_no_comment_reaches_the_script(project, cmd):
    project.write("exp.yml", f"CMD: {json.dumps(cmd)}\nHPARAMS: {{lr: [0.1]}}\n")
    done = project.runx("exp.yml", "-i")
    assert done.returncode == 0, done.stderr
    argv = project.argv_of(project.runs("exp")[0])["argv"]
    assert argv[-2:] == ["--lr", "0.1"] and any("#" in a for a in argv)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("ARRAY: yes please", "s.ARRAY: expected true or false, found 'yes please'"),
        ("ARRAY_MAX_SIZE: 0", "s.ARRAY_MAX_SIZE: expected a whole number of runs of at least 1, found 0"),
        ("ARRAY_MAX_SIZE: 2.5", "s.ARRAY_MAX_SIZE: expected a whole number of runs of at least 1, found 2.5"),
        ("SUBMIT_RATE: fast", "s.SUBMIT_RATE: expected submissions per second (a number, 0 for no limit), found 'fast'"),
        ("SUBMIT_RATE: -1", "s.SUBMIT_RATE: expected submissions per second (a number, 0 for no limit), found -1"),
    ],
)
def test_array_and_rate_settings_are_checked(project, line, expected):
    project.write(".runx", f"LOGROOT: logs\nFARM: s\ns:\n  SUBMIT_CMD: echo\n  {line}\n")
    project.write("exp.yml", GOOD)
    run_bad(project, ["exp.yml", "-n"], [str(project.root / ".runx"), expected])
