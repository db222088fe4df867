"""runx.sumx.fast_table gives byte for byte what tabulate's "simple" format gives for sumx's tables."""
from __future__ import annotations

import tabulate as tabulate_module
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from runx.core.text import printable
from runx.sumx.fast_table import simple
from tabulate import tabulate

# tabulate 0.9 (the last for Python 3.9) raises IndexError on a table with headers and no rows; 0.10
# prints the headers. fast_table follows 0.10, so empty tables are compared on 0.10 and later only.
EMPTY_TABLES_WORK = tuple(int(p) for p in tabulate_module.__version__.split(".")[:2]) >= (0, 10)

# Cells as sumx hands them over: any text made printable (no control characters), so wide (CJK)
# characters, combining marks, odd spaces and emoji are in, and so are leading and trailing spaces.
texts = st.one_of(
    st.text(st.sampled_from(list("ab 01.-_±") + ["运", "行", "é", "\u0301", "\u3000", "\xa0", "😀", "\u200b"]), max_size=8),
    st.text(st.sampled_from(list("▁▂▃▄▅▆▇█×")), max_size=16),  # the trend column's sparklines
    st.text(max_size=6),
).map(printable)
headers_text = st.lists(texts, min_size=1, max_size=3).map("\n".join)  # sumx wraps long headers into lines


@st.composite
def tables(draw):
    ncols = draw(st.integers(1, 6))
    headers = draw(st.lists(st.one_of(texts, headers_text), min_size=ncols, max_size=ncols))
    rows = draw(st.lists(st.lists(texts, min_size=ncols, max_size=ncols), max_size=6))
    aligns = draw(st.lists(st.sampled_from(["left", "right"]), min_size=ncols, max_size=ncols))
    return headers, rows, aligns


def reference(headers, rows, aligns) -> str:
    return tabulate(rows, headers, tablefmt="simple", colalign=aligns, disable_numparse=True)


@settings(max_examples=1500, deadline=None)
@given(tables())
@example((["run", "lr", "loss\nbest"], [["a", "0.1", "1"], ["", "", ""]], ["left", "left", "right"]))
@example((["运行", "x"], [[" 大 ", "1"]], ["left", "right"]))
@example((["a", "b"], [], ["right", "right"]))
def test_fast_table_equals_tabulate_simple(table):
    headers, rows, aligns = table
    assume(rows or EMPTY_TABLES_WORK)
    assert simple(headers, rows, aligns) == reference(headers, rows, aligns)


def test_fast_table_on_a_real_sumx_table(sumx):
    from conftest import write_run
    from runx.sumx.render import text_table
    from runx.sumx.table import build_table

    exp = sumx.exp("e")
    write_run(exp, "运行0", {"模型": "大", "a_long_hyperparameter_name": 1}, [{"val/top1_accuracy": 0.5}])
    write_run(exp, "run1", {"模型": "small", "a_long_hyperparameter_name": 2}, [{"val/top1_accuracy": 0.25}])
    from runx.sumx.app import collect

    experiments, runs, goals, _ = collect(["e"], str(sumx.logroot))
    headers, rows, aligns = text_table(build_table(runs, experiments, recorded=goals))
    assert any("\n" in h for h in headers)  # a wrapped header: the multi-line path
    assert simple(headers, rows, aligns) == reference(headers, rows, aligns)
