#!/usr/bin/env python3
"""Generate examples/sample.pcap: a capture taken on the LAN side of a NAT.

    python3 examples/gen_sample_pcap.py [OUT.pcap]

Two inside hosts (10.0.0.2 and 10.0.0.3) behind a gateway talk to servers
in the documentation ranges: a DNS query and reply, a TCP connection (three-
way handshake, a request, a response, both FINs), a ping, a UDP packet to a
closed port answered by ICMP port unreachable, plus ARP, LAN-local traffic,
an unsolicited packet from outside and a few malformed packets. Timestamps
and every field are fixed, so the file is the same on every run.

`nat-pcap --lan-capture -r sample.pcap -w out.pcap` writes the outside view
of this conversation (see nat-pcap(8)); `./quickstart demo` runs exactly
that.
"""
import sys

from scapy.all import (ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Ether,
                       Raw, wrpcap)

GW_MAC = "02:00:00:00:00:01"
H2_MAC = "02:00:00:00:00:02"
H3_MAC = "02:00:00:00:00:03"
H2, H3, GW = "10.0.0.2", "10.0.0.3", "10.0.0.1"
DNS_SRV, WEB, PINGED = "198.51.100.53", "198.51.100.80", "203.0.113.7"

packets = []
clock = [1700000000.0]


def at(delta, pkt):
    """Append @pkt @delta seconds after the previous packet."""
    clock[0] += delta
    pkt.time = round(clock[0], 6)
    packets.append(pkt)


def up(mac, p):  # inside host -> gateway
    return Ether(src=mac, dst=GW_MAC) / p


def down(mac, p):  # gateway -> inside host
    return Ether(src=GW_MAC, dst=mac) / p


# ARP for the gateway (not IPv4: nat-pcap skips it).
at(0.0, Ether(src=H2_MAC, dst="ff:ff:ff:ff:ff:ff") /
   ARP(op=1, hwsrc=H2_MAC, psrc=H2, pdst=GW))
at(0.0002, Ether(src=GW_MAC, dst=H2_MAC) /
   ARP(op=2, hwsrc=GW_MAC, psrc=GW, hwdst=H2_MAC, pdst=H2))

# DNS: query and answer.
q = DNS(id=0x1d2c, rd=1, qd=DNSQR(qname="www.example.com"))
at(0.001, up(H2_MAC, IP(src=H2, dst=DNS_SRV, id=1) / UDP(sport=40000, dport=53) / q))
a = DNS(id=0x1d2c, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com"),
        an=DNSRR(rrname="www.example.com", ttl=300, rdata=WEB))
at(0.012, down(H2_MAC, IP(src=DNS_SRV, dst=H2, id=7001) / UDP(sport=53, dport=40000) / a))

# The second host uses the same source port: it gets another external port.
q3 = DNS(id=0x0b0e, rd=1, qd=DNSQR(qname="www.example.org"))
at(0.003, up(H3_MAC, IP(src=H3, dst=DNS_SRV, id=1) / UDP(sport=40000, dport=53) / q3))
a3 = DNS(id=0x0b0e, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.org"),
         an=DNSRR(rrname="www.example.org", ttl=300, rdata="198.51.100.81"))
at(0.011, down(H3_MAC, IP(src=DNS_SRV, dst=H3, id=7002) / UDP(sport=53, dport=40000) / a3))

