/*
 * Adversarial traffic: hash flooding, SYN floods, resource exhaustion and
 * garbage. Every assertion is on counts (probes, sessions, drop reasons,
 * events), never on wall time.
 *
 * The hash-flooding test reads the instance's bucket arrays through
 * lib/nat_internal.h and replays the lookup walk with nat_hash5(), the
 * table's own keyed hash: the public API cannot show chain lengths.
 */
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "nat_internal.h"
#include "tests.h"

#define S 1000ull /* one second in ms */

static uint8_t pkt[1600];

/* ---- event recording ------------------------------------------------------- */

struct evlog {
    unsigned long create, del, exhausted;
    unsigned long by_reason[NAT_R_MAX];
};

static void
ev_record(const struct nat_event *ev, void *arg)
{
    struct evlog *l = arg;
    switch (ev->type) {
    case NAT_EV_SESSION_CREATE:
        l->create++;
        break;
    case NAT_EV_SESSION_DELETE:
        l->del++;
        break;
    case NAT_EV_EXHAUSTED:
        l->exhausted++;
        if ((unsigned)ev->reason < NAT_R_MAX)
            l->by_reason[ev->reason]++;
        break;
    default:
        break;
    }
}

static struct nat_config
cfg_base(struct evlog *log)
{
    struct nat_config c;
    nat_config_init(&c);
    memset(c.secret, 0xa5, sizeof(c.secret));
    if (log != NULL) {
        memset(log, 0, sizeof(*log));
        c.event_cb = ev_record;
        c.event_arg = log;
    }
    return c;
}

static struct nat_result
udp_send(struct nat *n, enum nat_dir dir, uint32_t s, uint16_t sp, uint32_t d,
         uint16_t dp, uint64_t now)
{
    size_t len = t_udp(pkt, s, sp, d, dp, 8);
    return t_xlate(n, dir, pkt, len, now);
}

static struct nat_result
tcp_send(struct nat *n, enum nat_dir dir, uint32_t s, uint16_t sp, uint32_t d,
         uint16_t dp, uint8_t flags, uint64_t now)
{
    size_t len = t_tcp(pkt, s, sp, d, dp, flags, 0);
    return t_xlate(n, dir, pkt, len, now);
}

/* An established TCP connection from @h:@hp to @r:@rp; returns the
 * external port. */
static uint16_t
tcp_establish(struct nat *n, uint32_t h, uint16_t hp, uint32_t r, uint16_t rp,
              uint64_t now)
{
    ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, h, hp, r, rp, 0x02, now).verdict,
                     NAT_OUT);
    uint16_t ep = t_sport(pkt);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, r, rp, T_PUB, ep, 0x12, now).verdict, NAT_IN);
    ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, h, hp, r, rp, 0x10, now).verdict,
                     NAT_OUT);
    struct nat_session s;
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 6, h, hp, r, rp, &s), 0);
    ck_assert_int_eq(s.tcp_state, NAT_TCP_ESTABLISHED);
    return ep;
}

static size_t
host_sessions(struct nat *n, uint32_t host)
{
    size_t c = 0;
    uint64_t cur = 0;
    struct nat_session s;
    while (nat_session_next(n, &cur, &s))
        c += s.in_addr == host;
    return c;
}

/* ---- hash flooding ----------------------------------------------------------- */

/* The unkeyed hash a naive table would use: xor of the tuple's words. */
static uint32_t
naive_hash(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2)
{
    return a1 ^ a2 ^ ((uint32_t)p1 << 16 | p2);
}

struct probes {
    double mean;
    unsigned max;
    unsigned long total, n;
};

/* Replay the lookup of every session in the inside (@out_side 0) or
 * outside index: probes = chain entries visited until the match. */
