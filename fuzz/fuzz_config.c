/*
 * Fuzz target: the configuration and rule API as random call sequences.
 *
 * The first bytes fill a config (small capacities, sometimes invalid
 * fields): nat_config_check, nat_memsize, nat_create and nat_create_in
 * must agree. Then each op adds or removes a pool address, prefix,
 * forward or 1:1 mapping from small sets, sends a packet, iterates,
 * looks up, deletes, expires or flushes (packets are handed over in heap
 * blocks of exactly their length). A shadow model checks the rule
 * return codes; after every op the session counts must equal what
 * iteration finds, and every event balance must match the live numbers.
 */
#include "config.h"

#include "fuzz.h"
#include "libnat.h"

static const uint32_t ADDRS[8] = {
    FZ_IP4(203, 0, 113, 1),  FZ_IP4(203, 0, 113, 2), FZ_IP4(203, 0, 113, 3),
    FZ_IP4(198, 51, 100, 1), FZ_IP4(10, 0, 0, 2),    FZ_IP4(10, 0, 0, 3),
    FZ_IP4(127, 0, 0, 1),    0,
};
static const uint32_t PREFIXES[6] = {
    FZ_IP4(10, 0, 0, 0), FZ_IP4(10, 0, 0, 0), FZ_IP4(10, 0, 1, 0),
    FZ_IP4(10, 0, 0, 2), FZ_IP4(0, 0, 0, 0),  FZ_IP4(10, 0, 0, 1),
};
static const uint8_t PLENS[6] = {24, 16, 24, 32, 0, 24};

struct counters {
    long sess, bind;
};

static void
on_event(const struct nat_event *ev, void *arg)
{
    struct counters *c = arg;
    switch (ev->type) {
    case NAT_EV_SESSION_CREATE: c->sess++; break;
    case NAT_EV_SESSION_DELETE: c->sess--; break;
    case NAT_EV_BINDING_CREATE: c->bind++; break;
    case NAT_EV_BINDING_DELETE: c->bind--; break;
    case NAT_EV_EXHAUSTED:
        FZ_ASSERT(ev->reason > NAT_R_NONE && ev->reason < NAT_R_MAX);
        break;
    default:
        FZ_ASSERT(!"unknown event type");
    }
}

/* Shadow model of the rules that have simple semantics. */
struct shadow {
    uint8_t pool[8];
    uint8_t o2o[8]; /* by inside address index: external index + 1 */
    uint8_t inside[6], exclude[6];
};

static int
o2o_ext_used(const struct shadow *sh, uint32_t ai)
{
    for (int i = 0; i < 8; i++)
        if (sh->o2o[i] == ai + 1)
            return 1;
    return 0;
}

static int
addr_valid(uint32_t a)
{
    uint8_t top = (uint8_t)(a >> 24);
    return a != 0 && top != 127 && top < 224;
}

/* A session past its deadline is gone for nat_session_lookup() but still
 * listed until expiry reaches it (nat_session_lookup(3)); the instance's
 * clock is at most @now, so one with expires_ms > @now must be found. */
static void
check_invariants(struct nat *n, const struct counters *ev, uint32_t cap,
                 uint64_t now)
{
    size_t by_proto[3] = {0, 0, 0}, total = 0;
    uint64_t cur = 0;
    struct nat_session s;
    while (nat_session_next(n, &cur, &s)) {
        FZ_ASSERT(s.proto == 6 || s.proto == 17 || s.proto == 1);
        by_proto[s.proto == 6 ? 0 : s.proto == 17 ? 1 : 2]++;
        total++;
        FZ_ASSERT(total <= cap);
        struct nat_session l;
        int out = nat_session_lookup(n, NAT_DIR_OUT, s.proto, s.in_addr,
                                     s.in_port, s.rem_addr, s.rem_port, &l);
        FZ_ASSERT(out == 0 ? l.id == s.id
                           : out == NAT_ENOENT && s.expires_ms <= now);
        int in = nat_session_lookup(n, NAT_DIR_IN, s.proto, s.ext_addr,
                                    s.ext_port, s.rem_addr, s.rem_port, &l);
        FZ_ASSERT(in == 0 ? l.id == s.id
                          : in == NAT_ENOENT && s.expires_ms <= now);
        FZ_ASSERT(in == out);
    }
    FZ_ASSERT(nat_session_count(n, 0) == total);
    FZ_ASSERT(nat_session_count(n, 6) == by_proto[0]);
    FZ_ASSERT(nat_session_count(n, 17) == by_proto[1]);
    FZ_ASSERT(nat_session_count(n, 1) == by_proto[2]);
    FZ_ASSERT(nat_session_count(n, 47) == 0);
    struct nat_stats st;
    nat_stats_get(n, &st);
    FZ_ASSERT(st.sessions == total);
    FZ_ASSERT(st.sessions_created - st.sessions_ended == total);
    FZ_ASSERT(st.bindings_created - st.bindings_ended == st.bindings);
    FZ_ASSERT((long)total == ev->sess && (long)st.bindings == ev->bind);
    FZ_ASSERT(st.sessions_peak >= st.sessions);
}

