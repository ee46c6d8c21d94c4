/*
 * Packet layer: nat_pkt_parse() validation of IPv4, TCP, UDP and ICMP.
 *
 * Every malformed packet is a valid one from the tests/util.c builders with
 * one field altered, and the checksums that cover that field re-fixed, so
 * that exactly the intended check fires. Every parse reads from a heap block
 * of exactly the length given, so AddressSanitizer reports any read past it.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "packet.h"
#include "tests.h"

#define IN        IP4(10, 0, 0, 2)     /* inside host */
#define OUT       IP4(203, 0, 113, 9)  /* remote host */
#define RTR       IP4(198, 51, 100, 1) /* router reporting an ICMP error */
#define UDP_SPORT 40000
#define UDP_DPORT 53
#define TCP_SPORT 40001
#define TCP_DPORT 443
#define ECHO_ID   0x4242
#define PKT_MAX   1500

/* IPv4 flags and fragment offset word (RFC 791 3.1). */
#define IP_RF 0x8000
#define IP_DF 0x4000
#define IP_MF 0x2000

/* ---- parsing and assertions ---------------------------------------------- */

/* Every parse goes through t_parse() (tests/util.c): a heap block of exactly
 * @n bytes, so an over-read is an ASan error rather than a silent read of
 * the caller's spare bytes. */

/* Macros, so that Check reports the line of the failing case. */
#define CK_PARSE(p, b, n, want)                                                \
    do {                                                                       \
        enum nat_reason r_ = t_parse((p), (b), (n));                           \
        ck_assert_msg(r_ == (want), "want %s, got %s", nat_reason_str(want),   \
                      nat_reason_str(r_));                                     \
    } while (0)

#define CK_REASON(b, n, want)                                                  \
    do {                                                                       \
        struct nat_pkt p_;                                                     \
        CK_PARSE(&p_, (b), (n), (want));                                       \
    } while (0)

/* ---- builders and field mutators ----------------------------------------- */

static size_t
udp_pkt(uint8_t *b, size_t payload)
{
    return t_udp(b, IN, UDP_SPORT, OUT, UDP_DPORT, payload);
}

static size_t
tcp_pkt(uint8_t *b, uint8_t flags, size_t payload)
{
    return t_tcp(b, IN, TCP_SPORT, OUT, TCP_DPORT, flags, payload);
}

static size_t
echo_pkt(uint8_t *b, size_t payload)
{
    return t_icmp_echo(b, IN, OUT, NAT_ICMP_ECHO, ECHO_ID, 1, payload);
}

/* An ICMP error from a router back to IN, quoting @quote bytes of @o. */
static size_t
err_pkt(uint8_t *b, uint8_t type, uint8_t code, const uint8_t *o, size_t on,
        size_t quote)
{
    return t_icmp_error(b, RTR, IN, type, code, o, on, quote);
}

/* Port unreachable about a whole UDP datagram: the usual valid error. */
static size_t
unreach_udp_pkt(uint8_t *b)
{
    uint8_t o[PKT_MAX];
    size_t on = udp_pkt(o, 12);
    return err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, on);
}

/* Rewrite an IP header field and re-fix the header checksum, so that the
 * checksum check cannot fire in place of the one under test. */
static void
ip_set8(uint8_t *b, size_t off, uint8_t v)
{
    b[off] = v;
    t_fix_ip_csum(b);
}

static void
ip_set16(uint8_t *b, size_t off, uint16_t v)
{
    st16(b + off, v);
    t_fix_ip_csum(b);
}

/* Rewrite a transport field (offset from the transport header, which
 * follows a 20-byte IP header) and re-fix every checksum, so only the check
 * about that field can fire. */
static void
l4_set8(uint8_t *b, size_t n, size_t off, uint8_t v)
{
    b[20 + off] = v;
    t_fix_all_csums(b, n);
}

static void
l4_set16(uint8_t *b, size_t n, size_t off, uint16_t v)
{
    st16(b + 20 + off, v);
    t_fix_all_csums(b, n);
}

/* Insert @olen (a multiple of 4) bytes of IP options after the fixed header
 * of the packet at @b, shifting the transport part; returns the new length.
 * Transport checksums stay valid: the pseudo-header does not change. */
static size_t
with_ip_options(uint8_t *b, size_t n, const uint8_t *opt, size_t olen)
{
    ck_assert(olen % 4 == 0 && 20 + olen <= 60 && n + olen <= PKT_MAX);
    memmove(b + 20 + olen, b + 20, n - 20);
    memcpy(b + 20, opt, olen);
    b[0] = (uint8_t)(0x40 | (20 + olen) / 4);
    ip_set16(b, 2, (uint16_t)(n + olen));
    return n + olen;
}

static const uint8_t router_alert[4] = {148, 4, 0, 0}; /* RFC 2113 */

/* ---- 1. one test per parse reason ---------------------------------------- */

START_TEST(reason_ip_truncated)
{
    uint8_t b[PKT_MAX];
    udp_pkt(b, 12);
    /* Fewer bytes than a minimal header, whatever the bytes say. */
    for (size_t n = 0; n < 20; n++)
        CK_REASON(b, n, NAT_R_IP_TRUNCATED);
}
END_TEST

/* RFC 791: only version 4 is IPv4. */
START_TEST(reason_ip_version)
{
    uint8_t b[PKT_MAX];
    size_t n = udp_pkt(b, 12);
    for (unsigned v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        ip_set8(b, 0, (uint8_t)(v << 4 | 5));
        CK_REASON(b, n, NAT_R_IP_VERSION);
    }
}
END_TEST

/* RFC 791: the minimum IHL is 5 words. */
START_TEST(reason_ip_hdrlen)
{
    uint8_t b[PKT_MAX];
    size_t n = udp_pkt(b, 12);
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        ip_set8(b, 0, (uint8_t)(0x40 | ihl));
        CK_REASON(b, n, NAT_R_IP_HDRLEN);
    }
}
END_TEST

START_TEST(reason_ip_hdrlen_trunc)
{
    uint8_t b[PKT_MAX];
    /* A 28-byte packet claiming a 32..60 byte header. */
    size_t n = udp_pkt(b, 0);
    for (unsigned ihl = 8; ihl <= 15; ihl++) {
        ip_set8(b, 0, (uint8_t)(0x40 | ihl));
        CK_REASON(b, n, NAT_R_IP_HDRLEN_TRUNC);
    }
    /* A real 24-byte header cut inside its options. */
    n = with_ip_options(b, udp_pkt(b, 0), router_alert, 4);
    for (size_t cut = 20; cut < 24; cut++)
        CK_REASON(b, cut, NAT_R_IP_HDRLEN_TRUNC);
}
END_TEST

/* RFC 791: the total length includes the header. */
START_TEST(reason_ip_totlen)
{
    uint8_t b[PKT_MAX];
    size_t n = udp_pkt(b, 12);
    for (uint16_t tot = 0; tot < 20; tot++) {
        ip_set16(b, 2, tot);
        CK_REASON(b, n, NAT_R_IP_TOTLEN);
    }
    n = with_ip_options(b, udp_pkt(b, 12), router_alert, 4);
    ip_set16(b, 2, 23);
    CK_REASON(b, n, NAT_R_IP_TOTLEN);
}
END_TEST

/* The length field is never trusted over the caller's buffer. */
START_TEST(reason_ip_totlen_trunc)
{
    uint8_t b[PKT_MAX];
    size_t n = udp_pkt(b, 12);
    ip_set16(b, 2, (uint16_t)(n + 1));
    CK_REASON(b, n, NAT_R_IP_TOTLEN_TRUNC);
    ip_set16(b, 2, 65535);
    CK_REASON(b, n, NAT_R_IP_TOTLEN_TRUNC);
}
END_TEST

/* Every single-bit error in bytes 4..19 (those no earlier check reads) is
 * caught by the header checksum (RFC 791, RFC 1071). */
