"""sumx as a user runs it: real run directories, `python -m runx.sumx` as a subprocess, every output parsed back."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time

import pytest
from conftest import write_legacy_run, write_run


def three_runs(sumx):
    """acc 9.5 / 100 / 50 (0.0.11 ranked 9.5 above 100), loss falling, one failed run."""
    exp = sumx.exp("sweep")
    write_run(exp, "run_a", {"lr": 0.5, "solver": "sgd", "logdir": "/x/a"}, [{"loss": 2.0, "acc": 9.5}, {"loss": 1.5, "acc": 9.0}])
    write_run(exp, "run_b", {"lr": 0.05, "solver": "sgd", "logdir": "/x/b"}, [{"loss": 0.9, "acc": 90}, {"loss": 0.2, "acc": 100}])
    write_run(exp, "run_c", {"lr": 0.1, "solver": "sgd", "logdir": "/x/c"}, [{"loss": 0.6, "acc": 50}, {"loss": 0.7, "acc": 40}],
              state=("finished", 3))
    return exp


def table_lines(stdout: str) -> list:
    """Text table rows split into cells (2+ spaces separate cells), header and rule dropped."""
    lines = stdout.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line.replace(" ", "")) == {"-"})
    return [re.split(r"\s{2,}", line.strip()) for line in lines[rule + 1:]]


def test_sorted_numerically_best_first_by_loss_by_default(sumx):
    three_runs(sumx)
    out = sumx("sweep").stdout
    header = out.splitlines()[0]
    assert "loss-best" in header and "acc" in header and "lr" in header
    assert "logdir" not in header and "solver" not in header  # ignored by default / identical
    names = [row[0] for row in table_lines(out)]
    assert names == ["run_b", "run_c", "run_a"]  # min loss: 0.2, 0.6, 1.5


def test_sortwith_higher_is_better_for_acc_and_numbers_compare_as_numbers(sumx):
    three_runs(sumx)
    doc = sumx.json("sweep", "--sortwith", "acc")
    assert doc["sort"] == {"metric": "acc", "goal": "max"}
    assert [r["run"] for r in doc["rows"]] == ["run_b", "run_c", "run_a"]
    assert [r["best"] for r in doc["rows"]] == [100, 50, 9.5]
    assert [r["metrics"]["acc"] for r in doc["rows"]] == [100, 40, 9.0]  # final, not best


def test_goal_from_command_line_and_from_the_experiment_config(sumx):
    exp = sumx.exp("e")
    write_run(exp, "r1", {"x": 1}, [{"score": 1.0}, {"score": 3.0}], goals={"score": "min"})
    write_run(exp, "r2", {"x": 2}, [{"score": 2.0}], goals={"score": "min"})
    doc = sumx.json("e", "-s", "score")
    assert doc["goals"]["score"] == "min" and [r["run"] for r in doc["rows"]] == ["r1", "r2"]
    assert doc["rows"][0]["best"] == 1.0
    doc = sumx.json("e", "-s", "score", "--goal", "score=max")
    assert [r["run"] for r in doc["rows"]] == ["r1", "r2"] and doc["rows"][0]["best"] == 3.0
    assert sumx.json("e", "-s", "score", "--goal", "score=max")["sort"]["goal"] == "max"


def test_csv_parses_back_with_full_precision_and_state(sumx):
    three_runs(sumx)
    sumx("sweep", "--sortwith", "acc", "--csv", "out")  # 0.0.11: --csv NAME writes NAME.csv
    rows = list(csv.DictReader(open(sumx.root / "out.csv", newline="")))
    assert [r["run"] for r in rows] == ["run_b", "run_c", "run_a"]
    assert [float(r["acc-best"]) for r in rows] == [100.0, 50.0, 9.5]
    assert [r["state"] for r in rows] == ["succeeded", "failed (3)", "succeeded"]
    assert [r["epoch"] for r in rows] == ["1", "1", "1"]
    assert float(rows[0]["epoch time (s)"]) == pytest.approx(60.0, abs=1.0)
    assert float(rows[0]["lr"]) == 0.05 and rows[0]["note"] == ""
    stdout = sumx("sweep", "--csv", "-").stdout
    assert next(csv.reader(io.StringIO(stdout)))[:2] == ["run", "lr"]


def test_markdown_parses_back(sumx):
    three_runs(sumx)
    lines = sumx("sweep", "--markdown").stdout.splitlines()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    header, align, body = cells[0], cells[1], cells[2:]
    assert header[:2] == ["run", "lr"] and "loss-best" in header
    assert all(set(a) <= set(":-") for a in align) and len(align) == len(header)
    assert [row[0] for row in body] == ["run_b", "run_c", "run_a"]
    assert body[1][header.index("state")] == "failed (3)"
    assert body[0][header.index("epoch time")] == "1:00"


def test_json_is_strict_and_keeps_non_finite_values(sumx):
    exp = sumx.exp("e")
    write_run(exp, "r1", {"x": 1}, [{"loss": 1.0, "f": float("nan")}])
    write_run(exp, "r2", {"x": 2}, [{"loss": 0.5, "f": float("inf")}])
    text = sumx("e", "--json").stdout
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    by = {r["run"]: r for r in doc["rows"]}
    assert by["r1"]["metrics"]["f"] == "nan" and by["r2"]["metrics"]["f"] == "inf"
    assert by["r1"]["hparams"] == {"x": 1} and by["r2"]["state"] == "succeeded" and by["r2"]["exit_code"] == 0


def test_text_numbers_are_readable(sumx):
    exp = sumx.exp("e")
    write_run(exp, "r1", {"lr": 1e-05}, [{"loss": 0.123456789, "big": 1234567.0, "tiny": 0.0000123, "n": 3}])
    write_run(exp, "r2", {"lr": 0.001}, [{"loss": 0.5, "big": 2.0, "tiny": 1.0, "n": 4}])
    row = dict(zip(sumx("e").stdout.splitlines()[0].split(), table_lines(sumx("e").stdout)[0]))
    assert row["loss"] == "0.1235" and row["big"] == "1234567" and row["tiny"] == "1.23e-5" and row["n"] == "3"
    assert row["lr"] == "1e-05"


def test_union_of_metrics_blank_where_missing(sumx):
    exp = sumx.exp("e")
    write_run(exp, "r1", {"x": 1}, [{"acc": 1.0}])
    write_run(exp, "r2", {"x": 2}, [{"acc": 2.0, "f1": 0.5}])
    doc = sumx.json("e")
    assert doc["metrics"] == ["acc", "f1"]
    rows = list(csv.DictReader(io.StringIO(sumx("e", "--csv", "-").stdout)))
    assert {r["run"]: r["f1"] for r in rows} == {"r1": "", "r2": "0.5"}


@pytest.mark.parametrize("expr, expected", [
    ("lr<0.1", ["run_b"]),
    ("lr<=0.1", ["run_b", "run_c"]),
    ("lr>=0.1", ["run_c", "run_a"]),
    ("lr=0.5", ["run_a"]),
    ("lr!=0.5", ["run_b", "run_c"]),
    ("solver=sgd", ["run_b", "run_c", "run_a"]),
    ("acc>45", ["run_b"]),  # final value
    ("state=failed", ["run_c"]),
    ("state!=failed", ["run_b", "run_a"]),
    ("run~_[ab]$", ["run_b", "run_a"]),
    ("lr==0.05", ["run_b"]),
])
def test_filters(sumx, expr, expected):
    three_runs(sumx)
    assert [r["run"] for r in sumx.json("sweep", "--filter", expr)["rows"]] == expected


def test_filters_combine_and_handle_text_and_bools(sumx):
    exp = sumx.exp("e")
    write_run(exp, "r1", {"solver": "adam", "amp": True, "lr": 0.1}, [{"acc": 1}])
    write_run(exp, "r2", {"solver": "sgd", "amp": False, "lr": 0.1}, [{"acc": 2}])
    write_run(exp, "r3", {"solver": "adam", "amp": False, "lr": 0.01}, [{"acc": 3}])
    runs = lambda *f: [r["run"] for r in sumx.json("e", *sum((["--filter", x] for x in f), []))["rows"]]  # noqa: E731
    assert runs("solver=adam", "lr<0.1") == ["r3"]
    assert runs("amp=true") == ["r1"] and runs("amp=False") == ["r3", "r2"]


def test_group_by_mean_std_and_count(sumx):
    exp = sumx.exp("e")
    accs = {(0.1, 0): 90.0, (0.1, 1): 92.0, (0.1, 2): 97.0, (0.01, 0): 50.0, (0.01, 1): 60.0}
    for (lr, seed), acc in accs.items():
        write_run(exp, f"r_{lr}_{seed}", {"lr": lr, "seed": seed, "logdir": f"/l/{lr}/{seed}"}, [{"acc": acc - 1}, {"acc": acc}])
    doc = sumx.json("e", "--group-by", "seed", "-s", "acc")
    assert [r["n"] for r in doc["rows"]] == [3, 2]
    top = doc["rows"][0]
    assert top["hparams"]["lr"] == 0.1 and top["hparams"]["seed"] == [0, 1, 2]
    assert top["metrics"]["acc"]["mean"] == pytest.approx(statistics.mean([90, 92, 97]))
    assert top["metrics"]["acc"]["std"] == pytest.approx(statistics.stdev([90, 92, 97]))
    text = sumx("e", "--group-by", "seed", "-s", "acc").stdout
    assert "93 ± 3.606" in text and "55 ± 7.071" in text
    rows = list(csv.DictReader(io.StringIO(sumx("e", "--group-by", "seed", "-s", "acc", "--csv", "-").stdout)))
    assert rows[0]["n"] == "3" and float(rows[0]["acc std"]) == pytest.approx(statistics.stdev([90, 92, 97]))
    assert sumx("e", "--group-by", "nope", ok=False).returncode == 2


def test_a_diverged_run_stays_in_its_group(sumx):
    exp = sumx.exp("e")
    for seed, loss in enumerate([0.2, 0.3, math.inf, math.nan]):
        write_run(exp, f"s{seed}", {"lr": 0.1, "seed": seed}, [{"loss": loss}], state=None)
    for seed, loss in enumerate([0.4, math.inf]):
        write_run(exp, f"t{seed}", {"lr": 0.2, "seed": seed}, [{"loss": loss}], state=None)
    doc = sumx.json("e", "--group-by", "seed", "-s", "loss")
    cells = {r["hparams"]["lr"]: (r["n"], r["metrics"]["loss"], r["state"]) for r in doc["rows"]}
    assert cells[0.1] == (4, {"mean": "nan", "std": "nan", "n": 4}, None)
    assert cells[0.2] == (2, {"mean": "inf", "std": "nan", "n": 2}, None)
    text = sumx("e", "--group-by", "seed", "-s", "loss").stdout
    assert "nan ± nan" in text and "inf ± nan" in text
    assert all(line.endswith("1:00") for line in text.splitlines()[2:])  # no state column text for runs without one


def test_zero_point_zero_eleven_metrics_csv(sumx):
    exp = sumx.exp("old")
    write_legacy_run(exp, "run1", {"lr": 0.1, "logdir": "a"}, [{"loss": 1.0, "acc": 9.5}, {"loss": 0.5, "acc": 7.0}])
    write_legacy_run(exp, "run2", {"lr": 0.2, "logdir": "b"}, [{"loss": 0.3, "acc": 100.0}, {"loss": 0.4, "acc": 100.5}])
    doc = sumx.json("old", "-s", "acc")
    assert [r["run"] for r in doc["rows"]] == ["run2", "run1"]
    assert doc["rows"][0]["best"] == 100.5 and doc["rows"][1]["best"] == 9.5
    assert doc["rows"][0]["epoch"] == 1 and doc["rows"][0]["epoch_seconds"] == pytest.approx(30.0)
    assert doc["rows"][0]["state"] is None and doc["rows"][0]["notes"] == []
    assert [r["run"] for r in sumx.json("old")["rows"]] == ["run2", "run1"]  # loss: 0.3 < 0.5
    assert sumx.json("old", "-s", "loss")["rows"][0]["best"] == 0.3


class Written(str):
    """A value as 0.0.11's csv.writer wrote it (str() of the object: torch tensors as `tensor(0.5000)`)."""

    def __repr__(self) -> str:
        return str(self)


