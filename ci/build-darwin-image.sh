#!/usr/bin/env bash
# Build the image of Darwin itself (darwin:latest) offline, for Docker and Podman.
#
#   ci/build-darwin-image.sh [--engine docker|podman|both] [--tag darwin:latest] [--extras ""]
#
# Steps: make sure Darwin's sandbox image (darwin-sandbox:latest, ci/build-image.sh) exists ->
# `pip install --target site/` on the host of ./hookspecs and .[EXTRAS] with their dependencies,
# for the image's Python (PyPI is reachable from the host only) -> `build --network none` of
# ci/images/darwin/Dockerfile, which COPYs site/ and examples/. Then
#   docker run --rm darwin:latest run /opt/darwin/examples/quickstart/darwin.toml --run-dir /tmp/run
# Needs: root (rootful engines), the engines of ci/install-system.sh / ci/services.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ENGINES=both
TAG=darwin:latest
EXTRAS=""
HOST_PYTHON=${DARWIN_HOST_PYTHON:-python3}
log() { echo "[build-darwin-image] $*"; }
die() { echo "[build-darwin-image] ERROR: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
    --engine) ENGINES=${2:?}; shift 2 ;;
    --tag) TAG=${2:?}; shift 2 ;;
    --extras) EXTRAS=${2?}; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
    esac
done
case $ENGINES in both) ENGINES="docker podman" ;; docker | podman) ;; *) die "--engine: docker, podman or both" ;; esac

CONTAINERS_CONF=$("$HERE/services.sh" conf)
export CONTAINERS_CONF
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
export DOCKER_BUILDKIT=0
eng() { local e=$1; shift; if [ "$e" = docker ]; then docker "$@"; else podman "$@"; fi; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for e in $ENGINES; do
    eng "$e" image inspect darwin-sandbox:latest >/dev/null 2>&1 ||
        "$HERE/build-image.sh" --base-only --engine "$e"
done
first=${ENGINES%% *}
PYVER=$(eng "$first" run --rm --network none darwin-sandbox:latest python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
HOST_PYVER=$("$HOST_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
args=(install --quiet --no-input --disable-pip-version-check --target "$work/site")
if [ "$PYVER" != "$HOST_PYVER" ]; then
    args+=(--only-binary=:all: --python-version "$PYVER" --implementation cp
        --platform "manylinux_2_36_$(uname -m)" --platform "manylinux2014_$(uname -m)" --platform any)
fi
spec="$REPO"
[ -n "$EXTRAS" ] && spec="$REPO[$EXTRAS]"
log "pip install --target (host $HOST_PYVER, image $PYVER): ./hookspecs $spec"
# a copy of the sources: building in place would leave build/ and *.egg-info in the checkout
mkdir -p "$work/src"
tar -C "$REPO" --exclude=.git --exclude=.venv --exclude=runs --exclude='*.egg-info' --exclude=build \
    --exclude=__pycache__ -cf - pyproject.toml README.md src plugins hookspecs | tar -C "$work/src" -xf -
spec=${spec/#$REPO/$work/src}
"$HOST_PYTHON" -m pip "${args[@]}" "$work/src/hookspecs" "$spec" >"$work/pip.log" 2>&1 ||
    { tail -n 30 "$work/pip.log" >&2; die "pip install failed"; }
mkdir -p "$work/context"
mv "$work/site" "$work/context/site"
cp -r "$REPO/examples" "$work/context/examples"
find "$work/context/examples" -name runs -prune -exec rm -rf {} + -o -name __pycache__ -prune -exec rm -rf {} +
for e in $ENGINES; do
    extra=()
    [ "$e" = podman ] && extra=(--pull=never)
    log "$e build --network none $TAG"
    eng "$e" build --network none "${extra[@]}" --build-arg BASE=darwin-sandbox:latest \
        --build-arg "PYVER=$PYVER" -t "$TAG" -f "$HERE/images/darwin/Dockerfile" "$work/context" \
        >"$work/build-$e.log" 2>&1 || { tail -n 30 "$work/build-$e.log" >&2; die "$e build failed"; }
    log "$e: built $TAG"
done
