"""Issue 14 item 9: sumx never follows a directory symlink while discovering runs, so links to `.`, to a
parent or in a loop show each run once and end at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from runx.logx.rundir.writer import MetricsWriter


def make_run(run_dir, acc: float) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "hparams.json").write_text(json.dumps({"lr": acc}))
    writer = MetricsWriter(str(run_dir))
    writer.write("val", 0, {"acc": acc})
    writer.close()


def sumx(root, *args):
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "runx.sumx", "e", "--logroot", str(root), "--json", *args],
                          capture_output=True, text=True, timeout=60)
    return done, time.monotonic() - start


def test_links_to_itself_to_a_parent_and_in_a_loop(tmp_path):
    exp = tmp_path / "e"
    make_run(exp / "r1", 0.1)
    make_run(exp / "tag" / "r2", 0.2)
    os.symlink(".", exp / "a")  # ln -s . LOGROOT/e/a
    os.symlink(".", exp / "b")
    os.symlink("..", exp / "tag" / "up")
    os.symlink(str(tmp_path), exp / "root")
    (exp / "loop1").mkdir()
    os.symlink(str(exp / "loop2"), exp / "loop1" / "to2")
    (exp / "loop2").mkdir()
    os.symlink(str(exp / "loop1"), exp / "loop2" / "to1")
    os.symlink(str(exp / "r1"), exp / "link_to_a_run")
    done, seconds = sumx(tmp_path)
    assert done.returncode == 0, done.stderr
    names = sorted(row["run"] for row in json.loads(done.stdout)["rows"])
    assert names == ["r1", "tag/r2"] and seconds < 20


def test_the_experiment_directory_itself_may_be_a_link(tmp_path):
    make_run(tmp_path / "real" / "r1", 0.5)
    os.symlink(str(tmp_path / "real"), tmp_path / "e")
    done, _ = sumx(tmp_path)
    assert done.returncode == 0 and [r["run"] for r in json.loads(done.stdout)["rows"]] == ["r1"], done.stderr