START_TEST(reason_ip_checksum)
{
    uint8_t b[PKT_MAX];
    size_t n = udp_pkt(b, 12);
    for (size_t i = 4; i < 20; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            CK_REASON(b, n, NAT_R_IP_CHECKSUM);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    CK_REASON(b, n, NAT_R_NONE);
}
END_TEST

/* RFC 791 3.1: an option other than EOL/NOP has a length octet >= 2 and
 * stays inside the header. */
START_TEST(reason_ip_options)
{
    static const uint8_t bad[][4] = {
        {1, 1, 1, 7},   /* option 7 with no room for its length */
        {7, 1, 0, 0},   /* length 1 */
        {148, 0, 0, 0}, /* length 0: would loop forever */
        {7, 8, 4, 0},   /* length 8 in a 4-byte option area */
        {1, 7, 4, 0},   /* after a NOP, length 4 with 3 bytes left */
        {68, 5, 5, 0},  /* timestamp 5 bytes long in 4 */
    };
    uint8_t b[PKT_MAX];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = with_ip_options(b, udp_pkt(b, 12), bad[i], 4);
        CK_REASON(b, n, NAT_R_IP_OPTIONS);
    }
}
END_TEST

START_TEST(reason_ip_frag)
{
    uint8_t b[PKT_MAX];
    size_t n = udp_pkt(b, 12);
    /* RFC 791: the reserved flag must be zero. */
    ip_set16(b, 6, IP_RF);
    CK_REASON(b, n, NAT_R_IP_FRAG);
    ip_set16(b, 6, IP_RF | IP_DF);
    CK_REASON(b, n, NAT_R_IP_FRAG);

    /* RFC 791: offset 8189 * 8 = 65512; with a 20-byte header a 3-byte
     * fragment ends exactly at 65535, a 4-byte one past it. */
    ip_set16(b, 6, 8189);
    ip_set16(b, 2, 23);
    CK_REASON(b, 23, NAT_R_NONE);
    ip_set16(b, 2, 24);
    CK_REASON(b, 24, NAT_R_IP_FRAG);
    ip_set16(b, 2, 40);
    ip_set16(b, 6, IP_MF | 8191);
    CK_REASON(b, n, NAT_R_IP_FRAG);
}
END_TEST

/* RFC 1812 5.3.7: sources in 0/8, 127/8, 224/4 (multicast), 240/4 and the
 * limited broadcast address are martians; the neighbours are not. */
START_TEST(reason_ip_src)
{
    static const uint32_t martian[] = {
        IP4(0, 0, 0, 0),   IP4(0, 1, 2, 3),
        IP4(127, 0, 0, 1), IP4(127, 255, 255, 254),
        IP4(224, 0, 0, 1), IP4(239, 255, 255, 255),
        IP4(240, 0, 0, 1), IP4(255, 255, 255, 255),
    };
    static const uint32_t fine[] = {
        IP4(1, 0, 0, 1),
        IP4(126, 255, 255, 255),
        IP4(128, 0, 0, 1),
        IP4(223, 255, 255, 255),
    };
    uint8_t b[PKT_MAX];
    for (size_t i = 0; i < sizeof(martian) / sizeof(martian[0]); i++) {
        size_t n = t_udp(b, martian[i], UDP_SPORT, OUT, UDP_DPORT, 12);
        CK_REASON(b, n, NAT_R_IP_SRC);
    }
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        size_t n = t_udp(b, fine[i], UDP_SPORT, OUT, UDP_DPORT, 12);
        CK_REASON(b, n, NAT_R_NONE);
    }
}
END_TEST

/* An unfragmented segment shorter than the 20-byte TCP header; the spare
 * bytes beyond the total length (as link padding) do not count. */
START_TEST(reason_tcp_truncated)
{
    uint8_t b[PKT_MAX];
    size_t n = tcp_pkt(b, NAT_TH_SYN, 0);
    for (uint16_t tot = 20; tot < 40; tot++) {
        ip_set16(b, 2, tot);
        CK_REASON(b, tot, NAT_R_TCP_TRUNCATED);
        CK_REASON(b, n, NAT_R_TCP_TRUNCATED);
    }
}
END_TEST

/* RFC 9293 3.1: the data offset is at least 5 words. */
START_TEST(reason_tcp_dataoff)
{
    uint8_t b[PKT_MAX];
    size_t n = tcp_pkt(b, NAT_TH_SYN, 0);
    for (unsigned doff = 0; doff < 5; doff++) {
        l4_set8(b, n, 12, (uint8_t)(doff << 4));
        CK_REASON(b, n, NAT_R_TCP_DATAOFF);
    }
}
END_TEST

START_TEST(reason_tcp_dataoff_trunc)
{
    uint8_t b[PKT_MAX];
    size_t n = tcp_pkt(b, NAT_TH_SYN, 0);
    for (unsigned doff = 6; doff < 16; doff++) {
        l4_set8(b, n, 12, (uint8_t)(doff << 4));
        CK_REASON(b, n, NAT_R_TCP_DATAOFF_TRUNC);
    }
    /* With 8 bytes after the fixed header, 7 words fit and 8 do not. */
    n = tcp_pkt(b, NAT_TH_SYN, 8);
    l4_set8(b, n, 12, 7 << 4);
    CK_REASON(b, n, NAT_R_NONE);
    l4_set8(b, n, 12, 8 << 4);
    CK_REASON(b, n, NAT_R_TCP_DATAOFF_TRUNC);
}
END_TEST

/* RFC 9293 3.10.7: SYN never comes with FIN or RST, and every segment
 * carries SYN, ACK or RST (this rejects null and Xmas scans). */
START_TEST(reason_tcp_flags)
{
    static const uint8_t bad[] = {
        0,                                    /* null scan */
        NAT_TH_FIN,                           /* FIN scan */
        NAT_TH_PSH,                           /* data without ACK */
        0x20,                                 /* URG alone */
        0x40,                                 /* ECE alone */
        0x80,                                 /* CWR alone */
        NAT_TH_FIN | NAT_TH_PSH | 0x20,       /* Xmas scan */
        NAT_TH_SYN | NAT_TH_FIN,              /* SYN+FIN */
        NAT_TH_SYN | NAT_TH_RST,              /* SYN+RST */
        NAT_TH_SYN | NAT_TH_FIN | NAT_TH_ACK, /* ... with ACK */
        NAT_TH_SYN | NAT_TH_RST | NAT_TH_ACK, /* ... with ACK */
        0xff,                                 /* everything */
    };
    uint8_t b[PKT_MAX];
    for (size_t i = 0; i < sizeof(bad); i++) {
        size_t n = tcp_pkt(b, bad[i], 0);
        CK_REASON(b, n, NAT_R_TCP_FLAGS);
    }
}
END_TEST

START_TEST(reason_udp_truncated)
{
    uint8_t b[PKT_MAX];
    udp_pkt(b, 0);
    for (uint16_t tot = 20; tot < 28; tot++) {
        ip_set16(b, 2, tot);
        CK_REASON(b, tot, NAT_R_UDP_TRUNCATED);
    }
}
END_TEST

/* RFC 768: the length covers the 8-byte header and may not run past the
 * datagram the IP header delimits. */
START_TEST(reason_udp_length)
{
    uint8_t b[PKT_MAX];
    size_t n = udp_pkt(b, 12);
    for (uint16_t ulen = 0; ulen < 8; ulen++) {
        l4_set16(b, n, 4, ulen);
        CK_REASON(b, n, NAT_R_UDP_LENGTH);
    }
    l4_set16(b, n, 4, (uint16_t)(n - 20 + 1));
    CK_REASON(b, n, NAT_R_UDP_LENGTH);
    l4_set16(b, n, 4, 65535);
    CK_REASON(b, n, NAT_R_UDP_LENGTH);
}
END_TEST

