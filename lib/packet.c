/*
 * Packet layer: IPv4 + TCP/UDP/ICMP parsing and validation.
 *
 * Validation is a sequence of short steps, each rejecting one kind of
 * malformation with its own reason code. Every read is preceded by a length
 * check against the caller's buffer length (never the packet's own fields
 * alone); bytes are read with ld16/ld32, never through struct overlays.
 */
#include "config.h"

#include <string.h>

#include "bytes.h"
#include "packet.h"

#define IP_MIN_HDR  20
#define TCP_MIN_HDR 20
#define UDP_HDR     8
#define ICMP_HDR    8
#define IP_MAX_LEN  65535u

int
nat_icmp_is_query(uint8_t type)
{
    switch (type) {
    case NAT_ICMP_ECHO:
    case NAT_ICMP_ECHOREPLY:
    case NAT_ICMP_TSTAMP:
    case NAT_ICMP_TSTAMPREPLY:
    case NAT_ICMP_INFO:
    case NAT_ICMP_INFOREPLY:
    case NAT_ICMP_MASK:
    case NAT_ICMP_MASKREPLY:
        return 1;
    default:
        return 0;
    }
}

int
nat_icmp_query_is_request(uint8_t type)
{
    return type == NAT_ICMP_ECHO || type == NAT_ICMP_TSTAMP ||
           type == NAT_ICMP_INFO || type == NAT_ICMP_MASK;
}

/* RFC 5508 section 7 lists the error types a NAT translates; source quench
 * is deprecated (RFC 6633) and redirects are not forwarded through a NAT. */
int
nat_icmp_is_error(uint8_t type)
{
    return type == NAT_ICMP_UNREACH || type == NAT_ICMP_TIMXCEED ||
           type == NAT_ICMP_PARAMPROB;
}

/* RFC 791 3.1: options are EOL, NOP, or type-length-value with length >= 2
 * that stays inside the header. */
static int
ip_options_ok(const uint8_t *opt, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t type = opt[i];
        if (type == 0) /* end of option list */
            return 1;
        if (type == 1) { /* no-operation */
            i++;
            continue;
        }
        if (i + 1 >= len)
            return 0;
        uint8_t olen = opt[i + 1];
        if (olen < 2 || olen > len - i)
            return 0;
        i += olen;
    }
    return 1;
}

/* RFC 1812 5.3.7: a router must not forward packets from these sources. */
static int
ip_src_martian(uint32_t src)
{
    unsigned top = src >> 24;
    /* 0/8, 127/8 and 224/3: (top - 1) wraps 0 to the top of the range */
    return (uint8_t)(top - 1) >= 223 || top == 127;
}

static enum nat_reason
parse_tcp(struct nat_pkt *p, const uint8_t *l4, int first_frag)
{
    if (p->l4_len < TCP_MIN_HDR)
        return first_frag ? NAT_R_FRAG_TINY : NAT_R_TCP_TRUNCATED;
    unsigned doff = (unsigned)(l4[12] >> 4) * 4u;
    if (doff < TCP_MIN_HDR)
        return NAT_R_TCP_DATAOFF;
    if (doff > p->l4_len)
        return first_frag ? NAT_R_FRAG_TINY : NAT_R_TCP_DATAOFF_TRUNC;
    uint8_t fl = l4[13];
    /* Impossible combinations (RFC 9293 3.10.7): no segment may carry SYN
     * together with FIN or RST, and every segment has SYN, ACK or RST. */
    if ((fl & NAT_TH_SYN) && (fl & (NAT_TH_FIN | NAT_TH_RST)))
        return NAT_R_TCP_FLAGS;
    if (!(fl & (NAT_TH_SYN | NAT_TH_ACK | NAT_TH_RST)))
        return NAT_R_TCP_FLAGS;
    p->tcp_flags = fl;
    p->sport = ld16(l4);
    p->dport = ld16(l4 + 2);
    if (p->sport == 0 || p->dport == 0)
        return NAT_R_PORT_ZERO;
    p->kind = NAT_PK_TCP;
    return NAT_R_NONE;
}

