"""Every runx benchmark in one run, each figure beside its baseline measured in the same run.

  python bench/run.py [--quick] [--only core,logx,sumx,baselines,slurm] [--venvs DIR] [--data DIR] [--markdown]

Prints one table: the figure, its median and spread [min-max] over interleaved repeats, the baseline
measured in the same run, the ratio ours/baseline, the target from the issues, and PASS/FAIL.
Areas (--only):
- core: `runx -n` on the seed sweep vs `import yaml` and runx 0.0.11; planning 100,000 runs;
  staging 1,000 runs of a 50 MB project (bytes written).
- local: `runx -i` and `runx -i -j 2` on 100 trivial runs and a script calling logx, per run, over a
  plain loop of subprocess.run (bench/local_bench.py); Hydra's multirun (bench venv `hydra`) beside.
- logx: `import runx.logx`; metric() with TensorBoard off and on vs runx 0.0.11; the kill -9
  checkpoint stress (tests/logx/test_crash_safety.py with RUNX_KILL_TRIALS).
- sumx: 100 and 1,000 runs x 100 epochs vs runx 0.0.11 in its own format; 10,000 x 1,000; the trend column
  and --html on 1,000 runs; --plot on 1,000 runs x 1,000 vs x 10 epochs (not in --quick).
- baselines: metric() beside the floor (a flushed JSON line), tensorboardX, MLflow and W&B offline.
- slurm: stage and submit 1,000 and 10,000 runs as job arrays and 1,000 one job each (held jobs,
  cancelled after), and `runx status` on them (bench/slurm_bench.py); skipped with a note without Slurm.
- search: TPE vs random search over 5 seeds, ASHA's epochs vs unpruned, the driver's CPU per trial
  (bench/search_bench.py; needs Optuna, the runx-core[search] extra).
Baselines live in venvs that this harness creates under --venvs (bench/baselines.py). --quick uses
small sizes and few repeats, installs no venv, and uses those already complete; the full run
installs what is missing and reports, row by row, any that cannot install. Targets whose size
differs in --quick read n/a. Exit status: 0, or 1 when one of our own figures could not be measured
(a missed target is reported, not an error: this machine is too noisy for timed tests).
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Installed packages run from compiled bytecode: measure that (this machine sets the variable).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import baselines  # noqa: E402
import core_bench  # noqa: E402
import local_bench  # noqa: E402
import logx_bench  # noqa: E402
import search_bench  # noqa: E402
import slurm_bench  # noqa: E402
import sumx_bench  # noqa: E402

AREAS = ("core", "local", "logx", "sumx", "baselines", "slurm", "search")
OLD = "runx-0.0.11"


@dataclass(frozen=True)
class Sizes:
    repeats: int  # dry run and import timing
    loop_repeats: int  # metric() loops and sumx
    plan_runs: int
    plan_repeats: int
    stage_runs: int
    stage_mb: int
    calls_fast: int  # metric() without TensorBoard, the floor
    calls_slow: int  # TensorBoard, MLflow, W&B
    sumx_sets: dict
    kill_trials: int
    local_runs: int = 100  # the local farm vs a plain loop


FULL = Sizes(repeats=15, loop_repeats=7, plan_runs=100_000, plan_repeats=3, stage_runs=1000, stage_mb=50,
             calls_fast=20000, calls_slow=1000, kill_trials=500,
             sumx_sets={"tiny": (100, 100, ("csv", "jsonl")), "small": (1000, 100, ("csv", "jsonl")),
                        "big": (10000, 1000, ("jsonl",)), "big10": (10000, 10, ("jsonl",)),
                        "pics": (1000, 1000, ("jsonl",)), "pics10": (1000, 10, ("jsonl",))})
QUICK = Sizes(repeats=3, loop_repeats=2, plan_runs=1000, plan_repeats=1, stage_runs=20, stage_mb=2,
              calls_fast=2000, calls_slow=200, kill_trials=3, local_runs=5,
              sumx_sets={"tiny": (100, 100, ("csv", "jsonl")), "small": (300, 100, ("csv", "jsonl")),
                         "big": (300, 300, ("jsonl",)), "big10": (300, 10, ("jsonl",))})


@dataclass
class Row:
    area: str
    figure: str
    ours: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    result: str = "info"


class Samples:
    """Repeated measurements of one case, in seconds or microseconds as the caller says."""

    def __init__(self, values: list, unit: str) -> None:
        self.values, self.unit = values, unit
        self.median = statistics.median(values)

    def __str__(self) -> str:
        scale, unit = {"s": (1e3, "ms"), "us": (1.0, "us"), "ms": (1.0, "ms")}[self.unit]
        med, lo, hi = (v * scale for v in (self.median, min(self.values), max(self.values)))
        digits = 0 if med >= 1000 else 1
        return f"{med:.{digits}f} {unit} [{lo:.{digits}f}-{hi:.{digits}f}]"


class Interleaved:
    """Cases run in turn within every repeat (order reversed on odd repeats), so drift hits all alike.

    A case is a callable returning seconds (or a dict from a loop). A baseline that fails is dropped
    with its reason; one of ours that fails raises. `settle`, if given, runs before every case, untimed.
    """

    def __init__(self, settle=None) -> None:
        self.settle = settle
        self.cases: dict = {}
        self.ours: set = set()
        self.results: dict = {}
        self.failed: dict = {}

    def add(self, name: str, case, ours: bool = False) -> None:
        self.cases[name] = case
        if ours:
            self.ours.add(name)

    def run(self, repeats: int, warmup: bool = True) -> "Interleaved":
        names = list(self.cases)
        for repeat in range(repeats + int(warmup)):
            for name in names if repeat % 2 == 0 else names[::-1]:
                if name in self.failed:
                    continue
                if self.settle is not None:
                    self.settle()
                try:
                    got = self.cases[name]()
                except Exception as exc:  # a baseline that breaks is reported, not fatal
                    if name in self.ours:
                        raise
                    self.failed[name] = f"could not run: {str(exc).strip()[:160]}"
                    continue
                if repeat or not warmup:
                    self.results.setdefault(name, []).append(got)
        return self

    def samples(self, name: str, key: str | None = None, unit: str = "s") -> Samples | None:
        got = self.results.get(name)
        if not got:
            return None
        return Samples([g[key] for g in got] if key else got, unit)


def timed(argv: list, cwd: Path):
    """A case: wall time of a whole process."""
    return lambda: core_bench.time_cmd(argv, cwd)


def looped(argv: list):
    """A case: a per-call loop printing {us_per_call, drain_ms}, run isolated from the network."""
    return lambda: baselines.run_loop(argv)


def compare(area: str, figure: str, ours: Samples, base: Samples | None, base_label: str, missing: str,
            target: str = "-", limit: float | None = None) -> Row:
    """A row of ours vs a baseline; PASS when ours/base <= limit (when a limit is given)."""
    if base is None:
        return Row(area, figure, str(ours), f"{base_label}: {missing}", "-", target, "n/a" if limit else "info")
    ratio = ours.median / base.median
    result = "info" if limit is None else ("PASS" if ratio <= limit else "FAIL")
    return Row(area, figure, str(ours), f"{base_label} {base}", f"{ratio:.2f}x", target, result)


def absolute(ok: bool | None) -> str:
    return "n/a (quick)" if ok is None else ("PASS" if ok else "FAIL")


def bench_core(sizes: Sizes, venvs: baselines.Venvs, quick: bool, work: Path) -> list:
    (work / ".runx").write_text(f"LOGROOT: {work / 'logs'}\n")
    (work / "sweep.yml").write_text(core_bench.SWEEP)
    py = sys.executable
    runs = Interleaved()
    runs.add("yaml", timed([py, "-c", "import yaml"], work))
    runs.add("ours", timed([py, "-m", "runx.runx", "sweep.yml", "-n", "-i"], work), ours=True)
    old = venvs.python(OLD)
    if old:
        runs.add("old", timed([str(old), "-m", "runx.runx", "sweep.yml", "-n", "-i"], work))
    runs.run(sizes.repeats)
    ours = runs.samples("ours")
    missing = venvs.missing.get(OLD) or runs.failed.get("old", "")
    figure = "runx sweep.yml -n (seed's 4 runs)"
    rows = [compare("core", figure, ours, runs.samples("yaml"), "python -c 'import yaml'", "", "<= 2.0x", 2.0),
            compare("core", figure, ours, runs.samples("old"), "runx 0.0.11 -n", missing)]

    values = ", ".join(str(i) for i in range(sizes.plan_runs // 10))
    (work / "big.yml").write_text(f"CMD: python train.py\nHPARAMS:\n  seed: [{values}]\n  lr: [0,1,2,3,4,5,6,7,8,9]\n")
    plan = Samples([core_bench.time_cmd([py, "-m", "runx.runx", "big.yml", "-n"], work)
                    for _ in range(sizes.plan_repeats)], "s")
    rows.append(Row("core", f"plan {sizes.plan_runs:,} runs with -n", str(plan), target="< 3 s",
                    result=absolute(None if quick else plan.median < 3.0)))

    got = core_bench.measure_staging(work, sizes.stage_runs, sizes.stage_mb)
    mib = 2 ** 20
    ok = got["written"] <= 1.1 * got["project"]
    rows.append(Row("core", f"stage {sizes.stage_runs:,} runs of a {sizes.stage_mb} MB project",
                    f"{got['written'] / mib:.1f} MiB written in {got['seconds']:.1f} s",
                    f"copy per run as 0.0.11 (computed) {got['naive'] / mib:,.0f} MiB",
                    f"{got['written'] / got['naive']:.4f}x", "written <= 1.1x project", absolute(ok)))
    return rows


def bench_local(sizes: Sizes, venvs: baselines.Venvs, work: Path) -> list:
    """runx -i (and -j 2) and a logx script, per run, over a plain loop of the same runs; Hydra's multirun
    (its bench venv) over the same loop as the peers' rows."""
    project, n = local_bench.Project(work / "local", sizes.local_runs), sizes.local_runs
    # Every case starts with nothing left to write back: runx's staging fsyncs, and on ext4 an fsync also
    # waits for what the cases before it (Hydra's outputs, the loops' logdirs) left dirty.
    runs = Interleaved(settle=os.sync)
    runs.add("loop", project.loop)
    runs.add("loop2", lambda: project.loop(jobs=2))
    runs.add("runx", project.runx, ours=True)
    runs.add("runx2", lambda: project.runx(jobs=2), ours=True)
    runs.add("logx", lambda: project.loop(script="train_logx.py"), ours=True)
    hydra = venvs.python("hydra")
    if hydra is not None:
        runs.add("hydra-basic", lambda: project.hydra("basic", hydra))
        runs.add("hydra-joblib", lambda: project.hydra("joblib", hydra))
    runs.run(sizes.loop_repeats)  # 7 repeats: the figures' margins are as small as the noise between 3-repeat runs

    def per_run(name: str) -> Samples:
        return Samples([v / n for v in runs.results[name]], "s")

    def over(ours: str, base: str) -> float:
        return statistics.median(runs.results[ours]) / n - statistics.median(runs.results[base]) / n

    def extra(ours: str, base: str, limit_ms: float, figure: str, base_label: str) -> Row:
        ms = over(ours, base) * 1e3
        return Row("local", figure, f"{per_run(ours)} per run", f"{base_label} {per_run(base)} per run",
                   f"{ms:+.1f} ms", f"<= +{limit_ms:g} ms per run", absolute(ms <= limit_ms))

    loop_label = f"plain loop of subprocess.run over {n} runs"
    rows = [extra("runx", "loop", 5, f"runx -i, {n} trivial runs", loop_label),
            extra("runx2", "loop2", 5, f"runx -i -j 2, {n} trivial runs", loop_label + " (2 workers)"),
            extra("logx", "loop", 10, "script with logx (initialize, 3 metrics, close)", "same loop without logx")]
    for launcher, base, label in (("basic", "loop", "Hydra multirun, basic launcher"),
                                  ("joblib", "loop2", "Hydra multirun, joblib launcher (n_jobs=2)")):
        name = f"hydra-{launcher}"
        why = venvs.missing.get("hydra") or runs.failed.get(name, "")
        if why or name not in runs.results:
            rows.append(Row("local", label, "-", f"peer: {why or 'not run'}", result="info"))
            continue
        base_label = loop_label + (" (2 workers)" if base == "loop2" else "")
        rows.append(Row("local", label, f"{per_run(name)} per run", f"peer {venvs.version('hydra')}; {base_label} "
                        f"{per_run(base)} per run", f"{over(name, base) * 1e3:+.1f} ms", result="info"))
    return rows


