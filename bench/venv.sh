# Shared by bench/setup-*.sh (sourced, not run): install_requirements VENV REQ creates the virtual environment
# VENV with $PYTHON (default python3), installing Debian's python3-venv first where it is missing, and installs
# the pinned requirements file REQ into it. Messages go to stderr through the caller's `log`.
install_requirements() {
  local venv="$1" req="$2" python="${PYTHON:-python3}"
  command -v "$python" >/dev/null 2>&1 || { log "error: $python not found"; return 1; }
  if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    # Debian splits venv/ensurepip into python3-venv.
    log "installing Debian's python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  if [[ ! -x "$venv/bin/python" ]]; then
    log "creating the virtual environment $venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
  fi
  log "installing $req into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
}