static struct probes
session_probes(const struct nat *n, int out_side)
{
    struct probes p = {0, 0, 0, 0};
    for (uint32_t b = 0; b <= n->smask; b++) {
        const uint32_t *heads = out_side ? n->sidx_out : n->sidx_in;
        unsigned depth = 0;
        for (uint32_t i = heads[b]; i != NIL;
             i = out_side ? n->sess[i].hnext_out : n->sess[i].hnext_in) {
            const struct sess *s = &n->sess[i];
            depth++;
            /* The entry is in the bucket its key hashes to. */
            uint32_t h = out_side ? nat_hash5(n, s->proto, s->ext_addr,
                                              s->ext_port, s->rem_addr,
                                              s->rem_port)
                                  : nat_hash5(n, s->proto, s->in_addr,
                                              s->in_port, s->rem_addr,
                                              s->rem_port);
            ck_assert_uint_eq(h & n->smask, b);
            p.total += depth;
            p.n++;
            if (depth > p.max)
                p.max = depth;
        }
    }
    p.mean = p.n ? (double)p.total / (double)p.n : 0;
    return p;
}

static struct probes
binding_probes(const struct nat *n, int out_side)
{
    struct probes p = {0, 0, 0, 0};
    for (uint32_t b = 0; b <= n->bmask; b++) {
        const uint32_t *heads = out_side ? n->bidx_out : n->bidx_in;
        unsigned depth = 0;
        for (uint32_t i = heads[b]; i != NIL;
             i = out_side ? n->bind[i].hnext_out : n->bind[i].hnext_in) {
            depth++;
            p.total += depth;
            p.n++;
            if (depth > p.max)
                p.max = depth;
        }
    }
    p.mean = p.n ? (double)p.total / (double)p.n : 0;
    return p;
}

#define FLOOD 50000u

/* 50 000 sessions whose 5-tuples all collide under the naive xor hash:
 * inside address + i, remote address ^ i, ports summing and xoring to a
 * constant. The keyed hash keeps mean probes < 2 and chains short. */
START_TEST(hash_flood_keeps_lookups_flat)
{
    struct nat_config c = cfg_base(NULL);
    c.max_sessions = 65536;
    c.port_preserve = 1;
    struct nat *n = NULL;
    ck_assert_int_eq(nat_create(&c, &n), 0);
    ck_assert_int_eq(nat_pool_add(n, T_PUB), 0);
    ck_assert_int_eq(nat_pool_add(n, T_PUB2), 0);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 0), 16), 0);

    uint32_t naive0 = 0;
    for (uint32_t i = 0; i < FLOOD; i++) {
        uint32_t h = IP4(10, 0, 0, 0) + 1 + i;
        uint32_t r = IP4(198, 51, 0, 0) ^ (1 + i); /* h ^ r is constant */
        uint16_t hp = 4000, rp = 53;
        uint32_t nh = naive_hash(h, hp, r, rp);
        if (i == 0)
            naive0 = nh;
        ck_assert_uint_eq(nh, naive0); /* all collide unkeyed */
        ck_assert_int_eq(udp_send(n, NAT_DIR_OUT, h, hp, r, rp, 0).verdict,
                         NAT_OUT);
    }
    ck_assert_uint_eq(nat_session_count(n, 0), FLOOD);

    /* A second family: one host, ports with a constant xor and sum. */
    for (uint32_t i = 0; i < 5000; i++) {
        uint16_t hp = (uint16_t)(20000 + i), rp = (uint16_t)(60000 - i);
        ck_assert_int_eq(
            udp_send(n, NAT_DIR_OUT, T_H1, hp, T_R1, rp, 0).verdict, NAT_OUT);
    }
    ck_assert_uint_eq(nat_session_count(n, 0), FLOOD + 5000);

    struct probes si = session_probes(n, 0), so = session_probes(n, 1);
    struct probes bi = binding_probes(n, 0), bo = binding_probes(n, 1);
    ck_assert_uint_eq(si.n, FLOOD + 5000);
    ck_assert_uint_eq(so.n, FLOOD + 5000);
    fprintf(stderr,
            "hash flood: %lu sessions, %u buckets: probes inside mean %.3f "
            "max %u, outside mean %.3f max %u; bindings inside mean %.3f "
            "max %u, outside mean %.3f max %u\n",
            si.n, n->smask + 1, si.mean, si.max, so.mean, so.max, bi.mean,
            bi.max, bo.mean, bo.max);
    ck_assert_msg(si.mean < 2.0, "inside mean probes %.3f", si.mean);
    ck_assert_msg(so.mean < 2.0, "outside mean probes %.3f", so.mean);
    ck_assert_msg(bi.mean < 2.0, "binding mean probes %.3f", bi.mean);
    ck_assert_msg(bo.mean < 2.0, "binding mean probes %.3f", bo.mean);
    ck_assert_uint_lt(si.max, 12);
    ck_assert_uint_lt(so.max, 12);
    ck_assert_uint_lt(bi.max, 12);
    ck_assert_uint_lt(bo.max, 12);

    /* Every flooded session is still found through the API. */
    for (uint32_t i = 0; i < FLOOD; i += 97) {
        struct nat_session s;
        ck_assert_int_eq(nat_session_lookup(n, NAT_DIR_OUT, 17,
                                            IP4(10, 0, 0, 0) + 1 + i, 4000,
                                            IP4(198, 51, 0, 0) ^ (1 + i), 53,
                                            &s),
                         0);
    }
    nat_destroy(n);
}
END_TEST

