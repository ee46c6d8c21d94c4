#!/usr/bin/env python3
"""Small traffic tools for the end-to-end tests (standard library only).

Every command is bounded in time and prints one result line; the exit
status says whether it got what it expected.

  tcp-send PORT NBYTES            serve NBYTES of data to one client
  tcp-recv HOST PORT              fetch it, print sha256 and size
  udp-echo-server PORT SECS       echo datagrams for SECS seconds
  udp-echo HOST PORT COUNT [SIZE] send COUNT datagrams, expect each echoed
  udp-listen PORT SECS            count datagrams received in SECS seconds
  udp-send HOST PORT COUNT        send COUNT datagrams
  banner-server PORT SECS         greet each TCP client with its address
  banner HOST PORT                connect and print the greeting
  ttl-probe HOST PORT ROUTER      find an ICMP time exceeded from ROUTER
  unreach HOST PORT               expect ICMP port unreachable from HOST
  prohibited HOST PORT ROUTER     new UDP flows (PORT, PORT+1, ...) until
                                  ROUTER answers one with ICMP destination
                                  unreachable code 13 (admin. prohibited)
"""
import hashlib
import select
import socket
import struct
import sys
import time

IP_RECVERR = 11
SO_EE_ORIGIN_ICMP = 2


def out(*a):
    print(*a, flush=True)


def data_blocks(nbytes):
    """Deterministic pseudo-random data: SHA-256 in counter mode."""
    block, i = b"", 0
    while nbytes > 0:
        chunk = b"".join(hashlib.sha256(struct.pack("!Q", i + k)).digest()
                         for k in range(2048))  # 64 KiB
        i += 2048
        take = min(nbytes, len(chunk))
        yield chunk[:take]
        nbytes -= take


def connect(host, port, deadline):
    while True:
        try:
            return socket.create_connection((host, port), timeout=2)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def tcp_send(port, nbytes):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    s.listen(1)
    s.settimeout(20)
    c, peer = s.accept()
    c.settimeout(20)
    h, n = hashlib.sha256(), 0
    for b in data_blocks(int(nbytes)):
        c.sendall(b)
        h.update(b)
        n += len(b)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)  # wait for the client to close
    out("sent sha256 %s bytes %d to %s:%d" % (h.hexdigest(), n, *peer))


def tcp_recv(host, port):
    start = time.monotonic()
    c = connect(host, int(port), start + 5)
    c.settimeout(20)
    h, n = hashlib.sha256(), 0
    t0 = time.monotonic()
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    secs = time.monotonic() - t0
    c.close()
    out("received sha256 %s bytes %d in %.2f s (%.1f Mbit/s)"
        % (h.hexdigest(), n, secs, n * 8 / secs / 1e6 if secs else 0))


def udp_echo_server(port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    end = time.monotonic() + float(secs)
    n = 0
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            d, peer = s.recvfrom(65535)
            s.sendto(d, peer)
            n += 1
    out("echoed %d" % n)


def udp_echo(host, port, count, size=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, int(port)))
    s.settimeout(0.5)
    ok = 0
    for i in range(int(count)):
        pad = int(size) if size else i * 37 % 1200
        msg = (b"echo %d " % i + b"x" * pad)[:pad or None]
        end = time.monotonic() + 3
        while time.monotonic() < end:
            try:
                s.send(msg)
                if s.recv(65535) == msg:
                    ok += 1
                    break
            except socket.timeout:
                pass
            except ConnectionRefusedError:
                time.sleep(0.2)  # the server is still starting
    out("udp echo %d/%d" % (ok, int(count)))
    sys.exit(0 if ok == int(count) else 1)


def udp_listen(port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    end = time.monotonic() + float(secs)
    n, peers = 0, set()
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            _, peer = s.recvfrom(65535)
            n += 1
            peers.add(peer[0])
    out("udp received %d from %s" % (n, ",".join(sorted(peers)) or "nobody"))


def udp_send(host, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(int(count)):
        s.sendto(b"unsolicited %d" % i, (host, int(port)))
        time.sleep(0.01)
    out("udp sent %d" % int(count))


def banner_server(port, secs):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    s.listen(8)
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            c, peer = s.accept()
            c.sendall(b"hello %s:%d\n" % (peer[0].encode(), peer[1]))
            c.close()
            out("client %s:%d" % peer)


def banner(host, port):
    c = connect(host, int(port), time.monotonic() + 5)
    c.settimeout(5)
    line = c.makefile("rb").readline().decode().strip()
    out(line)
    sys.exit(0 if line.startswith("hello ") else 1)


def icmp_errors(s, wait):
    """ICMP errors queued on @s within @wait seconds: (type, code, from)."""
    got = []
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            _, anc, _, _ = s.recvmsg(2048, 512, socket.MSG_ERRQUEUE)
        except BlockingIOError:
            time.sleep(0.02)
            continue
        for level, typ, data in anc:
            if level != socket.IPPROTO_IP or typ != IP_RECVERR:
                continue
            # struct sock_extended_err, then the offender's sockaddr_in
            _, origin, etype, ecode = struct.unpack_from("=IBBB", data)
            frm = socket.inet_ntoa(data[16 + 4:16 + 8])
            if origin == SO_EE_ORIGIN_ICMP:
                got.append((etype, ecode, frm))
        if got:
            break
    return got


def err_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    s.setblocking(False)
    return s


def ttl_probe(host, port, router):
    for ttl in range(1, 7):
        s = err_socket()
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        s.connect((host, int(port)))
        try:
            s.send(b"ttl probe %d" % ttl)
        except OSError:
            pass
        for etype, ecode, frm in icmp_errors(s, 1.0):
            out("ttl %d: icmp type %d code %d from %s" % (ttl, etype, ecode, frm))
            if etype == 11 and frm == router:
                sys.exit(0)
        s.close()
    out("no time exceeded from %s" % router)
    sys.exit(1)


def unreach(host, port):
    for attempt in range(3):
        s = err_socket()
        s.connect((host, int(port)))
        s.send(b"anyone there?")
        for etype, ecode, frm in icmp_errors(s, 1.5):
            out("icmp type %d code %d from %s" % (etype, ecode, frm))
            if etype == 3 and ecode == 3 and frm == host:
                sys.exit(0)
        s.close()
    out("no port unreachable from %s" % host)
    sys.exit(1)


def prohibited(host, port, router):
    socks = []
    for i in range(8):
        s = err_socket()
        socks.append(s)  # keep each flow's socket (and its session) open
        s.connect((host, int(port) + i))
        s.send(b"new flow %d" % i)
        for etype, ecode, frm in icmp_errors(s, 1.0):
            out("flow %d: icmp type %d code %d from %s" % (i, etype, ecode, frm))
            if etype == 3 and ecode == 13 and frm == router:
                sys.exit(0)
    out("no administratively prohibited from %s" % router)
    sys.exit(1)


COMMANDS = {
    "tcp-send": tcp_send, "tcp-recv": tcp_recv,
    "udp-echo-server": udp_echo_server, "udp-echo": udp_echo,
    "udp-listen": udp_listen, "udp-send": udp_send,
    "banner-server": banner_server, "banner": banner,
    "ttl-probe": ttl_probe, "unreach": unreach, "prohibited": prohibited,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except OSError as e:
        out("error: %s" % e)
        sys.exit(1)