# TCP: handshake, request, response, close.
c, s = 1000, 5000
req = b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
resp = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"
at(0.020, up(H2_MAC, IP(src=H2, dst=WEB, id=2) / TCP(sport=41000, dport=80, flags="S", seq=c)))
at(0.015, down(H2_MAC, IP(src=WEB, dst=H2, id=8001) / TCP(sport=80, dport=41000, flags="SA", seq=s, ack=c + 1)))
at(0.0001, up(H2_MAC, IP(src=H2, dst=WEB, id=3) / TCP(sport=41000, dport=80, flags="A", seq=c + 1, ack=s + 1)))
at(0.0001, up(H2_MAC, IP(src=H2, dst=WEB, id=4) / TCP(sport=41000, dport=80, flags="PA", seq=c + 1, ack=s + 1) / Raw(req)))
at(0.016, down(H2_MAC, IP(src=WEB, dst=H2, id=8002) / TCP(sport=80, dport=41000, flags="PA", seq=s + 1, ack=c + 1 + len(req)) / Raw(resp)))
at(0.0001, up(H2_MAC, IP(src=H2, dst=WEB, id=5) / TCP(sport=41000, dport=80, flags="FA", seq=c + 1 + len(req), ack=s + 1 + len(resp))))
at(0.015, down(H2_MAC, IP(src=WEB, dst=H2, id=8003) / TCP(sport=80, dport=41000, flags="FA", seq=s + 1 + len(resp), ack=c + 2 + len(req))))
at(0.0001, up(H2_MAC, IP(src=H2, dst=WEB, id=6) / TCP(sport=41000, dport=80, flags="A", seq=c + 2 + len(req), ack=s + 2 + len(resp))))

# Ping: two echo requests and replies.
for seq in (1, 2):
    at(0.100, up(H2_MAC, IP(src=H2, dst=PINGED, id=10 + seq) / ICMP(type=8, id=0x4242, seq=seq) / Raw(b"libnat-ping-%d" % seq)))
    at(0.009, down(H2_MAC, IP(src=PINGED, dst=H2, id=9000 + seq) / ICMP(type=0, id=0x4242, seq=seq) / Raw(b"libnat-ping-%d" % seq)))

# UDP to a closed port, answered with ICMP port unreachable quoting it.
probe = IP(src=H2, dst=DNS_SRV, id=20) / UDP(sport=40100, dport=9999) / Raw(b"anyone?")
at(0.050, up(H2_MAC, probe))
at(0.010, down(H2_MAC, IP(src=DNS_SRV, dst=H2, id=7100) / ICMP(type=3, code=3) / IP(bytes(probe))))

# LAN-local traffic between the inside hosts never reaches the NAT.
at(0.050, Ether(src=H2_MAC, dst=H3_MAC) / IP(src=H2, dst=H3, id=30) / ICMP(type=8, id=7, seq=1))

# An unsolicited packet from outside to an inside host: no session.
at(0.050, down(H2_MAC, IP(src="198.51.100.66", dst=H2, id=31) / UDP(sport=5555, dport=40000) / Raw(b"hi")))

# Malformed packets: each is dropped with its own reason.
bad = IP(bytes(IP(src=H2, dst=WEB, id=40) / UDP(sport=40200, dport=53) / Raw(b"x")))
bad.chksum ^= 0x5555
at(0.050, up(H2_MAC, bad))                                             # ip-checksum
at(0.010, up(H2_MAC, IP(src=H2, dst=WEB, id=41, proto=6) / Raw(b"\x9c\x40\x00\x50")))  # TCP header truncated
at(0.010, up(H2_MAC, IP(src=H2, dst=WEB, id=42) / UDP(sport=0, dport=53) / Raw(b"x")))  # port 0
at(0.010, up(H2_MAC, IP(src=H2, dst=WEB, id=43) / TCP(sport=41001, dport=80, flags="SF")))  # SYN+FIN
raw = bytearray(bytes(IP(src=H2, dst=WEB, id=44) / UDP(sport=40201, dport=53)))
raw[0] = 0x55  # version 5
at(0.010, up(H2_MAC, Raw(bytes(raw))))
packets[-1] = Ether(src=H2_MAC, dst=GW_MAC, type=0x0800) / Raw(bytes(raw))
packets[-1].time = round(clock[0], 6)

wrpcap(sys.argv[1] if len(sys.argv) > 1 else "sample.pcap", packets)
