#!/bin/sh
# Run each libFuzzer target for a while: fuzz/run.sh SECONDS [NAME...]
#
# Run from a build directory configured with CC=clang --enable-fuzzing
# (usually through `make fuzz-run FUZZ_SECONDS=N`). NAMEs default to every
# target. New inputs go to fuzz/work/<name>/ in the build directory (the
# committed corpus in the source tree is read, never written); crashes go
# to fuzz/artifacts/; each run's log to fuzz/logs/<name>.log.
# Environment: FUZZ_ARGS adds libFuzzer options (e.g. -jobs=2 -workers=2).
# Exit status 1 if any target found a crash, leak or timeout.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 SECONDS [NAME...]" >&2
    exit 2
fi
secs=$1
shift
srcdir=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- packet checksum config translate diff

mkdir -p fuzz/artifacts fuzz/logs
status=0
for name in "$@"; do
    bin=fuzz/fuzz_$name
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin not built (configure CC=clang --enable-fuzzing)" >&2
        exit 2
    fi
    mkdir -p "fuzz/work/$name"
    dict=
    [ -f "$srcdir/fuzz/$name.dict" ] && dict="-dict=$srcdir/fuzz/$name.dict"
    log=fuzz/logs/$name.log
    echo "fuzz: $name for ${secs}s (log $log)"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$name-" \
        $dict ${FUZZ_ARGS:-} "fuzz/work/$name" "$srcdir/fuzz/corpus/$name" \
        >"$log" 2>&1
    rc=$?
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec)' "$log" | sed "s/^/  $name: /"
    if [ "$rc" -ne 0 ]; then
        echo "fuzz: $name FAILED (exit $rc); see $log" >&2
        grep -E 'ERROR|SUMMARY|invariant failed|Test unit written' "$log" |
            head -n 20 >&2
        status=1
    fi
done
exit $status
