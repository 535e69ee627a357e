#!/usr/bin/env bash
# One command: set up Darwin and run the quickstart example on the embedded defaults
# (offline mutation generator, local sandbox, file storage). No API key, no server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
RUN_DIR=${RUN_DIR:-runs/quickstart-$(date +%Y%m%d-%H%M%S)}
.venv/bin/darwin run examples/quickstart/darwin.toml --run-dir "$RUN_DIR"
COLUMNS=${COLUMNS:-140} .venv/bin/darwin archive "$RUN_DIR"