def bench_metric(sizes: Sizes, venvs: baselines.Venvs, areas: set) -> list:
    """metric() and its baselines, all in one interleaved set of per-call loops."""
    py, loop = sys.executable, logx_bench.METRIC_LOOP
    runs = Interleaved()
    runs.add("ours off", looped([py, "-c", loop, "mixed", str(sizes.calls_fast)]), ours=True)
    runs.add("ours tb", looped([py, "-c", loop, "tb", str(sizes.calls_slow)]), ours=True)
    wanted = []
    if "logx" in areas:
        wanted += [(OLD, "old val", [loop, "val", sizes.calls_fast]), (OLD, "old off", [loop, "mixed", sizes.calls_fast]),
                   (OLD, "old tb", [loop, "tb", sizes.calls_slow])]
    if "baselines" in areas:
        code = baselines.BASELINE_LOOP
        wanted += [("floor", "floor", [code, "floor", sizes.calls_fast]),
                   ("tensorboardX", "tensorboardX", [code, "tensorboardX", sizes.calls_slow]),
                   ("mlflow", "mlflow", [code, "mlflow", sizes.calls_slow]),
                   ("wandb", "wandb", [code, "wandb", sizes.calls_slow])]
    for venv_name, name, (code, kind, calls) in wanted:
        python = venvs.python(venv_name)
        if python:
            runs.add(name, looped([str(python), "-c", code, kind, str(calls)]))
    runs.run(sizes.loop_repeats)

    def base(name: str):
        return runs.samples(name, "us_per_call", "us")

    def why(venv_name: str, name: str) -> str:
        return venvs.missing.get(venv_name) or runs.failed.get(name, "")

    off, tb = base("ours off"), base("ours tb")
    rows = []
    if "logx" in areas:
        # The reference (0.0.11 at 11 us a call) is a call that writes a record: 0.0.11 writes
        # rows for val calls only, while ours writes every call's record, train and val alike.
        rows.append(compare("logx", "metric() TB off, train+val, per call", off, base("old val"),
                            "runx 0.0.11 per val call (the calls that write a row)", why(OLD, "old val"), "<= 0.5x", 0.5))
        rows.append(compare("logx", "metric() TB off, train+val, per call", off, base("old off"),
                            "runx 0.0.11, same train+val loop (its train calls write nothing)", why(OLD, "old off")))
        rows.append(compare("logx", "metric() TB on (default), per call", tb, base("old tb"),
                            "runx 0.0.11 (tensorboardX)", why(OLD, "old tb"), "<= 0.1x (10x faster)", 0.1))
        drain = runs.samples("ours tb", "drain_ms", "ms")
        rows.append(Row("logx", "TB on: close() until events are on disk", str(drain), target="< 2000 ms",
                        result=absolute(drain.median < 2000)))
    if "baselines" in areas:
        for name, label, ours in (("floor", "floor: JSON line + flush", off),
                                  ("tensorboardX", "tensorboardX add_scalar x3", tb),
                                  ("mlflow", "MLflow log_metrics, file store", off),
                                  ("wandb", "W&B log, offline", off)):
            which = "TB on" if ours is tb else "TB off"
            rows.append(compare("baselines", f"metric() {which} vs {label}", ours, base(name),
                                f"{name} {venvs.version(name)}".strip(), why(name, name)))
    return rows


