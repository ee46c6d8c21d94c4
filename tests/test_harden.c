/*
 * Regression tests for the defects of the hardening issue (#10). Each
 * failed on the library before its fix; each is named after the defect
 * (d1..d7) or the requirement it restores.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bytes.h"
#include "nat_internal.h"
#include "packet.h"
#include "tests.h"

#define T0 1000u

static struct nat_config
cfg_budget(uint32_t budget)
{
    struct nat_config c;
    nat_config_init(&c);
    c.expire_budget = budget;
    return c;
}

/* Outbound UDP H1:5000 -> R1:53 at @now; returns the verdict. */
static enum nat_verdict
udp_out(struct nat *n, uint32_t h, uint16_t port, uint32_t r, uint64_t now)
{
    uint8_t b[128];
    size_t l = t_udp(b, h, port, r, 53, 8);
    return t_xlate(n, NAT_DIR_OUT, b, l, now).verdict;
}

/* The reply to udp_out(): R:53 -> ext:@ext_port. */
static struct nat_result
udp_reply(struct nat *n, uint32_t r, uint16_t ext_port, uint64_t now)
{
    uint8_t b[128];
    size_t l = t_udp(b, r, 53, T_PUB, ext_port, 8);
    return t_xlate(n, NAT_DIR_IN, b, l, now);
}

static uint16_t
ext_port_of(struct nat *n, uint32_t h, uint16_t port, uint32_t r)
{
    struct nat_session s;
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, h, port, r, 53, &s), 0);
    return s.ext_port;
}

/* ---- d1: the fast path read past a cut TCP header --------------------- */

/* A page-aligned area whose next page is unmapped: a packet of length L
 * placed at guard - L ends exactly at the hole. */
static uint8_t *
guard_area(size_t *page)
{
    *page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(NULL, 2 * *page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(m != MAP_FAILED);
    ck_assert_int_eq(mprotect(m + *page, *page, PROT_NONE), 0);
    return m + *page;
}

START_TEST(harden_d1_tcp_header_cut_before_guard_page)
{
    size_t page;
    uint8_t *guard = guard_area(&page);
    for (int fast = 0; fast < 2; fast++) {
        for (int with_session = 0; with_session < 2; with_session++) {
            struct nat *n = t_nat(NULL);
            if (!fast) /* an exclusion turns the shortcut off */
                ck_assert_int_eq(nat_exclude_add(n, IP4(192, 0, 2, 0), 24),
                                 0);
            uint8_t full[64];
            size_t fl = t_tcp(full, T_H1, 40000, T_R1, 80, NAT_TH_SYN, 0);
            uint16_t ext = 0;
            if (with_session) {
                uint8_t tmp[64];
                memcpy(tmp, full, fl);
                ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, tmp, fl, T0).verdict,
                                 NAT_OUT);
                ext = t_sport(tmp);
            }
            for (size_t tot = 20; tot < 40; tot++) {
                for (int dir = 0; dir < 2; dir++) {
                    uint8_t pkt[64];
                    if (dir == 0)
                        t_tcp(pkt, T_H1, 40000, T_R1, 80, NAT_TH_ACK, 0);
                    else
                        t_tcp(pkt, T_R1, 80, T_PUB, ext ? ext : 40000,
                              NAT_TH_ACK, 0);
                    st16(pkt + 2, (uint16_t)tot);
                    t_fix_ip_csum(pkt);
                    uint8_t *at = guard - tot;
                    memcpy(at, pkt, tot);
                    size_t len = tot;
                    struct nat_result r =
                        nat_translate(n, dir ? NAT_DIR_IN : NAT_DIR_OUT, at,
                                      &len, tot, T0 + 1);
                    ck_assert_int_eq(r.verdict, NAT_DROP);
                    ck_assert_int_eq(r.reason, NAT_R_TCP_TRUNCATED);
                }
            }
            nat_destroy(n);
        }
    }
    munmap(guard - page, 2 * page);
}
END_TEST

/* ---- d2: a 32-bit clock made a 2^32 ms old session look fresh --------- */