/* The same tuples under another secret land in other buckets: the layout
 * is not predictable without the secret. */
START_TEST(hash_depends_on_secret)
{
    struct nat_config c = cfg_base(NULL);
    c.max_sessions = 1024;
    struct nat *a = NULL, *b = NULL;
    ck_assert_int_eq(nat_create(&c, &a), 0);
    c.secret[0] ^= 1;
    ck_assert_int_eq(nat_create(&c, &b), 0);
    unsigned same = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t ha = nat_hash5(a, 17, T_H1 + i, 4000, T_R1 ^ i, 53);
        uint32_t hb = nat_hash5(b, 17, T_H1 + i, 4000, T_R1 ^ i, 53);
        same += (ha & a->smask) == (hb & b->smask);
    }
    /* Independent placements agree on about 1000/1024 of them. */
    ck_assert_uint_lt(same, 20);
    nat_destroy(a);
    nat_destroy(b);
}
END_TEST

/* ---- SYN floods ---------------------------------------------------------------- */

/* Unsolicited SYNs from outside create nothing, evict nothing; SYNs to a
 * forward are bounded by the target's per-host session limit. */
START_TEST(syn_flood_from_outside)
{
    struct evlog log;
    struct nat_config c = cfg_base(&log);
    c.max_sessions = 2048;
    c.host_max_sessions = 100;
    struct nat *n = t_nat(&c);
    uint32_t server = IP4(10, 0, 0, 80);
    struct nat_forward fw = {6, T_PUB, 443, 0, server, 8443};
    ck_assert_int_eq(nat_forward_add(n, &fw), 0);

    uint16_t ep[10];
    for (uint16_t i = 0; i < 10; i++)
        ep[i] = tcp_establish(n, T_H1, (uint16_t)(30000 + i), T_R1, 443, 0);
    ck_assert_uint_eq(nat_session_count(n, 6), 10);

    t_srand(7);
    unsigned long syn_in = 0, to_fwd = 0;
    for (unsigned i = 0; i < 20000; i++) {
        /* Flooders: never the established sessions' remote. */
        uint32_t src = IP4(192, 0, 2, 0) | (uint32_t)(t_rand() & 0xff);
        uint16_t sp = (uint16_t)(1024 + t_rand() % 60000);
        /* Every 4th SYN aims at the forward, the rest at random ports
         * (including the established sessions' external ports). */
        uint16_t dp = (i & 3) == 0 ? 443
                      : (i & 3) == 1 ? ep[i % 10]
                                     : (uint16_t)(1 + t_rand() % 65535);
        struct nat_result r =
            tcp_send(n, NAT_DIR_IN, src, sp, T_PUB, dp, 0x02, 1 + i / 100);
        if (dp == 443) {
            to_fwd++;
            ck_assert(r.verdict == NAT_IN ||
                      (r.verdict == NAT_DROP &&
                       r.reason == NAT_R_HOST_SESSIONS));
        } else if (r.verdict == NAT_DROP && r.reason == NAT_R_TCP_SYN_IN) {
            syn_in++;
        }
    }
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_gt(st.drops[NAT_R_TCP_SYN_IN], 0);
    ck_assert_uint_eq(st.drops[NAT_R_TCP_SYN_IN], syn_in);
    ck_assert_uint_gt(st.drops[NAT_R_HOST_SESSIONS], 0);
    /* The forward target holds exactly its limit, nothing more. */
    ck_assert_uint_eq(host_sessions(n, server), 100);
    ck_assert_uint_eq(log.by_reason[NAT_R_HOST_SESSIONS],
                      st.drops[NAT_R_HOST_SESSIONS]);
    /* The established sessions are all there and still carry traffic. */
    for (uint16_t i = 0; i < 10; i++) {
        struct nat_session s;
        ck_assert_int_eq(nat_session_lookup(n, NAT_DIR_OUT, 6, T_H1,
                                            (uint16_t)(30000 + i), T_R1, 443,
                                            &s),
                         0);
        ck_assert_int_eq(s.tcp_state, NAT_TCP_ESTABLISHED);
        ck_assert_int_eq(
            tcp_send(n, NAT_DIR_IN, T_R1, 443, T_PUB, ep[i], 0x18, 300)
                .verdict,
            NAT_IN);
        ck_assert_uint_eq(t_dport(pkt), 30000 + i);
    }
    ck_assert_uint_eq(nat_session_count(n, 6), 10 + 100);
    ck_assert_uint_eq(log.del, 0); /* nothing was evicted */
    nat_destroy(n);
}
END_TEST

