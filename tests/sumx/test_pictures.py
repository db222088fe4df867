"""sumx's pictures, end to end: the trend column, --phase, --plot and --plot-hparams files (PNG, SVG, PDF),
and the HTML report in a real headless Chromium. Runs are written by the real metrics writer; sumx runs
as a real subprocess."""
from __future__ import annotations

import io
import json
import math
import os
import pty
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path
from typing import Any, Dict, List, NamedTuple

from browser import browser, console_errors, pixel_variance, screenshot_not_blank  # noqa: F401 (the fixture)
from conftest import write_legacy_run, write_run
from hypothesis import given, settings
from hypothesis import strategies as st
from runx.logx.rundir.layout import SUMMARY_FILE
from runx.sumx import reader
from runx.sumx.spark import ASCII, BLOCKS, sparkline
from runx_testing import require

SVG = "{http://www.w3.org/2000/svg}"


def sweep(exp: Path, epochs: int = 30, scale: float = 1.0) -> None:
    """Six runs over lr x bs; loss falls faster with lr; one run diverges (NaN), one has a hostile name."""
    for i, (lr, bs) in enumerate([(0.001, 32), (0.01, 32), (0.1, 32), (0.001, 64), (0.01, 64), (0.1, 64)]):
        val = [{"loss": scale * 2 * math.exp(-e * lr * 3) + 0.01 * i, "acc": 100 * (1 - math.exp(-e * lr))}
               for e in range(epochs)]
        if i == 3:
            val[-1]["loss"] = math.nan
        name = "run<b>&\x1b[31m" if i == 4 else f"run{i}"
        write_run(exp, name, {"lr": lr, "bs": bs, "note": "$x$" if i == 0 else "plain"}, val=val,
                  train=[{"loss": 3.0 - 0.001 * s * (i + 1)} for s in range(epochs * 2)])


def test_sparklines_scale_thin_and_fall_back():
    assert sparkline([(0, 0.0), (1, 1.0)]) == BLOCKS[0] + BLOCKS[-1]
    assert sparkline([(0, 1.0), (1, math.nan), (2, 0.0)], ascii=True) == ASCII[-1] + "x" + ASCII[0]
    long = sparkline([(s, float(s)) for s in range(64)])
    assert len(long) == 16 and long[0] == BLOCKS[0] and long[-1] == BLOCKS[-1] and list(long) == sorted(long)
    assert sparkline([]) == "" and sparkline([(0, 5)]) == BLOCKS[3]
    assert sparkline([(0, -1e308), (1, 0.0), (2, 1e308)]) == BLOCKS[0] + BLOCKS[4] + BLOCKS[-1]  # wider than a float


