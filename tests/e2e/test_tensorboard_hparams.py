"""TensorBoard's HParams dashboard, end to end: a runx sweep whose runs log with TensorBoard on or off, a runx 0.0.11
run, `sumx --to-tensorboard` for the runs that lack the data, and a real `tensorboard` server on loopback whose
hparams plugin is queried over HTTP as its web page does."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from browser import browser, screenshot_not_blank  # noqa: F401  (browser: the fixture)
from runx_testing import require

TRAIN = textwrap.dedent("""
    import argparse
    from runx.logx import logx
    p = argparse.ArgumentParser()
    for name, kind in (("lr", float), ("solver", str), ("tb", int), ("fail", int), ("logdir", str)):
        p.add_argument("--" + name, type=kind)
    a = p.parse_args()
    logx.initialize(logdir=a.logdir, hparams=vars(a), tensorboard=bool(a.tb))
    for epoch in range(3):
        logx.metric("train", {"loss": a.lr * 10 / (epoch + 1)}, epoch)
        logx.metric("val", {"acc": 50 + 100 * a.lr + epoch}, epoch)
    if a.fail:
        raise RuntimeError("diverged")  # uncaught: logx ends the session with failure at exit
""")
SWEEP = textwrap.dedent("""
    CMD: '{python} train.py'
    HPARAMS:
      - {{lr: 0.1, solver: sgd, tb: 1, fail: 0, logdir: LOGDIR}}
      - {{lr: 0.2, solver: adam, tb: 1, fail: 1, logdir: LOGDIR}}
      - {{lr: 0.3, solver: sgd, tb: 0, fail: 0, logdir: LOGDIR}}
      - {{lr: 0.4, solver: adam, tb: 0, fail: 1, logdir: LOGDIR}}