/* An inside host flooding SYNs is capped at its limit; other hosts keep
 * their sessions and can still open new ones. */
START_TEST(syn_flood_from_inside)
{
    struct evlog log;
    struct nat_config c = cfg_base(&log);
    c.max_sessions = 4096;
    c.host_max_sessions = 200;
    struct nat *n = t_nat(&c);
    uint16_t ep = tcp_establish(n, T_H2, 40000, T_R2, 22, 0);

    uint32_t bot = IP4(10, 0, 0, 66);
    unsigned long dropped = 0;
    t_srand(11);
    for (unsigned i = 0; i < 30000; i++) {
        uint32_t dst = IP4(198, 51, 100, 0) | (uint32_t)(t_rand() & 0xff);
        struct nat_result r =
            tcp_send(n, NAT_DIR_OUT, bot, (uint16_t)(1024 + i % 60000), dst,
                     (uint16_t)(1 + t_rand() % 65535), 0x02, 1 + i / 1000);
        if (r.verdict == NAT_DROP) {
            ck_assert_int_eq(r.reason, NAT_R_HOST_SESSIONS);
            dropped++;
        }
    }
    ck_assert_uint_eq(host_sessions(n, bot), 200);
    ck_assert_uint_eq(dropped, 30000 - 200);
    ck_assert_uint_eq(log.by_reason[NAT_R_HOST_SESSIONS], dropped);
    ck_assert_uint_eq(log.del, 0);

    /* The established session survives and works; others get through. */
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R2, 22, T_PUB, ep, 0x18, 40).verdict,
        NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    ck_assert_uint_eq(t_dport(pkt), 40000);
    for (uint16_t i = 0; i < 50; i++)
        ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, T_H1, (uint16_t)(5000 + i),
                                  T_R1, 80, 0x02, 40)
                             .verdict,
                         NAT_OUT);

    /* A flood from many inside hosts fills the table: new sessions are
     * refused with TABLE_FULL, established ones are never evicted. */
    struct nat_stats st;
    for (uint32_t h = 100; h < 200; h++)
        for (uint16_t p = 0; p < 60; p++)
            tcp_send(n, NAT_DIR_OUT, IP4(10, 0, 0, h), (uint16_t)(2000 + p),
                     T_R1, 80, 0x02, 41);
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.sessions, 4096);
    ck_assert_uint_gt(st.drops[NAT_R_TABLE_FULL], 0);
    ck_assert_uint_eq(log.by_reason[NAT_R_TABLE_FULL],
                      st.drops[NAT_R_TABLE_FULL]);
    ck_assert_uint_eq(log.del, 0);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R2, 22, T_PUB, ep, 0x18, 42).verdict,
        NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    nat_destroy(n);
}
END_TEST

