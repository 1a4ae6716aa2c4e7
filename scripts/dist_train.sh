#!/usr/bin/env bash
# DDP training on this machine, MMDetection's way:
#   ./scripts/dist_train.sh CONFIG N [train options...]
# starts N ranks of `train --config CONFIG --cfg-options distributed=True ...` with Open MPI's
# mpirun. Each rank takes Unfreeze_batch_size / N images a step and cores / N threads; rank 0 alone
# prints, evaluates and saves. Ctrl-C stops every rank after the step in hand, rank 0 saving a
# resume point (exit 130); a second Ctrl-C ends them at once. Several jobs at once do not collide: mpirun picks free ports and
# shared-memory names itself. Several machines: MPIRUN_ARGS="--hostfile hosts" (see README).
#
# Environment: TRAIN_BIN (default .build/release/train), MPIRUN_ARGS (extra mpirun options).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG N [train options...]   (e.g. $0 train.swift-config 2 --cfg-options UnFreeze_Epoch=50)" >&2
  exit 2
fi
config=$1 ranks=$2
shift 2
case "$ranks" in ''|*[!0-9]*|0) echo "dist_train.sh: N = '$ranks': expected the number of ranks (1 or more)" >&2; exit 2;; esac
[ -f "$config" ] || { echo "dist_train.sh: $config: no such parameter file" >&2; exit 2; }
bin=${TRAIN_BIN:-.build/release/train}
if [ ! -x "$bin" ]; then
  echo "dist_train.sh: $bin is not built (swift build -c release, or set TRAIN_BIN)" >&2
  exit 2
fi
command -v mpirun >/dev/null || { echo "dist_train.sh: mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev, or scripts/setup.sh)" >&2; exit 2; }

# Root is refused by mpirun unless asked twice; containers often run as root.
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
options=(-np "$ranks" --bind-to none)
cores=$(nproc)
[ "$ranks" -gt "$cores" ] && options+=(--oversubscribe)
# shellcheck disable=SC2206
extra=(${MPIRUN_ARGS:-})

# train's --cfg-options takes every value up to the next option: put distributed=True in front of the user's.
args=() given=0
for a in "$@"; do
  args+=("$a")
  if [ "$a" = "--cfg-options" ] && [ $given -eq 0 ]; then args+=("distributed=True"); given=1; fi
done
[ $given -eq 0 ] && args+=(--cfg-options distributed=True)
# mpirun answers Ctrl-C by killing the ranks within about two seconds, too soon to save. So it runs
# in a session of its own (the terminal's Ctrl-C reaches only this script), and the script passes
# the stop on as SIGUSR1, which mpirun forwards to every rank; the ranks agree to stop after the
# step in hand and rank 0 writes the resume point. It dies with this script (pdeathsig).
setsid setpriv --pdeathsig TERM mpirun "${options[@]}" "${extra[@]}" "$bin" --config "$config" "${args[@]}" &
job=$!
asked=0
stop() {
  if [ $asked -eq 0 ]; then
    asked=1
    echo "dist_train.sh: stopping every rank after the step in hand (rank 0 saves a resume point); Ctrl-C again stops at once" >&2
    kill -USR1 "$job" 2>/dev/null || true
  else
    kill -INT "$job" 2>/dev/null || true
  fi
}
trap stop INT TERM
status=0
while true; do
  wait "$job" && status=0 || status=$?
  kill -0 "$job" 2>/dev/null || break
done
exit "$status"