START_TEST(harden_d2_session_idle_2e32_ms_is_not_fresh)
{
    struct nat_config c = cfg_budget(0);
    struct nat *n = t_nat(&c);
    ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, 1000), NAT_OUT);
    /* Unrelated traffic every 10 minutes, expiry never asked for. */
    uint64_t t = 1000;
    const uint64_t end = (1ull << 32) + 2000;
    while (t + 600000 < end) {
        t += 600000;
        ck_assert_int_eq(udp_out(n, T_H2, 6000, T_R2, t), NAT_OUT);
    }
    nat_expire(n, end, 1000);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, NULL),
        NAT_ENOENT);
    /* No session may report a last packet older than its timeout. */
    uint64_t cur = 0;
    struct nat_session s;
    while (nat_session_next(n, &cur, &s)) {
        ck_assert_uint_le(s.last_ms, end);
        ck_assert_uint_gt(s.expires_ms, end);
    }
    nat_destroy(n);
}
END_TEST

/* Clock jumps of 2^31, 2^32 and 2^33 ms with expiry budgets 0, 1 and 4,
 * with traffic in between: after the jump the old sessions are gone (a
 * reply is not translated, the count is right, new flows work). */
START_TEST(harden_d2_clock_jumps_2e31_to_2e33_every_budget)
{
    static const uint32_t budgets[] = {0, 1, 4};
    for (int j = 31; j <= 33; j++) {
        for (size_t b = 0; b < 3; b++) {
            struct nat_config c = cfg_budget(budgets[b]);
            struct nat *n = t_nat(&c);
            uint64_t t = T0;
            ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, t), NAT_OUT);
            uint16_t ext = ext_port_of(n, T_H1, 5000, T_R1);
            /* traffic in between: a second flow at half the jump */
            uint64_t mid = t + (1ull << (j - 1));
            ck_assert_int_eq(udp_out(n, T_H2, 6000, T_R2, mid), NAT_OUT);
            uint64_t now = t + (1ull << j);
            struct nat_result r = udp_reply(n, T_R1, ext, now);
            ck_assert_msg(r.verdict == NAT_DROP, "jump 2^%d budget %u: %s", j,
                          budgets[b], nat_verdict_str(r.verdict));
            ck_assert_uint_eq(nat_session_count(n, 0), 0);
            ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, now + 1), NAT_OUT);
            ck_assert_uint_eq(nat_session_count(n, 0), 1);
            uint64_t cur = 0;
            struct nat_session s;
            ck_assert(nat_session_next(n, &cur, &s));
            ck_assert_uint_eq(s.last_ms, now + 1);
            nat_destroy(n);
        }
    }
}
END_TEST

/* ---- d3: sessions past their deadline still matched ------------------- */

/* RFC 4787 REQ-5: the UDP mapping timer is exact whatever expiry reached:
 * a reply one millisecond before the deadline is translated, one at the
 * deadline is not. */
START_TEST(rfc4787_req5_udp_deadline_exact_with_lazy_expiry)
{
    static const uint32_t budgets[] = {0, 1, 4};
    for (size_t b = 0; b < 3; b++) {
        struct nat_config c = cfg_budget(budgets[b]);
        struct nat *n = t_nat(&c);
        uint64_t to = c.timeout_udp_ms;
        ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, T0), NAT_OUT);
        uint16_t ext = ext_port_of(n, T_H1, 5000, T_R1);
        ck_assert_int_eq(udp_reply(n, T_R1, ext, T0 + to - 1).verdict,
                         NAT_IN);
        /* the reply refreshed it: deadline T0 + to - 1 + to */
        uint64_t dl = T0 + 2 * to - 1;
        ck_assert_int_eq(udp_reply(n, T_R1, ext, dl - 1).verdict, NAT_IN);
        dl = dl - 1 + to;
        ck_assert_int_eq(udp_reply(n, T_R1, ext, dl).verdict, NAT_DROP);
        ck_assert_int_eq(
            nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, NULL),
            NAT_ENOENT);
        nat_destroy(n);
    }
}
END_TEST

/* The nat-pcap case: a reply 1000 s after the last packet of a 300 s UDP
 * session, with other traffic in between, is never delivered. */
START_TEST(rfc4787_req5_late_reply_never_delivered)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, T0), NAT_OUT);
    uint16_t ext = ext_port_of(n, T_H1, 5000, T_R1);
    for (uint64_t t = T0 + 1; t < T0 + 1000000; t += 5000)
        ck_assert_int_eq(udp_out(n, T_H2, 6000, T_R2, t), NAT_OUT);
    ck_assert_int_eq(udp_reply(n, T_R1, ext, T0 + 1000000).verdict, NAT_DROP);
    nat_destroy(n);
}
END_TEST

