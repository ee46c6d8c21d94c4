/*
 * Engine API and module behaviour: configuration, lifecycle, rules, the
 * session/binding table, port allocation, the session API, statistics and
 * events. RFC requirement tests live in test_rfc.c.
 *
 * Every packet that libnat rewrites goes through t_xlate(), which verifies
 * all checksums by full recomputation.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "tests.h"

#define HOLD 120000u /* default port hold (ms) */

/* ---- helpers ------------------------------------------------------------- */

/* Send UDP @src:@sport -> @dst:@dport outbound; assert it went out and
 * return its external source port. */
static uint16_t
udp_out(struct nat *n, uint32_t src, uint16_t sport, uint32_t dst,
        uint16_t dport, uint64_t now)
{
    uint8_t b[1500];
    size_t len = t_udp(b, src, sport, dst, dport, 12);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, b, len, now);
    ck_assert_int_eq(r.verdict, NAT_OUT);
    ck_assert_uint_eq(t_dst(b), dst);
    ck_assert_uint_eq(t_dport(b), dport);
    return t_sport(b);
}

/* Send UDP outbound and return the drop reason (asserting a drop). */
static enum nat_reason
udp_out_drop(struct nat *n, uint32_t src, uint16_t sport, uint32_t dst,
             uint16_t dport, uint64_t now)
{
    uint8_t b[1500];
    size_t len = t_udp(b, src, sport, dst, dport, 12);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, b, len, now);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    return r.reason;
}

/* Send UDP @src:@sport -> @dst:@dport inbound; return the verdict and
 * leave the translated packet in @b. */
static enum nat_verdict
udp_in(struct nat *n, uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst,
       uint16_t dport, uint64_t now)
{
    size_t len = t_udp(b, src, sport, dst, dport, 12);
    return t_xlate(n, NAT_DIR_IN, b, len, now).verdict;
}

static void
tcp_syn_out(struct nat *n, uint32_t src, uint16_t sport, uint32_t dst,
            uint16_t dport, uint64_t now)
{
    uint8_t b[1500];
    size_t len = t_tcp(b, src, sport, dst, dport, 0x02, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, now).verdict, NAT_OUT);
}

static void
echo_out(struct nat *n, uint32_t src, uint32_t dst, uint16_t id, uint64_t now)
{
    uint8_t b[1500];
    size_t len = t_icmp_echo(b, src, dst, 8, id, 1, 16);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, now).verdict, NAT_OUT);
}

/* A minimal GRE packet (IP protocol 47, 4-byte header) with a correct IP
 * header checksum. */
static size_t
gre_pkt(uint8_t *b, uint32_t src, uint32_t dst)
{
    memset(b, 0, 24);
    b[0] = 0x45;
    st16(b + 2, 24);
    st16(b + 4, 0x4242);
    b[8] = 64;
    b[9] = 47;
    st32(b + 12, src);
    st32(b + 16, dst);
    st16(b + 22, 0x0800); /* GRE protocol type: IPv4 */
    t_fix_ip_csum(b);
    return 24;
}

static struct nat_stats
stats(const struct nat *n)
{
    struct nat_stats st;
    nat_stats_get(n, &st);
    return st;
}

/* Event recorder. */
#define EV_MAX 64
struct evlog {
    size_t n, total;
    size_t type[NAT_EV_EXHAUSTED + 1];
    size_t sess_del[NAT_END_FLUSHED + 1]; /* SESSION_DELETE by cause */
    size_t bind_del[NAT_END_FLUSHED + 1]; /* BINDING_DELETE by cause */
    struct nat_event ev[EV_MAX];
};

static void
ev_record(const struct nat_event *ev, void *arg)
{
    struct evlog *l = arg;
    if (l->n < EV_MAX)
        l->ev[l->n++] = *ev;
    l->total++;
    ck_assert_int_ge(ev->type, NAT_EV_BINDING_CREATE);
    ck_assert_int_le(ev->type, NAT_EV_EXHAUSTED);
    l->type[ev->type]++;
    if (ev->type == NAT_EV_SESSION_DELETE)
        l->sess_del[ev->cause]++;
    if (ev->type == NAT_EV_BINDING_DELETE)
        l->bind_del[ev->cause]++;
}

static void
cfg_events(struct nat_config *c, struct evlog *l)
{
    memset(l, 0, sizeof(*l));
    c->event_cb = ev_record;
    c->event_arg = l;
}

static uint64_t
sess_id(struct nat *n, uint8_t proto, uint32_t in, uint16_t inp, uint32_t rem,
        uint16_t remp)
{
    struct nat_session s;
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, proto, in, inp, rem, remp, &s), 0);
    return s.id;
}

/* =========================================================================
 * config
 * ========================================================================= */

START_TEST(config_init_defaults)
{
    struct nat_config c;
    memset(&c, 0xa5, sizeof(c));
    nat_config_init(&c);
    ck_assert_uint_eq(c.timeout_udp_ms, 300000);
    ck_assert_uint_eq(c.timeout_tcp_est_ms, 7440000);
    ck_assert_uint_eq(c.timeout_tcp_trans_ms, 240000);
    ck_assert_uint_eq(c.timeout_icmp_ms, 60000);
    ck_assert_uint_eq(c.port_hold_ms, 120000);
    ck_assert_uint_eq(c.port_min, 1024);
    ck_assert_uint_eq(c.port_max, 65535);
    for (int p = 0; p < NAT_P_MAX; p++) {
        ck_assert_uint_eq(c.mapping[p], NAT_MAP_EI);
        ck_assert_uint_eq(c.filtering[p], NAT_FILTER_AD);
    }
    ck_assert_uint_eq(c.max_sessions, 65536);
    ck_assert_uint_eq(c.max_pool, 16);
    ck_assert_uint_eq(c.max_prefixes, 16);
    ck_assert_uint_eq(c.max_forwards, 64);
    ck_assert_uint_eq(c.max_one_to_one, 64);
    ck_assert_uint_eq(c.max_bindings, 0);
    ck_assert_uint_eq(c.max_hosts, 0);
    ck_assert_uint_eq(c.host_max_sessions, 0);
    ck_assert_uint_eq(c.host_max_ports, 0);
    ck_assert_uint_eq(c.port_preserve, 1);
    ck_assert_uint_eq(c.port_parity, 0);
    ck_assert_uint_eq(c.port_class, 1);
    ck_assert_uint_eq(c.hairpin, 1);
    ck_assert_uint_eq(c.expire_budget, 4);
    ck_assert(c.event_cb == NULL);
    ck_assert(c.event_arg == NULL);

    const char *f = "junk";
    ck_assert_int_eq(nat_config_check(&c, &f), 0);
    ck_assert(f == NULL);
    ck_assert_int_eq(nat_config_check(&c, NULL), 0);
}
END_TEST

/* One bad field: check gives @code and names it, memsize is 0, create
 * fails with the same code. */
static void
expect_bad(const struct nat_config *c, const char *name, int code)
{
    const char *f = NULL;
    ck_assert_int_eq(nat_config_check(c, &f), code);
    ck_assert_msg(f != NULL, "no field named for %s", name);
    ck_assert_str_eq(f, name);
    ck_assert_int_eq(nat_config_check(c, NULL), code);
    ck_assert_uint_eq(nat_memsize(c), 0);
    struct nat *n = NULL;
    int rc = nat_create(c, &n);
    ck_assert_int_eq(rc, code);
    if (rc == 0)
        nat_destroy(n);
}

#define BAD_FIELD(stmt, name, code)                                            \
    do {                                                                       \
        struct nat_config c_;                                                  \
        nat_config_init(&c_);                                                  \
        struct nat_config *c = &c_;                                            \
        stmt;                                                                  \
        expect_bad(c, name, code);                                             \
    } while (0)

START_TEST(config_check_names_bad_field)
{
    BAD_FIELD(c->max_sessions = 0, "max_sessions", NAT_ERANGE);
    BAD_FIELD(c->max_sessions = UINT32_MAX, "max_sessions", NAT_ERANGE);
    BAD_FIELD(c->max_bindings = UINT32_MAX, "max_bindings", NAT_ERANGE);
    BAD_FIELD(c->max_hosts = UINT32_MAX, "max_hosts", NAT_ERANGE);
    BAD_FIELD(c->max_pool = 0, "max_pool", NAT_ERANGE);
    BAD_FIELD(c->max_pool = UINT32_MAX, "max_pool", NAT_ERANGE);
    BAD_FIELD(c->max_prefixes = UINT32_MAX, "max_prefixes", NAT_ERANGE);
    BAD_FIELD(c->max_forwards = UINT32_MAX, "max_forwards", NAT_ERANGE);
    BAD_FIELD(c->max_one_to_one = UINT32_MAX, "max_one_to_one", NAT_ERANGE);
    BAD_FIELD(c->timeout_udp_ms = 0, "timeout_udp_ms", NAT_ERANGE);
    BAD_FIELD(c->timeout_tcp_est_ms = 0, "timeout_tcp_est_ms", NAT_ERANGE);
    BAD_FIELD(c->timeout_tcp_trans_ms = 0, "timeout_tcp_trans_ms", NAT_ERANGE);
    BAD_FIELD(c->timeout_icmp_ms = 0, "timeout_icmp_ms", NAT_ERANGE);
    BAD_FIELD(c->port_min = 0, "port_min", NAT_ERANGE);
    BAD_FIELD((c->port_min = 2000, c->port_max = 1999), "port_max", NAT_ERANGE);
    for (int p = 0; p < NAT_P_MAX; p++) {
        BAD_FIELD(c->mapping[p] = 3, "mapping", NAT_EINVAL);
        BAD_FIELD(c->filtering[p] = 3, "filtering", NAT_EINVAL);
    }
    BAD_FIELD(c->port_preserve = 2, "port_preserve", NAT_EINVAL);
    BAD_FIELD(c->port_parity = 2, "port_parity", NAT_EINVAL);
    BAD_FIELD(c->port_class = 2, "port_class", NAT_EINVAL);
    BAD_FIELD(c->hairpin = 2, "hairpin", NAT_EINVAL);
}
END_TEST

START_TEST(config_check_reports_first_bad_field)
{
    BAD_FIELD((c->max_pool = 0, c->hairpin = 2), "max_pool", NAT_ERANGE);
    BAD_FIELD((c->timeout_udp_ms = 0, c->port_min = 0), "timeout_udp_ms",
              NAT_ERANGE);
    const char *f = NULL;
    ck_assert_int_eq(nat_config_check(NULL, &f), NAT_EINVAL);
    ck_assert(f != NULL);
    ck_assert_str_eq(f, "cfg");
}
END_TEST

START_TEST(config_check_accepts_edges)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_min = c.port_max = 40000; /* a one-port range */
    c.port_hold_ms = 0;              /* no hold-down */
    c.max_sessions = 1;
    c.mapping[NAT_P_TCP] = NAT_MAP_APD;
    c.filtering[NAT_P_UDP] = NAT_FILTER_APD;
    c.port_preserve = 0;
    c.port_parity = 1;
    c.port_class = 0;
    c.hairpin = 0;
    c.expire_budget = 0;
    ck_assert_int_eq(nat_config_check(&c, NULL), 0);
    ck_assert_uint_gt(nat_memsize(&c), 0);
    struct nat *n = NULL;
    ck_assert_int_eq(nat_create(&c, &n), 0);
    ck_assert(n != NULL);
    nat_destroy(n);
}
END_TEST

START_TEST(create_rejects_null_arguments)
{
    struct nat_config c;
    nat_config_init(&c);
    ck_assert_int_eq(nat_create(&c, NULL), NAT_EINVAL);
    struct nat *n = NULL;
    ck_assert_int_lt(nat_create(NULL, &n), 0);
    ck_assert_uint_eq(nat_memsize(NULL), 0);
}
END_TEST

/* =========================================================================
 * lifecycle
 * ========================================================================= */

