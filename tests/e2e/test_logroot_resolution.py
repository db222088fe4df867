"""runx, logx.initialize() without a logdir, and sumx resolve LOGROOT the same way (runx.logx.rundir.config).

Each case launches a real run with `runx -i`, logs with logx in a real process, and reads both with sumx,
all with one config file and no --logroot: the folders they use must be the one expected.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LOGX_SCRIPT = """
from runx.logx import logx
logx.initialize()
logx.metric("val", {"acc": 0.5})
logx.close()
print(logx.logdir)
"""


EXPERIMENT = f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  lr: [0.1]\n"


def run(args, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


CASES = {
    # name: (where the config is, its LOGROOT line, extra env, the expected root relative to tmp_path)
    "home_variable": (".runx", "LOGROOT: $HOME/x", {}, "home/x"),
    "tilde": (".runx", "LOGROOT: ~/tilde", {}, "home/tilde"),
    "relative_to_user_config": ("home/.config/runx.yml", "LOGROOT: ../user_logs", {}, "home/user_logs"),
    "relative_to_local_config": (".runx", "LOGROOT: ./here/logs", {}, "proj/here/logs"),
    "environment": (".runx", "LOGROOT: ${RUNX_TEST_LOGS}/exps", {"RUNX_TEST_LOGS": "{tmp}/env_root"}, "env_root/exps"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_runx_logx_and_sumx_agree(tmp_path, case):
    where, line, extra, expected = CASES[case]
    project, home, elsewhere = tmp_path / "proj", tmp_path / "home", tmp_path / "elsewhere"
    for folder in (project, home / ".config", elsewhere):
        folder.mkdir(parents=True)
    config = project / ".runx" if where == ".runx" else tmp_path / where
    config.write_text(line + "\n")
    (project / "train.py").write_text(LOGX_SCRIPT.replace("logx.initialize()", "logx.initialize()  # RUNX_LOGDIR from runx"))
    (project / "exp.yml").write_text(EXPERIMENT)
    env = {k: v for k, v in os.environ.items() if k not in ("RUNX_LOGDIR", "LOGROOT")}
    env.update({k: v.format(tmp=tmp_path) for k, v in extra.items()}, HOME=str(home))
    root = tmp_path / expected

    launched = run([sys.executable, "-m", "runx.runx", "exp.yml", "-i"], project, env)
    assert launched.returncode == 0, launched.stderr
    runs = [p for p in (root / "exp").iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / "metrics.jsonl").is_file()

    logged = run([sys.executable, "-c", LOGX_SCRIPT], project, env)
    assert logged.returncode == 0, logged.stderr
    assert logged.stdout.strip() == str(root / "default")

    shown = run([sys.executable, "-m", "runx.sumx", "exp"], project, env)
    assert shown.returncode == 0 and "0.5" in shown.stdout, shown.stderr

    if where != ".runx":  # a config found in the user's folder does not depend on the cwd
        shown = run([sys.executable, "-m", "runx.sumx", "exp"], elsewhere, env)
        assert shown.returncode == 0 and "0.5" in shown.stdout, shown.stderr
        logged = run([sys.executable, "-c", LOGX_SCRIPT], elsewhere, env)
        assert logged.stdout.strip() == str(root / "default")


def test_runx_logx_and_sumx_find_the_config_above_the_cwd(tmp_path):
    project, home = tmp_path / "proj", tmp_path / "home"
    sub = project / "src" / "pkg"
    sub.mkdir(parents=True)
    (project / ".runx").write_text("LOGROOT: ../above_logs\n")
    (sub / "train.py").write_text(LOGX_SCRIPT)
    (project / "exp.yml").write_text(EXPERIMENT)
    env = {k: v for k, v in os.environ.items() if k not in ("RUNX_LOGDIR", "LOGROOT")}
    env["HOME"] = str(home)
    root = tmp_path / "above_logs"
    launched = run([sys.executable, "-m", "runx.runx", "../../exp.yml", "-i"], sub, env)
    assert launched.returncode == 0, launched.stderr
    assert len([p for p in (root / "exp").iterdir() if p.is_dir()]) == 1
    logged = run([sys.executable, "-c", LOGX_SCRIPT], sub, env)
    assert logged.returncode == 0 and logged.stdout.strip() == str(root / "default"), logged.stderr
    shown = run([sys.executable, "-m", "runx.sumx", "exp"], sub, env)
    assert shown.returncode == 0 and "0.5" in shown.stdout, shown.stderr
    status = run([sys.executable, "-m", "runx.runx", "status", "exp"], sub, env)
    assert status.returncode == 0 and "succeeded" in status.stdout, status.stderr
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    logged = run([sys.executable, "-c", LOGX_SCRIPT], nowhere, env)
    assert logged.returncode == 1 and "(.runx here or in a folder above, ~/.config/runx.yml)" in logged.stderr


def test_an_explicit_config_resolves_against_its_own_folder(tmp_path):
    project, configs = tmp_path / "proj", tmp_path / "configs"
    project.mkdir()
    configs.mkdir()
    (configs / "team.yml").write_text("LOGROOT: team_logs\n")
    (project / "train.py").write_text(LOGX_SCRIPT)
    (project / "exp.yml").write_text(EXPERIMENT)
    env = {k: v for k, v in os.environ.items() if k != "RUNX_LOGDIR"}
    env["HOME"] = str(tmp_path / "home")
    assert run([sys.executable, "-m", "runx.runx", "exp.yml", "-i", "-c", str(configs / "team.yml")], project, env).returncode == 0
    assert (configs / "team_logs" / "exp").is_dir()
    shown = run([sys.executable, "-m", "runx.sumx", "exp", "-c", str(configs / "team.yml")], project, env)
    assert shown.returncode == 0 and "0.5" in shown.stdout, shown.stderr


def test_an_unset_variable_is_the_same_error_everywhere(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".runx").write_text("LOGROOT: $RUNX_SURELY_UNSET/x\n")
    (project / "exp.yml").write_text(EXPERIMENT)
    env = {k: v for k, v in os.environ.items() if k not in ("RUNX_LOGDIR", "RUNX_SURELY_UNSET")}
    message = "LOGROOT: $RUNX_SURELY_UNSET is not set in the environment"
    for args in (["-m", "runx.runx", "exp.yml", "-n"], ["-m", "runx.sumx", "exp"]):
        done = run([sys.executable, *args], project, env)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = run([sys.executable, "-c", LOGX_SCRIPT], project, env)
    assert done.returncode == 1 and message in done.stderr
    assert not any(p.name != ".runx" and p.name != "exp.yml" for p in project.iterdir())
