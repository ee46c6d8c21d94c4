#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets: fuzz/corpus/<name>/seed-*.

    python3 fuzz/gen_corpus.py [OUTDIR]      (default: fuzz/corpus)

Deterministic (fixed RNG seed), so re-running gives the same files. The
inputs found by fuzzing that crashed are kept beside them as regress-*
files and are not written by this script. Needs only the standard library.
"""
import os
import random
import struct
import sys

rng = random.Random(0x11b9a7)


# ---- IPv4 packets with correct checksums -------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip_header(src, dst, proto, l4len, ident=0x1234, frag=0, options=b""):
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + l4len, ident,
                    frag, 64, proto, 0, ip4(src), ip4(dst)) + options
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def pseudo(src, dst, proto, length):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def udp(src, sport, dst, dport, payload=b"", frag=0, zero_csum=False):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = 0 if zero_csum else (csum(pseudo(src, dst, 17, len(u)) + u) or 0xFFFF)
    u = u[:6] + struct.pack("!H", c) + u[8:]
    return ip_header(src, dst, 17, len(u), frag=frag) + u


def tcp(src, sport, dst, dport, flags, payload=b"", options=b""):
    doff = 5 + len(options) // 4
    t = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000 if flags & 0x10
                    else 0, doff << 4, flags, 65535, 0, 0) + options + payload
    c = csum(pseudo(src, dst, 6, len(t)) + t)
    t = t[:16] + struct.pack("!H", c) + t[18:]
    return ip_header(src, dst, 6, len(t)) + t


def icmp(src, dst, typ, code, rest, payload=b""):
    m = struct.pack("!BBH", typ, code, 0) + rest + payload
    m = m[:2] + struct.pack("!H", csum(m)) + m[4:]
    return ip_header(src, dst, 1, len(m)) + m


def echo(src, dst, ident, typ=8, payload=b"ping"):
    return icmp(src, dst, typ, 0, struct.pack("!HH", ident, 1), payload)


def icmp_error(src, dst, typ, code, quoted, n=None):
    return icmp(src, dst, typ, code, b"\0\0\0\0", quoted[:n])


H1, H2 = "10.0.0.2", "10.0.0.3"
R1, R2 = "198.51.100.10", "198.51.100.20"
PUB = "203.0.113.1"


def packet_seeds():
    s = {}
    s["udp"] = udp(H1, 5000, R1, 53, b"query")
    s["udp-nocsum"] = udp(H1, 5000, R1, 53, b"x", zero_csum=True)
    s["udp-in"] = udp(R1, 53, PUB, 5000, b"answer")
    s["tcp-syn"] = tcp(H1, 40000, R1, 80, 0x02)
    s["tcp-synack"] = tcp(R1, 80, PUB, 40000, 0x12)
    s["tcp-ack-data"] = tcp(H1, 40000, R1, 80, 0x18, b"GET / HTTP/1.0\r\n")
    s["tcp-rst"] = tcp(H1, 40000, R1, 80, 0x04)
    s["tcp-fin"] = tcp(H1, 40000, R1, 80, 0x11)
    s["tcp-synfin"] = tcp(H1, 40000, R1, 80, 0x03)
    s["tcp-noflags"] = tcp(H1, 40000, R1, 80, 0x00)
    s["tcp-options"] = tcp(H1, 40000, R1, 80, 0x02,
                           options=b"\x02\x04\x05\xb4\x01\x03\x03\x07")
    s["tcp-port0"] = tcp(H1, 0, R1, 80, 0x02)
    s["echo"] = echo(H1, R1, 0x4242)
    s["echo-reply"] = echo(R1, PUB, 0x4242, typ=0)
    s["tstamp"] = icmp(H1, R1, 13, 0, b"\0\1\0\1", b"\0" * 12)
    s["redirect"] = icmp(R1, PUB, 5, 1, ip4("198.51.100.1"), b"\0" * 28)
    out = udp(PUB, 5000, R1, 53, b"query")
    s["unreach-udp"] = icmp_error(R1, PUB, 3, 3, out)
    s["unreach-udp-short"] = icmp_error(R1, PUB, 3, 3, out, 28)
    s["timxceed-tcp"] = icmp_error("203.0.113.254", PUB, 11, 0,
                                   tcp(PUB, 40000, R1, 80, 0x02))
    s["paramprob-echo"] = icmp_error(R1, PUB, 12, 0, echo(PUB, R1, 7))
    s["unreach-of-error"] = icmp_error(R1, PUB, 3, 1, s["unreach-udp"])
    s["frag-first"] = udp(H1, 5000, R1, 53, b"A" * 64, frag=0x2000)
    frag2 = ip_header(H1, R1, 17, 16, frag=0x0009) + b"B" * 16
    s["frag-second"] = frag2
    s["frag-tcp-off8"] = ip_header(H1, R1, 6, 20, frag=0x0001) + b"\0" * 20
    s["ip-options"] = ip_header(H1, R1, 17, 12, options=b"\x01\x01\x01\x00") \
        + udp(H1, 1, R1, 2, b"abcd")[20:]
    s["ip-options-bad"] = ip_header(H1, R1, 17, 8,
                                    options=b"\x07\x09\x04\x00") + b"\0" * 8
    s["gre"] = ip_header(H1, R1, 47, 8) + b"\0\0\x08\0\0\0\0\0"
    s["martian-src"] = udp("127.0.0.1", 1, R1, 2)
    s["evil-bit"] = udp(H1, 1, R1, 2, frag=0x8000)
    s["truncated"] = udp(H1, 5000, R1, 53, b"query")[:25]
    bad = bytearray(udp(H1, 5000, R1, 53))
    bad[10] ^= 0xFF
    s["bad-ip-csum"] = bytes(bad)
    pad = udp(H1, 5000, R1, 53, b"q") + b"\0" * 6
    s["link-padding"] = pad
    s["ihl-too-big"] = b"\x4f" + udp(H1, 1, R1, 2)[1:]
    s["version6"] = b"\x60" + bytes(39)
    s["empty"] = b""
    return s


# ---- checksum ------------------------------------------------------------------

def checksum_seeds():
    s = {}
    for i in range(24):
        nupd = rng.randrange(0, 8)
        head = bytes([rng.randrange(256), rng.randrange(256), nupd])
        upd = bytes(rng.randrange(256) for _ in range(6 * nupd))
        n = rng.choice([0, 1, 2, 3, 7, 8, 20, 31, 32, 33, 64, 100, 1500])
        data = bytes(rng.randrange(256) for _ in range(n))
        s["random-%02d" % i] = head + upd + data
    s["zeros"] = b"\0\0\x04" + b"\1\0\0\0\0\0" * 4 + bytes(40)
    s["ones"] = b"\0\0\x02" + b"\0\0\0\0\xff\xff" * 2 + b"\xff" * 40
    s["to-zero"] = b"\0\x80\x01" + b"\0\0\0\0\0\0" + b"\x12\x34" + bytes(10)
    s["wide-update"] = b"\3\x40\x03" + b"\1\x10\xc0\xa8\0\1" * 3 + bytes(60)
    return s


# ---- config / translate: byte programs -------------------------------------------

def config_seeds():
    s = {}
    # [a b d e][mapping][frag][flags][secret][create_in] then ops
    base = bytes([0x10, 0x00, 0xe3, 0x05, 0x00, 0x00, 0x01, 0x5a, 0x00])
    pool = bytes([0, 0x00, 0, 0x01])           # pool add .1, .2
    inside = bytes([2, 0x00])                  # 10.0.0.0/24
    traffic = bytes([8, 0x00, 0x00, 8, 0x01, 0x00, 8, 0x41, 0x01,
                     8, 0xc0, 0x02])
    s["basic"] = base + pool + inside + traffic + bytes([12, 0, 13, 0xff,
                                                          14, 11, 0x40, 7])
    s["forwards"] = base + pool + inside + bytes([4, 0x00, 0x00, 4, 0x00,
                                                  0x21, 5, 0x00, 0x00, 1,
                                                  0x00]) + traffic
    s["o2o"] = base + pool + bytes([6, 0x12, 6, 0x12, 7, 0x10, 0, 0x02])
    s["invalid-cfg"] = bytes([0, 0, 0, 0, 0xff, 0, 0x40, 0, 0, 0, 0, 0])
    s["create-in"] = base[:-1] + b"\x01" + pool + inside + traffic
    for i in range(20):
        n = rng.randrange(8, 80)
        s["random-%02d" % i] = base + pool + inside + bytes(
            rng.randrange(256) for _ in range(n))
    return s


def translate_seeds():
    # config: [mapping][filtering][x][y][z]; ops as in fuzz_translate.c
    eim_ad = bytes([0x00, 0x15, 0x01, 0x48, 0x00])
    s = {}
    # UDP out, then in from the same remote (ring), then idle, expire
    udp_out = bytes([0x00, 0x00, 0x00, 0x33, 0x00, 0x01, 0x01])
    udp_in = bytes([0x05, 0x00, 0xa0, 0x00, 0x80, 0x01, 0x01])
    tcp_syn = bytes([0x01, 0x01, 0x00, 0x24, 0x00, 0x01, 0x01])
    tcp_synack = bytes([0x06, 0x01, 0xa0, 0x00, 0x81, 0x01, 0x01])
    echo = bytes([0x02, 0x03, 0x00, 0x00, 0x00, 0x01, 0x01])
    err_in = bytes([0x07, 0x05, 0x00, 0x01, 0x43, 0x01, 0x01])
    err_out = bytes([0x03, 0x05, 0x00, 0x01, 0x40, 0x01, 0x01])
    frag_out = bytes([0x0a, 0x18, 0x00, 0x33, 0x00, 0x01, 0x01, 0x01])
    frag_rev = bytes([0x0a, 0x18, 0x00, 0x33, 0x00, 0x01, 0x81, 0x01, 0x01])
    frag_in = bytes([0x1a, 0x18, 0xa0, 0x00, 0x80, 0x01, 0x01, 0x01])
    burst = bytes([0x0c, 0x01, 0x00, 0x00, 0x00, 0x33, 0x00, 0x01, 0x00,
                   0x01, 0x00, 0x33, 0x00])
    idle = bytes([0x0d, 0xf0, 0x0f])
    delete = bytes([0x0e, 0x00])
    flush = bytes([0x1f])
    hairpin = bytes([0x00, 0x00, 0x18, 0x33, 0x00, 0x01, 0x01])
    fwd_in = bytes([0x06, 0x01, 0x00, 0x40, 0x02, 0x01, 0x01])
    s["udp-roundtrip"] = eim_ad + udp_out + udp_in + idle
    s["tcp-handshake"] = eim_ad + tcp_syn + tcp_synack + idle + idle
    s["echo"] = eim_ad + echo + idle
    s["icmp-errors"] = eim_ad + udp_out + err_in + udp_in + err_out
    s["fragments"] = eim_ad + frag_out + frag_rev + udp_out + frag_in
    s["burst"] = eim_ad + burst + burst
    s["hairpin"] = eim_ad + udp_out + hairpin + tcp_syn + hairpin
    s["forward-in"] = eim_ad + fwd_in + fwd_in + idle
    s["delete-flush"] = eim_ad + udp_out + tcp_syn + echo + delete + flush
    s["symmetric"] = bytes([0x2a, 0x2a, 0x01, 0x48, 0x00]) + udp_out * 3 \
        + udp_in
    s["tiny-range"] = bytes([0x00, 0x15, 0x11, 0x00, 0x00]) + \
        b"".join(bytes([0x00, 0x00, i, 0x33, 0x00, 0x01, 0x01])
                 for i in range(8)) * 2 + idle
    s["host-limits"] = bytes([0x00, 0x15, 0x61, 0x00, 0x00]) + \
        b"".join(bytes([0x00, 0x00, 0x00, i, 0x00, 0x01, 0x01])
                 for i in range(0, 255, 17))
    s["table-full"] = bytes([0x00, 0x00, 0x01, 0x00, 0x00]) + \
        b"".join(bytes([0x00, 0x00, i & 7, i, 0x00, 0x01, 0x01])
                 for i in range(80))
    s["frag-limits"] = bytes([0x00, 0x15, 0x01, 0x48, 0x1d]) + \
        b"".join(bytes([0x0a, 0x18, i & 7, 0x33, 0x00, 0x01, 0x80 | i, 1, 1])
                 for i in range(12))
    s["corrupt"] = eim_ad + b"".join(
        bytes([0x00, 0xe0 | (i & 7), 0x00, 0x33, 0x00, i, i * 7 & 255,
               i * 13 & 255, 0x01, 0x01]) for i in range(16))
    s["pool2-o2o"] = bytes([0x00, 0x15, 0x01, 0x48 | 0x40, 0x00]) + \
        bytes([0x00, 0x00, 0x05, 0x33, 0x00, 0x01, 0x01,
               0x00, 0x06, 0x25, 0x00, 0x00, 0x01, 0x01])
    for i in range(20):
        n = rng.randrange(10, 120)
        # Random programs with endpoint-independent mapping (kept from
        # when filtering laxer than mapping was an open finding, F3) and
        # never frag_entries 0 (refused since F1).
        cfg = bytes([0x00, rng.randrange(256), rng.randrange(256),
                     rng.randrange(256), rng.randrange(256) & 0xfc])
        s["random-%02d" % i] = cfg + bytes(rng.randrange(256)
                                           for _ in range(n))
    return s


def diff_seeds():
    # config: [mapping][filtering][x][y][z][secret]; then ops as in
    # fuzz_diff.c: a group is [op (low bits 0-11)][size][time] packets
    # [collect/icmp selector]; a packet is [kind][addrs][ports][flags]
    # with kind bits 0-2 what, 3 inbound, 4-5 payload, 7 mutate.
    def cfg(m=0x00, f=0x15, x=0x00, y=0x07, z=0x00, sec=0x5a):
        return bytes([m, f, x, y, z, sec])

    def group(pkts, t=0x10, sel=0x00):
        # size byte: n - 1 for up to 8 packets, else 192 + (n - 1) % 48
        # (a fragmented datagram counts as one here and may overrun)
        n = len(pkts)
        g = n - 1 if n <= 8 else 192 + (n - 1) % 48
        return bytes([0x00, g, t]) + b"".join(pkts) + bytes([sel])

    udp_out = bytes([0x00, 0x00, 0x29, 0x00])
    udp_in_aim = bytes([0x08, 0xc0, 0x00, 0x00])       # at A's mapping
    udp_again = bytes([0x00, 0x40, 0x00, 0x00])        # the same flow
    tcp_syn = bytes([0x01, 0x01, 0x39, 0x00])
    tcp_synack_in = bytes([0x09, 0xc0, 0x00, 0x01])
    tcp_ack_out = bytes([0x01, 0x40, 0x00, 0x02])
    tcp_ack_in = bytes([0x09, 0xc0, 0x00, 0x02])
    tcp_fin_out = bytes([0x01, 0x40, 0x00, 0x03])
    echo_out = bytes([0x03, 0x02, 0x00, 0x00])
    echo_in = bytes([0x0b, 0xc0, 0x00, 0x00])
    err_in = bytes([0x0c, 0x00, 0x01, 0x42])
    err_out = bytes([0x04, 0x00, 0x00, 0x41])
    frag_out = bytes([0x05, 0x00, 0x29, 0x00, 0x07, 0x00])
    frag_rev = bytes([0x05, 0x01, 0x39, 0x10, 0x06, 0x81])
    frag_in = bytes([0x0d, 0xc0, 0x00, 0x00, 0x07, 0x00])
    other = bytes([0x06, 0x00, 0x00, 0x00])
    raw_hdr = bytes([0x07, 0x00, 0x00, 0x01, 0x10]) + bytes(range(16))
    raw = bytes([0x07, 0x00, 0x00, 0x00, 0x08]) + b"\x45\x00\x00\x1c" * 2
    hairpin = bytes([0x00, 0xc0, 0x00, 0x00])
    # truncated: kind bit 7 set, then [mode][x][y]
    tcp_cut28 = bytes([0x81, 0x00, 0x39, 0x00, 0x02, 0x08, 0x00])
    tcp_est_cut = bytes([0x81, 0x40, 0x00, 0x02, 0x02, 0x08, 0x00])
    udp_est_cut = bytes([0x80, 0x40, 0x00, 0x00, 0x02, 0x05, 0x00])
    udp_in_cut = bytes([0x88, 0xc0, 0x00, 0x00, 0x02, 0x03, 0x00])
    flip = bytes([0x80, 0x40, 0x00, 0x00, 0x08, 0x0c, 0x40])
    idle = bytes([0x0c, 0xc0, 0x0f])
    jump = bytes([0x0c, 0xfa, 0x80])
    jump_rand = bytes([0x0d, 0xfd, 0x12, 0x34, 0x56, 0x78, 0x05])
    delete = bytes([0x0e, 0x00])
    flush = bytes([0x1f])
    s = {}
    s["udp-roundtrip"] = cfg() + group([udp_out]) + group([udp_in_aim]) + \
        group([udp_again, udp_in_aim, udp_again]) + idle
    s["tcp-handshake"] = cfg() + group([tcp_syn]) + group([tcp_synack_in]) + \
        group([tcp_ack_out, tcp_ack_in, tcp_ack_out, tcp_fin_out]) + idle
    s["echo"] = cfg() + group([echo_out]) + group([echo_in, echo_out])
    s["icmp-errors"] = cfg() + group([udp_out, udp_in_aim]) + \
        group([err_in, err_out, udp_again])
    s["fragments"] = cfg() + group([frag_out, udp_out]) + \
        group([frag_rev, frag_in], sel=0x30)
    s["burst-big"] = cfg() + group([udp_out, tcp_syn] * 20)
    s["burst-mixed"] = cfg() + group([udp_out]) + group(
        [udp_again, udp_in_aim, tcp_syn, tcp_synack_in, echo_out, echo_in,
         udp_in_aim, udp_again] * 5)
    s["truncated-tcp-28"] = cfg() + group([tcp_syn]) + \
        group([tcp_cut28, tcp_est_cut, tcp_ack_out])
    s["truncated-established"] = cfg() + group([udp_out, tcp_syn]) + \
        group([udp_est_cut, udp_in_cut, tcp_est_cut, flip])
    s["hairpin"] = cfg() + group([udp_out]) + group([hairpin, hairpin])
    s["other-raw"] = cfg() + group([other, raw_hdr, raw, udp_out])
    s["jumps"] = cfg() + group([udp_out, tcp_syn]) + jump + \
        group([udp_again, udp_in_aim]) + jump_rand + group([tcp_ack_out])
    s["delete-flush"] = cfg() + group([udp_out, tcp_syn, echo_out]) + \
        delete + group([udp_again]) + flush + group([udp_in_aim])
    s["symmetric"] = cfg(m=0x2a, f=0x2a) + group([udp_out] * 3) + \
        group([udp_in_aim, udp_again])
    s["eif"] = cfg(m=0x00, f=0x00) + group([udp_out]) + \
        group([bytes([0x08, 0x40, 0x00, 0x00])] * 3)
    s["limits"] = cfg(x=0xf0) + b"".join(
        group([bytes([0x00, i & 7, 0x29 + i, 0x00])] * 4) for i in range(6))
    s["short-timeouts"] = cfg(y=0x47) + group([udp_out, tcp_syn]) + \
        idle + group([udp_again]) + bytes([0x0c, 0xe0, 0x80])
    s["forwards-o2o"] = cfg() + group(
        [bytes([0x09, 0x00, 0x30, 0x00]), bytes([0x08, 0x00, 0x40, 0x00]),
         bytes([0x08, 0x08, 0x00, 0x00]), bytes([0x00, 0x05, 0x00, 0x00])])
    s["no-hairpin"] = cfg(x=0x08) + group([udp_out]) + group([hairpin])
    for i in range(20):
        n = rng.randrange(16, 200)
        c = bytes([rng.randrange(256) for _ in range(5)]) + b"\x5a"
        s["random-%02d" % i] = c + bytes(rng.randrange(256)
                                         for _ in range(n))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    sets = {
        "packet": packet_seeds(),
        "checksum": checksum_seeds(),
        "config": config_seeds(),
        "translate": translate_seeds(),
        "diff": diff_seeds(),
    }
    for name, seeds in sets.items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for fname, data in seeds.items():
            with open(os.path.join(d, "seed-" + fname), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (name, len(seeds)))


if __name__ == "__main__":
    main()
