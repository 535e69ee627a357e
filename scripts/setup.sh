#!/usr/bin/env bash
# Create .venv and install Darwin for development: the contract, the engine with its built-in
# plugins, and the extras named in $DARWIN_EXTRAS (default: dev only).
#   scripts/setup.sh              # core + test tools
#   DARWIN_EXTRAS=all,dev scripts/setup.sh   # every optional backend too (what the tests use)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
EXTRAS=${DARWIN_EXTRAS:-dev}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.darwin-installed
want="$(cat pyproject.toml hookspecs/pyproject.toml | sha1sum | cut -c1-12) $EXTRAS"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>/dev/null || true
.venv/bin/python -m pip install --quiet -e ./hookspecs -e ".[$EXTRAS]"
echo "$want" > "$stamp"
echo "[setup] .venv ready (extras: $EXTRAS)"
