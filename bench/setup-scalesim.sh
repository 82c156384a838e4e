#!/usr/bin/env bash
# Create the Python environment that runs SCALE-Sim on the files `recpipe-dse accel export --scalesim` writes:
# a virtual environment in .deps/scalesim with the versions pinned in bench/requirements-scalesim.txt.
# Idempotent: when the environment already imports them, nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/venv.sh
source bench/venv.sh

VENV=.deps/scalesim
REQ=bench/requirements-scalesim.txt

log() { printf 'setup-scalesim: %s\n' "$*" >&2; }

in_place() {
  [[ -x "$VENV/bin/python" ]] &&
    "$VENV/bin/python" -c 'import numpy, scalesim.scale_sim; assert numpy.__version__ == "1.26.4"' >/dev/null 2>&1
}

if in_place; then
  log "scalesim present in $VENV"
  exit 0
fi
install_requirements "$VENV" "$REQ"
in_place || { log "error: $VENV does not import scalesim with numpy 1.26.4 after installing"; exit 1; }
log "ready: python3 -m scalesim.scale with $VENV/bin/python"