/* Port 0 is reserved and cannot be mapped. */
START_TEST(reason_port_zero)
{
    uint8_t b[PKT_MAX];
    size_t n = t_tcp(b, IN, 0, OUT, TCP_DPORT, NAT_TH_SYN, 0);
    CK_REASON(b, n, NAT_R_PORT_ZERO);
    n = t_tcp(b, IN, TCP_SPORT, OUT, 0, NAT_TH_SYN, 0);
    CK_REASON(b, n, NAT_R_PORT_ZERO);
    n = t_udp(b, IN, 0, OUT, UDP_DPORT, 12);
    CK_REASON(b, n, NAT_R_PORT_ZERO);
    n = t_udp(b, IN, UDP_SPORT, OUT, 0, 12);
    CK_REASON(b, n, NAT_R_PORT_ZERO);
    n = t_udp(b, IN, 0, OUT, 0, 12);
    CK_REASON(b, n, NAT_R_PORT_ZERO);
}
END_TEST

/* RFC 1858 3: a first fragment too short for the transport header would let
 * a later fragment supply the ports and flags the NAT never saw. */
START_TEST(reason_frag_tiny)
{
    uint8_t b[PKT_MAX];
    tcp_pkt(b, NAT_TH_SYN, 0);
    ip_set16(b, 6, IP_MF);
    for (uint16_t tot = 20; tot < 40; tot++) {
        ip_set16(b, 2, tot);
        CK_REASON(b, tot, NAT_R_FRAG_TINY);
    }
    /* Whole fixed header present, but its options run past the fragment;
     * unfragmented, the same segment is merely truncated. */
    size_t n = tcp_pkt(b, NAT_TH_SYN, 16);
    l4_set8(b, n, 12, 10 << 4);
    CK_REASON(b, n, NAT_R_TCP_DATAOFF_TRUNC);
    ip_set16(b, 6, IP_MF);
    CK_REASON(b, n, NAT_R_FRAG_TINY);

    udp_pkt(b, 0);
    ip_set16(b, 6, IP_MF);
    for (uint16_t tot = 20; tot < 28; tot++) {
        ip_set16(b, 2, tot);
        CK_REASON(b, tot, NAT_R_FRAG_TINY);
    }
    echo_pkt(b, 0);
    ip_set16(b, 6, IP_MF);
    for (uint16_t tot = 20; tot < 28; tot++) {
        ip_set16(b, 2, tot);
        CK_REASON(b, tot, NAT_R_FRAG_TINY);
    }
}
END_TEST

/* RFC 1858 3.2: a TCP fragment at offset 8 (field value 1) can overwrite
 * the flags of the first; offset 16 and UDP at offset 8 are harmless. */
START_TEST(reason_frag_tiny_tcp_offset_8)
{
    uint8_t b[PKT_MAX];
    size_t n = tcp_pkt(b, NAT_TH_ACK, 12);
    ip_set16(b, 6, 1);
    CK_REASON(b, n, NAT_R_FRAG_TINY);
    ip_set16(b, 6, IP_MF | 1);
    CK_REASON(b, n, NAT_R_FRAG_TINY);
    ip_set16(b, 6, IP_MF | 2);
    CK_REASON(b, n, NAT_R_NONE);
    n = udp_pkt(b, 12);
    ip_set16(b, 6, IP_MF | 1);
    CK_REASON(b, n, NAT_R_NONE);
}
END_TEST

START_TEST(reason_icmp_truncated)
{
    uint8_t b[PKT_MAX];
    echo_pkt(b, 0);
    for (uint16_t tot = 20; tot < 28; tot++) {
        ip_set16(b, 2, tot);
        CK_REASON(b, tot, NAT_R_ICMP_TRUNCATED);
    }
    size_t n = unreach_udp_pkt(b);
    ip_set16(b, 2, 27);
    CK_REASON(b, n, NAT_R_ICMP_TRUNCATED);
}
END_TEST

/* RFC 5508 REQ-3: an error whose ICMP checksum fails is dropped. Every
 * single-bit error after the type and code is caught. */
START_TEST(reason_icmp_checksum)
{
    uint8_t b[PKT_MAX];
    size_t n = unreach_udp_pkt(b);
    for (size_t i = 22; i < n; i++) {
        b[i] ^= 0x01;
        CK_REASON(b, n, NAT_R_ICMP_CHECKSUM);
        b[i] ^= 0x01;
    }
    b[21] = 1; /* code: host unreachable instead of port */
    CK_REASON(b, n, NAT_R_ICMP_CHECKSUM);
}
END_TEST

/* RFC 792: an error quotes the IP header and at least 8 more bytes. */
START_TEST(reason_icmp_inner_truncated)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    size_t on = udp_pkt(o, 12);
    for (size_t q = 0; q < 28; q++) {
        size_t n = err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, q);
        CK_REASON(b, n, NAT_R_ICMP_INNER_TRUNCATED);
    }
    /* A 24-byte quoted header needs 32 bytes. */
    on = with_ip_options(o, udp_pkt(o, 12), router_alert, 4);
    for (size_t q = 28; q < 32; q++) {
        size_t n = err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, q);
        CK_REASON(b, n, NAT_R_ICMP_INNER_TRUNCATED);
    }
    /* RFC 4884: a length field of 6 words bounds the quote to 24 bytes,
     * short of the 28 needed, although 40 bytes follow. */
    on = udp_pkt(o, 12);
    size_t n = err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, on);
    l4_set8(b, n, 5, 6);
    CK_REASON(b, n, NAT_R_ICMP_INNER_TRUNCATED);
}
END_TEST

START_TEST(reason_icmp_inner_header)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    size_t on = udp_pkt(o, 12);
    ip_set8(o, 0, 0x65); /* version 6 */
    size_t n = err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, on);
    CK_REASON(b, n, NAT_R_ICMP_INNER_HEADER);

    on = udp_pkt(o, 12);
    ip_set8(o, 0, 0x44); /* IHL 4 */
    n = err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, on);
    CK_REASON(b, n, NAT_R_ICMP_INNER_HEADER);

    on = udp_pkt(o, 12);
    ip_set16(o, 2, 19); /* total length inside its own header */
    n = err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, on);
    CK_REASON(b, n, NAT_R_ICMP_INNER_HEADER);
}
END_TEST

/* RFC 5508 REQ-3: the embedded IP header checksum must verify too. The
 * ICMP checksum is computed over the bad quote, so only this check fails. */
START_TEST(reason_icmp_inner_checksum)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    size_t on = udp_pkt(o, 12);
    o[8]--; /* TTL changed without updating the checksum */
    size_t n = err_pkt(b, NAT_ICMP_TIMXCEED, 0, o, on, on);
    CK_REASON(b, n, NAT_R_ICMP_INNER_CHECKSUM);

    on = udp_pkt(o, 12);
    o[10] ^= 0x80;
    n = err_pkt(b, NAT_ICMP_UNREACH, 3, o, on, 28);
    CK_REASON(b, n, NAT_R_ICMP_INNER_CHECKSUM);
}
END_TEST

/* Only TCP, UDP and ICMP queries have ports or identifiers to map back. */
START_TEST(reason_icmp_inner_proto)
{
    static const uint8_t protos[] = {0, 2, 4, 41, 47, 50, 51, 132, 255};
    uint8_t o[PKT_MAX], b[PKT_MAX];
    for (size_t i = 0; i < sizeof(protos); i++) {
        size_t on = udp_pkt(o, 12);
        ip_set8(o, 9, protos[i]);
        size_t n = err_pkt(b, NAT_ICMP_UNREACH, 2, o, on, on);
        CK_REASON(b, n, NAT_R_ICMP_INNER_PROTO);
    }
}
END_TEST

/* RFC 1122 3.2.2: no ICMP error is sent about an ICMP error, so one that
 * quotes an error is forged or broken. */
START_TEST(reason_icmp_inner_error)
{
    static const uint8_t types[] = {NAT_ICMP_UNREACH, NAT_ICMP_TIMXCEED,
                                    NAT_ICMP_PARAMPROB};
    uint8_t o[PKT_MAX], inner[PKT_MAX], b[PKT_MAX];
    size_t on = udp_pkt(o, 12);
    for (size_t i = 0; i < sizeof(types); i++) {
        size_t en = t_icmp_error(inner, IN, OUT, types[i], 0, o, on, on);
        size_t n = err_pkt(b, NAT_ICMP_UNREACH, 1, inner, en, en);
        CK_REASON(b, n, NAT_R_ICMP_INNER_ERROR);
    }
}
END_TEST

