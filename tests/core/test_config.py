"""Config lookup and precedence: -c, ./.runx, ~/.config/runx.yml; the experiment overrides."""
from __future__ import annotations

from pathlib import Path

import pytest
from runx.core.config import load_settings, locate_config
from runx.core.errors import RunxError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_lookup_order(tmp_path, monkeypatch):
    home = tmp_path / "home"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    assert locate_config(None, cwd, home) is None
    user = write(home / ".config" / "runx.yml", "LOGROOT: /u\n")
    assert locate_config(None, cwd, home) == user
    local = write(cwd / ".runx", "LOGROOT: /l\n")
    assert locate_config(None, cwd, home) == local
    explicit = write(tmp_path / "x.yml", "LOGROOT: /x\n")
    assert locate_config(str(explicit), cwd, home) == explicit
    with pytest.raises(RunxError, match="does not exist"):
        locate_config(str(tmp_path / "missing.yml"), cwd, home)


def test_relative_logroot_resolves_against_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = write(tmp_path / "conf" / "runx.yml", "LOGROOT: ../logs\n")
    exp = write(tmp_path / "exp.yml", "CMD: python t.py\nHPARAMS: {a: 1}\n")
    settings = load_settings(str(exp), config_file=str(cfg))
    assert settings.logroot == tmp_path / "logs"


def test_experiment_overrides_config_and_farm_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".runx", """\
LOGROOT: /logs
PYTHONPATH: /top
FARM: big
big:
  SUBMIT_CMD: submit_job
  RESOURCES: {gpu: 2, cpu: 16}
small:
  SUBMIT_CMD: submit_small
  RESOURCES: {gpu: 1}
""")
    exp = write(tmp_path / "exp.yml", """\
LOGROOT: exp_logs
CMD: python t.py
HPARAMS: {a: 1}
big:
  RESOURCES: {gpu: 8}
RESOURCES: {mem: 64}
""")
    settings = load_settings(str(exp))
    assert settings.logroot == tmp_path / "exp_logs"
    assert settings.farm.name == "big" and settings.farm.submit_cmd == "submit_job"
    assert dict(settings.farm.resources) == {"gpu": 8, "cpu": 16, "mem": 64}
    assert settings.pythonpath == "/top"
    small = load_settings(str(exp), farm="small")
    assert small.farm.submit_cmd == "submit_small" and dict(small.farm.resources) == {"gpu": 1, "mem": 64}
    local = load_settings(str(exp), interactive=True)
    assert local.farm.kind == "local"


def test_experiment_can_switch_farm_and_pythonpath(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".runx", "LOGROOT: /logs\nFARM: big\nbig:\n  SUBMIT_CMD: a\n  PYTHONPATH: LOGDIR/code/farm\nsmall:\n  SUBMIT_CMD: b\n")
    exp = write(tmp_path / "exp.yml", "FARM: small\nCMD: c\nHPARAMS: {a: 1}\n")
    assert load_settings(str(exp)).farm.submit_cmd == "b"
    exp2 = write(tmp_path / "exp2.yml", "CMD: c\nHPARAMS: {a: 1}\n")
    assert load_settings(str(exp2)).pythonpath == "LOGDIR/code/farm"
    exp3 = write(tmp_path / "exp3.yml", "PYTHONPATH: LOGDIR/x\nCMD: c\nHPARAMS: {a: 1}\n")
    assert load_settings(str(exp3)).pythonpath == "LOGDIR/x"


def test_code_ignore_patterns_always_add_pth(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".runx", "LOGROOT: /logs\nCODE_IGNORE_PATTERNS: '.git,data*'\n")
    exp = write(tmp_path / "exp.yml", "CMD: c\nHPARAMS: {a: 1}\n")
    assert load_settings(str(exp)).ignore_patterns == (".git", "data*", "*.pth")
    write(tmp_path / ".runx", "LOGROOT: /logs\n")
    assert load_settings(str(exp)).ignore_patterns == (".git", "*.pyc", "docs*", "test*", "*.pth")


def test_farm_kind_inference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".runx", "LOGROOT: /l\nngc_farm: {NGC_LOGROOT: /n, WORKSPACE: w}\nslurm: {RESOURCES: {cpu: 1}}\nmine: {TYPE: slurm}\nbig: {SUBMIT_CMD: s}\n")
    exp = write(tmp_path / "exp.yml", "CMD: c\nHPARAMS: {a: 1}\n")
    kinds = {f: load_settings(str(exp), farm=f).farm.kind for f in ("ngc_farm", "slurm", "mine", "big", "local")}
    assert kinds == {"ngc_farm": "ngc", "slurm": "slurm", "mine": "slurm", "big": "generic", "local": "local"}
