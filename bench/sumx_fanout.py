"""`python bench/sumx_fanout.py plain|fork|serial SUMX-ARGS...`: sumx with its runs read by runx.sumx.fanout (the
multiprocessing reference), by runx.sumx.fanout_fork (the raw-fork trick) or all in one process, for bench/run.py's
fan-out rows."""
from __future__ import annotations

import sys

import runx.sumx.app as app
from runx.sumx import fanout, fanout_fork, main


def serial(jobs, load):
    return [load(*job) for job in jobs]


app.load_all = {"plain": fanout.load_all, "fork": fanout_fork.load_all, "serial": serial}[sys.argv[1]]
sys.exit(main(sys.argv[2:]))
