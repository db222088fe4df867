"""Timing whole processes for the benchmarks: interleaved repeats, medians and spread.

Installed packages run from compiled bytecode, so subprocesses run without PYTHONDONTWRITEBYTECODE
(this machine sets it) and measure that, not recompiling on every start.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

__all__ = ["ENV", "time_cmd", "interleaved", "describe"]


def time_cmd(argv: list, cwd: Path) -> float:
    """Seconds one run of `argv` takes, output discarded; raises if it fails."""
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    return time.perf_counter() - start


def interleaved(cases: dict, cwd: Path, repeats: int) -> dict:
    """{name: [seconds, ...]}: every case once per round, `repeats` rounds."""
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, argv in cases.items():
            times[name].append(time_cmd(argv, cwd))
    return times


def describe(samples: list) -> str:
    """Median with min, max and count, in milliseconds."""
    med = statistics.median(samples)
    return f"{med * 1000:8.1f} ms  (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f}, n={len(samples)})"
