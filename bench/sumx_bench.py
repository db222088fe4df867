"""sumx benchmarks (issue: runx-sumx), each against its baseline in the same run.

  python bench/sumx_bench.py [--quick] [--repeats N] [--data DIR]

Datasets (generated once under --data, default /tmp/sumx-bench; a stamp file says what is there):
- `small`: 1,000 runs x 100 val epochs, written twice with the same values: in runx 0.0.11's
  format (`hparams.json` + `metrics.csv`) and in ours (`hparams.json`, `run.json`, `status.log`,
  `metrics.jsonl` + `metrics.summary.json`).
- `big`: 10,000 runs x 1,000 val epochs in our format, and `big10`: the same 10,000 runs with 10
  epochs each, to show that the time per run does not grow with the number of epochs.

Cases, interleaved and repeated as whole processes (startup included); medians and spread printed:
- runx 0.0.11's sumx on `small` (csv), from the `runx-0.0.11` venv that bench/baselines.py keeps
  under $RUNX_BENCH_VENVS (default /tmp/runx-bench-venvs; created when missing), the same venv
  bench/run.py measures against;
- our sumx on `small` in our format, and on `small` in 0.0.11's format;
- our sumx on `big` and `big10` (after one warm-up read, so the page cache is warm).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import baselines  # bench/ is on sys.path
from runx.logx.rundir.summary import SUMMARY_VERSION
from timing import describe, interleaved

VERSION = 6  # bump when the generated data changes (4: summaries with histories, 6: with trends); the stamp also names the summary version
LRS = (0.1, 0.05, 0.02, 0.01, 0.005)
SOLVERS = ("sgd", "adam")


def runx_0011_python() -> Path | None:
    """runx 0.0.11's interpreter from bench/baselines.py's venv (created once), or None when it cannot install."""
    venvs = baselines.Venvs(baselines.DEFAULT_CACHE, install=True)
    python = venvs.python("runx-0.0.11")
    if python is None:
        print(f"runx 0.0.11: {venvs.missing['runx-0.0.11']}", file=sys.stderr)
    return python


def run_values(i: int, epochs: int):
    """The hyperparameters and the (epoch, time, loss, acc, top5) rows of run i: the same in both formats."""
    lr, solver, seed = LRS[i % len(LRS)], SOLVERS[(i // len(LRS)) % 2], i // (2 * len(LRS))
    hparams = {"lr": lr, "solver": solver, "seed": seed, "epochs": epochs, "logdir": f"/logs/run_{i:05d}"}
    t0 = 1_700_000_000.0 + i
    scale = 1.0 + (i % 97) / 97
    rows = []
    for e in range(epochs):
        loss = round(scale * 2.0 / (1 + e * lr * 10) + 0.01 * ((e * 7 + i) % 5), 6)
        acc = round(min(99.9, 100 - 60 * loss / scale), 4)
        rows.append((e, t0 + 60.0 * (e + 1), loss, acc, round(acc + 3.5, 4)))
    return hparams, t0, rows


def write_csv_run(run_dir: Path, hparams: dict, t0: float, rows: list) -> None:
    """A run as runx 0.0.11's logx wrote it."""
    run_dir.mkdir(parents=True)
    (run_dir / "hparams.json").write_text(json.dumps(hparams))
    # csv.writer's default line terminator, as 0.0.11 wrote it
    lines = [f"start,start/step,0,timestamp,{t0!r}\r\n"]
    lines += [f"val,loss,{loss!r},acc,{acc!r},top5,{top5!r},epoch,{e},timestamp,{t!r}\r\n" for e, t, loss, acc, top5 in rows]
    (run_dir / "metrics.csv").write_text("".join(lines))


def write_jsonl_run(run_dir: Path, name: str, hparams: dict, t0: float, rows: list) -> None:
    """A run as runx and logx write it: run files, status record, log and its summary."""
    from runx.logx.rundir.summary import SummaryState

    run_dir.mkdir(parents=True)
    (run_dir / "hparams.json").write_text(json.dumps(hparams))
    run = {"experiment": run_dir.parent.name, "run": name, "hparams": hparams, "created": t0, "farm": "local",
           "job_id": None, "metric_goals": {}}
    (run_dir / "run.json").write_text(json.dumps(run, indent=2))
    end = rows[-1][1] if rows else t0
    (run_dir / "status.log").write_text(f"queued {int(t0)}\nstarted {int(t0)} host=bench\nfinished {int(end)} exit=0\n")
    state = SummaryState()
    state.start(t0)
    lines = ['{"runx_metrics": 1, "time": %r}\n' % t0, '{"event":"start","time":%r}\n' % t0]
    for e, t, loss, acc, top5 in rows:
        lines.append('{"phase":"val","step":%d,"time":%r,"metrics":{"loss":%r,"acc":%r,"top5":%r}}\n' % (e, t, loss, acc, top5))
    if rows:  # one batch: the same fold as record by record (tests/logx/test_metrics_writer.py)
        state.fold("val", ("loss", "acc", "top5"), [(e, loss, acc, top5) for e, _, loss, acc, top5 in rows], rows[0][1], rows[-1][1])
    data = "".join(lines).encode()
    (run_dir / "metrics.jsonl").write_bytes(data)
    (run_dir / "metrics.summary.json").write_text(json.dumps(state.to_json(len(data))))


