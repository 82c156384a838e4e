#!/usr/bin/env bash
# Create the Python environment for bench/peers.py: a virtual environment in .deps/peers with
# the optimizers pinned in bench/requirements-peers.txt. Idempotent: when the environment
# already imports optuna and pymoo at the pinned versions, nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.deps/peers
REQ=bench/requirements-peers.txt
PYTHON="${PYTHON:-python3}"

log() { printf 'setup-peers: %s\n' "$*" >&2; }

pinned() { sed -n "s/^$1==\([^[:space:]]*\).*/\1/p" "$REQ"; }
OPTUNA_VERSION="$(pinned optuna)"
PYMOO_VERSION="$(pinned pymoo)"

in_place() {
  [[ -x "$VENV/bin/python" ]] &&
    "$VENV/bin/python" - "$OPTUNA_VERSION" "$PYMOO_VERSION" >/dev/null 2>&1 <<'PY'
import sys
import optuna, pymoo
from pymoo.version import __version__ as pymoo_version
sys.exit(0 if (optuna.__version__, pymoo_version) == (sys.argv[1], sys.argv[2]) else 1)
PY
}

if in_place; then
  log "optuna $OPTUNA_VERSION and pymoo $PYMOO_VERSION present in $VENV"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || { log "error: $PYTHON not found"; exit 1; }
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  # Debian splits venv/ensurepip into python3-venv.
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

if ! in_place; then
  log "error: $VENV does not import optuna $OPTUNA_VERSION and pymoo $PYMOO_VERSION after installing"
  exit 1
fi
log "ready: run bench/peers.py with $VENV/bin/python"
