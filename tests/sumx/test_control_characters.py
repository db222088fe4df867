"""Control characters read from run files never reach sumx's text outputs raw (issue 14.3); JSON and CSV
keep the real values. Real run directories, sumx as a real subprocess, its bytes checked."""
from __future__ import annotations

import ast
import csv
import sys

import pytest
from conftest import write_run

HOSTILE = ["\x1b]0;pwned\x07", "\x1b[2J", "a\rb", "x\ny", "\u202eevil", "\x9b31m", "\x85", "\x00\x7f", "p\u2028q", "\t"]
BIDI_AND_BREAKS = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029}


def raw_controls(text: str) -> list:
    """Every character of `text` a terminal would act on (a line feed ends a line and is allowed)."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 or ord(c) in BIDI_AND_BREAKS]


def hostile_experiment(sumx):
    exp = sumx.exp("e")
    for i, value in enumerate(HOSTILE):
        write_run(exp, f"run{i}", {"value": value, "lr": i}, [{"acc\x1b[31m": float(i)}])
    write_run(exp, "run\x1b[2J", {"value": "plain", "lr": 99}, [{"acc\x1b[31m": 0.5}])
    with open(exp / "run\x1b[2J" / "metrics.jsonl", "a") as f:  # a torn line: a warning naming the run
        f.write('{"phase": "val", "st')
    (exp / "run\x1b[2J" / "metrics.summary.json").unlink()
    return exp


@pytest.mark.parametrize("fmt", [[], ["--markdown"], ["--format", "html"], ["--format", "latex"], ["--format", "grid"],
                                 ["--format", "rst"], ["--format", "orgtbl"], ["--format", "plain"], ["--csv", "out"]])
def test_no_raw_control_character_reaches_the_terminal(sumx, fmt):
    hostile_experiment(sumx)
    done = sumx("e", "-s", "acc\x1b[31m", *fmt)
    assert raw_controls(done.stdout) == [] and raw_controls(done.stderr) == []
    assert "torn" in done.stderr and "run\\x1b[2J" in done.stderr
    if fmt in ([], ["--csv", "out"], ["--format", "plain"], ["--format", "grid"]):
        for shown in ("\\x1b]0;pwned\\x07", "\\x1b[2J", "a\\rb", "x\\ny", "\\u202eevil", "\\x9b31m", "\\x00\\x7f",
                      "p\\u2028q", "acc\\x1b[31m", "run\\x1b[2J"):
            assert shown in done.stdout, shown


def test_errors_that_quote_values_escape_them(sumx):
    hostile_experiment(sumx)
    done = sumx("e", "--sortwith", "nope", ok=False)
    assert done.returncode == 2 and "acc\\x1b[31m" in done.stderr and raw_controls(done.stderr) == []
    assert done.stderr.count("\n") == 1


def test_json_and_csv_keep_the_real_values(sumx):
    hostile_experiment(sumx)
    rows = {r["run"]: r for r in sumx.json("e")["rows"]}
    assert [rows[f"run{i}"]["hparams"]["value"] for i in range(len(HOSTILE))] == HOSTILE
    assert "run\x1b[2J" in rows and "acc\x1b[31m" in rows["run0"]["metrics"]
    sumx("e", "--csv", "table.csv")
    with open(sumx.root / "table.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    # Before Python 3.11 the csv module can neither write nor read a NUL: sumx writes it as `\x00` there.
    in_csv = HOSTILE if sys.version_info >= (3, 11) else [v.replace("\0", "\\x00") for v in HOSTILE]
    assert sorted(r["value"] for r in table if r["value"] != "plain") == sorted(in_csv)
    assert "run\x1b[2J" in [r["run"] for r in table]
    assert "acc\x1b[31m" in table[0]


def test_printable_escapes_exactly_the_characters_a_terminal_acts_on():
    from runx.core.text import printable

    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        escaped = printable(char)
        if raw_controls(char) or char == "\n":
            assert escaped.startswith("\\") and raw_controls(escaped) == [] and escaped.isascii(), hex(code)
        else:
            assert escaped == char, hex(code)
    assert printable("lr=0.1 运行 é") == "lr=0.1 运行 é"
    assert ast.literal_eval('"' + printable("\x1b]0;t\x07\n\u202e\x85") + '"') == "\x1b]0;t\x07\n\u202e\x85"  # Python's escapes