/* A non-first fragment quoted has no transport header to match. All 13
 * offset bits count (0x1000: the top one alone). */
START_TEST(reason_icmp_inner_frag)
{
    static const uint16_t frag[] = {
        1,              /* last fragment at offset 8 */
        IP_MF | 1,      /* middle fragment */
        185,            /* offset 1480 */
        IP_MF | 185,    /* ... and more to come */
        8191,           /* the highest offset */
        0x1000,         /* only the top offset bit */
        IP_DF | 0x1000, /* ... with DF */
    };
    uint8_t o[PKT_MAX], b[PKT_MAX];
    for (size_t i = 0; i < sizeof(frag) / sizeof(frag[0]); i++) {
        size_t on = udp_pkt(o, 12);
        ip_set16(o, 6, frag[i]);
        size_t n = err_pkt(b, NAT_ICMP_TIMXCEED, 1, o, on, on);
        CK_REASON(b, n, NAT_R_ICMP_INNER_FRAG);
    }
}
END_TEST

/* An ICMP error split across fragments: its checksum covers bytes this
 * packet does not hold, so it can be neither verified nor rewritten. */
START_TEST(reason_fragment)
{
    uint8_t b[PKT_MAX];
    size_t n = unreach_udp_pkt(b);
    ip_set16(b, 6, IP_MF);
    CK_REASON(b, n, NAT_R_FRAGMENT);
    ip_set16(b, 6, IP_MF | IP_DF);
    CK_REASON(b, n, NAT_R_FRAGMENT);
}
END_TEST

/* ---- 2. valid packets ---------------------------------------------------- */

/* The fields every successful parse of a builder packet shares. */
static void
check_ip(const struct nat_pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
         size_t tot_len)
{
    ck_assert_uint_eq(p->src, src);
    ck_assert_uint_eq(p->dst, dst);
    ck_assert_uint_eq(p->proto, proto);
    ck_assert_uint_eq(p->tot_len, tot_len);
    ck_assert_uint_eq(p->ihl, 20);
    ck_assert_uint_eq(p->ip_id, 0x1234);
    ck_assert_uint_eq(p->ttl, 64);
    ck_assert_uint_eq(p->l4_off, 20);
    ck_assert_uint_eq(p->l4_len, tot_len - 20);
}

START_TEST(parse_tcp_syn)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = tcp_pkt(b, NAT_TH_SYN, 0);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, IN, OUT, NAT_PROTO_TCP, 40);
    ck_assert_int_eq(p.kind, NAT_PK_TCP);
    ck_assert_uint_eq(p.tcp_flags, NAT_TH_SYN);
    ck_assert_uint_eq(p.sport, TCP_SPORT);
    ck_assert_uint_eq(p.dport, TCP_DPORT);
    ck_assert_uint_eq(p.df, 0);
    ck_assert_uint_eq(p.mf, 0);
    ck_assert_uint_eq(p.frag_off, 0);
    /* Path MTU discovery sets DF; it is reported, not rejected. */
    ip_set16(b, 6, IP_DF);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_uint_eq(p.df, 1);
    ck_assert_uint_eq(p.mf, 0);
}
END_TEST

START_TEST(parse_tcp_flag_combinations)
{
    static const uint8_t ok[] = {
        NAT_TH_SYN | NAT_TH_ACK,
        NAT_TH_ACK,
        NAT_TH_ACK | NAT_TH_PSH,
        NAT_TH_FIN | NAT_TH_ACK,
        NAT_TH_FIN | NAT_TH_PSH | NAT_TH_ACK,
        NAT_TH_RST,
        NAT_TH_RST | NAT_TH_ACK,
        NAT_TH_SYN | 0x40 | 0x80, /* ECN-setup SYN, RFC 3168 */
    };
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    for (size_t i = 0; i < sizeof(ok); i++) {
        size_t n = tcp_pkt(b, ok[i], 10);
        CK_PARSE(&p, b, n, NAT_R_NONE);
        ck_assert_int_eq(p.kind, NAT_PK_TCP);
        ck_assert_uint_eq(p.tcp_flags, ok[i]);
        ck_assert_uint_eq(p.l4_len, 30);
    }
}
END_TEST

/* A 32-byte header (MSS, window scale) followed by 20 bytes of data. */
START_TEST(parse_tcp_options_payload)
{
    static const uint8_t opts[12] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 1, 0};
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = tcp_pkt(b, NAT_TH_SYN, 32);
    memcpy(b + 40, opts, sizeof(opts));
    l4_set8(b, n, 12, 8 << 4);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, IN, OUT, NAT_PROTO_TCP, 72);
    ck_assert_int_eq(p.kind, NAT_PK_TCP);
    ck_assert_uint_eq(p.l4_len, 52);
    ck_assert_uint_eq(p.sport, TCP_SPORT);
    ck_assert_uint_eq(p.dport, TCP_DPORT);
}
END_TEST

START_TEST(parse_udp)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = udp_pkt(b, 12);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, IN, OUT, NAT_PROTO_UDP, 40);
    ck_assert_int_eq(p.kind, NAT_PK_UDP);
    ck_assert_uint_eq(p.sport, UDP_SPORT);
    ck_assert_uint_eq(p.dport, UDP_DPORT);
    ck_assert_uint_eq(p.tcp_flags, 0);
}
END_TEST

/* RFC 768: a zero checksum means the sender computed none. */
START_TEST(parse_udp_zero_checksum)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = udp_pkt(b, 12);
    st16(b + 26, 0);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_UDP);
    ck_assert_uint_eq(p.sport, UDP_SPORT);
    ck_assert_uint_eq(p.dport, UDP_DPORT);
    /* An empty datagram is just its header. */
    n = udp_pkt(b, 0);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_uint_eq(p.l4_len, 8);
}
END_TEST

START_TEST(parse_icmp_echo_request)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = echo_pkt(b, 16);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, IN, OUT, NAT_PROTO_ICMP, 44);
    ck_assert_int_eq(p.kind, NAT_PK_ICMP_QUERY);
    ck_assert_uint_eq(p.icmp_type, NAT_ICMP_ECHO);
    ck_assert_uint_eq(p.icmp_code, 0);
    ck_assert_uint_eq(p.sport, ECHO_ID);
    ck_assert_uint_eq(p.dport, ECHO_ID);
}
END_TEST

START_TEST(parse_icmp_echo_reply)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = t_icmp_echo(b, OUT, IN, NAT_ICMP_ECHOREPLY, ECHO_ID, 9, 0);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, OUT, IN, NAT_PROTO_ICMP, 28);
    ck_assert_int_eq(p.kind, NAT_PK_ICMP_QUERY);
    ck_assert_uint_eq(p.icmp_type, NAT_ICMP_ECHOREPLY);
    ck_assert_uint_eq(p.sport, ECHO_ID);
    ck_assert_uint_eq(p.dport, ECHO_ID);
}
END_TEST

/* RFC 792 timestamp: identifier, sequence and three 32-bit times. */
START_TEST(parse_icmp_timestamp)
{
    static const uint8_t types[] = {NAT_ICMP_TSTAMP, NAT_ICMP_TSTAMPREPLY};
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    for (size_t i = 0; i < sizeof(types); i++) {
        size_t n = t_icmp_echo(b, IN, OUT, types[i], 0x1313, 1, 12);
        CK_PARSE(&p, b, n, NAT_R_NONE);
        ck_assert_int_eq(p.kind, NAT_PK_ICMP_QUERY);
        ck_assert_uint_eq(p.icmp_type, types[i]);
        ck_assert_uint_eq(p.sport, 0x1313);
        ck_assert_uint_eq(p.dport, 0x1313);
        ck_assert_uint_eq(p.l4_len, 20);
    }
}
END_TEST

