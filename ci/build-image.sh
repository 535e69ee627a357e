#!/usr/bin/env bash
# Build Darwin's sandbox images offline, for Docker and Podman.
#
#   ci/build-image.sh                      darwin-sandbox:latest + darwin-sandbox-pytest:latest
#   ci/build-image.sh --base-only          darwin-sandbox:latest only
#   ci/build-image.sh --with-pip "pytest==8.3.5" --with-pip hypothesis --tag my-image:latest
#                                          darwin-sandbox:latest + a derived image with packages
#   options: --engine docker|podman|both (default both), --force (rebuild everything),
#            --cache DIR (default ${DARWIN_CACHE:-/var/cache/darwin})
#
# Steps: debootstrap a minbase bookworm rootfs (python3, git, patch) from the Debian mirror
# that apt uses -> tarball cached under $CACHE -> `docker import` / `podman import` as
# darwin-sandbox-base:<hash> -> `build --network none` of ci/images/sandbox/Dockerfile
# (user darwin uid 1000, /work) -> darwin-sandbox:latest, labelled darwin.recipe=<hash>.
# Derived pip images: `pip install --target` on the host (PyPI is reachable from the host
# only), then `build --network none` of ci/images/sandbox-pip/Dockerfile that COPYs it.
# Every step is skipped when its output exists with the same recipe hash.
#
# Needs: root, debootstrap; for the docker engine a dockerd (started with ci/services.sh
# start when none answers); for podman the local CLI (the API service is not needed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${DARWIN_CACHE:-/var/cache/darwin}
SUITE=bookworm
PACKAGES=python3,git,patch
BASE_TAG=darwin-sandbox:latest
PYTEST_TAG=darwin-sandbox-pytest:latest
PYTEST_SPEC=${DARWIN_PYTEST_SPEC:-pytest==8.3.5}
HOST_PYTHON=${DARWIN_HOST_PYTHON:-python3}
# Bump when the rootfs recipe below changes in a way the hash inputs don't capture.
ROOTFS_RECIPE_VERSION=2

ENGINES=both
FORCE=0
BASE_ONLY=0
PIP_SPECS=()
PIP_TAG=""

log() { echo "[build-image] $*"; }
die() { echo "[build-image] ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case $1 in
    --engine) ENGINES=${2:?}; shift 2 ;;
    --with-pip) PIP_SPECS+=("${2:?}"); shift 2 ;;
    --tag) PIP_TAG=${2:?}; shift 2 ;;
    --base-only) BASE_ONLY=1; shift ;;
    --force) FORCE=1; shift ;;
    --cache) CACHE=${2:?}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
    esac
