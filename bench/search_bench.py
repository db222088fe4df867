"""Adaptive search benchmarks (issue 15), every run a real run through runx's local farm (-i, parallel 2).

  python bench/search_bench.py [--quick] [--seeds N] [--parts quality,asha,overhead] [--plot PNG]

`--plot docs/pictures/search_best_so_far.png` also draws the best-so-far curves of the quality part
(median over the seeds, the band between the best and worst seed) with matplotlib (the runx-sumx[plot]
extra), and writes the curves it drew beside it as JSON (same name, .json).

- quality: TPE (30 and 40 trials) vs random search (30 and 100 trials, runx's own SWEEP draws) over 5 seeds on a
  synthetic script whose val loss after each epoch is a known, noisy function of its hyperparameters
  (a narrow optimum in three dimensions, improving over epochs): the median best value and the
  best-so-far curve by trial;
- early stopping: ASHA's epochs consumed vs the same 50 trials unpruned, and both best values, per seed;
- driver overhead: the driver's own CPU time per trial with a no-op job (a shell line writing its metric).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import ENV  # bench/ is on sys.path

TRAIN = '''\
import argparse, math, random, time
from runx.logx import logx
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--momentum", type=float)
p.add_argument("--width", type=int)
p.add_argument("--epochs", type=int, default=8)
p.add_argument("--sleep", type=float, default=0.0)
a = p.parse_args()
logx.initialize()
# the true loss: a narrow optimum at lr=1e-3, momentum=0.9, width=96; epochs approach it
true = (math.log10(a.lr) + 3) ** 2 + 40 * (a.momentum - 0.9) ** 2 + ((a.width - 96) / 64) ** 2
noise = random.Random(repr((a.lr, a.momentum, a.width)))
for epoch in range(a.epochs):
    loss = true + 2.0 / (epoch + 1) + noise.gauss(0, 0.02)
    logx.metric("val", {"loss": loss}, epoch)
    time.sleep(a.sleep)
    if logx.should_stop():
        break
'''
SPACE = """\
HPARAMS:
  lr: {loguniform: [1e-5, 1e-1]}
  momentum: {uniform: [0.5, 0.99]}
  width: {randint: [16, 256]}
"""
NOOP_SH = """printf '%s\\n' '{"phase": "val", "step": 0, "time": 1, "metrics": {"loss": 1}}' >> "$RUNX_LOGDIR/metrics.jsonl"\n"""

__all__ = ["bench_search", "TRAIN"]


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text(TRAIN)
    (root / "noop.sh").write_text(NOOP_SH)
    (root / ".runx").write_text("LOGROOT: logs\n")
    return root


def _runx(root: Path, name: str, yml: str) -> float:
    """Run `runx name.yml -i`; the CPU seconds of runx and what it waited for."""
    (root / f"{name}.yml").write_text(yml)
    proc = subprocess.Popen([sys.executable, "-m", "runx.runx", f"{name}.yml", "-i"], cwd=root, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"runx {name}.yml -i exited {proc.returncode}: {err.strip()[-300:]}")
    return usage.ru_utime + usage.ru_stime


def _runs(root: Path, name: str) -> list:
    """[(order, best loss, epochs logged, state)] of an experiment's runs in launch order."""
    found = []
    for run_json in (root / "logs" / name).glob("*/run.json"):
        record = json.loads(run_json.read_text())
        summary = json.loads((run_json.parent / "metrics.summary.json").read_text())
        val = summary["phases"]["val"]
        order = record["sweep"]["trial"] if record.get("sweep") else 0
        state = (run_json.parent / "status.log").read_text().split()
        found.append((order, record.get("created", ""), float(val["metrics"]["loss"]["min"]), val["count"],
                      "pruned" if "pruned" in state else "done"))
    found.sort(key=lambda r: (r[0], r[1]))
    return [(r[2], r[3], r[4]) for r in found]


def _curve(values: list) -> list:
    best, out = float("inf"), []
    for v in values:
        best = min(best, v)
        out.append(best)
    return out


