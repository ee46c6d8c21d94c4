#!/bin/bash
# Throughput of nat-tun beside the Linux kernel's own NAT (nftables
# masquerade), in the same namespace topology (lib.sh), one after the
# other in one run. Not part of make check: run it by hand, as root:
#
#   top_builddir=build tests/e2e/throughput.sh [--workers N[,N...]] [SECONDS]
#
# Prints iperf3's TCP throughput, inside host -> server two hops away,
# for each NAT: nat-tun once per worker count given (default 1), then the
# kernel. Offloads are off on every veth (lib.sh), for both.
#
# HOSTS=2 runs iperf3 from both inside hosts at once (h2 and h3, to two
# servers on f) and prints the sum: nat_steer() steers by inside host, so
# one host's traffic, however many streams, is one worker's; with two
# hosts the workers' lines show whether they landed on different workers.
# IPERF_P sets the parallel streams per client (default 1).
. "$(dirname "$0")/lib.sh"
WORKERS=1
if [ "${1:-}" = --workers ]; then
    WORKERS=$2
    shift 2
fi
e2e_require_netns iperf3 nft
PROG="$top_builddir/examples/nat-tun"
[ -x "$PROG" ] || e2e_skip "examples not built"
SECS=${1:-10}
e2e_start throughput

iperf() {
    local hosts=(h2) pids=() srvs=() i h port
    [ "${HOSTS:-1}" -ge 2 ] && hosts=(h2 h3)
    for i in "${!hosts[@]}"; do
        port=$((5201 + i))
        spawn f "$WORK/iperf-s$i.log" timeout $((SECS + 30)) iperf3 -s -1 -p $port
        srvs+=("$BG_PID")
        for ((h = 0; h < 50; h++)); do
            nsx f ss -ltn 2>/dev/null | grep -q ":$port " && break
            sleep 0.1
        done
    done
    for i in "${!hosts[@]}"; do
        nsx "${hosts[$i]}" timeout $((SECS + 20)) iperf3 -c 198.51.100.2 \
            -p $((5201 + i)) -t "$SECS" -P "${IPERF_P:-1}" -J \
            >"$WORK/iperf$i.json" &
        pids+=($!)
    done
    wait "${pids[@]}" "${srvs[@]}"
    python3 -c '
import json, sys
bits = retr = 0
for f in sys.argv[1:]:
    e = json.load(open(f))["end"]
    bits += e["sum_received"]["bits_per_second"]
    retr += e["sum_sent"].get("retransmits", 0)
print("%.2f Gbit/s received, %d retransmits" % (bits / 1e9, retr))' \
        "$WORK"/iperf[0-9].json
    rm -f "$WORK"/iperf[0-9].json
}

# 1. nat-tun, routed as in nat-tun(8), once per worker count.
for workers in ${WORKERS//,/ }; do
NAME=tput-tun-$workers
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
spawn r "$WORK/nat.log" "$PROG" --tun nat0 --public $PUB --inside 10.0.0.0/24 \
    --status 0 --workers "$workers"
NAT_PID=$BG_PID
wait_for "$WORK/nat.log" "translating on nat0" 10 >/dev/null
nsx h2 ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null
printf 'nat-tun --workers %-2s (libnat): %s\n' "$workers" "$(iperf)"
kill "$NAT_PID"
wait "$NAT_PID"
[ "$workers" -gt 1 ] && sed -n "s/^nat-tun: \(worker .*\)/    \1/p" "$WORK/nat.log"
done

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
echo "kernel nftables masquerade:     $(iperf)"
e2e_finish