""")
PAGE_TEXT = """
function text(node) {  // all text below node, through shadow roots (TensorBoard's pages are web components)
  let out = node.shadowRoot ? text(node.shadowRoot) : "";
  for (const child of node.childNodes) out += child.nodeType === 3 ? child.textContent + " " : text(child);
  return out;
}
return text(document.body);
"""
STATUS = {"succeeded": "STATUS_SUCCESS", "failed": "STATUS_FAILURE", None: "STATUS_UNKNOWN"}
ALL_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


class TensorBoard:
    """A `tensorboard` process serving `logdir` on a free loopback port, and its hparams plugin's routes."""

    def __init__(self, logdir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
                                         "--port", str(self.port), "--host", "127.0.0.1", "--reload_interval", "1"],
                                        stdout=self._log, stderr=subprocess.STDOUT)

    def hparams(self, route: str, body: dict) -> dict:
        return post(f"{self.url}/data/plugin/hparams/{route}", body)

    def session_groups(self) -> list:
        return self.hparams("session_groups", {"startIndex": 0, "sliceSize": 100, "allowedStatuses": ALL_STATUSES,
                                               "aggregationType": "AGGREGATION_AVG"}).get("sessionGroups", [])

    def wait_for(self, sessions: int, timeout: float = 60) -> list:
        """The session groups once `sessions` runs are there (TensorBoard loads event files in the background)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, "tensorboard exited"
            try:
                groups = self.session_groups()
                if len(groups) >= sessions:
                    return groups
            except OSError:
                groups = []  # not listening yet
            assert time.monotonic() < deadline, f"tensorboard shows {len(groups)} of {sessions} runs"
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def sh(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def files(root: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and "code" not in p.parts}


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple]:
    """(TensorBoard serving LOGROOT/sweep, sumx's JSON rows, the experiment directory) once the data is written.

    TensorBoard starts first and reloads every second, so its start overlaps the runs (it follows event files as
    they grow; TensorBoard keeps the first session start and end of a run whenever it reads them).
    """
    require("tensorboard")
    require("tensorboardX")
    root = tmp_path_factory.mktemp("hparams")
    (root / "train.py").write_text(TRAIN)
    (root / ".runx").write_text("LOGROOT: logs\n")
    (root / "sweep.yml").write_text(SWEEP.format(python=sys.executable))
    exp = root / "logs" / "sweep"
    exp.mkdir(parents=True)
    tensorboard = TensorBoard(exp, root / "tensorboard.log")
    try:
        yield (tensorboard, *write_runs(root, exp))
    finally:
        tensorboard.stop()


def write_runs(root: Path, exp: Path) -> tuple:
    """Run the sweep, add a 0.0.11 run, run sumx --to-tensorboard: (sumx's JSON rows, the experiment directory)."""
    done = sh("-m", "runx.runx", "sweep.yml", "-i", "-j", "4", cwd=root)
    assert done.returncode == 1, done.stderr  # two runs fail, as planned
    legacy = exp / "legacy_run"  # as runx 0.0.11 left a run: hparams.json and metrics.csv
    legacy.mkdir()
    (legacy / "hparams.json").write_text(json.dumps({"lr": 0.5, "solver": "sgd"}))
    (legacy / "metrics.csv").write_text("start,start/step,0,timestamp,1600000000.0\n"
                                        + "".join(f"val,acc,{70 + e},epoch,{e},timestamp,{1600000030.0 + e}\n"
                                                  for e in range(3)))
    before = files(exp)
    done = sh("-m", "runx.sumx", "sweep", "--to-tensorboard", cwd=root)
    assert done.returncode == 0 and done.stdout.startswith("TensorBoard data written for 3 of 5 runs"), done
    assert all(files(exp)[p] == data for p, data in before.items())  # no file logx or runx wrote is touched
    rows = json.loads(sh("-m", "runx.sumx", "sweep", "--json", cwd=root).stdout)["rows"]
    return rows, exp


def test_every_run_hparam_metric_and_status_is_in_tensorboards_hparams_plugin(served):
    tensorboard, rows, exp = served
    groups = tensorboard.wait_for(len(rows))
    by_name = {g["name"]: g for g in groups}
    assert sorted(by_name) == sorted(r["run"] for r in rows)
    sumx_wrote = {r["run"] for r in rows if any(n.endswith(".sumx") for n in os.listdir(exp / r["run"]))}
    assert sumx_wrote == {r["run"] for r in rows if r["hparams"].get("tb") != 1}  # logx's own runs got nothing
    for row in rows:
        group = by_name[row["run"]]
        assert group["hparams"] == pytest.approx(row["hparams"]), row["run"]
        values = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        assert values["val/acc"] == pytest.approx(row["metrics"]["acc"]), row["run"]
        if row["run"] != "legacy_run":
            lr = row["hparams"]["lr"]
            assert values["train/loss"] == pytest.approx(lr * 10 / 3), row["run"]
        assert [s["status"] for s in group["sessions"]] == [STATUS[row["state"]]], row["run"]
    experiment = tensorboard.hparams("experiment", {"experimentName": ""})
    infos = {h["name"]: h for h in experiment["hparamInfos"]}
    assert {"lr", "solver", "tb", "fail", "logdir"} <= set(infos)
    assert infos["lr"]["domainInterval"] == {"minValue": 0.1, "maxValue": 0.5} and infos["lr"]["differs"]
    assert sorted(infos["solver"]["domainDiscrete"]) == ["adam", "sgd"]
    assert sorted(m["name"]["tag"] for m in experiment["metricInfos"]) == ["train/loss", "val/acc"]


def test_the_hparams_page_shows_every_run(served, browser):  # noqa: F811  (the fixture)
    tensorboard, rows, _ = served
    tensorboard.wait_for(len(rows))
    browser.get(f"{tensorboard.url}/#hparams")
    names = [r["run"] for r in rows]
    deadline = time.monotonic() + 90
    while True:
        shown = browser.execute_script(PAGE_TEXT)
        missing = [n for n in names if n not in shown]
        if not missing:
            break
        assert time.monotonic() < deadline, f"the HParams page does not show {missing}"
        time.sleep(0.5)
    assert "adam" in shown and "sgd" in shown and "val/acc" in shown
    assert screenshot_not_blank(browser)
