"""Many runx processes launching into one experiment at once never share a run directory."""
from __future__ import annotations

import os
import subprocess
import sys


def test_four_processes_250_runs_each(project):
    project.write(".runx", "LOGROOT: logs\nFARM: echo\necho:\n  SUBMIT_CMD: 'true'\n")
    project.write("big.yml", "CMD: python train.py\nHPARAMS:\n  seed: [" + ", ".join(str(i) for i in range(250)) + "]\n")
    procs = [
        subprocess.Popen([sys.executable, "-m", "runx.runx", "big.yml"], cwd=project.root,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    runs = project.runs("big")
    assert len(runs) == 1000
    assert len({r.name for r in runs}) == 1000
    seeds = sorted(int(__import__("json").loads((r / "hparams.json").read_text())["seed"]) for r in runs)
    assert seeds == sorted(list(range(250)) * 4)
    # every run has its own complete code tree, sharing bytes with its launch's snapshot
    links = [os.stat(r / "code" / "train.py").st_nlink for r in runs]
    assert sorted(set(links)) == [250]
