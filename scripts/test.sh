#!/usr/bin/env bash
# One command: install and start everything the tests need, run the whole suite, stop it all.
#   - system packages (docker.io, podman, bubblewrap, debootstrap, chromium...) when root;
#   - the offline sandbox images; dockerd and the Podman API service;
#   - .venv with every optional backend; then pytest (arguments are passed through).
# Python-level servers (MongoDB wire protocol, S3, the LLM loopback server, Ray) are started and
# stopped by the tests' fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
    ci/install-system.sh
fi
DARWIN_EXTRAS=all,dev scripts/setup.sh
if [ "$(id -u)" = 0 ]; then
    ci/build-image.sh
    ci/services.sh start
    trap 'ci/services.sh stop || true' EXIT
    # shellcheck disable=SC1091
    set -a; . "${DARWIN_RUN_DIR:-/run/darwin}/services.env"; set +a
fi
.venv/bin/python -m pytest "$@"