/* ---- exhaustion --------------------------------------------------------------- */

/* A 64-port range runs out: NAT_R_PORTS drops with NAT_EV_EXHAUSTED
 * events, the existing bindings keep working, and after the sessions
 * expire and the hold-down ends the ports serve new bindings. */
START_TEST(port_exhaustion_recovers)
{
    struct evlog log;
    struct nat_config c = cfg_base(&log);
    c.port_min = 20000;
    c.port_max = 20063;
    c.timeout_udp_ms = 120 * S;
    c.port_hold_ms = 120 * S;
    struct nat *n = t_nat(&c);

    for (uint16_t i = 0; i < 64; i++) {
        struct nat_result r =
            udp_send(n, NAT_DIR_OUT, T_H1, (uint16_t)(5000 + i), T_R1, 53, 0);
        ck_assert_int_eq(r.verdict, NAT_OUT);
        ck_assert_uint_ge(t_sport(pkt), 20000);
        ck_assert_uint_le(t_sport(pkt), 20063);
    }
    for (uint16_t i = 0; i < 100; i++) {
        struct nat_result r =
            udp_send(n, NAT_DIR_OUT, T_H2, (uint16_t)(6000 + i), T_R1, 53, 1);
        ck_assert_int_eq(r.verdict, NAT_DROP);
        ck_assert_int_eq(r.reason, NAT_R_PORTS);
    }
    uint8_t type = 0, code = 0;
    ck_assert_int_eq(nat_icmp_for_reason(NAT_R_PORTS, &type, &code), 1);
    ck_assert_int_eq(type, 3);
    ck_assert_int_eq(code, 13);
    ck_assert_uint_eq(log.by_reason[NAT_R_PORTS], 100);
    ck_assert_uint_eq(nat_session_count(n, 0), 64);
    /* Existing bindings are untouched: new remotes reuse them (EIM). */
    ck_assert_int_eq(
        udp_send(n, NAT_DIR_OUT, T_H1, 5000, T_R2, 123, 2).verdict, NAT_OUT);

    /* Sessions expire, ports are held, then free again. */
    nat_expire(n, 200 * S, SIZE_MAX);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    ck_assert_int_eq(
        udp_send(n, NAT_DIR_OUT, T_H2, 7000, T_R1, 53, 201 * S).reason,
        NAT_R_PORTS); /* still held down (RFC 6888 REQ-8) */
    nat_expire(n, 400 * S, SIZE_MAX);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.ports_held, 0);
    for (uint16_t i = 0; i < 64; i++)
        ck_assert_int_eq(udp_send(n, NAT_DIR_OUT, T_H2, (uint16_t)(7000 + i),
                                  T_R1, 53, 400 * S)
                             .verdict,
                         NAT_OUT);
    nat_destroy(n);
}
END_TEST

/* A full session table: NAT_R_TABLE_FULL with events, no eviction, and
 * room again once sessions expire. Also the binding and host tables. */
