/*
 * Fuzz target: the packet parser (lib/packet.c) on arbitrary bytes.
 *
 * The input is copied into a heap buffer of exactly its size, so ASan
 * reports any read past @len; the parser must not write, must return a
 * known reason, and on success its view must stay inside the buffer and
 * agree with the bytes. nat_steer() reads the same exact-size buffer.
 */
#include "config.h"

#include "fuzz.h"
#include "packet.h"

static void
check_view(const struct nat_pkt *p, const uint8_t *b, size_t len)
{
    FZ_ASSERT(p->ihl >= 20 && p->ihl <= 60 && p->ihl % 4 == 0);
    FZ_ASSERT(p->tot_len >= p->ihl && p->tot_len <= len);
    FZ_ASSERT(p->tot_len == fz_ld16(b + 2));
    FZ_ASSERT(p->l4_off == p->ihl);
    FZ_ASSERT(p->l4_len == p->tot_len - p->ihl);
    FZ_ASSERT(p->src == fz_ld32(b + 12) && p->dst == fz_ld32(b + 16));
    FZ_ASSERT(p->proto == b[9]);
    FZ_ASSERT(ref_fold(ref_sum(b, p->ihl, 0)) == 0xffff);

    const uint8_t *l4 = b + p->l4_off;
    switch (p->kind) {
    case NAT_PK_TCP:
        FZ_ASSERT(p->proto == 6 && p->l4_len >= 20);
        FZ_ASSERT((size_t)(l4[12] >> 4) * 4 <= p->l4_len);
        FZ_ASSERT(p->sport == fz_ld16(l4) && p->dport == fz_ld16(l4 + 2));
        FZ_ASSERT(p->sport != 0 && p->dport != 0);
        FZ_ASSERT(p->tcp_flags == l4[13]);
        break;
    case NAT_PK_UDP:
        FZ_ASSERT(p->proto == 17 && p->l4_len >= 8);
        FZ_ASSERT(p->sport != 0 && p->dport != 0);
        FZ_ASSERT(p->mf || fz_ld16(l4 + 4) <= p->l4_len);
        break;
    case NAT_PK_ICMP_QUERY:
        FZ_ASSERT(p->proto == 1 && p->l4_len >= 8);
        FZ_ASSERT(p->sport == fz_ld16(l4 + 4) && p->dport == p->sport);
        break;
    case NAT_PK_ICMP_ERROR: {
        FZ_ASSERT(p->proto == 1 && p->l4_len >= 8 + 28);
        FZ_ASSERT(ref_icmp_is_error(p->icmp_type));
        FZ_ASSERT(ref_fold(ref_sum(l4, p->l4_len, 0)) == 0xffff);
        const struct nat_pkt_inner *in = &p->in;
        FZ_ASSERT(in->off == p->l4_off + 8);
        FZ_ASSERT((size_t)in->off + in->avail <= p->tot_len);
        FZ_ASSERT(in->ihl >= 20 && (size_t)in->ihl + 8 <= in->avail);
        FZ_ASSERT(ref_fold(ref_sum(b + in->off, in->ihl, 0)) == 0xffff);
        FZ_ASSERT(in->src == fz_ld32(b + in->off + 12));
        FZ_ASSERT(in->dst == fz_ld32(b + in->off + 16));
        FZ_ASSERT(in->kind == NAT_PK_TCP || in->kind == NAT_PK_UDP ||
                  in->kind == NAT_PK_ICMP_QUERY);
        break;
    }
    case NAT_PK_FRAGMENT:
        FZ_ASSERT(p->frag_off != 0);
        break;
    case NAT_PK_OTHER:
        break;
    default:
        FZ_ASSERT(!"unknown packet kind");
    }
    FZ_ASSERT(p->kind == NAT_PK_FRAGMENT || p->frag_off == 0);
}

/* nat_steer() reads the same bytes (its own look at the ports and the
 * quoted packet of ICMP errors): any worker it names is in range, it never
 * writes, and it agrees with itself. */
static void
steer(const uint8_t *buf, size_t size)
{
    static struct nat_steer st;
    static int ready;
    if (!ready) {
        uint8_t secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                              15, 16};
        FZ_ASSERT(nat_steer_init(&st, 7, 1024, 65535, secret) == 0);
        ready = 1;
    }
    for (int d = 0; d < 2; d++) {
        uint32_t w = nat_steer(&st, (enum nat_dir)d, buf, size);
        FZ_ASSERT(w < st.workers);
        FZ_ASSERT(nat_steer(&st, (enum nat_dir)d, buf, size) == w);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535 + 64)
        return 0;
    /* Exact-size copy: one byte too far is a heap overflow for ASan. */
    uint8_t *buf = fz_exact_dup(data, size);

    struct nat_pkt p;
    enum nat_reason r = nat_pkt_parse(&p, buf, size);
    FZ_ASSERT((unsigned)r < NAT_R_MAX);
    FZ_ASSERT(nat_reason_str(r) != NULL);
    FZ_ASSERT(memcmp(buf, data, size) == 0); /* the parser never writes */
    if (r == NAT_R_NONE)
        check_view(&p, buf, size);

    /* The same bytes parse the same way twice. */
    struct nat_pkt q;
    FZ_ASSERT(nat_pkt_parse(&q, buf, size) == r);
    if (r == NAT_R_NONE)
        FZ_ASSERT(q.kind == p.kind && q.sport == p.sport &&
                  q.dport == p.dport && q.l4_len == p.l4_len);

    steer(buf, size);

    /* Again with every checksum made valid, to get past the header
     * checksum and reach the transport and ICMP error parsers. */
    ref_fix_all(buf, size);
    r = nat_pkt_parse(&p, buf, size);
    FZ_ASSERT((unsigned)r < NAT_R_MAX);
    if (r == NAT_R_NONE)
        check_view(&p, buf, size);
    steer(buf, size);
    free(buf);
    return 0;
}
