"""`sumx --plot`, `--plot-hparams` and `--html`: the table built with each run's thinned history, then drawn.

Every picture reads only the summaries' bounded histories (docs/metrics-format.md), so its cost is flat
in epochs. Files are written whole or not at all (runx.logx.rundir.atomic).
"""
from __future__ import annotations

import os
import re
from typing import Any, List, Optional, Sequence

from runx.sumx.errors import SumxError

__all__ = ["draw", "default_output", "curve_label", "check_metrics"]

FORMATS = (".png", ".svg", ".pdf")


def default_output(experiments: Sequence[str], metric: str) -> str:
    """`<experiment>_<metric>.png` in the current directory (path separators and odd characters as `_`)."""
    base = os.path.basename(os.path.normpath(experiments[0])) or "sumx"
    return re.sub(r"[^A-Za-z0-9._+-]", "_", f"{base}_{metric}") + ".png"


def curve_label(row: Any, hparams: Sequence[str], several_experiments: bool) -> str:
    """A run's label: the hyperparameters that differ (the table's columns; floats to 4 significant digits),
    else its name."""
    from runx.sumx.render import fmt_hparam

    def short(value: Any) -> str:
        return f"{value:.4g}" if type(value) is float else fmt_hparam(value)

    parts = [f"{k}={short(row.hparams.get(k))}" for k in hparams]
    label = " ".join(parts) or row.name
    return f"{row.experiment}: {label}" if several_experiments else label


def check_metrics(flag: str, metrics: List[str], runs: list, phase: str) -> None:
    """SumxError naming the first metric that no run has in `phase`."""
    known = sorted({m for r in runs for m in r.metrics})
    for metric in metrics:
        if metric not in known:
            raise SumxError(f"{flag} {metric}: no {phase} metric of that name (have: {', '.join(known) or 'none'})")


def _output(path: str, flag: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise SumxError(f"-o {path}: expected a file name ending in .png, .svg or .pdf (the format is taken from it)")
    return ext[1:]


def write_file(path: str, data: bytes, flag: str) -> None:
    """Write `data` to `path` atomically; SumxError naming the flag and the reason."""
    from runx.logx.rundir.atomic import write_bytes

    try:
        write_bytes(path, data)
    except OSError as err:
        raise SumxError(f"{flag}: cannot write {path}: {err.strerror or err}") from None


def draw(args: Any, logroot: Optional[str]) -> List[str]:
    """Write the picture or report the options ask for and print its path; returns the warnings."""
    from runx.core.text import printable
    from runx.sumx.app import build

    if args.html is not None:
        from runx.sumx.html import report

        table, runs, warnings = build(args, logroot, history=True, trend="unicode")  # the table shows the trends
        write_file(args.html, report(table, runs, args).encode("utf-8"), "--html")
        print(printable(args.html))
        return warnings
    flag = "--plot" if args.plot is not None else "--plot-hparams"
    metrics = [m for m in (args.plot if args.plot is not None else args.plot_hparams).split(",") if m]
    if not metrics:
        raise SumxError(f"{flag}: expected a metric name")
    if flag == "--plot-hparams" and len(metrics) > 1:
        raise SumxError(f"--plot-hparams {','.join(metrics)}: expected one metric")
    path = args.output or default_output(args.experiments, "_".join(metrics) + ("" if flag == "--plot" else "_hparams"))
    fmt = _output(path, flag)
    table, runs, warnings = build(args, logroot, history=True, sortwith=metrics[0],
                                  check=lambda found: check_metrics(flag, metrics, found, args.phase))
    try:
        from runx.sumx import plot
    except ImportError as err:
        raise SumxError(f"{flag} needs matplotlib: pip install 'runx-sumx[plot]' ({err})") from None
    if flag == "--plot":
        data = plot.curves(table, runs, metrics, fmt)
    else:
        data = plot.hparams(table, runs, metrics[0], fmt)
    write_file(path, data, flag)
    print(printable(path))
    return warnings
