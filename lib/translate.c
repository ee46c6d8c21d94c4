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
#include "cksum.h"
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

/* ---- rewrites -------------------------------------------------------------
 * Every rewrite is a field write plus the checksums that cover it, through
 * the patch helpers of cksum.h (pf_patch_16/32 style): one address delta
 * serves the IP header and the pseudo-header. */

/* Rewrite the packet's source (dst = 0) or destination endpoint to
 * @na:@np. pre: nat_pkt_parse() accepted @p, so for TCP, UDP and ICMP
 * queries the transport header (20, 8 and 8 bytes) is present. */
static NAT_ALWAYS_INLINE void
rw_endpoint(uint8_t *b, struct nat_pkt *p, int dst, uint32_t na, uint16_t np)
{
    uint8_t *l4 = b + p->l4_off;
    uint32_t da = ck_delta32(dst ? p->dst : p->src, na);
    st32(b + 12 + 4 * dst, na);
    ck_apply(b + 10, da);
    switch (p->kind) {
    case NAT_PK_TCP:
        ck_apply(l4 + 16, da + ck_put16(l4 + 2 * dst, np));
        break;
    case NAT_PK_UDP:
        ck_apply_udp(l4 + 6, da + ck_put16(l4 + 2 * dst, np));
        break;
    case NAT_PK_ICMP_QUERY: /* no pseudo-header; identifier at offset 4 */
        ck_apply(l4 + 2, ck_put16(l4 + 4, np));
        break;
    default:
        break;
    }
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

/*
 * Rewrite one endpoint (@dst 0: source, 1: destination) of the transport
 * header quoted in an ICMP error at @l4, of which @avail (>= 8) bytes are
 * present: the quoted TCP checksum only when it is there.
 */
static void
rw_quoted_l4(uint8_t *l4, size_t avail, uint8_t proto, int dst, uint32_t da,
             uint16_t np)
{
    switch (proto) {
    case NAT_PROTO_TCP: {
        uint32_t d = da + ck_put16(l4 + 2 * dst, np);
        if (avail >= 18)
            ck_apply(l4 + 16, d);
        break;
    }
    case NAT_PROTO_UDP:
        ck_apply_udp(l4 + 6, da + ck_put16(l4 + 2 * dst, np));
        break;
    case NAT_PROTO_ICMP:
        ck_apply(l4 + 2, ck_put16(l4 + 4, np));
        break;
    default:
        break;
    }
}

static enum tclass
class_of(uint8_t proto)
{
    return proto == NAT_PROTO_UDP ? TC_UDP : TC_ICMP;
}

/* Refresh a session used by a packet going @out (1) or in (0). RFC 7857
 * "outbound mapping refresh and error packets": an outbound RST (an answer to
 * inbound traffic) changes the state but does not refresh the mapping. */
static NAT_ALWAYS_INLINE void
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

/*
 * Inbound TCP or UDP to a port of a pool address whose occupancy bit is
 * clear: no binding (live or held), no forward and so no session holds it,
 * and a pool address is never a 1:1 address, so nat_in() could only drop
 * it. Asked before the session lookup, so an unsolicited flood costs a bit
 * test and never touches the session table.
 */
static NAT_ALWAYS_INLINE int
port_unbound(const struct nat *n, const struct nat_pkt *p)
{
    if (p->kind != NAT_PK_TCP && p->kind != NAT_PK_UDP)
        return 0;
    uint32_t pool = rules_pool_find(n, p->dst);
    return pool != NIL && !port_is_set(n, pool, p->proto, p->dport);
}

/* RFC 5382 REQ-4(a): an unsolicited SYN is dropped (its own reason). */
static inline struct nat_result
unbound_drop(const struct nat_pkt *p)
{
    int syn = p->kind == NAT_PK_TCP && (p->tcp_flags & NAT_TH_SYN);
    return drop(syn ? NAT_R_TCP_SYN_IN : NAT_R_NO_MAPPING);
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

/* A forward target's outbound packet will share the forward's binding on
 * its port: if that binding has expired with all its sessions, end it now
 * (before the caller takes a host record that its end could release). */
static void
forward_prune(struct nat *n, const struct nat_pkt *p)
{
    uint16_t fport;
    if (p->kind == NAT_PK_ICMP_QUERY)
        return;
    const struct nat_forward *fw =
        rules_forward_out(n, p->proto, p->src, p->sport, &fport);
    if (fw == NULL)
        return;
    uint32_t other = tbl_bind_find_out(n, p->proto, fw->ext_addr, fport);
    if (other != NIL)
        tbl_bind_alive(n, other);
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
        if (other != NIL) { /* live: forward_prune() ran */
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

    /* Expired state is ended before anything is taken for the new session:
     * ending a binding may release the host record. */
    uint32_t bi = tbl_bind_find_in(n, p->proto, p->src, p->sport, krem, kport);
    if (bi != NIL && !tbl_bind_alive(n, bi))
        bi = NIL; /* expired with all its sessions: ended now */
    if (bi == NIL)
        forward_prune(n, p);

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

    ck_apply(b + 10, ck_put32(b + (outer_dst ? 16 : 12), outer_na));
    uint32_t da = ck_put32(ip + (in_dst ? 16 : 12), na);
    ck_apply(ip + 10, da);
    rw_quoted_l4(l4, avail, p->in.proto, in_dst, da, np);
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

static struct nat_result nat_in(struct nat *n, uint8_t *b, struct nat_pkt *p,
                                uint32_t h, uint32_t si);

/* nat_out()/nat_in()'s @si when the caller has not looked the session up. */
#define SI_UNKNOWN (NIL - 1)

/* The session-index hash of @p as seen from the inside (@out) or the
 * outside. Computed once per packet, before anything else, so that a burst
 * can prefetch its bucket. */
static NAT_ALWAYS_INLINE uint32_t
sess_hash(const struct nat *n, int out, const struct nat_pkt *p)
{
    uint16_t rport = rem_port_key(p, out ? p->dport : p->sport);
    return out ? nat_hash5(n, p->proto, p->src, p->sport, p->dst, rport)
               : nat_hash5(n, p->proto, p->dst, p->dport, p->src, rport);
}

/* The one session lookup of the packet path (either direction), with the
 * exact-deadline rule: a hit past its deadline ends and misses. Inbound
 * ICMP queries match only as replies. */
static NAT_ALWAYS_INLINE uint32_t
sess_find(struct nat *n, int out, const struct nat_pkt *p, uint32_t h)
{
    uint32_t si;
    if (out) {
        si = tbl_sess_find_in_h(n, h, p->proto, p->src, p->sport, p->dst,
                                rem_port_key(p, p->dport));
    } else {
        si = tbl_sess_find_out_h(n, h, p->proto, p->dst, p->dport, p->src,
                                 rem_port_key(p, p->sport));
        if (si != NIL && p->kind == NAT_PK_ICMP_QUERY &&
            nat_icmp_query_is_request(p->icmp_type))
            return NIL;
    }
    return tbl_sess_live(n, si);
}

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
    uint32_t si = tbl_sess_live(
        n, tbl_sess_find_in(n, in->proto, in->dst, in->dport, in->src, rport));
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
        struct nat_result r = nat_in(n, b, p, 0, SI_UNKNOWN);
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
    uint32_t si = tbl_sess_live(
        n, tbl_sess_find_out(n, in->proto, in->src, in->sport, in->dst, rport));
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

/* Filtering (RFC 4787 section 5) for a packet that matches live binding
 * @bi but no session: 1 admitted, 0 filtered, -1 the binding turned out to
 * have expired (then it is gone). */
static int
filter_ok(struct nat *n, uint32_t bi, uint8_t proto, uint32_t src)
{
    const struct bind *b = &n->bind[bi];
    if (b->flags & BF_FORWARD)
        return 1; /* a forward admits anyone */
    switch (n->cfg.filtering[proto_idx(proto)]) {
    case NAT_FILTER_EI:
        return 1;
    case NAT_FILTER_AD:
        return tbl_bind_talked(n, bi, src);
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
inside_tuple_taken(struct nat *n, const struct nat_pkt *p, uint32_t in_addr,
                   uint16_t in_port)
{
    return tbl_sess_live(n, tbl_sess_find_in(n, p->proto, in_addr, in_port,
                                             p->src,
                                             rem_port_key(p, p->sport))) !=
           NIL;
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

/* Inbound. @h is sess_hash(n, 0, p) for TCP, UDP and ICMP queries (0: not
 * computed yet, as for a hairpinned packet); @si the live session that
 * sess_find() found, NIL, or SI_UNKNOWN. */
static struct nat_result
nat_in(struct nat *n, uint8_t *b, struct nat_pkt *p, uint32_t h, uint32_t si)
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
    if (h == 0)
        h = sess_hash(n, 0, p);
    if (si == SI_UNKNOWN) {
        if (port_unbound(n, p))
            return unbound_drop(p);
        si = sess_find(n, 0, p, h);
    }
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
    /* A port whose occupancy bit is clear has neither a binding (live or
     * held) nor a forward: an unsolicited flood costs a bit test. */
    uint32_t bi = tbl_bind_find_out(n, p->proto, p->dst, p->dport);
    if (bi != NIL && !tbl_bind_alive(n, bi))
        bi = NIL; /* all its sessions had expired: it has ended now */
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
        int ok = filter_ok(n, bi, p->proto, p->src);
        if (ok < 0) /* it expired after all: as if there had been none */
            return nat_in(n, b, p, h, SI_UNKNOWN);
        if (!ok)
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

/* Outbound. @h is sess_hash(n, 1, p) for TCP, UDP and ICMP queries, @si
 * as for nat_in(). */
static struct nat_result
nat_out(struct nat *n, uint8_t *b, struct nat_pkt *p, uint32_t h, uint32_t si)
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

    uint32_t osrc = p->src;
    uint16_t osport = p->sport;
    if (si == SI_UNKNOWN)
        si = sess_find(n, 1, p, h);
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
        struct nat_result r = nat_in(n, b, p, 0, SI_UNKNOWN);
        if (r.verdict != NAT_IN) /* not translated: leaves unchanged */
            rw_endpoint(b, p, 0, osrc, osport);
        return r.verdict == NAT_IN ? verdict(NAT_HAIRPIN) : r;
    }
    return verdict(NAT_OUT);
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
static inline void
tick(struct nat *n, uint64_t now_ms, size_t calls)
{
    if (now_ms > n->now)
        tbl_clock(n, now_ms);
    if (n->cfg.expire_budget == 0)
        return;
    uint64_t cap = (uint64_t)n->cfg.expire_budget * 64;
    uint64_t credit = n->expire_credit + (uint64_t)n->cfg.expire_budget * calls;
    n->expire_credit = (uint32_t)(credit > cap ? cap : credit);
    if (n->now != n->expire_last) {
        n->expire_last = n->now;
        tbl_expire(n, n->expire_credit);
        frag_expire(n, n->expire_credit);
        n->expire_credit = 0;
    }
}

/*
 * The established-session step, shared by nat_translate() and the burst:
 * a TCP or UDP packet (unfragmented, no exclusions configured) of a live
 * session is refreshed and rewritten by the same sess_find(), sess_use()
 * and rw_endpoint() that nat_out()/nat_in() use. Returns 1 with @r set, or
 * 0 with *@si the lookup's result for nat_out()/nat_in() to go on from
 * (their first steps would have been this lookup).
 */
static NAT_ALWAYS_INLINE int
established(struct nat *n, enum nat_dir dir, uint8_t *b, struct nat_pkt *p,
            uint32_t h, uint32_t *si, struct nat_result *r)
{
    *si = SI_UNKNOWN;
    if (p->mf || n->nexclude != 0 ||
        (p->kind != NAT_PK_TCP && p->kind != NAT_PK_UDP))
        return 0;
    int out = dir == NAT_DIR_OUT;
    if (!out && port_unbound(n, p)) {
        *r = unbound_drop(p);
        return 1;
    }
    uint32_t i = sess_find(n, out, p, h);
    *si = i;
    if (i == NIL)
        return 0;
    if (out && n->cfg.hairpin && is_ours(n, p->dst))
        return 0; /* hairpin: nat_out() translates it twice */
    sess_use(n, i, p, out);
    const struct sess *s = &n->sess[i];
    if (out)
        rw_endpoint(b, p, 0, s->ext_addr, s->ext_port);
    else
        rw_endpoint(b, p, 1, s->in_addr, s->in_port);
    *r = verdict(out ? NAT_OUT : NAT_IN);
    return 1;
}

/*
 * One packet, parsed (nat_pkt_parse() is the only validator: there is no
 * second, "fast" parser to disagree with it) and hashed by the caller,
 * with @si from established() (or SI_UNKNOWN).
 */
static struct nat_result
xlate(struct nat *n, enum nat_dir dir, uint8_t *buf, size_t len,
      struct nat_pkt *p, uint32_t h, uint32_t si)
{
    if (p->kind == NAT_PK_FRAGMENT) /* RFC 4787 REQ-14 */
        return frag_nonfirst(n, dir, buf, len, p);
    if (!p->mf)
        return dir == NAT_DIR_OUT ? nat_out(n, buf, p, h, si)
                                  : nat_in(n, buf, p, h, si);
    uint32_t osrc = p->src, odst = p->dst;
    struct nat_result r = dir == NAT_DIR_OUT ? nat_out(n, buf, p, h, si)
                                             : nat_in(n, buf, p, h, si);
    frag_first_done(n, dir, osrc, odst, buf, p, r);
    return r;
}

/* Does @p carry a session key (so sess_hash() applies)? */
static inline int
keyed(const struct nat_pkt *p)
{
    return p->kind == NAT_PK_TCP || p->kind == NAT_PK_UDP ||
           p->kind == NAT_PK_ICMP_QUERY;
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

    struct nat_pkt p;
    enum nat_reason why = nat_pkt_parse(&p, buf, *len);
    if (why != NAT_R_NONE)
        return count(n, drop(why));
    uint32_t h = keyed(&p) ? sess_hash(n, dir == NAT_DIR_OUT, &p) : 0, si;
    if (established(n, dir, buf, &p, h, &si, &r))
        return count(n, r);
    return count(n, xlate(n, dir, buf, *len, &p, h, si));
}

/*
 * Bursts: parse and hash every packet of a group and prefetch its bucket,
 * then read the buckets and prefetch the sessions, then translate in
 * order. The DRAM misses of a whole group overlap instead of being paid
 * one after another. Each packet is translated as nat_translate() would
 * translate it at that point (the parse is pure, and the table is only
 * read once the packets before it have had their effect); only the
 * amortised expiry work is done once per burst instead of per packet.
 */
#define GROUP 32

size_t
nat_translate_burst(struct nat *n, struct nat_pkt_io *pkts, size_t cnt,
                    uint64_t now_ms)
{
    struct nat_pkt p[GROUP];
    uint32_t h[GROUP];
    uint8_t st[GROUP]; /* 0: bad arguments or malformed (res set), 1: ok */
    size_t kept = 0;

    if (n == NULL || (pkts == NULL && cnt != 0))
        return 0;
    tick(n, now_ms, cnt);
    for (size_t base = 0; base < cnt; base += GROUP) {
        size_t m = cnt - base < GROUP ? cnt - base : GROUP;
        struct nat_pkt_io *io = pkts + base;
        for (size_t i = 0; i < m; i++) {
            st[i] = 0;
            h[i] = 0;
            if (!args_ok(io[i].dir, io[i].buf, io[i].len, io[i].cap,
                         &io[i].res))
                continue;
            enum nat_reason why = nat_pkt_parse(&p[i], io[i].buf, io[i].len);
            if (why != NAT_R_NONE) {
                io[i].res = drop(why);
                continue;
            }
            st[i] = 1;
            if (keyed(&p[i])) {
                int out = io[i].dir == NAT_DIR_OUT;
                h[i] = sess_hash(n, out, &p[i]);
                const uint32_t *idx = out ? n->sidx_in : n->sidx_out;
                __builtin_prefetch(&idx[h[i] & n->smask]);
            }
        }
        for (size_t i = 0; i < m; i++) {
            if (!st[i] || !keyed(&p[i]))
                continue;
            const uint32_t *idx =
                io[i].dir == NAT_DIR_OUT ? n->sidx_in : n->sidx_out;
            uint32_t si = idx[h[i] & n->smask];
            if (si != NIL)
                __builtin_prefetch(&n->sess[si]);
        }
        for (size_t i = 0; i < m; i++) {
            uint32_t si;
            if (st[i] && !established(n, io[i].dir, io[i].buf, &p[i], h[i],
                                      &si, &io[i].res))
                io[i].res = xlate(n, io[i].dir, io[i].buf, io[i].len, &p[i],
                                  h[i], si);
            count(n, io[i].res);
            kept += io[i].res.verdict != NAT_DROP;
        }
    }
    return kept;
}
