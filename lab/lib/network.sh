# shellcheck shell=bash
# lab/lib/network.sh - the lab subnet: a "switch" namespace with a bridge, the uplink to the root
# namespace, one veth per host (sourced by lab/lab.sh)

ensure_netns() { [[ -e /run/netns/$1 ]] || ip netns add "$1"; ip -n "$1" link set lo up; }

net_free() {
  local clash
  clash=$(ip -4 route show to match "$GW" | grep -v '^default' || true)
  [[ -z $clash ]] || die "LAB_NET $LAB_NET.0/24 overlaps a route in the root namespace (another lab?): $clash"
}

net_up() {
  ip link show "$ROOT_IF" >/dev/null 2>&1 || net_free
  ensure_netns "$SW_NS"
  ip -n "$SW_NS" link show br0 >/dev/null 2>&1 || ip -n "$SW_NS" link add br0 type bridge
  ip -n "$SW_NS" link set br0 up
  if ! ip link show "$ROOT_IF" >/dev/null 2>&1; then
    ip -n "$SW_NS" link del uplink 2>/dev/null || true
    ip link add "$ROOT_IF" type veth peer name uplink netns "$SW_NS"
  fi
  ip -n "$SW_NS" link set uplink master br0 up
  sysctl -qw "net.ipv6.conf.$ROOT_IF.disable_ipv6=1" 2>/dev/null || true
  ip addr replace "$GW/24" dev "$ROOT_IF"
  ip link set "$ROOT_IF" up
}

host_net_up() {
  local h=$1 ns; ns=$(nsof "$1")
  ensure_netns "$ns"
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
    ip -n "$SW_NS" link del "v-$h" 2>/dev/null || true
    # both ends are created directly inside their namespaces: no names in the root ns
    ip link add "v-$h" netns "$SW_NS" type veth peer name eth0 netns "$ns"
  fi
  ip -n "$SW_NS" link set "v-$h" master br0 up
  ip -n "$ns" addr replace "${ADDR[$h]}/24" dev eth0
  ip -n "$ns" link set eth0 up
  # no default route on purpose: nothing in a host (or its containers) can reach
  # anything outside the lab subnet.
}