def reference_sparkline(points, width=16, ascii=False):
    """The plain definition: `width` evenly spaced values, each scaled from the finite minimum to the maximum."""
    if not points:
        return ""
    levels = ASCII if ascii else BLOCKS
    n = len(points)
    picked = points if n <= width else [points[round(i * (n - 1) / (width - 1))] for i in range(width)]
    values = [v for _, v in picked]
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    scale = 2 if hi - lo == math.inf else 1  # values wider apart than the largest float are scaled by halves
    top = len(levels) - 1
    out = ""
    for v in values:
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            out += "x" if ascii else "×"
        elif hi - lo <= 0:
            out += levels[top // 2]
        else:
            out += levels[min(top, int((v / scale - lo / scale) / (hi / scale - lo / scale) * top + 0.5))]
    return out


VALUES = st.one_of(st.floats(), st.integers(-10**6, 10**6), st.sampled_from([1e308, -1e308, 5e-324, 0.1, 0.0, -0.0]))


@settings(max_examples=600, deadline=None)
@given(st.lists(VALUES, max_size=70), st.sampled_from([2, 3, 16, 64]), st.booleans())
def test_sparkline_is_its_plain_definition(values, width, ascii):
    points = [(i, v) for i, v in enumerate(values)]
    assert sparkline(points, width, ascii) == reference_sparkline(points, width, ascii)


def test_trend_column_phase_and_tty_default(sumx):
    exp = sumx.exp("sweep")
    sweep(exp, epochs=300)
    write_legacy_run(exp, "old", {"lr": 0.5, "bs": 32, "note": "plain"}, [{"loss": 3.0 - e / 10} for e in range(20)])
    piped = sumx("sweep").stdout  # not a terminal: no trend unless asked for
    assert "trend" not in piped and not set(BLOCKS) & set(piped)
    lines = sumx("sweep", "--trend").stdout.splitlines()
    assert "loss-trend" in lines[0]
    body = [line for line in lines[2:] if line.strip()]
    assert len(body) == 7
    for line in body:
        spark = [w for w in line.split() if set(w) <= set(BLOCKS) | {"×"} and len(w) > 4]
        assert len(spark) == 1 and len(spark[0]) == 16, line  # 300 epochs, shown in 16 characters
    assert any(line.startswith("run3") and "×" in line for line in body)  # its last loss is NaN
    assert any(line.startswith("old") for line in body)  # a 0.0.11 run has a trend too
    assert "\x1b" not in "".join(lines)
    ascii = subprocess.run([sys.executable, "-m", "runx.sumx", "sweep", "--trend"], cwd=sumx.root, capture_output=True,
                           text=True, env={**os.environ, "PYTHONIOENCODING": "ascii"}, timeout=60)
    assert ascii.returncode == 0 and ascii.stdout.isascii() and any(c in ascii.stdout for c in "#*+=")
    assert "trend" not in sumx("sweep", "--trend", "--no-trend").stdout
    assert "trend" not in sumx("sweep", "--trend", "--json").stdout

    def on_a_terminal(*args: str) -> str:
        main, child = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "runx.sumx", "sweep", *args], cwd=sumx.root, stdout=child,
                                stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        os.close(child)
        out = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait(timeout=60) == 0
        os.close(main)
        return out.decode()

    assert "loss-trend" in on_a_terminal() and set(BLOCKS) & set(on_a_terminal())
    assert "trend" not in on_a_terminal("--no-trend")

    train = sumx("sweep", "--phase", "train", "--trend").stdout
    assert "acc" not in train and "loss-trend" in train
    first = train.splitlines()[2]
    assert first.startswith("run5")  # the train loss falls fastest for the last run
    assert "no train metrics yet" in train  # the 0.0.11 run logged val rows only
    bad = sumx("sweep", "--phase", "train", "-s", "acc", ok=False)
    assert bad.returncode == 2 and bad.stderr.strip().endswith("no train metric of that name (have: loss)")


def png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


class Panel(NamedTuple):
    """One axes of a matplotlib SVG, read back from the file."""

    curves: Dict[str, Dict[str, Any]]
    """Each run's line, `run-<i>` in drawing order (the last on top): its path's points and style."""
    title: List[str]
    xlabel: List[str]
    xticks: List[str]
    legend: List[str]


def _groups(element: ET.Element, prefix: str) -> List[ET.Element]:
    return [g for g in element.findall(f"{SVG}g") if (g.get("id") or "").startswith(prefix)]


def _texts(elements: List[ET.Element]) -> List[str]:
    """The texts drawn in these groups: matplotlib draws a text as glyphs after a comment that holds it."""
    return [c.text.strip() for e in elements for c in e.iter(ET.Comment) if c.text]


def panels(path: Path) -> List[Panel]:
    """The axes of an SVG that sumx drew, each checked to hold one curve path (a non-trivial line) per run group."""
    root = ET.parse(path, ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))).getroot()
    out = []
    for axes in _groups(root.find(f"{SVG}g"), "axes_"):
        curves = {}
        for group in _groups(axes, "run-"):
            drawn = list(group.iter())[1:]
            assert [e.tag for e in drawn] == [f"{SVG}path"], (path, group.get("id"), drawn)  # one path, nothing else
            numbers = [float(n) for n in re.findall(r"-?[0-9.]+(?:e[-+]?[0-9]+)?", drawn[0].get("d", ""))]
            points = list(zip(numbers[::2], numbers[1::2]))
            assert len(numbers) % 2 == 0 and len(set(points)) >= 2, (path, group.get("id"), drawn[0].get("d"))
            style = dict(part.split(": ", 1) for part in drawn[0].get("style", "").split("; ") if part)
            assert group.get("id") not in curves, (path, group.get("id"))
            curves[group.get("id")] = {"points": points, "stroke": style.get("stroke"),
                                       "width": float(style.get("stroke-width", "1"))}
        xaxis = _groups(axes, "matplotlib.axis_")[0]
        legend = [t for g in _groups(axes, "legend_") for t in _texts(_groups(g, "text_"))]
        out.append(Panel(curves, _texts(_groups(axes, "text_")), _texts(_groups(xaxis, "text_")),
                         _texts(_groups(xaxis, "xtick_")), legend))
    return out