def _search(trials: int, seed: int, extra: str = "", space: str = SPACE) -> str:
    return (f"CMD: {sys.executable} train.py\nSWEEP: {{method: tpe, trials: {trials}, parallel: 2, metric: loss, "
            f"seed: {seed}{extra}}}\n" + space)


def bench_search(quick: bool, seeds: int = 5, parts: tuple = ("quality", "asha", "overhead"),
                 plot: Path | None = None) -> list:
    """[(figure, ours, baseline, target, result)] of the search benchmarks (`parts`: which of them);
    with `plot`, the quality part's best-so-far curves are drawn there too."""
    rows: list = []
    seeds = 2 if quick else seeds
    tpe_n, tpe_max, rand_n, asha_n = (8, 12, 24, 12) if quick else (30, 40, 100, 50)
    with tempfile.TemporaryDirectory(prefix="runx-search-bench-") as tmp:
        root = _project(Path(tmp))
        tpe: list = []
        rand: list = []
        for seed in range(seeds if "quality" in parts else 0):
            _runx(root, f"tpe{seed}", _search(tpe_max, seed))
            tpe.append(_curve([r[0] for r in _runs(root, f"tpe{seed}")]))
            (root / f"rand{seed}.yml").write_text(f"CMD: {sys.executable} train.py\nSWEEP: {{trials: {rand_n}, seed: {seed}}}\n"
                                                  + SPACE)
            subprocess.run([sys.executable, "-m", "runx.runx", f"rand{seed}.yml", "-i", "-j", "2"], cwd=root, env=ENV,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rand.append(_curve([r[0] for r in _runs(root, f"rand{seed}")]))

        def median_at(curves: list, n: int) -> float:
            return statistics.median(c[n - 1] for c in curves)

        if "quality" in parts:
            rows += _quality_rows(tpe, rand, quick, seeds, tpe_n, tpe_max, rand_n, median_at)
            if plot is not None:
                plot_best_so_far({"TPE": tpe, "random": rand}, plot)
        if "asha" in parts:
            rows += _asha_rows(root, asha_n, seeds)
        if "overhead" in parts:
            rows += _overhead_rows(root, quick)
    return rows


def _quality_rows(tpe: list, rand: list, quick: bool, seeds: int, tpe_n: int, tpe_max: int, rand_n: int, median_at) -> list:
    rows = []
    marks = sorted({5, 10, 20, tpe_n, tpe_max, 50, rand_n} & set(range(1, rand_n + 1)))
    table = [f"{m}: tpe {median_at(tpe, m):.3f} / random {median_at(rand, m):.3f}" if m <= tpe_max
             else f"{m}: random {median_at(rand, m):.3f}" for m in marks]
    t30, r30, t40, r100 = median_at(tpe, tpe_n), median_at(rand, tpe_n), median_at(tpe, tpe_max), median_at(rand, rand_n)
    reached = next((m for m in range(1, tpe_max + 1) if median_at(tpe, m) <= r100), None)
    rows.append((f"best loss after {tpe_n} trials, median of {seeds} seeds", f"tpe {t30:.3f}", f"random {r30:.3f}",
                 "tpe better", "n/a" if quick else "PASS" if t30 < r30 else "FAIL"))
    rows.append((f"TPE reaches random's {rand_n}-trial median ({r100:.3f})",
                 f"at trial {reached}" if reached else f"not in {tpe_max} (tpe {t40:.3f})", f"random {r100:.3f}",
                 f"within {tpe_max} trials", "n/a" if quick else "PASS" if reached else "FAIL"))
    rows.append(("best so far by trial (median)", "; ".join(table), "-", "-", "info"))
    return rows


def _asha_rows(root: Path, asha_n: int, seeds: int) -> list:
    """ASHA vs the same search unpruned, each over `seeds` seeds: the epochs consumed and both best values."""
    rows = []
    slow = SPACE + "  epochs: 16\n  sleep: 0.25\n"  # epochs longer than a poll: a pruned run stops within one
    stop = ", poll: 0.1, early_stop: {method: asha, min_epochs: 1, reduction: 3, grace: 5}"
    used, pruned, best_full, best_asha = [], [], [], []
    for seed in range(seeds):
        _runx(root, f"unpruned{seed}", _search(asha_n, seed, ", poll: 0.1", slow))
        _runx(root, f"asha{seed}", _search(asha_n, seed, stop, slow))
        full, asha = _runs(root, f"unpruned{seed}"), _runs(root, f"asha{seed}")
        used.append(sum(r[1] for r in asha) / sum(r[1] for r in full))
        pruned.append(sum(r[2] == "pruned" for r in asha))
        best_full.append(min(r[0] for r in full))
        best_asha.append(min(r[0] for r in asha))

    def spread(values: list) -> str:
        return f"median {statistics.median(values):.3f} (seeds: {', '.join(f'{v:.3f}' for v in values)})"

    worst = max(used)
    rows.append((f"ASHA epochs consumed, {asha_n} trials, {seeds} seed(s)",
                 f"median {statistics.median(used):.0%}, worst {worst:.0%} ({statistics.median(pruned):.0f} pruned)",
                 "unpruned 100%", "<= 40%", "PASS" if worst <= 0.40 else "FAIL"))
    paired = [a - f for a, f in zip(best_asha, best_full)]  # the same seed: the same first trials
    noise = f", paired difference mean {statistics.mean(paired):+.3f}" + (
        f" (stdev {statistics.stdev(paired):.3f})" if len(paired) > 1 else "")
    rows.append(("ASHA best loss vs unpruned", spread(best_asha) + noise, spread(best_full), "within noise", "info"))
    return rows


def _overhead_rows(root: Path, quick: bool) -> list:
    rows = []
    # The driver's own cost per trial: the CPU of two searches of different lengths, differenced, so
    # interpreter start and the Optuna import cancel out; the no-op jobs' few ms each are included.
    short, long = (5, 15) if quick else (10, 40)
    cpu = {}
    for n in (short, long):
        started = time.perf_counter()
        cpu[n] = _runx(root, f"noop{n}", "CMD: sh noop.sh\n" + f"SWEEP: {{method: tpe, trials: {n}, parallel: 2, "
                       "metric: loss, poll: 0.05}\nHPARAMS:\n  x: {uniform: [0, 1]}\n")
        wall = time.perf_counter() - started
    per = (cpu[long] - cpu[short]) / (long - short) * 1000
    rows.append((f"driver CPU per trial, no-op job ({long} minus {short} trials)", f"{per:.1f} ms",
                 f"whole run {cpu[long] / long * 1000:.0f} ms/trial CPU, {wall / long * 1000:.0f} ms wall",
                 "<= 50 ms", "PASS" if per <= 50 else "FAIL"))
    return rows


def plot_best_so_far(curves: dict, out: Path) -> None:
    """Draw each method's best-so-far curves (median over seeds, band from best to worst seed) to `out`
    (a PNG), and write the curves to `out` with the suffix .json."""
    from matplotlib.figure import Figure  # as sumx --plot: no pyplot, no global backend

    rounded = {name: [[round(v, 4) for v in curve] for curve in seeds] for name, seeds in curves.items()}
    out.with_suffix(".json").write_text(json.dumps(rounded) + "\n")
    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    ax = fig.subplots()
    for name, seeds in curves.items():
        n = min(len(c) for c in seeds)
        trials = list(range(1, n + 1))
        ax.plot(trials, [statistics.median(c[i] for c in seeds) for i in range(n)],
                label=f"{name}, median of {len(seeds)} seeds")
        ax.fill_between(trials, [min(c[i] for c in seeds) for i in range(n)], [max(c[i] for c in seeds) for i in range(n)],
                        alpha=0.2)
    ax.set_xlabel("trial")
    ax.set_ylabel("best val loss so far")
    ax.set_yscale("log")
    ax.set_title("bench/search_bench.py: best so far, band = best to worst seed")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--parts", default="quality,asha,overhead", help="comma-separated: quality, asha, overhead")
    parser.add_argument("--plot", type=Path, help="draw the quality part's best-so-far curves to this PNG")
    args = parser.parse_args(argv)
    for row in bench_search(args.quick, args.seeds, tuple(args.parts.split(",")), args.plot):
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
