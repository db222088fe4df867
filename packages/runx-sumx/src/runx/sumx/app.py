"""What `sumx` does with its parsed options: find, read, filter, build the table, print; `--watch` repeats it."""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, TextIO

from runx.logx.rundir.summary import Histories
from runx.sumx.discover import experiment_dir, subdirs
from runx.sumx.errors import SumxError
from runx.sumx.fanout_fork import load_all
from runx.sumx.reader import Run, load_run, read_goals, settle_interrupted

__all__ = ["run", "resolve_logroot", "collect"]

CLEAR = "\x1b[H\x1b[2J"
MAX_NAMES = 5


def resolve_logroot(logroot: Optional[str], config: Optional[str]) -> Optional[str]:
    """--logroot, else LOGROOT of the config (-c, .runx here or above, ~/.config/runx.yml) as runx resolves it, else
    ./logs when there is no config and it exists (where a launch with no config puts its runs); None without any."""
    if logroot is not None:
        return logroot
    from runx.logx.errors import LogxError
    from runx.logx.rundir.config import locate_config, logroot_without_config, read_logroot

    try:
        path = locate_config(config)
        return logroot_without_config() if path is None else read_logroot(path)
    except LogxError as err:
        raise SumxError(str(err)) from None


def collect(names: List[str], logroot: Optional[str], phase: str = "val", history: Histories = False,
            trend: Optional[str] = None) -> tuple:
    """(experiment names, runs, goals recorded by runx, warnings) for the experiments named: their metrics of
    `phase`, with the thinned histories `history` asks for (see runx.logx.rundir.summary.Histories), or with
    `trend` ("unicode" or "ascii") those histories drawn as sparklines instead (Run.trends)."""
    if logroot is None and not all(os.path.isabs(n) or n.startswith(("./", "../")) for n in names):
        raise SumxError("no LOGROOT: give --logroot DIR or -c CONFIG, or write LOGROOT in .runx (here or in a folder above) or ~/.config/runx.yml (no ./logs here either)")
    experiments: List[str] = []
    pending: List[tuple] = []
    for name in names:
        exp_dir = experiment_dir(name, logroot)
        label = name.rstrip("/") or name
        experiments.append(label)
        pending += [(label, exp_dir, d) for d in subdirs(exp_dir)]
    runs: List[Run] = []
    load: Callable[..., Optional[Run]] = load_run
    if phase != "val" or history:
        import functools

        # with `trend`, each history asked for is read as its trend and drawn where the run is read, so the
        # readers draw in parallel and send 16 characters instead of the history; a partial, so it pickles
        load = functools.partial(load_run, phase=phase, history=history, trend=trend if history else None)
    while pending:  # folders that are not runs (tags) are searched a level deeper
        loaded = load_all(pending, load)
        runs += [r for r in loaded if r is not None]
        pending = [(job[0], job[1], d) for job, r in zip(pending, loaded) if r is None for d in subdirs(job[2])]
    runs = settle_interrupted(runs)
    runs.sort(key=lambda r: (r.experiment, r.name))
    goals: Dict[str, str] = {}
    warnings = []
    for label in experiments:
        first = next((r for r in runs if r.experiment == label), None)
        if first is None:
            warnings.append(f"{label}: no runs yet")
        else:
            for metric, goal in read_goals(first.path).items():
                goals.setdefault(metric, goal)
    return experiments, runs, goals, warnings


def _note_warnings(runs: List[Run]) -> List[str]:
    """One line per kind of problem, naming up to MAX_NAMES runs."""
    by_note: Dict[str, List[str]] = {}
    for r in runs:
        for note in r.notes:
            by_note.setdefault(note, []).append(f"{r.experiment}/{r.name}")
    lines = []
    for note, names in by_note.items():
        shown = ", ".join(names[:MAX_NAMES]) + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")
        lines.append(f"{note}: {shown}")
    return lines


def _csv_path(path: str) -> str:
    """0.0.11 wrote `--csv NAME` to NAME.csv; a name already ending in .csv is kept as is."""
    return path if path == "-" or path.lower().endswith(".csv") else path + ".csv"


