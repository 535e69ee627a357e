#!/usr/bin/env bash
# Install the Debian packages Darwin's sandboxes, tests and CI need (idempotent, as root):
# docker.io, podman, bubblewrap, debootstrap, git, patch, chromium, plus what ci/services.sh
# uses (runc, curl, procps), and prometheus (the metrics test scrapes a live run). runc is listed explicitly: with --no-install-recommends, podman's
# "crun | runc" could otherwise resolve to crun, which fails on cgroup v1 hosts.
# Packages already installed are skipped (dpkg -s); `apt-get update` runs at most once per
# call, and only when something is missing. Extra packages: DARWIN_EXTRA_PACKAGES="a b".
set -euo pipefail

# shellcheck disable=SC2206
PACKAGES=(docker.io podman runc bubblewrap debootstrap git patch chromium curl procps prometheus
    ${DARWIN_EXTRA_PACKAGES:-})

log() { echo "[install-system] $*"; }
die() { echo "[install-system] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
command -v apt-get >/dev/null || die "apt-get not found (Debian/Ubuntu only)"

# (Not `dpkg -s | grep -q`: with pipefail, grep's early exit can SIGPIPE dpkg and read as
# "not installed".)
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

missing=()
for p in "${PACKAGES[@]}"; do
    if installed "$p"; then
        log "$p: already installed"
    else
        missing+=("$p")
    fi
done
if [ ${#missing[@]} = 0 ]; then
    log "nothing to install"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
    -o DPkg::Lock::Timeout=300)
start=$(date +%s)
log "apt-get update"
apt-get -q -o DPkg::Lock::Timeout=300 update >/tmp/darwin-apt-update.log 2>&1 || {
    tail -n 20 /tmp/darwin-apt-update.log >&2
    die "apt-get update failed"
}
log "apt-get install ${missing[*]}"
# Debian's maintainer scripts try to start services through invoke-rc.d / systemd; without
# an init system that fails harmlessly. ci/services.sh starts the daemons itself.
if ! apt-get install "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}" \
    >/tmp/darwin-apt-install.log 2>&1; then
    tail -n 30 /tmp/darwin-apt-install.log >&2
    die "apt-get install failed (log: /tmp/darwin-apt-install.log)"
fi
for p in "${missing[@]}"; do
    installed "$p" || die "$p still not installed after apt-get install"
done
log "installed ${missing[*]} in $(($(date +%s) - start))s"