static _Alignas(64) uint8_t arena[512 * 1024];

static void
small_cfg(struct nat_config *c)
{
    nat_config_init(c);
    c->max_sessions = 256;
    c->max_pool = 2;
    c->max_prefixes = 4;
    c->max_forwards = 4;
    c->max_one_to_one = 4;
}

START_TEST(memsize_grows_with_max_sessions)
{
    struct nat_config c;
    nat_config_init(&c);
    c.max_sessions = 1024;
    size_t s1 = nat_memsize(&c);
    ck_assert_uint_gt(s1, 0);
    c.max_sessions = 4096;
    size_t s2 = nat_memsize(&c);
    ck_assert_uint_gt(s2, s1);
    /* each extra session costs at least a session and a binding slot */
    ck_assert_uint_ge(s2 - s1, 3072u * 16u);
    c.max_pool = 32;
    ck_assert_uint_gt(nat_memsize(&c), s2);
}
END_TEST

START_TEST(create_in_caller_memory_works)
{
    struct nat_config c;
    small_cfg(&c);
    size_t need = nat_memsize(&c);
    ck_assert_uint_gt(need, 0);
    ck_assert_uint_le(need, sizeof(arena));

    for (int round = 0; round < 2; round++) {
        struct nat *n = NULL;
        memset(arena, 0xee, sizeof(arena)); /* no reliance on zeroed memory */
        ck_assert_int_eq(nat_create_in(&c, arena, need, &n), 0);
        ck_assert(n != NULL);
        ck_assert_int_eq(nat_pool_add(n, T_PUB), 0);
        ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 0), 24), 0);
        uint16_t ext = udp_out(n, T_H1, 5000, T_R1, 53, 1000);
        ck_assert_uint_eq(ext, 5000);
        ck_assert_uint_eq(nat_session_count(n, 0), 1);
        uint8_t b[1500];
        ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_PUB, ext, 1001), NAT_IN);
        ck_assert_uint_eq(t_dst(b), T_H1);
        nat_destroy(n); /* must not free caller memory (ASan would tell) */
    }
}
END_TEST

START_TEST(create_in_rejects_small_buffer)
{
    struct nat_config c;
    small_cfg(&c);
    size_t need = nat_memsize(&c);
    struct nat *n = NULL;
    ck_assert_int_eq(nat_create_in(&c, arena, need - 1, &n), NAT_ENOSPC);
    ck_assert_int_eq(nat_create_in(&c, arena, 64, &n), NAT_ENOSPC);
    ck_assert_int_eq(nat_create_in(&c, arena, 0, &n), NAT_ENOSPC);
    ck_assert_int_eq(nat_create_in(&c, arena, need, &n), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(create_in_rejects_misaligned_memory)
{
    struct nat_config c;
    small_cfg(&c);
    size_t need = nat_memsize(&c);
    ck_assert_uint_le(need + 16, sizeof(arena));
    struct nat *n = NULL;
    ck_assert_int_eq(nat_create_in(&c, arena + 1, need + 8, &n), NAT_EINVAL);
    ck_assert_int_eq(nat_create_in(&c, arena + 8, need + 8, &n), NAT_EINVAL);
    /* 16-byte alignment is enough */
    ck_assert_int_eq(nat_create_in(&c, arena + 16, need, &n), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(create_in_rejects_bad_arguments)
{
    struct nat_config c;
    small_cfg(&c);
    struct nat *n = NULL;
    ck_assert_int_eq(nat_create_in(&c, NULL, sizeof(arena), &n), NAT_EINVAL);
    ck_assert_int_eq(nat_create_in(&c, arena, sizeof(arena), NULL), NAT_EINVAL);
    ck_assert_int_eq(nat_create_in(NULL, arena, sizeof(arena), &n), NAT_EINVAL);
    c.max_pool = 0;
    ck_assert_int_eq(nat_create_in(&c, arena, sizeof(arena), &n), NAT_ERANGE);
    c.max_pool = 2;
    c.hairpin = 7;
    ck_assert_int_eq(nat_create_in(&c, arena, sizeof(arena), &n), NAT_EINVAL);
}
END_TEST

START_TEST(destroy_null_is_noop)
{
    nat_destroy(NULL);
}
END_TEST

START_TEST(destroy_flushes_with_events)
{
    struct nat_config c;
    struct evlog log;
    nat_config_init(&c);
    cfg_events(&c, &log);
    struct nat *n = t_nat(&c);
    udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    udp_out(n, T_H1, 5000, T_R2, 53, 1000); /* same binding (EIM) */
    udp_out(n, T_H2, 6000, T_R1, 53, 1000);
    tcp_syn_out(n, T_H1, 7000, T_R1, 80, 1000);
    ck_assert_uint_eq(log.type[NAT_EV_SESSION_CREATE], 4);
    ck_assert_uint_eq(log.type[NAT_EV_BINDING_CREATE], 3);

    nat_destroy(n);
    ck_assert_uint_eq(log.type[NAT_EV_SESSION_DELETE], 4);
    ck_assert_uint_eq(log.sess_del[NAT_END_FLUSHED], 4);
    ck_assert_uint_eq(log.type[NAT_EV_BINDING_DELETE], 3);
    ck_assert_uint_eq(log.bind_del[NAT_END_FLUSHED], 3);
}
END_TEST

/* =========================================================================
 * rules
 * ========================================================================= */

START_TEST(pool_add_del_errors)
{
    struct nat_config c;
    nat_config_init(&c);
    c.max_pool = 2;
    struct nat *n = t_nat(&c); /* holds T_PUB */
    ck_assert_int_eq(nat_pool_add(n, T_PUB), NAT_EEXIST);
    ck_assert_int_eq(nat_pool_add(n, T_PUB2), 0);
    ck_assert_int_eq(nat_pool_add(n, IP4(203, 0, 113, 3)), NAT_ENOSPC);
    ck_assert_int_eq(nat_pool_add(n, 0), NAT_EINVAL);
    ck_assert_int_eq(nat_pool_add(n, IP4(127, 0, 0, 1)), NAT_EINVAL);
    ck_assert_int_eq(nat_pool_add(n, IP4(127, 1, 2, 3)), NAT_EINVAL);
    ck_assert_int_eq(nat_pool_add(n, IP4(224, 0, 0, 1)), NAT_EINVAL);
    ck_assert_int_eq(nat_pool_add(n, IP4(240, 0, 0, 1)), NAT_EINVAL);
    ck_assert_int_eq(nat_pool_add(n, 0xffffffffu), NAT_EINVAL);
    ck_assert_int_eq(nat_pool_del(n, IP4(203, 0, 113, 3)), NAT_ENOENT);
    ck_assert_int_eq(nat_pool_del(n, T_PUB2), 0);
    ck_assert_int_eq(nat_pool_del(n, T_PUB2), NAT_ENOENT);
    /* the freed slot is reusable */
    ck_assert_int_eq(nat_pool_add(n, IP4(203, 0, 113, 3)), 0);
    ck_assert_int_eq(nat_pool_add(n, T_PUB2), NAT_ENOSPC);
    nat_destroy(n);
}
END_TEST

START_TEST(pool_del_busy_while_bound)
{
    struct nat *n = t_nat(NULL);
    udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    ck_assert_int_eq(nat_pool_del(n, T_PUB), NAT_EBUSY);
    ck_assert_uint_eq(nat_session_count(n, 0), 1); /* nothing changed */
    ck_assert_uint_eq(nat_flush(n, 2000), 1);
    ck_assert_int_eq(nat_pool_del(n, T_PUB), 0);
    /* with no pool, new outbound flows have nowhere to go */
    ck_assert_int_eq(udp_out_drop(n, T_H1, 5000, T_R1, 53, 3000),
                     NAT_R_NO_ADDRESS);
    ck_assert_int_eq(nat_pool_add(n, T_PUB2), 0);
    uint8_t b[1500];
    size_t len = t_udp(b, T_H1, 5000, T_R1, 53, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 4000).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(b), T_PUB2);
    nat_destroy(n);
}
END_TEST

START_TEST(pool_del_busy_until_port_hold_ends)
{
    struct nat *n = t_nat(NULL);
    udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    ck_assert_int_eq(
        nat_session_delete(n, sess_id(n, 17, T_H1, 5000, T_R1, 53), 2000), 0);
    ck_assert_uint_eq(stats(n).ports_held, 1);
    ck_assert_int_eq(nat_pool_del(n, T_PUB), NAT_EBUSY);
    nat_expire(n, 2000 + HOLD, 16);
    ck_assert_uint_eq(stats(n).ports_held, 0);
    ck_assert_int_eq(nat_pool_del(n, T_PUB), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(prefix_add_del_errors)
{
    struct nat_config c;
    nat_config_init(&c);
    c.max_prefixes = 2;
    struct nat *n = t_nat(&c); /* inside 10.0.0.0/24 */

    ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 1), 24), NAT_EINVAL);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 0), 33), NAT_EINVAL);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 0), 24), NAT_EEXIST);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 0), 25), 0);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 1, 0, 0), 16), NAT_ENOSPC);
    ck_assert_int_eq(nat_inside_del(n, IP4(10, 1, 0, 0), 16), NAT_ENOENT);
    ck_assert_int_eq(nat_inside_del(n, IP4(10, 0, 0, 0), 33), NAT_EINVAL);
    ck_assert_int_eq(nat_inside_del(n, IP4(10, 0, 0, 0), 25), 0);
    ck_assert_int_eq(nat_inside_del(n, IP4(10, 0, 0, 0), 25), NAT_ENOENT);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 1, 0, 0), 16), 0);

    /* exclusions have their own table with the same rules */
    ck_assert_int_eq(nat_exclude_add(n, IP4(192, 168, 1, 0), 16), NAT_EINVAL);
    ck_assert_int_eq(nat_exclude_add(n, IP4(192, 168, 0, 0), 40), NAT_EINVAL);
    ck_assert_int_eq(nat_exclude_add(n, IP4(192, 168, 0, 0), 16), 0);
    ck_assert_int_eq(nat_exclude_add(n, IP4(192, 168, 0, 0), 16), NAT_EEXIST);
    ck_assert_int_eq(nat_exclude_add(n, IP4(172, 16, 0, 0), 12), 0);
    ck_assert_int_eq(nat_exclude_add(n, IP4(10, 9, 9, 9), 32), NAT_ENOSPC);
    ck_assert_int_eq(nat_exclude_del(n, IP4(192, 168, 0, 0), 24), NAT_ENOENT);
    ck_assert_int_eq(nat_exclude_del(n, IP4(192, 168, 0, 0), 16), 0);
    ck_assert_int_eq(nat_exclude_del(n, IP4(192, 168, 0, 0), 16), NAT_ENOENT);
    ck_assert_int_eq(nat_exclude_add(n, IP4(10, 9, 9, 9), 32), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(excluded_destination_passes_untouched)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(nat_exclude_add(n, IP4(192, 168, 0, 0), 16), 0);
    uint8_t b[1500], orig[1500];
    size_t len = t_udp(b, T_H1, 5000, IP4(192, 168, 5, 5), 53, 20);
    memcpy(orig, b, len);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, b, len, 1000);
    ck_assert_int_eq(r.verdict, NAT_PASS);
    ck_assert_int_eq(memcmp(b, orig, len), 0);

    len = t_tcp(b, T_H1, 5001, IP4(192, 168, 200, 1), 22, 0x02, 0);
    memcpy(orig, b, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_PASS);
    ck_assert_int_eq(memcmp(b, orig, len), 0);

    /* an excluded inside source passes too */
    ck_assert_int_eq(nat_exclude_add(n, IP4(10, 0, 0, 128), 25), 0);
    len = t_udp(b, IP4(10, 0, 0, 130), 5000, T_R1, 53, 20);
    memcpy(orig, b, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_PASS);
    ck_assert_int_eq(memcmp(b, orig, len), 0);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);

    /* removing the exclusion makes it translatable again */
    ck_assert_int_eq(nat_exclude_del(n, IP4(192, 168, 0, 0), 16), 0);
    len = t_udp(b, T_H1, 5000, IP4(192, 168, 5, 5), 53, 20);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(b), T_PUB);
    nat_destroy(n);
}
END_TEST

