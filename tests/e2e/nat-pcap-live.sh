#!/bin/bash
# End to end: nat-pcap in live mode as the NAT router (topology in lib.sh).
# As in nat-pcap(8), the kernel has no addresses on lan0 and wan0 and does
# not forward; nat-pcap answers ARP for 10.0.0.1 inside and for the public
# address outside, and resolves next hops itself.
. "$(dirname "$0")/lib.sh"
e2e_require_netns dumpcap tshark
PROG="$top_builddir/examples/nat-pcap"
[ -x "$PROG" ] || e2e_skip "examples not built"
e2e_start nat-pcap-live
topo_build

nsx r sysctl -qw net.ipv4.ip_forward=0

spawn r "$WORK/nat.log" "$PROG" --in-if lan0 --out-if wan0 \
    --in-address 10.0.0.1 --gateway 203.0.113.2 --public $PUB \
    --inside 10.0.0.0/24 --forward tcp:8080=10.0.0.3:80 --status 1
NAT_PID=$BG_PID
check "nat-pcap started" wait_for "$WORK/nat.log" "NAT between lan0" 10

captures_start
run_traffic_checks
captures_stop

kill -USR1 "$NAT_PID"
check "SIGUSR1 dumps the session table" \
    wait_for "$WORK/nat.log" "src=10.0.0.2 dst=198.51.100.2 sport=.* dport=5001" 5
check "periodic status line" grep -q "^nat-pcap: sessions" "$WORK/nat.log"
stop_nat "$NAT_PID" "$WORK/nat.log"
check "checksums on the inside" check_checksums "$WORK/in.pcap" 1000
check "checksums on the outside" check_checksums "$WORK/out.pcap" 1000
check "no inside address on the outside" check_no_leak "$WORK/out.pcap"
echo "---- nat-pcap log (tail)"
grep -v '^nat-pcap: sessions' "$WORK/nat.log" | tail -n 30
e2e_finish