def bench_logx_import(sizes: Sizes, venvs: baselines.Venvs, work: Path) -> list:
    py = sys.executable
    runs = Interleaved()
    runs.add("ours", timed([py, "-c", "from runx.logx import logx"], work), ours=True)
    runs.add("pass", timed([py, "-c", "pass"], work))
    old = venvs.python(OLD)
    if old:
        runs.add("old", timed([str(old), "-c", "from runx.logx import logx"], work))
    runs.run(sizes.repeats)
    ours = runs.samples("ours")
    row = compare("logx", "python -c 'from runx.logx import logx'", ours, runs.samples("old"), "runx 0.0.11",
                  venvs.missing.get(OLD) or runs.failed.get("old", ""), "< 50 ms")
    row.result = absolute(ours.median < 0.050)
    return [row, Row("logx", "python -c pass (interpreter start, for reading the above)", str(runs.samples("pass")))]


def bench_kill9(sizes: Sizes) -> list:
    figure = f"kill -9 inside save_model, {sizes.kill_trials} trials: resumes"
    if importlib.util.find_spec("torch") is None:
        return [Row("logx", figure, "not run: torch is not installed for this python", result="n/a")]
    test = BENCH.parent / "tests" / "logx" / "test_crash_safety.py"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                          cwd=BENCH.parent, capture_output=True, text=True,
                          env={**os.environ, "RUNX_KILL_TRIALS": str(sizes.kill_trials)})
    elapsed = time.perf_counter() - start
    summary = baselines.last_line(done.stdout)
    ok = done.returncode == 0 and "passed" in summary
    tries = sizes.kill_trials
    ours = f"{tries} tries, 0 failures, all resumed ({elapsed:.0f} s)" if ok else f"{tries} tries, failed: pytest: {summary}"
    return [Row("logx", figure, ours, target="latest and best load", result="PASS" if ok else "FAIL")]


