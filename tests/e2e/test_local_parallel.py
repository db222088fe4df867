"""Local parallel runs: the concurrency cap holds and no two concurrent jobs share a GPU slot."""
from __future__ import annotations

import json
import sys
import textwrap

from run_helpers import status_text

TRAIN = textwrap.dedent("""
    import json, os, sys, time
    start = time.time()
    time.sleep(0.6)
    print("visible", os.environ.get("CUDA_VISIBLE_DEVICES"))
    with open(os.path.join(os.environ["RUNX_LOGDIR"], "span.json"), "w") as f:
        json.dump({"start": start, "end": time.time(), "gpu": os.environ.get("CUDA_VISIBLE_DEVICES")}, f)
    sys.exit(int(sys.argv[sys.argv.index("--exit") + 1]))
""")


def spans(project, experiment):
    return [json.loads((r / "span.json").read_text()) for r in project.runs(experiment)]


def overlapping(spans_):
    pairs = []
    for i, a in enumerate(spans_):
        for b in spans_[i + 1:]:
            if a["start"] < b["end"] and b["start"] < a["end"]:
                pairs.append((a, b))
    return pairs


def max_concurrency(spans_):
    events = sorted([(s["start"], 1) for s in spans_] + [(s["end"], -1) for s in spans_])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_gpu_slots_are_never_shared(project):
    (project.root / "train.py").write_text(TRAIN)
    project.write("par.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  exit: [0, 0, 0, 3, 0, 0]\n")
    done = project.runx("par.yml", "-i", "-j", "4", "--gpus", "0,1")
    assert done.returncode == 1, done.stderr
    got = spans(project, "par")
    assert len(got) == 6 and {s["gpu"] for s in got} == {"0", "1"}
    assert max_concurrency(got) == 2
    assert all(a["gpu"] != b["gpu"] for a, b in overlapping(got))
    assert done.stdout.count("running on GPU") == 6 and done.stdout.count("failed with exit code 3") == 1
    assert all((r / "job.log").read_text().startswith("visible ") for r in project.runs("par"))


def test_jobs_per_gpu_and_plain_cap(project):
    (project.root / "train.py").write_text(TRAIN)
    project.write("per.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  exit: [0, 0, 0, 0]\n")
    done = project.runx("per.yml", "-i", "-j", "3", "--gpus", "7", "--jobs-per-gpu", "2")
    assert done.returncode == 0, done.stderr
    got = spans(project, "per")
    assert max_concurrency(got) == 2 and {s["gpu"] for s in got} == {"7"}
    project.write("cap.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  exit: [0, 0, 0, 0, 0]\n")
    done = project.runx("cap.yml", "-i", "-j", "3", env={"CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, done.stderr
    got = spans(project, "cap")
    assert max_concurrency(got) == 3 and {s["gpu"] for s in got} == {""}  # no GPUs: the environment is passed through untouched


def test_ctrl_c_stops_parallel_jobs_and_records_them_cancelled(project):
    import os
    import signal
    import subprocess
    import time

    (project.root / "train.py").write_text("import time, sys\ntime.sleep(300)\n")
    project.write("long.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1, 2, 3]\n")
    proc = subprocess.Popen([sys.executable, "-m", "runx.runx", "long.yml", "-i", "-j", "2"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        started = [r for r in project.runs("long") if "started" in status_text(r)]
        if len(started) == 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    from runx.core.status import read_status

    assert [read_status(r).state for r in project.runs("long")] == ["cancelled"] * 3
    pids = [int(f.split("=")[1]) for r in project.runs("long") for f in (r / "status.log").read_text().split() if f.startswith("pid=")]
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_runx_cancel_stops_a_local_run(project):
    import subprocess
    import time

    (project.root / "train.py").write_text("import time\ntime.sleep(300)\n")
    project.write("one.yml", f"CMD: '{sys.executable} train.py'\nHPARAMS:\n  n: [1, 2]\n")
    proc = subprocess.Popen([sys.executable, "-m", "runx.runx", "one.yml", "-i"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any("started" in status_text(r) for r in project.runs("one")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    first = next(r for r in project.runs("one") if "started" in status_text(r))
    done = project.runx("cancel", "one", first.name)
    assert done.returncode == 0, done.stderr
    assert f"{first.name}: cancelled" in done.stdout
    # the sequential launcher goes on to the next run; cancel that one too
    while sum("started" in status_text(r) for r in project.runs("one")) < 2:
        assert time.monotonic() < deadline + 30
        time.sleep(0.1)
    assert project.runx("cancel", "one").returncode == 0
    proc.communicate(timeout=60)
    status = project.runx("status", "one")
    rows = status.stdout.splitlines()[2:]
    assert len(rows) == 2 and all(" cancelled " in row and " failed " not in row for row in rows), status.stdout


def test_flags_that_do_nothing_here_are_named(project):
    project.write(".runx", "LOGROOT: logs\nFARM: w\nw:\n  SUBMIT_CMD: echo\n")
    project.write("exp.yml", "CMD: python train.py\nHPARAMS: {x: [1, 2]}\n")
    done = project.runx("exp.yml", "-n", "-j", "3", "--gpus", "0", "--array")
    assert done.returncode == 0 and done.stderr == "runx: warning: -j, --gpus, --array ignored on a generic farm\n"
    done = project.runx("exp.yml", "-n", "-i", "--array")
    assert done.returncode == 0 and done.stderr == "runx: warning: --array ignored here (-i)\n"
    done = project.runx("exp.yml", "-i", "-j", "2", "--gpus", "0,1,0")
    assert done.returncode == 2 and "GPU 0 listed more than once" in done.stderr and not project.logroot.exists()
    done = project.runx("exp.yml", "-i", "-j", "3", "--gpus", "0")
    assert done.returncode == 0 and "1 GPU(s) x 1 job(s) per GPU: at most 1 of -j 3 jobs run at once" in done.stderr