/* RFC 5382 REQ-5: an established TCP session idle for its timeout is gone
 * at the deadline, even with expiry left to nat_expire(). */
START_TEST(rfc5382_req5_tcp_established_deadline_exact)
{
    struct nat_config c = cfg_budget(0);
    struct nat *n = t_nat(&c);
    uint8_t b[128];
    size_t l = t_tcp(b, T_H1, 40000, T_R1, 80, NAT_TH_SYN, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, l, T0).verdict, NAT_OUT);
    uint16_t ext = t_sport(b);
    l = t_tcp(b, T_R1, 80, T_PUB, ext, NAT_TH_SYN | NAT_TH_ACK, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, l, T0 + 1).verdict, NAT_IN);
    l = t_tcp(b, T_H1, 40000, T_R1, 80, NAT_TH_ACK, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, l, T0 + 2).verdict, NAT_OUT);
    uint64_t dl = T0 + 2 + c.timeout_tcp_est_ms;
    l = t_tcp(b, T_R1, 80, T_PUB, ext, NAT_TH_ACK, 10);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, l, dl - 1).verdict, NAT_IN);
    dl = dl - 1 + c.timeout_tcp_est_ms;
    l = t_tcp(b, T_R1, 80, T_PUB, ext, NAT_TH_ACK, 10);
    struct nat_result r = t_xlate(n, NAT_DIR_IN, b, l, dl);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_uint_eq(nat_session_count(n, 6), 0);
    nat_destroy(n);
}
END_TEST

/* RFC 4787 REQ-5 with endpoint-independent filtering: a binding whose
 * sessions have all passed their deadline admits nobody, though expiry
 * has not reached it. */
START_TEST(rfc4787_req5_eif_expired_binding_admits_nothing)
{
    struct nat_config c = cfg_budget(0);
    c.filtering[NAT_P_UDP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, T0), NAT_OUT);
    uint16_t ext = ext_port_of(n, T_H1, 5000, T_R1);
    /* before the deadline a new remote is admitted (EIF) ... */
    ck_assert_int_eq(udp_reply(n, T_R2, ext, T0 + 10).verdict, NAT_IN);
    /* ... after both sessions' deadlines nobody is */
    uint64_t late = T0 + 10 + c.timeout_udp_ms;
    struct nat_result r = udp_reply(n, T_R2, ext, late);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.bindings, 0);
    nat_destroy(n);
}
END_TEST

/* Address-dependent filtering must not count an expired session with the
 * remote as "has talked to it". */
START_TEST(rfc4787_req8_adf_expired_session_does_not_open_filter)
{
    struct nat_config c = cfg_budget(0);
    c.filtering[NAT_P_UDP] = NAT_FILTER_AD;
    c.timeout_udp_ms = 120000;
    struct nat *n = t_nat(&c);
    ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, T0), NAT_OUT);
    uint16_t ext = ext_port_of(n, T_H1, 5000, T_R1);
    /* keep the binding alive with a later session to R2 */
    ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R2, T0 + 100000), NAT_OUT);
    uint8_t b[128];
    size_t l = t_udp(b, T_R1, 54, T_PUB, ext, 8); /* R1, another port */
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, l, T0 + 110000).verdict,
                     NAT_IN);
    /* R1's sessions end at T0 + 230000 (the new one); R2's at 220000 */
    l = t_udp(b, T_R1, 55, T_PUB, ext, 8);
    struct nat_result r = t_xlate(n, NAT_DIR_IN, b, l, T0 + 230000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    nat_destroy(n);
}
END_TEST

/* ---- d4: ILP32 size overflow ------------------------------------------ */

START_TEST(harden_d4_memsize_never_wraps)
{
    static const uint32_t caps[] = {1u << 24, 1u << 26, 1u << 28};
    for (size_t i = 0; i < 3; i++) {
        struct nat_config c;
        nat_config_init(&c);
        c.max_sessions = caps[i];
        size_t sz = nat_memsize(&c);
        /* 0 (does not fit this address space) or at least the sessions */
        ck_assert_msg(sz == 0 || (uint64_t)sz >= (uint64_t)caps[i] * 64,
                      "memsize(%u) = %zu wrapped", caps[i], sz);
        if (sz == 0) {
            struct nat *n;
            static _Alignas(16) uint8_t small[4096];
            ck_assert_int_lt(nat_create_in(&c, small, sizeof(small), &n), 0);
        }
    }
}
END_TEST

