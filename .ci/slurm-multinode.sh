#!/usr/bin/env bash
# A real Slurm of N emulated nodes on this host (one slurmctld, one slurmd per node), as root, for
# the multi-node tests. It has its own munged, ports and state, so it runs beside .ci/slurm.sh's
# single-node cluster; a test talks to it by exporting the SLURM_CONF that `env` prints.
#
#   .ci/slurm-multinode.sh start [N]   needs slurm.sh's packages;, start N (2) nodes
#   .ci/slurm-multinode.sh stop        cancel its jobs, stop its daemons (by their pid files only)
#   .ci/slurm-multinode.sh env         print `export SLURM_CONF=...` for this cluster
#
# Facts behind it: shared/notes/schedulers.md (node names do not resolve: jobs take the first
# node's address from scontrol; srun needs PATH exported; torch jobs need a --time).
set -Eeuo pipefail

DIR=${RUNX_MN_SLURM_DIR:-/var/lib/runx-ci/slurm-multinode}
PORT=${RUNX_MN_SLURM_PORT:-7817}
CONF="$DIR/etc/slurm.conf"
MUNGE_SOCKET="$DIR/munge/socket"
READY_TIMEOUT=60

say() { echo "slurm-multinode: $*" >&2; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

need_packages() { # the packages come with .ci/slurm.sh start, which .ci/run calls first
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && return 0
    say "Slurm is not installed: run .ci/slurm.sh start first"; return 1
}

start_munge() {
    mkdir -p "$DIR/munge/key"
    chmod 700 "$DIR/munge/key"
    [ -f "$DIR/munge/key/munge.key" ] || mungekey -c -k "$DIR/munge/key/munge.key"
    alive "$DIR/munge/munged.pid" || munged -S "$MUNGE_SOCKET" --key-file="$DIR/munge/key/munge.key" \
        --log-file="$DIR/munge/munged.log" --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/key/seed"
    local _
    for _ in $(seq 50); do munge -S "$MUNGE_SOCKET" -n >/dev/null 2>&1 && return 0; sleep 0.1; done
    say "munged did not answer"; return 1
}

write_conf() { # nodes
    local nodes=$1 host cpus i
    host=$(hostname -s)
    cpus=$(nproc)
    mkdir -p "$DIR/etc" "$DIR/state" "$DIR/run" "$DIR/log" "$DIR/spool"
    {
        echo "# Written by runx .ci/slurm-multinode.sh: $nodes emulated nodes on one host."
        echo "ClusterName=runxmulti"
        echo "SlurmctldHost=$host(127.0.0.1)"
        echo "SlurmctldPort=$PORT"
        echo "SlurmUser=root"
        echo "SlurmdUser=root"
        echo "AuthType=auth/munge"
        echo "AuthInfo=socket=$MUNGE_SOCKET"
        echo "CredType=cred/munge"
        echo "StateSaveLocation=$DIR/state"
        echo "SlurmdSpoolDir=$DIR/spool/%n"
        echo "SlurmctldPidFile=$DIR/run/slurmctld.pid"
        echo "SlurmdPidFile=$DIR/run/slurmd.%n.pid"
        echo "SlurmctldLogFile=$DIR/log/slurmctld.log"
        echo "SlurmdLogFile=$DIR/log/slurmd.%n.log"
        echo "PlugStackConfig=$DIR/etc/plugstack.conf"
        echo "ProctrackType=proctrack/linuxproc"
        echo "TaskPlugin=task/none"
        echo "SelectType=select/cons_tres"
        echo "SelectTypeParameters=CR_Core"
        echo "SlurmdParameters=config_overrides"
        echo "ReturnToService=2"
        echo "MpiDefault=none"
        echo "AccountingStorageType=accounting_storage/none"
        echo "JobCompType=jobcomp/filetxt"
        echo "JobCompLoc=$DIR/log/jobcomp.txt"
        echo "MinJobAge=300"
        echo "SlurmctldTimeout=30"
        echo "SlurmdTimeout=30"
        for i in $(seq 1 "$nodes"); do
            echo "NodeName=n$i NodeHostname=$host NodeAddr=127.0.0.1 Port=$((PORT + i)) CPUs=$cpus RealMemory=4000 State=UNKNOWN"
        done
        echo "PartitionName=multi Nodes=n[1-$nodes] Default=YES MaxTime=INFINITE State=UP"
    } > "$CONF"
    : > "$DIR/etc/plugstack.conf"
    echo "export SLURM_CONF=$CONF" > "$DIR/env.sh"
}

nodes_idle() { [ "$(SLURM_CONF=$CONF timeout 5 sinfo -h -t idle -o '%D' 2>/dev/null)" = "$1" ]; }

start() {
    local nodes=${1:-2} started=$SECONDS i
    need_packages
    start_munge
    write_conf "$nodes"
    alive "$DIR/run/slurmctld.pid" || slurmctld -f "$CONF" -i
    for i in $(seq 1 "$nodes"); do
        alive "$DIR/run/slurmd.n$i.pid" || slurmd -f "$CONF" -N "n$i"
    done
    local deadline=$((SECONDS + READY_TIMEOUT))
    until nodes_idle "$nodes"; do
        if [ $SECONDS -ge $deadline ] || ! alive "$DIR/run/slurmctld.pid"; then
            say "the cluster did not come up"
            SLURM_CONF=$CONF timeout 5 sinfo -N >&2 || true
            tail -n 20 "$DIR"/log/*.log >&2 || true
            return 1
        fi
        sleep 0.5
    done
    say "up in $((SECONDS - started)) s: $nodes nodes idle ($CONF)"
}

stop() {
    if alive "$DIR/run/slurmctld.pid"; then
        SLURM_CONF=$CONF timeout 10 scancel --full --user=root >/dev/null 2>&1 || true
        local _
        for _ in $(seq 50); do
            [ -z "$(SLURM_CONF=$CONF timeout 5 squeue -h -t R,CG 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    local pidfile pid
    for pidfile in "$DIR"/run/slurmd.*.pid "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
        rm -f "$pidfile"
    done
    say "stopped"
}

case "${1:-}" in
    start) start "${2:-2}" ;;
    stop) stop ;;
    env) cat "$DIR/env.sh" ;;
    *) echo "usage: $0 start [N]|stop|env" >&2; exit 2 ;;
esac
