#!/usr/bin/env bash
# Test hosts: several "hosts" on this machine, for tests of what crosses a
# network. Each host is a network namespace with one link (eth0) to a bridge
# that lives in a namespace of its own; links are rate-limited with tc tbf.
# Addresses exist only inside these namespaces, so traffic never leaves them.
# Each host also has a /dev/shm of its own, as separate machines do: the
# directory /dev/shm/NAME-h<I>, which `run` mounts over /dev/shm for the
# program it starts. Needs root, iproute2 and util-linux (nsenter, unshare).
# The tests use it through tests/support/test_hosts.hpp.
#
#   scripts/test-hosts.sh up NAME K [RATE]  make hosts NAME-h0 .. NAME-h<K-1>
#                                           (and NAME-br); RATE per link and
#                                           direction, default 1gbit
#   scripts/test-hosts.sh down NAME         remove all of NAME's namespaces
#                                           and /dev/shm directories
#   scripts/test-hosts.sh address I         host I's address (10.231.0.<I+1>)
#   scripts/test-hosts.sh link NAME I up|down
#                                           connect or cut host I's link
#   scripts/test-hosts.sh run NAME I PROGRAM [ARGS...]
#                                           run PROGRAM on host I: in its
#                                           network, with its /dev/shm
#   scripts/test-hosts.sh sweep             remove test hosts whose maker is gone
#   scripts/test-hosts.sh list              the test hosts that exist
#
# NAME is cannery-<pid>-<word>: the pid of the process that owns the hosts,
# which `sweep` checks. `run` ends by exec'ing PROGRAM, so PROGRAM keeps the
# pid `run` started with (TestHosts::start starts programs with it too). It
# is not `ip netns exec`, which would also mount a /sys of its own, without
# the cgroup file systems that daemons such as slurmd need.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

address() { echo "10.231.0.$(($1 + 1))"; }

check_name() {
  [[ "$1" =~ ^cannery-[0-9]+-[A-Za-z0-9]+$ ]] ||
    { echo "test-hosts: NAME must look like cannery-<pid>-<word>, not '$1'" >&2; exit 2; }
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-hosts: needs root (network namespaces); run it with sudo" >&2
    exit 77
  fi
  command -v ip >/dev/null && command -v tc >/dev/null ||
    { echo "test-hosts: needs iproute2 (ip, tc): apt-get install iproute2" >&2; exit 77; }
}

namespaces_of() { ip netns list | awk '{print $1}' | grep -E "^$1-(br|h[0-9]+)$" || true; }

# A host's /dev/shm: a directory in the real /dev/shm rather than a tmpfs of
# its own, so that it is bounded by the same size as this machine's /dev/shm
# (a container's --shm-size), and nothing is mounted outside the programs'
# own mount namespaces: nothing is left mounted, or busy, after a crash. Its
# name cannot be taken for a cannery segment (remove_stale_segments), whose
# pid field is a number.
shm_of() { echo "/dev/shm/$1-h$2"; }

down() {
  local ns
  for ns in $(namespaces_of "$1"); do
    # Processes left in a host would keep its namespace alive: stop them first.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns delete "$ns" 2>/dev/null || true
  done
  # After the processes, which write there; also when the namespaces are gone.
  rm -rf /dev/shm/"$1"-h[0-9]*
}

up() {
  local name=$1 k=$2 rate=${3:-1gbit} i
  [[ "$k" =~ ^[0-9]+$ ]] && [ "$k" -ge 1 ] && [ "$k" -le 200 ] ||
    { echo "test-hosts: K must be 1..200, not '$k'" >&2; exit 2; }
  # Whatever fails half-way is removed again.
  trap 'down "$name"' ERR
  ip netns add "$name-br"
  ip -n "$name-br" link add br0 type bridge
  ip -n "$name-br" link set br0 up
  ip -n "$name-br" link set lo up
  for ((i = 0; i < k; i++)); do
    local host="$name-h$i"
    ip netns add "$host"
    mkdir -m 1777 "$(shm_of "$name" "$i")"  # 1777 as /dev/shm is: any user writes
    ip link add eth0 netns "$host" type veth peer name "p$i" netns "$name-br"
    ip -n "$name-br" link set "p$i" master br0
    ip -n "$name-br" link set "p$i" up
    ip -n "$host" link set lo up
    ip -n "$host" addr add "$(address "$i")/24" dev eth0
    ip -n "$host" link set eth0 up
    # Both directions: out of the host, and out of the bridge towards it.
    tc -n "$host" qdisc add dev eth0 root tbf rate "$rate" burst 1mb latency 100ms
    tc -n "$name-br" qdisc add dev "p$i" root tbf rate "$rate" burst 1mb latency 100ms
  done
  trap - ERR
}

link() {
  local name=$1 i=$2 state=$3
  [ "$state" = up ] || [ "$state" = down ] || usage
  ip -n "$name-br" link set "p$i" "$state"
}

# Runs argv on host I, in a mount namespace of its own where the host's
# directory is /dev/shm: every program run on host I sees the same /dev/shm,
# and no other host's, nor the real one. Each step execs the next (entering
# a network namespace and making a mount namespace need no fork), so argv
# runs with this script's pid. Private propagation: the mount stays inside.
# Only /dev/shm is mounted; /sys, with its cgroups, is the machine's.
run() {
  local name=$1 i=$2
  shift 2
  [[ "$i" =~ ^[0-9]+$ ]] && [ -e "/run/netns/$name-h$i" ] && [ -d "$(shm_of "$name" "$i")" ] ||
    { echo "test-hosts: no host $i in $name" >&2; exit 2; }
  # shellcheck disable=SC2016 # "$1" and "$@" are the inner sh's
  exec nsenter --net="/run/netns/$name-h$i" -- unshare --mount --propagation private -- \
    sh -c 'mount --bind "$1" /dev/shm && shift && exec "$@"' sh "$(shm_of "$name" "$i")" "$@"
}

sweep() {
  local found pid
  # Directories too: a crash may have come between deleting a namespace and
  # removing its /dev/shm.
  for found in $({ ip netns list | awk '{print $1}'; ls /dev/shm 2>/dev/null || true; } |
    grep -E '^cannery-[0-9]+-[A-Za-z0-9]+-(br|h[0-9]+)$' | sed 's/-[^-]*$//' | sort -u); do
    pid=$(echo "$found" | cut -d- -f2)
    if ! kill -0 "$pid" 2>/dev/null; then down "$found"; fi
  done
}

[ $# -ge 1 ] || usage
case "$1" in
  up) [ $# -ge 3 ] || usage; need_root; check_name "$2"; up "$2" "$3" "${4:-}" ;;
  down) [ $# -eq 2 ] || usage; need_root; check_name "$2"; down "$2" ;;
  address) [ $# -eq 2 ] || usage; address "$2" ;;
  link) [ $# -eq 4 ] || usage; need_root; check_name "$2"; link "$2" "$3" "$4" ;;
  run) [ $# -ge 4 ] || usage; need_root; check_name "$2"; run "$2" "$3" "${@:4}" ;;
  sweep) need_root; sweep ;;
  list) ip netns list | awk '{print $1}' | grep -E '^cannery-' || true ;;
  *) usage ;;
esac
