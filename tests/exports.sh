#!/bin/sh
# The shared library exports the public API (nat_*) and nothing else.
lib="${top_builddir:-.}/lib/.libs/libnat.so"
if [ ! -f "$lib" ]; then
    echo "SKIP: $lib not built (static-only build)"
    exit 77
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "SKIP: nm not found"
    exit 77
fi
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
      sed 's/@.*//' | grep -v '^nat_' | grep -v '^LIBNAT_')
if [ -n "$bad" ]; then
    echo "FAIL: exported symbols outside nat_*:"
    echo "$bad"
    exit 1
fi
n=$(nm -D --defined-only "$lib" | grep -c ' T nat_')
echo "PASS: $n nat_* functions exported, nothing else"