def test_zero_point_zero_eleven_tensor_values_are_numbers(sumx):
    exp = sumx.exp("old")
    write_legacy_run(exp, "run1", {"lr": 0.1}, [{"loss": Written("tensor(0.9000)"), "acc": Written("tensor(9.5000)")}])
    write_legacy_run(exp, "run2", {"lr": 0.2}, [{"loss": Written("tensor(0.2500)"), "acc": Written("tensor(100.)")}])
    doc = sumx.json("old", "-s", "acc")
    assert [(r["run"], r["metrics"]["acc"], r["best"]) for r in doc["rows"]] == [("run2", 100.0, 100.0), ("run1", 9.5, 9.5)]
    assert sumx.json("old")["rows"][0]["metrics"]["loss"] == 0.25


def test_nested_tagged_runs_and_ignored_folders(sumx):
    exp = sumx.exp("e")
    write_run(exp, "tagA/run1", {"x": 1}, [{"acc": 1.0}])
    write_run(exp, "tagB/deeper/run2", {"x": 2}, [{"acc": 2.0}])
    write_run(exp, "run3", {"x": 3}, [{"acc": 3.0}])
    write_run(exp, "run3/code/inner", {"x": 4}, [{"acc": 4.0}])  # a snapshot's content: never a run
    write_run(exp, ".trash/run5", {"x": 5}, [{"acc": 5.0}])
    assert [r["run"] for r in sumx.json("e")["rows"]] == ["run3", "tagB/deeper/run2", "tagA/run1"]