/* Information (RFC 792) and address mask (RFC 950) carry an identifier. */
START_TEST(parse_icmp_other_queries)
{
    static const uint8_t types[] = {NAT_ICMP_INFO, NAT_ICMP_INFOREPLY,
                                    NAT_ICMP_MASK, NAT_ICMP_MASKREPLY};
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    for (size_t i = 0; i < sizeof(types); i++) {
        size_t n = t_icmp_echo(b, IN, OUT, types[i], 0x0e0e, 1, 4);
        CK_PARSE(&p, b, n, NAT_R_NONE);
        ck_assert_int_eq(p.kind, NAT_PK_ICMP_QUERY);
        ck_assert_uint_eq(p.sport, 0x0e0e);
    }
}
END_TEST

/* The fields of the quoted packet @o as an error about it reports them. */
static void
check_inner(const struct nat_pkt *p, const uint8_t *o, size_t avail)
{
    ck_assert_int_eq(p->kind, NAT_PK_ICMP_ERROR);
    ck_assert_uint_eq(p->in.off, p->l4_off + 8);
    ck_assert_uint_eq(p->in.ihl, (o[0] & 0x0f) * 4u);
    ck_assert_uint_eq(p->in.avail, avail);
    ck_assert_uint_eq(p->in.tot_len, ld16(o + 2));
    ck_assert_uint_eq(p->in.src, ld32(o + 12));
    ck_assert_uint_eq(p->in.dst, ld32(o + 16));
    ck_assert_uint_eq(p->in.proto, o[9]);
}

START_TEST(parse_icmp_unreach_udp)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    struct nat_pkt p;
    size_t on = udp_pkt(o, 12);
    size_t n = t_icmp_error(b, OUT, IN, NAT_ICMP_UNREACH, 3, o, on, on);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, OUT, IN, NAT_PROTO_ICMP, 20 + 8 + on);
    ck_assert_uint_eq(p.icmp_type, NAT_ICMP_UNREACH);
    ck_assert_uint_eq(p.icmp_code, 3);
    check_inner(&p, o, on);
    ck_assert_int_eq(p.in.kind, NAT_PK_UDP);
    ck_assert_uint_eq(p.in.sport, UDP_SPORT);
    ck_assert_uint_eq(p.in.dport, UDP_DPORT);
}
END_TEST

/* RFC 1191: fragmentation needed, next-hop MTU in bytes 6-7; the quote is
 * the RFC 792 minimum of header plus 64 bits, short of the 40-byte packet. */
START_TEST(parse_icmp_frag_needed_tcp)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    struct nat_pkt p;
    size_t on = tcp_pkt(o, NAT_TH_ACK, 1440);
    ip_set16(o, 6, IP_DF);
    size_t n = err_pkt(b, NAT_ICMP_UNREACH, 4, o, on, 28);
    l4_set16(b, n, 6, 1400);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, RTR, IN, NAT_PROTO_ICMP, 56);
    ck_assert_uint_eq(p.icmp_code, 4);
    check_inner(&p, o, 28);
    ck_assert_uint_eq(p.in.tot_len, 1480);
    ck_assert_int_eq(p.in.kind, NAT_PK_TCP);
    ck_assert_uint_eq(p.in.sport, TCP_SPORT);
    ck_assert_uint_eq(p.in.dport, TCP_DPORT);
}
END_TEST

START_TEST(parse_icmp_timxceed_echo)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    struct nat_pkt p;
    size_t on = echo_pkt(o, 32);
    size_t n = err_pkt(b, NAT_ICMP_TIMXCEED, 0, o, on, on);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_uint_eq(p.icmp_type, NAT_ICMP_TIMXCEED);
    check_inner(&p, o, on);
    ck_assert_int_eq(p.in.kind, NAT_PK_ICMP_QUERY);
    ck_assert_uint_eq(p.in.icmp_type, NAT_ICMP_ECHO);
    ck_assert_uint_eq(p.in.sport, ECHO_ID);
    ck_assert_uint_eq(p.in.dport, ECHO_ID);
}
END_TEST

/* RFC 792: parameter problem, pointer in byte 4 (here: the TTL octet). */
START_TEST(parse_icmp_paramprob_tcp)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    struct nat_pkt p;
    size_t on = tcp_pkt(o, NAT_TH_SYN, 0);
    size_t n = err_pkt(b, NAT_ICMP_PARAMPROB, 0, o, on, on);
    l4_set8(b, n, 4, 8);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_uint_eq(p.icmp_type, NAT_ICMP_PARAMPROB);
    check_inner(&p, o, on);
    ck_assert_int_eq(p.in.kind, NAT_PK_TCP);
    ck_assert_uint_eq(p.in.sport, TCP_SPORT);
    ck_assert_uint_eq(p.in.dport, TCP_DPORT);
}
END_TEST

/* The quoted ports follow the quoted header's own IHL. */
START_TEST(parse_icmp_error_inner_options)
{
    static const uint8_t opts[8] = {1, 1, 148, 4, 0, 0, 0, 0};
    uint8_t o[PKT_MAX], b[PKT_MAX];
    struct nat_pkt p;
    size_t on = with_ip_options(o, udp_pkt(o, 12), opts, sizeof(opts));
    size_t n = err_pkt(b, NAT_ICMP_UNREACH, 1, o, on, 36);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_inner(&p, o, 36);
    ck_assert_uint_eq(p.in.ihl, 28);
    ck_assert_int_eq(p.in.kind, NAT_PK_UDP);
    ck_assert_uint_eq(p.in.sport, UDP_SPORT);
    ck_assert_uint_eq(p.in.dport, UDP_DPORT);
}
END_TEST

/* An embedded first fragment still starts with the transport header. */
START_TEST(parse_icmp_error_inner_first_fragment)
{
    uint8_t o[PKT_MAX], b[PKT_MAX];
    struct nat_pkt p;
    size_t on = udp_pkt(o, 12);
    ip_set16(o, 6, IP_MF);
    size_t n = err_pkt(b, NAT_ICMP_TIMXCEED, 1, o, on, on);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_inner(&p, o, on);
    ck_assert_uint_eq(p.in.sport, UDP_SPORT);
}
END_TEST

/* RFC 4884: byte 5 gives the original datagram's length in 32-bit words
 * (at least 128 bytes when an extension follows); the extension structure
 * after it is not quoted packet. A length past the message is ignored
 * (RFC 4884 5.5: treated as a non-compliant message). */
START_TEST(parse_icmp_error_rfc4884)
{
    static const uint8_t ext[8] = {0x20, 0, 0, 0, 0, 4, 1, 1};
    uint8_t o[PKT_MAX], b[PKT_MAX];
    struct nat_pkt p;
    size_t on = udp_pkt(o, 200);
    size_t n = err_pkt(b, NAT_ICMP_TIMXCEED, 0, o, on, 128 + sizeof(ext));
    memcpy(b + 28 + 128, ext, sizeof(ext));
    l4_set8(b, n, 5, 128 / 4);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_inner(&p, o, 128);
    ck_assert_uint_eq(p.in.tot_len, 228);
    ck_assert_int_eq(p.in.kind, NAT_PK_UDP);
    ck_assert_uint_eq(p.in.sport, UDP_SPORT);
    ck_assert_uint_eq(p.in.dport, UDP_DPORT);

    l4_set8(b, n, 5, 255);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_uint_eq(p.in.avail, 136);
}
END_TEST

/* RFC 791 3.1: NOP and EOL, type-length-value options (RFC 2113 router
 * alert, record route), and anything after EOL is padding. */
