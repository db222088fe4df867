"""Issue 14.10: staging is all or nothing, whatever goes wrong.

Real faults only: a small tmpfs that runs out of bytes or inodes at every point of a launch, a thread
deleting the project's files while runx copies them, SIGKILL of a real runx mid-staging, and runx
started from inside its own experiment directory. After each, a run directory is complete, or shown by
`runx status` as staging (its runx is alive) or failed-to-stage, or gone; never half-made and invisible.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TRAIN = "import sys\nprint(sys.argv)\n"
FARM = "FARM: w\nw:\n  SUBMIT_CMD: 'true'\n"  # a farm that accepts every job and runs none
EXP = "CMD: python train.py\nHPARAMS: {lr: [0.1, 0.2]}\n"


def make_project(root: Path, logroot: str, files: int = 0, per_dir: int = 100, size: int = 64) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text(TRAIN)
    (root / ".runx").write_text(f"LOGROOT: {logroot}\n{FARM}")
    (root / "exp.yml").write_text(EXP)
    for i in range(files):
        d = root / "data" / f"d{i // per_dir:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.py").write_text(f"{i:05d}" * (size // 5))
    return root


def runx(root: Path, *args: str, cwd: Path = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runx.runx", *(args or ["exp.yml"])], cwd=cwd or root, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def status(root: Path, exp_dir: Path) -> dict:
    """run name -> state, from `runx status` (a real process)."""
    done = subprocess.run([sys.executable, "-m", "runx.runx", "status", str(exp_dir)], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    header, _, *rows = done.stdout.splitlines()
    at = header.index("state")
    return {row.split()[0]: row[at:].split()[0] for row in rows if row.strip()}


def assert_all_or_nothing(exp_dir: Path, runs_per_launch: int = 2) -> int:
    """Every run directory is complete; the number of them."""
    if not exp_dir.exists():
        return 0
    runs = [p for p in exp_dir.iterdir()]
    for run in runs:
        assert run.is_dir() and not (run / "staging.json").exists(), run
        record = json.loads((run / "run.json").read_text())
        assert record["run"] == run.name and (run / "code" / "train.py").read_text() == TRAIN
        assert (run / "status.log").read_text().startswith("queued ")
        assert json.loads((run / "hparams.json").read_text())["lr"] in (0.1, 0.2)
    assert len(runs) % runs_per_launch == 0
    return len(runs)


def test_disk_full_during_staging_removes_what_the_launch_made(tmp_path, mounts):
    logroot = mounts.tmpfs("256k")
    root = make_project(tmp_path / "p", str(logroot))
    (root / "weights.bin").write_bytes(os.urandom(1024 * 1024))
    done = runx(root)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "No space left on device while this launch staged its runs; removed the 1 run directory" in lines[0]
    assert os.listdir(logroot) == []  # the experiment directory it made is gone too
    (root / "weights.bin").unlink()  # space comes back: the same launch works
    done = runx(root)
    assert done.returncode == 0, done.stderr
    assert assert_all_or_nothing(logroot / "exp") == 2


def test_running_out_of_inodes_or_bytes_at_every_point_of_a_launch(tmp_path, mounts):
    """Raise the tmpfs's limit one inode (one page) at a time, so the launch fails at each of its writes
    in turn: mkdir, the marker, the snapshot, hparams.json, the scripts, run.json, status.log."""
    root = make_project(tmp_path / "p", "", files=6, per_dir=3, size=100)
    outcomes = {"inodes": [], "bytes": []}
    for kind in outcomes:
        logroot = mounts.tmpfs("4m" if kind == "inodes" else "4k", inodes=2 if kind == "inodes" else None, name=kind)
        (root / ".runx").write_text(f"LOGROOT: {logroot}\n{FARM}")
        successes, limit = 0, 1
        while successes < 2:
            limit += 1
            if kind == "inodes":
                mounts.resize(logroot, inodes=limit)
            else:
                mounts.resize(logroot, size=f"{4 * limit}k")
            done = runx(root)
            if done.returncode == 0:
                successes += 1
                assert assert_all_or_nothing(logroot / "exp") == 2
                shutil.rmtree(logroot / "exp")
            else:
                successes = 0
                lines = done.stderr.splitlines()
                assert done.returncode == 2 and len(lines) == 1 and "No space left on device" in lines[0], done.stderr
                assert os.listdir(logroot) == [], (kind, limit, list(logroot.rglob("*")))
            outcomes[kind].append(done.returncode)
            assert limit < 200
    failures = {k: v.count(2) for k, v in outcomes.items()}
    print(f"tries {sum(map(len, outcomes.values()))}: disk-full failures {failures}, each left nothing behind")
    assert failures["inodes"] >= 10 and failures["bytes"] >= 5, outcomes


def expected_text(rel: str) -> str:
    """What make_project wrote into a file."""
    return TRAIN if rel == "train.py" else Path(rel).stem[1:] * (64 // 5)


def delete_when_staging_starts(root: Path, exp_dir: Path, deleted: set, started: threading.Event) -> None:
    """As soon as a run's code/ exists, delete the project's data: every other directory whole, half the
    files of the rest; `deleted` gets the relative path of every file removed."""
    deadline = time.monotonic() + 60
    while not list(exp_dir.glob("*/code")) and time.monotonic() < deadline:
        time.sleep(0.0005)
    started.set()
    for n, d in enumerate(sorted((root / "data").iterdir(), reverse=True)):
        files = sorted(d.iterdir())
        if n % 2:
            deleted.update(str(f.relative_to(root)) for f in files)
            shutil.rmtree(d)
            continue
        for f in files[::2]:
            deleted.add(str(f.relative_to(root)))
            f.unlink()


def test_files_deleted_while_they_are_staged_are_skipped_with_a_warning(tmp_path):
    """A thread deletes the project's data (files, and whole directories) as soon as runx starts copying."""
    vanished_total, tries = 0, 4
    for attempt in range(tries):
        root = make_project(tmp_path / f"p{attempt}", "logs", files=600, per_dir=60)
        original = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        exp_dir = root / "logs" / "exp"
        deleted: set = set()
        started = threading.Event()
        deleter = threading.Thread(target=delete_when_staging_starts, args=(root, exp_dir, deleted, started))
        deleter.start()
        done = runx(root)
        deleter.join()
        assert started.is_set() and done.returncode == 0, done.stderr
        warnings = [line for line in done.stderr.splitlines() if "vanished while the code was staged" in line]
        assert len(warnings) <= 1 and done.stderr.count("\n") == len(warnings), done.stderr
        vanished_total += int(warnings[0].split("warning: ")[1].split()[0]) if warnings else 0
        assert assert_all_or_nothing(exp_dir) == 2
        for run in exp_dir.iterdir():
            staged = {str(p.relative_to(run / "code")) for p in (run / "code").rglob("*") if p.is_file()}
            assert staged <= original and original - deleted <= staged, sorted(original - deleted - staged)[:5]
            for rel in (r for r in staged if r.startswith("data/")):
                assert (run / "code" / rel).read_text() == expected_text(rel), rel
    print(f"{tries} launches raced by a deleter: {vanished_total} files or directories vanished mid-copy, every launch succeeded")
    assert vanished_total > 0, "the deleter never overtook the copy: the test did not test anything"


