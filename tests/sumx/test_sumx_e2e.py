"""sumx end to end on runs launched with runx and logged with logx."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

TRAIN = textwrap.dedent("""
    import argparse, sys
    from runx.logx import logx
    p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--acc", type=float)
    p.add_argument("--exit", type=int, default=0)
    a = p.parse_args()
    logx.initialize()
    for epoch in range(3):
        logx.metric("val", {"loss": 10 * a.lr / (epoch + 1), "acc": a.acc + epoch}, epoch)
    logx.close()
    sys.exit(a.exit)
""")


def sh(args, cwd):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def make_experiment(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / ".runx").write_text("LOGROOT: logs\n")
    hparams = "HPARAMS:\n  - {lr: 0.5, acc: 9.5, exit: 0}\n  - {lr: 0.05, acc: 100}\n  - {lr: 0.1, acc: 50, exit: 3}\n"
    (tmp_path / "sweep.yml").write_text(f"CMD: '{sys.executable} train.py'\n" + hparams)
    done = sh(["-m", "runx.runx", "sweep.yml", "-i"], tmp_path)
    assert done.returncode == 1, done.stderr
    return tmp_path


def test_table_sorted_numerically_with_direction_and_state(tmp_path):
    make_experiment(tmp_path)
    done = sh(["-m", "runx.sumx", "sweep", "--sortwith", "acc", "--csv", "out.csv"], tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert [float(r["acc-best"]) for r in rows] == [102.0, 52.0, 11.5]
    assert [r["state"] for r in rows] == ["succeeded", "failed (3)", "succeeded"]
    assert [r["epoch"] for r in rows] == ["2", "2", "2"]
    assert "lr" in rows[0] and "acc" in rows[0]
    by_loss = sh(["-m", "runx.sumx", "sweep"], tmp_path)
    lines = by_loss.stdout.splitlines()
    assert "loss-best" in lines[0]
    assert "0.05" in lines[2] and "0.5 " in lines[4]  # lowest loss first


def test_bad_input_is_one_line_exit_2(tmp_path):
    make_experiment(tmp_path)
    for args, fragment in ((["nope"], "no such experiment"), (["sweep", "--sortwith", "f1"], "--sortwith f1")):
        done = sh(["-m", "runx.sumx", *args], tmp_path)
        assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr


def test_a_torn_metrics_file_is_shown_with_a_warning(tmp_path):
    make_experiment(tmp_path)
    run = next(p for p in (tmp_path / "logs" / "sweep").iterdir() if json.loads((p / "hparams.json").read_text())["lr"] == 0.05)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"phase": "val", "st')
    os.remove(run / "metrics.summary.json")
    done = sh(["-m", "runx.sumx", "sweep"], tmp_path)
    assert done.returncode == 0 and "torn" in done.stderr
    assert len(done.stdout.splitlines()) == 5


SEED_TRAIN = textwrap.dedent("""
    import argparse
    from runx.logx import logx
    p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--solver")
    p.add_argument("--logdir")
    a = p.parse_args()
    logx.initialize(logdir=a.logdir, hparams=vars(a))
    for epoch in range(10):
        acc = 90 + 100 * a.lr + (0.5 if a.solver == "adam" else 0) + epoch * 0.1
        logx.metric("val", {"acc": acc, "loss": 1 / acc}, epoch)
    logx.close()
""")


def test_the_seed_readme_sumx_examples(tmp_path):
    """The seed README's sweep (lr x solver) launched with runx, logged with logx, summarised as it shows."""
    (tmp_path / "train.py").write_text(SEED_TRAIN)
    (tmp_path / ".runx").write_text("LOGROOT: logs\n")
    (tmp_path / "sweep.yml").write_text(f"CMD: '{sys.executable} train.py'\n\nHPARAMS:\n"
                                        "  lr: [0.01, 0.02]\n  solver: ['sgd', 'adam']\n  logdir: LOGDIR\n")
    done = sh(["-m", "runx.runx", "sweep.yml", "-i"], tmp_path)
    assert done.returncode == 0, done.stderr
    for args in (["sweep", "--sortwith", "acc"], ["sweep"], ["sweep", "--ignore", "solver"]):
        shown = sh(["-m", "runx.sumx", *args], tmp_path)
        assert shown.returncode == 0 and shown.stderr == "", shown.stderr
        lines = shown.stdout.splitlines()
        header = lines[0].split()
        assert header[:2] == ["run", "lr"] and "acc" in header and "epoch" in header and "state" in header
        assert ("solver" in header) == ("solver" not in args) and "logdir" not in header
        rows = [line.split() for line in lines[2:]]
        assert len(rows) == 4 and all(r[header.index("epoch")] == "9" for r in rows)
        # best first: lr 0.02 adam, 0.02 sgd, 0.01 adam, 0.01 sgd (by acc up, and by loss down)
        assert [r[1] for r in rows] == ["0.02", "0.02", "0.01", "0.01"]
        if "solver" not in args:
            assert [r[2] for r in rows] == ["adam", "sgd", "adam", "sgd"]