START_TEST(non_inside_source_passes_untouched)
{
    struct nat *n = t_nat(NULL);
    uint8_t b[1500], orig[1500];
    const uint32_t srcs[] = {IP4(10, 0, 1, 5), IP4(172, 16, 0, 1),
                             IP4(192, 0, 2, 1)};
    for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
        size_t len = t_udp(b, srcs[i], 5000, T_R1, 53, 10);
        memcpy(orig, b, len);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict,
                         NAT_PASS);
        ck_assert_int_eq(memcmp(b, orig, len), 0);
        len = t_tcp(b, srcs[i], 5000, T_R1, 80, 0x02, 0);
        memcpy(orig, b, len);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict,
                         NAT_PASS);
        ck_assert_int_eq(memcmp(b, orig, len), 0);
    }
    ck_assert_uint_eq(nat_session_count(n, 0), 0);

    /* deleting the inside prefix stops translation of its hosts */
    ck_assert_int_eq(nat_inside_del(n, IP4(10, 0, 0, 0), 24), 0);
    size_t len = t_udp(b, T_H1, 5000, T_R1, 53, 10);
    memcpy(orig, b, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_PASS);
    ck_assert_int_eq(memcmp(b, orig, len), 0);
    nat_destroy(n);
}
END_TEST

static struct nat_forward
fwd(uint8_t proto, uint32_t ext, uint16_t p0, uint16_t p1, uint32_t in,
    uint16_t inp)
{
    struct nat_forward f;
    memset(&f, 0, sizeof(f));
    f.proto = proto;
    f.ext_addr = ext;
    f.ext_port = p0;
    f.ext_port_last = p1;
    f.in_addr = in;
    f.in_port = inp;
    return f;
}

START_TEST(forward_add_validates)
{
    struct nat_config c;
    nat_config_init(&c);
    c.max_forwards = 3;
    struct nat *n = t_nat(&c);
    const uint32_t srv = IP4(10, 0, 0, 5);
    struct nat_forward f;

    f = fwd(1, T_PUB, 8000, 0, srv, 80);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EINVAL);
    f = fwd(47, T_PUB, 8000, 0, srv, 80);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EINVAL);
    f = fwd(6, T_PUB2, 8000, 0, srv, 80); /* not in the pool */
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EINVAL);
    f = fwd(6, T_PUB, 0, 0, srv, 80);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EINVAL);
    f = fwd(6, T_PUB, 8000, 0, srv, 0);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EINVAL);
    f = fwd(6, T_PUB, 8000, 7999, srv, 80); /* last < first */
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EINVAL);
    f = fwd(6, T_PUB, 8000, 8010, srv, 65530); /* runs past 65535 */
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_ERANGE);

    f = fwd(6, T_PUB, 8000, 8009, srv, 80);
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EEXIST);
    f = fwd(6, T_PUB, 8009, 8020, IP4(10, 0, 0, 6), 80); /* overlaps */
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EEXIST);
    f = fwd(6, T_PUB, 7990, 8000, IP4(10, 0, 0, 6), 80);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EEXIST);
    f = fwd(6, T_PUB, 8005, 0, IP4(10, 0, 0, 6), 80); /* inside the range */
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EEXIST);
    f = fwd(17, T_PUB, 8000, 8009, srv, 80); /* other protocol: no overlap */
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    f = fwd(6, T_PUB, 8010, 0, srv, 90); /* adjacent */
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    f = fwd(6, T_PUB, 9000, 0, srv, 91);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_ENOSPC);

    f = fwd(6, T_PUB, 8000, 8008, srv, 80); /* different range */
    ck_assert_int_eq(nat_forward_del(n, &f), NAT_ENOENT);
    f = fwd(6, T_PUB, 8000, 8009, srv, 80);
    ck_assert_int_eq(nat_forward_del(n, &f), 0);
    ck_assert_int_eq(nat_forward_del(n, &f), NAT_ENOENT);
    f = fwd(6, T_PUB, 9000, 0, srv, 91);
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(forward_add_busy_port_held_by_binding)
{
    struct nat *n = t_nat(NULL);
    ck_assert_uint_eq(udp_out(n, T_H1, 40000, T_R1, 53, 1000), 40000);
    struct nat_forward f = fwd(17, T_PUB, 40000, 0, IP4(10, 0, 0, 5), 53);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EBUSY);
    f = fwd(17, T_PUB, 39990, 40010, IP4(10, 0, 0, 5), 53);
    ck_assert_int_eq(nat_forward_add(n, &f), NAT_EBUSY);
    f = fwd(6, T_PUB, 40000, 0, IP4(10, 0, 0, 5), 53); /* TCP port is free */
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    ck_assert_uint_eq(nat_flush(n, 2000), 1);
    f = fwd(17, T_PUB, 39990, 40010, IP4(10, 0, 0, 5), 53);
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(forward_range_maps_port_offsets)
{
    struct nat *n = t_nat(NULL);
    const uint32_t srv = IP4(10, 0, 0, 5);
    struct nat_forward f = fwd(17, T_PUB, 8000, 8009, srv, 9000);
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    uint8_t b[1500];

    ck_assert_int_eq(udp_in(n, b, T_R1, 1234, T_PUB, 8003, 1000), NAT_IN);
    ck_assert_uint_eq(t_dst(b), srv);
    ck_assert_uint_eq(t_dport(b), 9003);
    ck_assert_uint_eq(t_src(b), T_R1);
    ck_assert_uint_eq(t_sport(b), 1234);
    ck_assert_int_eq(udp_in(n, b, T_R2, 999, T_PUB, 8000, 1000), NAT_IN);
    ck_assert_uint_eq(t_dport(b), 9000);
    ck_assert_int_eq(udp_in(n, b, T_R2, 999, T_PUB, 8009, 1000), NAT_IN);
    ck_assert_uint_eq(t_dport(b), 9009);
    ck_assert_int_eq(udp_in(n, b, T_R2, 999, T_PUB, 8010, 1000), NAT_DROP);

    /* the reply goes out from the forwarded port */
    ck_assert_uint_eq(udp_out(n, srv, 9003, T_R1, 1234, 1001), 8003);
    /* so does a new flow from a forwarded inside port */
    ck_assert_uint_eq(udp_out(n, srv, 9005, T_R2, 53, 1001), 8005);
    /* forwarded ports are never handed to dynamic bindings */
    uint16_t p = udp_out(n, T_H1, 8001, T_R1, 53, 1001);
    ck_assert(p < 8000 || p > 8009);

    struct nat_session s;
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_IN, 17, T_PUB, 8003, T_R1, 1234, &s), 0);
    ck_assert_uint_eq(s.in_addr, srv);
    ck_assert_uint_eq(s.in_port, 9003);
    nat_destroy(n);
}
END_TEST

START_TEST(forward_tcp_admits_syn_only)
{
    struct nat *n = t_nat(NULL);
    const uint32_t srv = IP4(10, 0, 0, 5);
    struct nat_forward f = fwd(6, T_PUB, 2222, 0, srv, 22);
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    uint8_t b[1500];
    size_t len = t_tcp(b, T_R1, 40000, T_PUB, 2222, 0x10, 0); /* ACK */
    struct nat_result r = t_xlate(n, NAT_DIR_IN, b, len, 1000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_TCP_NOT_SYN);
    len = t_tcp(b, T_R1, 40000, T_PUB, 2222, 0x02, 0); /* SYN */
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, len, 1000).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(b), srv);
    ck_assert_uint_eq(t_dport(b), 22);
    len = t_tcp(b, srv, 22, T_R1, 40000, 0x12, 0); /* SYN+ACK */
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1001).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(b), T_PUB);
    ck_assert_uint_eq(t_sport(b), 2222);
    nat_destroy(n);
}
END_TEST

START_TEST(forward_del_releases_ports)
{
    struct nat *n = t_nat(NULL);
    const uint32_t srv = IP4(10, 0, 0, 5);
    struct nat_forward f = fwd(17, T_PUB, 8000, 8001, srv, 9000);
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    ck_assert_int_eq(nat_forward_del(n, &f), 0);
    uint8_t b[1500];
    size_t len = t_udp(b, T_R1, 1234, T_PUB, 8000, 4);
    struct nat_result r = t_xlate(n, NAT_DIR_IN, b, len, 1000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_NO_MAPPING);
    /* the port is free for dynamic use again (preserved) */
    ck_assert_uint_eq(udp_out(n, T_H1, 8000, T_R1, 53, 1000), 8000);
    nat_destroy(n);
}
END_TEST

START_TEST(one_to_one_add_validates)
{
    struct nat_config c;
    nat_config_init(&c);
    c.max_one_to_one = 2;
    struct nat *n = t_nat(&c);
    const uint32_t ext = IP4(203, 0, 113, 50);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 9), T_PUB),
                     NAT_EEXIST);
    ck_assert_int_eq(nat_one_to_one_add(n, 0, ext), NAT_EINVAL);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 9), 0), NAT_EINVAL);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 9), IP4(224, 1, 1, 1)),
                     NAT_EINVAL);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 9), ext), 0);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 9), ext + 1),
                     NAT_EEXIST);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 10), ext), NAT_EEXIST);
    ck_assert_int_eq(nat_pool_add(n, ext), NAT_EEXIST);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 10), ext + 1), 0);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 11), ext + 2),
                     NAT_ENOSPC);
    ck_assert_int_eq(nat_one_to_one_del(n, IP4(10, 0, 0, 99)), NAT_ENOENT);
    ck_assert_int_eq(nat_one_to_one_del(n, IP4(10, 0, 0, 9)), 0);
    ck_assert_int_eq(nat_one_to_one_del(n, IP4(10, 0, 0, 9)), NAT_ENOENT);
    ck_assert_int_eq(nat_one_to_one_add(n, IP4(10, 0, 0, 11), ext + 2), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(one_to_one_translates_keeping_ports)
{
    struct nat *n = t_nat(NULL);
    const uint32_t in = IP4(10, 0, 0, 9), ext = IP4(203, 0, 113, 50);
    ck_assert_int_eq(nat_one_to_one_add(n, in, ext), 0);
    uint8_t b[1500];

    size_t len = t_udp(b, in, 5555, T_R1, 53, 30);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(b), ext);
    ck_assert_uint_eq(t_sport(b), 5555);
    ck_assert_uint_eq(t_dst(b), T_R1);
    ck_assert_uint_eq(t_dport(b), 53);

    ck_assert_int_eq(udp_in(n, b, T_R1, 53, ext, 5555, 1001), NAT_IN);
    ck_assert_uint_eq(t_dst(b), in);
    ck_assert_uint_eq(t_dport(b), 5555);
    ck_assert_uint_eq(t_src(b), T_R1);
    /* stateless: anything for ext goes to in, ports unchanged */
    ck_assert_int_eq(udp_in(n, b, T_R2, 4444, ext, 7777, 1002), NAT_IN);
    ck_assert_uint_eq(t_dst(b), in);
    ck_assert_uint_eq(t_dport(b), 7777);

    len = t_tcp(b, in, 33333, T_R1, 443, 0x02, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1003).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(b), ext);
    ck_assert_uint_eq(t_sport(b), 33333);

    /* removing the mapping: ext is no longer ours, in is dynamic again */
    ck_assert_int_eq(nat_one_to_one_del(n, in), 0);
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, ext, 5555, 1004), NAT_PASS);
    len = t_udp(b, in, 5555, T_R1, 53, 30);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1005).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(b), T_PUB);
    nat_destroy(n);
}
END_TEST