def generate(data: Path, quick: bool, sets: dict | None = None) -> dict:
    """Create the datasets once; returns {name: (logroot, experiment, runs, epochs)}.

    `sets` ({name: (runs, epochs, formats)}) replaces the default sizes (bench/run.py uses it).
    """
    if sets is None:
        big = 2000 if quick else 10000
        sets = {"small": (1000, 100, ("csv", "jsonl")), "big": (big, 1000, ("jsonl",)), "big10": (big, 10, ("jsonl",))}
    out = {}
    for name, (runs, epochs, formats) in sets.items():
        for fmt in formats:
            root = data / f"{name}-{fmt}-{runs}x{epochs}"
            stamp = root / f"complete-v{VERSION}-summary{SUMMARY_VERSION}"
            out[f"{name}-{fmt}"] = (root, name, runs, epochs)
            if stamp.exists():
                continue
            shutil.rmtree(root, ignore_errors=True)
            started = time.perf_counter()
            print(f"generating {root} ...", file=sys.stderr, flush=True)
            for i in range(runs):
                hparams, t0, rows = run_values(i, epochs)
                run_name = f"run_{i:05d}"
                if fmt == "csv":
                    write_csv_run(root / name / run_name, hparams, t0, rows)
                else:
                    write_jsonl_run(root / name / run_name, run_name, hparams, t0, rows)
            stamp.write_text("")
            print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 instead of 10,000 runs for big")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data", default="/tmp/sumx-bench")
    args = parser.parse_args()
    sets = generate(Path(args.data), args.quick)
    ours = [sys.executable, "-m", "runx.sumx"]
    cases = {}
    old = runx_0011_python()
    root, exp, runs, epochs = sets["small-csv"]
    if old is not None:
        cases[f"0.0.11 sumx, {runs}x{epochs}, metrics.csv"] = [str(old), "-m", "runx.sumx", exp, "--logroot", str(root), "-s", "acc"]
    cases[f"our sumx,   {runs}x{epochs}, metrics.csv"] = ours + [exp, "--logroot", str(root), "-s", "acc"]
    root, exp, runs, epochs = sets["small-jsonl"]
    jsonl = f"our sumx,   {runs}x{epochs}, metrics.jsonl"
    cases[jsonl] = ours + [exp, "--logroot", str(root), "-s", "acc"]
    tabulated = f"our sumx,   {runs}x{epochs}, jsonl, tabulate"  # the default table's layout by tabulate itself
    cases[tabulated] = ours + [exp, "--logroot", str(root), "-s", "acc", "--format", "simple"]
    for key in ("big-jsonl", "big10-jsonl"):
        root, exp, runs, epochs = sets[key]
        cases[f"our sumx,   {runs}x{epochs}, metrics.jsonl"] = ours + [exp, "--logroot", str(root), "-s", "acc"]
    cwd = Path(args.data)
    (cwd / ".runx").write_text("LOGROOT: logs\n")  # 0.0.11 needs a config file even with --logroot
    interleaved(cases, cwd, 1)  # warm-up: bytecode caches and the page cache
    times = interleaved(cases, cwd, args.repeats)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; whole processes, startup included")
    for name, samples in times.items():
        print(f"  {name:<40} {describe(samples)}")
    names = list(times)
    if old is not None:
        base = statistics.median(times[names[0]])
        for name in names[1:3]:
            print(f"  speed-up vs 0.0.11 ({name.split(',', 1)[1].strip()}): {base / statistics.median(times[name]):.1f}x")
    fast, slow = statistics.median(times[jsonl]), statistics.median(times[tabulated])
    print(f"  default table (runx.sumx.fast_table) vs tabulate's own (--format simple): {fast / slow:.2f}x "
          f"({(slow - fast) * 1000:.0f} ms saved)")
    big, big10 = (statistics.median(times[n]) for n in names[-2:])
    runs = sets["big-jsonl"][2]
    print(f"  per run: {big / runs * 1e6:.0f} us at {sets['big-jsonl'][3]} epochs, "
          f"{big10 / runs * 1e6:.0f} us at {sets['big10-jsonl'][3]} epochs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
