"""Launcher benchmarks (issue: runx-core), each against its baseline in the same run.

  python bench/core_bench.py [--quick]

- `runx sweep.yml -n` on the seed's 4-run sweep vs `python -c "import yaml"` and vs runx 0.0.11's
  `runx -n` (from its own venv under $RUNX_BENCH_VENVS, default /tmp/runx-bench-venvs).
- planning a 100,000-run sweep with -n.
- staging 1,000 runs of a 50 MB project: new bytes written (unique inodes) vs the naive N copies.
Cases are interleaved and repeated; medians and spread are printed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from timing import describe, interleaved, time_cmd  # bench/ is on sys.path

VENVS = Path(os.environ.get("RUNX_BENCH_VENVS", "/tmp/runx-bench-venvs"))
SWEEP = "CMD: 'python train.py'\n\nHPARAMS:\n  lr: [0.01, 0.02]\n  solver: ['sgd', 'adam']\n"


def runx_0011_python() -> Path | None:
    """A venv holding runx 0.0.11 from PyPI (created once), or None when it cannot install."""
    env = VENVS / "runx-0.0.11"
    python = env / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(env)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "runx==0.0.11"], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"runx 0.0.11 could not be installed: {done.stderr.strip()[-300:]}", file=sys.stderr)
            return None
    return python


def bench_dry_run(work: Path, repeats: int) -> list:
    (work / ".runx").write_text(f"LOGROOT: {work / 'logs'}\n")
    (work / "sweep.yml").write_text(SWEEP)
    cases = {
        "python -c 'import yaml'": [sys.executable, "-c", "import yaml"],
        "runx sweep.yml -n -i": [sys.executable, "-m", "runx.runx", "sweep.yml", "-n", "-i"],
    }
    old = runx_0011_python()
    if old is not None:
        cases["runx 0.0.11 sweep.yml -n -i"] = [str(old), "-m", "runx.runx", "sweep.yml", "-n", "-i"]
    interleaved(cases, work, 1)  # warm-up: writes bytecode caches
    times = interleaved(cases, work, repeats)
    base = statistics.median(times["python -c 'import yaml'"])
    rows = []
    for name, samples in times.items():
        rows.append((name, describe(samples), f"{statistics.median(samples) / base:.2f}x of import yaml"))
    if old is None:
        rows.append(("runx 0.0.11 sweep.yml -n", "not measured: runx 0.0.11 did not install here", ""))
    return rows


def bench_big_plan(work: Path, runs: int, repeats: int) -> list:
    values = ", ".join(str(i) for i in range(runs // 10))
    (work / "big.yml").write_text(f"CMD: python train.py\nHPARAMS:\n  seed: [{values}]\n  lr: [0,1,2,3,4,5,6,7,8,9]\n")
    samples = [time_cmd([sys.executable, "-m", "runx.runx", "big.yml", "-n"], work) for _ in range(repeats)]
    return [(f"runx -n, {runs:,}-run sweep", describe(samples), "target < 3 s")]


def unique_bytes(root: Path) -> int:
    seen, total = set(), 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def measure_staging(work: Path, runs: int, project_mb: int) -> dict:
    """Launch `runs` runs of a `project_mb` MB project: new bytes written, seconds, and the naive N copies."""
    project = work / "project"
    project.mkdir()
    (project / ".runx").write_text(f"LOGROOT: {work / 'stage_logs'}\nFARM: noop\nnoop:\n  SUBMIT_CMD: 'true'\n")
    per_file = 1024 * 1024
    for i in range(project_mb):
        (project / f"module_{i:03d}.py").write_bytes(os.urandom(per_file))
    values = ", ".join(str(i) for i in range(runs))
    (project / "stage.yml").write_text(f"CMD: python train.py\nHPARAMS:\n  seed: [{values}]\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runx.runx", "stage.yml"], cwd=project, stdout=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - start
    return {"written": unique_bytes(work / "stage_logs"), "seconds": elapsed,
            "project": project_mb * per_file, "naive": runs * project_mb * per_file}


def bench_staging(work: Path, runs: int, project_mb: int) -> list:
    got = measure_staging(work, runs, project_mb)
    return [(
        f"stage {runs:,} runs of a {project_mb} MB project",
        f"{got['written'] / 2**20:8.1f} MiB written in {got['seconds']:.1f} s",
        f"{got['naive'] / 2**30:.1f} GiB with a copy per run (0.0.11)",
    )]


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (CI)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = bench_dry_run(work, repeats)
        rows += bench_big_plan(work, 1_000 if args.quick else 100_000, 1 if args.quick else 3)
        rows += bench_staging(work, 20 if args.quick else 1_000, 2 if args.quick else 50)
    width = max(len(r[0]) for r in rows)
    for name, figure, note in rows:
        print(f"{name:<{width}}  {figure}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
