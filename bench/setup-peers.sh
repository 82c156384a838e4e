#!/usr/bin/env bash
# Create the Python environment for bench/peers.py: a virtual environment in .deps/peers with
# the optimizers pinned in bench/requirements-peers.txt. Idempotent: when the environment
# already imports optuna and pymoo at the pinned versions, nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/venv.sh
source bench/venv.sh

VENV=.deps/peers
REQ=bench/requirements-peers.txt

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

install_requirements "$VENV" "$REQ"

if ! in_place; then
  log "error: $VENV does not import optuna $OPTUNA_VERSION and pymoo $PYMOO_VERSION after installing"
  exit 1
fi
log "ready: run bench/peers.py with $VENV/bin/python"
