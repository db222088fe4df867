"""Shell completion (argcomplete, runx-core[completion]) driven as bash's hook drives it: the command line in
COMP_LINE/COMP_POINT, _ARGCOMPLETE set, the candidates read from file descriptor 8."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys

from runx_testing import require


def candidates(project, program, line):
    """The words the completion hook gets back, run with bash's redirections (`8>&1 9>&2 1>/dev/null`)."""
    env = {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": "\n", "COMP_LINE": line, "COMP_POINT": str(len(line)),
           "COMP_TYPE": "9"}
    command = f"{shlex.quote(sys.executable)} -m runx.{program} 8>&1 9>&2 1>/dev/null"
    done = subprocess.run(["bash", "-c", command], cwd=project.root, env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (line, done.stdout, done.stderr)
    return {word.strip() for word in done.stdout.split("\n") if word.strip()}


def test_completion_offers_subcommands_experiments_and_runs(project):
    require("argcomplete")
    project.write("sweep.yml", "CMD: python train.py\nHPARAMS: {lr: [0.1, 0.2]}\n")
    assert project.runx("sweep.yml", "-i").returncode == 0
    project.write("other.yaml", "CMD: python train.py\nHPARAMS: {lr: [1]}\n")
    assert project.runx("other.yaml", "-i").returncode == 0
    runs = sorted(r.name for r in project.runs("sweep"))

    first = candidates(project, "runx", "runx ")
    assert {"ls", "show", "diff", "note", "rm", "restore", "status", "cancel", "resubmit"} <= first
    assert {"sweep.yml", "other.yaml", "--tag", "--exp_name", "-n"} <= first and "train.py" not in first
    assert candidates(project, "runx", "runx s") == {"show", "status", "sweep.yml"}
    assert candidates(project, "runx", "runx show ") >= {"sweep", "other", "--json"}
    assert candidates(project, "runx", "runx diff sw") == {"sweep"}
    assert candidates(project, "runx", f"runx diff sweep {runs[0][:2]}") == {r for r in runs if r.startswith(runs[0][:2])}
    assert set(runs) <= candidates(project, "runx", "runx rm --logroot logs sweep ")
    assert candidates(project, "sumx", "sumx ot") == {"other"}
    assert candidates(project, "sumx", "sumx sweep --sortw") == {"--sortwith"}
