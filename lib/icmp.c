/*
 * ICMP generation: errors a front end sends back when libnat drops a packet
 * (RFC 5508 REQ-8, RFC 6888 REQ-11b), written by the rules of RFC 1812
 * 4.3.2: never about an ICMP error, a non-first fragment or a packet that
 * does not name a single host; quote the IP header and as much data as
 * keeps the error within 576 bytes; rate-limited.
 */
#include "config.h"

#include <string.h>

#include "bytes.h"
#include "nat_internal.h"
#include "packet.h"

#define ICMP_ERR_MAX 576u /* RFC 1812 4.3.2.3 */

int
nat_icmp_for_reason(enum nat_reason reason, uint8_t *type, uint8_t *code)
{
    uint8_t t, c;
    if (type == NULL) /* documented as never failing: NULL outputs are */
        type = &t;    /* simply not written */
    if (code == NULL)
        code = &c;
    switch (reason) {
    case NAT_R_NO_ADDRESS:
    case NAT_R_PORTS:
    case NAT_R_TABLE_FULL:
    case NAT_R_HOST_SESSIONS:
    case NAT_R_HOST_PORTS:
        *type = NAT_ICMP_UNREACH;
        *code = 13; /* communication administratively prohibited */
        return 1;
    default:
        return 0;
    }
}

/* Token bucket: cfg.icmp_rate tokens per second, at most icmp_burst. */
static int
icmp_take_token(struct nat *n)
{
    if (n->cfg.icmp_rate == 0)
        return 0;
    uint64_t cap =
        (uint64_t)(n->cfg.icmp_burst ? n->cfg.icmp_burst : 1) * 1000u;
    uint64_t elapsed = n->now - n->icmp_last;
    n->icmp_last = n->now;
    uint64_t add = elapsed * n->cfg.icmp_rate; /* thousandths */
    if (elapsed > cap || add > cap)
        add = cap; /* saturate: also guards the multiplication */
    n->icmp_tokens = n->icmp_tokens + add > cap ? cap : n->icmp_tokens + add;
    if (n->icmp_tokens < 1000)
        return 0;
    n->icmp_tokens -= 1000;
    return 1;
}

static int
addr_is_group(uint32_t a)
{
    return (a >> 28) == 0xe || a == UINT32_MAX;
}

int
nat_icmp_error(struct nat *n, const uint8_t *pkt, size_t len, uint8_t type,
               uint8_t code, uint32_t src, uint16_t mtu, uint8_t *out,
               size_t cap, uint64_t now_ms)
{
    struct nat_pkt p;

    if (n == NULL || pkt == NULL || out == NULL || !nat_icmp_is_error(type))
        return NAT_EINVAL;
    /* RFC 1122 3.2.2: never about malformed packets, ICMP errors,
     * non-first fragments, or packets not naming a single host. */
    if (nat_pkt_parse(&p, pkt, len) != NAT_R_NONE ||
        p.kind == NAT_PK_ICMP_ERROR || p.kind == NAT_PK_FRAGMENT ||
        addr_is_group(p.dst) || addr_is_group(p.src))
        return NAT_EINVAL;

    size_t quote = p.tot_len;
    if (quote > ICMP_ERR_MAX - 28)
        quote = ICMP_ERR_MAX - 28;
    size_t total = 28 + quote;
    if (cap < total)
        return NAT_ENOSPC;
    tbl_clock(n, now_ms);
    if (!icmp_take_token(n)) {
        n->st.icmp_limited++;
        return NAT_ELIMIT;
    }

    memset(out, 0, 28);
    out[0] = 0x45;
    out[1] = pkt[1]; /* keep the offender's TOS */
    st16(out + 2, (uint16_t)total);
    st16(out + 4, n->icmp_id++);
    out[8] = 64;
    out[9] = NAT_PROTO_ICMP;
    st32(out + 12, src);
    st32(out + 16, p.src);
    st16(out + 10, nat_csum(out, 20));

    uint8_t *icmp = out + 20;
    icmp[0] = type;
    icmp[1] = code;
    if (type == NAT_ICMP_UNREACH && code == 4)
        st16(icmp + 6, mtu); /* RFC 1191 next-hop MTU */
    memcpy(icmp + 8, pkt, quote);
    st16(icmp + 2, nat_csum(icmp, 8 + quote));
    n->st.icmp_sent++;
    return (int)total;
}
