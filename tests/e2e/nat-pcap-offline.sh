#!/bin/bash
# nat-pcap offline (no root needed): replaying the bundled LAN capture is
# deterministic and matches the committed expected output byte for byte;
# the translated packets verify independently (checksums, no inside
# address on the outside); raw IP and Linux cooked captures give the same
# packets in their own link type; bad options exit with status 2.
#
# After an intended change of libnat's choices (e.g. port allocation),
# regenerate the expected output with:
#   nat-pcap --lan-capture -r examples/sample.pcap \
#       -w tests/e2e/data/sample-out.pcap
. "$(dirname "$0")/lib.sh"
[ "${NAT_E2E:-}" = none ] && e2e_skip "NAT_E2E=none"
command -v python3 >/dev/null 2>&1 || e2e_skip "python3 is not installed"
PCAP="$top_builddir/examples/nat-pcap"
[ -x "$PCAP" ] || e2e_skip "examples not built"
SAMPLE="$top_srcdir/examples/sample.pcap"
CHECK="$E2E_DIR/pcapcheck.py"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nat-e2e-offline.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
NAME=offline
START=$SECONDS
E2E_FAILED=0

check "replay the sample capture" \
    "$PCAP" --lan-capture -r "$SAMPLE" -w "$WORK/a.pcap"
check "replay it again" \
    "$PCAP" --lan-capture -r "$SAMPLE" -w "$WORK/b.pcap"
check "two replays are byte-identical" cmp "$WORK/a.pcap" "$WORK/b.pcap"
check "output equals the committed expected output" \
    cmp "$WORK/a.pcap" "$E2E_DIR/data/sample-out.pcap"
check "checksums valid, no inside address in the outside view" \
    python3 "$CHECK" verify "$WORK/a.pcap" 10.0.0.0/8
if command -v tshark >/dev/null 2>&1; then
    check "tshark finds no bad checksum" check_checksums "$WORK/a.pcap" 10
fi
check "verbose mode prints one line per packet and a summary" \
    sh -c "'$PCAP' -v --flows --lan-capture -r '$SAMPLE' -w '$WORK/v.pcap' > '$WORK/v.txt' && \
        test \$(grep -c '^ *[0-9]* *[0-9]*\.[0-9]* ' '$WORK/v.txt') -eq 27 && \
        grep -q '^sessions: 5 created' '$WORK/v.txt' && \
        grep -q 'ip-checksum *1' '$WORK/v.txt' && grep -q '^flow table' '$WORK/v.txt'"
check "verbose mode writes the same output" cmp "$WORK/a.pcap" "$WORK/v.pcap"

# The same conversation in other link types.
for lt in 101 113 276; do
    check "link type $lt: convert the sample" \
        python3 "$CHECK" relink "$SAMPLE" "$WORK/in-$lt.pcap" $lt
    check "link type $lt: replay" \
        "$PCAP" --lan-capture -r "$WORK/in-$lt.pcap" -w "$WORK/out-$lt.pcap"
    check "link type $lt: same packets as from Ethernet" \
        python3 "$CHECK" same-ip "$WORK/a.pcap" "$WORK/out-$lt.pcap"
    check "link type $lt: written back in link type $lt" \
        python3 -c "import struct,sys; d=open('$WORK/out-$lt.pcap','rb').read(24); sys.exit(struct.unpack('<I', d[20:])[0] != $lt)"
done

# Without --lan-capture, replies to inside addresses are not the NAT's.
check "outside capture mode: replies to inside hosts pass untouched" \
    sh -c "'$PCAP' -r '$SAMPLE' -w '$WORK/o.pcap' | grep -q 'written'"

# Usage errors: one line, exit status 2.
usage_error() {
    local rc=0 lines
    "$@" >"$WORK/err.out" 2>&1 || rc=$?
    lines=$(wc -l <"$WORK/err.out")
    cat "$WORK/err.out"
    [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ]
}
for prog in nat-pcap nat-tun nat-raw; do
    P="$top_builddir/examples/$prog"
    check "$prog --help" sh -c "'$P' --help | grep -q '^usage: $prog'"
    check "$prog: unknown option" usage_error "$P" --bogus
    check "$prog: bad address" usage_error "$P" --public 10.0.0.256
    check "$prog: bad prefix" usage_error "$P" --inside 10.0.0.0/33
    check "$prog: bad forward" usage_error "$P" --forward tcp:80=10.0.0.3
    check "$prog: bad mapping" usage_error "$P" --mapping sometimes
done
check "nat-pcap: missing -w" usage_error "$PCAP" -r "$SAMPLE"
check "nat-pcap: unreadable capture is an error, not a crash" \
    sh -c "! '$PCAP' -r /nonexistent.pcap -w '$WORK/x.pcap' 2>/dev/null"
echo "---- offline finished in $((SECONDS - START)) s"
[ "$E2E_FAILED" -eq 0 ]