/* ---- d5: attacker-driven scans, asserted as step counts ---------------- */

/* Entries on the chain of bucket @h of a NIL-terminated index, followed
 * through @next. */
static unsigned
chain_len_held(const struct nat *n, uint32_t i)
{
    unsigned k = 0;
    for (; i != NIL; i = n->fheld[i].knext)
        k++;
    return k;
}

START_TEST(harden_d5_held_fragments_found_without_scan)
{
    struct nat_config c;
    nat_config_init(&c);
    c.frag_held = 4096;
    c.frag_held_per_src = 0;
    struct nat *n = t_nat(&c);
    /* 4000 out-of-order fragments of distinct datagrams from distinct
     * remotes, held for their first fragments. */
    for (uint32_t i = 0; i < 4000; i++) {
        uint8_t b[64];
        size_t l = t_udp(b, IP4(198, 51, 100 + (i >> 8) % 4, i & 0xff),
                         1000, T_PUB, 2000, 16);
        st16(b + 4, (uint16_t)i);
        st16(b + 6, 3); /* offset 24 */
        t_fix_ip_csum(b);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, l, T0).verdict, NAT_HELD);
    }
    /* Every key chain stays short: a first fragment's release and a new
     * fragment's insert touch one chain, never the store. */
    unsigned max = 0, total = 0, used = 0;
    for (uint32_t h = 0; h <= n->fh_mask; h++) {
        unsigned k = chain_len_held(n, n->fh_kidx[h]);
        if (k) {
            used++;
            total += k;
        }
        if (k > max)
            max = k;
    }
    ck_assert_uint_eq(total, 4000);
    ck_assert_msg(max <= 12, "longest held-fragment chain %u", max);
    ck_assert_msg((double)total / used < 2.0, "mean chain %.2f",
                  (double)total / used);
    /* expiry releases them oldest first, without a scan */
    nat_expire(n, T0 + c.frag_timeout_ms, 4000);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.frags_held, 0);
    ck_assert_uint_eq(st.drops[NAT_R_FRAG_TIMEOUT], 4000);
    nat_destroy(n);
}
END_TEST

/* Address-dependent filtering asks "has this binding a session with this
 * remote address?" by one keyed chain, not a walk over the binding's
 * sessions: a binding with 3000 sessions answers a filtered packet by
 * looking at a handful. */
START_TEST(harden_d5_adf_check_is_one_chain)
{
    struct nat_config c;
    nat_config_init(&c);
    c.filtering[NAT_P_UDP] = NAT_FILTER_AD;
    c.max_sessions = 8192;
    struct nat *n = t_nat(&c);
    for (uint32_t i = 0; i < 3000; i++)
        ck_assert_int_eq(
            udp_out(n, T_H1, 5000, IP4(198, 51, 100 + i / 250, 1 + i % 250),
                    T0),
            NAT_OUT);
    /* one remote with 1000 sessions (many ports) on the same binding */
    uint16_t ext =
        ext_port_of(n, T_H1, 5000, IP4(198, 51, 100, 1));
    for (uint16_t p = 0; p < 1000; p++) {
        uint8_t b[64];
        size_t l = t_udp(b, IP4(198, 51, 100, 1), (uint16_t)(2000 + p), T_PUB,
                         ext, 8);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, l, T0 + 1).verdict, NAT_IN);
    }
    uint32_t bi = n->sess[tbl_sess_find_in(n, 17, T_H1, 5000,
                                           IP4(198, 51, 100, 1), 53)]
                      .bind;
    /* For 2000 remotes the binding never talked to, the chain walked has
     * a small mean length (keyed hash; the 1000-session key sits in one
     * chain only). */
    unsigned long steps = 0;
    unsigned maxs = 0;
    for (uint32_t r = 0; r < 2000; r++) {
        uint32_t addr = IP4(203, 0, 113, 0) + 0x10000 + r; /* not talked to */
        unsigned k = 0;
        for (uint32_t i =
                 n->sidx_addr[nat_hash5(n, 0xad, bi, 0, addr, 0) & n->smask];
             i != NIL; i = n->sess[i].anext)
            k++;
        steps += k;
        if (k > maxs && k < 1000)
            maxs = k;
        uint8_t b[64];
        size_t l = t_udp(b, addr, 53, T_PUB, ext, 8);
        struct nat_result res = t_xlate(n, NAT_DIR_IN, b, l, T0 + 2);
        ck_assert_int_eq(res.verdict, NAT_DROP);
        ck_assert_int_eq(res.reason, NAT_R_FILTERED);
    }
    ck_assert_msg((double)steps / 2000 < 3.0, "mean ADF chain %.2f",
                  (double)steps / 2000);
    ck_assert_msg(maxs <= 12, "longest ADF chain %u", maxs);
    nat_destroy(n);
}
END_TEST

