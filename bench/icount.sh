#!/bin/sh
# icount.sh: instructions per packet of nat_translate(), counted by callgrind.
#
#   bench/icount.sh ICOUNT [PATH...]
#
# ICOUNT is a built bench/icount (this script builds nothing; `make` builds
# it). For each path (default: all of `ICOUNT --list`) it runs
#
#   valgrind --tool=callgrind --collect-atstart=no \
#       --toggle-collect=measured_loop ICOUNT PATH COUNT
#
# and prints a markdown table of the instructions (Ir) collected inside
# measured_loop() divided by COUNT. COUNT is 200000 packets, 100000 for
# new-udp (new sessions); override with COUNT=... and NEW_COUNT=... in the
# environment. VALGRIND=... names another valgrind. Callgrind output is
# kept in $KEEP when that is set (a directory), else thrown away.
set -eu

usage() {
    echo "usage: $0 ICOUNT [PATH...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
bin=$1
shift
case $bin in
*/*) ;;
*) bin=./$bin ;;
esac
if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
    echo "$0: $bin: not an executable" >&2
    exit 2
fi
# A libtool wrapper script would have callgrind count /bin/sh.
if [ "$(head -c 2 "$bin")" = "#!" ]; then
    echo "$0: $bin is a script (libtool wrapper?): give the real binary" >&2
    exit 2
fi

COUNT=${COUNT:-200000}
NEW_COUNT=${NEW_COUNT:-100000}
VALGRIND=${VALGRIND:-valgrind}

list=$("$bin" --list)
if [ $# -eq 0 ]; then
    # shellcheck disable=SC2046 # path names are single words
    set -- $(printf '%s\n' "$list" | cut -f 1)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/icount.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
out=${KEEP:-$tmp}
mkdir -p "$out"

echo "| path | instructions per packet |"
echo "|---|---|"
for p in "$@"; do
    what=$(printf '%s\n' "$list" | awk -F '\t' -v p="$p" '$1 == p { print $2 }')
    if [ -z "$what" ]; then
        echo "$0: unknown path $p" >&2
        exit 2
    fi
    n=$COUNT
    [ "$p" = new-udp ] && n=$NEW_COUNT
    cg=$out/callgrind.out.$p
    if ! "$VALGRIND" --tool=callgrind --collect-atstart=no \
        --toggle-collect=measured_loop --callgrind-out-file="$cg" \
        "$bin" "$p" "$n" >"$tmp/$p.log" 2>&1; then
        cat "$tmp/$p.log" >&2
        echo "$0: $p failed" >&2
        exit 1
    fi
    # "totals:" is the sum of all collected events, here only measured_loop
    # and what it calls ("summary:" in older callgrind formats).
    ir=$(sed -n 's/^totals: *\([0-9][0-9]*\).*/\1/p' "$cg")
    [ -n "$ir" ] || ir=$(sed -n 's/^summary: *\([0-9][0-9]*\).*/\1/p' "$cg")
    if [ -z "$ir" ] || [ "$ir" -eq 0 ]; then
        echo "$0: $p: no instructions collected (is measured_loop there?)" >&2
        exit 1
    fi
    # shellcheck disable=SC2016 # literal backquotes: markdown code
    printf '| %s (`%s`) | %s |\n' "$what" "$p" \
        "$(awk -v ir="$ir" -v n="$n" 'BEGIN { printf "%.1f", ir / n }')"
done