START_TEST(one_to_one_translates_gre)
{
    struct nat *n = t_nat(NULL);
    const uint32_t in = IP4(10, 0, 0, 9), ext = IP4(203, 0, 113, 50);
    ck_assert_int_eq(nat_one_to_one_add(n, in, ext), 0);
    uint8_t b[1500], orig[1500];

    size_t len = gre_pkt(b, in, T_R1);
    memcpy(orig, b, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(b), ext);
    ck_assert_uint_eq(t_dst(b), T_R1);
    ck_assert_int_eq(memcmp(b + 20, orig + 20, 4), 0); /* GRE untouched */

    len = gre_pkt(b, T_R1, ext);
    memcpy(orig, b, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, len, 1001).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(b), in);
    ck_assert_uint_eq(t_src(b), T_R1);
    ck_assert_int_eq(memcmp(b + 20, orig + 20, 4), 0);

    /* GRE from a dynamic inside host cannot be translated */
    len = gre_pkt(b, T_H1, T_R1);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, b, len, 1002);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_PROTO);
    len = gre_pkt(b, T_R1, T_PUB);
    r = t_xlate(n, NAT_DIR_IN, b, len, 1002);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_PROTO);
    /* GRE for an address that is not ours passes */
    len = gre_pkt(b, T_R1, T_R2);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, len, 1002).verdict, NAT_PASS);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    nat_destroy(n);
}
END_TEST

/* =========================================================================
 * table
 * ========================================================================= */

START_TEST(session_found_from_both_sides)
{
    struct nat *n = t_nat(NULL);
    uint16_t ext = udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    struct nat_session a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, &a), 0);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_IN, 17, T_PUB, ext, T_R1, 53, &b), 0);
    ck_assert(a.id == b.id);
    ck_assert_uint_eq(a.proto, 17);
    ck_assert_uint_eq(a.tcp_state, NAT_TCP_NONE);
    ck_assert_uint_eq(a.in_addr, T_H1);
    ck_assert_uint_eq(a.in_port, 5000);
    ck_assert_uint_eq(a.ext_addr, T_PUB);
    ck_assert_uint_eq(a.ext_port, ext);
    ck_assert_uint_eq(a.rem_addr, T_R1);
    ck_assert_uint_eq(a.rem_port, 53);
    ck_assert_uint_eq(a.last_ms, 1000);
    ck_assert_uint_eq(a.expires_ms, 1000 + 300000);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, NULL), 0);

    /* wrong side, protocol, remote or port */
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_IN, 17, T_H1, 5000, T_R1, 53, &a),
        NAT_ENOENT);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 6, T_H1, 5000, T_R1, 53, &a),
        NAT_ENOENT);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R2, 53, &a),
        NAT_ENOENT);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 54, &a),
        NAT_ENOENT);
    ck_assert_int_eq(nat_session_lookup(n, NAT_DIR_IN, 17, T_PUB,
                                        (uint16_t)(ext + 1), T_R1, 53, &a),
                     NAT_ENOENT);
    nat_destroy(n);
}
END_TEST

START_TEST(session_lookup_icmp_by_identifier)
{
    struct nat *n = t_nat(NULL);
    uint8_t b[1500];
    size_t len = t_icmp_echo(b, T_H1, T_R1, 8, 0x1234, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_OUT);
    uint16_t ext = t_sport(b);
    struct nat_session s;
    /* the remote "port" of an ICMP query session is ignored */
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 1, T_H1, 0x1234, T_R1, 77, &s), 0);
    ck_assert_uint_eq(s.proto, 1);
    ck_assert_uint_eq(s.in_port, 0x1234);
    ck_assert_uint_eq(s.ext_port, ext);
    ck_assert_uint_eq(s.rem_port, 0);
    ck_assert_uint_eq(s.expires_ms, 1000 + 60000);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_IN, 1, T_PUB, ext, T_R1, 0, &s), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(udp_session_expires_at_timeout)
{
    struct nat *n = t_nat(NULL);
    const uint64_t t0 = 5000;
    udp_out(n, T_H1, 5000, T_R1, 53, t0);
    ck_assert_uint_eq(nat_expire(n, t0 + 300000 - 1, 100), 0);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, NULL), 0);
    ck_assert_uint_eq(nat_expire(n, t0 + 300000, 100), 1);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, NULL),
        NAT_ENOENT);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    ck_assert_uint_eq(stats(n).bindings, 0);
    ck_assert_uint_eq(stats(n).ports_held, 1);
    nat_destroy(n);
}
END_TEST

START_TEST(custom_timeout_is_used)
{
    struct nat_config c;
    nat_config_init(&c);
    c.timeout_udp_ms = 1000;
    c.timeout_icmp_ms = 500;
    struct nat *n = t_nat(&c);
    udp_out(n, T_H1, 5000, T_R1, 53, 0);
    echo_out(n, T_H1, T_R1, 7, 0);
    ck_assert_uint_eq(nat_expire(n, 499, 100), 0);
    ck_assert_uint_eq(nat_expire(n, 500, 100), 1);
    ck_assert_uint_eq(nat_session_count(n, 1), 0);
    ck_assert_uint_eq(nat_session_count(n, 17), 1);
    ck_assert_uint_eq(nat_expire(n, 999, 100), 0);
    ck_assert_uint_eq(nat_expire(n, 1000, 100), 1);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(session_refresh_on_use_extends_expiry)
{
    struct nat *n = t_nat(NULL);
    uint16_t ext = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    /* outbound use refreshes */
    udp_out(n, T_H1, 5000, T_R1, 53, 200000);
    ck_assert_uint_eq(nat_expire(n, 300000, 100), 0);
    struct nat_session s;
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, &s), 0);
    ck_assert_uint_eq(s.last_ms, 200000);
    ck_assert_uint_eq(s.expires_ms, 500000);
    /* inbound use refreshes too */
    uint8_t b[1500];
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_PUB, ext, 450000), NAT_IN);
    ck_assert_uint_eq(nat_expire(n, 500000, 100), 0);
    ck_assert_uint_eq(nat_expire(n, 750000 - 1, 100), 0);
    ck_assert_uint_eq(nat_expire(n, 750000, 100), 1);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(expire_budget_bounds_work)
{
    struct nat *n = t_nat(NULL);
    for (uint16_t i = 0; i < 100; i++)
        udp_out(n, T_H1, (uint16_t)(10000 + i), T_R1, 53, 1000);
    ck_assert_uint_eq(nat_session_count(n, 0), 100);
    ck_assert_uint_eq(nat_expire(n, 1000 + 300000, 10), 10);
    ck_assert_uint_eq(nat_session_count(n, 0), 90);
    ck_assert_uint_eq(nat_expire(n, 1000 + 300000, 0), 0);
    ck_assert_uint_eq(nat_session_count(n, 0), 90);
    ck_assert_uint_eq(nat_expire(n, 1000 + 300000, 1000), 90);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    ck_assert_uint_eq(nat_expire(n, 1000 + 300000, 1000), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(translate_expires_a_few_per_call)
{
    /* Each call earns expire_budget units of expiry work; a call spends
     * what was earned, at most 64 * expire_budget (nat_translate(3)). */
    struct nat_config c;
    nat_config_init(&c);
    c.expire_budget = 1;
    struct nat *n = t_nat(&c);
    for (uint16_t i = 0; i < 100; i++)
        udp_out(n, T_H1, (uint16_t)(10000 + i), T_R1, 53, 0);
    udp_out(n, T_H2, 5000, T_R2, 53, 400000);
    ck_assert_uint_eq(nat_session_count(n, 0), 100 - 64 + 1);
    udp_out(n, T_H2, 5000, T_R2, 53, 400001);
    ck_assert_uint_eq(nat_session_count(n, 0), 100 - 64 - 1 + 1);
    nat_destroy(n);
}
END_TEST

START_TEST(eim_binding_shared_by_sessions)
{
    struct nat *n = t_nat(NULL);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    uint16_t e2 = udp_out(n, T_H1, 5000, T_R2, 5353, 1000);
    ck_assert_uint_eq(e1, e2);
    struct nat_stats st = stats(n);
    ck_assert_uint_eq(st.sessions, 2);
    ck_assert_uint_eq(st.bindings, 1);
    ck_assert_uint_eq(st.hosts, 1);
    ck_assert_uint_eq(st.bindings_created, 1);
    uint8_t b[1500];
    ck_assert_int_eq(udp_in(n, b, T_R2, 5353, T_PUB, e1, 1001), NAT_IN);
    ck_assert_uint_eq(t_dst(b), T_H1);
    ck_assert_uint_eq(t_dport(b), 5000);

    /* the binding lives while any of its sessions does */
    ck_assert_int_eq(
        nat_session_delete(n, sess_id(n, 17, T_H1, 5000, T_R1, 53), 2000), 0);
    ck_assert_uint_eq(stats(n).bindings, 1);
    ck_assert_uint_eq(stats(n).ports_held, 0);
    ck_assert_int_eq(
        nat_session_delete(n, sess_id(n, 17, T_H1, 5000, T_R2, 5353), 2000), 0);
    st = stats(n);
    ck_assert_uint_eq(st.bindings, 0);
    ck_assert_uint_eq(st.bindings_ended, 1);
    ck_assert_uint_eq(st.hosts, 0);
    ck_assert_uint_eq(st.ports_held, 1);
    nat_destroy(n);
}
END_TEST

START_TEST(adm_bindings_per_remote_address)
{
    struct nat_config c;
    nat_config_init(&c);
    c.mapping[NAT_P_UDP] = NAT_MAP_AD;
    struct nat *n = t_nat(&c);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    uint16_t e1b = udp_out(n, T_H1, 5000, T_R1, 54, 1000);
    uint16_t e2 = udp_out(n, T_H1, 5000, T_R2, 53, 1000);
    ck_assert_uint_eq(e1, e1b);
    ck_assert_uint_ne(e1, e2);
    ck_assert_uint_eq(stats(n).bindings, 2);
    ck_assert_uint_eq(stats(n).sessions, 3);
    nat_destroy(n);
}
END_TEST

/* A released port stays held for port_hold_ms; a one-port range forces the
 * next inside endpoint onto exactly that port. */
START_TEST(released_port_held_for_hold_time)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_preserve = 1;
    c.port_min = c.port_max = 40000;
    struct nat *n = t_nat(&c);
    ck_assert_uint_eq(udp_out(n, T_H1, 40000, T_R1, 53, 0), 40000);
    ck_assert_uint_eq(nat_expire(n, 300000, 10), 1);
    struct nat_stats st = stats(n);
    ck_assert_uint_eq(st.bindings, 0);
    ck_assert_uint_eq(st.ports_held, 1);

    ck_assert_int_eq(udp_out_drop(n, T_H2, 40000, T_R1, 53, 300000),
                     NAT_R_PORTS);
    ck_assert_int_eq(udp_out_drop(n, T_H2, 40000, T_R1, 53, 300000 + HOLD - 1),
                     NAT_R_PORTS);
    ck_assert_uint_eq(stats(n).ports_held, 1);
    ck_assert_uint_eq(udp_out(n, T_H2, 40000, T_R1, 53, 300000 + HOLD), 40000);
    st = stats(n);
    ck_assert_uint_eq(st.ports_held, 0);
    ck_assert_uint_eq(st.bindings, 1);
    ck_assert_uint_eq(st.drops[NAT_R_PORTS], 2);
    nat_destroy(n);
}
END_TEST

START_TEST(zero_hold_releases_port_at_once)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_hold_ms = 0;
    c.port_min = c.port_max = 40000;
    struct nat *n = t_nat(&c);
    ck_assert_uint_eq(udp_out(n, T_H1, 40000, T_R1, 53, 0), 40000);
    ck_assert_uint_eq(nat_expire(n, 300000, 10), 1);
    ck_assert_uint_eq(stats(n).ports_held, 0);
    ck_assert_uint_eq(udp_out(n, T_H2, 40000, T_R1, 53, 300000), 40000);
    nat_destroy(n);
}
END_TEST