def test_several_experiments_share_one_table(sumx):
    write_run(sumx.exp("a"), "r", {"x": 1}, [{"acc": 1.0}])
    write_run(sumx.exp("b"), "r", {"x": 2}, [{"acc": 2.0, "f1": 1.0}])
    out = sumx("a", "b").stdout
    assert out.splitlines()[0].startswith("experiment")
    assert [row[:2] for row in table_lines(out)] == [["b", "r"], ["a", "r"]]


def test_ignore_and_metrics_choose_columns(sumx):
    three_runs(sumx)
    header = sumx("sweep", "--ignore", "lr,acc").stdout.splitlines()[0]
    assert " lr" not in header and " acc " not in header and "loss" in header
    doc = sumx.json("sweep", "--metrics", "acc")
    assert doc["metrics"] == ["acc"]


# --- bad input --------------------------------------------------------------------------------------

def test_torn_last_line_without_summary_is_marked_and_the_rest_intact(sumx):
    exp = three_runs(sumx)
    run = exp / "run_b"
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"phase": "val", "st')
    os.remove(run / "metrics.summary.json")
    done = sumx("sweep")
    assert "torn" in done.stderr and "run_b" in done.stderr and len(done.stderr.splitlines()) == 2
    rows = {r["run"]: r for r in sumx.json("sweep")["rows"]}
    assert rows["run_b"]["metrics"]["loss"] == 0.2 and rows["run_b"]["notes"]
    assert rows["run_a"]["notes"] == [] and rows["run_c"]["metrics"]["acc"] == 40
    assert "note" in done.stdout.splitlines()[0]