static enum nat_reason
parse_udp(struct nat_pkt *p, const uint8_t *l4, int first_frag)
{
    if (p->l4_len < UDP_HDR)
        return first_frag ? NAT_R_FRAG_TINY : NAT_R_UDP_TRUNCATED;
    uint16_t ulen = ld16(l4 + 4);
    if (ulen < UDP_HDR)
        return NAT_R_UDP_LENGTH;
    /* A first fragment holds only part of the datagram. */
    if (!first_frag && ulen > p->l4_len)
        return NAT_R_UDP_LENGTH;
    p->sport = ld16(l4);
    p->dport = ld16(l4 + 2);
    if (p->sport == 0 || p->dport == 0)
        return NAT_R_PORT_ZERO;
    p->kind = NAT_PK_UDP;
    return NAT_R_NONE;
}

/* The packet quoted in an ICMP error: IP header plus at least 8 bytes. */
static enum nat_reason
parse_icmp_inner(struct nat_pkt *p, const uint8_t *buf, const uint8_t *icmp)
{
    struct nat_pkt_inner *in = &p->in;
    size_t avail = (size_t)p->l4_len - ICMP_HDR;

    /* RFC 4884: a non-zero length field bounds the original datagram;
     * whatever follows is an extension structure, not quoted packet. */
    size_t ext_len = (size_t)icmp[5] * 4u;
    if (ext_len != 0 && ext_len <= avail)
        avail = ext_len;

    in->off = (uint16_t)(p->l4_off + ICMP_HDR);
    in->avail = (uint16_t)avail;
    if (avail < IP_MIN_HDR)
        return NAT_R_ICMP_INNER_TRUNCATED;
    const uint8_t *ip = buf + in->off;
    if ((ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
        return NAT_R_ICMP_INNER_HEADER;
    in->ihl = (uint16_t)((ip[0] & 0x0f) * 4u);
    if ((size_t)in->ihl + 8u > avail)
        return NAT_R_ICMP_INNER_TRUNCATED;
    in->tot_len = ld16(ip + 2);
    if (in->tot_len < in->ihl)
        return NAT_R_ICMP_INNER_HEADER;
    /* RFC 5508 REQ-3: drop when the embedded IP checksum fails. */
    if (nat_csum(ip, in->ihl) != 0)
        return NAT_R_ICMP_INNER_CHECKSUM;
    if ((ld16(ip + 6) & 0x1fff) != 0)
        return NAT_R_ICMP_INNER_FRAG;
    in->proto = ip[9];
    in->src = ld32(ip + 12);
    in->dst = ld32(ip + 16);

    const uint8_t *l4 = ip + in->ihl;
    switch (in->proto) {
    case NAT_PROTO_TCP:
    case NAT_PROTO_UDP:
        in->kind = in->proto == NAT_PROTO_TCP ? NAT_PK_TCP : NAT_PK_UDP;
        in->icmp_type = 0;
        in->sport = ld16(l4);
        in->dport = ld16(l4 + 2);
        return NAT_R_NONE;
    case NAT_PROTO_ICMP:
        in->icmp_type = l4[0];
        if (nat_icmp_is_query(l4[0])) {
            in->kind = NAT_PK_ICMP_QUERY;
            in->sport = in->dport = ld16(l4 + 4);
            return NAT_R_NONE;
        }
        /* RFC 1122 3.2.2: no ICMP error is sent about an ICMP error. */
        return nat_icmp_is_error(l4[0]) ? NAT_R_ICMP_INNER_ERROR
                                        : NAT_R_ICMP_INNER_PROTO;
    default:
        return NAT_R_ICMP_INNER_PROTO;
    }
}

static enum nat_reason
parse_icmp(struct nat_pkt *p, const uint8_t *buf, int first_frag)
{
    const uint8_t *l4 = buf + p->l4_off;

    if (p->l4_len < ICMP_HDR)
        return first_frag ? NAT_R_FRAG_TINY : NAT_R_ICMP_TRUNCATED;
    p->icmp_type = l4[0];
    p->icmp_code = l4[1];
    if (nat_icmp_is_query(p->icmp_type)) {
        p->sport = p->dport = ld16(l4 + 4);
        p->kind = NAT_PK_ICMP_QUERY;
        return NAT_R_NONE;
    }
    if (!nat_icmp_is_error(p->icmp_type)) {
        p->kind = NAT_PK_OTHER;
        return NAT_R_NONE;
    }
    /* An error split across fragments cannot be verified or rewritten. */
    if (first_frag)
        return NAT_R_FRAGMENT;
    /* RFC 5508 REQ-3: drop errors whose ICMP checksum fails. */
    if (nat_csum(l4, p->l4_len) != 0)
        return NAT_R_ICMP_CHECKSUM;
    enum nat_reason r = parse_icmp_inner(p, buf, l4);
    if (r != NAT_R_NONE)
        return r;
    p->kind = NAT_PK_ICMP_ERROR;
    return NAT_R_NONE;
}

enum nat_reason
nat_pkt_parse(struct nat_pkt *p, const uint8_t *b, size_t len)
{
    /* Only the scalar fields are reset; p->in is filled for errors only. */
    p->kind = NAT_PK_OTHER;
    p->tcp_flags = 0;
    p->icmp_type = p->icmp_code = 0;
    p->sport = p->dport = 0;
    p->mf = p->df = 0;
    p->frag_off = 0;

    /* Each field is read only after the length that covers it is checked
     * against @len, the caller's length, never against the packet's own
     * length fields alone. */
    if (len < IP_MIN_HDR)
        return NAT_R_IP_TRUNCATED;
    unsigned vihl = b[0];
    if ((vihl >> 4) != 4)
        return NAT_R_IP_VERSION;
    unsigned ihl = (vihl & 0x0fu) * 4u;
    if (ihl < IP_MIN_HDR)
        return NAT_R_IP_HDRLEN;
    if (ihl > len)
        return NAT_R_IP_HDRLEN_TRUNC;
    unsigned tot = ld16(b + 2);
    if (tot < ihl)
        return NAT_R_IP_TOTLEN;
    /* Trailing bytes beyond tot_len (link padding) are ignored. */
    if (tot > len)
        return NAT_R_IP_TOTLEN_TRUNC;
    if (!nat_ip_csum_ok(b, ihl))
        return NAT_R_IP_CHECKSUM;
    if (ihl > IP_MIN_HDR && !ip_options_ok(b + IP_MIN_HDR, ihl - IP_MIN_HDR))
        return NAT_R_IP_OPTIONS;
    p->ihl = p->l4_off = (uint16_t)ihl;
    p->tot_len = (uint16_t)tot;
    p->l4_len = (uint16_t)(tot - ihl);

    unsigned ff = ld16(b + 6);
    if (ff & 0x8000) /* RFC 791: reserved flag must be zero */
        return NAT_R_IP_FRAG;
    p->df = (ff & 0x4000) != 0;
    p->mf = (ff & 0x2000) != 0;
    unsigned frag_off = (ff & 0x1fffu) * 8u;
    p->frag_off = (uint16_t)frag_off;
    /* RFC 791: a reassembled datagram is at most 65535 bytes (tot_len
     * alone is, so only a fragment offset can break it). */
    if (frag_off != 0 && frag_off + tot > IP_MAX_LEN)
        return NAT_R_IP_FRAG;

    p->ip_id = ld16(b + 4);
    p->ttl = b[8];
    p->proto = b[9];
    p->src = ld32(b + 12);
    p->dst = ld32(b + 16);
    if (ip_src_martian(p->src))
        return NAT_R_IP_SRC;

    if (frag_off != 0) {
        /* RFC 1858 3.2: a TCP fragment at offset 8 can overwrite flags. */
        if (p->proto == NAT_PROTO_TCP && frag_off == 8)
            return NAT_R_FRAG_TINY;
        p->kind = NAT_PK_FRAGMENT;
        return NAT_R_NONE;
    }

    int first_frag = p->mf;
    const uint8_t *l4 = b + ihl;
    switch (p->proto) {
    case NAT_PROTO_TCP:
        return parse_tcp(p, l4, first_frag);
    case NAT_PROTO_UDP:
        return parse_udp(p, l4, first_frag);
    case NAT_PROTO_ICMP:
        return parse_icmp(p, b, first_frag);
    default:
        p->kind = NAT_PK_OTHER;
        return NAT_R_NONE;
    }
}
