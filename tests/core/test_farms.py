"""runx.core.farms: the registry, a farm rebuilt from a real run's run.json, and the batched query
(one squeue call for every open Slurm run, counted through a wrapper in front of the real squeue)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from runx.core.errors import RunxError
from runx.core.farms import BUILTIN, Farm, farm_for_record, infer_kind, known_kinds, lookup, register
from runx.core.farms.generic import GenericFarm
from runx.core.farms.local import LocalFarm
from runx.core.farms.ngc import NgcFarm
from runx.core.farms.sge import SgeFarm
from runx.core.farms.slurm import SlurmFarm
from runx.core.ledger import read_ledger
from runx_testing import require

BUILTIN_CLASSES = {"local": LocalFarm, "generic": GenericFarm, "ngc": NgcFarm, "slurm": SlurmFarm, "sge": SgeFarm}


def test_each_builtin_kind_is_one_registered_class():
    assert set(BUILTIN) == set(BUILTIN_CLASSES)
    for kind, cls in BUILTIN_CLASSES.items():
        assert lookup(kind) is cls and cls.kind == kind
    assert set(BUILTIN) <= set(known_kinds())


def test_register_adds_a_kind_and_refuses_what_is_not_a_farm():
    @register
    class Spool(Farm):
        kind = "test-spool"

    assert lookup("test-spool") is Spool and "test-spool" in known_kinds()
    with pytest.raises(TypeError):
        register(int)
    with pytest.raises(TypeError):
        register(type("NoKind", (Farm,), {}))
    with pytest.raises(RunxError, match="unknown farm type 'nope'; expected one of local|unknown farm type 'nope'"):
        lookup("nope")


@pytest.mark.parametrize("name, submit_cmd, kind", [
    ("ngc", "", "ngc"), ("cluster", "ngc batch run --ace x", "ngc"), ("slurm", "", "slurm"),
    ("big", "sbatch -p x", "slurm"), ("local", "", "local"), ("farm", "submit_job", "generic"),
])
def test_a_section_without_type_is_claimed_by_its_kind(name, submit_cmd, kind):
    assert infer_kind(name, submit_cmd) == kind


def _launch(root: Path, config: str, *args: str) -> subprocess.CompletedProcess:
    (root / "train.py").write_text("import sys; sys.exit(0)\n")
    (root / ".runx").write_text(textwrap.dedent(config))
    (root / "exp.yml").write_text("CMD: python train.py\nHPARAMS:\n  lr: [0.1, 0.2]\n")
    return subprocess.run([sys.executable, "-m", "runx.runx", "exp.yml", *args], cwd=root, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("config, args, cls", [
    ("LOGROOT: logs\n", ["-i"], LocalFarm),
    ("LOGROOT: logs\nFARM: f\nf:\n  SUBMIT_CMD: \"sh -c 'echo Job id: 5' x\"\n", [], GenericFarm),
])
def test_a_farm_is_rebuilt_from_the_run_json_a_launch_wrote(tmp_path, config, args, cls):
    done = _launch(tmp_path, config, *args)
    assert done.returncode == 0, done.stderr
    runs = sorted((tmp_path / "logs" / "exp").iterdir())
    assert len(runs) == 2
    for run in runs:
        record = json.loads((run / "run.json").read_text())
        farm = farm_for_record(record["farm"])
        assert type(farm) is cls and farm.kind == record["farm"]["type"] and farm.farm.name == record["farm"]["name"]
        assert farm.farm.submit_cmd == (record["farm"]["submit_cmd"] or "")


def test_a_record_without_farm_is_local_and_a_bad_one_is_a_runx_error():
    assert type(farm_for_record(None)) is LocalFarm  # runs of runx 0.0.11 and runs whose run.json says nothing
    for bad in ("local", ["local"], {"type": 3}, {"type": "nope"}):
        with pytest.raises(RunxError):
            farm_for_record(bad)


def test_generic_farm_cannot_cancel_and_says_so(tmp_path):
    done = _launch(tmp_path, "LOGROOT: logs\nFARM: f\nf:\n  SUBMIT_CMD: \"sh -c 'echo Job id: 5' x\"\n")
    assert done.returncode == 0, done.stderr
    entries = read_ledger(tmp_path / "logs" / "exp")
    farm = farm_for_record(entries[0].record["farm"])
    problems = farm.cancel(entries)
    assert set(problems) == {e.run_dir for e in entries}
    assert all("has no cancel command; cancel job 5" in p for p in problems.values())


def test_slurm_status_of_many_runs_is_one_squeue_call(tmp_path):
    require("slurm")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "squeue.calls"
    real = subprocess.run(["sh", "-c", "command -v squeue"], capture_output=True, text=True).stdout.strip()
    wrapper = bin_dir / "squeue"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    (tmp_path / "train.py").write_text("import time; time.sleep(60)\n")
    (tmp_path / ".runx").write_text("LOGROOT: logs\nFARM: slurm\nslurm:\n  RESOURCES:\n    cpu: 1\n    mem: 0.1\n")
    (tmp_path / "exp.yml").write_text("CMD: python train.py\nHPARAMS:\n  lr: [1, 2, 3, 4]\n")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "runx.runx", "exp.yml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    job_ids = {json.loads((r / "run.json").read_text())["job_id"] for r in (tmp_path / "logs" / "exp").iterdir()}
    try:
        calls.unlink(missing_ok=True)
        status = subprocess.run([sys.executable, "-m", "runx.runx", "status", "exp", "--logroot", str(tmp_path / "logs")],
                                capture_output=True, text=True, timeout=120, env=env)
        assert status.returncode == 0, status.stderr
        rows = status.stdout.splitlines()[2:]
        assert len(rows) == 4 and all(" slurm " in r for r in rows)
        # runx's calls (a job that started meanwhile asks squeue for its own time left: not runx's call)
        lines = [line for line in calls.read_text().splitlines() if not line.startswith("-h -j ")]
        assert len(lines) == 1, lines  # one batched call for the four runs
        assert len(job_ids) == 4 and all(j in lines[0] for j in job_ids)
    finally:
        subprocess.run(["scancel", *job_ids], capture_output=True, timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and subprocess.run(
                ["squeue", "-h", "-t", "PD,R,CG", f"--jobs={','.join(job_ids)}"], capture_output=True, text=True).stdout.strip():
            time.sleep(0.5)
