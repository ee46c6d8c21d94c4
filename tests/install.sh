#!/bin/sh
# `make install` from builds configured through a relative source path:
#   1. `../configure` in a build directory inside a copy of the source tree,
#   2. `./configure` in (another copy of) the tree itself.
# For each, into a DESTDIR staging tree:
#   - make install exits 0, and every name on the .Nm lines of man/*.3 has
#     a page or a symlink that resolves to one (`man nat_expire` works);
#   - pkg-config finds libnat there (PKG_CONFIG_SYSROOT_DIR), and a program
#     built with its --cflags --libs against the installed header and library
#     links and runs;
#   - make uninstall removes every page and link.
# And: an install whose man page links cannot be made fails (a page without
# .Nm names), instead of exiting 0 as the links used to.
#
# The copies are made with `make distdir`, so the test works from any build
# (in-tree, out-of-tree, distcheck's read-only source tree). It builds the
# package twice and takes a minute or more, so make check runs it only when
# NAT_INSTALL_TEST=1 is set (.ci/run sets it); otherwise it is skipped.
set -eu

if [ "${NAT_INSTALL_TEST:-0}" != 1 ]; then
    echo "SKIP: set NAT_INSTALL_TEST=1 to run (two full builds; .ci/run does)"
    exit 77
fi

top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
for tool in make pkg-config "${CC:-cc}"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not found"
        exit 77
    fi
done

# The nested builds run their own make: not the jobserver of this one.
unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR || true
jobs=$(nproc 2>/dev/null || echo 2)
prefix=/opt/libnat-install-test

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libnat-install.XXXXXX")
log=$tmp/log
cleanup() {
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$log" ]; then
        echo "---- last lines of $log"
        tail -n 40 "$log"
    fi
    chmod -R u+w "$tmp" 2>/dev/null || true
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
    echo "FAIL: $*"
    exit 1
}

# The names every section-3 page documents, read independently of the
# Makefile's own rule: ".Nm name ," -> name.
names=$(awk '$1 == ".Nm" && $2 != "" { sub(/,$/, "", $2); print $2 }' \
    "$top_srcdir"/man/*.3 | sort -u)
[ -n "$names" ] || fail "no .Nm names in $top_srcdir/man/*.3"
case $names in *nat_expire*) ;; *) fail "nat_expire not documented?" ;; esac

echo "making a copy of the source tree (make distdir)"
make -C "$top_builddir" distdir distdir="$tmp/src" >"$log" 2>&1 ||
    fail "make distdir"
chmod -R u+w "$tmp/src"
cp -pR "$tmp/src" "$tmp/src2"

# check_install DESTDIR: the installed tree is complete and usable.
check_install() {
    dest=$1
    man3=$dest$prefix/share/man/man3
    [ -d "$man3" ] || fail "$man3 missing"
    n=0
    for name in $names; do
        page=$man3/$name.3
        if [ ! -e "$page" ]; then
            if [ -L "$page" ]; then
                fail "$page -> $(readlink "$page") does not resolve"
            fi
            fail "$page missing (man $name would fail)"
        fi
        [ -f "$page" ] && [ -r "$page" ] || fail "$page is not a readable page"
        if [ -L "$page" ]; then
            case $(readlink "$page") in
            */*) fail "$page links outside man3: $(readlink "$page")" ;;
            esac
        fi
        n=$((n + 1))
    done
    if command -v man >/dev/null 2>&1; then
        man -M "$dest$prefix/share/man" -w nat_expire >/dev/null 2>&1 ||
            fail "man -M ... nat_expire finds no page"
    fi

    pc=$(find "$dest$prefix" -name libnat.pc | head -n 1)
    [ -n "$pc" ] || fail "libnat.pc not installed"
    pcdir=$(dirname "$pc")
    flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" \
        PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags --libs libnat) ||
        fail "pkg-config --cflags --libs libnat"
    case $flags in
    *"-I$dest$prefix/include"*"-L$dest$prefix/"*"-lnat"*) ;;
    *) fail "pkg-config flags do not point into $dest: $flags" ;;
    esac
    libdir=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" \
        pkg-config --variable=libdir libnat)
    [ -f "$dest$prefix/include/libnat.h" ] || fail "libnat.h not installed"
    [ -f "$dest$prefix/include/libnat/version.h" ] ||
        fail "libnat/version.h not installed"
    # shellcheck disable=SC2086 # $flags is a list of flags
    ${CC:-cc} -o "$tmp/install-test" "$top_srcdir/tests/install-test.c" \
        $flags -Wl,-rpath,"$dest$libdir" >>"$log" 2>&1 ||
        fail "a program using the installed libnat does not build or link"
    out=$("$tmp/install-test") || fail "the installed-libnat program failed"
    echo "  $out"
    rm -f "$tmp/install-test"
    echo "  $n man page names resolve, pkg-config: $flags"
}

# install_from DIR CONFIGURE-PATH LABEL: configure in DIR with a relative
# path, build, install, check, uninstall.
install_from() {
    dir=$1
    conf=$2
    label=$3
    dest=$tmp/dest-$label
    start=$(date +%s)
    echo "$label: cd $dir && $conf --prefix=$prefix"
    (cd "$dir" && "$conf" --prefix="$prefix" CFLAGS="-O0" >>"$log" 2>&1) ||
        fail "$label: configure"
    (cd "$dir" && make -j"$jobs" >>"$log" 2>&1) || fail "$label: make"
    (cd "$dir" && make install DESTDIR="$dest" >>"$log" 2>&1) ||
        fail "$label: make install"
    check_install "$dest"
    (cd "$dir" && make uninstall DESTDIR="$dest" >>"$log" 2>&1) ||
        fail "$label: make uninstall"
    left=$(find "$dest" -type f -o -type l)
    [ -z "$left" ] || fail "$label: make uninstall left: $left"
    echo "$label: ok in $(($(date +%s) - start)) s"
}

mkdir "$tmp/src/build"
install_from "$tmp/src/build" ../configure dotdot
install_from "$tmp/src2" ./configure dot

# A failure while making the links must fail the install: a page whose
# .Nm lines are gone (the install of the pages themselves still works).
page=$tmp/src2/man/nat_stats_get.3
sed '/^\.Nm /d' "$page" >"$page.new" && mv "$page.new" "$page"
if (cd "$tmp/src2" && make install DESTDIR="$tmp/dest-broken" >>"$log" 2>&1)
then
    fail "make install exits 0 though a man page has no .Nm names"
fi
grep -q 'nat_stats_get.3: no .Nm names' "$log" ||
    fail "the failed install does not name the page"
echo "a man page without .Nm names fails the install: ok"
echo "PASS"
