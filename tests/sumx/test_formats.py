"""`sumx --format FMT`: the table in tabulate's formats, each parsed back for real."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import write_run


def three_runs(sumx):
    exp = sumx.exp("sweep")
    write_run(exp, "run_a", {"lr": 0.5, "solver": "a<b&c"}, [{"loss": 2.0, "acc": 9.5}, {"loss": 1.5, "acc": 9.0}])
    write_run(exp, "run_b", {"lr": 0.05, "solver": "50%_$x#"}, [{"loss": 0.9, "acc": 90}, {"loss": 0.2, "acc": 100}])
    write_run(exp, "run_c", {"lr": 0.1, "solver": "{~^\\}"}, [{"loss": 0.6, "acc": 50}, {"loss": 0.7, "acc": 40}],
              state=("finished", 3))


EXPECTED_RUNS = ["run_b", "run_c", "run_a"]  # by loss, lowest first
SOLVERS = {"run_a": "a<b&c", "run_b": "50%_$x#", "run_c": "{~^\\}"}


class Cells(HTMLParser):
    """The text of every th/td, row by row, and each cell's style."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []
        self.styles: list = []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
            self.styles.append([])
        elif tag in ("th", "td"):
            self.cell = ""
            self.styles[-1].append(dict(attrs).get("style", ""))

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.rows[-1].append(self.cell.strip())
            self.cell = None


def test_html_parses_back_with_values_escaped(sumx):
    three_runs(sumx)
    out = sumx("sweep", "--format", "html").stdout
    assert out.startswith("<table>") and out.rstrip().endswith("</table>") and "a<b&c" not in out
    cells = Cells()
    cells.feed(out)
    header, body = cells.rows[0], cells.rows[1:]
    assert header[:3] == ["run", "lr", "solver"] and "loss-best" in header and "state" in header
    assert [row[0] for row in body] == EXPECTED_RUNS
    assert {row[0]: row[2] for row in body} == SOLVERS  # html-escaped in the file, the real text once parsed
    assert body[1][header.index("state")] == "failed (3)" and body[0][header.index("loss-best")] == "0.2"
    assert "right" in cells.styles[1][header.index("loss")] and "right" not in cells.styles[1][0]


LATEX_UNESCAPE = [(r"\textbackslash{}", "\\"), (r"\textasciitilde{}", "~"), (r"\^{}", "^"), (r"\ensuremath{<}", "<"),
                  (r"\ensuremath{>}", ">"), (r"\{", "{"), (r"\}", "}"), (r"\&", "&"), (r"\%", "%"), (r"\$", "$"),
                  (r"\#", "#"), (r"\_", "_")]


def latex_cells(line: str) -> list:
    cells = [c.strip() for c in re.split(r"(?<!\\)&", line.rstrip().removesuffix(r"\\"))]
    out = []
    for cell in cells:
        for escaped, char in LATEX_UNESCAPE:
            cell = cell.replace(escaped, char)
        out.append(cell)
    return out


@pytest.mark.parametrize("fmt, rules", [("latex", (r"\hline", r"\hline", r"\hline")),
                                        ("latex_booktabs", (r"\toprule", r"\midrule", r"\bottomrule"))])
def test_latex_parses_back(sumx, fmt, rules):
    three_runs(sumx)
    lines = sumx("sweep", "--format", fmt).stdout.splitlines()
    spec = re.fullmatch(r"\\begin\{tabular\}\{([lr]+)\}", lines[0])
    assert spec and lines[-1] == r"\end{tabular}"
    assert (lines[1], lines[3], lines[-2]) == rules
    header, body = latex_cells(lines[2]), [latex_cells(line) for line in lines[4:-2]]
    assert len(spec.group(1)) == len(header) and spec.group(1)[header.index("loss")] == "r" and spec.group(1)[0] == "l"
    assert header[:3] == ["run", "lr", "solver"]
    assert [row[0] for row in body] == EXPECTED_RUNS and {row[0]: row[2] for row in body} == SOLVERS


@pytest.mark.parametrize("fmt", ["github", "orgtbl", "rst", "grid", "psql", "pipe", "plain"])
def test_other_formats_hold_the_same_cells(sumx, fmt):
    three_runs(sumx)
    lines = sumx("sweep", "--format", fmt).stdout.splitlines()
    if fmt == "rst":
        rule = lines[0]
        bounds = [m.span() for m in re.finditer(r"=+", rule)]
        rows = [[line[a:b].strip() for a, b in bounds] for line in lines if set(line) - {"=", " "}]
    elif fmt == "plain":
        rows = [re.split(r"\s{2,}", line.strip()) for line in lines]
    else:
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines
                if line.strip().startswith("|") and not set(line) <= set("|-+:= ")]
    header, body = rows[0], rows[1:]
    assert header[:3] == ["run", "lr", "solver"]
    assert [row[0] for row in body] == EXPECTED_RUNS
    assert {row[0]: row[2] for row in body} == SOLVERS


def test_the_default_table_is_tabulates_simple_format_byte_for_byte(sumx):
    three_runs(sumx)
    write_run(sumx.exp("sweep"), "run_d_with_a_long_name", {"lr": 0.2, "solver": "运行", "a_long_hyperparameter": 1},
              [{"loss": 0.3, "val/top1_accuracy": 0.5}])
    assert sumx("sweep").stdout == sumx("sweep", "--format", "simple").stdout
    assert "\n" in sumx("sweep").stdout.split("---")[0].strip()  # a wrapped header: more than one header line


@pytest.mark.parametrize("args, fragment", [
    (["sweep", "--format", "nope"], "--format nope: expected one of tabulate's formats: "),
    (["sweep", "--format", "html", "--json"], "--json and --format: choose one"),
    (["sweep", "--format", "html", "--markdown"], "--markdown and --format: choose one"),
    (["sweep", "--format"], "argument --format: expected one argument"),
])
def test_bad_format_is_one_line_and_exit_2(sumx, args, fragment):
    three_runs(sumx)
    done = sumx(*args, ok=False)
    assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("sumx: error:") and done.stdout == ""


def test_tabulate_is_imported_only_for_a_tabulate_format(sumx):
    import subprocess
    import sys

    three_runs(sumx)
    code = ("import sys; from runx.sumx import main; main(sys.argv[1:]); "
            "sys.stderr.write(str('tabulate' in sys.modules))")
    run = lambda *a: subprocess.run([sys.executable, "-c", code, "sweep", *a], cwd=sumx.root, capture_output=True, text=True)  # noqa: E731
    assert run().stderr == "False" and run("--json").stderr == "False"
    assert run("--format", "grid").stderr == "True" and run("--markdown").stderr == "True"