START_TEST(table_full_recovers)
{
    struct evlog log;
    struct nat_config c = cfg_base(&log);
    c.max_sessions = 128;
    c.max_hosts = 8;
    c.timeout_udp_ms = 60 * S;
    struct nat *n = t_nat(&c);

    for (uint16_t i = 0; i < 128; i++)
        ck_assert_int_eq(udp_send(n, NAT_DIR_OUT, T_H1, (uint16_t)(1024 + i),
                                  T_R1, 53, 0)
                             .verdict,
                         NAT_OUT);
    for (uint16_t i = 0; i < 50; i++) {
        struct nat_result r = udp_send(n, NAT_DIR_OUT, T_H2,
                                       (uint16_t)(3000 + i), T_R1, 53, 1);
        ck_assert_int_eq(r.verdict, NAT_DROP);
        ck_assert_int_eq(r.reason, NAT_R_TABLE_FULL);
    }
    ck_assert_uint_eq(log.by_reason[NAT_R_TABLE_FULL], 50);
    ck_assert_uint_eq(log.del, 0);
    ck_assert_uint_eq(nat_session_count(n, 0), 128);
    /* The old sessions still work. */
    ck_assert_int_eq(
        udp_send(n, NAT_DIR_OUT, T_H1, 1024, T_R1, 53, 2).verdict, NAT_OUT);

    nat_expire(n, 100 * S, SIZE_MAX);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    ck_assert_int_eq(
        udp_send(n, NAT_DIR_OUT, T_H2, 3000, T_R1, 53, 100 * S).verdict,
        NAT_OUT);

    /* Host table: 8 hosts, the 9th is refused. */
    for (uint32_t h = 10; h < 17; h++)
        ck_assert_int_eq(udp_send(n, NAT_DIR_OUT, IP4(10, 0, 0, h), 1111,
                                  T_R1, 53, 101 * S)
                             .verdict,
                         NAT_OUT);
    struct nat_result r =
        udp_send(n, NAT_DIR_OUT, IP4(10, 0, 0, 17), 1111, T_R1, 53, 101 * S);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_TABLE_FULL);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.hosts, 8);
    nat_destroy(n);
}
END_TEST

/* Per-host port limit (RFC 6888 REQ-4): NAT_R_HOST_PORTS, recovers. */
START_TEST(host_port_limit_recovers)
{
    struct evlog log;
    struct nat_config c = cfg_base(&log);
    c.host_max_ports = 16;
    c.timeout_udp_ms = 60 * S;
    c.port_hold_ms = 0;
    struct nat *n = t_nat(&c);
    for (uint16_t i = 0; i < 40; i++) {
        struct nat_result r = udp_send(n, NAT_DIR_OUT, T_H1,
                                       (uint16_t)(9000 + i), T_R1, 53, 0);
        if (i < 16)
            ck_assert_int_eq(r.verdict, NAT_OUT);
        else
            ck_assert_int_eq(r.reason, NAT_R_HOST_PORTS);
    }
    ck_assert_uint_eq(log.by_reason[NAT_R_HOST_PORTS], 24);
    /* Another host is not affected. */
    ck_assert_int_eq(
        udp_send(n, NAT_DIR_OUT, T_H2, 9000, T_R1, 53, 1).verdict, NAT_OUT);
    nat_expire(n, 100 * S, SIZE_MAX);
    ck_assert_int_eq(
        udp_send(n, NAT_DIR_OUT, T_H1, 9100, T_R1, 53, 100 * S).verdict,
        NAT_OUT);
    nat_destroy(n);
}
END_TEST

/* ---- garbage -------------------------------------------------------------------- */

#define GARBAGE 1000000u

/* t_fix_all_csums() on a packet whose headers may lie: only when every
 * length it trusts stays inside the buffer. */
static void
fix_csums(uint8_t *b, size_t len)
{
    if (len < 20)
        return;
    size_t ihl = (size_t)(b[0] & 0x0f) * 4, tot = ld16(b + 2);
    if (ihl < 20 || ihl > len)
        return;
    if (tot > len)
        tot = len;
    if (tot < ihl) {
        t_fix_ip_csum(b);
        return;
    }
    const uint8_t *l4 = b + ihl;
    size_t l4len = tot - ihl;
    if (b[9] == 1 && l4len >= 28 && (l4[0] == 3 || l4[0] == 11 ||
                                     l4[0] == 12) &&
        8 + (size_t)(l4[8] & 0x0f) * 4 > l4len) {
        t_fix_ip_csum(b);
        return;
    }
    t_fix_all_csums(b, len);
}

