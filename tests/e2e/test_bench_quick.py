"""bench/run.py --quick keeps working: it exits 0 and prints its table (no timing is asserted)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runx_testing import require

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def test_bench_quick_prints_the_table(tmp_path):
    require("bench")  # one tox env is enough to keep the harness working
    # --data in tmp_path: parallel tox envs must not generate the same sumx experiments at once.
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--only", "core,local,logx,sumx", "--data", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "mode: quick; areas: core,local,logx,sumx" in out
    header = next(line for line in out.splitlines() if line.startswith("area "))
    for column in ("figure", "baseline, same run", "ours/base", "target", "result"):
        assert column in header
    for figure in ("runx sweep.yml -n", "plan 1,000 runs with -n", "stage 20 runs", "from runx.logx import logx",
                   "metric() TB off", "metric() TB on", "kill -9 inside save_model", "sumx 100 runs x 100 epochs",
                   "per run at 300 epochs", "runx -i, 5 trivial runs", "runx -i -j 2, 5 trivial runs",
                   "script with logx (initialize, 3 metrics, close)", "Hydra multirun, basic launcher"):
        assert figure in out, figure
    assert "ERROR" not in out


def test_search_bench_draws_best_so_far(tmp_path):
    """bench/search_bench.py --plot's drawing: a PNG of the median curves, and the curves it drew as JSON."""
    require("matplotlib")
    sys.path.insert(0, str(BENCH.parent))
    try:
        import search_bench
    finally:
        sys.path.remove(str(BENCH.parent))
    from matplotlib.image import imread

    curves = {"TPE": [[3.0, 1.0 / 3, 0.25], [2.0, 2.0, 0.5]], "random": [[4.0, 4.0, 1.0], [5.0, 2.0, 2.0], [6.0, 3.0, 1.5]]}
    out = tmp_path / "best.png"
    search_bench.plot_best_so_far(curves, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(str(out)).shape[:2]
    assert (width, height) == (640, 360)
    assert json.loads(out.with_suffix(".json").read_text()) == {"TPE": [[3.0, 0.3333, 0.25], [2.0, 2.0, 0.5]],
                                                                "random": curves["random"]}
