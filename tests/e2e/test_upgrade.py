"""Upgrading a venv that holds runx 0.0.11 from PyPI to these packages keeps every entry point working."""
from __future__ import annotations

import subprocess
import venv
from pathlib import Path

from runx_testing import require

REPO = Path(__file__).resolve().parents[2]


def run(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, timeout=900)


def test_upgrade_from_runx_0_0_11(tmp_path):
    require("upgrade")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    old = run(python, "-m", "pip", "install", "-q", "runx==0.0.11")
    assert old.returncode == 0, old.stderr
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    assert (site / "runx" / "runx.py").is_file() and (site / "runx" / "__init__.py").is_file()

    packages = [str(REPO / "packages" / p) for p in ("runx-core", "runx-logx", "runx-sumx", "runx")]
    new = run(python, "-m", "pip", "install", "-q", *packages)
    assert new.returncode == 0, new.stderr

    assert not (site / "runx" / "__init__.py").exists(), "runx must become a namespace package"
    for stale in ("runx.py", "sumx.py", "logx.py"):
        assert not (site / "runx" / stale).exists()
    work = tmp_path / "work"
    work.mkdir()
    (work / ".runx").write_text("LOGROOT: logs\n")
    (work / "sweep.yml").write_text("CMD: python train.py\nHPARAMS:\n  lr: [0.01, 0.02]\n")
    launched = run(python, "-m", "runx.runx", "sweep.yml", "-n", cwd=work)
    assert launched.returncode == 0, launched.stderr
    assert launched.stdout.splitlines() == ["python train.py --lr 0.01", "python train.py --lr 0.02"]
    summary = run(python, "-m", "runx.sumx", "--help", cwd=work)
    assert summary.returncode == 0, summary.stderr
    logx = run(python, "-c", "from runx.logx import logx, LogX; import runx.logx as m; print(type(logx).__name__, m.__file__)")
    assert logx.returncode == 0, logx.stderr
    assert logx.stdout.startswith("LogX ") and "runx/logx/__init__.py" in logx.stdout
    scripts = run(python, "-c", "import shutil; print(shutil.which('runx', path=%r), shutil.which('sumx', path=%r))" % (str(env_dir / "bin"), str(env_dir / "bin")))
    assert "None" not in scripts.stdout