def bench_sumx(sizes: Sizes, venvs: baselines.Venvs, data: Path) -> list:
    data.mkdir(parents=True, exist_ok=True)
    sets = sumx_bench.generate(data, True, sizes.sumx_sets)
    (data / ".runx").write_text("LOGROOT: logs\n")  # 0.0.11 needs a config file even with --logroot
    old = venvs.python(OLD)
    runs = Interleaved()

    def argv(python, key):
        root, exp, _, _ = sets[key]
        return [str(python), "-m", "runx.sumx", exp, "--logroot", str(root), "-s", "acc"]

    for key in ("tiny", "small"):
        if old:
            runs.add(f"old {key}", timed(argv(old, f"{key}-csv"), data))
        runs.add(f"ours {key}", timed(argv(sys.executable, f"{key}-jsonl"), data), ours=True)
    # The usual call, `sumx EXP` with LOGROOT from a .runx (read by PyYAML), beside the --logroot one above
    configured = data / "configured"
    configured.mkdir(exist_ok=True)
    small_root, small_exp, _, _ = sets["small-jsonl"]
    (configured / ".runx").write_text(f"LOGROOT: {small_root}\n")
    runs.add("ours small runx", timed([sys.executable, "-m", "runx.sumx", small_exp, "-s", "acc"], configured), ours=True)
    runs.add("ours small csv", timed(argv(sys.executable, "small-csv"), data), ours=True)
    runs.add("ours small tabulate", timed(argv(sys.executable, "small-jsonl") + ["--format", "simple"], data), ours=True)
    runs.add("ours small trend", timed(argv(sys.executable, "small-jsonl") + ["--trend"], data), ours=True)
    html = str(data / "report.html")
    runs.add("ours small html", timed(argv(sys.executable, "small-jsonl") + ["--html", html], data), ours=True)
    plots = "pics-jsonl" in sets and importlib.util.find_spec("matplotlib") is not None
    if plots:  # not in --quick: matplotlib's import would dominate CI's bench smoke test
        for key in ("pics", "pics10"):
            png = str(data / f"{key}.png")
            runs.add(f"ours {key} plot", timed(argv(sys.executable, f"{key}-jsonl") + ["--plot", "loss", "-o", png], data),
                     ours=True)
    runs.add("ours big", timed(argv(sys.executable, "big-jsonl"), data), ours=True)
    runs.add("ours big10", timed(argv(sys.executable, "big10-jsonl"), data), ours=True)
    # runx.sumx.fanout_fork (raw fork, marshal) against runx.sumx.fanout (multiprocessing.Pool), whole sumx calls
    fanout = [sys.executable, str(BENCH / "sumx_fanout.py")]
    for mode in ("fork", "plain"):
        for key in ("big", "small"):
            runs.add(f"ours {key} fanout {mode}", timed(fanout + [mode] + argv(sys.executable, f"{key}-jsonl")[3:], data),
                     ours=True)
    runs.run(sizes.loop_repeats)  # the warm-up round also warms the page cache

    def shape(key):
        _, _, n, e = sets[key]
        return f"{n:,} runs x {e:,} epochs"

    missing = venvs.missing.get(OLD, "")
    rows = [
        compare("sumx", f"sumx {shape('tiny-jsonl')}", runs.samples("ours tiny"), runs.samples("old tiny"),
                "runx 0.0.11 sumx (csv)", missing or runs.failed.get("old tiny", "")),
        compare("sumx", f"sumx {shape('small-jsonl')}, LOGROOT from .runx (PyYAML)", runs.samples("ours small runx"),
                runs.samples("old small"), "runx 0.0.11 sumx (csv)", missing or runs.failed.get("old small", ""),
                "<= 0.2x (5x faster)", 0.2),
        compare("sumx", f"sumx {shape('small-jsonl')}, --logroot", runs.samples("ours small"), runs.samples("old small"),
                "runx 0.0.11 sumx (csv)", missing or runs.failed.get("old small", "")),
        compare("sumx", f"sumx {shape('small-csv')}, 0.0.11's csv format", runs.samples("ours small csv"),
                runs.samples("old small"), "runx 0.0.11 sumx (csv)", missing or runs.failed.get("old small", "")),
        # runx.sumx.fast_table earns its place only while it saves >= 10% against tabulate's own layout
        compare("sumx", f"sumx {shape('small-jsonl')}, default table (fast_table)", runs.samples("ours small"),
                runs.samples("ours small tabulate"), "the same table by tabulate (--format simple)", "",
                "<= 0.9x", 0.9),
    ]
    small_full = sets["small-jsonl"][2:] == (1000, 100)
    rows.append(compare("sumx", f"sumx {shape('small-jsonl')}, with the trend column", runs.samples("ours small trend"),
                        runs.samples("ours small"), "the same table without it", "", "<= 1.2x", 1.2))
    html_samples = runs.samples("ours small html")
    rows.append(Row("sumx", f"sumx --html, {shape('small-jsonl')}", str(html_samples), target="< 5 s",
                    result=absolute(html_samples.median < 5.0 if small_full else None)))
    if plots:
        rows.append(compare("sumx", f"sumx --plot loss to a PNG, {shape('pics-jsonl')}", runs.samples("ours pics plot"),
                            runs.samples("ours pics10 plot"), f"at {sets['pics10-jsonl'][3]} epochs", "",
                            "<= 1.25x (flat)", 1.25))
    else:
        rows.append(Row("sumx", "sumx --plot, 1,000 runs x 1,000 vs x 10 epochs",
                        "not run: " + ("--quick" if "pics-jsonl" not in sets else "matplotlib is not installed"),
                        target="<= 1.25x (flat)", result="n/a"))
    if not small_full:
        rows[1].result = "n/a (quick)"  # the 5x is promised at 1,000 x 100
    big, big10 = runs.samples("ours big"), runs.samples("ours big10")
    full_size = sets["big-jsonl"][2:] == (10000, 1000)
    rows.append(Row("sumx", f"sumx {shape('big-jsonl')}, warm cache", str(big), target="< 1 s",
                    result=absolute(big.median < 1.0 if full_size else None)))
    n = sets["big-jsonl"][2]
    per_run = Samples([v / n * 1e6 for v in big.values], "us")
    per_run10 = Samples([v / n * 1e6 for v in big10.values], "us")
    rows.append(compare("sumx", f"per run at {sets['big-jsonl'][3]:,} epochs", per_run, per_run10,
                        f"at {sets['big10-jsonl'][3]} epochs", "", "<= 1.25x (flat)", 1.25))
    # runx.sumx.fanout_fork earns its place only while it saves >= 10% against the multiprocessing reference
    # on 1,000 runs x 100 epochs, the figure of the 0.2x target (pool start-up and pickling weigh most there)
    for key in ("big", "small"):
        rows.append(compare("sumx", f"sumx {shape(key + '-jsonl')}, fan-out by raw fork (fanout_fork)",
                            runs.samples(f"ours {key} fanout fork"), runs.samples(f"ours {key} fanout plain"),
                            "the same by multiprocessing.Pool (fanout)", "", "<= 0.9x" if key == "small" else "-",
                            0.9 if key == "small" else None))
    return rows