def test_corrupt_line_in_the_middle_is_skipped(sumx):
    exp = sumx.exp("e")
    run = write_run(exp, "r1", {"x": 1}, [{"acc": 1.0}, {"acc": 2.0}])
    write_run(exp, "r2", {"x": 2}, [{"acc": 3.0}])
    lines = (run / "metrics.jsonl").read_text().splitlines(True)
    lines.insert(2, "{garbage\n")
    (run / "metrics.jsonl").write_text("".join(lines))
    done = sumx("e", "--json")
    rows = {r["run"]: r for r in json.loads(done.stdout)["rows"]}
    assert rows["r1"]["metrics"]["acc"] == 2.0 and any("torn" in n for n in rows["r1"]["notes"])
    assert rows["r2"]["notes"] == [] and "r1" in done.stderr


def test_missing_summary_is_noted_and_the_log_read(sumx):
    exp = sumx.exp("e")
    run = write_run(exp, "r1", {"x": 1}, [{"acc": 1.0}, {"acc": 2.0}])
    write_run(exp, "r2", {"x": 2}, [{"acc": 3.0}])
    os.remove(run / "metrics.summary.json")
    done = sumx("e", "--json")
    rows = {r["run"]: r for r in json.loads(done.stdout)["rows"]}
    assert rows["r1"]["metrics"]["acc"] == 2.0 and rows["r1"]["best"] == 2.0
    assert any("summary" in n for n in rows["r1"]["notes"]) and "summary" in done.stderr