/* 1:1 rules by external address (the unsolicited-inbound path) and by
 * inside address: open addressing with short probe sequences. */
START_TEST(harden_d5_one_to_one_lookup_probes)
{
    struct nat_config c;
    nat_config_init(&c);
    c.max_one_to_one = 1000;
    struct nat *n = t_nat(&c);
    for (uint32_t i = 0; i < 1000; i++)
        ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 1, 0, 0) + i,
                                            IP4(198, 18, 0, 0) + i),
                         0);
    unsigned long probes = 0;
    unsigned maxp = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t a = IP4(198, 18, 0, 0) + i;
        unsigned k = 1;
        for (uint32_t h = nat_hash5(n, 0xfd, a, 0, 0, 0) & n->o2o_hmask;
             n->o2o[n->o2o_hext[h] - 1].ext_addr != a;
             h = (h + 1) & n->o2o_hmask)
            k++;
        probes += k;
        if (k > maxp)
            maxp = k;
        ck_assert_ptr_nonnull(rules_o2o_by_ext(n, a));
        ck_assert_ptr_nonnull(rules_o2o_by_in(n, IP4(10, 1, 0, 0) + i));
    }
    ck_assert_msg((double)probes / 1000 < 2.0, "mean probes %.2f",
                  (double)probes / 1000);
    ck_assert_msg(maxp <= 24, "max probes %u", maxp);
    /* an inbound packet to a 1:1 address is translated */
    uint8_t b[64];
    size_t l = t_udp(b, T_R1, 53, IP4(198, 18, 0, 77), 4000, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, l, T0).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(b), IP4(10, 1, 0, 77));
    ck_assert_int_eq(nat_one_to_one_del(n, IP4(10, 1, 0, 77)), 0);
    ck_assert_ptr_null(rules_o2o_by_ext(n, IP4(198, 18, 0, 77)));
    ck_assert_ptr_nonnull(rules_o2o_by_ext(n, IP4(198, 18, 0, 78)));
    nat_destroy(n);
}
END_TEST

/* Forwards by external port (the unsolicited-inbound path after a binding
 * miss) are a binary search over forwards sorted by (protocol, address,
 * first port): 4000 forwards added in scrambled order, overlaps refused,
 * every port found, deletes keep the order. */
