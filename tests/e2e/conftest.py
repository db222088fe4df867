"""Fixtures for end-to-end tests: a project directory and runx run as a real subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TRAIN_PY = textwrap.dedent(
    """
    import json, os, sys
    logdir = os.environ["RUNX_LOGDIR"]
    with open(os.path.join(logdir, "argv.json"), "w", encoding="utf-8") as f:
        json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "pythonpath": os.environ.get("PYTHONPATH")}, f)
    code = int(os.environ.get("TRAIN_EXIT", "0"))
    for i, a in enumerate(sys.argv):
        if a == "--exit":
            code = int(sys.argv[i + 1])
    print("trained", *sys.argv[1:])
    sys.exit(code)
    """
)


class Project:
    """A throwaway project: train.py, a .runx, experiment YAMLs, and a runx runner."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.logroot = root / "logs"
        (root / "train.py").write_text(TRAIN_PY)
        self.write(".runx", "LOGROOT: logs\n")

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def runx(self, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "runx.runx", *args],
            cwd=self.root, capture_output=True, text=True, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL,
        )

    def runs(self, experiment: str) -> list:
        exp = self.logroot / experiment
        return sorted(p for p in exp.iterdir() if p.is_dir()) if exp.is_dir() else []

    def argv_of(self, run_dir: Path) -> dict:
        return json.loads((run_dir / "argv.json").read_text(encoding="utf-8"))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "proj")