def launch_in_background(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "runx.runx", "exp.yml"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def test_sigkill_during_staging_shows_failed_to_stage(tmp_path):
    root = make_project(tmp_path / "p", "logs", files=6000)
    exp_dir = root / "logs" / "exp"
    proc = launch_in_background(root)
    try:
        deadline = time.monotonic() + 60
        while not list(exp_dir.glob("*/code/data/*/*")) and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGSTOP)  # frozen mid-staging, still alive
        assert list(status(root, exp_dir).values()) == ["staging"]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    states = status(root, exp_dir)
    assert list(states.values()) == ["failed-to-stage"], states
    done = runx(root)  # the next launch is unaffected, and the dead one stays visible
    assert done.returncode == 0, done.stderr
    states = status(root, exp_dir)
    assert sorted(states.values()) == ["failed-to-stage", "queued", "queued"], states


def test_sigkill_at_random_points_of_staging_leaves_nothing_invisible(tmp_path):
    root = make_project(tmp_path / "p", "logs", files=400)
    (root / "exp.yml").write_text("CMD: python train.py\nHPARAMS: {lr: [0.1, 0.2, 0.3]}\n")
    exp_dir = root / "logs" / "exp"
    rng = random.Random(14)
    tries, outcomes = 12, {"failed-to-stage": 0, "complete": 0, "not started": 0}
    for i in range(tries):
        proc = launch_in_background(root)
        if i % 2:
            time.sleep(rng.uniform(0.1, 2.5))  # anywhere in the launch
        else:  # inside staging for sure: once a run's staging marker exists, however fast the machine is
            deadline = time.monotonic() + 30
            while not any(exp_dir.glob("*/staging.json")) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
        states = status(root, exp_dir) if exp_dir.exists() else {}
        on_disk = {p.name for p in exp_dir.iterdir()} if exp_dir.exists() else set()
        invisible = {n for n in on_disk - set(states) if os.listdir(exp_dir / n)}
        assert not invisible, invisible
        for name in on_disk:
            complete = (exp_dir / name / "run.json").exists() and not (exp_dir / name / "staging.json").exists()
            assert complete or states[name] == "failed-to-stage", (name, states.get(name))
        outcomes["failed-to-stage"] += list(states.values()).count("failed-to-stage")
        outcomes["complete"] += sum(s != "failed-to-stage" for s in states.values())
        outcomes["not started"] += not on_disk
        shutil.rmtree(exp_dir, ignore_errors=True)
    print(f"{tries} SIGKILLs of runx: run directories {outcomes}; none half-made and invisible")
    assert outcomes["failed-to-stage"] > 0


def test_runx_started_inside_its_experiment_directory_copies_no_run(tmp_path):
    root = make_project(tmp_path / "p", "logs")
    assert runx(root).returncode == 0
    exp_dir = root / "logs" / "exp"
    first = sorted(exp_dir.iterdir())
    inside_a_run = runx(root, str(root / "exp.yml"), "-c", str(root / ".runx"), cwd=first[0])
    assert inside_a_run.returncode == 2 and "runx was started inside a run directory" in inside_a_run.stderr
    assert inside_a_run.stderr.count("\n") == 1 and sorted(exp_dir.iterdir()) == first
    for cwd in (exp_dir, root / "logs", first[0] / "code"):
        started = time.monotonic()
        done = runx(root, str(root / "exp.yml"), "-c", str(root / ".runx"), cwd=cwd)
        assert done.returncode == 0 and time.monotonic() - started < 30, done.stderr
        new = sorted(set(exp_dir.iterdir()) - set(first))
        assert len(new) == 2
        for run in new:
            code = run / "code"
            inside = [p for p in code.rglob("*") if p.name in ("run.json", "staging.json", "status.log")]
            assert not inside, inside[:3]
            assert not any(p.name == "exp" for p in code.rglob("*")), "the experiment directory was copied"
            if cwd == first[0] / "code":
                assert (code / "train.py").read_text() == TRAIN
        first = sorted(exp_dir.iterdir())
