#!/bin/bash
# Cross build and test under qemu-user, for the portability CI step:
#
#   bash .ci/cross.sh i686     32-bit little-endian (i386 ABI)
#   bash .ci/cross.sh s390x    64-bit big-endian
#
# Run from anywhere in a checkout (a clean clone is fine: it runs
# autogen.sh when there is no configure), as root on Debian 12 (or with
# sudo). It installs what it needs with apt-get (idempotent):
#   - the Debian cross compiler gcc-<triplet> and qemu-user;
#   - the target's libcheck and libsubunit, fetched with `apt-get download`
#     (after `dpkg --add-architecture`) and unpacked with `dpkg -x` into a
#     sysroot, build-cross-ARCH/sysroot/; nothing of the target
#     architecture is installed on the host.
# Then it configures build-cross-ARCH/ with --host=<triplet>,
# --disable-shared, no examples (no libpcap for the target, and so no
# end-to-end namespace tests), -Werror and UBSan (ASan does not run under
# qemu-user), and runs `make check` with every target binary run through
# `qemu-<arch> -L /usr/<triplet>` (automake's LOG_COMPILER; binfmt_misc is
# not needed). libcheck and libsubunit are linked statically; glibc and
# libubsan come at run time from the cross packages in /usr/<triplet>
# (a fully static UBSan build does not link on i686: static libubsan
# needs __tls_get_addr, which only the dynamic loader has). That covers
# tests/check_libnat and the fuzz corpus replays fuzz/replay_*;
# tests/exports.sh skips (no shared library). Exit status non-zero when
# anything fails; the logs of failed tests are printed.
#
# Environment: CROSS_UBSAN=no builds without UBSan; CROSS_WERROR=no
# without -Werror; CROSS_JOBS=N for make -jN (default: nproc).
set -euo pipefail

usage() {
    echo "usage: $0 i686|s390x" >&2
    exit 2
}

[ $# -eq 1 ] || usage
arch=$1
case $arch in
i686)
    triplet=i686-linux-gnu
    debarch=i386
    qemu=qemu-i386
    ;;
s390x)
    triplet=s390x-linux-gnu
    debarch=s390x
    qemu=qemu-s390x
    ;;
*) usage ;;
esac
multiarch=$triplet
[ "$arch" = i686 ] && multiarch=i386-linux-gnu

cd "$(dirname "$0")/.."
top=$(pwd)
build=$top/build-cross-$arch
sysroot=$build/sysroot
jobs=${CROSS_JOBS:-$(nproc 2>/dev/null || echo 2)}
start=$SECONDS

say() {
    printf '==> [cross %s] %s\n' "$arch" "$*"
}

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    sudo=()
fi
export DEBIAN_FRONTEND=noninteractive

installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# ---- 1. host packages: cross compiler, qemu-user, autotools ----------------
host_packages=(gcc-"$triplet" qemu-user make autoconf automake libtool
    pkg-config)
missing=()
for p in "${host_packages[@]}"; do
    installed "$p" || missing+=("$p")
done
updated=no
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    "${sudo[@]}" apt-get update -q
    updated=yes
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v "$triplet-gcc" >/dev/null || {
    echo "cross: $triplet-gcc not found after installing gcc-$triplet" >&2
    exit 1
}
command -v "$qemu" >/dev/null || {
    echo "cross: $qemu not found after installing qemu-user" >&2
    exit 1
}

# ---- 2. target libcheck in a sysroot ---------------------------------------
if ! grep -qx "$debarch" <<<"$(dpkg --print-foreign-architectures)"; then
    say "dpkg --add-architecture $debarch"
    "${sudo[@]}" dpkg --add-architecture "$debarch"
    updated=no
fi
target_debs=(check:"$debarch" libsubunit-dev:"$debarch" libsubunit0:"$debarch")
if ! apt-cache show "check:$debarch" >/dev/null 2>&1; then
    if [ "$updated" = yes ]; then
        echo "cross: apt has no check:$debarch" >&2
        exit 1
    fi
    "${sudo[@]}" apt-get update -q
fi

rm -rf "$build"
mkdir -p "$build/debs" "$sysroot"
# apt-get download drops privileges to _apt where it can write.
chmod 777 "$build/debs"
say "fetching ${target_debs[*]}"
if ! (cd "$build/debs" && apt-get download -q "${target_debs[@]}"); then
    # Stale package lists (the mirror moved on): refresh once and retry.
    "${sudo[@]}" apt-get update -q
    (cd "$build/debs" && apt-get download -q "${target_debs[@]}")