def test_log_grown_past_its_summary_folds_in_the_tail(sumx):
    exp = sumx.exp("e")
    run = write_run(exp, "r1", {"x": 1}, [{"acc": 1.0}])
    write_run(exp, "r2", {"x": 2}, [{"acc": 1.5}])
    with open(run / "metrics.jsonl", "a") as f:  # a record the running job wrote after the last summary
        f.write(json.dumps({"phase": "val", "step": 1, "time": time.time() + 120, "metrics": {"acc": 5.0}}) + "\n")
    done = sumx("e", "--json")
    rows = {r["run"]: r for r in json.loads(done.stdout)["rows"]}
    assert rows["r1"]["metrics"]["acc"] == 5.0 and rows["r1"]["epoch"] == 1 and rows["r1"]["notes"] == []
    assert done.stderr == ""


def test_runs_without_metrics_or_hparams_still_appear(sumx):
    exp = sumx.exp("e")
    write_run(exp, "done", {"x": 1}, [{"acc": 1.0}])
    write_run(exp, "queued", {"x": 2}, None, state=None)
    (exp / "queued" / "status.log").write_text("queued 1700000000\n")
    write_run(exp, "only_train", {"x": 3}, None, train=[{"loss": 1.0}], state=("started",))
    broken = write_run(exp, "broken", None, [{"acc": 0.5}])
    (broken / "hparams.json").write_text("{not json")
    done = sumx("e", "--json")
    rows = {r["run"]: r for r in json.loads(done.stdout)["rows"]}
    assert set(rows) == {"done", "queued", "only_train", "broken"}
    assert rows["queued"]["notes"] == ["no metrics yet"] and rows["queued"]["state"] == "queued"
    assert rows["only_train"]["notes"] == ["no val metrics yet"] and rows["only_train"]["state"] == "running"
    assert rows["only_train"]["epoch"] == 0
    assert rows["broken"]["metrics"] == {"acc": 0.5} and "hparams.json unreadable" in rows["broken"]["notes"]
    assert [r["run"] for r in json.loads(done.stdout)["rows"]][:2] == ["done", "broken"]
    assert len(done.stderr.splitlines()) == 3  # one line per kind of problem
    text = sumx("e").stdout
    assert "no metrics yet" in text and "queued" in text


@pytest.mark.parametrize("args, fragment", [
    (["nope"], "nope: no such experiment"),
    (["sweep", "--sortwith", "f1"], "--sortwith f1: no val metric"),
    (["sweep", "--filter", "nope<1"], "no hyperparameter or val metric named 'nope'"),
    (["sweep", "--filter", "lr"], "expected KEY OP VALUE"),
    (["sweep", "--goal", "acc=up"], "--goal acc=up"),
    (["sweep", "--metrics", "f1"], "--metrics f1"),
    (["sweep", "--bogus"], "unrecognized option --bogus"),
    (["sweep", "--watch", "0"], "--watch 0"),
    (["sweep", "-c", "missing.yml"], "missing.yml"),
    ([], "expected at least one EXP: experiment name"),
    (["sweep", "--json", "--markdown"], "choose one"),
])
def test_bad_input_is_one_line_and_exit_2(sumx, args, fragment):
    three_runs(sumx)
    done = sumx(*args, ok=False)
    assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("sumx: error:")