START_TEST(parse_ip_options_valid)
{
    static const uint8_t opts[][8] = {
        {1, 1, 1, 0, 0, 0, 0, 0},          /* NOPs, then EOL */
        {148, 4, 0, 0, 0, 0, 0, 0},        /* router alert */
        {0, 7, 0xff, 0xff, 0x44, 0, 0, 0}, /* EOL, then junk padding */
        {7, 7, 4, 0, 0, 0, 0, 0},          /* record route, one slot */
        {1, 1, 1, 1, 148, 4, 0, 0},        /* NOPs, router alert */
    };
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        size_t n = with_ip_options(b, udp_pkt(b, 12), opts[i], 8);
        CK_PARSE(&p, b, n, NAT_R_NONE);
        ck_assert_uint_eq(p.ihl, 28);
        ck_assert_uint_eq(p.l4_off, 28);
        ck_assert_uint_eq(p.l4_len, 20);
        ck_assert_int_eq(p.kind, NAT_PK_UDP);
        ck_assert_uint_eq(p.sport, UDP_SPORT);
        ck_assert_uint_eq(p.dport, UDP_DPORT);
    }
    /* A full 40-byte option area of NOPs. */
    uint8_t nops[40];
    memset(nops, 1, sizeof(nops));
    size_t n = with_ip_options(b, tcp_pkt(b, NAT_TH_SYN, 0), nops, 40);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_uint_eq(p.ihl, 60);
    ck_assert_uint_eq(p.sport, TCP_SPORT);
}
END_TEST

/* A non-first fragment has no transport header: no ports, whatever the
 * protocol (even an ICMP error's tail). */
START_TEST(parse_fragment_non_first)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = udp_pkt(b, 12);
    ip_set16(b, 6, IP_MF | 185);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_FRAGMENT);
    ck_assert_uint_eq(p.frag_off, 1480);
    ck_assert_uint_eq(p.mf, 1);
    ck_assert_uint_eq(p.sport, 0);
    ck_assert_uint_eq(p.dport, 0);
    ck_assert_uint_eq(p.l4_len, 20);
    ip_set16(b, 6, 185); /* the last fragment */
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_FRAGMENT);
    ck_assert_uint_eq(p.mf, 0);

    n = unreach_udp_pkt(b);
    ip_set16(b, 6, 3);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_FRAGMENT);
    ck_assert_uint_eq(p.frag_off, 24);
}
END_TEST

/* A first fragment holds only part of the datagram its UDP length covers. */
START_TEST(parse_first_fragment_udp_long)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    udp_pkt(b, 100);
    ip_set16(b, 6, IP_MF);
    ip_set16(b, 2, 20 + 48);
    CK_PARSE(&p, b, 68, NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_UDP);
    ck_assert_uint_eq(p.mf, 1);
    ck_assert_uint_eq(p.frag_off, 0);
    ck_assert_uint_eq(p.l4_len, 48);
    ck_assert_uint_eq(p.sport, UDP_SPORT);
}
END_TEST

/* Ethernet pads frames to 60 bytes; only the total length counts, so the
 * padding is in neither l4_len nor the ICMP checksum. */
START_TEST(parse_link_padding)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = udp_pkt(b, 0);
    memset(b + n, 0, 60 - n);
    CK_PARSE(&p, b, 60, NAT_R_NONE);
    ck_assert_uint_eq(p.tot_len, 28);
    ck_assert_uint_eq(p.l4_len, 8);

    n = unreach_udp_pkt(b);
    memset(b + n, 0xa5, 20);
    CK_PARSE(&p, b, n + 20, NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_ICMP_ERROR);
    ck_assert_uint_eq(p.tot_len, n);
    ck_assert_uint_eq(p.in.avail, n - 28);
}
END_TEST

/* A protocol without ports (GRE, ESP) is passed up unparsed. */
START_TEST(parse_unknown_proto)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    size_t n = udp_pkt(b, 12);
    ip_set8(b, 9, 47);
    CK_PARSE(&p, b, n, NAT_R_NONE);
    check_ip(&p, IN, OUT, 47, 40);
    ck_assert_int_eq(p.kind, NAT_PK_OTHER);
    ck_assert_uint_eq(p.sport, 0);
    ck_assert_uint_eq(p.dport, 0);
    /* Even with no payload at all. */
    ip_set8(b, 9, 50);
    ip_set16(b, 2, 20);
    CK_PARSE(&p, b, 20, NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_OTHER);
    ck_assert_uint_eq(p.l4_len, 0);
}
END_TEST

/* ICMP types that are neither queries nor translated errors: router
 * advertisement and solicitation, and source quench and redirect, which
 * RFC 5508 section 7 does not translate. */
START_TEST(parse_unknown_icmp_type)
{
    static const uint8_t types[] = {
        9, 10, NAT_ICMP_SOURCEQUENCH, NAT_ICMP_REDIRECT, 42, 255};
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    for (size_t i = 0; i < sizeof(types); i++) {
        size_t n = t_icmp_echo(b, IN, OUT, types[i], 1, 1, 8);
        CK_PARSE(&p, b, n, NAT_R_NONE);
        ck_assert_int_eq(p.kind, NAT_PK_OTHER);
        ck_assert_uint_eq(p.icmp_type, types[i]);
    }
}
END_TEST

/* ---- 3. truncation, alignment, no writes, random mutation ---------------- */

struct sample {
    const char *name;
    size_t n;
    uint8_t b[PKT_MAX];
};

#define N_SAMPLES 15

/* Start the next corpus sample. */
static struct sample *
next(struct sample *s, size_t *k, const char *name)
{
    ck_assert_uint_lt(*k, N_SAMPLES);
    s[*k].name = name;
    return &s[(*k)++];
}

/* Valid packets of every kind the parser walks into. */
static size_t
build_corpus(struct sample *s)
{
    uint8_t o[PKT_MAX];
    struct sample *c;
    size_t on, k = 0;

    c = next(s, &k, "tcp syn");
    c->n = tcp_pkt(c->b, NAT_TH_SYN, 0);
    c = next(s, &k, "tcp data");
    c->n = tcp_pkt(c->b, NAT_TH_ACK | NAT_TH_PSH, 33);
    c = next(s, &k, "tcp ip options");
    c->n = with_ip_options(c->b, tcp_pkt(c->b, NAT_TH_SYN, 4), router_alert, 4);
    c = next(s, &k, "udp");
    c->n = udp_pkt(c->b, 12);
    c = next(s, &k, "udp empty");
    c->n = udp_pkt(c->b, 0);
    c = next(s, &k, "udp first fragment"); /* 24 of its 48 bytes */
    udp_pkt(c->b, 40);
    ip_set16(c->b, 6, IP_MF);
    ip_set16(c->b, 2, 20 + 24);
    c->n = 20 + 24;
    c = next(s, &k, "udp non-first fragment");
    c->n = udp_pkt(c->b, 12);
    ip_set16(c->b, 6, 100);
    c = next(s, &k, "echo");
    c->n = echo_pkt(c->b, 16);
    c = next(s, &k, "timestamp");
    c->n = t_icmp_echo(c->b, IN, OUT, NAT_ICMP_TSTAMP, 7, 1, 12);
    c = next(s, &k, "unreach udp");
    c->n = unreach_udp_pkt(c->b);
    c = next(s, &k, "frag needed tcp");
    on = tcp_pkt(o, NAT_TH_ACK, 100);
    c->n = err_pkt(c->b, NAT_ICMP_UNREACH, 4, o, on, 28);
    c = next(s, &k, "timxceed echo");
    on = echo_pkt(o, 8);
    c->n = err_pkt(c->b, NAT_ICMP_TIMXCEED, 0, o, on, on);
    c = next(s, &k, "paramprob inner options");
    on = with_ip_options(o, tcp_pkt(o, NAT_TH_SYN, 0), router_alert, 4);
    c->n = err_pkt(c->b, NAT_ICMP_PARAMPROB, 0, o, on, on);
    c = next(s, &k, "rfc4884");
    on = udp_pkt(o, 200);
    c->n = err_pkt(c->b, NAT_ICMP_UNREACH, 3, o, on, 136);
    l4_set8(c->b, c->n, 5, 32);
    c = next(s, &k, "gre");
    c->n = udp_pkt(c->b, 12);
    ip_set8(c->b, 9, 47);
    ck_assert_uint_eq(k, N_SAMPLES);

    for (size_t i = 0; i < k; i++) {
        struct nat_pkt p;
        ck_assert_msg(t_parse(&p, s[i].b, s[i].n) == NAT_R_NONE,
                      "corpus sample '%s' does not parse", s[i].name);
    }
    return k;
}

