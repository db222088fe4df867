"""Issue 14.15c: `1e-5` in HPARAMS (text to YAML 1.1) is a number in hparams.json, spelled as written on the
command line, so sumx's filters compare it as a number; ordering a number against text is an error."""
from __future__ import annotations

import json
import subprocess
import sys


def sumx(project, *args):
    return subprocess.run([sys.executable, "-m", "runx.sumx", *args, "--logroot", str(project.logroot)], cwd=project.root,
                          capture_output=True, text=True, timeout=120)


def test_1e_5_is_a_number_that_keeps_its_spelling(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS:\n  lr: [1e-5, 2E-1, 0.5]\n  solver: sgd\n  name: '1e-3'\n")
    assert project.runx("exp.yml", "-n").stdout.splitlines()[0] == "python train.py --lr 1e-5 --solver sgd --name 1e-3"
    done = project.runx("exp.yml", "-i")
    assert done.returncode == 0, done.stderr
    by_lr = {}
    for run in project.runs("exp"):
        hparams = json.loads((run / "hparams.json").read_text())
        assert hparams["name"] == "1e-3"  # quoted in the YAML: text stays text
        by_lr[hparams["lr"]] = project.argv_of(run)["argv"]
    assert set(by_lr) == {1e-5, 0.2, 0.5} and all(isinstance(lr, float) for lr in by_lr)
    assert by_lr[1e-5][:2] == ["--lr", "1e-5"] and by_lr[0.2][:2] == ["--lr", "2E-1"]

    rows = lambda *f: sorted(r["hparams"]["lr"] for r in json.loads(sumx(project, "exp", "--json", *f).stdout)["rows"])  # noqa: E731
    assert rows("--filter", "lr<0.1") == [1e-5]
    assert rows("--filter", "lr>=1e-5", "--filter", "lr<=2e-1") == [1e-5, 0.2]
    assert rows("--filter", "lr=1e-05") == [1e-5]
    for expr, fragment in (("solver<1", "solver is not a number in run"), ("lr<abc", "lr is a number"),
                           ("solver>=1e-5", "expected a key that holds numbers")):
        done = sumx(project, "exp", "--filter", expr)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and fragment in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_runs_made_when_1e_5_was_text_still_filter_and_resume(project):
    project.write("exp.yml", "CMD: python train.py\nHPARAMS: {lr: [1e-5, 0.5]}\n")
    assert project.runx("exp.yml", "-i").returncode == 0
    for run in project.runs("exp"):  # as an earlier runx wrote them: the number as text
        for name in ("hparams.json", "run.json"):
            path = run / name
            doc = json.loads(path.read_text())
            hparams = doc if name == "hparams.json" else doc["hparams"]
            hparams["lr"] = "1e-5" if hparams["lr"] == 1e-5 else hparams["lr"]
            path.write_text(json.dumps(doc))
    done = sumx(project, "exp", "--json", "--filter", "lr<0.1")
    assert [r["hparams"]["lr"] for r in json.loads(done.stdout)["rows"]] == ["1e-5"], done.stderr
    done = project.runx("exp.yml", "--resume", "-n")
    assert done.returncode == 0 and "2 configuration(s) already succeeded, queued or running; 0 to launch" in done.stderr
