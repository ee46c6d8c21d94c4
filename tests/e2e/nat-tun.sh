#!/bin/bash
# End to end: nat-tun as the NAT router between 10.0.0.0/24 and the outside
# (topology in lib.sh), with the routing set up exactly as in nat-tun(8).
# The same checks run twice: with one thread, then with --workers 2
# (nat-tun(8), WORKERS), which adds checks of the steering.
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
# With several workers hairpinned packets pass through nat0 twice: no
# ICMP redirects for that.
nsx r sysctl -qw net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.nat0.send_redirects=0

# Extra addresses of h2, to find inside hosts that nat-tun steers to each
# worker.
CANDIDATES=()
for i in $(seq 20 35); do
    nsx h2 ip addr add 10.0.0.$i/24 dev eth0
    CANDIDATES+=(10.0.0.$i)
done

# The worker holding the ICMP session of inside address $1 in the session
# dump (SIGUSR1) in $2, or nothing.
worker_of() {
    awk -v a="src=$1 " '/^worker [0-9]+:$/ { w = $2 + 0 }
        index($0, a) && / type=8 / { print w; exit }' "$2"
}

# wait_for_count FILE PATTERN N SECS: wait until PATTERN is on N lines.
wait_for_count() {
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        [ "$(grep -c "$2" "$1")" -ge "$3" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $3 lines '$2' in $1"
    return 1
}

# Steering checks for nat-tun --workers 2, log $1: inside hosts on both
# workers, hairpin to the forward (worker 0) from each, and fragments
# through a worker that is not worker 0.
steering_checks() {
    local log=$1 a ok=0 w0="" w1=""
    for a in "${CANDIDATES[@]}"; do
        nsx h2 ping -c 1 -W 2 -I "$a" 198.51.100.2 >/dev/null 2>&1 && ok=$((ok + 1))
    done
    check "ping from ${#CANDIDATES[@]} inside addresses ($ok answered)" \
        test "$ok" -eq "${#CANDIDATES[@]}"
    local before
    before=$(grep -c '^worker 1:$' "$log")
    kill -USR1 "$NAT_PID"
    check "SIGUSR1 dumps the table of each worker" \
        wait_for_count "$log" '^worker 1:$' $((before + 1)) 5
    # The last dump only: from its "worker 0:" line on.
    awk '/^worker 0:$/ { n = NR } { line[NR] = $0 }
        END { for (i = n; i <= NR; i++) print line[i] }' "$log" >"$log.dump"
    for a in "${CANDIDATES[@]}"; do
        case $(worker_of "$a" "$log.dump") in
        0) [ -n "$w0" ] || w0=$a ;;
        1) [ -n "$w1" ] || w1=$a ;;
        esac
    done
    check "inside hosts are spread over both workers ($w0 on 0, $w1 on 1)" \
        test -n "$w0" -a -n "$w1"
    [ -n "$w0" ] && [ -n "$w1" ] || return 0

    # Hairpin: the client's worker translates its source, the kernel routes
    # the packet back in, and worker 0 (the forward's) its destination;
    # the reply takes the same way back.
    spawn h3 "$WORK/banner81.log" timeout 20 python3 "$NETTOOL" banner-server 81 15
    local n=0
    for a in "$w0" "$w1"; do
        n=$((n + 1))
        nsx h2 ip route replace $PUB/32 via 10.0.0.1 src "$a"
        check "hairpin from $a (worker $(worker_of "$a" "$log.dump")) -> $PUB:8081 -> 10.0.0.3:81" \
            nsx h2 timeout 10 python3 "$NETTOOL" banner $PUB 8081
        check "hairpinned connection from $a comes from the public address" \
            wait_for_count "$WORK/banner81.log" "^client $PUB:" $n 3
        nsx h2 ip route del $PUB/32
    done

    # Fragments: inbound, the first goes to the owner of the port, the
    # others follow it (nat_steer() alone would send them to worker 0).
    nsx h2 ip route replace 198.51.100.2/32 via 10.0.0.1 src "$w1"
    spawn f "$WORK/udp-echo2.log" timeout 15 python3 "$NETTOOL" udp-echo-server 7008 10
    check "UDP echo of 4000-byte datagrams (IP fragments) from $w1 (worker 1)" \
        nsx h2 timeout 20 python3 "$NETTOOL" udp-echo 198.51.100.2 7008 5 4000
    nsx h2 ip route del 198.51.100.2/32
}

