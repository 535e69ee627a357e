#!/usr/bin/env bash
# Start, stop or inspect the container engines that Darwin's tests and CI use:
#   - dockerd, without touching the host network (no iptables, no bridge);
#   - the rootful Podman API service (Docker-compatible REST API on a unix socket).
#
# Usage: ci/services.sh start|stop|status|env|reap|conf
#
# `start` is idempotent: a daemon that already answers is left alone. It writes
# $DARWIN_RUN_DIR/services.env (default /run/darwin/services.env), to be sourced by tests:
#   DOCKER_HOST, DARWIN_DOCKER_HOST, DARWIN_PODMAN_HOST, CONTAINERS_CONF
# `stop` removes containers labelled darwin.run (best effort), stops the daemons this
# script started (by the PID it recorded) and reaps Podman's leftover conmon processes.
# `reap` only reaps conmon processes whose container no longer exists (Podman 4.3 leaves two
# per API exec alive for 300 s); sandbox teardown can call it.
#
# Environment knobs: DARWIN_RUN_DIR (state dir, default /run/darwin),
# DARWIN_DOCKER_SOCK (default /var/run/docker.sock), DARWIN_SERVICES_TIMEOUT (s, default 60).
set -euo pipefail

STATE_DIR=${DARWIN_RUN_DIR:-/run/darwin}
DOCKER_SOCK=${DARWIN_DOCKER_SOCK:-/var/run/docker.sock}
PODMAN_SOCK=$STATE_DIR/podman.sock
CONF=$STATE_DIR/containers.conf
ENV_FILE=$STATE_DIR/services.env
TIMEOUT=${DARWIN_SERVICES_TIMEOUT:-60}

DOCKERD_PIDFILE=$STATE_DIR/dockerd.pid
DOCKERD_LOG=$STATE_DIR/dockerd.log
PODMAN_PIDFILE=$STATE_DIR/podman.pid
PODMAN_LOG=$STATE_DIR/podman.log

