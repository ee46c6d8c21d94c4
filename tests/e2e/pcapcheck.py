#!/usr/bin/env python3
"""Independent checks of nat-pcap's output files (standard library only).

  relink IN OUT LINKTYPE   rewrite an Ethernet capture to raw IPv4 (101),
                           Linux cooked (113) or Linux cooked v2 (276)
  same-ip A B              both captures carry the same IPv4 packets
  verify FILE PREFIX       every IPv4/TCP/UDP/ICMP checksum in FILE is valid
                           (quoted headers in ICMP errors included) and no
                           address in PREFIX (e.g. 10.0.0.0/8) appears
"""
import ipaddress
import struct
import sys

LINK_ETH, LINK_RAW, LINK_SLL, LINK_SLL2 = 1, 101, 113, 276


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data)[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    _, _, _, _, snap, link = struct.unpack_from(end + "HHiIII", data, 4)
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack_from(end + "IIII", data, off)
        off += 16
        pkts.append((sec, frac, wirelen, data[off:off + caplen]))
        off += caplen
    return data[:24], end, link, pkts


def ip_offset(link, frame):
    if link == LINK_ETH:
        off, etype = 14, struct.unpack_from("!H", frame, 12)[0]
        while etype in (0x8100, 0x88A8):
            etype = struct.unpack_from("!H", frame, off + 2)[0]
            off += 4
        return off if etype == 0x0800 else None
    if link in (LINK_RAW, 228):
        return 0 if frame and frame[0] >> 4 == 4 else None
    if link == LINK_SLL:
        return 16 if struct.unpack_from("!H", frame, 14)[0] == 0x0800 else None
    if link == LINK_SLL2:
        return 20 if struct.unpack_from("!H", frame, 0)[0] == 0x0800 else None
    raise SystemExit("unsupported link type %d" % link)


def relink(src, dst, linktype):
    linktype = int(linktype)
    hdr, end, link, pkts = read_pcap(src)
    assert link == LINK_ETH, "relink wants an Ethernet capture"
    out = bytearray(hdr[:20] + struct.pack(end + "I", linktype))
    for sec, frac, wirelen, frame in pkts:
        if ip_offset(link, frame) is None:
            continue
        ip = frame[14:]
        if linktype == LINK_RAW:
            new = ip
        elif linktype == LINK_SLL:  # packet type 0 (to us), ARPHRD_ETHER
            new = struct.pack("!HHH8sH", 0, 1, 6, frame[6:12] + b"\0\0", 0x0800) + ip
        else:  # SLL2: protocol, reserved, ifindex, hatype, pkttype, halen
            new = struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, frame[6:12] + b"\0\0") + ip
        out += struct.pack(end + "IIII", sec, frac, len(new), wirelen - 14 + len(new) - len(ip))
        out += new
    with open(dst, "wb") as f:
        f.write(out)


def ip_packets(path):
    _, _, link, pkts = read_pcap(path)
    res = []
    for _, _, _, frame in pkts:
        off = ip_offset(link, frame)
        if off is not None:
            res.append(frame[off:])
    return link, res


def same_ip(a, b):
    la, pa = ip_packets(a)
    lb, pb = ip_packets(b)
    if pa != pb:
        raise SystemExit("%s (link %d) and %s (link %d) differ" % (a, la, b, lb))
    print("%d IPv4 packets identical (link types %d and %d)" % (len(pa), la, lb))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def check_ip(ip, quoted, net, where):
    """Check one IPv4 header and what follows; return a list of problems."""
    bad = []
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack_from("!H", ip, 2)[0]
    if csum(ip[:ihl]) != 0xFFFF:
        bad.append("%s: IP header checksum" % where)
    src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
    for a in (src, dst):
        if a in net:
            bad.append("%s: inside address %s" % (where, a))
    proto, frag = ip[9], struct.unpack_from("!H", ip, 6)[0] & 0x3FFF
    l4 = ip[ihl:tot] if not quoted else ip[ihl:]
    if frag:
        return bad
    complete = len(l4) == tot - ihl
    pseudo = ip[12:20] + struct.pack("!BBH", 0, proto, tot - ihl)
    if proto == 6 and complete and csum(pseudo + l4) != 0xFFFF:
        bad.append("%s: TCP checksum" % where)
    if proto == 17 and complete and l4[6:8] != b"\0\0" and csum(pseudo + l4) != 0xFFFF:
        bad.append("%s: UDP checksum" % where)
    if proto == 1 and complete and csum(l4) != 0xFFFF:
        bad.append("%s: ICMP checksum" % where)
    if proto == 1 and not quoted and len(l4) >= 28 and l4[0] in (3, 4, 5, 11, 12):
        bad += check_ip(l4[8:], True, net, where + " (quoted)")
    return bad


def verify(path, prefix):
    net = ipaddress.ip_network(prefix)
    _, pkts = ip_packets(path)
    bad = []
    for i, ip in enumerate(pkts, 1):
        bad += check_ip(ip, False, net, "packet %d" % i)
    for b in bad:
        print(b)
    print("%d IPv4 packets checked, %d problems" % (len(pkts), len(bad)))
    sys.exit(1 if bad or not pkts else 0)


if __name__ == "__main__":
    cmds = {"relink": relink, "same-ip": same_ip, "verify": verify}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])
