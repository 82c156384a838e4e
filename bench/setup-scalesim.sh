#!/usr/bin/env bash
# Create the Python environment that runs SCALE-Sim on the files `recpipe-dse accel export --scalesim` writes:
# a virtual environment in .deps/scalesim with the versions pinned in bench/requirements-scalesim.txt.
# Idempotent: when the environment already imports them, nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.deps/scalesim
REQ=bench/requirements-scalesim.txt
PYTHON="${PYTHON:-python3}"

log() { printf 'setup-scalesim: %s\n' "$*" >&2; }

in_place() {
  [[ -x "$VENV/bin/python" ]] &&
    "$VENV/bin/python" -c 'import numpy, scalesim.scale_sim; assert numpy.__version__ == "1.26.4"' >/dev/null 2>&1
}

if in_place; then
  log "scalesim present in $VENV"
  exit 0
fi
command -v "$PYTHON" >/dev/null 2>&1 || { log "error: $PYTHON not found"; exit 1; }
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  log "installing Debian's python3-venv"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating the virtual environment $VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi
log "installing $REQ into $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
in_place || { log "error: $VENV does not import scalesim with numpy 1.26.4 after installing"; exit 1; }
log "ready: python3 -m scalesim.scale with $VENV/bin/python"