log() { echo "[services] $*"; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (rootful dockerd and podman)"; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_from() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

docker_ok() { timeout 10 docker -H "unix://$DOCKER_SOCK" info >/dev/null 2>&1; }
podman_ok() {
    [ -S "$PODMAN_SOCK" ] &&
        [ "$(curl -s --max-time 5 --unix-socket "$PODMAN_SOCK" http://d/_ping 2>/dev/null)" = OK ]
}
podman_local() { CONTAINERS_CONF=$CONF podman "$@"; }

# The containers.conf for Darwin's rootful Podman (the API service, and the podman CLI of
# build-image.sh, which gets its path from `services.sh conf`).
write_conf() {
    mkdir -p "$STATE_DIR/no-cni/plugins" "$STATE_DIR/no-cni/net.d"
    local tmp=$CONF.tmp.$$
    cat >"$tmp" <<EOF
# Written by ci/services.sh (Darwin). Rootful Podman 4.3 settings for this kind of machine.
[containers]
# Without lowered default ulimits every run fails with "error setting rlimit".
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
# No network unless one is asked for (CLI default).
netns = "none"

[network]
# Fail closed: the Docker-compatible API ignores netns and gives containers created without
# network_mode the default bridge, which would add iptables rules and switch on
# net.ipv4.ip_forward on the host. With CNI, no plugins and no network configs, such a
# container fails to start ('failed to find plugin "bridge"'); network_mode="none" works.
network_backend = "cni"
cni_plugin_dirs = ["$STATE_DIR/no-cni/plugins"]
network_config_dir = "$STATE_DIR/no-cni/net.d"

[engine]
# crun fails under cgroup v1 / hybrid mode here; runc works.
runtime = "runc"
# No systemd/journald on CI machines.
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
    mv -f "$tmp" "$CONF"
}

write_env() {
    local tmp=$ENV_FILE.tmp.$$
    cat >"$tmp" <<EOF
# Written by ci/services.sh start; source it (bash) or read it (KEY=VALUE lines).
export DOCKER_HOST=unix://$DOCKER_SOCK
export DARWIN_DOCKER_HOST=unix://$DOCKER_SOCK
export DARWIN_PODMAN_HOST=unix://$PODMAN_SOCK
export CONTAINERS_CONF=$CONF
EOF
    mv -f "$tmp" "$ENV_FILE"
    log "env file: $ENV_FILE"
}

# wait_until CHECK_FN PID NAME LOGFILE
wait_until() {
    local check=$1 pid=$2 name=$3 logf=$4 i
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        if "$check"; then return 0; fi
        if ! alive "$pid"; then
            echo "[services] ERROR: $name (pid $pid) exited during start-up; last log lines ($logf):" >&2
            tail -n 30 "$logf" >&2 || true
            exit 1
        fi
        sleep 0.2
    done
    echo "[services] ERROR: $name (pid $pid) did not answer within ${TIMEOUT}s; last log lines ($logf):" >&2
    tail -n 30 "$logf" >&2 || true
    stop_pid "$pid" "$name" >&2
    exit 1
}

start_docker() {
    command -v dockerd >/dev/null || die "dockerd not installed (run ci/install-system.sh)"
    if docker_ok; then
        log "dockerd already answers at unix://$DOCKER_SOCK"
        return
    fi
    local pid
    pid=$(pid_from "$DOCKERD_PIDFILE")
    if alive "$pid"; then
        log "dockerd (pid $pid) is running but not answering yet; waiting"
        wait_until docker_ok "$pid" dockerd "$DOCKERD_LOG"
        return
    fi
    rm -f "$DOCKERD_PIDFILE"
    log "starting dockerd (log: $DOCKERD_LOG)"
    (cd "$STATE_DIR" && exec setsid dockerd --iptables=false --ip-forward=false --bridge=none \
        -H "unix://$DOCKER_SOCK" --pidfile "$DOCKERD_PIDFILE" \
        >>"$DOCKERD_LOG" 2>&1 </dev/null) &
    pid=$!
    wait_until docker_ok "$pid" dockerd "$DOCKERD_LOG"
    echo "$pid" >"$DOCKERD_PIDFILE"
    log "dockerd up (pid $pid, server $(docker -H "unix://$DOCKER_SOCK" version -f '{{.Server.Version}}' 2>/dev/null))"
}

start_podman() {
    command -v podman >/dev/null || die "podman not installed (run ci/install-system.sh)"
    if podman_ok; then
        log "podman service already answers at unix://$PODMAN_SOCK"
        return
    fi
    local pid
    pid=$(pid_from "$PODMAN_PIDFILE")
    if alive "$pid"; then
        log "podman service (pid $pid) is running but not answering yet; waiting"
        wait_until podman_ok "$pid" "podman service" "$PODMAN_LOG"
        return
    fi
    rm -f "$PODMAN_PIDFILE" "$PODMAN_SOCK"
    log "starting podman system service (log: $PODMAN_LOG)"
    # From the state directory: conmon inherits the service's working directory and writes an
    # empty file named `oom` there when a container is OOM-killed (it used to land in the
    # checkout that ran the tests).
    (cd "$STATE_DIR" && CONTAINERS_CONF=$CONF exec setsid podman system service --time=0 "unix://$PODMAN_SOCK" \
        >>"$PODMAN_LOG" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" >"$PODMAN_PIDFILE"
    wait_until podman_ok "$pid" "podman service" "$PODMAN_LOG"
    log "podman service up (pid $pid, $(podman --version))"
}

# stop_pid PID NAME: TERM, wait up to 20 s, then KILL.
stop_pid() {
    local pid=$1 name=$2 i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
}

remove_labelled() { # ENGINE-CMD...
    local ids extra=()
    ids=$("$@" ps -aq --filter label=darwin.run 2>/dev/null || true)
    if [ -n "$ids" ]; then
        log "removing $(echo "$ids" | wc -w) container(s) labelled darwin.run ($1)"
        # podman rm -f would first wait 10 s for a PID 1 that ignores SIGTERM (sleep infinity).
        [ "$1" = podman_local ] && extra=(-t 0)
        # shellcheck disable=SC2086
        "$@" rm -f "${extra[@]}" $ids >/dev/null 2>&1 || true
    fi
}

# conmon processes of rootful Podman whose container no longer exists (e.g. the two per
# API exec that linger for 300 s) are killed by PID. Conmons of live containers are kept.
reap_conmon() {
    local known pid cid n=0 i j killed=() argv=()
    known=" $(podman_local ps -a --no-trunc --format '{{.ID}}' 2>/dev/null | tr '\n' ' ') "
    for pid in $(pgrep -x conmon 2>/dev/null || true); do
        # Builtins only (no fork per process): there can be hundreds of them.
        mapfile -d '' argv 2>/dev/null <"/proc/$pid/cmdline" || continue
        cid=""
        for ((j = 0; j < ${#argv[@]} - 1; j++)); do
            if [ "${argv[j]}" = -c ]; then cid=${argv[j + 1]}; break; fi
        done
        [[ $cid =~ ^[0-9a-f]{64}$ ]] || continue
        case $known in *" $cid "*) continue ;; esac
        kill -KILL "$pid" 2>/dev/null && n=$((n + 1)) && killed+=("$pid") || true
    done
    for ((i = 0; i < 25 && ${#killed[@]} > 0; i++)); do
        local left=()
        for pid in "${killed[@]}"; do alive "$pid" && left+=("$pid"); done
        killed=("${left[@]}")
        [ ${#killed[@]} = 0 ] || sleep 0.1
    done
    [ "$n" = 0 ] || log "reaped $n leftover conmon process(es)"
}

stop_docker() {
    local pid child
    pid=$(pid_from "$DOCKERD_PIDFILE")
    if [ -n "$pid" ] && ! alive "$pid"; then
        log "dockerd stopped"
        rm -f "$DOCKERD_PIDFILE"
        for c in ${DOCKERD_CHILD:-}; do stop_pid "$c" "containerd (child of dockerd)"; done
        return
    fi
    if ! alive "$pid"; then
        rm -f "$DOCKERD_PIDFILE"
        if docker_ok; then
            log "dockerd answers but was not started by this script (no live pid in $DOCKERD_PIDFILE); leaving it"
        else
            log "dockerd not running"
        fi
        return
    fi
    # dockerd runs its own containerd as a child: remember it in case dockerd must be killed.
    child=${DOCKERD_CHILD:-$(pgrep -P "$pid" -x containerd 2>/dev/null || true)}
    stop_pid "$pid" dockerd
    log "dockerd stopped"
    for c in $child; do stop_pid "$c" "containerd (child of dockerd)"; done
    rm -f "$DOCKERD_PIDFILE"
}

stop_podman() {
    local pid
    pid=$(pid_from "$PODMAN_PIDFILE")
    if alive "$pid"; then
        stop_pid "$pid" "podman service"
        log "podman service stopped"
    elif [ -n "$pid" ]; then
        log "podman service stopped"
    elif podman_ok; then
        log "podman service answers but was not started by this script; leaving it"
    else
        log "podman service not running"
    fi
    rm -f "$PODMAN_PIDFILE"
    [ -S "$PODMAN_SOCK" ] && ! podman_ok && rm -f "$PODMAN_SOCK"
    if command -v podman >/dev/null; then reap_conmon; fi
}

status() {
    local rc=0 pid
    pid=$(pid_from "$DOCKERD_PIDFILE")
    if docker_ok; then
        log "docker: up at unix://$DOCKER_SOCK (server $(docker -H "unix://$DOCKER_SOCK" version -f '{{.Server.Version}}' 2>/dev/null), pid ${pid:-not ours})"
    else
        log "docker: down"
        rc=1
    fi
    pid=$(pid_from "$PODMAN_PIDFILE")
    if podman_ok; then
        log "podman: up at unix://$PODMAN_SOCK (pid ${pid:-not ours})"
    else
        log "podman: down"
        rc=1
    fi
    local n
    n=$(pgrep -x conmon 2>/dev/null | wc -l || true)
    log "conmon processes: $n"
    [ -f "$ENV_FILE" ] && log "env file: $ENV_FILE"
    return $rc
}

case "${1:-}" in
start)
    need_root
    write_conf
    start_docker
    start_podman
    write_env
    ;;
stop)
    need_root
    [ -f "$CONF" ] || write_conf
    # Remove labelled containers while both daemons still answer, then signal both daemons
    # at once (each takes ~2 s to shut down) and wait for each in turn.
    docker_ok && remove_labelled docker -H "unix://$DOCKER_SOCK"
    command -v podman >/dev/null && remove_labelled podman_local
    d=$(pid_from "$DOCKERD_PIDFILE")
    alive "$d" && DOCKERD_CHILD=$(pgrep -P "$d" -x containerd 2>/dev/null || true)
    alive "$d" && log "stopping dockerd (pid $d)" && kill -TERM "$d" 2>/dev/null || true
    p=$(pid_from "$PODMAN_PIDFILE")
    alive "$p" && log "stopping podman service (pid $p)" && kill -TERM "$p" 2>/dev/null || true
    stop_docker
    stop_podman
    if ! docker_ok && ! podman_ok; then rm -f "$ENV_FILE"; fi
    ;;
status) status ;;
conf)
    need_root
    write_conf
    echo "$CONF"
    ;;
reap)
    need_root
    [ -f "$CONF" ] || write_conf
    reap_conmon
    ;;
env)
    [ -f "$ENV_FILE" ] || die "no $ENV_FILE: run '$0 start' first"
    cat "$ENV_FILE"
    ;;
*)
    echo "usage: $0 start|stop|status|env|reap|conf" >&2
    exit 2
    ;;
esac
