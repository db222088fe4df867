"""Multi-node jobs on the real 2-node Slurm of .ci/slurm-multinode.sh, through runx (the py311-sched env).

torchrun on two nodes with a gloo all_reduce, logx writing from rank 0 only, one status line per
event, a failing rank failing the run, cancel ending both nodes' processes; the srun launcher's ranks; a 2-node
torchrun job past its 1-minute time limit resumed in attempts (the warning reaching torchrun's workers).
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

# A 2-node torchrun job with state: w grows by the all_reduce of ones (2 per step), rank 0's logx saves it
# when the warning comes (on_requeue) and at the end; every attempt resumes from the latest checkpoint.
RESUMING_TRAIN = textwrap.dedent("""
    import os, sys, time
    import torch, torch.distributed as dist
    from runx.logx import logx
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    total, fail_rank = int(args["--steps"]), int(args.get("--fail_rank", -1))
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    state = {"step": 0, "w": torch.zeros(2)}
    def save():
        logx.save_model({"state_dict": {"w": state["w"]}, "step": state["step"]}, metric=float(state["step"]),
                        epoch=state["step"])
    logx.initialize(on_requeue=save)
    checkpoint = logx.latest_checkpoint()
    if checkpoint:
        weights, meta = logx.load_model(checkpoint)
        state["step"], state["w"] = meta["step"], weights["w"]
        logx.msg(f"resumed at step {state['step']}, attempt {os.environ['RUNX_ATTEMPT']}")
    while state["step"] < total:
        if rank == fail_rank and state["step"] == 3:
            sys.exit(3)
        time.sleep(0.5)
        grad = torch.ones(2)
        dist.all_reduce(grad)
        state["w"] += grad
        state["step"] += 1
        logx.metric("train", {"w": state["w"][0].item(), "attempt": int(os.environ["RUNX_ATTEMPT"])}, epoch=state["step"])
    save()
    dist.destroy_process_group()
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


def test_two_node_torchrun_job_past_its_time_limit_resumes_in_attempts_and_a_failing_rank_is_not_requeued(project, cluster):
    """1-minute limit, warning 30 s before: each attempt trains for less than 30 s, so 60 steps of 0.5 s need a
    second attempt (a third under load). The warning goes batch shell -> srun -> every node's torchrun ->
    its workers; rank 0 saves and exits 75, the other rank is ended with the job."""
    require("torch")
    (project.root / "train.py").write_text(RESUMING_TRAIN)
    project.write(".runx", f"""\
        LOGROOT: logs
        FARM: slurm
        slurm:
          TORCHRUN: {sys.executable} -m torch.distributed.run
          SIGNAL: USR1@30
          RESOURCES: {{time: 1}}
        """)
    project.write("long.yml", f"""\
        CMD: {sys.executable} train.py
        HPARAMS:
          - {{steps: 60}}
          - {{steps: 60, fail_rank: 1}}
        RESOURCES: {{nodes: 2}}
        """)
    done = project.runx("long.yml")
    assert done.returncode == 0, done.stderr
    runs = {"fail_rank" in json.loads((r / "hparams.json").read_text()): r for r in project.runs("long")}
    long, failing = runs[False], runs[True]

    rows = wait_for(lambda: (lambda r: r if len(r) == 2 and all(v[2] in ("succeeded", "failed", "timeout", "cancelled")
                                                                 for v in r.values()) else None)(status_rows(project, "long")),
                    "both runs ended", timeout=400)
    text = (long / "status.log").read_text()
    assert rows[long.name][2:4] == ["succeeded", "0"], text
    attempts, interrupted = int(rows[long.name][-2]), int(rows[long.name][-1])
    # the last attempt may be warned too as it ends (then it still succeeds): at most one interruption more
    assert 2 <= attempts <= 3 and interrupted in (attempts - 1, attempts), text
    assert text.count("reason=timeout signal=USR1") == interrupted, text
    assert text.count("\nrequeue ") == attempts - 1, text  # rank 0's line, once per attempt (not one per rank)
    assert [line.split()[2] for line in text.splitlines() if line.startswith("finished")] == ["exit=75"] * (attempts - 1) + ["exit=0"]
    assert len(list(long.glob("slurm-*.out"))) == attempts

    records = [json.loads(x) for x in (long / "metrics.jsonl").read_text().splitlines()]
    metrics = [(r["step"], r["metrics"]) for r in records if "metrics" in r]
    assert [step for step, _ in metrics] == list(range(1, 61)), metrics  # continuous, no step twice
    assert [m["w"] for _, m in metrics] == [2.0 * step for step in range(1, 61)]  # the state resumed from the checkpoint
    per_attempt = [m["attempt"] for _, m in metrics]
    assert per_attempt == sorted(per_attempt) and set(per_attempt) == set(range(1, attempts + 1))
    import torch

    checkpoints = list(long.glob("*_checkpoint_ep*.pth"))
    assert checkpoints, sorted(p.name for p in long.iterdir())
    for checkpoint in checkpoints:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        assert saved["step"] == 60 and saved["state_dict"]["w"].tolist() == [120.0, 120.0]
    log = (long / "logging.log").read_text()
    assert log.count("resumed at step") == attempts - 1 and log.count("exiting 75") == attempts - 1, log

    failed = (failing / "status.log").read_text()
    assert rows[failing.name][2] == "failed" and rows[failing.name][3] not in ("", "0", "75"), failed
    assert rows[failing.name][-2:] == ["1", "0"] and "interrupted" not in failed and "requeue" not in failed, failed
