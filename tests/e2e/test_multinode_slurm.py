"""Multi-node jobs on the real 2-node Slurm of .ci/slurm-multinode.sh, through runx (the py311-sched env).

torchrun on two nodes with a gloo all_reduce, logx writing from rank 0 only, one status line per
event, a failing rank failing the run, cancel ending both nodes' processes; the srun launcher's ranks.
"""
from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runx_testing import multinode_slurm_conf, require

pytestmark = pytest.mark.slow_scheduler

TORCH_TRAIN = textwrap.dedent("""
    import json, os, sys, time
    import torch, torch.distributed as dist
    from runx.logx import logx
    mode = dict(zip(sys.argv[1::2], sys.argv[2::2]))["--mode"]
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    logx.initialize(all_ranks_log=True)
    total = torch.tensor([rank + 1.0])
    dist.all_reduce(total)
    names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "SLURM_NODEID", "SLURMD_NODENAME", "MASTER_ADDR", "MASTER_PORT")
    with open(os.path.join(os.environ["RUNX_LOGDIR"], f"rank{rank}.json"), "w") as f:
        json.dump({"pid": os.getpid(), "ppid": os.getppid(), "sum": total.item(), "world": world,
                   "env": {n: os.environ.get(n) for n in names}}, f)
    logx.msg(f"rank {rank} of {world}: sum {total.item()}")
    for step in range(3):
        logx.metric("train", {"sum": total.item(), "rank": float(rank)})
    if mode == "hang":
        time.sleep(600)
    dist.destroy_process_group()
    sys.exit(3 if mode == "fail" and rank == 1 else 0)
""")

SRUN_TRAIN = textwrap.dedent("""
    import json, os
    from runx.logx import logx
    logx.initialize()
    names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "NODE_RANK", "SLURMD_NODENAME", "MASTER_ADDR")
    with open(os.path.join(os.environ["RUNX_LOGDIR"], f"rank{os.environ['RANK']}.json"), "w") as f:
        json.dump({n: os.environ.get(n) for n in names}, f)
    logx.metric("train", {"rank": float(os.environ["RANK"])})
""")


@pytest.fixture
def cluster(monkeypatch):
    """runx, squeue and the jobs talk to the 2-node cluster."""
    require("slurm-multinode")
    monkeypatch.setenv("SLURM_CONF", multinode_slurm_conf())


def status_rows(project, experiment):
    done = project.runx("status", experiment)
    assert done.returncode == 0, done.stderr
    return {cells[0]: cells[1:] for cells in (line.split() for line in done.stdout.splitlines()[2:])}


def wait_for(predicate, what, timeout=240.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s: {what}")
        time.sleep(0.5)


def events(run: Path) -> list:
    return [line.split()[0] for line in (run / "status.log").read_text().splitlines()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_two_node_torchrun_all_reduce_fail_and_cancel(project, cluster):
    require("torch")
    (project.root / "train.py").write_text(TORCH_TRAIN)
    project.write(".runx", f"""\
        LOGROOT: logs
        FARM: slurm
        slurm:
          TORCHRUN: {sys.executable} -m torch.distributed.run
          RESOURCES: {{time: 5}}
        """)
    project.write("dist.yml", f"""\
        CMD: {sys.executable} train.py
        HPARAMS:
          mode: [ok, fail, hang]
        RESOURCES: {{nodes: 2}}
        """)
    done = project.runx("dist.yml")
    assert done.returncode == 0, done.stderr
    runs = {json.loads((r / "hparams.json").read_text())["mode"]: r for r in project.runs("dist")}
    for run in runs.values():
        assert "#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n" in (run / "sbatch.sh").read_text()

    hang = runs["hang"]
    wait_for(lambda: all((hang / f"rank{r}.json").exists() for r in (0, 1)), "the hanging job's ranks started")
    pids = [json.loads((hang / f"rank{r}.json").read_text())[key] for r in (0, 1) for key in ("pid", "ppid")]
    assert len(pids) == 4 and all(alive(p) for p in pids)
    cancelled = project.runx("cancel", "dist", hang.name)
    assert cancelled.returncode == 0, cancelled.stderr
    wait_for(lambda: not any(alive(p) for p in pids), f"every process of both nodes gone: {pids}", timeout=90)

    rows = wait_for(lambda: (lambda r: r if all(v[2] in ("succeeded", "failed", "cancelled") for v in r.values()) and
                             len(r) == 3 else None)(status_rows(project, "dist")), "all three runs ended")
    by_mode = {mode: rows[run.name] for mode, run in runs.items()}
    assert by_mode["ok"][2:4] == ["succeeded", "0"] and by_mode["ok"][-1] == "1", by_mode
    assert by_mode["fail"][2] == "failed" and by_mode["fail"][3] not in ("", "0"), by_mode
    assert by_mode["hang"][2] == "cancelled", by_mode

    ok = runs["ok"]
    assert events(ok) == ["queued", "submitted", "started", "finished"]  # written once, by the first node
    seen = [json.loads((ok / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [s["sum"] for s in seen] == [3.0, 3.0] and [s["world"] for s in seen] == [2, 2]
    assert sorted(s["env"]["SLURMD_NODENAME"] for s in seen) == ["n1", "n2"]
    assert [s["env"]["SLURM_NODEID"] for s in seen] == ["0", "1"]
    assert seen[0]["env"]["MASTER_PORT"] == seen[1]["env"]["MASTER_PORT"]
    records = [json.loads(x) for x in (ok / "metrics.jsonl").read_text().splitlines()]
    assert [r["metrics"] for r in records if "metrics" in r] == [{"sum": 3.0, "rank": 0.0}] * 3
    assert (ok / "logging.log").read_text() == "rank 0 of 2: sum 3.0\n"
    assert (ok / "logging.rank1.log").read_text() == "rank 1 of 2: sum 3.0\n"
    assert events(runs["fail"]) == ["queued", "submitted", "started", "finished"]


def test_two_node_srun_launcher_exports_the_ranks(project, cluster):
    (project.root / "train.py").write_text(SRUN_TRAIN)
    project.write(".runx", "LOGROOT: logs\nFARM: slurm\nslurm:\n  TYPE: slurm\n")
    project.write("ranks.yml", f"""\
        CMD: {sys.executable} train.py
        HPARAMS: {{lr: 0.1}}
        LAUNCHER: srun
        RESOURCES: {{nodes: 2, tasks_per_node: 2, time: 5}}
        """)
    done = project.runx("ranks.yml")
    assert done.returncode == 0, done.stderr
    [run] = project.runs("ranks")
    rows = wait_for(lambda: (lambda r: r if r[run.name][2] in ("succeeded", "failed") else None)(status_rows(project, "ranks")),
                    "the srun job ended", timeout=120)
    assert rows[run.name][2:4] == ["succeeded", "0"], (run / "status.log").read_text()
    seen = [json.loads((run / f"rank{r}.json").read_text()) for r in range(4)]
    assert [(s["RANK"], s["LOCAL_RANK"], s["WORLD_SIZE"], s["LOCAL_WORLD_SIZE"], s["NODE_RANK"]) for s in seen] == [
        (str(r), str(r % 2), "4", "2", str(r // 2)) for r in range(4)]
    assert [s["SLURMD_NODENAME"] for s in seen] == ["n1", "n1", "n2", "n2"]
    assert len({s["MASTER_ADDR"] for s in seen}) == 1 and seen[0]["MASTER_ADDR"]
    assert events(run) == ["queued", "submitted", "started", "finished"]
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["metrics"] for r in records if "metrics" in r] == [{"rank": 0.0}]
    assert os.path.exists(run / "sbatch.sh")