START_TEST(tcp_timeout_class_follows_state)
{
    struct nat *n = t_nat(NULL);
    tcp_syn_out(n, T_H1, 5000, T_R1, 80, 1000);
    struct nat_session s;
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 6, T_H1, 5000, T_R1, 80, &s), 0);
    ck_assert_uint_eq(s.tcp_state, NAT_TCP_SYN_OUT);
    ck_assert_uint_eq(s.expires_ms, 1000 + 240000);
    uint8_t b[1500];
    size_t len = t_tcp(b, T_R1, 80, T_PUB, s.ext_port, 0x12, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, len, 2000).verdict, NAT_IN);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 6, T_H1, 5000, T_R1, 80, &s), 0);
    ck_assert_uint_eq(s.tcp_state, NAT_TCP_ESTABLISHED);
    ck_assert_uint_eq(s.expires_ms, 2000 + 7440000);
    /* established outlives the transitory timeout */
    ck_assert_uint_eq(nat_expire(n, 2000 + 240000, 100), 0);
    ck_assert_uint_eq(nat_session_count(n, 6), 1);
    ck_assert_uint_eq(nat_expire(n, 2000 + 7440000, 100), 1);
    ck_assert_uint_eq(nat_session_count(n, 6), 0);
    nat_destroy(n);
}
END_TEST

/* =========================================================================
 * ports
 * ========================================================================= */

START_TEST(port_preserved_when_free)
{
    struct nat *n = t_nat(NULL);
    ck_assert_uint_eq(udp_out(n, T_H1, 40000, T_R1, 53, 1000), 40000);
    /* protocols have separate port spaces */
    tcp_syn_out(n, T_H1, 40000, T_R1, 80, 1000);
    struct nat_session s;
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 6, T_H1, 40000, T_R1, 80, &s), 0);
    ck_assert_uint_eq(s.ext_port, 40000);
    nat_destroy(n);
}
END_TEST

START_TEST(port_collision_gets_other_port)
{
    struct nat *n = t_nat(NULL);
    ck_assert_uint_eq(udp_out(n, T_H1, 40000, T_R1, 53, 1000), 40000);
    uint16_t p2 = udp_out(n, T_H2, 40000, T_R1, 53, 1000);
    ck_assert_uint_ne(p2, 40000);
    ck_assert_uint_ge(p2, 1024);
    uint16_t p3 = udp_out(n, IP4(10, 0, 0, 4), 40000, T_R1, 53, 1000);
    ck_assert_uint_ne(p3, 40000);
    ck_assert_uint_ne(p3, p2);
    /* each external port leads back to its own inside host */
    uint8_t b[1500];
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_PUB, p2, 1001), NAT_IN);
    ck_assert_uint_eq(t_dst(b), T_H2);
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_PUB, 40000, 1001), NAT_IN);
    ck_assert_uint_eq(t_dst(b), T_H1);
    nat_destroy(n);
}
END_TEST

START_TEST(port_preserve_off_still_unique)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_preserve = 0;
    struct nat *n = t_nat(&c);
    static uint8_t seen[65536];
    memset(seen, 0, sizeof(seen));
    for (uint16_t i = 0; i < 200; i++) {
        uint16_t p = udp_out(n, T_H1, (uint16_t)(20000 + i), T_R1, 53, 1000);
        ck_assert_uint_ge(p, 1024);
        ck_assert_msg(!seen[p], "port %u handed out twice", p);
        seen[p] = 1;
    }
    nat_destroy(n);
}
END_TEST

START_TEST(port_class_kept)
{
    for (int preserve = 0; preserve <= 1; preserve++) {
        struct nat_config c;
        nat_config_init(&c);
        c.port_preserve = (uint8_t)preserve;
        struct nat *n = t_nat(&c);
        uint16_t p = udp_out(n, T_H1, 80, T_R1, 53, 1000);
        ck_assert_uint_lt(p, 1024);
        ck_assert_uint_gt(p, 0);
        if (preserve)
            ck_assert_uint_eq(p, 80);
        p = udp_out(n, T_H2, 80, T_R1, 53, 1000); /* collides */
        ck_assert_uint_lt(p, 1024);
        ck_assert_uint_ne(p, 80);
        p = udp_out(n, T_H1, 1024, T_R1, 53, 1000);
        ck_assert_uint_ge(p, 1024);
        p = udp_out(n, T_H2, 1024, T_R1, 53, 1000);
        ck_assert_uint_ge(p, 1024);
        p = udp_out(n, T_H1, 1023, T_R1, 53, 1000);
        ck_assert_uint_lt(p, 1024);
        nat_destroy(n);
    }
}
END_TEST

START_TEST(port_class_off_allows_high_port)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_class = 0;
    c.port_preserve = 0;
    struct nat *n = t_nat(&c);
    for (uint16_t i = 0; i < 20; i++) {
        uint16_t p = udp_out(n, IP4(10, 0, 0, 10 + i), 80, T_R1, 53, 1000);
        ck_assert_uint_ge(p, 1024);
    }
    nat_destroy(n);
}
END_TEST

START_TEST(port_parity_kept)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_parity = 1;
    c.port_preserve = 0;
    struct nat *n = t_nat(&c);
    for (uint16_t i = 0; i < 500; i++) {
        uint16_t in = (uint16_t)(30000 + i);
        uint16_t p = udp_out(n, T_H1, in, T_R1, 53, 1000);
        ck_assert_uint_eq(p & 1, in & 1);
    }
    /* low ports keep parity within their class too */
    for (uint16_t i = 0; i < 50; i++) {
        uint16_t in = (uint16_t)(100 + i);
        uint16_t p = udp_out(n, T_H2, in, T_R1, 53, 1000);
        ck_assert_uint_eq(p & 1, in & 1);
        ck_assert_uint_lt(p, 1024);
    }
    nat_destroy(n);
}
END_TEST

START_TEST(port_range_respected)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_min = 20000;
    c.port_max = 20099;
    struct nat *n = t_nat(&c);
    static uint8_t seen[65536];
    memset(seen, 0, sizeof(seen));
    /* inside ports outside the range cannot be preserved */
    for (uint16_t i = 0; i < 100; i++) {
        uint16_t p = udp_out(n, T_H1, (uint16_t)(40000 + i), T_R1, 53, 1000);
        ck_assert_uint_ge(p, 20000);
        ck_assert_uint_le(p, 20099);
        ck_assert(!seen[p]);
        seen[p] = 1;
    }
    ck_assert_int_eq(udp_out_drop(n, T_H2, 40000, T_R1, 53, 1000), NAT_R_PORTS);
    nat_destroy(n);
}
END_TEST

START_TEST(port_preserved_inside_range)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_min = 20000;
    c.port_max = 20099;
    struct nat *n = t_nat(&c);
    ck_assert_uint_eq(udp_out(n, T_H1, 20050, T_R1, 53, 1000), 20050);
    uint16_t p = udp_out(n, T_H1, 20100, T_R1, 53, 1000);
    ck_assert(p >= 20000 && p <= 20099 && p != 20050);
    nat_destroy(n);
}
END_TEST

START_TEST(icmp_identifiers_unique)
{
    struct nat *n = t_nat(NULL);
    uint8_t b[1500];
    size_t len = t_icmp_echo(b, T_H1, T_R1, 8, 777, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_OUT);
    uint16_t id1 = t_sport(b);
    ck_assert_uint_eq(id1, 777); /* preserved */
    len = t_icmp_echo(b, T_H2, T_R1, 8, 777, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, b, len, 1000).verdict, NAT_OUT);
    uint16_t id2 = t_sport(b);
    ck_assert_uint_ne(id2, id1);
    ck_assert_uint_ne(id2, 0);
    /* replies reach the right host with the right identifier */
    len = t_icmp_echo(b, T_R1, T_PUB, 0, id2, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, len, 1001).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(b), T_H2);
    ck_assert_uint_eq(t_sport(b), 777);
    nat_destroy(n);
}
END_TEST

START_TEST(port_exhaustion_reports_and_recovers)
{
    struct nat_config c;
    struct evlog log;
    nat_config_init(&c);
    cfg_events(&c, &log);
    c.port_min = 40000;
    c.port_max = 40001;
    struct nat *n = t_nat(&c);
    udp_out(n, T_H1, 40000, T_R1, 53, 0);
    udp_out(n, T_H1, 40001, T_R1, 53, 0);

    ck_assert_int_eq(udp_out_drop(n, T_H2, 5555, T_R2, 5353, 1000),
                     NAT_R_PORTS);
    ck_assert_uint_eq(log.type[NAT_EV_EXHAUSTED], 1);
    const struct nat_event *ev = &log.ev[log.n - 1];
    ck_assert_int_eq(ev->type, NAT_EV_EXHAUSTED);
    ck_assert_int_eq(ev->reason, NAT_R_PORTS);
    ck_assert_uint_eq(ev->proto, 17);
    ck_assert_uint_eq(ev->in_addr, T_H2);
    ck_assert_uint_eq(ev->in_port, 5555);
    ck_assert_uint_eq(ev->rem_addr, T_R2);
    ck_assert_uint_eq(ev->rem_port, 5353);
    ck_assert_uint_eq(ev->ext_addr, 0);
    ck_assert_uint_eq(ev->ext_port, 0);
    ck_assert_uint_eq(ev->now_ms, 1000);
    struct nat_stats st = stats(n);
    ck_assert_uint_eq(st.drops[NAT_R_PORTS], 1);
    ck_assert_uint_eq(st.verdicts[NAT_DROP], 1);
    ck_assert_uint_eq(st.hosts, 1); /* the failed host was not kept */
    /* existing flows are untouched */
    ck_assert_uint_eq(udp_out(n, T_H1, 40000, T_R1, 53, 2000), 40000);

    /* the 40001 flow expires at 300000, its port is free at +HOLD */
    ck_assert_uint_eq(nat_expire(n, 300000, 10), 1);
    ck_assert_int_eq(udp_out_drop(n, T_H2, 5555, T_R2, 5353, 300000),
                     NAT_R_PORTS);
    ck_assert_uint_eq(log.type[NAT_EV_EXHAUSTED], 2);
    ck_assert_uint_eq(udp_out(n, T_H2, 5555, T_R2, 5353, 300000 + HOLD), 40001);
    nat_destroy(n);
}
END_TEST

/* Every port of the 1024-65535 range in use, then a few freed: the search
 * must find exactly those (the 99 %+ occupancy case). */
