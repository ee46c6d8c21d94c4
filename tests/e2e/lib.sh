# Shared code of the end-to-end tests (sourced, not run).
#
# Each test builds its own network namespaces, named after the test and
# its PID, so tests may run in parallel; a trap deletes them, and ends the
# processes the test started (by PID), however the test exits. All traffic
# stays inside these namespaces: nothing is sent from the root namespace.
#
# Topology (addresses from DESIGN.md):
#
#   h2  10.0.0.2 ─┐
#                 sw (bridge) ── lan0 [ r: the NAT ] wan0 ── eth0 s eth1 ── f
#   h3  10.0.0.3 ─┘                                  203.0.113.2   198.51.100.1
#                                                                198.51.100.2
#
# The NAT's public address is 203.0.113.10. s is an outside router and
# server, f a server one hop further. Each test sets up r for its program.
#
# Environment:
#   NAT_E2E=offline   skip the tests that need root and namespaces (CI sets
#                     it for the -Werror and distcheck runs, which would
#                     only repeat them)
#   NAT_E2E_KEEP=1    keep the work directory (captures, logs) on exit

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
NETTOOL="$E2E_DIR/nettool.py"
PUB=203.0.113.10

e2e_skip() {
    echo "SKIP: $*"
    exit 77
}

# Skip unless we can build namespaces with the tools this test needs.
e2e_require_netns() {
    [ "${NAT_E2E:-}" = offline ] && e2e_skip "NAT_E2E=offline: network namespace tests not run"
    [ "$(id -u)" -eq 0 ] || e2e_skip "needs root to create network namespaces (run make check as root)"
    local t
    for t in ip ethtool python3 timeout "$@"; do
        command -v "$t" >/dev/null 2>&1 || e2e_skip "$t is not installed"
    done
    if ! ip netns add "e2e-probe-$$" 2>/dev/null; then
        e2e_skip "network namespaces are not available here"
    fi
    ip netns del "e2e-probe-$$"
}

E2E_NS=()
E2E_PIDS=()
E2E_FAILED=0

e2e_cleanup() {
    local rc=$? pid ns
    for pid in "${E2E_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${E2E_PIDS[@]}"; do
        # Bounded wait, then the hard way.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null
    done
    for ns in "${E2E_NS[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    if [ -n "${NAT_E2E_KEEP:-}" ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}

# Start the test: a work directory and the cleanup trap.
e2e_start() {
    NAME=$1
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/nat-e2e-$NAME.XXXXXX")
    trap e2e_cleanup EXIT
    trap 'exit 1' INT TERM
    START=$SECONDS
}

# ns NAME: the real name of namespace NAME of this test.
ns() {
    echo "e2e-$NAME-$$-$1"
}

# nsx NAME cmd...: run cmd in namespace NAME.
nsx() {
    local n
    n=$(ns "$1")
    shift
    ip netns exec "$n" "$@"
}

ns_add() {
    local n
    for n in "$@"; do
        ip netns add "$(ns "$n")"
        E2E_NS+=("$(ns "$n")")
        nsx "$n" ip link set lo up
        # Quiet interfaces: no IPv6 autoconfiguration chatter.
        nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
    done
}

# veth A IFA B IFB: a veth pair between namespaces A and B, up, with
# checksum and segmentation offloads off so captures show real checksums
# and every packet is one frame on the wire.
veth() {
    ip -n "$(ns "$1")" link add "$2" type veth peer name "$4" netns "$(ns "$3")"
    offload_off "$1" "$2"
    offload_off "$3" "$4"
    nsx "$1" ip link set "$2" up
    nsx "$3" ip link set "$4" up
}

offload_off() {
    nsx "$1" ethtool -K "$2" tx off rx off tso off gso off gro off \
        >/dev/null 2>&1 || true
}

# spawn NAME LOG cmd...: start cmd in namespace NAME in the background, output
# to LOG; its PID is remembered for cleanup and left in $BG_PID.
spawn() {
    local n=$1 log=$2
    shift 2
    ip netns exec "$(ns "$n")" "$@" >"$log" 2>&1 &
    BG_PID=$!
    E2E_PIDS+=("$BG_PID")
}

# Build the topology around r; r's interfaces lan0 and wan0 are up but
# unconfigured.
topo_build() {
    ns_add h2 h3 sw r s f
    nsx sw ip link add br0 type bridge
    nsx sw ip link set br0 up
    veth h2 eth0 sw p2
    veth h3 eth0 sw p3
    veth r lan0 sw pr
    local p
    for p in p2 p3 pr; do
        nsx sw ip link set "$p" master br0
    done
    veth r wan0 s eth0
    veth s eth1 f eth0

    nsx h2 ip addr add 10.0.0.2/24 dev eth0
    nsx h2 ip route add default via 10.0.0.1
    nsx h3 ip addr add 10.0.0.3/24 dev eth0
    nsx h3 ip route add default via 10.0.0.1
    nsx s ip addr add 203.0.113.2/24 dev eth0
    nsx s ip addr add 198.51.100.1/24 dev eth1
    nsx s sysctl -qw net.ipv4.ip_forward=1
    nsx f ip addr add 198.51.100.2/24 dev eth0
    nsx f ip route add default via 198.51.100.1
}

# check NAME cmd...: run a check, print its result, remember failures.
check() {
    local what=$1 t0=$SECONDS
    shift
    if "$@" >"$WORK/check.out" 2>&1; then
        echo "ok   $what ($((SECONDS - t0)) s): $(tail -n 1 "$WORK/check.out")"
    else
        echo "FAIL $what ($((SECONDS - t0)) s):"
        sed 's/^/     /' "$WORK/check.out"
        E2E_FAILED=1
    fi
}

# wait_for FILE PATTERN SECS: wait until FILE contains PATTERN.
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1"
    return 1
}