/* Damage a valid packet: bit flips, byte sets, truncation, length lies. */
static size_t
mutate(uint8_t *b, size_t len)
{
    uint64_t r = t_rand();
    unsigned edits = 1 + (unsigned)(r & 3);
    for (unsigned e = 0; e < edits && len > 0; e++) {
        uint64_t x = t_rand();
        size_t at = (size_t)((x >> 8) % len); /* same on ILP32 */
        /* Headers are where the parsers look: aim there mostly. */
        if (x & 0x100)
            at %= len < 48 ? len : 48;
        switch (x & 7) {
        case 0:
        case 1:
        case 2:
            b[at] ^= (uint8_t)(1u << ((x >> 40) & 7));
            break;
        case 3:
            b[at] = (uint8_t)(x >> 32);
            break;
        case 4:
            len = at;
            break;
        case 5:
            if (len >= 4)
                st16(b + 2, (uint16_t)(ld16(b + 2) + (int8_t)(x >> 32)));
            break;
        case 6:
            if (len >= 8)
                st16(b + 6, (uint16_t)(x >> 32));
            break;
        default:
            if (len >= 1)
                b[0] = (uint8_t)(0x40 | ((x >> 32) & 0x0f));
            break;
        }
    }
    /* Half the time fix the checksums so the damage gets past them. */
    if ((r >> 8) & 1)
        fix_csums(b, len);
    return len;
}

static size_t
valid_packet(uint8_t *b, enum nat_dir *dir)
{
    static const uint32_t in[4] = {T_H1, T_H2, IP4(10, 0, 0, 20),
                                   IP4(10, 0, 0, 80)};
    static const uint32_t rem[4] = {T_R1, T_R2, T_RTR, T_PUB};
    static const uint16_t ports[6] = {53, 80, 443, 5000, 40000, 1024};
    uint64_t r = t_rand();
    *dir = (r & 1) ? NAT_DIR_IN : NAT_DIR_OUT;
    uint32_t h = in[(r >> 1) & 3], x = rem[(r >> 3) & 3];
    uint16_t hp = ports[(r >> 5) % 6], rp = ports[(r >> 9) % 6];
    uint16_t ep = (r >> 13) & 1 ? hp : (uint16_t)(1024 + ((r >> 14) & 63));
    uint32_t s = *dir == NAT_DIR_OUT ? h : x;
    uint32_t d = *dir == NAT_DIR_OUT ? x : T_PUB;
    uint16_t sp = *dir == NAT_DIR_OUT ? hp : rp;
    uint16_t dp = *dir == NAT_DIR_OUT ? rp : ep;
    size_t payload = (r >> 20) & 31;
    static const uint8_t flags[5] = {0x02, 0x12, 0x10, 0x11, 0x04};
    switch ((r >> 25) % 5) {
    case 0:
    case 1:
        return t_udp(b, s, sp, d, dp, payload);
    case 2:
        return t_tcp(b, s, sp, d, dp, flags[(r >> 28) % 5], payload);
    case 3:
        return t_icmp_echo(b, s, d, *dir == NAT_DIR_OUT ? 8 : 0, sp, 1,
                           payload);
    default: {
        uint8_t inner[100];
        size_t il = t_udp(inner, d, dp, s, sp, 4);
        static const uint8_t types[3] = {3, 11, 12};
        return t_icmp_error(b, s, d, types[(r >> 28) % 3], 3, inner, il,
                            (r >> 30) & 1 ? il : 28);
    }
    }
}

/* One million random or mutated packets: no crash (ASan/UBSan in CI), and
 * no translated packet with a bad checksum. */