START_TEST(harden_d5_forward_lookup_is_a_binary_search)
{
    struct nat_config c;
    nat_config_init(&c);
    c.max_forwards = 4096;
    struct nat *n = t_nat(&c);
    ck_assert_int_eq(nat_pool_add(n, T_PUB2), 0);
    for (uint32_t k = 0; k < 4000; k++) {
        uint32_t i = (k * 7919u) % 4000; /* a permutation of 0..3999 */
        struct nat_forward f = {.proto = (uint8_t)(i & 1 ? 17 : 6),
                                .ext_addr = i & 2 ? T_PUB2 : T_PUB,
                                .ext_port = (uint16_t)(2000 + (i >> 2) * 8),
                                .ext_port_last =
                                    (uint16_t)(2000 + (i >> 2) * 8 + 3),
                                .in_addr = T_H1,
                                .in_port = (uint16_t)(10000 + i * 4)};
        ck_assert_int_eq(nat_forward_add(n, &f), 0);
        f.ext_port = (uint16_t)(f.ext_port + 3); /* overlaps its last port */
        f.ext_port_last = (uint16_t)(f.ext_port + 2);
        ck_assert_int_eq(nat_forward_add(n, &f), NAT_EEXIST);
    }
    for (uint32_t i = 1; i < n->nfwd; i++) {
        const struct nat_forward *a = &n->fwd[i - 1], *b = &n->fwd[i];
        uint64_t ka = (uint64_t)a->proto << 48 | (uint64_t)a->ext_addr << 16 |
                      a->ext_port;
        uint64_t kb = (uint64_t)b->proto << 48 | (uint64_t)b->ext_addr << 16 |
                      b->ext_port;
        ck_assert_uint_lt(ka, kb);
    }
    for (uint32_t i = 0; i < 4000; i += 7) {
        uint8_t proto = (uint8_t)(i & 1 ? 17 : 6);
        uint32_t ext = i & 2 ? T_PUB2 : T_PUB;
        uint16_t first = (uint16_t)(2000 + (i >> 2) * 8);
        for (uint16_t d = 0; d < 8; d++) {
            const struct nat_forward *f =
                rules_forward_in(n, proto, ext, (uint16_t)(first + d));
            if (d < 4) {
                ck_assert_ptr_nonnull(f);
                ck_assert_uint_eq(f->in_port, 10000 + i * 4);
            } else {
                ck_assert_ptr_null(f);
            }
        }
    }
    /* delete every third and look again */
    for (uint32_t i = 0; i < 4000; i += 3) {
        struct nat_forward f = {.proto = (uint8_t)(i & 1 ? 17 : 6),
                                .ext_addr = i & 2 ? T_PUB2 : T_PUB,
                                .ext_port = (uint16_t)(2000 + (i >> 2) * 8),
                                .ext_port_last =
                                    (uint16_t)(2000 + (i >> 2) * 8 + 3)};
        ck_assert_int_eq(nat_forward_del(n, &f), 0);
    }
    for (uint32_t i = 0; i < 4000; i++) {
        const struct nat_forward *f =
            rules_forward_in(n, (uint8_t)(i & 1 ? 17 : 6),
                             i & 2 ? T_PUB2 : T_PUB,
                             (uint16_t)(2000 + (i >> 2) * 8 + 2));
        if (i % 3 == 0)
            ck_assert_ptr_null(f);
        else
            ck_assert_ptr_nonnull(f);
    }
    nat_destroy(n);
}
END_TEST

/* ---- d6: smaller defects ------------------------------------------------ */

START_TEST(harden_d6_null_arguments_documented_as_never_failing)
{
    uint8_t b[64];
    size_t l = t_udp(b, T_H1, 5000, T_R1, 53, 8);
    ck_assert_uint_eq(nat_steer(NULL, NAT_DIR_OUT, b, l), 0);
    ck_assert_int_eq(nat_icmp_for_reason(NAT_R_TABLE_FULL, NULL, NULL), 1);
    ck_assert_int_eq(nat_icmp_for_reason(NAT_R_NONE, NULL, NULL), 0);
}
END_TEST

START_TEST(harden_d6_icmp_rate_bounded_by_config_check)
{
    struct nat_config c;
    nat_config_init(&c);
    const char *f = NULL;
    c.icmp_rate = UINT32_MAX;
    ck_assert_int_eq(nat_config_check(&c, &f), NAT_ERANGE);
    ck_assert_str_eq(f, "icmp_rate");
    nat_config_init(&c);
    c.icmp_burst = UINT32_MAX;
    ck_assert_int_eq(nat_config_check(&c, &f), NAT_ERANGE);
    ck_assert_str_eq(f, "icmp_burst");
    nat_config_init(&c);
    c.icmp_rate = 1000000;
    c.icmp_burst = 1000000;
    ck_assert_int_eq(nat_config_check(&c, NULL), 0);
}
END_TEST

START_TEST(harden_d6_expire_and_flush_count_clock_jump_ends)
{
    for (int flush = 0; flush < 2; flush++) {
        struct nat_config c = cfg_budget(0);
        struct nat *n = t_nat(&c);
        for (uint16_t p = 0; p < 3; p++)
            ck_assert_int_eq(udp_out(n, T_H1, (uint16_t)(5000 + p), T_R1, T0),
                             NAT_OUT);
        uint64_t later = T0 + (1ull << 31);
        size_t ended = flush ? nat_flush(n, later) : nat_expire(n, later, 0);
        ck_assert_uint_eq(ended, 3);
        ck_assert_uint_eq(nat_session_count(n, 0), 0);
        nat_destroy(n);
    }
}
END_TEST