done
case $ENGINES in
both) ENGINES="docker podman" ;;
docker | podman) ;;
*) die "--engine must be docker, podman or both" ;;
esac
if [ -n "$PIP_TAG" ] && [ ${#PIP_SPECS[@]} = 0 ]; then die "--tag needs at least one --with-pip SPEC"; fi
if [ ${#PIP_SPECS[@]} -gt 0 ] && [ -z "$PIP_TAG" ]; then PIP_TAG=darwin-sandbox-pip:latest; fi
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, rootful docker/podman)"

# Podman must use the same settings as ci/services.sh (ulimits, runc, cgroupfs, no network).
CONTAINERS_CONF=$("$HERE/services.sh" conf)
export CONTAINERS_CONF
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
# Docker CLI >= 23 defaults to BuildKit, which needs buildx (absent here); the classic
# builder works with the 20.10 daemon and honours --network none.
export DOCKER_BUILDKIT=0

sha() { sha256sum | cut -c1-16; }
T0=$(date +%s)
elapsed() { echo "$(($(date +%s) - T0))s"; }

# ---------------------------------------------------------------- engine helpers
eng() { # eng ENGINE ARGS...
    local e=$1; shift
    if [ "$e" = docker ]; then docker "$@"; else podman "$@"; fi
}
# quietly CMD...: run CMD with its output in a temp log, shown only when it fails.
quietly() {
    local out rc=0
    out=$(mktemp)
    "$@" >"$out" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        echo "[build-image] command failed (exit $rc): $*" >&2
        grep -v -e '^DEPRECATED: The legacy builder' -e '^ *BuildKit is currently disabled' \
            -e '^ *environment-variable\.' "$out" | tail -n 40 >&2
    fi
    rm -f "$out"
    return "$rc"
}
image_exists() { eng "$1" image inspect "$2" >/dev/null 2>&1; }
image_label() { eng "$1" image inspect -f '{{index .Config.Labels "darwin.recipe"}}' "$2" 2>/dev/null || true; }

check_engines() {
    local e
    for e in $ENGINES; do
        command -v "$e" >/dev/null || die "$e not installed (run ci/install-system.sh)"
        if [ "$e" = docker ] && ! timeout 10 docker info >/dev/null 2>&1; then
            if [ "$DOCKER_HOST" = unix:///var/run/docker.sock ]; then
                log "dockerd does not answer: running ci/services.sh start (stop it with ci/services.sh stop)"
                "$HERE/services.sh" start
            fi
            timeout 10 docker info >/dev/null 2>&1 ||
                die "dockerd does not answer at $DOCKER_HOST (run ci/services.sh start, or use --engine podman)"
        fi
    done
}

# ---------------------------------------------------------------- Debian mirror
# The first URI apt uses for "$SUITE" (one-line .list files and deb822 .sources files).
debian_mirror() {
    if [ -n "${DARWIN_DEBIAN_MIRROR:-}" ]; then echo "$DARWIN_DEBIAN_MIRROR"; return; fi
    local f uri=""
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk -v s="$SUITE" '$1=="deb" {
                i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i+1)==s) { print $i; exit } }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk -v s="$SUITE" '
            function flush() { if (deb && en && suite && uri != "") { print uri; found=1; exit }
                               deb=0; en=1; suite=0; uri="" }
            BEGIN { en=1 }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            tolower($1)=="types:" { for (i=2;i<=NF;i++) if ($i=="deb") deb=1 }
            tolower($1)=="enabled:" { if (tolower($2)=="no") en=0 }
            tolower($1)=="suites:" { for (i=2;i<=NF;i++) if ($i==s) suite=1 }
            tolower($1)=="uris:" { uri=$2 }
            END { if (!found) flush() }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    echo "http://deb.debian.org/debian"
}

# ---------------------------------------------------------------- rootfs tarball
ROOTFS_HASH=$(printf '%s\n' "$SUITE" minbase "$PACKAGES" "$ROOTFS_RECIPE_VERSION" | sha)
ROOTFS_TAR=$CACHE/rootfs-$SUITE-$ROOTFS_HASH.tar
PYVER_FILE=$ROOTFS_TAR.pyver

build_rootfs() {
    if [ "$FORCE" = 0 ] && [ -s "$ROOTFS_TAR" ] && [ -s "$PYVER_FILE" ]; then
        log "rootfs tarball cached: $ROOTFS_TAR"
        return
    fi
    command -v debootstrap >/dev/null || die "debootstrap not installed (run ci/install-system.sh)"
    mkdir -p "$CACHE"
    local mirror work
    mirror=$(debian_mirror)
    # debootstrap ignores apt.conf: pass apt's proxy, if any, through the environment.
    local HTTP_PROXY_APT=""
    eval "$(apt-config shell HTTP_PROXY_APT Acquire::http::Proxy 2>/dev/null || true)"
    if [ -n "$HTTP_PROXY_APT" ] && [ -z "${http_proxy:-}" ]; then export http_proxy=$HTTP_PROXY_APT; fi
    work=$(mktemp -d "$CACHE/rootfs-build.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    log "debootstrap --variant=minbase --include=$PACKAGES $SUITE from $mirror (~1 min; log: $work.log)"
    if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/rootfs" "$mirror" >"$work.log" 2>&1; then
        tail -n 30 "$work.log" >&2
        [ -f "$work/rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$work/rootfs/debootstrap/debootstrap.log" >&2
        die "debootstrap failed (full log: $work.log)"
    fi
    local r=${work:?}/rootfs
    chroot "$r" python3 -c "import json, subprocess, unittest, tempfile, sys; print(1)" >/dev/null ||
        die "python3 stdlib check failed inside the rootfs"
    chroot "$r" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' >"$work/pyver"
    # Slim down: package caches and lists, docs, man pages, translations; /dev is provided by
    # the engines.
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/* \
        "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
        "$r"/var/log/* "$r"/debootstrap "${r:?}"/dev/*
    : >"$r/etc/hostname"
    tar --numeric-owner -C "$r" -cf "$work/rootfs.tar" .
    rm -f "$CACHE"/rootfs-"$SUITE"-*.tar "$CACHE"/rootfs-"$SUITE"-*.tar.pyver
    mv "$work/pyver" "$PYVER_FILE"
    mv "$work/rootfs.tar" "$ROOTFS_TAR"
    rm -rf "$work" "$work.log"
    trap - EXIT
    log "rootfs tarball: $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1), python $(cat "$PYVER_FILE")) [$(elapsed)]"
}

# ---------------------------------------------------------------- images
BASE_IMPORT_TAG=darwin-sandbox-base:$ROOTFS_HASH
SANDBOX_HASH=$( (echo "$ROOTFS_HASH"; cat "$HERE/images/sandbox/Dockerfile") | sha)

import_base() { # ENGINE
    local e=$1
    if [ "$FORCE" = 0 ] && image_exists "$e" "$BASE_IMPORT_TAG"; then return; fi
    build_rootfs
    log "$e import $ROOTFS_TAR -> $BASE_IMPORT_TAG"
    quietly eng "$e" import "$ROOTFS_TAR" "$BASE_IMPORT_TAG" || die "$e import failed"
}

build_sandbox() { # ENGINE
    local e=$1
    if [ "$FORCE" = 0 ] && [ "$(image_label "$e" "$BASE_TAG")" = "$SANDBOX_HASH" ]; then
        log "$e: $BASE_TAG up to date (recipe $SANDBOX_HASH)"
        return
    fi
    import_base "$e"
    log "$e build --network none $BASE_TAG"
    local extra=()
    [ "$e" = podman ] && extra=(--pull=never)
    quietly eng "$e" build --network none "${extra[@]}" \
        --build-arg "BASE=$BASE_IMPORT_TAG" --label "darwin.recipe=$SANDBOX_HASH" \
        -t "$BASE_TAG" -f "$HERE/images/sandbox/Dockerfile" "$HERE/images/sandbox" ||
        die "$e build of $BASE_TAG failed"
    log "$e: built $BASE_TAG [$(elapsed)]"
}

pyver() {
    if [ -s "$PYVER_FILE" ]; then cat "$PYVER_FILE"; return; fi
    local e
    e=${ENGINES%% *}
    eng "$e" run --rm --network none "$BASE_TAG" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' |
        tee "$PYVER_FILE"
}

# pip_site SPEC...: echoes a folder with `pip install --target` of SPECs for the image's Python.
pip_site() {
    local py host_py key dir
    py=$(pyver)
    host_py=$("$HOST_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    key=$(printf '%s\n' "$py" "$@" | sha)
    dir=$CACHE/pip-$key
    if [ "$FORCE" = 0 ] && [ -f "$dir/.done" ]; then
        echo "$dir"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    local args=(install --quiet --no-input --disable-pip-version-check --target "$dir/site")
    if [ "$py" != "$host_py" ]; then
        # Host and image Pythons differ: only wheels built for the image's Python will do.
        args+=(--only-binary=:all: --python-version "$py" --implementation cp
            --platform "manylinux_2_36_$(uname -m)" --platform "manylinux2014_$(uname -m)"
            --platform any)
    fi
    log "pip install --target (host $host_py, image $py): $*" >&2
    quietly "$HOST_PYTHON" -m pip "${args[@]}" "$@" || die "pip install failed for: $*"
    touch "$dir/.done"
    echo "$dir"
}

build_pip_image() { # ENGINE TAG SPEC...
    local e=$1 tag=$2; shift 2
    local hash
    hash=$( (echo "$SANDBOX_HASH"; cat "$HERE/images/sandbox-pip/Dockerfile"; printf '%s\n' "$@") | sha)
    if [ "$FORCE" = 0 ] && [ "$(image_label "$e" "$tag")" = "$hash" ]; then
        log "$e: $tag up to date (recipe $hash)"
        return
    fi
    local site ctx
    site=$(pip_site "$@")
    ctx=$(mktemp -d)
    cp -al "$site/site" "$ctx/site" 2>/dev/null || cp -a "$site/site" "$ctx/site"
    log "$e build --network none $tag (with $*)"
    local extra=()
    [ "$e" = podman ] && extra=(--pull=never)
    if ! quietly eng "$e" build --network none "${extra[@]}" \
        --build-arg "BASE=$BASE_TAG" --build-arg "PYVER=$(pyver)" --label "darwin.recipe=$hash" \
        -t "$tag" -f "$HERE/images/sandbox-pip/Dockerfile" "$ctx"; then
        rm -rf "$ctx"
        die "$e build of $tag failed"
    fi
    rm -rf "$ctx"
    log "$e: built $tag [$(elapsed)]"
}

# ---------------------------------------------------------------- main
check_engines
# One build at a time per cache (other checkouts on the same machine share it).
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
    log "another build-image.sh holds $CACHE/.build.lock; waiting"
    flock 9
fi
for e in $ENGINES; do
    build_sandbox "$e"
done
if [ "$BASE_ONLY" = 0 ]; then
    for e in $ENGINES; do
        if [ ${#PIP_SPECS[@]} -gt 0 ]; then
            build_pip_image "$e" "$PIP_TAG" "${PIP_SPECS[@]}"
        else
            build_pip_image "$e" "$PYTEST_TAG" "$PYTEST_SPEC"
        fi
    done
fi
log "done in $(elapsed)"
