"""runx.core.farms.slurm_nodes: multi-node layouts, their sbatch options, and the launch command run by a real sh."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from runx.core.errors import RunxError
from runx.core.farms import slurm
from runx.core.farms.slurm_nodes import (
    NodeLayout,
    launch_command,
    node_layout,
    node_options,
    rendezvous_lines,
    torchrun_signal_env,
)


@pytest.mark.parametrize(
    "resources, launcher, expected",
    [
        ({}, None, None),
        ({"nodes": 1, "cpu": 4}, None, None),
        ({"nodes": 2}, None, NodeLayout(2, 1, "torchrun")),
        ({"nodes": "3", "gpus_per_node": 8}, None, NodeLayout(3, 8, "torchrun", 8)),
        ({"NODES": 2, "tasks_per_node": 4, "gpus_per_node": 8}, "srun", NodeLayout(2, 4, "srun", 8)),
        ({"nodes": 2, "gpus_per_node": 0}, "srun", NodeLayout(2, 1, "srun")),
        ({"gpus_per_node": 4}, None, NodeLayout(1, 4, "none", 4)),
        ({"nodes": 1, "tasks_per_node": 2}, "TorchRun", NodeLayout(1, 2, "torchrun")),
        ({"nodes": 2}, "none", NodeLayout(2, 1, "none")),
    ],
)
def test_node_layout(resources, launcher, expected):
    assert node_layout(resources, launcher) == expected


@pytest.mark.parametrize(
    "resources, launcher, message",
    [
        ({"nodes": 0}, None, r"^\.runx: slurm\.RESOURCES\.nodes: expected a whole number of at least 1, found 0$"),
        ({"nodes": True}, None, "RESOURCES.nodes: expected a whole number"),
        ({"nodes": 2.5}, None, "RESOURCES.nodes: expected a whole number"),
        ({"tasks_per_node": "two"}, None, "RESOURCES.tasks_per_node: expected"),
        ({"gpus_per_node": -1}, None, "RESOURCES.gpus_per_node: expected"),
        ({"nodes": 2}, "mpirun", r"slurm\.LAUNCHER: expected one of torchrun, srun, none, found 'mpirun'"),
        ({"nodes": 2, "tasks_per_node": 2}, "none", "LAUNCHER: none starts one process"),
    ],
)
def test_node_layout_refuses_with_the_key(resources, launcher, message):
    with pytest.raises(RunxError, match=message):
        node_layout(resources, launcher, where=".runx: slurm.")


def test_node_options():
    assert node_options(NodeLayout(2, 8, "torchrun", 8)) == ["--nodes=2", "--ntasks-per-node=1", "--gpus-per-node=8"]
    assert node_options(NodeLayout(4, 2, "srun")) == ["--nodes=4", "--ntasks-per-node=2"]


FAKE_SRUN = """#!/bin/sh
# Runs its command once per task as srun would, with the task's Slurm variables.
nodes=2; per=1
for a in "$@"; do
  case "$a" in --nodes=*) nodes=${a#--nodes=};; --ntasks-per-node=*) per=${a#--ntasks-per-node=};; -*) ;; *) break;; esac
  shift
done
i=0
while [ $i -lt $((nodes * per)) ]; do
  SLURM_PROCID=$i SLURM_LOCALID=$((i % per)) SLURM_NODEID=$((i / per)) SLURM_NTASKS=$((nodes * per)) \\
  SLURM_NTASKS_PER_NODE=$per "$@" || exit $?
  i=$((i + 1))
done
"""

RECORD = """import json, os, sys
names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "NODE_RANK", "SLURM_NODEID")
with open(os.environ["OUT"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "env": {n: os.environ.get(n) for n in names}}) + "\\n")
"""


def _run_launch(tmp_path: Path, layout: NodeLayout, command: str, warning=None) -> list:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text(FAKE_SRUN)
    (bin_dir / "srun").chmod(0o755)
    (tmp_path / "record.py").write_text(RECORD)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "OUT": str(out), "MASTER_ADDR": "10.0.0.1",
           "MASTER_PORT": "15042"}
    line = launch_command(layout, command, warning)
    done = subprocess.run(["sh", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(x) for x in out.read_text().splitlines()]


def test_srun_launcher_exports_the_ranks_and_keeps_every_argument(tmp_path):
    odd = "it's a \"b\" $HOME `x` \\ ;|"
    command = f"{sys.executable} record.py --name {slurm.shlex.quote(odd)} --lr 0.1"
    seen = _run_launch(tmp_path, NodeLayout(2, 2, "srun"), command)
    assert [s["argv"] for s in seen] == [["--name", odd, "--lr", "0.1"]] * 4
    assert [s["env"] for s in seen] == [
        {"RANK": str(r), "LOCAL_RANK": str(r % 2), "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2", "NODE_RANK": str(r // 2),
         "SLURM_NODEID": str(r // 2)} for r in range(4)]


def test_torchrun_launcher_starts_one_torchrun_per_node_with_its_node_rank(tmp_path):
    fake = tmp_path / "torchrun.py"  # records torchrun's own argv, then runs the worker command once
    fake.write_text("import json, os, subprocess, sys\n"
                    "with open(os.environ['OUT'], 'a') as f:\n"
                    "    f.write(json.dumps({'argv': sys.argv[1:], 'env': {}}) + '\\n')\n"
                    "i = sys.argv.index('--no-python')\n"
                    "sys.exit(subprocess.call(sys.argv[i + 1:]))\n")
    layout = NodeLayout(2, 4, "torchrun", 4, f"{sys.executable} {fake}")
    seen = _run_launch(tmp_path, layout, f"{sys.executable} record.py --x 'a b'")
    agents = [s["argv"] for s in seen if "--nnodes=2" in s["argv"]]
    assert agents == [["--nnodes=2", f"--node-rank={n}", "--nproc-per-node=4", "--master-addr=10.0.0.1",
                       "--master-port=15042", "--no-python", "sh", "-c", f"{sys.executable} record.py --x 'a b'"]
                      for n in (0, 1)]
    assert [s["argv"] for s in seen if "--nnodes=2" not in s["argv"]] == [["--x", "a b"]] * 2


def test_rendezvous_lines_take_the_first_nodes_address(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text('#!/bin/sh\n[ "$2" = hostnames ] && { echo n7; echo n8; exit 0; }\n'
                                      'echo "NodeName=$3 Arch=x86_64 CoresPerSocket=1"\n'
                                      'echo "   NodeAddr=192.168.1.$(echo $3 | tr -d n) NodeHostName=h"\n')
    (bin_dir / "scontrol").chmod(0o755)
    script = "\n".join(rendezvous_lines()) + '\necho "$MASTER_ADDR $MASTER_PORT"\n'
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_NODELIST": "n[7-8]", "SLURM_JOB_ID": "123456"}
    done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["192.168.1.7", str(15000 + 123456 % 15000)], done.stderr


def test_dry_run_shows_the_exact_batch_script(tmp_path):
    (tmp_path / "train.py").write_text("")
    (tmp_path / ".runx").write_text("LOGROOT: logs\nFARM: slurm\nslurm:\n  TORCHRUN: python3 -m torch.distributed.run\n")
    (tmp_path / "dist.yml").write_text("CMD: python train.py\nHPARAMS: {lr: 0.1}\nRESOURCES: {nodes: 2, gpus_per_node: 4, cpu: 8}\n")
    done = subprocess.run([sys.executable, "-m", "runx.runx", "dist.yml", "-n", "-v"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "# torchrun on 2 node(s), 4 process(es) each" in done.stdout
    shown = done.stdout.split("    # sbatch.sh:\n", 1)[1]
    script = "".join(line[4:] + "\n" for line in shown.splitlines())
    assert "#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n#SBATCH --gpus-per-node=4\n#SBATCH --cpus-per-task=8\n" in script
    assert "#SBATCH --signal=B:USR1@90\n" in script  # the time limit's warning (runx.core.farms.slurm_requeue)
    assert "\n".join(rendezvous_lines()) + "\n# runx: USR1 before the time limit" in script
    assert script.endswith('exit "$runx_rc"\n')
    assert not (tmp_path / "logs").exists()
    bad = tmp_path / "bad.yml"
    bad.write_text("CMD: python train.py\nHPARAMS: {lr: 0.1}\nRESOURCES: {nodes: 2}\nLAUNCHER: mpirun\n")
    done = subprocess.run([sys.executable, "-m", "runx.runx", "bad.yml", "-n"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "LAUNCHER: expected one of torchrun, srun, none, found 'mpirun'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_with_the_warning_torchrun_is_told_to_pass_it_on_to_its_workers(tmp_path):
    """torchrun's agent dies of USR1 unless PET_SIGNALS_TO_HANDLE lists it; then it sends it to its workers
    and waits PET_SHUTDOWN_TIMEOUT (the warning's seconds) for them to save."""
    assert torchrun_signal_env("USR1@90") == "PET_SIGNALS_TO_HANDLE=SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1 PET_SHUTDOWN_TIMEOUT=90"
    assert torchrun_signal_env("SIGTERM@30") == "PET_SIGNALS_TO_HANDLE=SIGTERM,SIGINT,SIGHUP,SIGQUIT PET_SHUTDOWN_TIMEOUT=30"
    fake = tmp_path / "torchrun.py"
    fake.write_text("import json, os, sys\n"
                    "with open(os.environ['OUT'], 'a') as f:\n"
                    "    f.write(json.dumps({'argv': sys.argv[1:3], 'env': {k: v for k, v in os.environ.items()"
                    " if k.startswith('PET_')}}) + '\\n')\n")
    layout = NodeLayout(2, 1, "torchrun", None, f"{sys.executable} {fake}")
    seen = _run_launch(tmp_path, layout, "true", warning="USR1@45")
    assert [s["env"] for s in seen] == [{"PET_SIGNALS_TO_HANDLE": "SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1",
                                         "PET_SHUTDOWN_TIMEOUT": "45"}] * 2
    assert "PET_" not in launch_command(layout, "true")
