"""Issue 14 item 8: hostile numbers and corrupted run files crash nothing that reads or resumes a run directory.

1,200 run directories, each first written for real (runx's files, logx's metrics and summary), are
corrupted: bytes flipped, files truncated, values replaced by the wrong type, every number made
non-finite. Then sumx (every output format, as real processes), `python -m runx.logx` and
logx.initialize()/metric()/close() must read each one without an exception, and after logging again
the summary must count what was just logged.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from runx.logx import LogX
from runx.logx.__main__ import main as logx_main
from runx.logx.rundir.layout import CHECKPOINTS_FILE, HPARAMS_FILE, METRICS_FILE, RUN_FILE, STATUS_FILE, SUMMARY_FILE
from runx.logx.rundir.summary import summarize
from runx.logx.rundir.writer import MetricsWriter
from runx.sumx.reader import load_run

CASES = 1200
FILES = (METRICS_FILE, SUMMARY_FILE, HPARAMS_FILE, RUN_FILE, STATUS_FILE, CHECKPOINTS_FILE)
JSON_FILES = (SUMMARY_FILE, HPARAMS_FILE, RUN_FILE, CHECKPOINTS_FILE)
NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e400", "-1e999")
HOSTILE = [None, True, False, "x", "", "nan", "inf", [], {}, [math.nan], {"a": [math.inf]}, -1, 10 ** 30, 1.5,
           math.nan, math.inf, -math.inf, "\x1b]0;title\x07\x1b[2J\r\n", ["a"], [1], 2 ** 63]


def make_run(run_dir: Path, i: int) -> None:
    """A run as runx and logx leave it."""
    run_dir.mkdir(parents=True)
    hparams = {"lr": 0.1 * (i % 7 + 1), "solver": ["sgd", "adam"][i % 2], "layers": [1, 2], "seed": i}
    (run_dir / HPARAMS_FILE).write_text(json.dumps(hparams))
    (run_dir / RUN_FILE).write_text(json.dumps({"experiment": "e", "run": run_dir.name, "hparams": hparams, "farm": {"kind": "local"},
                                                "job_id": None, "metric_goals": {"acc": "max", "loss": "min"}}))
    (run_dir / STATUS_FILE).write_text(f"queued 1700000000\nstarted 1700000001 host=h pid={100 + i}\nfinished 1700000100 exit=0\n")
    (run_dir / CHECKPOINTS_FILE).write_text(json.dumps({"best_metric": 0.5, "best_checkpoint": None, "last_checkpoint": None,
                                                        "higher_better": True, "delete_old": True}))
    writer = MetricsWriter(str(run_dir))
    for step in range(4):
        writer.write("train", step, {"loss": 1.0 / (step + 1), "odd": [math.nan, math.inf, 2, -1][step]})
        writer.write("val", step, {"acc": 0.5 + step / 10, "loss": 2.0 / (step + 1)})
    writer.close()


def _paths(value, prefix=()):
    """Every path to a value inside parsed JSON."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for k, v in enumerate(value):
            yield from _paths(v, prefix + (k,))


def _replace(value, path, new):
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