def bench_slurm(quick: bool, work: Path) -> list:
    """Stage + submit and `runx status` for large sweeps on the real Slurm (slurm_bench.py)."""
    why = slurm_bench.unavailable()
    if why:
        return [Row("slurm", "large sweeps on Slurm", f"not run: {why}", result="n/a")]
    small, big, each = (100, 1000, 100) if quick else (1000, 10000, 1000)
    why = slurm_bench.too_few_jobs(small + big + each)
    if why:
        return [Row("slurm", "large sweeps on Slurm", f"not run: {why}", result="n/a")]
    got = {}
    for runs, array in ((small, True), (big, True), (each, False)):
        launch = slurm_bench.Launch(work / f"slurm-{runs}-{int(array)}", f"s{runs}{'a' if array else 'j'}", runs, array)
        try:
            submit = launch.submit()
            status = Samples([launch.status() for _ in range(3)], "s")
        finally:
            launch.clean()
        got[(runs, array)] = (submit, status)

    def per_run(runs: int, array: bool) -> float:
        return got[(runs, array)][0] / runs

    def ratio(a: float, b: float, limit: float) -> tuple:
        return f"{a / b:.2f}x", "PASS" if a / b <= limit else "FAIL"

    rows = []
    for runs, array in ((small, True), (big, True)):
        target, result = ("< 60 s", absolute(None if quick else got[(runs, array)][0] < 60)) if runs == big else ("-", "info")
        rows.append(Row("slurm", f"stage + submit {runs:,} runs as job arrays",
                        f"{got[(runs, array)][0]:.1f} s ({per_run(runs, array) * 1e3:.2f} ms/run)", target=target, result=result))
    r, result = ratio(per_run(big, True), per_run(small, True), 1.25)
    rows.append(Row("slurm", f"arrays: per run at {big:,} vs at {small:,}", f"{per_run(big, True) * 1e3:.2f} ms",
                    f"{per_run(small, True) * 1e3:.2f} ms", r, "<= 1.25x (linear or better)", result))
    rows.append(Row("slurm", f"stage + submit {each:,} runs one job each (SUBMIT_RATE 20/s)",
                    f"{got[(each, False)][0]:.1f} s ({per_run(each, False) * 1e3:.1f} ms/run; "
                    f"{big:,} runs ~{per_run(each, False) * big / 60:.0f} min)"))
    status_big, status_small = got[(big, True)][1], got[(small, True)][1]
    rows.append(Row("slurm", f"runx status, {big:,} queued runs in arrays", str(status_big), target="< 2 s",
                    result=absolute(None if quick else status_big.median < 2.0)))
    r, result = ratio(status_big.median / big, status_small.median / small, 1.25)
    rows.append(Row("slurm", f"runx status per run at {big:,} vs at {small:,}", f"{status_big.median / big * 1e6:.0f} us",
                    f"{status_small.median / small * 1e6:.0f} us", r, "<= 1.25x (linear or better)", result))
    rows.append(Row("slurm", f"runx status, {each:,} queued runs one job each", str(got[(each, False)][1])))
    return rows


