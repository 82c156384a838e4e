#!/usr/bin/env bash
# Submit a whole sharded exploration to Slurm: prepare, then an N-task array of shards (afterok), then the
# merge (afterok), and print the three job ids (prepare, array, merge) on one line.
#
#   slurm/submit.sh SPACE N [--out DIR] [--cache-dir DIR] [--calib-dir DIR] [--set KEY=VALUE]…
#                           [--strategy S] [--budget B] [--seed S] [--logs DIR] [-- extra sbatch options…]
#
# Jobs run in the current folder (relative paths in the space resolve there); folders must be visible to every
# node (a shared file system). RECPIPE_DSE names the binary (default: recpipe-dse on PATH). Job logs go to
# --logs DIR (default: the current folder).
set -euo pipefail
usage() { echo "usage: $0 SPACE N [--out DIR] [--cache-dir DIR] [--calib-dir DIR] [--set K=V]… [--strategy S] [--budget B] [--seed S] [--logs DIR] [-- sbatch options]" >&2; exit 2; }
[ $# -ge 2 ] || usage
space=$1 shards=$2
shift 2
case $shards in '' | *[!0-9]* | 0) echo "$0: N must be a whole number ≥ 1, got '$shards'" >&2; exit 2 ;; esac
[ -f "$space" ] || { echo "$0: $space: no such space file" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
sources=() explore=() merge=() sbatch_extra=() logs=.
while [ $# -gt 0 ]; do
  case $1 in
    --cache-dir | --calib-dir | --set) [ $# -ge 2 ] || usage; sources+=("$1" "$2"); shift 2 ;;
    --out) [ $# -ge 2 ] || usage; explore+=("$1" "$2"); merge+=("$1" "$2"); shift 2 ;;
    --strategy | --budget | --seed | --early-stop) [ $# -ge 2 ] || usage; explore+=("$1" "$2"); shift 2 ;;
    --logs) [ $# -ge 2 ] || usage; logs=$2; mkdir -p "$logs"; shift 2 ;;
    --) shift; sbatch_extra=("$@"); break ;;
    *) echo "$0: unknown option '$1'" >&2; usage ;;
  esac
done
prepare=$(sbatch --parsable --output="$logs/%x-%j.out" "${sbatch_extra[@]}" "$here/prepare.sbatch" "$space" "${sources[@]}")
array=$(sbatch --parsable --output="$logs/%x-%A_%a.out" "${sbatch_extra[@]}" --dependency="afterok:$prepare" --array="0-$((shards - 1))" \
  "$here/explore-array.sbatch" "$space" "$shards" "${sources[@]}" "${explore[@]}")
merged=$(sbatch --parsable --output="$logs/%x-%j.out" "${sbatch_extra[@]}" --dependency="afterok:$array" \
  "$here/merge.sbatch" "$space" "${sources[@]}" "${merge[@]}")
echo "$prepare $array $merged"