def _non_finite_everywhere(text: str, rng: random.Random) -> str:
    """Every JSON number in `text` replaced by a non-finite one (NaN, Infinity, 1e400, ...)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '"':  # skip strings
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif c in "-0123456789":
            j = i + 1
            while j < len(text) and text[j] in "0123456789.eE+-":
                j += 1
            out.append(rng.choice(NON_FINITE))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def corrupt(run_dir: Path, rng: random.Random) -> str:
    """Damage one or more files of the run in one of four ways; returns what was done."""
    done = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        name = rng.choice(FILES)
        path = run_dir / name
        if not path.exists():
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", "surrogateescape")  # an earlier flip may have left bytes that are not UTF-8
        how = rng.choice(("flip", "truncate", "type", "nonfinite"))
        if how == "flip" and data:
            raw = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(raw))
        elif how == "truncate":
            path.write_bytes(data[:rng.randrange(len(data) + 1)])
        elif how == "type" and name in JSON_FILES:
            try:
                value = json.loads(data)
            except ValueError:
                continue
            target = rng.choice(list(_paths(value)))
            text = json.dumps(_replace(value, target, rng.choice(HOSTILE)))
            path.write_text(text.replace("1e+30", "1e400") if rng.random() < 0.3 else text)
        elif how == "type" and name == METRICS_FILE:
            lines = text.splitlines(keepends=True)
            if not lines:
                continue
            k = rng.randrange(len(lines))
            try:
                record = json.loads(lines[k])
            except ValueError:
                continue
            target = rng.choice(list(_paths(record)))
            lines[k] = json.dumps(_replace(record, target, rng.choice(HOSTILE))) + "\n"
            path.write_bytes("".join(lines).encode("utf-8", "surrogateescape"))
        elif how == "nonfinite" and name == STATUS_FILE:
            path.write_bytes("".join(f"{line.split()[0]} {rng.choice(('inf', 'nan', '1e20', '-1', 'x'))} {' '.join(line.split()[2:])}\n"
                                     for line in text.splitlines() if line.split()).encode("utf-8", "surrogateescape"))
        elif how == "nonfinite":
            path.write_bytes(_non_finite_everywhere(text, rng).encode("utf-8", "surrogateescape"))
        else:
            continue
        done.append(f"{how} {name}")
    return ", ".join(done)


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory) -> tuple:
    root = tmp_path_factory.mktemp("hostile")
    exp = root / "logs" / "e"
    what = {}
    for i in range(CASES):
        run_dir = exp / f"r{i:04d}"
        make_run(run_dir, i)
        what[run_dir] = corrupt(run_dir, random.Random(i))
    return root, exp, what


def test_the_corruptions_hit_every_file_in_every_way(corrupted):
    _, _, what = corrupted
    kinds = {part for done in what.values() for part in done.split(", ") if part}
    for how in ("flip", "truncate", "type", "nonfinite"):
        for name in FILES:
            if how == "type" and name == STATUS_FILE:
                continue
            assert f"{how} {name}" in kinds, (how, name)
    assert sum(1 for done in what.values() if done) >= 1000


def test_sumx_reads_every_corrupted_run(corrupted):
    _, exp, what = corrupted
    for run_dir, done in what.items():
        for history in (False, True):  # a table's read, and a picture's (each metric's history decoded)
            try:
                run = load_run("e", str(exp), str(run_dir), history=history)
            except Exception as err:  # noqa: BLE001 - the test is that nothing escapes
                pytest.fail(f"{run_dir.name} ({done}): load_run(history={history}) raised {err!r}")
            assert run is None or run.name == run_dir.name


@pytest.mark.parametrize("options", [[], ["--json"], ["--csv", "-"], ["--markdown"], ["-s", "acc"], ["--group_by", "solver"],
                                     ["--format", "github"], ["--format", "latex"], ["--format", "html"], ["--format", "rst"],
                                     ["--format", "orgtbl"], ["--format", "latex_booktabs"], ["--trend"]])
def test_every_sumx_output_format_survives(corrupted, options):
    root, _, _ = corrupted
    done = subprocess.run([sys.executable, "-m", "runx.sumx", "e", "--logroot", str(root / "logs"), *options],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stdout.strip()
    if options == ["--json"]:
        rows = json.loads(done.stdout, parse_constant=lambda c: pytest.fail(f"{c} in sumx --json"))["rows"]
        assert len(rows) >= CASES * 0.9


def test_python_m_runx_logx_survives(corrupted):
    _, _, what = corrupted
    for run_dir, done in what.items():
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                code = logx_main([str(run_dir)])
        except Exception as err:  # noqa: BLE001
            pytest.fail(f"{run_dir.name} ({done}): python -m runx.logx raised {err!r}")
        assert code in (0, 2)
    one = next(iter(what))
    done = subprocess.run([sys.executable, "-m", "runx.logx", str(one)], capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 2) and "Traceback" not in done.stderr


def test_logx_resumes_and_logs_into_every_corrupted_run(corrupted):
    _, _, what = corrupted
    for run_dir, done in what.items():
        before = summarize(str(run_dir))
        val_before = before.phases["val"].count if before is not None and "val" in before.phases else 0
        try:
            log = LogX()
            log.initialize(logdir=str(run_dir))
            log.metric("val", {"acc": 0.9, "loss": math.inf})
            log.metric("train", {"loss": math.nan})
            log.close()
        except Exception as err:  # noqa: BLE001
            pytest.fail(f"{run_dir.name} ({done}): logx raised {err!r}")
        after = summarize(str(run_dir))
        assert after is not None and after.phases["val"].count == val_before + 1, done
        assert after.phases["val"].metrics["acc"].last == 0.9
        constants: list = []
        written = json.loads((run_dir / SUMMARY_FILE).read_text(), parse_constant=constants.append)
        assert constants == [], f"non-standard JSON in the summary of {run_dir.name}"
        assert os.path.getsize(run_dir / METRICS_FILE) >= written["log_bytes"]