for workers in 1 2; do
    echo "==== nat-tun --workers $workers"
    log="$WORK/nat-w$workers.log"
    spawn r "$log" "$PROG" --tun nat0 --public $PUB --inside 10.0.0.0/24 \
        --forward tcp:8080-8081=10.0.0.3:80 --status 1 --workers $workers
    NAT_PID=$BG_PID
    check "nat-tun started" wait_for "$log" "translating on nat0" 10

    captures_start
    run_traffic_checks
    [ "$workers" -gt 1 ] && steering_checks "$log"
    captures_stop

    kill -USR1 "$NAT_PID"
    check "SIGUSR1 dumps the session table" \
        wait_for "$log" "src=10.0.0.2 dst=198.51.100.2 sport=.* dport=5001" 5
    check "periodic status line" grep -q "^nat-tun: sessions" "$log"
    stop_nat "$NAT_PID" "$log"
    if [ "$workers" -gt 1 ]; then
        check "the forwarded ports are outside the slices" \
            grep -q "^nat-tun: worker 0: external ports and ICMP identifiers 8082-" "$log"
        check "a summary line per worker" \
            grep -q "^nat-tun: worker 1: [0-9]* packets" "$log"
    fi
    check "checksums on the inside" check_checksums "$WORK/in.pcap" 1000
    check "checksums on the outside" check_checksums "$WORK/out.pcap" 1000
    check "no inside address on the outside" check_no_leak "$WORK/out.pcap"
    echo "---- nat-tun --workers $workers log (tail)"
    grep -v '^nat-tun: sessions' "$log" | tail -n 30
    # End this run's servers, which would hold their ports in the next.
    kill $(jobs -p) 2>/dev/null
    wait
done
# RFC 5508 REQ-8, RFC 6888 REQ-11b: with two sessions per host, a third
# new flow is refused and the inside host hears ICMP destination
# unreachable, code 13, from the router's inside address (the first
# address of --inside). The kernel takes that source, one of its own, from
# nat0 only with accept_local (nat-tun(8)).
echo "==== nat-tun --host-sessions 2"
nsx r sysctl -qw net.ipv4.conf.nat0.accept_local=1
log="$WORK/nat-limit.log"
spawn r "$log" "$PROG" --tun nat0 --public $PUB --inside 10.0.0.0/24 \
    --host-sessions 2 --status 0
NAT_PID=$BG_PID
check "nat-tun --host-sessions 2 started" wait_for "$log" "translating on nat0" 10
check "a flow beyond the per-host limit gets ICMP unreachable code 13 from 10.0.0.1" \
    nsx h2 timeout 20 python3 "$NETTOOL" prohibited 198.51.100.2 7100 10.0.0.1
stop_nat "$NAT_PID" "$log"
check "the refusals are counted as per-host limit drops" \
    grep -q "^  host-sessions " "$log"
grep -A3 '^drops by reason' "$log"

echo "==== nat-tun --host-sessions 2 --no-icmp"
log="$WORK/nat-noicmp.log"
spawn r "$log" "$PROG" --tun nat0 --public $PUB --inside 10.0.0.0/24 \
    --host-sessions 2 --status 0 --no-icmp
NAT_PID=$BG_PID
check "nat-tun --no-icmp started" wait_for "$log" "translating on nat0" 10
check "with --no-icmp no ICMP error comes back" \
    sh -c "! ip netns exec $(ns h2) timeout 20 python3 $NETTOOL prohibited 198.51.100.2 7200 10.0.0.1"
stop_nat "$NAT_PID" "$log"
e2e_finish