/* A valid packet from small sets of endpoints. */
static size_t
make_packet(struct fz *f, uint8_t *buf, enum nat_dir *dir)
{
    uint8_t k = fz_u8(f);
    *dir = (k & 1) ? NAT_DIR_IN : NAT_DIR_OUT;
    uint32_t in = FZ_IP4(10, 0, 0, 2 + (k >> 1 & 1));
    uint32_t rem = FZ_IP4(198, 51, 100, 10 + (k >> 2 & 1));
    uint32_t ext = ADDRS[k >> 3 & 3];
    uint16_t p1 = (uint16_t)(1000 + (fz_u8(f) & 7));
    uint16_t p2 = (uint16_t)(80 + (k >> 5 & 1));
    uint32_t s = *dir == NAT_DIR_OUT ? in : rem;
    uint32_t d = *dir == NAT_DIR_OUT ? rem : ext;
    uint16_t sp = *dir == NAT_DIR_OUT ? p1 : p2;
    uint16_t dp = *dir == NAT_DIR_OUT ? p2 : p1;
    switch (k >> 6) {
    case 0:
        return ref_udp(buf, s, sp, d, dp, 4);
    case 1:
        return ref_tcp(buf, s, sp, d, dp, 0x02, 0);
    case 2:
        return ref_tcp(buf, s, sp, d, dp, 0x10, 0);
    default:
        return ref_icmp_query(buf, s, d, *dir == NAT_DIR_OUT ? 8 : 0, p1, 4);
    }
}

static void
rule_op(struct nat *n, struct fz *f, uint8_t op, struct shadow *sh)
{
    uint8_t a = fz_u8(f);
    uint32_t ai = a & 7, bi = a >> 3 & 7;
    uint32_t addr = ADDRS[ai];
    int rc;
    switch (op) {
    case 0: /* pool add */
        rc = nat_pool_add(n, addr);
        if (!addr_valid(addr))
            FZ_ASSERT(rc == NAT_EINVAL);
        else if (sh->pool[ai] || o2o_ext_used(sh, ai))
            FZ_ASSERT(rc == NAT_EEXIST);
        else if (rc == 0)
            sh->pool[ai] = 1;
        else
            FZ_ASSERT(rc == NAT_ENOSPC);
        break;
    case 1: /* pool del */
        rc = nat_pool_del(n, addr);
        if (!sh->pool[ai])
            FZ_ASSERT(rc == NAT_ENOENT);
        else if (rc == 0)
            sh->pool[ai] = 0;
        else
            FZ_ASSERT(rc == NAT_EBUSY);
        break;
    case 2: /* inside add / del */
    case 3: {
        uint32_t pi = ai % 6;
        int add = (a >> 7) == 0;
        uint8_t *set = op == 2 ? sh->inside : sh->exclude;
        if (add)
            rc = op == 2 ? nat_inside_add(n, PREFIXES[pi], PLENS[pi])
                         : nat_exclude_add(n, PREFIXES[pi], PLENS[pi]);
        else
            rc = op == 2 ? nat_inside_del(n, PREFIXES[pi], PLENS[pi])
                         : nat_exclude_del(n, PREFIXES[pi], PLENS[pi]);
        int hostbits = (PREFIXES[pi] & ~(PLENS[pi] ? UINT32_MAX
                                                         << (32 - PLENS[pi])
                                                   : 0)) != 0;
        if (add) {
            if (hostbits)
                FZ_ASSERT(rc == NAT_EINVAL);
            else if (set[pi])
                FZ_ASSERT(rc == NAT_EEXIST);
            else if (rc == 0)
                set[pi] = 1;
            else
                FZ_ASSERT(rc == NAT_ENOSPC);
        } else {
            FZ_ASSERT(rc == (set[pi] ? 0 : NAT_ENOENT) ||
                      (hostbits && rc == NAT_ENOENT));
            set[pi] = 0;
        }
        break;
    }
    case 4: /* forward add */
    case 5: { /* forward del */
        struct nat_forward fw;
        memset(&fw, 0, sizeof(fw));
        uint8_t b = fz_u8(f);
        fw.proto = (b & 3) == 0 ? 6 : (b & 3) == 1 ? 17 : (b & 3) == 2 ? 1 : 6;
        fw.ext_addr = addr;
        fw.ext_port = (uint16_t)(1000 + (b >> 2 & 7));
        fw.ext_port_last = (b & 0x20) ? (uint16_t)(fw.ext_port + 3) : 0;
        fw.in_addr = ADDRS[bi];
        fw.in_port = (b & 0x40) ? 65534 : 8080;
        rc = op == 4 ? nat_forward_add(n, &fw) : nat_forward_del(n, &fw);
        FZ_ASSERT(rc <= 0 && rc >= NAT_ERANGE);
        if (rc == 0 && op == 4) {
            /* The same forward twice overlaps itself. */
            FZ_ASSERT(nat_forward_add(n, &fw) == NAT_EEXIST);
        }
        break;
    }
    case 6: /* 1:1 add */
        rc = nat_one_to_one_add(n, ADDRS[bi], addr);
        if (!addr_valid(addr) || !addr_valid(ADDRS[bi]))
            FZ_ASSERT(rc == NAT_EINVAL);
        else if (sh->o2o[bi] || o2o_ext_used(sh, ai) || sh->pool[ai])
            FZ_ASSERT(rc == NAT_EEXIST);
        else if (rc == 0)
            sh->o2o[bi] = (uint8_t)(ai + 1);
        else
            FZ_ASSERT(rc == NAT_ENOSPC);
        break;
    default: /* 1:1 del by inside address */
        rc = nat_one_to_one_del(n, ADDRS[bi]);
        FZ_ASSERT(rc == (sh->o2o[bi] ? 0 : NAT_ENOENT));
        sh->o2o[bi] = 0;
        break;
    }
}