def runs_in_svg(path: Path) -> List[List[str]]:
    """The run groups of each panel that has curves, each group holding exactly one curve (see `panels`)."""
    return [sorted(p.curves) for p in panels(path) if p.curves]


BATCH = """
import sys
from runx.sumx import main
for argv in [line.split() for line in sys.stdin.read().splitlines()]:
    print("rc", main(argv), flush=True)
"""


def test_plot_files_and_their_errors(sumx, tmp_path):
    """Every drawing in one process (sumx's own main(), as `sumx` runs it) so matplotlib is imported once."""
    require("matplotlib")
    sweep(sumx.exp("sweep"))
    sweep(sumx.exp("steeper"), scale=3.0)
    calls = ["sweep --plot loss", "steeper --plot loss -o steeper.png", "sweep --plot loss,acc -o two.svg",
             "sweep steeper --plot loss -o both.svg --filter bs=32", "sweep --plot loss --group-by bs -o grouped.pdf",
             "sweep --plot-hparams acc -o hp.svg", "sweep --plot-hparams loss",
             "sweep --plot loss -o no/such/dir/x.png"]
    done = subprocess.run([sys.executable, "-c", BATCH], cwd=sumx.root, input="\n".join(calls), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["sweep_loss.png", "rc 0", "steeper.png", "rc 0", "two.svg", "rc 0", "both.svg",
                                        "rc 0", "grouped.pdf", "rc 0", "hp.svg", "rc 0", "sweep_loss_hparams.png", "rc 0",
                                        "rc 2"]
    assert done.stderr.startswith("sumx: error: --plot: cannot write no/such/dir/x.png")
    assert done.stderr.count("\n") == 1
    png = (sumx.root / "sweep_loss.png").read_bytes()
    width, height = png_size(png)
    assert width >= 600 and height >= 300 and len(png) > 10_000
    assert pixel_variance(png) > 25
    other = (sumx.root / "steeper.png").read_bytes()
    from PIL import Image, ImageChops

    with Image.open(io.BytesIO(png)) as a, Image.open(io.BytesIO(other)) as b:
        assert a.size == b.size and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is not None
    six = [f"run-{i}" for i in range(6)]
    assert runs_in_svg(sumx.root / "two.svg") == [six, six]  # a panel per metric
    assert runs_in_svg(sumx.root / "both.svg") == [six]  # 2 experiments x 3 runs
    assert panels(sumx.root / "both.svg")[0].title == ["loss (val), 6 runs, best: sweep: run2"]  # which run2
    assert (sumx.root / "grouped.pdf").read_bytes()[:5] == b"%PDF-"
    assert runs_in_svg(sumx.root / "hp.svg") == [six]  # parallel coordinates
    assert png_size((sumx.root / "sweep_loss_hparams.png").read_bytes())[0] >= 600

    for args, message in [(("--plot", "nope"), "sumx: error: --plot nope: no val metric of that name (have: acc, loss)"),
                          (("--plot", "loss", "-o", "x.gif"), "sumx: error: -o x.gif: expected a file name ending in .png"),
                          (("--plot-hparams", "loss,acc"), "sumx: error: --plot-hparams loss,acc: expected one metric")]:
        bad = sumx("sweep", *args, ok=False)
        assert bad.returncode == 2 and bad.stderr.startswith(message) and bad.stderr.count("\n") == 1, bad.stderr
    assert sorted(p.name for p in sumx.root.iterdir() if p.suffix in (".png", ".svg", ".pdf", ".gif")) == [
        "both.svg", "grouped.pdf", "hp.svg", "steeper.png", "sweep_loss.png", "sweep_loss_hparams.png", "two.svg"]
    blocked = subprocess.run([sys.executable, "-c", "import sys; sys.modules['matplotlib'] = None; "
                              "from runx.sumx import main; sys.exit(main(sys.argv[1:]))", "sweep", "--plot", "loss",
                              "-o", "none.png"], cwd=sumx.root, capture_output=True, text=True, timeout=60)
    assert blocked.returncode == 2 and "pip install 'runx-sumx[plot]'" in blocked.stderr
    assert blocked.stderr.count("\n") == 1 and not (sumx.root / "none.png").exists()


HP_RUNS = [(1e-4, 0.1), (1e-3, 0.2), (1e-2, 0.3), (1e-1, 0.4)]
BEST_RED = "#d62728"


def hp_sweep(exp: Path) -> None:
    """Four runs over lr (four decades) and dropout (a linear range), bs and opt the same in all: the lowest
    loss is run0's and the highest acc run3's, so the two goals pick opposite ends."""
    for i, (lr, dropout) in enumerate(HP_RUNS):
        val = [{"loss": 1 + i - 0.01 * e * (4 - i), "acc": 10 * i + e * (i % 2)} for e in range(10)]
        write_run(exp, f"run{i}", {"lr": lr, "dropout": dropout, "bs": 32, "opt": "adam"}, val=val)


def assert_best_on_top(panel: Panel, runs: int) -> None:
    """One curve per run; the table's first row (`run-0`) red, the widest, and drawn last (on top)."""
    assert sorted(panel.curves) == [f"run-{i}" for i in range(runs)]
    best, others = panel.curves["run-0"], [c for k, c in panel.curves.items() if k != "run-0"]
    assert list(panel.curves)[-1] == "run-0"
    assert best["stroke"] == BEST_RED and all(c["stroke"] != BEST_RED and c["width"] < best["width"] for c in others)


def test_svg_curves_best_run_legend_and_log_axes(sumx):
    """What the SVGs show: the best run by each metric's goal highlighted, legends naming only the hyperparameters
    that differ, and a log axis for the one that spans decades (read back from the files matplotlib wrote)."""
    require("matplotlib")
    hp_sweep(sumx.exp("hp"))
    calls = ["hp --plot loss -o loss.svg", "hp --plot acc -o acc.svg", "hp --plot acc,loss -o two.svg",
             "hp --plot-hparams loss -o hp.svg"]
    done = subprocess.run([sys.executable, "-c", BATCH], cwd=sumx.root, input="\n".join(calls), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.count("rc 0\n") == len(calls), done.stderr
    labels = [f"lr={lr:g} dropout={dropout:g}" for lr, dropout in HP_RUNS]  # not bs=32 or opt=adam: they are the same
    for name, metric, order in [("loss.svg", "loss", [0, 1, 2, 3]), ("acc.svg", "acc", [3, 2, 1, 0])]:
        [panel] = panels(sumx.root / name)
        sign = 1 if metric == "loss" else -1  # y grows downwards in SVG: the lowest loss is the largest y
        reach = {run: max(sign * y for _, y in curve["points"]) for run, curve in panel.curves.items()}
        assert max(reach, key=lambda run: reach[run]) == "run-0", (name, reach)  # min for loss, max for acc
        assert_best_on_top(panel, 4)
        assert panel.legend == [labels[i] for i in order]  # table order, the best first
        assert panel.title == [f"{metric} (val), 4 runs, best: run{order[0]}"]

    by_acc, loss_by_acc = panels(sumx.root / "two.svg")  # rows sorted by the first metric, in every panel
    for panel in (by_acc, loss_by_acc):
        assert_best_on_top(panel, 4)
        assert panel.legend == [labels[i] for i in (3, 2, 1, 0)]
    assert by_acc.title == ["acc (val), 4 runs, best: run3"]
    assert loss_by_acc.title == ["loss (val), 4 runs, best by acc: run3"]  # not the best loss: say by what

    *scatters, parallel = panels(sumx.root / "hp.svg")
    assert [p.xlabel for p in scatters] == [["lr"], ["dropout"]]  # one scatter per differing hparam
    lr_axis, dropout_axis = scatters
    assert lr_axis.xticks == [f"$\\mathdefault{{10^{{{e}}}}}$" for e in (-4, -3, -2, -1)]  # log: a tick per decade
    ticks = [float(t) for t in dropout_axis.xticks]  # plain numbers, evenly spaced: linear
    assert len(ticks) >= 3 and len({round(b - a, 9) for a, b in zip(ticks, ticks[1:])}) == 1, dropout_axis.xticks
    assert parallel.xticks == ["lr", "dropout", "loss"]
    assert_best_on_top(parallel, 4)


def test_html_report_in_a_real_browser(sumx, browser):  # noqa: F811
    exp = sumx.exp("sweep")
    sweep(exp)
    done = sumx("sweep", "--html", "report.html")
    assert done.stdout == "report.html\n"
    page = (sumx.root / "report.html").read_text(encoding="utf-8")
    assert "<b>" not in page and "run&lt;b&gt;&amp;" in page and "\x1b" not in page  # escaped, control chars shown
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "sumx sweep --html report.html" in page
    assert "lr (log)" in page and "bs (log)" not in page  # lr spans 1e-3..1e-1: a log axis; bs (32, 64) does not
    browser.get((sumx.root / "report.html").as_uri())
    assert console_errors(browser) == []
    assert browser.title == "sumx: sweep"
    paths = browser.find_elements("css selector", "svg path.run")
    assert len(paths) == 6
    assert [p.get_attribute("stroke") for p in paths].count("#d62728") == 1
    assert paths[-1].get_attribute("id") == "run-0" and paths[-1].get_attribute("stroke") == "#d62728"  # the best, on top
    assert screenshot_not_blank(browser)

    def column(title: str) -> list:
        heads = [th.text for th in browser.find_elements("css selector", "#runs thead th")]
        i = heads.index(title)
        return [tr.find_elements("tag name", "td")[i].text
                for tr in browser.find_elements("css selector", "#runs tbody tr") if tr.is_displayed()]

    def click(title: str) -> None:
        next(th for th in browser.find_elements("css selector", "#runs thead th") if th.text.startswith(title)).click()

    assert column("run")[0] == "run2"  # best loss first, as sumx sorts
    trends = column("loss-trend")  # each run's sparkline of its loss, as the text table's trend column
    assert len(trends) == 6 and all(len(t) == 16 and set(t) <= set(BLOCKS) | {"×"} for t in trends), trends
    assert trends[0] == sparkline([(e, 2 * math.exp(-e * 0.1 * 3) + 0.02) for e in range(30)])  # run2's own
    click("acc")
    acc = [float(v) for v in column("acc")]
    assert acc == sorted(acc) and acc != [float(v) for v in column("acc")][::-1]
    click("acc")
    assert [float(v) for v in column("acc")] == sorted(acc, reverse=True)
    click("loss-best")
    best = column("loss-best")
    assert best == sorted(best, key=float) and len(best) == 6
    box = browser.find_element("id", "filter")
    box.send_keys("0.01")
    assert sorted(column("lr")) == ["0.01", "0.01"] and browser.find_element("id", "shown").text == "2"
    assert console_errors(browser) == []


TRAIN = """
import argparse
from runx.logx import logx
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
args = parser.parse_args()
logx.initialize()
for epoch in range(3):
    logx.metric("val", {"loss": 1 / (1 + epoch * args.lr)}, epoch)
logx.close()
"""


def test_html_report_names_the_git_commit_and_the_commands(sumx):
    """A sweep that runx launched from a real git checkout: the page shows the commit runx recorded in run.json
    (marked dirty once the source has changed), the runx command that launched it, the best run's command and
    the sumx command that made the page."""
    root = sumx.root
    (root / "train.py").write_text(TRAIN)
    (root / "sweep.yml").write_text(f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  lr: [0.1, 1.0]\n")
    (root / ".gitignore").write_text("logs/\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "the sweep"]):
        subprocess.run(git + args, check=True, capture_output=True)
    commit = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()

    def launch_and_report(experiment: str) -> str:
        done = subprocess.run([sys.executable, "-m", "runx.runx", "sweep.yml", "-i", "--exp_name", experiment], cwd=root,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert sumx(experiment, "--html", f"{experiment}.html").stdout == f"{experiment}.html\n"
        return (root / f"{experiment}.html").read_text(encoding="utf-8")

    page = launch_and_report("sweep")
    records = {r["hparams"]["lr"]: r for r in (json.loads((run / "run.json").read_text()) for run in sumx.exp("sweep").iterdir())}
    assert set(records) == {0.1, 1.0} and all(r["git"]["commit"] == commit for r in records.values())
    assert f"git commit: <code>{commit}</code>" in page  # clean: the logs are ignored
    assert f"command (best run): <code>{escape(records[1.0]['command'])}</code>" in page  # lr 1 has the lower loss
    assert all(r["launch_command"] == "runx sweep.yml -i --exp_name sweep" for r in records.values())
    assert "launched with: <code>runx sweep.yml -i --exp_name sweep</code>" in page
    assert escape(records[0.1]["command"]) not in page
    assert "report made by: <code>sumx sweep --html sweep.html</code>" in page
    (root / "train.py").write_text(TRAIN + "# changed, not committed\n")
    assert f"git commit: <code>{commit} (dirty)</code>" in launch_and_report("changed")
    subprocess.run(git + ["commit", "-qam", "the change"], check=True, capture_output=True)
    second = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    page = launch_and_report("sweep")  # the same experiment again, from the new commit: its runs come from two
    assert "git commit (best run): <code>" in page and "git commit: <code>" not in page
    [listed] = re.findall(r"runs from 2 commits: <code>([^<]*)</code>", page)
    # (the new commit's runs are dirty: the reports written so far are untracked files of the checkout)
    assert sorted(listed.split(", ")) == sorted([f"{commit} (2 runs)", f"{second} (dirty) (2 runs)"]), listed


TREND_VALUES = st.one_of(st.floats(width=32), st.integers(-50, 50))


@settings(max_examples=40, deadline=None)
@given(st.lists(TREND_VALUES, min_size=1, max_size=150), st.booleans())
def test_a_trend_drawn_from_its_field_is_the_one_drawn_from_the_history_and_from_the_log(values, ascii):
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "e"
        run = write_run(exp, "r", {"x": 1}, [{"loss": v} for v in values])
        style = "ascii" if ascii else "unicode"
        from_field = reader.load_run("e", str(exp), str(run), history="loss", trend=style)
        with_history = reader.load_run("e", str(exp), str(run), history="loss")
        os.remove(run / SUMMARY_FILE)
        refolded = reader.load_run("e", str(exp), str(run), history="loss", trend=style)
    assert from_field is not None and with_history is not None and refolded is not None
    assert from_field.history is None and from_field.trends is not None and not from_field.notes
    drawn = sparkline(with_history.history["loss"], ascii=ascii)
    assert from_field.trends == {"loss": drawn} == refolded.trends and len(drawn) == min(16, len(values))


def trend_cells(table: str) -> dict:
    """{first word of a row: its sparkline} of a text table with the trend column."""
    cells = {}
    for line in table.splitlines()[2:]:
        spark = [w for w in line.split() if set(w) <= set(BLOCKS) | {"×"} and len(w) > 4]
        if spark:
            cells[line.split()[0]] = spark
    return cells


def test_the_trend_column_reads_older_and_damaged_summaries_as_it_reads_its_field(sumx):
    """sumx --trend draws the same trends from summaries with the trend field, without it (runx before it),
    without a summary, and with a damaged field (then it says the summary was not used, as for a history)."""
    exp = sumx.exp("sweep")
    sweep(exp, epochs=120)
    runs = sorted(p for p in exp.iterdir() if (p / SUMMARY_FILE).exists())
    assert json.loads((runs[0] / SUMMARY_FILE).read_text())["phases"]["val"]["metrics"]["loss"]["trend"].startswith("[")
    table = sumx("sweep", "--trend")
    cells = trend_cells(table.stdout)
    assert len(cells) == 6 and all(len(c) == 1 and len(c[0]) == 16 for c in cells.values()) and not table.stderr

    def rewrite(run: Path, change) -> None:
        data = json.loads((run / SUMMARY_FILE).read_text())
        change(data["phases"]["val"]["metrics"]["loss"])
        (run / SUMMARY_FILE).write_text(json.dumps(data))

    rewrite(runs[0], lambda m: m.pop("trend"))  # as runx before the trend field wrote it
    os.remove(runs[1] / SUMMARY_FILE)  # no summary: the log is folded
    older = sumx("sweep", "--trend")
    assert trend_cells(older.stdout) == cells and runs[0].name not in older.stderr and runs[1].name in older.stderr
    rewrite(runs[2], lambda m: m.update(trend="[1.0, 2.0]"))  # damaged: two values where 16 belong
    damaged = sumx("sweep", "--trend")
    assert trend_cells(damaged.stdout) == cells
    assert f"no valid {SUMMARY_FILE}: read the whole log: " in damaged.stderr and runs[2].name in damaged.stderr
