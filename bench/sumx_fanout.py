"""`python bench/sumx_fanout.py pool|serial SUMX-ARGS...`: sumx with its runs read by runx.sumx.fanout (a
multiprocessing pool) or all in this process, for bench/run.py's fan-out rows."""
from __future__ import annotations

import sys

import runx.sumx.app as app
from runx.sumx import main


def serial(jobs, load):
    return [load(*job) for job in jobs]


if sys.argv[1] == "serial":
    app.load_all = serial
sys.exit(main(sys.argv[2:]))
