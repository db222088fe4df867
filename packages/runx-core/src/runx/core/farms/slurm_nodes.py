"""Multi-node Slurm jobs: RESOURCES `nodes`, `gpus_per_node`, `tasks_per_node` and the LAUNCHER.

One job spans N nodes. The batch script runs on the first node (so `status.log` gets one `started`
and one `finished` line), works out the rendezvous address (the first node's NodeAddr, since node
names need not resolve) and a port derived from the job id, then the job script starts the processes:

- `LAUNCHER: torchrun` (the default for nodes > 1): `srun` starts one torchrun per node with
  `--nnodes`, `--node-rank` from SLURM_NODEID, `--nproc-per-node`, the rendezvous address and port;
  torchrun sets RANK, LOCAL_RANK, WORLD_SIZE for each process.
- `LAUNCHER: srun`: `srun` starts every process itself, and exports RANK, LOCAL_RANK, WORLD_SIZE,
  LOCAL_WORLD_SIZE and NODE_RANK from Slurm's SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS, ...
- `LAUNCHER: none`: the command runs once, on the first node, as for a one-node job.

Pure functions: the options, the batch script's lines and the launch command (tests/core/test_slurm_nodes.py).
"""
from __future__ import annotations

import shlex
from typing import Any, List, Mapping, NamedTuple, Optional

from runx.core.errors import RunxError

__all__ = ["LAUNCHERS", "NODE_KEYS", "NodeLayout", "node_layout", "node_options", "rendezvous_lines", "launch_command",
           "check_launcher", "torchrun_signal_env"]

LAUNCHERS = ("torchrun", "srun", "none")
NODE_KEYS = ("nodes", "gpus_per_node", "tasks_per_node")
"""RESOURCES keys this module turns into options (matched case-insensitively)."""
PORT_BASE = 15000
PORT_SPAN = 15000
"""MASTER_PORT is PORT_BASE + job id % PORT_SPAN: below Linux's ephemeral ports (32768 and up)."""


class NodeLayout(NamedTuple):
    """How a job's processes are laid out: nodes, processes per node, and who starts them."""

    nodes: int
    per_node: int
    launcher: str
    gpus_per_node: Optional[int] = None
    torchrun: str = "torchrun"


