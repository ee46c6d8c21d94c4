/*
 * Packet layer (internal): parse and validate an IPv4 packet with its TCP,
 * UDP or ICMP header into a small view of offsets and fields. It never
 * writes, never reads past @len, and trusts no length field in the packet
 * over the caller's buffer length.
 */
#ifndef NAT_PACKET_H
#define NAT_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cksum.h"
#include "libnat.h"

#define NAT_PROTO_ICMP 1
#define NAT_PROTO_TCP  6
#define NAT_PROTO_UDP  17

#define NAT_TH_FIN 0x01
#define NAT_TH_SYN 0x02
#define NAT_TH_RST 0x04
#define NAT_TH_PSH 0x08
#define NAT_TH_ACK 0x10

#define NAT_ICMP_ECHOREPLY    0
#define NAT_ICMP_UNREACH      3
#define NAT_ICMP_SOURCEQUENCH 4
#define NAT_ICMP_REDIRECT     5
#define NAT_ICMP_ECHO         8
#define NAT_ICMP_TIMXCEED     11
#define NAT_ICMP_PARAMPROB    12
#define NAT_ICMP_TSTAMP       13
#define NAT_ICMP_TSTAMPREPLY  14
#define NAT_ICMP_INFO         15
#define NAT_ICMP_INFOREPLY    16
#define NAT_ICMP_MASK         17
#define NAT_ICMP_MASKREPLY    18

/* What the transport part of a packet is, as far as NAT is concerned. */
enum nat_pkt_kind {
    NAT_PK_OTHER = 0, /* a protocol without ports (GRE, ESP, ...) */
    NAT_PK_TCP,
    NAT_PK_UDP,
    NAT_PK_ICMP_QUERY, /* echo, timestamp, info, mask: identifier as port */
    NAT_PK_ICMP_ERROR, /* unreachable, time exceeded, parameter problem */
    NAT_PK_FRAGMENT,   /* non-first fragment: no transport header */
};

/* The embedded ("inner") packet quoted by an ICMP error. */
struct nat_pkt_inner {
    uint16_t off;     /* offset of the embedded IP header in the buffer */
    uint16_t ihl;     /* its header length in bytes */
    uint16_t avail;   /* bytes of the embedded packet present in the buffer */
    uint16_t tot_len; /* its total length field (may exceed avail) */
    uint32_t src, dst;
    uint8_t proto;
    uint8_t kind; /* enum nat_pkt_kind: TCP, UDP or ICMP_QUERY */
    uint8_t icmp_type;
    uint16_t sport, dport; /* ICMP query: identifier in both */
};

struct nat_pkt {
    uint32_t src, dst; /* host order */
    uint16_t ihl;      /* header length, bytes */
    uint16_t tot_len;  /* total length; never more than the buffer */
    uint16_t ip_id;
    uint16_t frag_off; /* fragment offset in bytes */
    uint8_t mf, df;    /* more-fragments and don't-fragment flags */
    uint8_t proto;
    uint8_t ttl;
    uint8_t kind; /* enum nat_pkt_kind */
    uint8_t tcp_flags;
    uint8_t icmp_type, icmp_code;
    uint16_t l4_off;         /* == ihl */
    uint16_t l4_len;         /* tot_len - ihl */
    uint16_t sport, dport;   /* TCP/UDP ports; ICMP query identifier in both */
    struct nat_pkt_inner in; /* valid when kind == NAT_PK_ICMP_ERROR */
};

/*
 * Parse @len bytes at @buf. Returns NAT_R_NONE and fills @p, or the reason
 * the packet is malformed (then @p is partially filled and must not be used).
 */
enum nat_reason nat_pkt_parse(struct nat_pkt *p, const uint8_t *buf,
                              size_t len);

/* Does the IPv4 header of @ihl bytes (a multiple of 4) verify? Its one's
 * complement sum is 0xFFFF; summing 32-bit words into 64 bits is byte-order
 * independent for this test (RFC 1071). */
static inline uint64_t
nat_ld32n(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

static inline int
nat_ip_csum_ok(const uint8_t *b, size_t ihl)
{
    /* The 20 fixed bytes unrolled; options, if any, word by word. */
    uint64_t s = nat_ld32n(b) + nat_ld32n(b + 4) + nat_ld32n(b + 8) +
                 nat_ld32n(b + 12) + nat_ld32n(b + 16);
    for (size_t i = 20; i < ihl; i += 4)
        s += nat_ld32n(b + i);
    return ck_fold(s) == 0xffff;
}

/* Is @type an ICMP query that carries an identifier (RFC 792, RFC 950)? */
int nat_icmp_is_query(uint8_t type);
/* Is @type an ICMP error that quotes the offending packet? */
int nat_icmp_is_error(uint8_t type);
/* Is the query @type a request (echo, timestamp, information, mask)? */
int nat_icmp_query_is_request(uint8_t type);

#endif