def build(args: Any, logroot: Optional[str], history: Histories = False, sortwith: Optional[str] = None,
          check: Optional[Callable[[List[Run]], None]] = None, trend: Optional[str] = None) -> tuple:
    """(table, the runs it shows, warnings) for the parsed options; `sortwith` stands in for a missing --sortwith,
    `check` sees every run found before the table is built (and may raise SumxError); with `trend` ("unicode"
    or "ascii") the rows carry the sort metric's sparkline: read from the stored trends alone, or, when `history`
    is given too (the HTML report shows both), drawn from the histories, which the runs keep."""
    from runx.sumx.goals import parse_goals
    from runx.sumx.table import build_table

    filters = []
    if args.filter:
        from runx.sumx.filters import apply_filters, parse_filter

        filters = [parse_filter(f) for f in args.filter]
    goals = parse_goals(args.goal or [])
    keep_histories = bool(history)
    if trend is not None and not history:
        from runx.sumx.table import sort_metric_history

        history = sort_metric_history(args.phase, args.sortwith or sortwith)
    experiments, found, recorded, warnings = collect(args.experiments, logroot, args.phase, history,
                                                     None if keep_histories else trend)
    if trend is not None and keep_histories:
        from runx.sumx.spark import sparkline

        found = [r if r.history is None else r._replace(trends={k: sparkline(v, ascii=trend == "ascii")
                                                                for k, v in r.history.items()}) for r in found]
    if args.last:
        from runx.sumx.table import latest_launch

        found = latest_launch(found)
    if args.notes:
        from runx.sumx.reader import read_run_notes

        found = [r._replace(run_notes=read_run_notes(r.path)) for r in found]
    if check is not None:
        check(found)
    runs = apply_filters(found, filters) if filters else found
    table = build_table(
        runs, experiments, found=found, recorded=recorded,
        ignore=[s for s in (args.ignore or "").split(",") if s],
        sortwith=args.sortwith or sortwith, goals=goals,
        group_by=[s for s in (args.group_by or "").split(",") if s],
        only_metrics=[s for s in args.metrics.split(",") if s] if args.metrics else None,
        notes=args.notes,
        phase=args.phase,
    )
    return table, runs, warnings + _note_warnings(runs)


def render_once(args: Any, logroot: Optional[str], out: TextIO, trend: Optional[str] = None) -> List[str]:
    """Build the table once and write it in the chosen format (text ones with a `trend` column when given:
    "unicode" or "ascii"); returns the warnings."""
    trend = None if args.json else trend
    table, runs, warnings = build(args, logroot, trend=trend)  # the sort metric's history alone is read and drawn
    from runx.sumx import render

    if args.csv:
        path = _csv_path(args.csv)
        if path == "-":
            render.render_csv(table, out)
        else:
            try:
                with open(path, "w", newline="", encoding="utf-8") as f:
                    render.render_csv(table, f)
            except OSError as err:
                raise SumxError(f"--csv {args.csv}: cannot write: {err.strerror}") from None
    if args.json:
        out.write(render.render_json(table))
    elif args.markdown:
        out.write(render.render_format(table, "pipe", trend))
    elif args.format is not None and args.format != render.TEXT_FORMAT:
        out.write(render.render_format(table, args.format, trend))
    elif args.csv != "-":
        out.write(render.render_text(table, trend))
    return warnings


def to_tensorboard(args: Any, logroot: Optional[str], out: TextIO) -> int:
    """`--to-tensorboard`: TensorBoard event files for the runs found (and kept by --filter) that lack them."""
    from runx.core.text import printable
    from runx.sumx.to_tensorboard import export_runs

    experiments, found, _, warnings = collect(args.experiments, logroot)
    runs = found
    if args.filter:
        from runx.sumx.filters import apply_filters, parse_filter

        runs = apply_filters(found, [parse_filter(f) for f in args.filter])
    written = export_runs(runs)
    import shlex

    folders = [experiment_dir(e, logroot) for e in experiments]
    if len(folders) == 1:
        view = f"--logdir {shlex.quote(folders[0])}"
    else:
        view = "--logdir_spec " + shlex.quote(",".join(f"{e}:{d}" for e, d in zip(experiments, folders)))
    out.write(f"TensorBoard data written for {written} of {len(runs)} runs ({len(runs) - written} had it already); "
              f"view them with: tensorboard {printable(view)}\n")
    _warn(warnings)
    return 0


def _warn(lines: List[str]) -> None:
    from runx.core.text import printable

    for line in lines:
        sys.stderr.write(f"sumx: warning: {printable(line)}\n")


def run(args: Any) -> int:
    """Summarise once, or redraw every `--watch` seconds until interrupted."""
    if args.format is not None:
        from runx.sumx.render import check_format

        check_format(args.format)
    logroot = resolve_logroot(args.logroot, args.config_file)
    if args.to_tensorboard:
        return to_tensorboard(args, logroot, sys.stdout)
    if args.plot is not None or args.plot_hparams is not None or args.html is not None:
        from runx.sumx.pictures import draw

        _warn(draw(args, logroot))
        return 0
    from runx.sumx.spark import trend_style

    trend = trend_style(args.trend, sys.stdout)
    if args.watch is None:
        _warn(render_once(args, logroot, sys.stdout, trend))
        return 0
    import io

    tty = sys.stdout.isatty()
    try:
        while True:
            buf = io.StringIO()
            warnings = render_once(args, logroot, buf, trend)
            stamp = time.strftime("%H:%M:%S")
            sys.stdout.write((CLEAR if tty else "") + buf.getvalue() + f"[{stamp}, every {args.watch:g}s; Ctrl-C to stop]\n")
            sys.stdout.flush()
            _warn(warnings)
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 0