def _count(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise RunxError(f"{where}RESOURCES.{key}: expected a whole number of at least 1, found {value!r}")
    number = int(value)
    if number < 1:
        raise RunxError(f"{where}RESOURCES.{key}: expected a whole number of at least 1, found {value!r}")
    return number


def check_launcher(value: Any, where: str) -> Optional[str]:
    """LAUNCHER as given (torchrun, srun or none; None when not given), else RunxError naming the key."""
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().lower() not in LAUNCHERS:
        raise RunxError(f"{where}LAUNCHER: expected one of {', '.join(LAUNCHERS)}, found {value!r}")
    return value.strip().lower()


def node_layout(resources: Mapping[str, Any], launcher: Optional[str], torchrun: str = "torchrun",
                where: str = "") -> Optional[NodeLayout]:
    """The layout RESOURCES and LAUNCHER ask for, or None for a plain job (one node, no launcher).

    `where` prefixes messages (`.runx: slurm.`). Processes per node: tasks_per_node, else
    gpus_per_node, else 1.
    """
    found = {key.lower(): value for key, value in resources.items() if isinstance(key, str) and key.lower() in NODE_KEYS}
    found = {key: value for key, value in found.items()
             if value is not None and value is not False and not (key == "gpus_per_node" and value in (0, "0"))}
    nodes = _count(found["nodes"], "nodes", where) if "nodes" in found else 1
    gpus = _count(found["gpus_per_node"], "gpus_per_node", where) if "gpus_per_node" in found else None
    tasks = _count(found["tasks_per_node"], "tasks_per_node", where) if "tasks_per_node" in found else None
    chosen = check_launcher(launcher, where) or ("torchrun" if nodes > 1 else "none")
    if chosen == "none" and nodes == 1 and tasks is None and gpus is None:
        return None
    per_node = tasks or gpus or 1
    if chosen == "none" and tasks is not None and nodes > 1:
        raise RunxError(f"{where}LAUNCHER: none starts one process on the first node; tasks_per_node needs torchrun or srun")
    return NodeLayout(nodes, per_node, chosen, gpus, torchrun)


def node_options(layout: NodeLayout) -> List[str]:
    """The sbatch options of a layout: nodes, tasks per node (one torchrun per node), GPUs per node."""
    tasks = layout.per_node if layout.launcher == "srun" else 1
    options = [f"--nodes={layout.nodes}", f"--ntasks-per-node={tasks}"]
    if layout.gpus_per_node is not None:
        options.append(f"--gpus-per-node={layout.gpus_per_node}")
    return options


def rendezvous_lines() -> List[str]:
    """Batch script lines (run on the first node) exporting MASTER_ADDR and MASTER_PORT for the job."""
    return [
        "# runx: the rendezvous is the first node's address (node names need not resolve) and a port from the job id",
        'runx_first=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        'MASTER_ADDR=$(scontrol show node "$runx_first" | sed -n "s/.*NodeAddr=\\([^ ]*\\).*/\\1/p" | head -n 1)',
        'MASTER_ADDR=${MASTER_ADDR:-$runx_first}',
        f"MASTER_PORT=$(({PORT_BASE} + SLURM_JOB_ID % {PORT_SPAN}))",
        "export MASTER_ADDR MASTER_PORT",
    ]


_SRUN_RANKS = ('RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID WORLD_SIZE=$SLURM_NTASKS '
               'LOCAL_WORLD_SIZE=$SLURM_NTASKS_PER_NODE NODE_RANK=$SLURM_NODEID; '
               'export RANK LOCAL_RANK WORLD_SIZE LOCAL_WORLD_SIZE NODE_RANK; exec sh -c "$1"')


def torchrun_signal_env(warning: str) -> str:
    """The variables that make torchrun's agent hand the warning signal (`USR1@90`) to its workers.

    torchrun's agent (torch.distributed.elastic, torch 2.13) handles SIGTERM, SIGINT, SIGHUP and SIGQUIT
    by default: on one of them it sends that signal to its workers, waits its shutdown timeout (30 s),
    kills those left and exits 1. Any other signal, USR1 included, takes its default action and kills the
    agent. PET_SIGNALS_TO_HANDLE (torchrun's --signals-to-handle) adds the warning to that list and
    PET_SHUTDOWN_TIMEOUT gives the workers the warning's seconds to save; an older torchrun ignores both.
    """
    name, _, seconds = warning.partition("@")
    name = name.strip().upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    handled = ",".join(dict.fromkeys(["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", name]))
    shutdown = f" PET_SHUTDOWN_TIMEOUT={int(seconds)}" if seconds.strip().isdigit() else ""
    return f"PET_SIGNALS_TO_HANDLE={handled}{shutdown}"


def launch_command(layout: NodeLayout, command: str, warning: Optional[str] = None) -> str:
    """The job script's command line that starts `command` (a shell command line) on every node.

    srun runs one task per node (torchrun) or per process (srun) and ends every task when one fails
    (`--kill-on-bad-exit`), so a failing rank fails the job with its exit code. srun passes the signals
    it gets on to every task; with `warning` (SIGNAL, `USR1@90`) torchrun is told to pass that one on to
    its workers too (`torchrun_signal_env`).
    """
    if layout.launcher == "none":
        return command
    srun = ["srun", f"--nodes={layout.nodes}", "--kill-on-bad-exit=1"]
    if layout.launcher == "srun":
        srun += [f"--ntasks={layout.nodes * layout.per_node}", f"--ntasks-per-node={layout.per_node}"]
        return f"{shlex.join(srun)} sh -c {shlex.quote(_SRUN_RANKS)} sh {shlex.quote(command)}"
    srun += [f"--ntasks={layout.nodes}", "--ntasks-per-node=1"]
    try:
        torchrun = shlex.split(layout.torchrun)
    except ValueError as err:
        raise RunxError(f"TORCHRUN: {err}; expected a command such as 'torchrun' or 'python -m torch.distributed.run'") from None
    env = f"{torchrun_signal_env(warning)} " if warning else ""
    node = (f"{env}exec {shlex.join(torchrun)} --nnodes={layout.nodes} --node-rank=\"$SLURM_NODEID\" "
            f"--nproc-per-node={layout.per_node} --master-addr=\"$MASTER_ADDR\" --master-port=\"$MASTER_PORT\" "
            f"--no-python sh -c \"$1\"")
    return f"{shlex.join(srun)} sh -c {shlex.quote(node)} sh {shlex.quote(command)}"
