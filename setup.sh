#!/usr/bin/env bash
# Prepare a fresh machine for building, testing and running recpipe-dse.
# Idempotent and cached: a second run only checks what is already in place.
#   * libtorch 2.11.0 (CPU-usable build from PyPI) into .deps/libtorch/
#   * the MovieLens-100K data set (from the recbole 1.2.1 wheel) into data/ml-100k/, SHA-256 checked
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$PWD"

TORCH_VERSION=2.11.0
TORCH_DIR="$ROOT/.deps/libtorch"
DATA_DIR="$ROOT/data/ml-100k"
DOWNLOADS="$ROOT/.deps/downloads"
PYTHON="${PYTHON:-python3}"

log() { printf 'setup: %s\n' "$*" >&2; }

need_cmd() { command -v "$1" >/dev/null 2>&1; }

# --- Debian packages the build needs (C++ compiler for torch-sys, pkg-config, sha256sum) ---------------
missing=()
need_cmd g++ || missing+=(g++)
need_cmd sha256sum || missing+=(coreutils)
need_cmd unzip || missing+=(unzip)
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
need_cmd "$PYTHON" || { log "error: $PYTHON not found (needed for pip downloads)"; exit 1; }

# --- libtorch from PyPI ------------------------------------------------------------------------------
if [[ -f "$TORCH_DIR/torch/lib/libtorch_cpu.so" && -f "$TORCH_DIR/.version" && "$(cat "$TORCH_DIR/.version")" == "$TORCH_VERSION" ]]; then
  log "libtorch $TORCH_VERSION present in .deps/libtorch"
else
  log "installing libtorch $TORCH_VERSION from PyPI into .deps/libtorch (about 1.2 GB)"
  rm -rf "$TORCH_DIR.partial"
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --target "$TORCH_DIR.partial" \
    "torch==$TORCH_VERSION" nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85
  echo "$TORCH_VERSION" > "$TORCH_DIR.partial/.version"
  rm -rf "$TORCH_DIR"
  mv "$TORCH_DIR.partial" "$TORCH_DIR"
fi

# --- MovieLens-100K from the recbole wheel -----------------------------------------------------------
# name  sha256  (recorded from recbole-1.2.1-py3-none-any.whl, recbole/dataset_example/ml-100k/)
ML100K_SUMS="ml-100k.inter 4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff
ml-100k.item 51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532
ml-100k.user 4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"

check_data() {
  local name sum
  while read -r name sum; do
    [[ -f "$DATA_DIR/$name" ]] || return 1
    [[ "$(sha256sum "$DATA_DIR/$name" | cut -d' ' -f1)" == "$sum" ]] || return 1
  done <<< "$ML100K_SUMS"
}

if check_data; then
  log "MovieLens-100K present in data/ml-100k (SHA-256 verified)"
else
  log "fetching MovieLens-100K from the recbole 1.2.1 wheel"
  mkdir -p "$DOWNLOADS" "$DATA_DIR"
  wheel=$(ls "$DOWNLOADS"/recbole-1.2.1-*.whl 2>/dev/null | head -n1 || true)
  if [[ -z "$wheel" ]]; then
    "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps -d "$DOWNLOADS" recbole==1.2.1
    wheel=$(ls "$DOWNLOADS"/recbole-1.2.1-*.whl | head -n1)
  fi
  tmp=$(mktemp -d)
  unzip -q -o "$wheel" 'recbole/dataset_example/ml-100k/ml-100k.inter' \
    'recbole/dataset_example/ml-100k/ml-100k.item' 'recbole/dataset_example/ml-100k/ml-100k.user' -d "$tmp"
  mv "$tmp"/recbole/dataset_example/ml-100k/ml-100k.{inter,item,user} "$DATA_DIR/"
  rm -rf "$tmp"
  if ! check_data; then
    log "error: SHA-256 of data/ml-100k does not match the recorded sums"
    sha256sum "$DATA_DIR"/ml-100k.* >&2
    exit 1
  fi
  log "MovieLens-100K fetched and verified"
fi
log "ready"
