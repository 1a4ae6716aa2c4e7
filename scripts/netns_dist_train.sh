#!/usr/bin/env bash
# DDP across two "hosts" on this machine, to test the several-machine path for real: two network
# namespaces (each with its own host name) joined by a veth pair, mpirun in the first, its remote
# launch agent (this script with --agent) starting the second rank's daemon in the second, and
# the ranks talking TCP between 10.77.0.1 and 10.77.0.2 (no shared memory between them).
#   sudo ./scripts/netns_dist_train.sh CONFIG [train options...]
# Needs root, iproute2 (ip netns) and util-linux (unshare). Everything it creates is removed at the
# end. Environment: TRAIN_BIN (default .build/release/train), NETNS_TAG (names; default the pid).
set -euo pipefail
self=$(readlink -f "$0")

if [ "${1:-}" = "--agent" ]; then
  # mpirun calls its agent as "AGENT HOST COMMAND...", like ssh.
  host=$2
  shift 2
  case "$host" in
    10.77.0.1) ns=$NETNS_A name=ddp-host-a ;;
    10.77.0.2) ns=$NETNS_B name=ddp-host-b ;;
    *) echo "netns_dist_train.sh: unknown host $host" >&2; exit 1 ;;
  esac
  exec ip netns exec "$ns" unshare --uts /bin/sh -c 'hostname "$1"; exec /bin/sh -c "$2"' sh "$name" "$*"
fi

if [ $# -lt 1 ]; then echo "usage: $0 CONFIG [train options...]" >&2; exit 2; fi
[ "$(id -u)" -eq 0 ] || { echo "netns_dist_train.sh: network namespaces need root" >&2; exit 2; }
command -v ip >/dev/null || { echo "netns_dist_train.sh: ip not found (apt-get install iproute2)" >&2; exit 2; }
config=$1
shift
bin=$(readlink -f "${TRAIN_BIN:-.build/release/train}")
[ -x "$bin" ] || { echo "netns_dist_train.sh: $bin is not built" >&2; exit 2; }
tag=${NETNS_TAG:-$$}
export NETNS_A=ddpa$tag NETNS_B=ddpb$tag
hostfile=$(mktemp)
cleanup() {
  ip netns del "$NETNS_A" 2>/dev/null || true
  ip netns del "$NETNS_B" 2>/dev/null || true
  rm -f "$hostfile"
}
trap cleanup EXIT
ip netns add "$NETNS_A"
ip netns add "$NETNS_B"
ip link add "va$tag" type veth peer name "vb$tag"
ip link set "va$tag" netns "$NETNS_A"
ip link set "vb$tag" netns "$NETNS_B"
ip -n "$NETNS_A" addr add 10.77.0.1/24 dev "va$tag"
ip -n "$NETNS_B" addr add 10.77.0.2/24 dev "vb$tag"
for ns in "$NETNS_A" "$NETNS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NETNS_A" link set "va$tag" up
ip -n "$NETNS_B" link set "vb$tag" up
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$hostfile"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One rank per "host"; the daemons and the ranks' messages both over the veth pair, by TCP.
options=(-np 2 --hostfile "$hostfile" --bind-to none --mca plm_rsh_agent "$self --agent"
         --mca oob_tcp_if_include 10.77.0.0/24 --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24)
# mpirun passes only its own variables to a remote host's ranks: the thread count must be named.
[ -n "${OMP_NUM_THREADS:-}" ] && options+=(-x OMP_NUM_THREADS)
ip netns exec "$NETNS_A" unshare --uts /bin/sh -c 'hostname ddp-host-a; exec "$@"' sh \
  mpirun "${options[@]}" "$bin" --config "$config" --cfg-options distributed=True "$@"