def test_logroot_from_option_config_and_paths(sumx, tmp_path_factory):
    three_runs(sumx)
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # not below sumx.root, whose .runx is found from below
    run = lambda *a: subprocess.run([sys.executable, "-m", "runx.sumx", *a], cwd=elsewhere, capture_output=True, text=True)  # noqa: E731
    assert run("sweep", "--logroot", str(sumx.logroot)).returncode == 0
    assert run("sweep", "-c", str(sumx.root / ".runx")).returncode == 0
    assert run(str(sumx.logroot / "sweep")).returncode == 0
    done = run("sweep")
    assert done.returncode == 2 and "LOGROOT" in done.stderr


def test_help_and_option_prefixes(sumx):
    three_runs(sumx)
    assert "--group-by" in sumx("--help").stdout
    assert [r["run"] for r in sumx.json("sweep", "--sortw", "acc")["rows"]][0] == "run_b"
    assert [r["run"] for r in sumx.json("sweep", "-sacc")["rows"]][0] == "run_b"
    assert [r["run"] for r in sumx.json("sweep", "--sortwith=acc")["rows"]][0] == "run_b"


def test_watch_redraws_until_interrupted(sumx):
    exp = three_runs(sumx)
    proc = subprocess.Popen([sys.executable, "-m", "runx.sumx", "sweep", "--watch", "0.2"], cwd=sumx.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    write_run(exp, "run_d", {"lr": 0.3, "solver": "sgd"}, [{"loss": 0.01, "acc": 1.0}])
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in err
    frames = out.count("Ctrl-C to stop")
    assert frames >= 3 and "run_d" in out.split("Ctrl-C to stop")[-2]


def test_output_into_a_pipe_closed_early_is_not_an_error(sumx):
    exp = sumx.exp("e")
    for i in range(40):  # 40 rows of 4 KB: more than a pipe holds
        write_run(exp, f"run_{i:02d}", {"i": i, "text": f"{i:02d}" * 2000}, [{"acc": float(i)}])
    proc = subprocess.Popen([sys.executable, "-m", "runx.sumx", "e"], cwd=sumx.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # as `sumx e | head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0 and b"run" in first and err == b""


def test_filters_that_cannot_mean_anything_are_errors_and_nan_compares(sumx):
    exp = sumx.exp("e")
    write_run(exp, "r1", {"lr": 0.1, "solver": "adam"}, [{"loss": 0.5}])
    write_run(exp, "r2", {"lr": 0.2, "solver": "sgd"}, [{"loss": math.nan}])
    for expr, fragment in (("lr<<1", "one operator"), ("lr<abc", "expected a number to compare it with"),
                           ("loss>=x", "expected a number")):
        done = sumx("e", "--filter", expr, ok=False)
        assert done.returncode == 2 and fragment in done.stderr and done.stderr.count("\n") == 1, done.stderr
    runs = lambda f: [r["run"] for r in sumx.json("e", "--filter", f)["rows"]]  # noqa: E731
    assert runs("loss=nan") == ["r2"] and runs("loss!=nan") == ["r1"] and runs("solver<b") == ["r1"]


def test_wide_characters_keep_columns_aligned(sumx):
    from unicodedata import east_asian_width

    exp = sumx.exp("e")
    write_run(exp, "运行0", {"模型": "大", "x": 1}, [{"精度": 0.5}])
    write_run(exp, "run1", {"模型": "small", "x": 2}, [{"精度": 0.25}])
    lines = sumx("e").stdout.splitlines()
    width = lambda line: sum(2 if east_asian_width(ch) in ("W", "F") else 1 for ch in line)  # noqa: E731
    # the last column (state) reads "succeeded" in both rows: misalignment anywhere would move its end
    assert [width(line) for line in lines[1:]] == [width(lines[1])] * 3, lines
    assert all(line.endswith("succeeded") for line in lines[2:])