fi
for deb in "$build"/debs/*.deb; do
    dpkg -x "$deb" "$sysroot"
done
# Only the archives: the tests link libcheck and libsubunit statically and
# need nothing from the sysroot at run time.
rm -f "$sysroot/usr/lib/$multiarch"/*.so*
[ -f "$sysroot/usr/lib/$multiarch/pkgconfig/check.pc" ] || {
    echo "cross: no check.pc in $sysroot/usr/lib/$multiarch/pkgconfig" >&2
    exit 1
}

# ---- 3. configure and build ------------------------------------------------
if [ ! -x "$top/configure" ]; then
    say "generating configure (autogen.sh)"
    "$top/autogen.sh"
fi

# pkg-config answers from the sysroot only, with its paths prefixed.
export PKG_CONFIG_LIBDIR=$sysroot/usr/lib/$multiarch/pkgconfig:$sysroot/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$sysroot
unset PKG_CONFIG_PATH

opts=(--host="$triplet" --build="$("$top/build-aux/config.guess")"
    --disable-shared --disable-examples)
[ "${CROSS_WERROR:-yes}" = no ] || opts+=(--enable-werror)
[ "${CROSS_UBSAN:-yes}" = no ] || opts+=(--enable-ubsan)
cppflags=
if [ "$arch" = i686 ]; then
    # 64-bit off_t/ino_t, hence readdir64: under qemu-user the host kernel
    # hands a 32-bit guest the 64-bit ext4 directory offsets it gives any
    # 64-bit process, glibc's 32-bit readdir() fails on them with
    # EOVERFLOW, and fuzz/replay_* would read an empty corpus.
    cppflags=-D_FILE_OFFSET_BITS=64
fi

say "configure ${opts[*]}"
(cd "$build" && "$top/configure" -q "${opts[@]}" \
    CC="$triplet-gcc" PKG_CONFIG=pkg-config \
    CFLAGS="-g -O2" CPPFLAGS="$cppflags")
grep -qx "HAVE_CHECK_TRUE=''" "$build/config.log" || {
    echo "cross: configure did not find the target's libcheck" >&2
    exit 1
}

say "make -j$jobs"
make --no-print-directory -C "$build" -j"$jobs"

# ---- 4. make check under qemu-user ------------------------------------------
# LOG_COMPILER: target ELF files run under qemu, scripts run as they are.
# -L makes the target's dynamic loader /usr/<triplet>/lib/ld*.so; the
# explicit LD_LIBRARY_PATH keeps that loader from following the host's
# /etc/ld.so.cache to a different glibc build of the same architecture
# (on x86_64 hosts with libc6-i386 installed, /lib32/libc.so.6: mixed with
# the cross package's ld-linux.so.2, a forked child spins forever, which
# hangs every Check test, since Check forks for each).
runner=$build/qemu-run
cat >"$runner" <<EOF
#!/bin/sh
# Generated by .ci/cross.sh: run a test, under $qemu when it is an ELF file.
if [ "\$(head -c 4 "\$1" | tr -d '\\177')" = ELF ]; then
    exec $qemu -L /usr/$triplet -E LD_LIBRARY_PATH=/usr/$triplet/lib "\$@"
fi
exec "\$@"
EOF
chmod +x "$runner"

show_failed_logs() {
    local trs
    while IFS= read -r trs; do
        if grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
            echo "======== ${trs%.trs}.log ========"
            cat "${trs%.trs}.log"
        fi
    done < <(find "$build" -name '*.trs' | sort)
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# tests/install.sh would build and install natively: leave it skipped.
unset NAT_INSTALL_TEST
say "make check (tests run under $qemu)"
if ! NAT_E2E=offline make --no-print-directory -C "$build" -j"$jobs" check \
    LOG_COMPILER="$runner"; then
    show_failed_logs
    say "FAILED after $((SECONDS - start))s"
    exit 1
fi

# The check must really have run the unit tests and every corpus replay
# on the target, not skipped them.
replays=("$build"/fuzz/replay_*.trs)
[ -e "${replays[0]}" ] || {
    echo "cross: no fuzz/replay_* test ran" >&2
    exit 1
}
for trs in "$build/tests/check_libnat.trs" "${replays[@]}"; do
    if ! grep -q '^:test-result: PASS' "$trs" 2>/dev/null; then
        echo "cross: ${trs%.trs} did not run and pass" >&2
        exit 1
    fi
done
grep -h '^[0-9]*%: Checks' "$build/tests/check_libnat.log" || true
"$triplet-readelf" -h "$build/tests/check_libnat" |
    grep -E '^ *(Class|Data|Machine):' || true
say "passed in $((SECONDS - start))s"