START_TEST(port_full_range_reuse)
{
    struct nat_config c;
    nat_config_init(&c);
    c.port_preserve = 0; /* force the search path for every allocation */
    c.max_sessions = 65600;
    struct nat *n = t_nat(&c);
    static uint16_t ext_of[65536];
    static uint8_t seen[65536];
    memset(seen, 0, sizeof(seen));
    uint8_t b[1500];
    size_t len0 = t_udp(b, T_H1, 1024, T_R1, 53, 0);

    for (uint32_t port = 1024; port <= 65535; port++) {
        size_t len = t_udp(b, T_H1, (uint16_t)port, T_R1, 53, 0);
        ck_assert_uint_eq(len, len0);
        struct nat_result r = t_xlate(n, NAT_DIR_OUT, b, len, 1000);
        if (r.verdict != NAT_OUT)
            ck_abort_msg("allocation %u failed: reason %s", port,
                         nat_reason_str(r.reason));
        uint16_t p = t_sport(b);
        if (p < 1024 || seen[p])
            ck_abort_msg("bad or duplicate port %u for %u", p, port);
        seen[p] = 1;
        ext_of[port] = p;
    }
    ck_assert_uint_eq(stats(n).bindings, 64512);
    ck_assert_int_eq(udp_out_drop(n, T_H2, 1024, T_R1, 53, 1000), NAT_R_PORTS);

    /* free three ports scattered over the range */
    const uint16_t victims[] = {1024, 33333, 65535};
    uint8_t freed[65536];
    memset(freed, 0, sizeof(freed));
    for (size_t i = 0; i < 3; i++) {
        uint64_t id = sess_id(n, 17, T_H1, victims[i], T_R1, 53);
        ck_assert_int_eq(nat_session_delete(n, id, 2000), 0);
        freed[ext_of[victims[i]]] = 1;
    }
    ck_assert_uint_eq(stats(n).ports_held, 3);
    /* still held */
    ck_assert_int_eq(udp_out_drop(n, T_H2, 1024, T_R1, 53, 2001), NAT_R_PORTS);
    nat_expire(n, 2000 + HOLD, 16);
    ck_assert_uint_eq(stats(n).ports_held, 0);

    for (uint16_t i = 0; i < 3; i++) {
        uint16_t p =
            udp_out(n, T_H2, (uint16_t)(1024 + i), T_R1, 53, 2000 + HOLD);
        ck_assert_msg(freed[p], "port %u was not one of the freed ones", p);
        freed[p] = 0;
    }
    ck_assert_int_eq(udp_out_drop(n, T_H2, 2000, T_R1, 53, 2000 + HOLD),
                     NAT_R_PORTS);
    /* TCP still has its whole space */
    tcp_syn_out(n, T_H2, 2000, T_R1, 80, 2000 + HOLD);
    nat_destroy(n);
}
END_TEST

/* =========================================================================
 * session_api
 * ========================================================================= */

/* 10 UDP, 5 TCP and 3 ICMP sessions. */
static void
mixed_sessions(struct nat *n, uint64_t now)
{
    for (uint16_t i = 0; i < 10; i++)
        udp_out(n, T_H1, (uint16_t)(10000 + i), T_R1, 53, now);
    for (uint16_t i = 0; i < 5; i++)
        tcp_syn_out(n, T_H2, (uint16_t)(20000 + i), T_R2, 443, now);
    for (uint16_t i = 0; i < 3; i++)
        echo_out(n, T_H1, T_R2, (uint16_t)(300 + i), now);
}

START_TEST(session_count_per_proto)
{
    struct nat *n = t_nat(NULL);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    mixed_sessions(n, 1000);
    ck_assert_uint_eq(nat_session_count(n, 17), 10);
    ck_assert_uint_eq(nat_session_count(n, 6), 5);
    ck_assert_uint_eq(nat_session_count(n, 1), 3);
    ck_assert_uint_eq(nat_session_count(n, 0), 18);
    ck_assert_uint_eq(nat_session_count(n, 47), 0);
    ck_assert_uint_eq(stats(n).sessions, 18);
    ck_assert_int_eq(
        nat_session_delete(n, sess_id(n, 6, T_H2, 20000, T_R2, 443), 2000), 0);
    ck_assert_uint_eq(nat_session_count(n, 6), 4);
    ck_assert_uint_eq(nat_session_count(n, 0), 17);
    nat_destroy(n);
}
END_TEST

START_TEST(session_next_iterates_all)
{
    struct nat *n = t_nat(NULL);
    struct nat_session s;
    uint64_t cur = 0;
    ck_assert_int_eq(nat_session_next(n, &cur, &s), 0);

    mixed_sessions(n, 1000);
    size_t seen = 0, per[3] = {0, 0, 0};
    uint64_t ids[32];
    cur = 0;
    while (nat_session_next(n, &cur, &s)) {
        ck_assert_uint_lt(seen, 32);
        for (size_t i = 0; i < seen; i++)
            ck_assert(ids[i] != s.id);
        ids[seen++] = s.id;
        per[s.proto == 6 ? 0 : s.proto == 17 ? 1 : 2]++;
        /* each iterated session is the one lookup finds */
        struct nat_session l;
        ck_assert_int_eq(nat_session_lookup(n, NAT_DIR_OUT, s.proto, s.in_addr,
                                            s.in_port, s.rem_addr, s.rem_port,
                                            &l),
                         0);
        ck_assert(l.id == s.id);
        ck_assert_uint_eq(s.ext_addr, T_PUB);
        ck_assert_uint_eq(s.last_ms, 1000);
    }
    ck_assert_uint_eq(seen, nat_session_count(n, 0));
    ck_assert_uint_eq(per[0], 5);
    ck_assert_uint_eq(per[1], 10);
    ck_assert_uint_eq(per[2], 3);
    /* the end is sticky */
    ck_assert_int_eq(nat_session_next(n, &cur, &s), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(session_delete_during_iteration_safe)
{
    struct nat *n = t_nat(NULL);
    mixed_sessions(n, 1000);
    struct nat_session s;
    uint64_t cur = 0;
    size_t k = 0, deleted = 0;
    while (nat_session_next(n, &cur, &s)) {
        if (k++ % 2 == 0) {
            ck_assert_int_eq(nat_session_delete(n, s.id, 2000), 0);
            deleted++;
        }
    }
    ck_assert_uint_eq(k, 18);
    ck_assert_uint_eq(nat_session_count(n, 0), 18 - deleted);

    size_t left = 0;
    cur = 0;
    while (nat_session_next(n, &cur, &s)) {
        ck_assert_int_eq(nat_session_delete(n, s.id, 2000), 0);
        left++;
    }
    ck_assert_uint_eq(left, 18 - deleted);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    ck_assert_uint_eq(stats(n).bindings, 0);
    cur = 0;
    ck_assert_int_eq(nat_session_next(n, &cur, &s), 0);
    nat_destroy(n);
}
END_TEST

START_TEST(session_delete_by_id)
{
    struct nat_config c;
    struct evlog log;
    nat_config_init(&c);
    cfg_events(&c, &log);
    struct nat *n = t_nat(&c);
    uint16_t ext = udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    udp_out(n, T_H2, 5000, T_R1, 53, 1000);
    uint64_t id = sess_id(n, 17, T_H1, 5000, T_R1, 53);
    ck_assert_int_eq(nat_session_delete(n, id, 1500), 0);
    ck_assert_uint_eq(log.sess_del[NAT_END_DELETED], 1);
    ck_assert_uint_eq(log.bind_del[NAT_END_DELETED], 1);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 17, T_H1, 5000, T_R1, 53, NULL),
        NAT_ENOENT);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_IN, 17, T_PUB, ext, T_R1, 53, NULL),
        NAT_ENOENT);
    ck_assert_uint_eq(nat_session_count(n, 0), 1);
    ck_assert_int_eq(nat_session_delete(n, id, 1500), NAT_ENOENT);
    /* the inbound path no longer maps to it */
    uint8_t b[1500];
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_PUB, ext, 1600), NAT_DROP);

    /* a new session (likely reusing the slot) does not revive the old id */
    udp_out(n, T_H1, 6000, T_R2, 53, 1700);
    uint64_t id2 = sess_id(n, 17, T_H1, 6000, T_R2, 53);
    ck_assert(id2 != id);
    ck_assert_int_eq(nat_session_delete(n, id, 1800), NAT_ENOENT);
    ck_assert_uint_eq(nat_session_count(n, 0), 2);
    ck_assert_int_eq(nat_session_delete(n, UINT64_MAX, 1800), NAT_ENOENT);
    ck_assert_int_eq(nat_session_delete(n, 0xffffffffull, 1800), NAT_ENOENT);
    ck_assert_int_eq(nat_session_delete(n, id2, 1800), 0);
    ck_assert_uint_eq(nat_session_count(n, 0), 1);
    nat_destroy(n);
}
END_TEST

START_TEST(flush_returns_count_and_empties)
{
    struct nat_config c;
    struct evlog log;
    nat_config_init(&c);
    cfg_events(&c, &log);
    struct nat *n = t_nat(&c);
    ck_assert_uint_eq(nat_flush(n, 500), 0);
    mixed_sessions(n, 1000);
    /* plus one ended session whose port is held */
    udp_out(n, T_H2, 9999, T_R1, 53, 1000);
    ck_assert_int_eq(
        nat_session_delete(n, sess_id(n, 17, T_H2, 9999, T_R1, 53), 1000), 0);
    ck_assert_uint_eq(stats(n).ports_held, 1);

    ck_assert_uint_eq(nat_flush(n, 2000), 18);
    struct nat_stats st = stats(n);
    ck_assert_uint_eq(st.sessions, 0);
    ck_assert_uint_eq(st.bindings, 0);
    ck_assert_uint_eq(st.hosts, 0);
    ck_assert_uint_eq(st.ports_held, 0);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    ck_assert_uint_eq(log.sess_del[NAT_END_FLUSHED], 18);
    ck_assert_uint_eq(nat_flush(n, 3000), 0);
    /* every port is free again, including the held one */
    ck_assert_uint_eq(udp_out(n, IP4(10, 0, 0, 77), 9999, T_R1, 53, 3000),
                      9999);
    nat_destroy(n);
}
END_TEST

/* =========================================================================
 * stats_events
 * ========================================================================= */

START_TEST(stats_count_verdicts_and_drops)
{
    struct nat *n = t_nat(NULL);
    struct nat_stats st = stats(n);
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        ck_assert_uint_eq(st.verdicts[v], 0);
    for (int r = 0; r < NAT_R_MAX; r++)
        ck_assert_uint_eq(st.drops[r], 0);

    uint8_t b[1500];
    uint16_t ext = udp_out(n, T_H1, 5000, T_R1, 53, 1000); /* out */
    udp_out(n, T_H1, 5000, T_R1, 53, 1001);                /* out */
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_PUB, ext, 1002), NAT_IN);
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_PUB, 1, 1003), NAT_DROP);
    ck_assert_int_eq(udp_in(n, b, T_R1, 53, T_R2, 1, 1003), NAT_PASS);

    size_t len = t_udp(b, T_H1, 5000, T_R1, 53, 10);
    b[10] ^= 0x5a; /* break the IP header checksum */
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, b, len, 1004);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_IP_CHECKSUM);
    len = t_tcp(b, T_H1, 5001, T_R1, 80, 0x10, 0); /* ACK without session */
    r = t_xlate(n, NAT_DIR_OUT, b, len, 1005);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_TCP_NOT_SYN);

    st = stats(n);
    ck_assert_uint_eq(st.verdicts[NAT_OUT], 2);
    ck_assert_uint_eq(st.verdicts[NAT_IN], 1);
    ck_assert_uint_eq(st.verdicts[NAT_PASS], 1);
    ck_assert_uint_eq(st.verdicts[NAT_DROP], 3);
    ck_assert_uint_eq(st.verdicts[NAT_HAIRPIN], 0);
    ck_assert_uint_eq(st.drops[NAT_R_NO_MAPPING], 1);
    ck_assert_uint_eq(st.drops[NAT_R_IP_CHECKSUM], 1);
    ck_assert_uint_eq(st.drops[NAT_R_TCP_NOT_SYN], 1);
    uint64_t sum = 0;
    for (int i = 0; i < NAT_R_MAX; i++)
        sum += st.drops[i];
    ck_assert_uint_eq(sum, st.verdicts[NAT_DROP]);
    ck_assert_uint_eq(st.drops[NAT_R_NONE], 0);
    ck_assert_uint_eq(st.sessions_created, 1);
    ck_assert_uint_eq(st.bindings_created, 1);
    nat_destroy(n);
}
END_TEST

