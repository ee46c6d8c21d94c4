#!/bin/bash
# nat-tun-demo.sh: build a complete nat-tun topology in network namespaces,
# show it working, and tear it all down again (also on error or Ctrl-C).
#
#   sudo examples/nat-tun-demo.sh [--shell] [path/to/nat-tun]
#
#   inside (10.0.0.2) ── lan0 [ router: nat-tun on nat0 ] wan0 ── outside
#                          10.0.0.1          203.0.113.1       203.0.113.2
#                                 public address 203.0.113.10
#
# The router's routing is exactly the one in nat-tun(8). The demo pings the
# outside host from the inside, opens a connection to a port forward from
# the outside, and prints nat-tun's session table (SIGUSR1). With --shell
# it then opens a shell in the inside namespace (exit it to tear down).
# All traffic stays inside the namespaces.
set -eu

shell=no
if [ "${1:-}" = --shell ]; then
    shell=yes
    shift
fi
here=$(cd "$(dirname "$0")" && pwd)
nat_tun=${1:-$here/../build/examples/nat-tun}
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (network namespaces)" >&2; exit 1; }
[ -x "$nat_tun" ] || { echo "$0: no nat-tun at $nat_tun (build first, or pass its path)" >&2; exit 1; }

p=natdemo$$
IN=$p-inside R=$p-router OUT=$p-outside
pids=()

teardown() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in "$IN" "$R" "$OUT"; do ip netns del "$n" 2>/dev/null || true; done
    echo "== torn down"
}
trap teardown EXIT
trap 'exit 1' INT TERM

run() { echo "+ $*"; "$@"; }

echo "== namespaces and links"
for n in "$IN" "$R" "$OUT"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
done
ip -n "$R" link add lan0 type veth peer name eth0 netns "$IN"
ip -n "$R" link add wan0 type veth peer name eth0 netns "$OUT"
for n in "$IN" "$OUT"; do ip -n "$n" link set eth0 up; done
ip -n "$R" link set lan0 up
ip -n "$R" link set wan0 up
ip -n "$IN" addr add 10.0.0.2/24 dev eth0
ip -n "$IN" route add default via 10.0.0.1
ip -n "$OUT" addr add 203.0.113.2/24 dev eth0
ip -n "$R" addr add 10.0.0.1/24 dev lan0
ip -n "$R" addr add 203.0.113.1/24 dev wan0
ip -n "$R" route add default via 203.0.113.2

echo "== router setup (as in nat-tun(8))"
r() { run ip netns exec "$R" "$@"; }
r ip tuntap add dev nat0 mode tun
r ip link set nat0 up
r sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
r ip route add default dev nat0 table 100
r ip rule add iif lan0 lookup 100 pref 100
r ip route add 203.0.113.10/32 dev nat0
r ip neigh add proxy 203.0.113.10 dev wan0
r sysctl -qw net.ipv4.neigh.wan0.proxy_delay=0

echo "== starting nat-tun"
ip netns exec "$R" "$nat_tun" --tun nat0 --public 203.0.113.10 \
    --inside 10.0.0.0/24 --forward tcp:8080=10.0.0.2:8000 --status 0 &
pids+=($!)
sleep 0.5

echo "== ping from the inside host to the outside host"
run ip netns exec "$IN" ping -c 3 -i 0.3 203.0.113.2

if command -v python3 >/dev/null 2>&1; then
    echo "== port forward: outside connects to 203.0.113.10:8080 -> 10.0.0.2:8000"
    ip netns exec "$IN" timeout 10 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8000)); s.listen(1); s.settimeout(8)
c, peer = s.accept(); c.sendall(b"hello %s, this is 10.0.0.2\n" % peer[0].encode())
print("inside server: connection from %s:%d" % peer, flush=True); c.close()' &
    pids+=($!)
    sleep 0.5
    ip netns exec "$OUT" timeout 10 python3 -c '
import socket
c = socket.create_connection(("203.0.113.10", 8080), timeout=5)
print("outside client got:", c.makefile().readline().strip())'
    wait "${pids[-1]}" || true
fi

echo "== nat-tun session table (SIGUSR1)"
kill -USR1 "${pids[0]}"
sleep 0.3

if [ "$shell" = yes ]; then
    echo "== shell in the inside namespace; exit to tear down"
    ip netns exec "$IN" "${SHELL:-/bin/sh}" || true
fi