/* Each packet cut short at every length below its own, from a block of
 * exactly that size: always a reason, never a read past the cut. */
START_TEST(truncated_every_offset)
{
    static struct sample s[N_SAMPLES];
    size_t ns = build_corpus(s);
    for (size_t i = 0; i < ns; i++) {
        struct nat_pkt p;
        for (size_t n = 0; n < s[i].n; n++) {
            enum nat_reason r = t_parse(&p, s[i].b, n);
            ck_assert_msg(r != NAT_R_NONE && r < NAT_R_MAX,
                          "'%s' cut at %zu: %s", s[i].name, n,
                          nat_reason_str(r));
        }
        CK_PARSE(&p, s[i].b, s[i].n, NAT_R_NONE);
    }
}
END_TEST

/* Cut @s to @n bytes with the total length and every checksum agreeing,
 * so that the transport and ICMP checks see the short packet. */
static enum nat_reason
parse_shrunk(const struct sample *s, size_t n)
{
    uint8_t b[PKT_MAX];
    struct nat_pkt p;
    memcpy(b, s->b, s->n);
    ip_set16(b, 2, (uint16_t)n);
    t_fix_all_csums(b, n);
    return t_parse(&p, b, n);
}

/* Expected reason for a consistent cut to an @l4-byte transport part. */
static enum nat_reason
shrunk_reason(const char *name, size_t l4)
{
    if (strcmp(name, "tcp data") == 0)
        return l4 < 20 ? NAT_R_TCP_TRUNCATED : NAT_R_NONE;
    if (strcmp(name, "udp") == 0)
        return l4 < 8    ? NAT_R_UDP_TRUNCATED
               : l4 < 20 ? NAT_R_UDP_LENGTH
                         : NAT_R_NONE;
    if (strcmp(name, "echo") == 0)
        return l4 < 8 ? NAT_R_ICMP_TRUNCATED : NAT_R_NONE;
    /* "unreach udp": 8 bytes of ICMP, then the 20 + 8 the quote needs. */
    return l4 < 8    ? NAT_R_ICMP_TRUNCATED
           : l4 < 36 ? NAT_R_ICMP_INNER_TRUNCATED
                     : NAT_R_NONE;
}

/* Cuts that keep the headers consistent reach the transport and ICMP
 * length checks, each of which must name the exact problem. */
START_TEST(truncated_consistent_tot_len)
{
    static struct sample s[N_SAMPLES];
    static const char *const names[] = {"tcp data", "udp", "echo",
                                        "unreach udp"};
    size_t ns = build_corpus(s), seen = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t j = 0;
        while (j < 4 && strcmp(s[i].name, names[j]) != 0)
            j++;
        if (j == 4)
            continue;
        seen++;
        for (size_t n = 20; n <= s[i].n; n++) {
            enum nat_reason want = shrunk_reason(s[i].name, n - 20);
            enum nat_reason r = parse_shrunk(&s[i], n);
            ck_assert_msg(r == want, "'%s' cut at %zu: want %s, got %s",
                          s[i].name, n, nat_reason_str(want),
                          nat_reason_str(r));
        }
    }
    ck_assert_uint_eq(seen, 4);
}
END_TEST

/* The parts of two successful parses' views that packet.h documents as
 * valid: everything, except that `in` is valid for ICMP errors only and its
 * icmp_type for quoted ICMP only. A failed parse's view is not to be used. */
static void
ck_same_view(const struct nat_pkt *a, const struct nat_pkt *b)
{
    ck_assert(a->src == b->src && a->dst == b->dst);
    ck_assert(a->ihl == b->ihl && a->tot_len == b->tot_len);
    ck_assert(a->ip_id == b->ip_id && a->frag_off == b->frag_off);
    ck_assert(a->mf == b->mf && a->df == b->df && a->ttl == b->ttl);
    ck_assert(a->proto == b->proto && a->kind == b->kind);
    ck_assert(a->tcp_flags == b->tcp_flags);
    ck_assert(a->icmp_type == b->icmp_type && a->icmp_code == b->icmp_code);
    ck_assert(a->l4_off == b->l4_off && a->l4_len == b->l4_len);
    ck_assert(a->sport == b->sport && a->dport == b->dport);
    if (a->kind != NAT_PK_ICMP_ERROR)
        return;
    ck_assert(a->in.off == b->in.off && a->in.ihl == b->in.ihl);
    ck_assert(a->in.avail == b->in.avail && a->in.tot_len == b->in.tot_len);
    ck_assert(a->in.src == b->in.src && a->in.dst == b->in.dst);
    ck_assert(a->in.proto == b->in.proto && a->in.kind == b->in.kind);
    ck_assert(a->in.sport == b->in.sport && a->in.dport == b->in.dport);
    if (a->in.kind == NAT_PK_ICMP_QUERY)
        ck_assert(a->in.icmp_type == b->in.icmp_type);
}

/* Packets arrive at any alignment (after a 14-byte Ethernet header, inside
 * tunnels): the parser reads bytes, never aligned words. Every cut of every
 * packet at offsets 1..7 gives what the aligned copy gave. */
START_TEST(misaligned_same_result)
{
    static struct sample s[N_SAMPLES];
    size_t ns = build_corpus(s);
    for (size_t i = 0; i < ns; i++) {
        for (size_t n = 1; n <= s[i].n; n++) {
            struct nat_pkt want, got;
            enum nat_reason r0 = t_parse(&want, s[i].b, n);
            for (size_t k = 1; k < 8; k++) {
                uint8_t *h = malloc(n + k);
                ck_assert(h != NULL);
                memcpy(h + k, s[i].b, n);
                enum nat_reason r = nat_pkt_parse(&got, h + k, n);
                free(h);
                ck_assert_msg(r == r0, "'%s' len %zu at +%zu", s[i].name, n, k);
                if (r0 == NAT_R_NONE)
                    ck_same_view(&want, &got);
            }
        }
    }
}
END_TEST

/* A caller reuses one view for every packet: what a successful parse
 * reports may not depend on what the view held before. */
START_TEST(parse_ignores_previous_view)
{
    static struct sample s[N_SAMPLES];
    size_t ns = build_corpus(s);
    for (size_t i = 0; i < ns; i++) {
        struct nat_pkt zero, ones, reused;
        memset(&zero, 0, sizeof(zero));
        memset(&ones, 0xff, sizeof(ones));
        CK_PARSE(&zero, s[i].b, s[i].n, NAT_R_NONE);
        CK_PARSE(&ones, s[i].b, s[i].n, NAT_R_NONE);
        ck_same_view(&zero, &ones);
        /* ... nor on what the previous packet of the corpus left in it. */
        CK_PARSE(&reused, s[(i + ns - 1) % ns].b, s[(i + ns - 1) % ns].n,
                 NAT_R_NONE);
        CK_PARSE(&reused, s[i].b, s[i].n, NAT_R_NONE);
        ck_same_view(&zero, &reused);
    }
}
END_TEST

/* The parser takes a const buffer and must honour it: the caller may parse
 * packets in read-only or shared memory. */
START_TEST(parse_never_writes)
{
    static struct sample s[N_SAMPLES];
    size_t ns = build_corpus(s);
    for (size_t i = 0; i < ns; i++) {
        for (size_t n = 0; n <= s[i].n; n++) {
            /* The packet cut to @n bytes in a heap block of exactly that
             * size (1 for 0), so a read past the cut is an ASan error. */
            uint8_t *copy = malloc(n ? n : 1);
            ck_assert_ptr_nonnull(copy);
            if (n > 0)
                memcpy(copy, s[i].b, n);
            struct nat_pkt p;
            (void)nat_pkt_parse(&p, copy, n);
            ck_assert_msg(n == 0 || memcmp(copy, s[i].b, n) == 0,
                          "'%s' changed by a parse of %zu bytes", s[i].name, n);
            free(copy);
        }
    }
}
END_TEST

/* Re-fix checksums of a mutated packet when its header lengths allow it, so
 * mutations also reach the checks behind the checksums. */
