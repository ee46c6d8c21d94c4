#!/bin/bash
# End to end: nat-tun as the NAT router between 10.0.0.0/24 and the outside
# (topology in lib.sh), with the routing set up exactly as in nat-tun(8).
. "$(dirname "$0")/lib.sh"
e2e_require_netns dumpcap tshark
PROG="$top_builddir/examples/nat-tun"
[ -x "$PROG" ] || e2e_skip "examples not built"
e2e_start nat-tun
topo_build

# The router: addresses for the kernel, the TUN device, and the routing of
# nat-tun(8): inside traffic and traffic for $PUB go into nat0.
nsx r ip addr add 10.0.0.1/24 dev lan0
nsx r ip addr add 203.0.113.1/24 dev wan0
nsx r ip route add default via 203.0.113.2
nsx r sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
nsx r ip tuntap add dev nat0 mode tun
nsx r ip link set nat0 up
nsx r ip route add default dev nat0 table 100
nsx r ip rule add iif lan0 lookup 100 pref 100
nsx r ip route add $PUB/32 dev nat0
nsx r ip neigh add proxy $PUB dev wan0
nsx r sysctl -qw net.ipv4.neigh.wan0.proxy_delay=0

spawn r "$WORK/nat.log" "$PROG" --tun nat0 --public $PUB \
    --inside 10.0.0.0/24 --forward tcp:8080=10.0.0.3:80 --status 1
NAT_PID=$BG_PID
check "nat-tun started" wait_for "$WORK/nat.log" "translating on nat0" 10

captures_start
run_traffic_checks
captures_stop

kill -USR1 "$NAT_PID"
check "SIGUSR1 dumps the session table" \
    wait_for "$WORK/nat.log" "src=10.0.0.2 dst=198.51.100.2 sport=.* dport=5001" 5
check "periodic status line" grep -q "^nat-tun: sessions" "$WORK/nat.log"
stop_nat "$NAT_PID" "$WORK/nat.log"
check "checksums on the inside" check_checksums "$WORK/in.pcap" 1000
check "checksums on the outside" check_checksums "$WORK/out.pcap" 1000
check "no inside address on the outside" check_no_leak "$WORK/out.pcap"
echo "---- nat-tun log (tail)"
grep -v '^nat-tun: sessions' "$WORK/nat.log" | tail -n 30
e2e_finish