# Start captures on the inside host and on the outside router, the two
# sides of the NAT, for the checksum and leak checks.
captures_start() {
    spawn h2 "$WORK/cap-in.err" timeout 120 dumpcap -q -i eth0 -w "$WORK/in.pcap"
    CAP_IN=$BG_PID
    spawn s "$WORK/cap-out.err" timeout 120 dumpcap -q -i eth0 -w "$WORK/out.pcap"
    CAP_OUT=$BG_PID
    # dumpcap says nothing when started with -q: wait for its files.
    local i
    for ((i = 0; i < 50; i++)); do
        [ -s "$WORK/in.pcap" ] && [ -s "$WORK/out.pcap" ] && break
        sleep 0.1
    done
    sleep 0.3
}

captures_stop() {
    kill "$CAP_IN" "$CAP_OUT" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$CAP_IN" 2>/dev/null || kill -0 "$CAP_OUT" 2>/dev/null ||
            return 0
        sleep 0.1
    done
}

TSHARK_CK=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE
    -o udp.check_checksum:TRUE)

# Count the packets of capture $1 that match display filter $2.
pcap_count() {
    tshark -r "$1" "${TSHARK_CK[@]}" -Y "$2" 2>/dev/null | wc -l
}

# Zero bad IP, TCP, UDP or ICMP checksums in capture $1 (of at least $2
# packets). A TCP checksum of 0xFFFF where 0x0000 was computed is the same
# number in one's complement (RFC 1624 section 3), and Linux sends it
# itself (its software checksum never writes 0): not counted.
check_checksums() {
    local total bad tcp='tcp.checksum.status == 0'
    # (Older tshark lacks the field: then such packets count as bad.)
    tshark -G fields 2>/dev/null | grep -q $'\ttcp.checksum.ffff\t' &&
        tcp="($tcp && !tcp.checksum.ffff)"
    total=$(tshark -r "$1" 2>/dev/null | wc -l)
    bad=$(pcap_count "$1" "ip.checksum.status == 0 || $tcp || udp.checksum.status == 0 || icmp.checksum.status == 0")
    echo "$total packets, $bad with a bad checksum"
    [ "$total" -ge "$2" ] && [ "$bad" -eq 0 ]
}