START_TEST(garbage_never_breaks_checksums)
{
    struct nat_config c = cfg_base(NULL);
    c.max_sessions = 4096;
    c.host_max_sessions = 512;
    c.frag_entries = 64;
    c.frag_held = 16;
    struct nat *n = t_nat(&c);
    struct nat_forward fw = {6, T_PUB, 443, 0, IP4(10, 0, 0, 80), 443};
    ck_assert_int_eq(nat_forward_add(n, &fw), 0);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 20),
                                        IP4(203, 0, 113, 20)),
                     0);
    t_srand(0x6a7ba6e);
    unsigned long translated = 0, bad = 0, checked = 0;
    unsigned long verdicts[NAT_VERDICT_MAX] = {0};
    uint8_t held[2100];
    for (uint32_t i = 0; i < GARBAGE; i++) {
        enum nat_dir dir;
        size_t len;
        uint64_t r = t_rand();
        if ((r & 7) == 0) { /* raw random bytes, often IPv4-looking */
            len = (size_t)((r >> 8) % 96);
            for (size_t k = 0; k < len; k++)
                pkt[k] = (uint8_t)t_rand();
            if (len > 0 && ((r >> 16) & 1))
                pkt[0] = 0x45;
            if ((r >> 17) & 1)
                fix_csums(pkt, len);
            dir = (r >> 18) & 1 ? NAT_DIR_IN : NAT_DIR_OUT;
        } else {
            len = valid_packet(pkt, &dir);
            if ((r & 7) > 2)
                len = mutate(pkt, len);
        }
        int was_ok = t_csums_ok(pkt, len);
        size_t l = len;
        struct nat_result res = t_translate(n, dir, pkt, &l, i / 50);
        ck_assert_uint_eq(l, len);
        if ((unsigned)res.verdict >= NAT_VERDICT_MAX ||
            (unsigned)res.reason >= NAT_R_MAX)
            ck_abort_msg("verdict %d reason %d out of range", res.verdict,
                         res.reason);
        verdicts[res.verdict]++;
        if (res.verdict == NAT_OUT || res.verdict == NAT_IN ||
            res.verdict == NAT_HAIRPIN) {
            translated++;
            if (was_ok) {
                checked++;
                if (!t_csums_ok(pkt, len) && bad++ == 0)
                    fprintf(stderr, "garbage: packet %u: bad checksum\n", i);
            }
        }
        size_t hl;
        struct nat_result hr;
        while (t_frag_collect(n, held, sizeof(held), &hl, &hr) == 1)
            ck_assert(hl >= 20 && t_csums_ok(held, hl));
    }
    fprintf(stderr,
            "garbage: %u packets: drop %lu out %lu in %lu hairpin %lu pass "
            "%lu held %lu; %lu translated, %lu checked, %lu bad\n",
            GARBAGE, verdicts[NAT_DROP], verdicts[NAT_OUT], verdicts[NAT_IN],
            verdicts[NAT_HAIRPIN], verdicts[NAT_PASS], verdicts[NAT_HELD],
            translated, checked, bad);
    ck_assert_uint_eq(bad, 0);
    /* The mix really exercised translation and dropping. */
    ck_assert_uint_gt(checked, GARBAGE / 10);
    ck_assert_uint_gt(verdicts[NAT_DROP], GARBAGE / 10);
    ck_assert_uint_gt(verdicts[NAT_IN], 1000);

    nat_expire(n, GARBAGE, SIZE_MAX);
    nat_expire(n, GARBAGE + 100000000ull, SIZE_MAX);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.sessions, 0);
    ck_assert_uint_eq(st.bindings, 0);
    ck_assert_uint_eq(st.hosts, 0);
    nat_destroy(n);
}
END_TEST

Suite *
adversarial_suite(void)
{
    Suite *s = suite_create("adversarial");
    TCase *tc = tcase_create("flood");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, hash_flood_keeps_lookups_flat);
    tcase_add_test(tc, hash_depends_on_secret);
    tcase_add_test(tc, syn_flood_from_outside);
    tcase_add_test(tc, syn_flood_from_inside);
    suite_add_tcase(s, tc);

    tc = tcase_create("exhaustion");
    tcase_add_test(tc, port_exhaustion_recovers);
    tcase_add_test(tc, table_full_recovers);
    tcase_add_test(tc, host_port_limit_recovers);
    suite_add_tcase(s, tc);

    tc = tcase_create("garbage");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, garbage_never_breaks_checksums);
    suite_add_tcase(s, tc);
    return s;
}