static void
refix(uint8_t *b, size_t n)
{
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    if (n < 20 || ihl < 20 || ihl > n || ld16(b + 2) < ihl)
        return;
    t_fix_all_csums(b, n);
}

static int
martian(uint32_t a)
{
    return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 24) >= 224;
}

/* What an accepted packet promises its users, whatever its bytes. */
static void
ck_invariants(const struct nat_pkt *p, const uint8_t *b, size_t n)
{
    ck_assert(p->ihl >= 20 && p->ihl <= 60 && (p->ihl & 3) == 0);
    ck_assert(t_csum(b, p->ihl) == 0);
    ck_assert(p->tot_len >= p->ihl && p->tot_len <= n);
    ck_assert(p->l4_off == p->ihl && p->l4_len == p->tot_len - p->ihl);
    ck_assert((uint32_t)p->frag_off + p->tot_len <= 65535);
    ck_assert(!martian(p->src));
    ck_assert((p->kind == NAT_PK_FRAGMENT) == (p->frag_off != 0));
    const uint8_t *l4 = b + p->l4_off;
    switch (p->kind) {
    case NAT_PK_TCP:
        ck_assert(p->proto == NAT_PROTO_TCP && p->l4_len >= 20);
        ck_assert((l4[12] >> 4) >= 5 && (l4[12] >> 4) * 4u <= p->l4_len);
        ck_assert(p->sport != 0 && p->dport != 0);
        break;
    case NAT_PK_UDP:
        ck_assert(p->proto == NAT_PROTO_UDP && p->l4_len >= 8);
        ck_assert(ld16(l4 + 4) >= 8);
        ck_assert(p->mf || ld16(l4 + 4) <= p->l4_len);
        ck_assert(p->sport != 0 && p->dport != 0);
        break;
    case NAT_PK_ICMP_QUERY:
        ck_assert(p->l4_len >= 8 && nat_icmp_is_query(p->icmp_type));
        ck_assert(p->sport == ld16(l4 + 4) && p->dport == p->sport);
        break;
    case NAT_PK_ICMP_ERROR:
        ck_assert(nat_icmp_is_error(p->icmp_type) && !p->mf);
        ck_assert(t_csum(l4, p->l4_len) == 0);
        ck_assert(p->in.off == p->l4_off + 8 && p->in.ihl >= 20);
        ck_assert(p->in.ihl + 8u <= p->in.avail);
        ck_assert((size_t)p->in.off + p->in.avail <= p->tot_len);
        ck_assert(p->in.kind == NAT_PK_TCP || p->in.kind == NAT_PK_UDP ||
                  p->in.kind == NAT_PK_ICMP_QUERY);
        break;
    case NAT_PK_OTHER:
        ck_assert(p->proto != NAT_PROTO_TCP && p->proto != NAT_PROTO_UDP);
        break;
    case NAT_PK_FRAGMENT:
        break;
    default:
        ck_abort_msg("kind %u", (unsigned)p->kind);
    }
}

/* Random byte mutations and cuts of the corpus: every result is a valid
 * reason code, and every accepted packet keeps the view's promises. */
START_TEST(random_mutations_keep_invariants)
{
    static struct sample s[N_SAMPLES];
    static uint8_t b[PKT_MAX];
    size_t ns = build_corpus(s);
    t_srand(0x9a7);
    for (long i = 0; i < 200000; i++) {
        const struct sample *c = &s[t_rand() % ns];
        size_t n = c->n;
        memcpy(b, c->b, n);
        /* Bias towards the headers, where the checks are. */
        size_t span = (t_rand() & 1) ? (n < 64 ? n : 64) : n;
        for (unsigned f = 1 + (unsigned)(t_rand() % 3); f > 0; f--)
            b[t_rand() % span] = (uint8_t)t_rand();
        if (t_rand() % 4 == 0)
            n = (size_t)(t_rand() % (n + 1));
        if (t_rand() & 1)
            refix(b, n);
        struct nat_pkt p;
        enum nat_reason r = t_parse(&p, b, n);
        ck_assert_msg(r < NAT_R_MAX, "case %ld: reason %d", i, (int)r);
        if (r == NAT_R_NONE)
            ck_invariants(&p, b, n);
    }
}
END_TEST

Suite *
packet_suite(void)
{
    Suite *s = suite_create("packet");

    TCase *tc = tcase_create("reasons");
    tcase_add_test(tc, reason_ip_truncated);
    tcase_add_test(tc, reason_ip_version);
    tcase_add_test(tc, reason_ip_hdrlen);
    tcase_add_test(tc, reason_ip_hdrlen_trunc);
    tcase_add_test(tc, reason_ip_totlen);
    tcase_add_test(tc, reason_ip_totlen_trunc);
    tcase_add_test(tc, reason_ip_checksum);
    tcase_add_test(tc, reason_ip_options);
    tcase_add_test(tc, reason_ip_frag);
    tcase_add_test(tc, reason_ip_src);
    tcase_add_test(tc, reason_tcp_truncated);
    tcase_add_test(tc, reason_tcp_dataoff);
    tcase_add_test(tc, reason_tcp_dataoff_trunc);
    tcase_add_test(tc, reason_tcp_flags);
    tcase_add_test(tc, reason_udp_truncated);
    tcase_add_test(tc, reason_udp_length);
    tcase_add_test(tc, reason_port_zero);
    tcase_add_test(tc, reason_frag_tiny);
    tcase_add_test(tc, reason_frag_tiny_tcp_offset_8);
    tcase_add_test(tc, reason_icmp_truncated);
    tcase_add_test(tc, reason_icmp_checksum);
    tcase_add_test(tc, reason_icmp_inner_truncated);
    tcase_add_test(tc, reason_icmp_inner_header);
    tcase_add_test(tc, reason_icmp_inner_checksum);
    tcase_add_test(tc, reason_icmp_inner_proto);
    tcase_add_test(tc, reason_icmp_inner_error);
    tcase_add_test(tc, reason_icmp_inner_frag);
    tcase_add_test(tc, reason_fragment);
    suite_add_tcase(s, tc);

    tc = tcase_create("valid");
    tcase_add_test(tc, parse_tcp_syn);
    tcase_add_test(tc, parse_tcp_flag_combinations);
    tcase_add_test(tc, parse_tcp_options_payload);
    tcase_add_test(tc, parse_udp);
    tcase_add_test(tc, parse_udp_zero_checksum);
    tcase_add_test(tc, parse_icmp_echo_request);
    tcase_add_test(tc, parse_icmp_echo_reply);
    tcase_add_test(tc, parse_icmp_timestamp);
    tcase_add_test(tc, parse_icmp_other_queries);
    tcase_add_test(tc, parse_icmp_unreach_udp);
    tcase_add_test(tc, parse_icmp_frag_needed_tcp);
    tcase_add_test(tc, parse_icmp_timxceed_echo);
    tcase_add_test(tc, parse_icmp_paramprob_tcp);
    tcase_add_test(tc, parse_icmp_error_inner_options);
    tcase_add_test(tc, parse_icmp_error_inner_first_fragment);
    tcase_add_test(tc, parse_icmp_error_rfc4884);
    tcase_add_test(tc, parse_ip_options_valid);
    tcase_add_test(tc, parse_fragment_non_first);
    tcase_add_test(tc, parse_first_fragment_udp_long);
    tcase_add_test(tc, parse_link_padding);
    tcase_add_test(tc, parse_unknown_proto);
    tcase_add_test(tc, parse_unknown_icmp_type);
    suite_add_tcase(s, tc);

    /* Hundreds of thousands of parses: seconds under ASan, so do not rely
     * on the environment raising Check's 4-second default. */
    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, truncated_every_offset);
    tcase_add_test(tc, truncated_consistent_tot_len);
    tcase_add_test(tc, misaligned_same_result);
    tcase_add_test(tc, parse_ignores_previous_view);
    tcase_add_test(tc, parse_never_writes);
    tcase_add_test(tc, random_mutations_keep_invariants);
    suite_add_tcase(s, tc);
    return s;
}