# No inside address anywhere (outer or quoted headers) in capture $1.
check_no_leak() {
    local total leaked
    total=$(tshark -r "$1" 2>/dev/null | wc -l)
    leaked=$(pcap_count "$1" 'ip.addr == 10.0.0.0/8')
    echo "$total packets on the outside, $leaked with an inside address"
    [ "$total" -gt 0 ] && [ "$leaked" -eq 0 ]
}

# The checks every NAT program must pass, through the topology above with
# a port forward tcp:8080 -> 10.0.0.3:80 configured on the NAT.
run_traffic_checks() {
    local mb=${E2E_MB:-16}
    check "ping through the NAT (two hops)" \
        nsx h2 ping -c 3 -i 0.2 -W 2 198.51.100.2

    spawn f "$WORK/tcp-send.log" timeout 60 python3 "$NETTOOL" tcp-send 5001 $((mb << 20))
    local send_pid=$BG_PID
    check "TCP transfer of $mb MiB" nsx h2 timeout 60 python3 "$NETTOOL" tcp-recv 198.51.100.2 5001
    local got
    got=$(awk '/^received/ {print $3}' "$WORK/check.out")
    wait "$send_pid"
    check "sha256 equal at both ends" \
        grep -q "sent sha256 $got bytes $((mb << 20)) to $PUB:" "$WORK/tcp-send.log"
    cat "$WORK/tcp-send.log"

    spawn f "$WORK/udp-echo.log" timeout 15 python3 "$NETTOOL" udp-echo-server 7007 10
    check "UDP echo" nsx h2 timeout 20 python3 "$NETTOOL" udp-echo 198.51.100.2 7007 20
    check "UDP echo of 4000-byte datagrams (IP fragments)" \
        nsx h2 timeout 20 python3 "$NETTOOL" udp-echo 198.51.100.2 7007 5 4000

    spawn h2 "$WORK/unsolicited.log" timeout 10 python3 "$NETTOOL" udp-listen 9000 2
    local listen_pid=$BG_PID
    sleep 0.3
    check "send unsolicited UDP to the public address" \
        nsx f timeout 10 python3 "$NETTOOL" udp-send $PUB 9000 20
    wait "$listen_pid"
    check "unsolicited inbound UDP does not reach the inside host" \
        grep -q "udp received 0 from nobody" "$WORK/unsolicited.log"

    spawn h3 "$WORK/banner.log" timeout 30 python3 "$NETTOOL" banner-server 80 20
    check "port forward tcp:8080 -> 10.0.0.3:80 reachable from outside" \
        nsx f timeout 10 python3 "$NETTOOL" banner $PUB 8080
    check "forwarded connection keeps the outside source address" \
        wait_for "$WORK/banner.log" "client 198.51.100.2:" 3
    check "hairpin 10.0.0.2 -> $PUB:8080 -> 10.0.0.3" \
        nsx h2 timeout 10 python3 "$NETTOOL" banner $PUB 8080
    check "hairpinned connection comes from the public address" \
        wait_for "$WORK/banner.log" "client $PUB:" 3

    check "ICMP time exceeded from beyond the NAT reaches the inside host" \
        nsx h2 timeout 20 python3 "$NETTOOL" ttl-probe 198.51.100.2 33434 203.0.113.2
    check "ICMP port unreachable from outside reaches the inside host" \
        nsx h2 timeout 10 python3 "$NETTOOL" unreach 198.51.100.2 9
}

# Stop the NAT program $1 (PID) with SIGTERM and check it exits cleanly.
stop_nat() {
    local pid=$1 log=$2 rc=0
    kill -TERM "$pid" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$pid" || rc=$?
    check "clean shutdown on SIGTERM (exit status $rc)" test "$rc" -eq 0
    check "summary printed on exit" grep -q "^sessions:" "$log"
}

e2e_finish() {
    echo "---- $NAME finished in $((SECONDS - START)) s"
    [ "$E2E_FAILED" -eq 0 ]
}