START_TEST(harden_d6_session_delete_unknown_advances_clock)
{
    struct nat_config c = cfg_budget(0);
    struct nat *n = t_nat(&c);
    ck_assert_int_eq(udp_out(n, T_H1, 5000, T_R1, T0), NAT_OUT);
    uint64_t later = T0 + (1ull << 31);
    ck_assert_int_eq(nat_session_delete(n, 0xdead00000077ull, later),
                     NAT_ENOENT);
    ck_assert_uint_eq(nat_session_count(n, 0), 0); /* the clock moved */
    nat_destroy(n);
}
END_TEST

START_TEST(harden_d6_flush_counts_held_fragments_as_drops)
{
    struct nat *n = t_nat(NULL);
    uint8_t b[64];
    size_t l = t_udp(b, T_R1, 1000, T_PUB, 2000, 16);
    st16(b + 6, 3);
    t_fix_ip_csum(b);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, l, T0).verdict, NAT_HELD);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.frags_held, 1);
    uint64_t drops = st.verdicts[NAT_DROP];
    nat_flush(n, T0 + 1);
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.frags_held, 0);
    ck_assert_uint_eq(st.verdicts[NAT_DROP], drops + 1);
    ck_assert_uint_eq(st.drops[NAT_R_FRAG_ORPHAN], 1);
    /* every packet is accounted for: held ones end as drops or out */
    uint64_t sum = 0;
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        if (v != NAT_HELD)
            sum += st.verdicts[v];
    ck_assert_uint_eq(sum, 1);
    nat_destroy(n);
}
END_TEST

START_TEST(harden_d6_forward_add_einval_before_erange)
{
    struct nat *n = t_nat(NULL);
    struct nat_forward f = {.proto = 6,
                            .ext_addr = IP4(198, 51, 100, 99), /* not ours */
                            .ext_port = 1000,
                            .ext_port_last = 2000,
                            .in_addr = T_H1,
                            .in_port = 65000}; /* runs past 65535 */
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EINVAL);
    f.ext_addr = T_PUB;
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_ERANGE);
    nat_destroy(n);
}
END_TEST

Suite *
harden_suite(void)
{
    Suite *s = suite_create("harden");
    TCase *tc = tcase_create("defects");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, harden_d1_tcp_header_cut_before_guard_page);
    tcase_add_test(tc, harden_d2_session_idle_2e32_ms_is_not_fresh);
    tcase_add_test(tc, harden_d2_clock_jumps_2e31_to_2e33_every_budget);
    tcase_add_test(tc, rfc4787_req5_udp_deadline_exact_with_lazy_expiry);
    tcase_add_test(tc, rfc4787_req5_late_reply_never_delivered);
    tcase_add_test(tc, rfc5382_req5_tcp_established_deadline_exact);
    tcase_add_test(tc, rfc4787_req5_eif_expired_binding_admits_nothing);
    tcase_add_test(tc, rfc4787_req8_adf_expired_session_does_not_open_filter);
    tcase_add_test(tc, harden_d4_memsize_never_wraps);
    tcase_add_test(tc, harden_d5_held_fragments_found_without_scan);
    tcase_add_test(tc, harden_d5_adf_check_is_one_chain);
    tcase_add_test(tc, harden_d5_one_to_one_lookup_probes);
    tcase_add_test(tc, harden_d5_forward_lookup_is_a_binary_search);
    tcase_add_test(tc, harden_d6_null_arguments_documented_as_never_failing);
    tcase_add_test(tc, harden_d6_icmp_rate_bounded_by_config_check);
    tcase_add_test(tc, harden_d6_expire_and_flush_count_clock_jump_ends);
    tcase_add_test(tc, harden_d6_session_delete_unknown_advances_clock);
    tcase_add_test(tc, harden_d6_flush_counts_held_fragments_as_drops);
    tcase_add_test(tc, harden_d6_forward_add_einval_before_erange);
    suite_add_tcase(s, tc);
    return s;
}
