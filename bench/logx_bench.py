"""Benchmark logx against runx 0.0.11 in the same run: metric() cost with TensorBoard off and on, import time.

Each measurement is a fresh subprocess; old and new alternate within every repeat, and the report
gives the median and the min-max spread. The 0.0.11 interpreter comes from the venv that
bench/baselines.py creates ($RUNX_BENCH_VENVS/runx-0.0.11, RUNX_BENCH_VENVS defaulting to
/tmp/runx-bench-venvs; a full `python bench/run.py` installs it when missing), or by hand:

    python3.11 -m venv /tmp/runx-bench-venvs/runx-0.0.11
    /tmp/runx-bench-venvs/runx-0.0.11/bin/pip install runx==0.0.11 tensorboardX torch==2.13.0
    python bench/logx_bench.py --scenarios mixed --repeats 9

The new logx is the one importable by this interpreter (--new-python to pick another); its
TensorBoard scenario needs tensorboardX there. A record is 3 scalars; "mixed" alternates train and val.
With TensorBoard on, the new logx hands scalars to a thread: `drain_ms` is what close() then waits for.
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

METRIC_LOOP = r"""
import gc, json, sys, tempfile, time
mode, calls = sys.argv[1], int(sys.argv[2])
from runx.logx import logx
logdir = tempfile.mkdtemp(prefix="logx-bench-")
logx.initialize(logdir=logdir, tensorboard=mode.startswith("tb"), global_rank=0,
                eager_flush=mode != "tb-lazy")
phases = ("val",) if mode == "val" else ("train", "val")
records = [{"loss": 1.0 / (i + 1), "acc": i / 1000.0, "lr": 0.1 * 0.99 ** i} for i in range(1000)]
for i in range(200):
    logx.metric(phases[i % len(phases)], records[i % 1000])
gc.collect()  # what imports left (torch's, under tensorboardX) is collected before, not inside, the timed calls
start = time.perf_counter()
for i in range(calls):
    logx.metric(phases[i % len(phases)], records[i % 1000])
loop = time.perf_counter() - start
start = time.perf_counter()
if hasattr(logx, "close"):
    logx.close()
elif getattr(logx, "tb_writer", None) is not None:
    logx.tb_writer.close()
drain = time.perf_counter() - start
import shutil
shutil.rmtree(logdir, ignore_errors=True)  # each loop's logdir is its own: none is left behind in the temp folder
print(json.dumps({"us_per_call": loop / calls * 1e6, "drain_ms": drain * 1e3}))
"""

SCENARIOS = {
    "val": ("TensorBoard off, val records", 20000),
    "mixed": ("TensorBoard off, train+val records", 20000),
    "tb": ("TensorBoard on, default (eager_flush=True), train+val", 1000),
    "tb-lazy": ("TensorBoard on, eager_flush=False, train+val", 1000),
}


def run_json(python: str, code: str, *args: str) -> dict:
    """Run `code` in a fresh `python` and parse its last stdout line."""
    done = subprocess.run([python, "-c", code, *args], capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_ms(python: str) -> float:
    """Wall time of `python -c "from runx.logx import logx"` in ms."""
    start = time.perf_counter()
    subprocess.run([python, "-c", "from runx.logx import logx"], check=True, cwd=tempfile.gettempdir())
    return (time.perf_counter() - start) * 1e3


def spread(values: list) -> str:
    """median [min-max]."""
    return f"{statistics.median(values):9.1f}  [{min(values):.1f}-{max(values):.1f}]"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    venvs = os.environ.get("RUNX_BENCH_VENVS", "/tmp/runx-bench-venvs")
    parser.add_argument("--old-python", default=os.path.join(venvs, "runx-0.0.11", "bin", "python"))
    parser.add_argument("--new-python", default=sys.executable)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args(argv)
    pythons = {"runx 0.0.11": args.old_python, "new logx": args.new_python}
    for name, python in pythons.items():
        if not os.path.exists(python):
            print(f"{name}: {python} not found (see the module docstring)", file=sys.stderr)
            return 2
    results: dict = {}
    for repeat in range(args.repeats):
        order = list(pythons.items()) if repeat % 2 == 0 else list(pythons.items())[::-1]
        for scenario in args.scenarios.split(","):
            _, calls = SCENARIOS[scenario]
            for name, python in order:
                got = run_json(python, METRIC_LOOP, scenario, str(calls))
                results.setdefault((scenario, name), []).append(got)
        for name, python in order:
            results.setdefault(("import", name), []).append(import_ms(python))
    print(f"logx benchmark: {args.repeats} repeats, medians [min-max]; python {sys.version.split()[0]}")
    print(f"{'scenario':58} {'logx':12} {'us/call':>9}  spread        drain_ms")
    for scenario in args.scenarios.split(","):
        label, calls = SCENARIOS[scenario]
        medians = {}
        for name in pythons:
            runs = results[(scenario, name)]
            us = [r["us_per_call"] for r in runs]
            medians[name] = statistics.median(us)
            drain = statistics.median(r["drain_ms"] for r in runs)
            print(f"{label + f' ({calls} calls)':58} {name:12} {spread(us)}   {drain:8.1f}")
        print(f"{'':58} {'ratio':12} {medians['runx 0.0.11'] / medians['new logx']:9.1f}x faster")
    label = 'import: python -c "from runx.logx import logx" (ms)'
    for name in pythons:
        print(f"{label:58} {name:12} {spread(results[('import', name)])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
