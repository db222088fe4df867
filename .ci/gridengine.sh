#!/usr/bin/env bash
# A real Son of Grid Engine cell for tests, from Debian's packages, as root, on loopback ports.
#
#   .ci/gridengine.sh start    install if needed, configure a private cell, start qmaster + execd
#   .ci/gridengine.sh stop     delete jobs, stop both daemons (by their pid files only)
#   .ci/gridengine.sh env      print the exports a shell needs to talk to the cell
#
# The cell lives under $RUNX_GE_DIR (default /var/lib/runx-ci/gridengine). Facts behind the
# settings: shared/notes/schedulers.md (Debian's defaults refuse root's jobs, alarm the queue on a
# busy machine and schedule every 15 s; all three are changed here).
set -Eeuo pipefail

GE_DIR=${RUNX_GE_DIR:-/var/lib/runx-ci/gridengine}
QMASTER_PORT=${RUNX_GE_PORT:-16444}
EXECD_PORT=$((QMASTER_PORT + 1))
CELL=runxci
HOST=$(hostname)
READY_TIMEOUT=60
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=300)

export SGE_ROOT="$GE_DIR/root" SGE_CELL="$CELL" SGE_QMASTER_PORT="$QMASTER_PORT" SGE_EXECD_PORT="$EXECD_PORT"
export PATH="/usr/lib/gridengine:$PATH"
COMMON="$SGE_ROOT/$CELL/common"
SPOOL="$GE_DIR/spool"

log() { echo "gridengine: $*"; }

install_packages() {
    command -v sge_qmaster >/dev/null 2>&1 && return 0
    log "installing Debian's gridengine packages"
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
        apt-get update -q >/dev/null
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" gridengine-master gridengine-exec gridengine-client >/dev/null
}

write_cell() {
    [ -f "$COMMON/.runx-configured" ] && return 0
    rm -rf "$GE_DIR"
    mkdir -p "$COMMON" "$SPOOL/qmaster/job_scripts" "$SPOOL/db" "$SPOOL/execd" "$GE_DIR/tmp"
    local part
    for part in bin lib util utilbin; do ln -s "/var/lib/gridengine/$part" "$SGE_ROOT/$part"; done
    cat > "$COMMON/bootstrap" <<EOF
admin_user              none
default_domain          none
ignore_fqdn             true
spooling_method         berkeleydb
spooling_lib            libspoolb
spooling_params         $SPOOL/db
binary_path             /usr/sbin
qmaster_spool_dir       $SPOOL/qmaster
security_mode           none
listener_threads        2
worker_threads          2
scheduler_threads       1
EOF
    echo "$HOST" > "$COMMON/act_qmaster"
    # Every name loopback goes by is this host to the cell (CI machines map 127.0.0.1 to localhost).
    { echo "$HOST"; echo localhost; hostname -s; getent hosts 127.0.0.1 | cut -d' ' -f2-; } | tr -s ' \n' ' ' > "$COMMON/host_aliases"
    echo >> "$COMMON/host_aliases"
    sed -e "s#/var/spool/gridengine/execd#$SPOOL/execd#" \
        -e 's/^min_uid .*/min_uid 0/' -e 's/^min_gid .*/min_gid 0/' \
        -e 's/^load_report_time .*/load_report_time 00:00:05/' \
        /usr/share/gridengine/default-configuration > "$GE_DIR/global.conf"
    spoolinit berkeleydb libspoolb "$SPOOL/db" init >/dev/null
    spooldefaults configuration "$GE_DIR/global.conf"
    spooldefaults complexes /usr/share/gridengine/util/resources/centry
    spooldefaults usersets /usr/share/gridengine/util/resources/usersets
    spooldefaults managers root
    touch "$COMMON/.runx-configured"
}