def bench_search(quick: bool) -> list:
    """The adaptive search's figures (bench/search_bench.py)."""
    return [Row("search", figure, ours, baseline, "-", target, result)
            for figure, ours, baseline, target, result in search_bench.bench_search(quick)]


def machine() -> list:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem = next((int(line.split()[1]) / 2**20 for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
               platform.processor())
    return [f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"machine: {os.cpu_count()} cpus, {mem:.1f} GiB memory, {cpu}, {platform.platform()}",
            f"python: {sys.version.split()[0]} ({sys.executable})"]


def versions(venvs: baselines.Venvs) -> str:
    def have(dist):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    ours = [f"{d} {have(d)}" for d in ("runx-core", "runx-logx", "runx-sumx", "tensorboardX", "torch") if have(d)]
    theirs = [f"{name} venv: {venvs.version(name) or '-'}" for name in baselines.VENVS
              if (venvs.cache / name / baselines.STAMP).exists() and name != "floor"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True, text=True)
    head = [f"checkout {commit.stdout.strip()}"] if commit.returncode == 0 else []
    return "versions: " + ", ".join(head + ours + theirs)


def render(rows: list, markdown: bool) -> str:
    header = ("area", "figure", "ours: median [min-max]", "baseline, same run", "ours/base", "target", "result")
    cells = [header] + [(r.area, r.figure, r.ours, r.baseline, r.ratio, r.target, r.result) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats, no venv installs (CI)")
    parser.add_argument("--only", default=",".join(AREAS), help=f"comma-separated subset of {','.join(AREAS)}")
    parser.add_argument("--venvs", type=Path, default=baselines.DEFAULT_CACHE,
                        help="cache dir of the baseline venvs (default $RUNX_BENCH_VENVS or %(default)s)")
    parser.add_argument("--data", type=Path, default=Path("/tmp/sumx-bench"),
                        help="where sumx's generated experiments are kept between runs (default %(default)s)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    areas = {a.strip() for a in args.only.split(",") if a.strip()}
    if not areas or areas - set(AREAS):
        parser.error(f"--only takes a subset of {','.join(AREAS)}")
    sizes = QUICK if args.quick else FULL
    venvs = baselines.Venvs(args.venvs, install=not args.quick)
    started = time.perf_counter()
    rows, errors = [], 0
    with tempfile.TemporaryDirectory(prefix="runx-bench-") as tmp:
        work = Path(tmp)
        steps = [("core", lambda: bench_core(sizes, venvs, args.quick, work / "core")),
                 ("local", lambda: bench_local(sizes, venvs, work)),
                 ("logx", lambda: bench_logx_import(sizes, venvs, work)),
                 ("logx+baselines", lambda: bench_metric(sizes, venvs, areas)),
                 ("logx", lambda: bench_kill9(sizes)),
                 ("sumx", lambda: bench_sumx(sizes, venvs, args.data)),
                 ("slurm", lambda: bench_slurm(args.quick, work)),
                 ("search", lambda: bench_search(args.quick))]
        for wanted, step in steps:
            if not areas & set(wanted.split("+")):
                continue
            (work / "core").mkdir(exist_ok=True)
            print(f"[bench] {wanted} ...", file=sys.stderr, flush=True)
            try:
                rows += step()
            except Exception as exc:
                errors += 1
                rows.append(Row(wanted, "benchmark failed", f"ERROR {type(exc).__name__}: {str(exc).strip()[:300]}",
                                result="ERROR"))
    isolation = "unshare -n (loopback only)" if baselines.isolated() else "not available: loops ran with the network"
    print("\n".join(machine()))
    print(versions(venvs))
    print(f"mode: {'quick' if args.quick else 'full'}; areas: {','.join(a for a in AREAS if a in areas)}; "
          f"per-call loops isolated by {isolation}; {time.perf_counter() - started:.0f} s")
    for name, why in venvs.missing.items():
        print(f"baseline {name}: {why}")
    print()
    rows.sort(key=lambda r: AREAS.index(r.area.split("+")[0]))  # stable: each area's rows together
    print(render(rows, args.markdown))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