START_TEST(stats_sessions_peak)
{
    struct nat *n = t_nat(NULL);
    for (uint16_t i = 0; i < 5; i++)
        udp_out(n, T_H1, (uint16_t)(5000 + i), T_R1, 53, 1000);
    for (uint16_t i = 0; i < 3; i++)
        ck_assert_int_eq(
            nat_session_delete(
                n, sess_id(n, 17, T_H1, (uint16_t)(5000 + i), T_R1, 53), 2000),
            0);
    struct nat_stats st = stats(n);
    ck_assert_uint_eq(st.sessions, 2);
    ck_assert_uint_eq(st.sessions_peak, 5);
    ck_assert_uint_eq(st.sessions_created, 5);
    ck_assert_uint_eq(st.sessions_ended, 3);
    ck_assert_uint_eq(st.bindings_created, 5);
    ck_assert_uint_eq(st.bindings_ended, 3);
    ck_assert_uint_eq(st.ports_held, 3);
    udp_out(n, T_H1, 6000, T_R1, 53, 3000);
    ck_assert_uint_eq(stats(n).sessions_peak, 5);
    ck_assert_uint_eq(nat_flush(n, 4000), 3);
    st = stats(n);
    ck_assert_uint_eq(st.sessions_peak, 5);
    ck_assert_uint_eq(st.sessions_created, 6);
    ck_assert_uint_eq(st.sessions_ended, 6);
    nat_destroy(n);
}
END_TEST

static void
expect_event(const struct nat_event *ev, enum nat_event_type type,
             enum nat_end_cause cause, uint64_t now, uint32_t rem,
             uint16_t remp)
{
    ck_assert_int_eq(ev->type, type);
    ck_assert_int_eq(ev->cause, cause);
    ck_assert_int_eq(ev->reason, NAT_R_NONE);
    ck_assert_uint_eq(ev->now_ms, now);
    ck_assert_uint_eq(ev->proto, 17);
    ck_assert_uint_eq(ev->in_addr, T_H1);
    ck_assert_uint_eq(ev->in_port, 5000);
    ck_assert_uint_eq(ev->ext_addr, T_PUB);
    ck_assert_uint_eq(ev->ext_port, 5000);
    ck_assert_uint_eq(ev->rem_addr, rem);
    ck_assert_uint_eq(ev->rem_port, remp);
}

START_TEST(events_binding_and_session_lifecycle)
{
    struct nat_config c;
    struct evlog log;
    nat_config_init(&c);
    cfg_events(&c, &log);
    struct nat *n = t_nat(&c);
    ck_assert_uint_eq(udp_out(n, T_H1, 5000, T_R1, 53, 1000), 5000);
    ck_assert_uint_eq(log.n, 2);
    expect_event(&log.ev[0], NAT_EV_BINDING_CREATE, NAT_END_NONE, 1000, 0, 0);
    expect_event(&log.ev[1], NAT_EV_SESSION_CREATE, NAT_END_NONE, 1000, T_R1,
                 53);
    /* a packet on an existing session makes no event */
    udp_out(n, T_H1, 5000, T_R1, 53, 2000);
    ck_assert_uint_eq(log.n, 2);

    ck_assert_uint_eq(nat_expire(n, 2000 + 300000, 10), 1);
    ck_assert_uint_eq(log.n, 4);
    expect_event(&log.ev[2], NAT_EV_SESSION_DELETE, NAT_END_EXPIRED,
                 2000 + 300000, T_R1, 53);
    expect_event(&log.ev[3], NAT_EV_BINDING_DELETE, NAT_END_EXPIRED,
                 2000 + 300000, 0, 0);
    /* the end of the port hold is not an event */
    nat_expire(n, 2000 + 300000 + HOLD, 10);
    ck_assert_uint_eq(log.n, 4);
    nat_destroy(n);
    ck_assert_uint_eq(log.n, 4);
}
END_TEST

START_TEST(events_limits_report_exhaustion)
{
    struct nat_config c;
    struct evlog log;
    nat_config_init(&c);
    cfg_events(&c, &log);
    c.max_sessions = 3;
    c.host_max_sessions = 2;
    c.host_max_ports = 1;
    struct nat *n = t_nat(&c);
    udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    ck_assert_int_eq(udp_out_drop(n, T_H1, 5001, T_R1, 53, 1000),
                     NAT_R_HOST_PORTS);
    udp_out(n, T_H1, 5000, T_R2, 53, 1000); /* same binding: allowed */
    ck_assert_int_eq(
        udp_out_drop(n, T_H1, 5000, IP4(198, 51, 100, 30), 53, 1000),
        NAT_R_HOST_SESSIONS);
    udp_out(n, T_H2, 5000, T_R1, 53, 1000);
    ck_assert_int_eq(udp_out_drop(n, IP4(10, 0, 0, 4), 5000, T_R1, 53, 1000),
                     NAT_R_TABLE_FULL);
    ck_assert_uint_eq(log.type[NAT_EV_EXHAUSTED], 3);
    size_t k = 0;
    const enum nat_reason want[] = {NAT_R_HOST_PORTS, NAT_R_HOST_SESSIONS,
                                    NAT_R_TABLE_FULL};
    for (size_t i = 0; i < log.n; i++)
        if (log.ev[i].type == NAT_EV_EXHAUSTED)
            ck_assert_int_eq(log.ev[i].reason, want[k++]);
    struct nat_stats st = stats(n);
    ck_assert_uint_eq(st.drops[NAT_R_HOST_PORTS], 1);
    ck_assert_uint_eq(st.drops[NAT_R_HOST_SESSIONS], 1);
    ck_assert_uint_eq(st.drops[NAT_R_TABLE_FULL], 1);
    ck_assert_uint_eq(st.sessions, 3);
    ck_assert_uint_eq(st.hosts, 2);
    nat_destroy(n);
}
END_TEST

START_TEST(verdict_str_names)
{
    ck_assert_str_eq(nat_verdict_str(NAT_DROP), "drop");
    ck_assert_str_eq(nat_verdict_str(NAT_OUT), "out");
    ck_assert_str_eq(nat_verdict_str(NAT_IN), "in");
    ck_assert_str_eq(nat_verdict_str(NAT_HAIRPIN), "hairpin");
    ck_assert_str_eq(nat_verdict_str(NAT_PASS), "pass");
    ck_assert_str_eq(nat_verdict_str(NAT_HELD), "held");
    ck_assert_str_eq(nat_verdict_str(NAT_VERDICT_MAX), "unknown");
    ck_assert_str_eq(nat_verdict_str((enum nat_verdict) - 1), "unknown");
}
END_TEST

START_TEST(translate_rejects_bad_buffer)
{
    struct nat *n = t_nat(NULL);
    uint8_t b[1500], orig[1500];
    size_t len = t_udp(b, T_H1, 5000, T_R1, 53, 10);
    memcpy(orig, b, len);
    /* the packet in a heap block of exactly len bytes: every refusal below
     * happens before any access past it (ASan would see one) */
    uint8_t *h = malloc(len);
    ck_assert_ptr_nonnull(h);
    memcpy(h, b, len);
    size_t l = len;
    struct nat_result r = nat_translate(n, NAT_DIR_OUT, NULL, &l, 1500, 1000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_BUFFER);
    r = nat_translate(n, NAT_DIR_OUT, h, NULL, len, 1000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_BUFFER);
    /* cap below len */
    l = len;
    r = nat_translate(n, NAT_DIR_OUT, h, &l, len - 1, 1000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_BUFFER);
    ck_assert_uint_eq(l, len);
    ck_assert_int_eq(memcmp(h, orig, len), 0);
    free(h);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    ck_assert_uint_eq(stats(n).drops[NAT_R_BUFFER], 3);
    /* cap == len is fine (an exact-size heap copy: ASan sees the edge) */
    l = len;
    r = t_translate(n, NAT_DIR_OUT, b, &l, 1000);
    ck_assert_int_eq(r.verdict, NAT_OUT);
    ck_assert(t_csums_ok(b, len));
    nat_destroy(n);
}
END_TEST

START_TEST(translate_rejects_bad_direction)
{
    struct nat *n = t_nat(NULL);
    uint8_t b[1500], orig[1500];
    size_t len = t_udp(b, T_H1, 5000, T_R1, 53, 10);
    memcpy(orig, b, len);
    size_t l = len; /* exact-size heap copies (cap == len) */
    struct nat_result r = t_translate(n, (enum nat_dir)2, b, &l, 1000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_DIRECTION);
    r = t_translate(n, (enum nat_dir) - 1, b, &l, 1000);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_DIRECTION);
    ck_assert_int_eq(memcmp(b, orig, len), 0);
    ck_assert_uint_eq(stats(n).drops[NAT_R_DIRECTION], 2);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    nat_destroy(n);
}
END_TEST

/* The burst entry point gives each packet nat_translate()'s result (its
 * rewritten packets are checked with the same full recomputation as
 * t_xlate()). */
START_TEST(burst_matches_single_translation)
{
    struct nat *n = t_nat(NULL);
    static uint8_t bufs[4][1500];
    struct nat_pkt_io io[4];
    memset(io, 0, sizeof(io));
    io[0].len = t_udp(bufs[0], T_H1, 5000, T_R1, 53, 10);
    io[0].dir = NAT_DIR_OUT;
    io[1].len = t_udp(bufs[1], IP4(10, 0, 1, 1), 5000, T_R1, 53, 10);
    io[1].dir = NAT_DIR_OUT; /* not inside: pass */
    io[2].len = t_udp(bufs[2], T_R1, 53, T_PUB, 5000, 10);
    io[2].dir = NAT_DIR_IN; /* reply to packet 0 */
    io[3].len = t_udp(bufs[3], T_R2, 53, T_PUB, 5000, 10);
    io[3].dir = NAT_DIR_IN; /* filtered (address-dependent) */
    for (int i = 0; i < 4; i++) {
        io[i].buf = bufs[i];
        io[i].cap = sizeof(bufs[i]);
    }
    ck_assert_uint_eq(t_translate_burst(n, io, 4, 1000), 3);
    ck_assert_int_eq(io[0].res.verdict, NAT_OUT);
    ck_assert(t_csums_ok(bufs[0], io[0].len));
    ck_assert_uint_eq(t_src(bufs[0]), T_PUB);
    ck_assert_int_eq(io[1].res.verdict, NAT_PASS);
    ck_assert_int_eq(io[2].res.verdict, NAT_IN);
    ck_assert(t_csums_ok(bufs[2], io[2].len));
    ck_assert_uint_eq(t_dst(bufs[2]), T_H1);
    ck_assert_int_eq(io[3].res.verdict, NAT_DROP);
    ck_assert_int_eq(io[3].res.reason, NAT_R_FILTERED);
    ck_assert_uint_eq(t_translate_burst(n, io, 0, 1000), 0);
    nat_destroy(n);
}
END_TEST

/* Bursts are an optimisation only: over a random mix of new flows,
 * replies, unknown inbound traffic and TCP, 32-packet bursts give every
 * packet the verdict, reason and bytes that one-by-one translation gives,
 * even when a packet depends on one earlier in the same burst. */
START_TEST(burst_equals_sequential_random)
{
    struct nat *a = t_nat(NULL), *b = t_nat(NULL);
    static uint8_t pa[2048][64], pb[2048][64];
    struct nat_pkt_io io[32];
    t_srand(77);
    for (int round = 0; round < 64; round++) {
        for (int i = 0; i < 32; i++) {
            uint64_t r = t_rand();
            uint32_t h = IP4(10, 0, 0, 2 + (r & 7));
            uint16_t hp = (uint16_t)(4000 + ((r >> 3) & 15));
            uint32_t rem = IP4(198, 51, 100, 1 + ((r >> 7) & 3));
            uint16_t ext = (uint16_t)(4000 + ((r >> 9) & 15));
            uint8_t *p = pa[round * 32 + i];
            size_t len;
            enum nat_dir dir = (r >> 13) & 1 ? NAT_DIR_IN : NAT_DIR_OUT;
            int tcp = (r >> 14) & 1;
            if (dir == NAT_DIR_OUT)
                len = tcp ? t_tcp(p, h, hp, rem, 80,
                                  (r >> 15) & 1 ? 0x02 : 0x10, 0)
                          : t_udp(p, h, hp, rem, 53, 4);
            else
                len = tcp ? t_tcp(p, rem, 80, T_PUB, ext,
                                  (r >> 15) & 1 ? 0x12 : 0x10, 0)
                          : t_udp(p, rem, 53, T_PUB, ext, 4);
            memcpy(pb[round * 32 + i], p, 64);
            io[i].buf = pb[round * 32 + i];
            io[i].len = len;
            io[i].cap = 64;
            io[i].dir = dir;
        }
        t_translate_burst(b, io, 32, (uint64_t)round * 1000);
        for (int i = 0; i < 32; i++) {
            size_t len = io[i].len;
            struct nat_result r = t_translate(a, io[i].dir, pa[round * 32 + i],
                                              &len, (uint64_t)round * 1000);
            ck_assert_int_eq(r.verdict, io[i].res.verdict);
            ck_assert_int_eq(r.reason, io[i].res.reason);
            ck_assert_mem_eq(pa[round * 32 + i], pb[round * 32 + i], 64);
        }
    }
    ck_assert_uint_eq(nat_session_count(a, 0), nat_session_count(b, 0));
    nat_destroy(a);
    nat_destroy(b);
}
END_TEST