wait_for() {  # wait_for WHAT COMMAND...: until COMMAND succeeds, or fail after READY_TIMEOUT
    local what=$1; shift
    local deadline=$((SECONDS + READY_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            log "$what did not come up in ${READY_TIMEOUT} s" >&2
            tail -n 20 "$SPOOL/qmaster/messages" "$SPOOL"/execd/*/messages >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.3
    done
}

configure_queue() {
    qconf -sel 2>/dev/null | grep -qx "$HOST" && return 0
    qconf -ah "$HOST" >/dev/null 2>&1 || true
    qconf -as "$HOST" >/dev/null
    printf '%s\n' "hostname $HOST" "load_scaling NONE" "complex_values NONE" "user_lists NONE" "xuser_lists NONE" \
        "projects NONE" "xprojects NONE" "usage_scaling NONE" "report_variables NONE" > "$GE_DIR/exechost.conf"
    qconf -Ae "$GE_DIR/exechost.conf" >/dev/null
    # A parallel environment for `-pe smp N` (cpus or gpus of one job on one host).
    printf '%s\n' "pe_name smp" "slots 999" "user_lists NONE" "xuser_lists NONE" "start_proc_args NONE" \
        "stop_proc_args NONE" 'allocation_rule $pe_slots' "control_slaves TRUE" "job_is_first_task FALSE" \
        "urgency_slots min" "accounting_summary FALSE" "qsort_args NONE" > "$GE_DIR/pe.conf"
    qconf -Ap "$GE_DIR/pe.conf" >/dev/null
    if ! qconf -sq all.q >/dev/null 2>&1; then
        qconf -sq | sed -e "s/^qname .*/qname all.q/" -e "s/^hostlist .*/hostlist $HOST/" \
            -e "s/^slots .*/slots $(nproc)/" -e "s/^pe_list .*/pe_list smp/" -e "s#^tmpdir .*#tmpdir $GE_DIR/tmp#" \
            -e "s#^shell .*#shell /bin/sh#" -e "s/^load_thresholds .*/load_thresholds NONE/" > "$GE_DIR/queue.conf"
        qconf -Aq "$GE_DIR/queue.conf" >/dev/null
    fi
    qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
        -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' > "$GE_DIR/sched.conf"
    qconf -Msconf "$GE_DIR/sched.conf" >/dev/null
    # Accounting flushed every second, so qacct knows a finished job at once.
    qconf -sconf | sed 's/^reporting_params .*/reporting_params accounting=true reporting=false flush_time=00:00:01 joblog=false sharelog=00:00:00/' \
        > "$GE_DIR/global.live.conf"
    qconf -Mconf "$GE_DIR/global.live.conf" >/dev/null 2>&1 || true
}

queue_ready() { qstat -f 2>/dev/null | grep -q "all.q@$HOST .* lx-amd64 *$"; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# execd names its spool folder by the name the cell gave the host (localhost here, not $HOST).
execd_alive() {
    local pidfile
    for pidfile in "$SPOOL"/execd/*/execd.pid; do pid_alive "$pidfile" && return 0; done
    return 1
}

# A daemon that cannot bind its port yet (a cell stopped a moment ago) is tried again for 20 s.
start_daemon() {
    local tries
    for tries in $(seq 20); do
        "$1" && return 0
        log "$1 did not start (try $tries), trying again in 1 s" >&2
        sleep 1
    done
    return 1
}

start() {
    local started_at=$SECONDS
    install_packages
    write_cell
    write_env
    pid_alive "$SPOOL/qmaster/qmaster.pid" || start_daemon sge_qmaster
    wait_for qmaster qconf -sh
    configure_queue
    execd_alive || start_daemon sge_execd
    wait_for execd queue_ready
    log "up in $((SECONDS - started_at)) s: $(qstat -f | grep all.q | tr -s ' ')"
}

stop() {
    if pid_alive "$SPOOL/qmaster/qmaster.pid"; then
        qdel -u '*' >/dev/null 2>&1 || true
    fi
    local pidfile pid _
    for pidfile in "$SPOOL"/execd/*/execd.pid "$SPOOL/qmaster/qmaster.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
        rm -f "$pidfile"
    done
    log "stopped"
}

write_env() {
    printf 'export SGE_ROOT=%q SGE_CELL=%q SGE_QMASTER_PORT=%q SGE_EXECD_PORT=%q PATH=/usr/lib/gridengine:$PATH\n' \
        "$SGE_ROOT" "$SGE_CELL" "$QMASTER_PORT" "$EXECD_PORT" > "$GE_DIR/env.sh"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$GE_DIR/env.sh" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
