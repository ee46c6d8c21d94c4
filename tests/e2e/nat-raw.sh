#!/bin/bash
# End to end: nat-raw as the NAT router (topology in lib.sh), with the
# kernel set up exactly as in nat-raw(8): addresses on both interfaces,
# forwarding off, and an nftables rule that keeps the kernel's IP stack
# away from packets for the public address.
. "$(dirname "$0")/lib.sh"
e2e_require_netns dumpcap tshark nft
PROG="$top_builddir/examples/nat-raw"
[ -x "$PROG" ] || e2e_skip "examples not built"
e2e_start nat-raw
topo_build

nsx r ip addr add 10.0.0.1/24 dev lan0
nsx r ip addr add 203.0.113.1/24 dev wan0
nsx r ip addr add $PUB/32 dev wan0
nsx r ip route add default via 203.0.113.2
nsx r sysctl -qw net.ipv4.ip_forward=0
nsx r nft -f - <<NFT
table ip nat_raw {
    chain prerouting {
        type filter hook prerouting priority raw; policy accept;
        ip daddr $PUB drop
    }
}
NFT

spawn r "$WORK/nat.log" "$PROG" --in-if lan0 --out-if wan0 --public $PUB \
    --inside 10.0.0.0/24 --forward tcp:8080=10.0.0.3:80 --status 1
NAT_PID=$BG_PID
check "nat-raw started" wait_for "$WORK/nat.log" "NAT from lan0" 10

captures_start
run_traffic_checks
captures_stop

kill -USR1 "$NAT_PID"
check "SIGUSR1 dumps the session table" \
    wait_for "$WORK/nat.log" "src=10.0.0.2 dst=198.51.100.2 sport=.* dport=5001" 5
check "periodic status line" grep -q "^nat-raw: sessions" "$WORK/nat.log"
stop_nat "$NAT_PID" "$WORK/nat.log"
check "checksums on the inside" check_checksums "$WORK/in.pcap" 1000
check "checksums on the outside" check_checksums "$WORK/out.pcap" 1000
check "no inside address on the outside" check_no_leak "$WORK/out.pcap"
echo "---- nat-raw log (tail)"
grep -v '^nat-raw: sessions' "$WORK/nat.log" | tail -n 30
e2e_finish
