"""Finding the config (.runx here or above, ~/.config/runx.yml), `runx --where`, running with no config at
all, and the staging warnings about code left out (CMD's script, Python code dropped by default patterns)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXP = "CMD: 'python train.py'\nHPARAMS:\n  lr: [0.1]\n"


def runx(cwd: Path, *args: str, home: Path, python_args: bool = False) -> subprocess.CompletedProcess:
    """runx with `args` (with `python_args`, the interpreter's own: `-X importtime -m runx.runx ...`)."""
    env = {k: v for k, v in os.environ.items() if k != "RUNX_LOGDIR"}
    env["HOME"] = str(home)
    argv = [*args] if python_args else ["-m", "runx.runx", *args]
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_the_config_above_the_cwd_is_used_and_where_says_so(project, tmp_path):
    home = tmp_path / "home"
    sub = project.root / "sub" / "deeper"
    sub.mkdir(parents=True)
    project.write("exp.yml", EXP)
    done = runx(sub, "--where", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"config: {project.root / '.runx'} (found from {sub})", f"LOGROOT: {project.logroot}"]

    done = runx(sub, "../../exp.yml", "-n", "-v", home=home)  # CMD's train.py is not in sub/deeper: a warning
    assert done.returncode == 0, done.stderr
    assert f"# config: {project.root / '.runx'}" in done.stdout.splitlines()
    assert f"# LOGROOT: {project.logroot}" in done.stdout.splitlines()
    warning = f"runx: warning: CMD runs train.py, which is not in {sub} (the folder runx was started from"
    assert warning in done.stderr, done.stderr
    done = runx(sub, "../../exp.yml", "-i", home=home)
    assert done.returncode == 1 and warning in done.stderr, done.stderr  # the job cannot find train.py
    assert len(project.runs("exp")) == 1

    done = runx(project.root, "exp.yml", "-i", home=home)  # from the project: no warning, the run succeeds
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr

    (home / ".config").mkdir(parents=True)
    (home / ".config" / "runx.yml").write_text("LOGROOT: user_logs\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = runx(elsewhere, "--where", home=home)
    assert done.stdout.splitlines() == [f"config: {home / '.config' / 'runx.yml'} (found from {elsewhere})",
                                        f"LOGROOT: {home / '.config' / 'user_logs'}"]
    done = runx(elsewhere, "--where", "-c", str(project.root / ".runx"), home=home)
    assert done.stdout.splitlines()[0] == f"config: {project.root / '.runx'} (given with -c)"
    if os.getuid() == 0:  # a .runx above that another user owns is passed over
        os.chown(project.root / ".runx", 65534, 65534)
        done = runx(sub, "--where", home=home)
        assert done.stdout.splitlines()[0] == f"config: {home / '.config' / 'runx.yml'} (found from {sub})", done.stdout
        assert f"passed over: {project.root / '.runx'} (owned by another user)" in done.stdout
        done = runx(project.root, "--where", home=home)  # in the cwd itself it is used, as runx 0.0.11 did
        assert done.stdout.splitlines()[0] == f"config: {project.root / '.runx'} (found from {project.root})"


def test_no_config_anywhere_runs_go_to_logs_beside_the_experiment(tmp_path):
    home, proj, there = tmp_path / "home", tmp_path / "proj", tmp_path / "proj" / "exps"
    there.mkdir(parents=True)
    (proj / "train.py").write_text("print('trained')\n")
    (there / "exp.yml").write_text(EXP)
    done = runx(proj, "--where", home=home)
    assert done.returncode == 0 and done.stdout.splitlines() == [
        f"config: none (looked for .runx in {proj} and every folder above it, then {home / '.config' / 'runx.yml'})",
        "LOGROOT: none configured; a launch uses ./logs beside the experiment file"]
    note = f"runx: note: no config found (.runx here or in a folder above, ~/.config/runx.yml), so runs go to {there / 'logs'}"
    done = runx(proj, "exps/exp.yml", "-n", "-v", home=home)
    assert done.returncode == 0, done.stderr
    assert "# config: none found" in done.stdout and f"# LOGROOT: {there / 'logs'}" in done.stdout
    assert done.stderr.count(note) == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["exp.yml", "exps", "proj", "train.py"]  # nothing created

    done = runx(proj, "exps/exp.yml", "-i", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(note) == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    runs = [p for p in (there / "logs" / "exp").iterdir() if p.is_dir()]
    assert len(runs) == 1 and json.loads((runs[0] / "run.json").read_text())["config_file"] is None
    shown = subprocess.run([sys.executable, "-m", "runx.runx", "status", "exp", "--logroot", str(there / "logs")],
                           cwd=proj, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "succeeded" in shown.stdout, shown.stdout + shown.stderr

    # From the experiment file's folder the readers find those runs in ./logs with no --logroot.
    run_name = runs[0].name
    for args in (["status", "exp"], ["ls"], ["ls", "exp"], ["show", "exp", run_name]):
        shown = runx(there, *args, home=home)
        assert shown.returncode == 0, (args, shown.stderr)
        assert (run_name if args != ["ls"] else "exp") in shown.stdout, (args, shown.stdout)
    env = {k: v for k, v in os.environ.items() if k != "RUNX_LOGDIR"}
    env["HOME"] = str(home)
    table = subprocess.run([sys.executable, "-m", "runx.sumx", "exp", "--json"], cwd=there, env=env,
                           capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert [row["run"] for row in json.loads(table.stdout)["rows"]] == [run_name]
    # Elsewhere, with no config and no ./logs: one line naming what was tried, exit 2.
    shown = runx(proj, "status", "exp", home=home)
    assert shown.returncode == 2 and "./logs" in shown.stderr and len(shown.stderr.splitlines()) == 1, shown.stderr
    table = subprocess.run([sys.executable, "-m", "runx.sumx", "exp"], cwd=proj, env=env,
                           capture_output=True, text=True, timeout=60)
    assert table.returncode == 2 and "no LOGROOT" in table.stderr and len(table.stderr.splitlines()) == 1, table.stderr


def test_staging_names_python_code_the_default_patterns_leave_out(project):
    project.write("exp.yml", EXP)
    project.write("testing_utils.py", "X = 1\n")
    project.write("docs_data/loader.py", "X = 1\n")
    project.write("docs/index.md", "no python here\n")
    project.write("tests/deep/er/test_a.py", "X = 1\n")
    done = project.runx("exp.yml", "-n")
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr  # -n stages nothing
    done = project.runx("exp.yml", "-i")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "CODE_IGNORE_PATTERNS" in line]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("runx: warning: the default CODE_IGNORE_PATTERNS left Python code out of the staged code/: ")
    for named in ("testing_utils.py (test*)", "docs_data/ (docs*)", "tests/ (test*)"):
        assert named in lines[0], lines[0]
    assert "docs/ " not in lines[0] and "test_a.py" not in lines[0]
    assert not (project.runs("exp")[0] / "code" / "testing_utils.py").exists()

    project.write(".runx", "LOGROOT: logs\nCODE_IGNORE_PATTERNS: '.git,docs'\n")  # chosen patterns: no warning
    done = project.runx("exp.yml", "-i")
    assert done.returncode == 0 and "CODE_IGNORE_PATTERNS" not in done.stderr, done.stderr

    project.write("test_train.py", "print('trained')\n")
    project.write("exp2.yml", "CMD: 'python test_train.py'\nHPARAMS: {lr: 1}\n")
    project.write(".runx", "LOGROOT: logs\n")
    done = project.runx("exp2.yml", "-n")
    assert done.returncode == 0 and (f"runx: warning: CMD runs test_train.py, which CODE_IGNORE_PATTERNS 'test*' leaves "
                                     f"out of what is staged from {project.root}") in done.stderr, done.stderr


def test_a_dry_run_warns_about_the_script_without_loading_staging(project, tmp_path):
    """-n stages nothing, so it loads none of staging's machinery (bench/ times `runx sweep.yml -n`), and still
    warns about a CMD script that would not be staged."""
    project.write("exp.yml", "CMD: 'python missing.py'\nHPARAMS:\n  lr: [0.1, 0.2]\n")
    done = runx(project.root, "-X", "importtime", "-m", "runx.runx", "exp.yml", "-n", home=tmp_path / "home",
                python_args=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "python missing.py --lr 0.1\npython missing.py --lr 0.2\n"
    assert f"runx: warning: CMD runs missing.py, which is not in {project.root} (the folder" in done.stderr
    loaded = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "runx.core.scriptcheck" in loaded and "runx.core.dryrun" in loaded
    assert not loaded & {"runx.core.staging", "shutil", "subprocess", "dataclasses", "json"}, sorted(loaded)
