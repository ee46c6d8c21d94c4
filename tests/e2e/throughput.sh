#!/bin/bash
# Throughput of nat-tun beside the Linux kernel's own NAT (nftables
# masquerade), in the same namespace topology (lib.sh), one after the
# other in one run. Not part of make check: run it by hand, as root:
#
#   top_builddir=build tests/e2e/throughput.sh [SECONDS]
#
# Prints iperf3's TCP throughput, inside host -> server two hops away,
# for each NAT. Offloads are off on every veth (lib.sh), for both.
. "$(dirname "$0")/lib.sh"
e2e_require_netns iperf3 nft
PROG="$top_builddir/examples/nat-tun"
[ -x "$PROG" ] || e2e_skip "examples not built"
SECS=${1:-10}
e2e_start throughput

iperf() {
    spawn f "$WORK/iperf-s.log" timeout $((SECS + 30)) iperf3 -s -1 -p 5201
    local srv=$BG_PID i
    for ((i = 0; i < 50; i++)); do
        nsx f ss -ltn 2>/dev/null | grep -q ':5201 ' && break
        sleep 0.1
    done
    nsx h2 timeout $((SECS + 20)) iperf3 -c 198.51.100.2 -p 5201 -t "$SECS" -J \
        >"$WORK/iperf.json"
    wait "$srv"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["end"]; print("%.2f Gbit/s received, %d retransmits" % (e["sum_received"]["bits_per_second"]/1e9, e["sum_sent"].get("retransmits", 0)))' "$WORK/iperf.json"
}

# 1. nat-tun, routed as in nat-tun(8).
NAME=tput-tun
topo_build
nsx r ip addr add 10.0.0.1/24 dev lan0
nsx r ip addr add 203.0.113.1/24 dev wan0
nsx r ip route add default via 203.0.113.2
nsx r sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
nsx r ip tuntap add dev nat0 mode tun
nsx r ip link set nat0 up txqueuelen ${TUNQ:-5000}
nsx r ip route add default dev nat0 table 100
nsx r ip rule add iif lan0 lookup 100 pref 100
nsx r ip route add $PUB/32 dev nat0
nsx r ip neigh add proxy $PUB dev wan0
nsx r sysctl -qw net.ipv4.neigh.wan0.proxy_delay=0
spawn r "$WORK/nat.log" "$PROG" --tun nat0 --public $PUB --inside 10.0.0.0/24 --status 0
wait_for "$WORK/nat.log" "translating on nat0" 10 >/dev/null
nsx h2 ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null
echo "nat-tun (libnat, user space): $(iperf)"

# 2. The kernel: forwarding plus nftables masquerade on wan0.
NAME=tput-kernel
topo_build
nsx r ip addr add 10.0.0.1/24 dev lan0
nsx r ip addr add 203.0.113.1/24 dev wan0
nsx r ip route add default via 203.0.113.2
nsx r sysctl -qw net.ipv4.ip_forward=1
nsx r nft -f - <<NFT
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" masquerade
    }
}
NFT
nsx h2 ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null
echo "kernel nftables masquerade:   $(iperf)"
e2e_finish
