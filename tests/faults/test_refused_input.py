"""Issue 14.11: input that used to escape as a traceback or a late failure is refused at once.

Each case is a real runx process: one `runx: error:` line, exit 2, nothing created, and cheap, measured
for that process alone (CPU seconds and peak memory, so a loaded machine cannot hide a blow-up).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CPU_LIMIT = 1.0  # seconds of CPU for a refusal, interpreter start-up included
# MiB of peak RSS. Far below what the refused inputs cost before (an alias bomb 1.8 GB, 10^12 runs 2.9 GB),
# above what a fork-started child is charged on Python < 3.11: its peak includes the pytest process it
# was forked from, until it execs.
RSS_LIMIT = 512

TRAIN = "import sys\nprint(sys.argv)\n"
GOOD = "CMD: python train.py\nHPARAMS: {lr: [0.1, 0.2]}\n"
BOMB = "CMD: python train.py\n" + "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)) + "HPARAMS: {x: *a9}\n"


def project(root: Path, runx: str, exp: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.py").write_text(TRAIN)
    (root / ".runx").write_text(runx)
    (root / "exp.yml").write_text(exp)
    return root


def refused(runx_process, root: Path, args: list, fragments: list, untouched: Path) -> str:
    before = sorted(os.listdir(untouched)) if untouched.exists() else None
    done, cpu, rss = runx_process(["exp.yml", *args], root)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("runx: error: "), done.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert (sorted(os.listdir(untouched)) if untouched.exists() else None) == before, "nothing may be created"
    assert cpu < CPU_LIMIT and rss < RSS_LIMIT, (cpu, rss)
    return lines[0]


@pytest.mark.parametrize("args, fragments", [
    (["--tag", "t" * 300], ["--tag", "at most 179 bytes", "300 bytes"]),
    (["--exp_name", "e" * 300], ["--exp_name", "at most 255 bytes", "300 bytes"]),
    (["--tag", "é" * 100], ["--tag", "200 bytes"]),  # bytes, not characters
    (["--no_cooldir", "--tag", "t" * 256], ["--tag", "at most 255 bytes"]),
])
def test_names_longer_than_the_file_system_allows(tmp_path, runx_process, args, fragments):
    root = project(tmp_path / "p", "LOGROOT: logs\n", GOOD)
    for extra in ([], ["-n"]):  # a dry run refuses them too
        refused(runx_process, root, args + extra, fragments, root)
    assert not (root / "logs").exists()


def test_a_run_tag_from_runx_tag_that_is_too_long(tmp_path, runx_process):
    root = project(tmp_path / "p", "LOGROOT: logs\n", "CMD: python train.py\nHPARAMS: {x: [a, " + "b" * 250 + "], RUNX.TAG: 't{x}'}\n")
    refused(runx_process, root, ["-i"], ["exp.yml: HPARAMS: RUNX.TAG", "251 bytes"], root)


@pytest.mark.parametrize("how", ["tmpfs remounted read-only", "read-only bind mount"])
def test_a_read_only_logroot(tmp_path, mounts, runx_process, how):
    if how == "tmpfs remounted read-only":
        logroot = mounts.tmpfs("1m")
        mounts.read_only(logroot)
    else:
        logroot = tmp_path / "logs"
        (logroot / "exp").mkdir(parents=True)  # the experiment exists; its new runs cannot be made
        mounts.bind_read_only(logroot)
    root = project(tmp_path / "p", f"LOGROOT: {logroot}\n", GOOD)
    line = refused(runx_process, root, ["-i"], ["read-only file system", "expected a writable LOGROOT"], logroot)
    assert "Traceback" not in line


def test_a_line_break_in_logroot_on_slurm(tmp_path, runx_process):
    root = project(tmp_path / "p", "LOGROOT: \"logs\\nx\"\nFARM: slurm\nslurm:\n  SUBMIT_CMD: sbatch\n", GOOD)
    for extra in ([], ["-n"]):
        refused(runx_process, root, extra, [".runx: LOGROOT", "line breaks", "'", "logs\\nx"], root)
    assert sorted(os.listdir(root)) == [".runx", "exp.yml", "train.py"]


@pytest.mark.parametrize("exp, fragments", [
    ("CMD: python train.py\nSWEEP: {trials: 1000000000000}\nHPARAMS: {lr: {uniform: [0, 1]}}\n",
     ["exp.yml: HPARAMS: the sweep has 1,000,000,000,000 runs", "at most 100,000", "--max-runs"]),
    ("CMD: python train.py\nHPARAMS:\n" + "".join(f"  k{i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for i in range(12)),
     ["the sweep has 1,000,000,000,000 runs"]),
    ("CMD: python train.py\nHPARAMS: {a: [1, 2], RUNX.REPLICAS: 100000000}\n", ["the sweep has 200,000,000 runs"]),
    ("CMD: python train.py\nHPARAMS:\n  - {a: [1, 2, 3], RUNX.TRIALS: 50000, b: {randint: [0, 9]}}\n  - {a: 1, RUNX.SKIP: true}\n",
     ["the sweep has 150,000 runs"]),
])
def test_a_sweep_too_big_is_counted_not_expanded(tmp_path, runx_process, exp, fragments):
    root = project(tmp_path / "p", "LOGROOT: logs\n", exp)
    for extra in (["-n"], ["-i"]):
        refused(runx_process, root, extra, fragments, root)


def test_max_runs_raises_and_lowers_the_limit(tmp_path, runx_process):
    exp = "CMD: python train.py\nHPARAMS: {a: [1, 2, 3], RUNX.TRIALS: 40000, b: {randint: [0, 9]}}\n"
    root = project(tmp_path / "p", "LOGROOT: logs\n", exp)
    refused(runx_process, root, ["-n"], ["120,000 runs", "at most 100,000"], root)
    done, _, _ = runx_process(["exp.yml", "-n", "--max-runs", "120000"], root)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 120000, done.stderr
    refused(runx_process, root, ["-n", "--max_runs", "119999"], ["at most 119,999"], root)
    root2 = project(tmp_path / "q", "LOGROOT: logs\n", GOOD)
    refused(runx_process, root2, ["-i", "--max-runs", "1"], ["the sweep has 2 runs; expected at most 1"], root2)


def test_a_yaml_alias_bomb(tmp_path, runx_process):
    root = project(tmp_path / "p", "LOGROOT: logs\n", BOMB)
    line = refused(runx_process, root, ["-n"], ["exp.yml:", "malformed YAML", "alias", "more than 100,000"], root)
    assert len(line) < 300  # the expansion is never formatted
    root = project(tmp_path / "r", "LOGROOT: logs\n", "CMD: python train.py\nHPARAMS: &h {x: [1], y: *h}\n")
    refused(runx_process, root, ["-n"], ["exp.yml:2:10:", "refers to the node that contains it"], root)
    (root / ".runx").write_text(BOMB.replace("CMD: python train.py\n", "LOGROOT: logs\n").replace("HPARAMS", "other"))
    (root / "exp.yml").write_text(GOOD)
    refused(runx_process, root, ["-n"], [".runx:", "alias"], root)
