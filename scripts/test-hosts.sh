#!/usr/bin/env bash
# Test hosts: several "hosts" on this machine, for tests of what crosses a
# network. Each host is a network namespace with one link (eth0) to a bridge
# that lives in a namespace of its own; links are rate-limited with tc tbf.
# Addresses exist only inside these namespaces, so traffic never leaves them.
# Needs root and iproute2. The tests use it through tests/support/test_hosts.hpp.
#
#   scripts/test-hosts.sh up NAME K [RATE]  make hosts NAME-h0 .. NAME-h<K-1>
#                                           (and NAME-br); RATE per link and
#                                           direction, default 1gbit
#   scripts/test-hosts.sh down NAME         remove all of NAME's namespaces
#   scripts/test-hosts.sh address I         host I's address (10.231.0.<I+1>)
#   scripts/test-hosts.sh link NAME I up|down
#                                           connect or cut host I's link
#   scripts/test-hosts.sh sweep             remove test hosts whose maker is gone
#   scripts/test-hosts.sh list              the test hosts that exist
#
# NAME is cannery-<pid>-<anything>: the pid of the process that owns the hosts,
# which `sweep` checks. Run a program on host I with
#   ip netns exec NAME-h<I> PROGRAM ...
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

down() {
  local ns
  for ns in $(namespaces_of "$1"); do
    # Processes left in a host would keep its namespace alive: stop them first.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns delete "$ns" 2>/dev/null || true
  done
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

sweep() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^cannery-[0-9]+-[A-Za-z0-9]+-(br|h[0-9]+)$' || true); do
    pid=$(echo "$ns" | cut -d- -f2)
    if ! kill -0 "$pid" 2>/dev/null; then down "${ns%-*}"; fi
  done
}

[ $# -ge 1 ] || usage
case "$1" in
  up) [ $# -ge 3 ] || usage; need_root; check_name "$2"; up "$2" "$3" "${4:-}" ;;
  down) [ $# -eq 2 ] || usage; need_root; check_name "$2"; down "$2" ;;
  address) [ $# -eq 2 ] || usage; address "$2" ;;
  link) [ $# -eq 4 ] || usage; need_root; check_name "$2"; link "$2" "$3" "$4" ;;
  sweep) need_root; sweep ;;
  list) ip netns list | awk '{print $1}' | grep -E '^cannery-' || true ;;
  *) usage ;;
esac