/* A NULL instance is refused by every function, never dereferenced. */
START_TEST(null_instance_is_refused)
{
    struct nat_forward fw = {.proto = 6,
                             .ext_addr = T_PUB,
                             .ext_port = 80,
                             .in_addr = T_H1,
                             .in_port = 80};
    struct nat_session s;
    struct nat_stats st;
    struct nat_result r;
    uint64_t cur = 0;
    uint8_t b[64];
    size_t len = 0;
    ck_assert_int_eq(nat_pool_add(NULL, T_PUB), NAT_EINVAL);
    ck_assert_int_eq(nat_pool_del(NULL, T_PUB), NAT_EINVAL);
    ck_assert_int_eq(nat_inside_add(NULL, IP4(10, 0, 0, 0), 8), NAT_EINVAL);
    ck_assert_int_eq(nat_inside_del(NULL, IP4(10, 0, 0, 0), 8), NAT_EINVAL);
    ck_assert_int_eq(nat_exclude_add(NULL, IP4(10, 0, 0, 0), 8), NAT_EINVAL);
    ck_assert_int_eq(nat_exclude_del(NULL, IP4(10, 0, 0, 0), 8), NAT_EINVAL);
    ck_assert_int_eq(nat_forward_add(NULL, &fw), NAT_EINVAL);
    ck_assert_int_eq(nat_forward_del(NULL, &fw), NAT_EINVAL);
    ck_assert_int_eq(nat_one_to_one_add(NULL, T_H1, T_PUB2), NAT_EINVAL);
    ck_assert_int_eq(nat_one_to_one_del(NULL, T_H1), NAT_EINVAL);
    ck_assert_int_eq(
        nat_session_lookup(NULL, NAT_DIR_OUT, 17, T_H1, 1, T_R1, 2, &s),
        NAT_ENOENT);
    ck_assert_int_eq(nat_session_next(NULL, &cur, &s), 0);
    ck_assert_int_eq(nat_session_delete(NULL, 0, 0), NAT_ENOENT);
    ck_assert_uint_eq(nat_session_count(NULL, 0), 0);
    ck_assert_uint_eq(nat_expire(NULL, 0, 10), 0);
    ck_assert_uint_eq(nat_flush(NULL, 0), 0);
    nat_stats_get(NULL, &st);
    ck_assert_int_eq(t_frag_collect(NULL, b, sizeof(b), &len, &r), NAT_EINVAL);
    ck_assert_uint_eq(nat_translate_burst(NULL, NULL, 0, 0), 0);
    r = t_translate(NULL, NAT_DIR_OUT, b, &len, 0);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    nat_destroy(NULL);
}
END_TEST

/* =========================================================================
 * Regressions: library bugs found by this suite, fixed in lib/translate.c.
 * ========================================================================= */

/* BUG 1 (lib/translate.c, nat_in()): an inbound packet for a static forward
 * with no binding yet creates the binding (create_forward_in()) *before*
 * the session-table-full and per-host session limit checks. When either
 * check then drops the packet, the new binding is left live with no
 * session: nothing ever ends it (bind_end() runs only when a session ends),
 * nat_flush() does not remove it, and its pool address stays NAT_EBUSY. */
START_TEST(bug_forward_drop_leaks_binding)
{
    struct nat_config c;
    nat_config_init(&c);
    c.host_max_sessions = 1;
    struct nat *n = t_nat(&c);
    const uint32_t srv = IP4(10, 0, 0, 5);
    struct nat_forward f = fwd(17, T_PUB, 8000, 0, srv, 9000);
    ck_assert_int_eq(nat_forward_add(n, &f), 0);
    udp_out(n, srv, 5000, T_R1, 53, 1000); /* srv uses its one session */
    uint8_t b[1500];
    ck_assert_int_eq(udp_in(n, b, T_R2, 1234, T_PUB, 8000, 1000), NAT_DROP);
    /* only the outbound flow's binding may exist */
    ck_assert_uint_eq(stats(n).bindings, 1);
    ck_assert_uint_eq(nat_flush(n, 2000), 1);
    struct nat_stats st = stats(n);
    ck_assert_uint_eq(st.bindings, 0);
    ck_assert_uint_eq(st.hosts, 0);
    ck_assert_int_eq(nat_forward_del(n, &f), 0);
    ck_assert_int_eq(nat_pool_del(n, T_PUB), 0);
    nat_destroy(n);
}
END_TEST

/* BUG 2 (lib/translate.c, exhausted()): the NAT_EV_EXHAUSTED event always
 * reports the packet's source as the inside endpoint and its destination
 * as the remote. For an inbound packet that is backwards: the remote host
 * is reported as in_addr/in_port and our own external address as
 * rem_addr/rem_port. */
START_TEST(bug_inbound_exhaustion_event_endpoints)
{
    struct nat_config c;
    struct evlog log;
    nat_config_init(&c);
    cfg_events(&c, &log);
    c.filtering[NAT_P_UDP] = NAT_FILTER_EI;
    c.host_max_sessions = 1;
    struct nat *n = t_nat(&c);
    uint16_t ext = udp_out(n, T_H1, 5000, T_R1, 53, 1000);
    uint8_t b[1500];
    ck_assert_int_eq(udp_in(n, b, T_R2, 4444, T_PUB, ext, 1001), NAT_DROP);
    ck_assert_uint_eq(log.type[NAT_EV_EXHAUSTED], 1);
    const struct nat_event *ev = &log.ev[log.n - 1];
    ck_assert_int_eq(ev->type, NAT_EV_EXHAUSTED);
    ck_assert_int_eq(ev->reason, NAT_R_HOST_SESSIONS);
    ck_assert_uint_eq(ev->in_addr, T_H1);
    ck_assert_uint_eq(ev->in_port, 5000);
    ck_assert_uint_eq(ev->rem_addr, T_R2);
    ck_assert_uint_eq(ev->rem_port, 4444);
    nat_destroy(n);
}
END_TEST

static void
add_regressions(Suite *s)
{
    TCase *tc = tcase_create("regressions");
    tcase_add_test(tc, bug_forward_drop_leaks_binding);
    tcase_add_test(tc, bug_inbound_exhaustion_event_endpoints);
    suite_add_tcase(s, tc);
}

/* ---- suite --------------------------------------------------------------- */

Suite *
nat_suite(void)
{
    Suite *s = suite_create("nat");

    TCase *tc = tcase_create("config");
    tcase_add_test(tc, config_init_defaults);
    tcase_add_test(tc, config_check_names_bad_field);
    tcase_add_test(tc, config_check_reports_first_bad_field);
    tcase_add_test(tc, config_check_accepts_edges);
    tcase_add_test(tc, create_rejects_null_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_test(tc, memsize_grows_with_max_sessions);
    tcase_add_test(tc, create_in_caller_memory_works);
    tcase_add_test(tc, create_in_rejects_small_buffer);
    tcase_add_test(tc, create_in_rejects_misaligned_memory);
    tcase_add_test(tc, create_in_rejects_bad_arguments);
    tcase_add_test(tc, destroy_null_is_noop);
    tcase_add_test(tc, destroy_flushes_with_events);
    suite_add_tcase(s, tc);

    tc = tcase_create("rules");
    tcase_add_test(tc, pool_add_del_errors);
    tcase_add_test(tc, pool_del_busy_while_bound);
    tcase_add_test(tc, pool_del_busy_until_port_hold_ends);
    tcase_add_test(tc, prefix_add_del_errors);
    tcase_add_test(tc, excluded_destination_passes_untouched);
    tcase_add_test(tc, non_inside_source_passes_untouched);
    tcase_add_test(tc, forward_add_validates);
    tcase_add_test(tc, forward_add_busy_port_held_by_binding);
    tcase_add_test(tc, forward_range_maps_port_offsets);
    tcase_add_test(tc, forward_tcp_admits_syn_only);
    tcase_add_test(tc, forward_del_releases_ports);
    tcase_add_test(tc, one_to_one_add_validates);
    tcase_add_test(tc, one_to_one_translates_keeping_ports);
    tcase_add_test(tc, one_to_one_translates_gre);
    suite_add_tcase(s, tc);

    tc = tcase_create("table");
    tcase_add_test(tc, session_found_from_both_sides);
    tcase_add_test(tc, session_lookup_icmp_by_identifier);
    tcase_add_test(tc, udp_session_expires_at_timeout);
    tcase_add_test(tc, custom_timeout_is_used);
    tcase_add_test(tc, session_refresh_on_use_extends_expiry);
    tcase_add_test(tc, expire_budget_bounds_work);
    tcase_add_test(tc, translate_expires_a_few_per_call);
    tcase_add_test(tc, eim_binding_shared_by_sessions);
    tcase_add_test(tc, adm_bindings_per_remote_address);
    tcase_add_test(tc, released_port_held_for_hold_time);
    tcase_add_test(tc, zero_hold_releases_port_at_once);
    tcase_add_test(tc, tcp_timeout_class_follows_state);
    suite_add_tcase(s, tc);

    tc = tcase_create("ports");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, port_preserved_when_free);
    tcase_add_test(tc, port_collision_gets_other_port);
    tcase_add_test(tc, port_preserve_off_still_unique);
    tcase_add_test(tc, port_class_kept);
    tcase_add_test(tc, port_class_off_allows_high_port);
    tcase_add_test(tc, port_parity_kept);
    tcase_add_test(tc, port_range_respected);
    tcase_add_test(tc, port_preserved_inside_range);
    tcase_add_test(tc, icmp_identifiers_unique);
    tcase_add_test(tc, port_exhaustion_reports_and_recovers);
    tcase_add_test(tc, port_full_range_reuse);
    suite_add_tcase(s, tc);

    tc = tcase_create("session_api");
    tcase_add_test(tc, session_count_per_proto);
    tcase_add_test(tc, session_next_iterates_all);
    tcase_add_test(tc, session_delete_during_iteration_safe);
    tcase_add_test(tc, session_delete_by_id);
    tcase_add_test(tc, flush_returns_count_and_empties);
    suite_add_tcase(s, tc);

    tc = tcase_create("stats_events");
    tcase_add_test(tc, stats_count_verdicts_and_drops);
    tcase_add_test(tc, stats_sessions_peak);
    tcase_add_test(tc, events_binding_and_session_lifecycle);
    tcase_add_test(tc, events_limits_report_exhaustion);
    tcase_add_test(tc, verdict_str_names);
    tcase_add_test(tc, translate_rejects_bad_buffer);
    tcase_add_test(tc, translate_rejects_bad_direction);
    tcase_add_test(tc, burst_matches_single_translation);
    tcase_add_test(tc, burst_equals_sequential_random);
    tcase_add_test(tc, null_instance_is_refused);
    suite_add_tcase(s, tc);
    add_regressions(s);
    return s;
}
