/*
 * Translate layer: the packet pipeline.
 *
 *   parse -> classify -> look up or create -> filter -> rewrite -> verdict
 *
 * Rewrites are in place with RFC 1624 incremental checksum updates, so a
 * packet that arrived with a bad transport checksum leaves with a bad one
 * (the receiver still detects it) and no payload byte is read.
 */
#include "config.h"

#include "bytes.h"
#include "nat_internal.h"
#include "packet.h"

static inline struct nat_result
verdict(enum nat_verdict v)
{
    struct nat_result r = {v, NAT_R_NONE};
    return r;
}

static inline struct nat_result
drop(enum nat_reason why)
{
    struct nat_result r = {NAT_DROP, why};
    return r;
}

/* ---- checksum rewrites --------------------------------------------------- */

/* RFC 1624 eqn. 3 over an address and a port change in one fold. */
static inline uint16_t
csum_fix(uint16_t c, uint32_t oa, uint32_t na, uint16_t op, uint16_t np)
{
    uint64_t s = (uint16_t)~c;
    s += (uint16_t) ~(oa >> 16);
    s += (uint16_t)~oa;
    s += na >> 16;
    s += na & 0xffff;
    s += (uint16_t)~op;
    s += np;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* Replace the address at @ip + @aoff (12: source, 16: destination) and fix
 * the header checksum. */
static void
rw_ip_addr(uint8_t *ip, size_t aoff, uint32_t na)
{
    uint32_t oa = ld32(ip + aoff);
    st32(ip + aoff, na);
    st16(ip + 10, csum_fix(ld16(ip + 10), oa, na, 0, 0));
}

/*
 * Rewrite one endpoint (@dst 0: source, 1: destination) of the transport
 * header at @l4, of which @avail bytes are present, for protocol @proto.
 * The address matters to TCP and UDP through the pseudo-header; ICMP
 * queries have no pseudo-header and keep their identifier at offset 4.
 */
static void
rw_l4(uint8_t *l4, size_t avail, uint8_t proto, int dst, uint32_t oa,
      uint32_t na, uint16_t np)
{
    switch (proto) {
    case NAT_PROTO_TCP: {
        uint16_t op = ld16(l4 + 2 * dst);
        st16(l4 + 2 * dst, np);
        if (avail >= 18)
            st16(l4 + 16, csum_fix(ld16(l4 + 16), oa, na, op, np));
        break;
    }
    case NAT_PROTO_UDP: {
        uint16_t op = ld16(l4 + 2 * dst);
        st16(l4 + 2 * dst, np);
        uint16_t c = ld16(l4 + 6);
        if (c != 0) /* RFC 768: zero means none, and stays zero */
            st16(l4 + 6, nat_csum_udp_final(csum_fix(c, oa, na, op, np)));
        break;
    }
    case NAT_PROTO_ICMP: {
        uint16_t op = ld16(l4 + 4);
        st16(l4 + 4, np);
        st16(l4 + 2, csum_fix(ld16(l4 + 2), 0, 0, op, np));
        break;
    }
    default:
        break;
    }
}

/* Rewrite the packet's source (dst = 0) or destination endpoint. */
static void
rw_endpoint(uint8_t *b, struct nat_pkt *p, int dst, uint32_t na, uint16_t np)
{
    uint32_t oa = dst ? p->dst : p->src;
    rw_ip_addr(b, dst ? 16 : 12, na);
    if (p->kind == NAT_PK_TCP || p->kind == NAT_PK_UDP ||
        p->kind == NAT_PK_ICMP_QUERY)
        rw_l4(b + p->l4_off, p->l4_len, p->proto, dst, oa, na, np);
    if (dst) {
        p->dst = na;
        p->dport = np;
    } else {
        p->src = na;
        p->sport = np;
    }
    if (p->kind == NAT_PK_ICMP_QUERY)
        p->sport = p->dport = np;
}

static enum tclass
class_of(uint8_t proto)
{
    return proto == NAT_PROTO_UDP ? TC_UDP : TC_ICMP;
}

/* Refresh a session used by a packet going @out (1) or in (0). RFC 7857
 * "outbound mapping refresh and error packets": an outbound RST (an answer to
 * inbound traffic) changes the state but does not refresh the mapping. */
static void
sess_use(struct nat *n, uint32_t si, const struct nat_pkt *p, int out)
{
    struct sess *s = &n->sess[si];
    if (s->proto != NAT_PROTO_TCP) {
        tbl_sess_touch(n, si, class_of(s->proto), 1);
        return;
    }
    enum tclass tc = nat_tcp_track(s, p->tcp_flags, out);
    tbl_sess_touch(n, si, tc, !(out && (p->tcp_flags & NAT_TH_RST)));
}

static inline uint16_t
rem_port_key(const struct nat_pkt *p, uint16_t port)
{
    /* ICMP queries: the identifier is the only "port"; remote is 0. */
    return p->kind == NAT_PK_ICMP_QUERY ? 0 : port;
}

/* ---- session creation
 * -------------------------------------------------------- */

/* RFC 6888 REQ-11: drop, report, and never evict a live session. An
 * outbound packet's inside endpoint is its source; an inbound one's is the
 * binding or forward target (@in_addr:@in_port), its external endpoint the
 * destination and its remote the source. */
static struct nat_result
exhausted(struct nat *n, const struct nat_pkt *p, enum nat_reason why)
{
    tbl_event(n, NAT_EV_EXHAUSTED, NAT_END_NONE, why, p->proto, p->src,
              p->sport, 0, 0, p->dst, p->dport);
    return drop(why);
}

static struct nat_result
exhausted_in(struct nat *n, const struct nat_pkt *p, enum nat_reason why,
             uint32_t in_addr, uint16_t in_port)
{
    tbl_event(n, NAT_EV_EXHAUSTED, NAT_END_NONE, why, p->proto, in_addr,
              in_port, p->dst, p->dport, p->src, p->sport);
    return drop(why);
}

/* A new binding for the inside endpoint of @p on host @hi. */
static enum nat_reason
bind_create(struct nat *n, const struct nat_pkt *p, uint32_t hi, uint32_t krem,
            uint16_t kport, uint32_t *out)
{
    struct host *h = &n->host[hi];
    uint32_t pool;
    int port;
    uint8_t flags = 0;
    uint16_t fport;

    if (n->cfg.host_max_ports && h->nbind >= n->cfg.host_max_ports)
        return NAT_R_HOST_PORTS; /* RFC 6888 REQ-4 */
    if (n->bind_free == NIL && n->held.head == NIL)
        return NAT_R_TABLE_FULL;

    const struct nat_forward *fw =
        p->kind == NAT_PK_ICMP_QUERY
            ? NULL
            : rules_forward_out(n, p->proto, p->src, p->sport, &fport);
    if (fw != NULL) {
        /* A forward target speaks from its forwarded port. */
        pool = rules_pool_find(n, fw->ext_addr);
        if (pool == NIL)
            return NAT_R_NO_ADDRESS;
        uint32_t other = tbl_bind_find_out(n, p->proto, fw->ext_addr, fport);
        if (other != NIL) {
            *out = other;
            return NAT_R_NONE;
        }
        port = fport;
        flags = BF_FORWARD;
    } else {
        if (h->pool == NIL || !n->pool[h->pool].used)
            h->pool = rules_pool_for_host(n, p->src);
        if (h->pool == NIL)
            return NAT_R_NO_ADDRESS;
        pool = h->pool; /* RFC 4787 REQ-2: paired pooling */
        port = port_alloc(n, pool, p->proto, p->src, p->sport, krem, kport);
        if (port < 0)
            return NAT_R_PORTS;
    }

    uint32_t bi = tbl_bind_new(n);
    struct bind *b = &n->bind[bi];
    b->in_addr = p->src;
    b->in_port = p->sport;
    b->rem_addr = krem;
    b->rem_port = kport;
    b->ext_addr = n->pool[pool].addr;
    b->ext_port = (uint16_t)port;
    b->proto = p->proto;
    b->flags = flags;
    b->host = hi;
    b->pool = (uint16_t)pool;
    tbl_bind_link(n, bi);
    *out = bi;
    return NAT_R_NONE;
}

/* Outbound packet with no session: find or make its binding, then the
 * session. Mapping behaviour decides which bindings can be shared. */
static struct nat_result
create_out(struct nat *n, const struct nat_pkt *p, uint32_t *si_out)
{
    int pi = proto_idx(p->proto);
    uint32_t krem = 0;
    uint16_t kport = 0;
    uint16_t rport = rem_port_key(p, p->dport);

    /* RFC 4787 REQ-1: endpoint-independent unless configured otherwise;
     * dependent mappings key the binding by the remote address (and port). */
    if (n->cfg.mapping[pi] != NAT_MAP_EI)
        krem = p->dst;
    if (n->cfg.mapping[pi] == NAT_MAP_APD)
        kport = rport;

    if (n->sess_free == NIL)
        return exhausted(n, p, NAT_R_TABLE_FULL);
    uint32_t hi = tbl_host_get(n, p->src);
    if (hi == NIL)
        return exhausted(n, p, NAT_R_TABLE_FULL);
    if (n->cfg.host_max_sessions &&
        n->host[hi].nsess >= n->cfg.host_max_sessions) {
        tbl_host_put(n, hi);
        return exhausted(n, p, NAT_R_HOST_SESSIONS); /* RFC 6888 REQ-5 */
    }

    uint32_t bi = tbl_bind_find_in(n, p->proto, p->src, p->sport, krem, kport);
    if (bi == NIL) {
        enum nat_reason why = bind_create(n, p, hi, krem, kport, &bi);
        if (why != NAT_R_NONE) {
            tbl_host_put(n, hi);
            return exhausted(n, p, why);
        }
    }
    uint32_t si = tbl_sess_new(n, bi, p->dst, rport,
                               p->proto == NAT_PROTO_TCP ? TC_TCP_TRANS
                                                         : class_of(p->proto));
    if (p->proto == NAT_PROTO_TCP)
        n->sess[si].state = NAT_TCP_SYN_OUT;
    *si_out = si;
    return verdict(NAT_OUT);
}

/* ---- ICMP errors (RFC 5508)
 * --------------------------------------------------- */

/*
 * Rewrite an ICMP error: the outer address @outer_dst (0 src, 1 dst) becomes
 * @outer_na, and the embedded packet's endpoint on the opposite side
 * (@in_dst) becomes @na:@np. Embedded checksums are fixed incrementally
 * (the quoted transport checksum only when it is present), the ICMP
 * checksum by recomputation over the whole message (including any RFC 4884
 * extension, which the checksum covers).
 */
static void
rw_icmp_error(uint8_t *b, struct nat_pkt *p, int outer_dst, uint32_t outer_na,
              int in_dst, uint32_t na, uint16_t np)
{
    uint8_t *icmp = b + p->l4_off;
    uint8_t *ip = b + p->in.off;
    uint8_t *l4 = ip + p->in.ihl;
    size_t avail = (size_t)p->in.avail - p->in.ihl;
    uint32_t oa = ld32(ip + (in_dst ? 16 : 12));

    rw_ip_addr(b, outer_dst ? 16 : 12, outer_na);
    rw_ip_addr(ip, in_dst ? 16 : 12, na);
    rw_l4(l4, avail, p->in.proto, in_dst, oa, na, np);
    st16(icmp + 2, 0);
    st16(icmp + 2, nat_csum(icmp, p->l4_len));
    if (outer_dst)
        p->dst = outer_na;
    else
        p->src = outer_na;
    /* Keep the view in step: a hairpinned error is looked up again. */
    struct nat_pkt_inner *in = &p->in;
    if (in->kind == NAT_PK_ICMP_QUERY)
        in->sport = in->dport = np;
    if (in_dst) {
        in->dst = na;
        in->dport = np;
    } else {
        in->src = na;
        in->sport = np;
    }
}

static struct nat_result nat_in(struct nat *n, uint8_t *b, struct nat_pkt *p);

/* One of our external addresses (pool or 1:1)? The 64-bit filter rejects
 * almost every other address with one multiply. */
static inline int
is_ours(const struct nat *n, uint32_t addr)
{
    if (!(n->ours_filter & (1ull << ((addr * 0x9e3779b1u) >> 26))))
        return 0;
    return rules_pool_find(n, addr) != NIL || rules_o2o_by_ext(n, addr);
}

/* An inside host reports an error about a packet that came in: the quoted
 * packet went remote -> inside, so its destination is the inside endpoint. */
static struct nat_result
icmp_error_out(struct nat *n, uint8_t *b, struct nat_pkt *p)
{
    const struct nat_pkt_inner *in = &p->in;
    uint16_t rport = in->kind == NAT_PK_ICMP_QUERY ? 0 : in->sport;
    uint32_t osrc = p->src, oin_addr = in->dst;
    uint16_t oin_port = in->dport;
    uint32_t si =
        tbl_sess_find_in(n, in->proto, in->dst, in->dport, in->src, rport);
    if (si != NIL) {
        /* RFC 5508 REQ-6: errors never refresh or change a session. */
        const struct sess *s = &n->sess[si];
        rw_icmp_error(b, p, 0, s->ext_addr, 1, s->ext_addr, s->ext_port);
    } else {
        const struct one_to_one *o = rules_o2o_by_in(n, in->dst);
        if (o == NULL)
            return rules_is_inside(n, p->src) ? drop(NAT_R_ICMP_NO_SESSION)
                                              : verdict(NAT_PASS);
        rw_icmp_error(b, p, 0, o->ext_addr, 1, o->ext_addr, in->dport);
    }
    /* RFC 5508 REQ-7: hairpinned errors. */
    if (n->cfg.hairpin && is_ours(n, p->dst)) {
        struct nat_result r = nat_in(n, b, p);
        if (r.verdict != NAT_IN) /* not translated: leaves unchanged */
            rw_icmp_error(b, p, 0, osrc, 1, oin_addr, oin_port);
        return r.verdict == NAT_IN ? verdict(NAT_HAIRPIN) : r;
    }
    return verdict(NAT_OUT);
}

/* An error from outside about a packet we sent out: the quoted packet went
 * external -> remote, so its source is our external endpoint. */
static struct nat_result
icmp_error_in(struct nat *n, uint8_t *b, struct nat_pkt *p)
{
    const struct nat_pkt_inner *in = &p->in;
    uint16_t rport = in->kind == NAT_PK_ICMP_QUERY ? 0 : in->dport;
    uint32_t si =
        tbl_sess_find_out(n, in->proto, in->src, in->sport, in->dst, rport);
    if (si != NIL && p->dst == in->src) {
        const struct sess *s = &n->sess[si];
        rw_icmp_error(b, p, 1, s->in_addr, 0, s->in_addr, s->in_port);
        return verdict(NAT_IN);
    }
    const struct one_to_one *o = rules_o2o_by_ext(n, p->dst);
    if (o != NULL && in->src == p->dst) {
        rw_icmp_error(b, p, 1, o->in_addr, 0, o->in_addr, in->sport);
        return verdict(NAT_IN);
    }
    /* RFC 5508 REQ-4: no matching session, drop. */
    return is_ours(n, p->dst) ? drop(NAT_R_ICMP_NO_SESSION) : verdict(NAT_PASS);
}

/* ---- inbound
 * ------------------------------------------------------------------- */

/* Filtering (RFC 4787 section 5) for a packet that matches binding @bi but
 * no session. */
static int
filter_ok(const struct nat *n, uint32_t bi, uint8_t proto, uint32_t src)
{
    const struct bind *b = &n->bind[bi];
    if (b->flags & BF_FORWARD)
        return 1; /* a forward admits anyone */
    switch (n->cfg.filtering[proto_idx(proto)]) {
    case NAT_FILTER_EI:
        return 1;
    case NAT_FILTER_AD:
        return tbl_bind_has_remote_addr(n, bi, src);
    default:
        return 0; /* APD: only an exact session, which did not match */
    }
}

/*
 * Would an inbound session on a binding of @in_addr:@in_port duplicate the
 * inside 5-tuple of an existing session? That happens when the inside
 * endpoint already talks to this remote endpoint through another external
 * port (address-dependent mapping under laxer filtering, or two forwards to
 * one server). Admitting it would make the inside tuple ambiguous, so the
 * packet is filtered.
 */
static int
inside_tuple_taken(const struct nat *n, const struct nat_pkt *p,
                   uint32_t in_addr, uint16_t in_port)
{
    return tbl_sess_find_in(n, p->proto, in_addr, in_port, p->src,
                            rem_port_key(p, p->sport)) != NIL;
}

/* Inbound packet to one of our forwards with no binding yet. Every limit
 * is checked before anything is created, so a drop leaves no state. */
static struct nat_result
create_forward_in(struct nat *n, const struct nat_pkt *p,
                  const struct nat_forward *fw, uint32_t pool, uint32_t *bi_out)
{
    uint32_t in_addr = fw->in_addr;
    uint16_t in_port = (uint16_t)(fw->in_port + (p->dport - fw->ext_port));
    if ((n->bind_free == NIL && n->held.head == NIL) || n->sess_free == NIL)
        return exhausted_in(n, p, NAT_R_TABLE_FULL, in_addr, in_port);
    uint32_t hi = tbl_host_find(n, in_addr);
    if (hi != NIL && n->cfg.host_max_sessions &&
        n->host[hi].nsess >= n->cfg.host_max_sessions)
        return exhausted_in(n, p, NAT_R_HOST_SESSIONS, in_addr, in_port);
    if (hi == NIL && (hi = tbl_host_get(n, in_addr)) == NIL)
        return exhausted_in(n, p, NAT_R_TABLE_FULL, in_addr, in_port);
    uint32_t bi = tbl_bind_new(n);
    struct bind *b = &n->bind[bi];
    b->in_addr = in_addr;
    b->in_port = in_port;
    b->ext_addr = p->dst;
    b->ext_port = p->dport;
    b->proto = p->proto;
    b->flags = BF_FORWARD;
    b->host = hi;
    b->pool = (uint16_t)pool;
    tbl_bind_link(n, bi);
    *bi_out = bi;
    return verdict(NAT_IN);
}

static struct nat_result
nat_in(struct nat *n, uint8_t *b, struct nat_pkt *p)
{
    /* RFC 6888 REQ-6: no translation to or from excluded networks, in
     * either direction. */
    if (n->nexclude &&
        (rules_is_excluded(n, p->src) || rules_is_excluded(n, p->dst)))
        return verdict(NAT_PASS);
    switch (p->kind) {
    case NAT_PK_ICMP_ERROR:
        return icmp_error_in(n, b, p);
    case NAT_PK_OTHER: {
        const struct one_to_one *o = rules_o2o_by_ext(n, p->dst);
        if (o != NULL) { /* basic NAT works for any protocol */
            rw_endpoint(b, p, 1, o->in_addr, p->dport);
            return verdict(NAT_IN);
        }
        if (!is_ours(n, p->dst))
            return verdict(NAT_PASS);
        return drop(p->proto == NAT_PROTO_ICMP ? NAT_R_ICMP_TYPE : NAT_R_PROTO);
    }
    default:
        break;
    }

    uint16_t rport = rem_port_key(p, p->sport);
    uint32_t si =
        tbl_sess_find_out(n, p->proto, p->dst, p->dport, p->src, rport);
    /* Inbound ICMP queries match only as replies. */
    if (si != NIL && p->kind == NAT_PK_ICMP_QUERY &&
        nat_icmp_query_is_request(p->icmp_type))
        si = NIL;
    if (si != NIL) {
        sess_use(n, si, p, 0);
        rw_endpoint(b, p, 1, n->sess[si].in_addr, n->sess[si].in_port);
        return verdict(NAT_IN);
    }

    const struct one_to_one *o = rules_o2o_by_ext(n, p->dst);
    if (o != NULL) {
        rw_endpoint(b, p, 1, o->in_addr, p->dport);
        return verdict(NAT_IN);
    }
    uint32_t pool = rules_pool_find(n, p->dst);
    if (pool == NIL)
        return verdict(NAT_PASS); /* not addressed to us */
    if (p->kind == NAT_PK_ICMP_QUERY)
        return drop(NAT_R_NO_MAPPING);

    int syn = p->kind == NAT_PK_TCP && (p->tcp_flags & NAT_TH_SYN);
    uint32_t bi = tbl_bind_find_out(n, p->proto, p->dst, p->dport);
    if (bi == NIL) {
        const struct nat_forward *fw =
            rules_forward_in(n, p->proto, p->dst, p->dport);
        if (fw == NULL) /* RFC 5382 REQ-4(a): unsolicited SYN is dropped */
            return drop(syn ? NAT_R_TCP_SYN_IN : NAT_R_NO_MAPPING);
        if (p->kind == NAT_PK_TCP && !syn)
            return drop(NAT_R_TCP_NOT_SYN);
        uint16_t in_port = (uint16_t)(fw->in_port + (p->dport - fw->ext_port));
        if (inside_tuple_taken(n, p, fw->in_addr, in_port))
            return drop(NAT_R_FILTERED);
        struct nat_result r = create_forward_in(n, p, fw, pool, &bi);
        if (r.verdict == NAT_DROP)
            return r;
    } else {
        if (!filter_ok(n, bi, p->proto, p->src))
            return drop(NAT_R_FILTERED);
        if (p->kind == NAT_PK_TCP && !syn)
            return drop(NAT_R_TCP_NOT_SYN);
        if (inside_tuple_taken(n, p, n->bind[bi].in_addr, n->bind[bi].in_port))
            return drop(NAT_R_FILTERED);
    }

    /* Admitted: a new session on the binding. */
    const struct bind *bd = &n->bind[bi];
    if (n->sess_free == NIL)
        return exhausted_in(n, p, NAT_R_TABLE_FULL, bd->in_addr, bd->in_port);
    if (n->cfg.host_max_sessions &&
        n->host[bd->host].nsess >= n->cfg.host_max_sessions)
        return exhausted_in(n, p, NAT_R_HOST_SESSIONS, bd->in_addr,
                            bd->in_port);
    si = tbl_sess_new(n, bi, p->src, rport,
                      p->proto == NAT_PROTO_TCP ? TC_TCP_TRANS : TC_UDP);
    if (p->proto == NAT_PROTO_TCP)
        n->sess[si].state = NAT_TCP_SYN_IN;
    rw_endpoint(b, p, 1, n->sess[si].in_addr, n->sess[si].in_port);
    return verdict(NAT_IN);
}

/* ---- outbound
 * ------------------------------------------------------------------ */

static struct nat_result
nat_out(struct nat *n, uint8_t *b, struct nat_pkt *p)
{
    if (n->nexclude &&
        (rules_is_excluded(n, p->src) || rules_is_excluded(n, p->dst)))
        return verdict(NAT_PASS);

    switch (p->kind) {
    case NAT_PK_ICMP_ERROR:
        return icmp_error_out(n, b, p);
    case NAT_PK_OTHER: {
        const struct one_to_one *o = rules_o2o_by_in(n, p->src);
        if (o != NULL) {
            rw_endpoint(b, p, 0, o->ext_addr, p->sport);
            return verdict(NAT_OUT);
        }
        if (!rules_is_inside(n, p->src))
            return verdict(NAT_PASS);
        return drop(p->proto == NAT_PROTO_ICMP ? NAT_R_ICMP_TYPE : NAT_R_PROTO);
    }
    default:
        break;
    }

    uint16_t rport = rem_port_key(p, p->dport);
    uint32_t osrc = p->src;
    uint16_t osport = p->sport;
    uint32_t si =
        tbl_sess_find_in(n, p->proto, p->src, p->sport, p->dst, rport);
    if (si != NIL) {
        sess_use(n, si, p, 1);
    } else {
        const struct one_to_one *o = rules_o2o_by_in(n, p->src);
        if (o != NULL) {
            rw_endpoint(b, p, 0, o->ext_addr, p->sport);
            goto hairpin;
        }
        if (!rules_is_inside(n, p->src))
            return verdict(NAT_PASS);
        if (p->kind == NAT_PK_ICMP_QUERY &&
            !nat_icmp_query_is_request(p->icmp_type))
            return drop(NAT_R_NO_MAPPING); /* a reply to nothing */
        if (p->kind == NAT_PK_TCP && !(p->tcp_flags & NAT_TH_SYN))
            return drop(NAT_R_TCP_NOT_SYN);
        struct nat_result r = create_out(n, p, &si);
        if (r.verdict == NAT_DROP)
            return r;
    }
    rw_endpoint(b, p, 0, n->sess[si].ext_addr, n->sess[si].ext_port);

hairpin:
    /* RFC 4787 REQ-9, RFC 5382 REQ-8: a packet for one of our own external
     * endpoints is translated again as if it had arrived from outside,
     * so the receiver sees the sender's external endpoint. */
    if (n->cfg.hairpin && is_ours(n, p->dst)) {
        struct nat_result r = nat_in(n, b, p);
        if (r.verdict != NAT_IN) /* not translated: leaves unchanged */
            rw_endpoint(b, p, 0, osrc, osport);
        return r.verdict == NAT_IN ? verdict(NAT_HAIRPIN) : r;
    }
    return verdict(NAT_OUT);
}

/* ---- fast path
 * ---------------------------------------------------------------- The common
 * packet: IPv4 without options, not fragmented, TCP or UDP, of an existing
 * session, no exclusions configured. The checks accept a strict subset of what
 * nat_pkt_parse() accepts; anything else, and any packet the fast path is not
 * sure about, goes the full way before anything changed. It is split in two so
 * the burst API can prefetch between the halves. */

enum { FAST_NO = 0, FAST_OK, FAST_BADARGS };

struct fast {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t proto, flags, ok;
    uint32_t head; /* bucket index of the lookup key */
};

static inline void
fast_classify(const struct nat *n, enum nat_dir dir, const uint8_t *b,
              size_t len, struct fast *f)
{
    f->ok = FAST_NO;
    if (len < 28 || b[0] != 0x45 || n->nexclude != 0)
        return;
    uint16_t tot = ld16(b + 2);
    if (tot > len || tot < 28 || (ld16(b + 6) & 0xbfff) != 0)
        return; /* truncated, or a fragment, or the evil bit */
    const uint8_t *l4 = b + 20;
    uint16_t l4len = (uint16_t)(tot - 20);
    f->proto = b[9];
    if (f->proto == NAT_PROTO_TCP) {
        uint8_t fl = l4[13];
        unsigned doff = (unsigned)(l4[12] >> 4) * 4u;
        if (l4len < 20 || doff < 20 || doff > l4len ||
            ((fl & NAT_TH_SYN) && (fl & (NAT_TH_FIN | NAT_TH_RST))) ||
            !(fl & (NAT_TH_SYN | NAT_TH_ACK | NAT_TH_RST)))
            return;
        f->flags = fl;
    } else if (f->proto == NAT_PROTO_UDP) {
        uint16_t ulen = ld16(l4 + 4);
        if (ulen < 8 || ulen > l4len)
            return;
        f->flags = 0;
    } else {
        return;
    }
    f->src = ld32(b + 12);
    f->dst = ld32(b + 16);
    f->sport = ld16(l4);
    f->dport = ld16(l4 + 2);
    uint8_t top = (uint8_t)(f->src >> 24);
    if (f->sport == 0 || f->dport == 0 || top == 0 || top == 127 ||
        top >= 224 || !nat_ip_csum_ok(b, 20))
        return;
    f->head = dir == NAT_DIR_OUT
                  ? nat_hash5(n, f->proto, f->src, f->sport, f->dst, f->dport)
                  : nat_hash5(n, f->proto, f->dst, f->dport, f->src, f->sport);
    f->head &= n->smask;
    f->ok = FAST_OK;
}

/*
 * Unsolicited inbound traffic to a port that no binding or forward holds
 * (its occupancy bit is clear) is dropped without touching the session
 * table: a flood of it costs a bitmap test per packet. The verdict is the
 * full path's for such a packet (nat_in(): no binding, no forward). Asked
 * just before the packet is processed, so that in a burst the packets
 * before it have had their effect.
 */
static inline int
fast_unbound(const struct nat *n, enum nat_dir dir, const struct fast *f,
             struct nat_result *r)
{
    if (dir != NAT_DIR_IN)
        return 0;
    uint32_t pi = rules_pool_find(n, f->dst);
    if (pi == NIL || port_is_set(n, pi, f->proto, f->dport))
        return 0;
    int syn = f->proto == NAT_PROTO_TCP && (f->flags & NAT_TH_SYN);
    *r = drop(syn ? NAT_R_TCP_SYN_IN : NAT_R_NO_MAPPING);
    return 1;
}

static inline uint32_t
fast_lookup(const struct nat *n, enum nat_dir dir, const struct fast *f)
{
    if (dir == NAT_DIR_OUT) {
        for (uint32_t i = n->sidx_in[f->head]; i != NIL;
             i = n->sess[i].hnext_in) {
            const struct sess *s = &n->sess[i];
            if (s->in_addr == f->src && s->rem_addr == f->dst &&
                s->in_port == f->sport && s->rem_port == f->dport &&
                s->proto == f->proto)
                return i;
        }
    } else {
        for (uint32_t i = n->sidx_out[f->head]; i != NIL;
             i = n->sess[i].hnext_out) {
            const struct sess *s = &n->sess[i];
            if (s->ext_addr == f->dst && s->rem_addr == f->src &&
                s->ext_port == f->dport && s->rem_port == f->sport &&
                s->proto == f->proto)
                return i;
        }
    }
    return NIL;
}

/* Rewrite source (@dst 0) or destination of a 20-byte-header TCP/UDP
 * packet. The address delta (RFC 1624: ~old + new) is summed once and
 * serves both checksums. */
static inline uint16_t
fold_add(uint16_t c, uint32_t delta)
{
    uint32_t s = (uint32_t)(uint16_t)~c + delta;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static inline void
fast_rewrite(uint8_t *b, uint8_t proto, int dst, uint32_t oa, uint32_t na,
             uint16_t op, uint16_t np)
{
    uint8_t *l4 = b + 20;
    uint32_t da = (uint32_t)(uint16_t) ~(oa >> 16) + (uint16_t)~oa +
                  (na >> 16) + (na & 0xffff);
    uint32_t dl = da + (uint16_t)~op + np;
    st32(b + 12 + 4 * dst, na);
    st16(b + 10, fold_add(ld16(b + 10), da));
    st16(l4 + 2 * dst, np);
    if (proto == NAT_PROTO_TCP) {
        st16(l4 + 16, fold_add(ld16(l4 + 16), dl));
    } else {
        uint16_t c = ld16(l4 + 6);
        if (c != 0) { /* RFC 768: zero means none; 0 is sent as FFFF */
            c = fold_add(c, dl);
            st16(l4 + 6, c ? c : 0xffff);
        }
    }
}

static inline int
fast_finish(struct nat *n, enum nat_dir dir, uint8_t *b, const struct fast *f,
            struct nat_result *r)
{
    uint32_t si = fast_lookup(n, dir, f);
    int out = dir == NAT_DIR_OUT;
    if (si == NIL) {
        /* Inbound with a binding that filtering rejects: the full path's
         * verdict (nat_in()), without the full parse. */
        if (out)
            return 0;
        uint32_t bi = tbl_bind_find_out(n, f->proto, f->dst, f->dport);
        if (bi == NIL || filter_ok(n, bi, f->proto, f->src))
            return 0;
        *r = drop(NAT_R_FILTERED);
        return 1;
    }
    if (out && n->cfg.hairpin && is_ours(n, f->dst))
        return 0; /* hairpin: the full path translates it twice */
    struct sess *s = &n->sess[si];
    if (f->proto == NAT_PROTO_TCP)
        tbl_sess_touch(n, si, nat_tcp_track(s, f->flags, out),
                       !(out && (f->flags & NAT_TH_RST)));
    else
        tbl_sess_touch(n, si, TC_UDP, 1);
    if (out)
        fast_rewrite(b, f->proto, 0, f->src, s->ext_addr, f->sport,
                     s->ext_port);
    else
        fast_rewrite(b, f->proto, 1, f->dst, s->in_addr, f->dport, s->in_port);
    r->verdict = out ? NAT_OUT : NAT_IN;
    r->reason = NAT_R_NONE;
    return 1;
}

/* ---- entry points
 * --------------------------------------------------------------- */

static struct nat_result
count(struct nat *n, struct nat_result r)
{
    n->st.verdicts[r.verdict]++;
    if (r.verdict == NAT_DROP)
        n->st.drops[r.reason]++;
    return r;
}

/* Advance the clock and spend the expiry credit earned by @calls calls.
 * Expiry is amortised: each call earns expire_budget units of work, spent
 * when the clock has moved (nothing new can expire within a millisecond);
 * a call never spends more than 64 * expire_budget. */
static void
tick(struct nat *n, uint64_t now_ms, size_t calls)
{
    tbl_clock(n, now_ms);
    if (n->cfg.expire_budget == 0)
        return;
    uint64_t cap = (uint64_t)n->cfg.expire_budget * 64;
    uint64_t credit = n->expire_credit + (uint64_t)n->cfg.expire_budget * calls;
    n->expire_credit = (uint32_t)(credit > cap ? cap : credit);
    if (n->now32 != n->expire_last) {
        n->expire_last = n->now32;
        tbl_expire(n, n->expire_credit);
        frag_expire(n, n->expire_credit);
        n->expire_credit = 0;
    }
}

/* The full path: parse, classify, look up or create, filter, rewrite. */
static struct nat_result
translate_full(struct nat *n, enum nat_dir dir, uint8_t *buf, size_t len)
{
    struct nat_pkt p;
    enum nat_reason why = nat_pkt_parse(&p, buf, len);
    if (why != NAT_R_NONE)
        return drop(why);
    if (p.kind == NAT_PK_FRAGMENT) /* RFC 4787 REQ-14 */
        return frag_nonfirst(n, dir, buf, len, &p);

    uint32_t osrc = p.src, odst = p.dst;
    struct nat_result r =
        dir == NAT_DIR_OUT ? nat_out(n, buf, &p) : nat_in(n, buf, &p);
    if (p.mf)
        frag_first_done(n, dir, osrc, odst, buf, &p, r);
    return r;
}

static inline int
args_ok(enum nat_dir dir, const uint8_t *buf, size_t len, size_t cap,
        struct nat_result *r)
{
    if (buf == NULL || len > cap) {
        *r = drop(NAT_R_BUFFER);
        return 0;
    }
    if (dir != NAT_DIR_OUT && dir != NAT_DIR_IN) {
        *r = drop(NAT_R_DIRECTION);
        return 0;
    }
    return 1;
}

struct nat_result
nat_translate(struct nat *n, enum nat_dir dir, uint8_t *buf, size_t *len,
              size_t cap, uint64_t now_ms)
{
    struct nat_result r;
    if (n == NULL)
        return drop(NAT_R_BUFFER);
    if (len == NULL || !args_ok(dir, buf, *len, cap, &r))
        return count(n, len == NULL ? drop(NAT_R_BUFFER) : r);

    /* Time never runs backwards inside the instance: expiry lists stay
     * ordered even if the caller's clock steps back. */
    tick(n, now_ms, 1);

    struct fast f;
    fast_classify(n, dir, buf, *len, &f);
    if (f.ok == FAST_OK &&
        (fast_unbound(n, dir, &f, &r) || fast_finish(n, dir, buf, &f, &r)))
        return count(n, r);
    return count(n, translate_full(n, dir, buf, *len));
}

/*
 * Bursts: classify every packet and prefetch its hash bucket, then read
 * the buckets and prefetch the sessions, then translate. The DRAM misses of
 * a whole group overlap instead of being paid one after another.
 */
#define GROUP 32

size_t
nat_translate_burst(struct nat *n, struct nat_pkt_io *pkts, size_t cnt,
                    uint64_t now_ms)
{
    struct fast f[GROUP];
    size_t kept = 0;

    if (n == NULL || (pkts == NULL && cnt != 0))
        return 0;
    tick(n, now_ms, cnt);
    for (size_t base = 0; base < cnt; base += GROUP) {
        size_t m = cnt - base < GROUP ? cnt - base : GROUP;
        struct nat_pkt_io *io = pkts + base;
        for (size_t i = 0; i < m; i++) {
            if (args_ok(io[i].dir, io[i].buf, io[i].len, io[i].cap, &io[i].res))
                fast_classify(n, io[i].dir, io[i].buf, io[i].len, &f[i]);
            else
                f[i].ok = FAST_BADARGS; /* res already set */
            if (f[i].ok == FAST_OK) {
                const uint32_t *idx =
                    io[i].dir == NAT_DIR_OUT ? n->sidx_in : n->sidx_out;
                __builtin_prefetch(&idx[f[i].head]);
            }
        }
        for (size_t i = 0; i < m; i++) {
            if (f[i].ok != FAST_OK)
                continue;
            const uint32_t *idx =
                io[i].dir == NAT_DIR_OUT ? n->sidx_in : n->sidx_out;
            uint32_t si = idx[f[i].head];
            if (si != NIL)
                __builtin_prefetch(&n->sess[si]);
        }
        for (size_t i = 0; i < m; i++) {
            if (f[i].ok == FAST_BADARGS) {
                count(n, io[i].res);
                continue;
            }
            if (!(f[i].ok == FAST_OK &&
                  (fast_unbound(n, io[i].dir, &f[i], &io[i].res) ||
                   fast_finish(n, io[i].dir, io[i].buf, &f[i], &io[i].res))))
                io[i].res = translate_full(n, io[i].dir, io[i].buf, io[i].len);
            count(n, io[i].res);
            kept += io[i].res.verdict != NAT_DROP;
        }
    }
    return kept;
}
