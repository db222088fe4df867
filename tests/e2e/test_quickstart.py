"""The README's quick start, run as a new user would, on a clean copy of the repository."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from runx_testing import require

REPO = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_has_two_commands_and_ci_runs_the_second():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[1] in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_first_command_runs_the_example_sweep_end_to_end(tmp_path):
    require("quickstart")
    clean = tmp_path / "runx"
    if (REPO / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(REPO), str(clean)], check=True)
        # the working tree may hold changes not yet committed: test what is here
        for rel in subprocess.run(["git", "ls-files", "-m", "-o", "--exclude-standard"], cwd=REPO,
                                  capture_output=True, text=True, check=True).stdout.split():
            target = clean / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, target)
    else:
        shutil.copytree(REPO, clean, ignore=shutil.ignore_patterns(".tox", ".venv", "logs"))
    done = subprocess.run(["bash", "-c", quick_start_commands()[0]], cwd=clean, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if "succeeded" in line]
    assert len(table) == 4, done.stdout
    assert "loss" in done.stdout and "solver" in done.stdout
    runs = list((clean / "examples" / "quickstart" / "logs" / "quickstart").iterdir())
    assert len(runs) == 4 and all((r / "metrics.jsonl").is_file() for r in runs)
