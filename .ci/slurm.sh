#!/usr/bin/env bash
# A real single-node Slurm for tests, from Debian's packages, as root, without systemd.
#
#   .ci/slurm.sh start [--accounting]   install if needed, configure, start; wait for the node
#   .ci/slurm.sh stop                   cancel jobs, wait for them, stop every daemon
#   .ci/slurm.sh status                 one line: what runs
#
# Safe to run twice: `start` on a cluster already up in the same mode only checks it. Job ids
# keep counting across restarts (FirstJobId from the job completion log), so an id never names
# two jobs on one machine. Facts behind the config: shared/notes/slurm-single-node.md.
set -Eeuo pipefail

CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
DBD_CONF="$CONF_DIR/slurmdbd.conf"
LOG_DIR=/var/log/slurm
JOBCOMP="$LOG_DIR/jobcomp.txt"
CTLD_SPOOL=/var/spool/slurmctld
SLURMD_SPOOL=/var/spool/slurmd
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
DBD_PID=/run/slurmdbd.pid
MUNGE_PID=/run/munge/munged.pid
MARIADB_PID=/run/mysqld/mysqld.pid
MARIADB_SOCK=/run/mysqld/mysqld.sock
CLUSTER=runx
READY_TIMEOUT=60
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=300)

started_at=$(date +%s)
say() { echo "slurm.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }
elapsed() { echo "$(( $(date +%s) - started_at )) s"; }

alive() { # pidfile -> 0 when its process lives
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() { # seconds command... -> 0 once the command succeeds
    local limit=$1; shift
    local deadline=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

show_logs() {
    local f
    for f in "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log "$LOG_DIR"/slurmdbd.log "$LOG_DIR"/mariadb.log /var/log/munge/munged.log; do
        [ -s "$f" ] && { echo "---- tail $f" >&2; tail -n 30 "$f" >&2; }
    done
    return 0
}

fail() { say "error: $*"; show_logs; exit 1; }
trap 'say "error: line $LINENO: \"$BASH_COMMAND\" failed"; show_logs' ERR

# ---- install ------------------------------------------------------------------------------------

install_packages() {
    local accounting=$1 need=() bin
    for bin in slurmctld slurmd sbatch munged; do command -v "$bin" >/dev/null || need=(slurmctld slurmd slurm-client munge); done
    if [ "$accounting" = 1 ]; then
        command -v slurmdbd >/dev/null || need+=(slurmdbd)
        command -v mariadbd >/dev/null || need+=(mariadb-server)
    fi
    [ ${#need[@]} -eq 0 ] && return 0
    say "installing ${need[*]}"
    # Packages must not start their own daemons: this script starts them, its own way.
    local own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
    fi
    local rc=0
    { DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" update >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install --no-install-recommends "${need[@]}" >/dev/null; } || rc=$?
    [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || die "apt-get install ${need[*]} failed ($rc)"
}

# ---- configuration ------------------------------------------------------------------------------

node_line() { # slurmd -C's node line, on loopback
    local line
    line=$(slurmd -C | head -n 1) || die "slurmd -C failed"
    case "$line" in NodeName=*) ;; *) die "unexpected slurmd -C output: $line" ;; esac
    echo "$line NodeAddr=127.0.0.1 State=UNKNOWN"
}

next_job_id() { # one past the largest id in the job completion log, so ids are never reused
    local max=0
    [ -s "$JOBCOMP" ] && max=$(sed -n 's/^JobId=\([0-9]*\).*/\1/p' "$JOBCOMP" | sort -n | tail -n 1)
    echo $(( ${max:-0} + 1 ))
}

write_slurm_conf() { # accounting(0|1) out-file
    local accounting=$1 out=$2 host
    host=$(hostname -s)
    {
        echo "# Written by runx .ci/slurm.sh: a single-node test cluster (accounting=$accounting)."
        echo "ClusterName=$CLUSTER"
        echo "SlurmctldHost=$host(127.0.0.1)"
        echo "SlurmUser=root"
        echo "SlurmdUser=root"
        echo "AuthType=auth/munge"
        echo "StateSaveLocation=$CTLD_SPOOL"
        echo "SlurmdSpoolDir=$SLURMD_SPOOL"
        echo "SlurmctldPidFile=$CTLD_PID"
        echo "SlurmdPidFile=$SLURMD_PID"
        echo "SlurmctldLogFile=$LOG_DIR/slurmctld.log"
        echo "SlurmdLogFile=$LOG_DIR/slurmd.log"
        echo "ProctrackType=proctrack/linuxproc"
        echo "TaskPlugin=task/none"
        echo "SelectType=select/cons_tres"
        echo "SelectTypeParameters=CR_Core_Memory"
        echo "DefMemPerCPU=1024"
        echo "MpiDefault=none"
        echo "ReturnToService=2"
        echo "MinJobAge=300"
        # Every task of a held array counts, and cancelled ones stay MinJobAge: the default 10,000 stalls
        # bench/slurm_bench.py's 10,000-run launch after its 1,000-run one (sbatch sleeps and retries for minutes).
        echo "MaxJobCount=50000"
        echo "KillWait=5"
        echo "SchedulerParameters=batch_sched_delay=0" # a job starts within ~1 s, not ~3 s
        echo "InactiveLimit=0"
        echo "JobCompType=jobcomp/filetxt"
        echo "JobCompLoc=$JOBCOMP"
        if [ "$accounting" = 1 ]; then
            echo "AccountingStorageType=accounting_storage/slurmdbd"
            echo "AccountingStorageHost=localhost"
            echo "JobAcctGatherType=jobacct_gather/linux"
        else
            echo "AccountingStorageType=accounting_storage/none"
            echo "JobAcctGatherType=jobacct_gather/none"
        fi
        node_line
        echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
    } >"$out"
}

# ---- daemons ------------------------------------------------------------------------------------

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    install -d -o munge -g munge -m 700 /etc/munge /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_PID" 9>&- || fail "munged did not start"
    wait_for 10 sh -c 'munge -n </dev/null | unmunge' || fail "munge does not answer"
}

mysql() { mariadb --socket="$MARIADB_SOCK" -u root "$@"; }

start_mariadb() {
    install -d -o mysql -g mysql -m 755 /run/mysqld
    if [ ! -d /var/lib/mysql/mysql ]; then
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$LOG_DIR/mariadb-install.log" 2>&1 ||
            fail "mariadb-install-db failed (see $LOG_DIR/mariadb-install.log)"
    fi
    if ! alive "$MARIADB_PID"; then
        setsid /usr/sbin/mariadbd --user=mysql --skip-networking --socket="$MARIADB_SOCK" \
            --pid-file="$MARIADB_PID" </dev/null >"$LOG_DIR/mariadb.log" 2>&1 9>&- &
    fi
    wait_for 30 mariadb-admin --socket="$MARIADB_SOCK" ping || fail "mariadb does not answer"
}

start_slurmdbd() {
    local pass
    pass=$(sed -n 's/^StoragePass=//p' "$DBD_CONF" 2>/dev/null || true)
    [ -n "$pass" ] || pass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
              CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$pass';
              ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$pass';
              GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" || fail "cannot create the accounting database"
    (umask 077 && cat >"$DBD_CONF" <<EOF
# Written by runx .ci/slurm.sh.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$DBD_PID
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$pass
StorageLoc=slurm_acct_db
EOF
)
    chmod 600 "$DBD_CONF"
    alive "$DBD_PID" || slurmdbd 9>&- || fail "slurmdbd did not start"
    wait_for 30 sacctmgr -n list cluster || fail "slurmdbd does not answer"
}

node_ready() {
    local state
    state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1)
    case "$state" in idle | mix | alloc) return 0 ;; *) return 1 ;; esac
}

summary() { # one line
    local mode=${1:-} node
    node=$(sinfo -h -N -o '%N %t cpus=%c mem=%mMB' 2>/dev/null | head -n 1)
    echo "slurm: up${mode:+ ($mode)}, node ${node:-?}, accounting $(accounting_mode), in $(elapsed)"
}

accounting_mode() {
    grep -q '^AccountingStorageType=accounting_storage/slurmdbd' "$CONF" 2>/dev/null && echo on || echo off
}

up_as_wanted() { # accounting -> 0 when the running cluster already is what `start` would make
    local accounting=$1 wanted
    alive "$CTLD_PID" && alive "$SLURMD_PID" || return 1
    [ "$accounting" = 0 ] || alive "$DBD_PID" || return 1
    [ -f "$CONF" ] || return 1
    wanted=$(mktemp)
    write_slurm_conf "$accounting" "$wanted"
    local same=0
    diff -q <(grep -v '^FirstJobId=' "$CONF") <(cat "$wanted") >/dev/null && same=1
    rm -f "$wanted"
    [ "$same" = 1 ] && node_ready
}

kill_pidfiles() { # pidfile...: TERM them all, wait up to 10 s, then KILL what is left
    local file pids=() pid i
    for file in "$@"; do
        alive "$file" && pids+=("$(cat "$file")")
    done
    if [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        for i in $(seq 1 100); do
            local live=0
            for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && live=1; done
            [ "$live" = 1 ] || break
            sleep 0.1
        done
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null && { say "pid $pid ignored TERM; killing"; kill -KILL "$pid" 2>/dev/null || true; }
        done
    fi
    rm -f "$@"
}

# ---- commands -----------------------------------------------------------------------------------

cmd_stop() {
    local left=""
    if alive "$CTLD_PID" && command -v squeue >/dev/null; then
        # Job processes outlive slurmd by design and would come back on the next start.
        local ids
        ids=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ') || ids=""
        if [ -n "${ids// /}" ]; then
            # shellcheck disable=SC2086
            scancel $ids 2>/dev/null || true
            wait_for 30 sh -c '[ -z "$(squeue -h -t PD,R,CG,S -o %A)" ]' ||
                left=" ($(squeue -h -o %A | wc -l) jobs still listed)"
        fi
    fi
    kill_pidfiles "$SLURMD_PID" "$CTLD_PID"
    kill_pidfiles "$DBD_PID" "$MARIADB_PID" "$MUNGE_PID"
    echo "slurm: stopped${left}, in $(elapsed)"
}

cmd_start() {
    local accounting=0
    for arg in "$@"; do
        case "$arg" in
            --accounting) accounting=1 ;;
            *) die "unknown option $arg (usage: slurm.sh start [--accounting])" ;;
        esac
    done
    [ "$(id -u)" = 0 ] || die "must run as root"
    install_packages "$accounting"
    install -d -m 755 "$CONF_DIR" "$LOG_DIR" "$CTLD_SPOOL" "$SLURMD_SPOOL"

    if up_as_wanted "$accounting"; then
        summary "already running"
        return 0
    fi
    if alive "$CTLD_PID" || alive "$SLURMD_PID" || alive "$DBD_PID"; then
        say "restarting: the running cluster is not healthy or not what was asked"
        cmd_stop >/dev/null
    fi

    local first
    first=$(next_job_id)
    write_slurm_conf "$accounting" "$CONF"
    echo "FirstJobId=$first" >>"$CONF"
    chmod 644 "$CONF"

    start_munge
    if [ "$accounting" = 1 ]; then
        start_mariadb
        start_slurmdbd
    else
        kill_pidfiles "$DBD_PID" "$MARIADB_PID"
    fi
    touch "$JOBCOMP" && chmod 644 "$JOBCOMP"
    # Stale state would bring back jobs from an earlier cluster.
    rm -rf "${CTLD_SPOOL:?}"/* "${SLURMD_SPOOL:?}"/*
    : >"$LOG_DIR/slurmctld.log"
    : >"$LOG_DIR/slurmd.log"

    slurmctld 9>&- || fail "slurmctld did not start"
    slurmd 9>&- || fail "slurmd did not start"
    wait_for "$READY_TIMEOUT" node_ready ||
        fail "node not idle after ${READY_TIMEOUT} s: $(sinfo -h -N -o '%N %t %E' 2>&1 | head -n 1)"
    summary
}

cmd_status() {
    if alive "$CTLD_PID" && node_ready; then summary; else echo "slurm: not running"; return 1; fi
}

main() {
    local cmd=${1:-}
    [ $# -gt 0 ] && shift
    # One start/stop at a time on this machine (fd 9; every daemon is started with it closed).
    exec 9>/run/runx-ci-slurm.lock
    flock -w 300 9 || die "another slurm.sh holds /run/runx-ci-slurm.lock"
    case "$cmd" in
        start) cmd_start "$@" ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        *) die "usage: slurm.sh start [--accounting] | stop | status" ;;
    esac
}

main "$@"