static void
fill_config(struct fz *f, struct nat_config *c, struct counters *ev)
{
    nat_config_init(c);
    uint8_t a = fz_u8(f), b = fz_u8(f), d = fz_u8(f), e = fz_u8(f);
    c->max_sessions = 1 + (a & 31);
    c->max_bindings = (a & 0x20) ? 1 + (b & 15) : 0;
    c->max_hosts = (a & 0x40) ? (b >> 4) : 0;
    c->max_pool = 1 + (d & 3);
    c->max_prefixes = d >> 2 & 7;
    c->max_forwards = d >> 5;
    c->max_one_to_one = e & 3;
    c->host_max_sessions = e >> 2 & 3;
    c->host_max_ports = e >> 4 & 3;
    c->timeout_udp_ms = 1000;
    c->timeout_icmp_ms = 500;
    c->timeout_tcp_est_ms = 5000;
    c->timeout_tcp_trans_ms = 2000;
    c->port_hold_ms = (e & 0x40) ? 0 : 1500;
    c->port_min = 1000;
    c->port_max = (e & 0x80) ? 1003 : 65535;
    uint8_t m = fz_u8(f);
    for (int p = 0; p < NAT_P_MAX; p++) {
        c->mapping[p] = (uint8_t)((m >> (2 * p)) & 3); /* 3 is invalid */
        c->filtering[p] = (uint8_t)((m >> (2 * p + 1)) & 3);
    }
    uint8_t h = fz_u8(f);
    c->frag_entries = h & 7; /* 0 is invalid: F1 in README.md */
    c->frag_held = h >> 3 & 3;
    c->frag_held_per_src = h >> 5 & 1;
    c->icmp_rate = (h & 0x40) ? 0 : 10;
    c->icmp_burst = (h & 0x80) ? 0 : 2;
    uint8_t g = fz_u8(f);
    c->port_preserve = g & 1;
    c->port_parity = g >> 1 & 1;
    c->port_class = g >> 2 & 1;
    c->hairpin = g >> 3 & 1;
    c->expire_budget = g >> 4 & 3;
    if (g & 0x40) { /* one raw field, to reach the validation errors */
        uint8_t which = fz_u8(f) % 8;
        uint32_t v = fz_u32(f);
        switch (which) {
        case 0: c->max_sessions = v; break;
        case 1: c->max_pool = v; break;
        case 2:
            if (v & 2)
                c->frag_timeout_ms = v & 1;
            else
                c->timeout_udp_ms = v & 1;
            break;
        case 3: c->port_min = (uint16_t)v; break;
        case 4: c->port_max = (uint16_t)v; break;
        case 5: c->port_preserve = (uint8_t)v; break;
        case 6: c->max_prefixes = v; break;
        default: c->hairpin = (uint8_t)v; break;
        }
    }
    memset(c->secret, fz_u8(f), sizeof(c->secret));
    c->event_cb = on_event;
    c->event_arg = ev;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    struct counters ev = {0, 0};
    struct nat_config cfg;
    fill_config(&f, &cfg, &ev);

    const char *field = NULL;
    int rc = nat_config_check(&cfg, &field);
    struct nat *n = NULL;
    if (rc != 0) {
        FZ_ASSERT(rc == NAT_EINVAL || rc == NAT_ERANGE);
        FZ_ASSERT(field != NULL);
        FZ_ASSERT(nat_memsize(&cfg) == 0);
        FZ_ASSERT(nat_create(&cfg, &n) == rc);
        return 0;
    }
    FZ_ASSERT(field == NULL);
    /* Huge but valid capacities would only measure malloc. */
    if (cfg.max_sessions > 4096 || cfg.max_pool > 64 ||
        cfg.max_prefixes > 4096 || cfg.frag_entries > 4096 ||
        cfg.frag_held > 64)
        return 0;
    size_t need = nat_memsize(&cfg);
    FZ_ASSERT(need > 0);

    void *mem = NULL;
    if (fz_u8(&f) & 1) {
        /* The no-heap variant, with a too-small size first. */
        mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
        FZ_ASSERT(mem != NULL);
        FZ_ASSERT(nat_create_in(&cfg, mem, need - 1, &n) == NAT_ENOSPC);
        FZ_ASSERT(nat_create_in(&cfg, (uint8_t *)mem + 8, need, &n) ==
                  NAT_EINVAL);
        FZ_ASSERT(nat_create_in(&cfg, mem, need, &n) == 0);
    } else {
        FZ_ASSERT(nat_create(&cfg, &n) == 0);
    }

    struct shadow sh;
    memset(&sh, 0, sizeof(sh));
    uint64_t now = 0;
    uint8_t buf[1600];
    int steps = 0;
    while (f.n > 0 && steps++ < 512) {
        uint8_t op = fz_u8(&f);
        switch (op % 16) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            rule_op(n, &f, op % 8, &sh);
            break;
        case 8: case 9: case 10: { /* traffic */
            enum nat_dir dir;
            size_t len = make_packet(&f, buf, &dir);
            size_t l = len;
            /* On an exact-size heap copy of the packet (cap == len). */
            struct nat_result r = fz_translate(n, dir, buf, &l, now);
            FZ_ASSERT(l == len);
            FZ_ASSERT(r.verdict < NAT_VERDICT_MAX && r.reason < NAT_R_MAX);
            FZ_ASSERT((r.verdict == NAT_DROP) == (r.reason != NAT_R_NONE));
            break;
        }
        case 11: /* time passes */
            now += (uint64_t)fz_u8(&f) * 50;
            nat_expire(n, now, fz_u8(&f) & 7);
            break;
        case 12: { /* delete the k-th session */
            uint8_t k = fz_u8(&f);
            uint64_t cur = 0;
            struct nat_session s;
            int found = 0;
            while (nat_session_next(n, &cur, &s))
                if (k-- == 0) {
                    found = 1;
                    break;
                }
            if (found) {
                FZ_ASSERT(nat_session_delete(n, s.id, now) == 0);
                FZ_ASSERT(nat_session_delete(n, s.id, now) == NAT_ENOENT);
            } else {
                FZ_ASSERT(nat_session_delete(n, (uint64_t)k << 32 | UINT32_MAX, now) ==
                          NAT_ENOENT);
            }
            break;
        }
        case 13: { /* delete while iterating */
            uint64_t cur = 0;
            struct nat_session s;
            uint8_t mask = fz_u8(&f);
            int i = 0;
            while (nat_session_next(n, &cur, &s))
                if ((mask >> (i++ & 7)) & 1)
                    FZ_ASSERT(nat_session_delete(n, s.id, now) == 0);
            break;
        }
        case 14:
            nat_flush(n, now);
            FZ_ASSERT(nat_session_count(n, 0) == 0);
            break;
        default: { /* look up something that may not exist */
            struct nat_session s;
            rc = nat_session_lookup(n, (op & 16) ? NAT_DIR_IN : NAT_DIR_OUT,
                                    (op & 32) ? 6 : 17, ADDRS[fz_u8(&f) & 7],
                                    fz_u16(&f), ADDRS[1], 80, &s);
            FZ_ASSERT(rc == 0 || rc == NAT_ENOENT);
            break;
        }
        }
        check_invariants(n, &ev, cfg.max_sessions, now);
    }

    /* Everything ends: after expiry far ahead and a flush nothing lives. */
    nat_expire(n, now + 100000000ull, SIZE_MAX);
    nat_expire(n, now + 200000000ull, SIZE_MAX);
    nat_flush(n, now + 200000000ull);
    check_invariants(n, &ev, cfg.max_sessions, now + 200000000ull);
    struct nat_stats st;
    nat_stats_get(n, &st);
    FZ_ASSERT(st.sessions == 0 && st.bindings == 0 && st.hosts == 0 &&
              st.ports_held == 0);
    FZ_ASSERT(ev.sess == 0 && ev.bind == 0);
    nat_destroy(n);
    free(mem);
    return 0;
}
