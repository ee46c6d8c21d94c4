/*
 * API layer: configuration, lifecycle, expiry, the session API and stats.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "nat_internal.h"

#define MAX_CAPACITY (1u << 28)
#define MAX_POOL     4096u
#define MAX_RULES    65536u
#define ALIGN        64u
#define MAX_TIMEOUT  (1u << 30) /* ~12.4 days: see tbl_clock() */
#define MAX_ICMP_RATE 1000000u

void
nat_config_init(struct nat_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_sessions = 65536;
    c->max_pool = 16;
    c->max_prefixes = 16;
    c->max_forwards = 64;
    c->max_one_to_one = 64;
    c->timeout_udp_ms = 300000;       /* RFC 4787 REQ-5: >= 2 min, rec. 5 */
    c->timeout_tcp_est_ms = 7440000;  /* RFC 5382 REQ-5: 2 h 4 min */
    c->timeout_tcp_trans_ms = 240000; /* RFC 5382 REQ-5: 4 min */
    c->timeout_icmp_ms = 60000;       /* RFC 5508 REQ-2: 60 s */
    c->port_hold_ms = 120000;         /* RFC 6888 REQ-8: 120 s */
    c->port_min = 1024;
    c->port_max = 65535;
    c->icmp_id_min = 1;
    c->icmp_id_max = 65535;
    for (int p = 0; p < NAT_P_MAX; p++) {
        c->mapping[p] = NAT_MAP_EI;
        c->filtering[p] = NAT_FILTER_AD;
    }
    c->port_preserve = 1;
    c->port_parity = 0;
    c->port_class = 1;
    c->hairpin = 1;
    c->expire_budget = 4;
    c->frag_entries = 1024;
    c->frag_held = 64;
    c->frag_held_per_src = 16;
    c->frag_timeout_ms = 15000; /* RFC 791: reassembly timer, 15 s */
    c->icmp_rate = 100;
    c->icmp_burst = 20;
}

#define BAD(name, code)                                                        \
    do {                                                                       \
        if (field)                                                             \
            *field = name;                                                     \
        return code;                                                           \
    } while (0)

int
nat_config_check(const struct nat_config *c, const char **field)
{
    if (c == NULL)
        BAD("cfg", NAT_EINVAL);
    if (c->max_sessions == 0 || c->max_sessions > MAX_CAPACITY)
        BAD("max_sessions", NAT_ERANGE);
    if (c->max_bindings > MAX_CAPACITY)
        BAD("max_bindings", NAT_ERANGE);
    if (c->max_hosts > MAX_CAPACITY)
        BAD("max_hosts", NAT_ERANGE);
    if (c->max_pool == 0 || c->max_pool > MAX_POOL)
        BAD("max_pool", NAT_ERANGE);
    if (c->max_prefixes > MAX_RULES)
        BAD("max_prefixes", NAT_ERANGE);
    if (c->max_forwards > MAX_RULES)
        BAD("max_forwards", NAT_ERANGE);
    if (c->max_one_to_one > MAX_RULES)
        BAD("max_one_to_one", NAT_ERANGE);
    if (c->timeout_udp_ms == 0 || c->timeout_udp_ms >= MAX_TIMEOUT)
        BAD("timeout_udp_ms", NAT_ERANGE);
    if (c->timeout_tcp_est_ms == 0 || c->timeout_tcp_est_ms >= MAX_TIMEOUT)
        BAD("timeout_tcp_est_ms", NAT_ERANGE);
    if (c->timeout_tcp_trans_ms == 0 || c->timeout_tcp_trans_ms >= MAX_TIMEOUT)
        BAD("timeout_tcp_trans_ms", NAT_ERANGE);
    if (c->timeout_icmp_ms == 0 || c->timeout_icmp_ms >= MAX_TIMEOUT)
        BAD("timeout_icmp_ms", NAT_ERANGE);
    if (c->port_min == 0)
        BAD("port_min", NAT_ERANGE);
    if (c->port_max < c->port_min)
        BAD("port_max", NAT_ERANGE);
    if (c->icmp_id_min == 0)
        BAD("icmp_id_min", NAT_ERANGE);
    if (c->icmp_id_max < c->icmp_id_min)
        BAD("icmp_id_max", NAT_ERANGE);
    for (int p = 0; p < NAT_P_MAX; p++) {
        if (c->mapping[p] > NAT_MAP_APD)
            BAD("mapping", NAT_EINVAL);
        if (c->filtering[p] > NAT_FILTER_APD)
            BAD("filtering", NAT_EINVAL);
    }
    if (c->port_preserve > 1)
        BAD("port_preserve", NAT_EINVAL);
    if (c->port_parity > 1)
        BAD("port_parity", NAT_EINVAL);
    if (c->port_class > 1)
        BAD("port_class", NAT_EINVAL);
    if (c->hairpin > 1)
        BAD("hairpin", NAT_EINVAL);
    if (c->expire_budget > 65536)
        BAD("expire_budget", NAT_ERANGE);
    if (c->frag_entries > MAX_CAPACITY)
        BAD("frag_entries", NAT_ERANGE);
    if (c->frag_entries == 0)
        BAD("frag_entries", NAT_ERANGE);
    if (c->frag_held > 65536)
        BAD("frag_held", NAT_ERANGE);
    if (c->port_hold_ms >= MAX_TIMEOUT)
        BAD("port_hold_ms", NAT_ERANGE);
    if (c->frag_timeout_ms == 0)
        BAD("frag_timeout_ms", NAT_ERANGE);
    /* The token bucket counts thousandths of a token in 64 bits: these
     * bounds keep rate * elapsed and burst * 1000 far from overflow. */
    if (c->icmp_rate > MAX_ICMP_RATE)
        BAD("icmp_rate", NAT_ERANGE);
    if (c->icmp_burst > MAX_ICMP_RATE)
        BAD("icmp_burst", NAT_ERANGE);
    if (field)
        *field = NULL;
    return 0;
}

static uint32_t
pow2_at_least(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

/* Where each array lives in the block. */
struct layout {
    uint32_t sess_cap, bind_cap, host_cap;
    uint32_t sbuckets, bbuckets, hbuckets;
    size_t sess, sidx_in, sidx_out, sidx_addr, bind, bidx_in, bidx_out, host, hidx;
    size_t pool, pool_hidx, pool_dense, inside, exclude, fwd, o2o, o2o_hin, o2o_hext,
        ftrack, fidx, fheld, fh_kidx, fh_sidx, total;
    uint32_t pbuckets, obuckets, fbuckets, fhbuckets;
};

/* Reserve @count records of @size bytes at *@at, aligned. Sizes are
 * computed in 64 bits whatever size_t is; *@at becomes UINT64_MAX, and
 * stays so, once the block would not fit in a size_t (ILP32). */
static size_t
carve(uint64_t *at, uint64_t count, uint64_t size)
{
    if (*at == UINT64_MAX)
        return 0;
    uint64_t off = (*at + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
    uint64_t end = off + count * size; /* count, size < 2^32: no wrap */
    *at = end > SIZE_MAX / 2 ? UINT64_MAX : end;
    return (size_t)off;
}

static int
layout(const struct nat_config *c, struct layout *l)
{
    if (nat_config_check(c, NULL) != 0)
        return -1;
    l->sess_cap = c->max_sessions;
    l->bind_cap = c->max_bindings ? c->max_bindings : c->max_sessions;
    l->host_cap = c->max_hosts ? c->max_hosts : l->bind_cap;
    /* Load factor <= 1: one bucket per entry, rounded up to a power of 2. */
    l->sbuckets = pow2_at_least(l->sess_cap);
    l->bbuckets = pow2_at_least(l->bind_cap);
    l->hbuckets = pow2_at_least(l->host_cap);

    uint64_t at = sizeof(struct nat);
    l->sess = carve(&at, l->sess_cap, sizeof(struct sess));
    l->sidx_in = carve(&at, l->sbuckets, 4);
    l->sidx_out = carve(&at, l->sbuckets, 4);
    l->sidx_addr = carve(&at, l->sbuckets, 4);
    l->bind = carve(&at, l->bind_cap, sizeof(struct bind));
    l->bidx_in = carve(&at, l->bbuckets, 4);
    l->bidx_out = carve(&at, l->bbuckets, 4);
    l->host = carve(&at, l->host_cap, sizeof(struct host));
    l->hidx = carve(&at, l->hbuckets, 4);
    l->pool = carve(&at, c->max_pool, sizeof(struct pool_addr));
    l->pbuckets = pow2_at_least(2 * c->max_pool);
    l->pool_hidx = carve(&at, l->pbuckets, 4);
    l->pool_dense = carve(&at, c->max_pool, 4);
    l->inside = carve(&at, c->max_prefixes, sizeof(struct prefix));
    l->exclude = carve(&at, c->max_prefixes, sizeof(struct prefix));
    l->fwd = carve(&at, c->max_forwards, sizeof(struct nat_forward));
    l->o2o = carve(&at, c->max_one_to_one, sizeof(struct one_to_one));
    l->obuckets = pow2_at_least(2 * c->max_one_to_one + 1);
    l->o2o_hin = carve(&at, l->obuckets, 4);
    l->o2o_hext = carve(&at, l->obuckets, 4);
    l->fbuckets = pow2_at_least(c->frag_entries ? c->frag_entries : 1);
    l->ftrack = carve(&at, c->frag_entries, sizeof(struct frag_track));
    l->fidx = carve(&at, l->fbuckets, 4);
    l->fheld = carve(&at, c->frag_held, sizeof(struct frag_held));
    l->fhbuckets = pow2_at_least(c->frag_held ? c->frag_held : 1);
    l->fh_kidx = carve(&at, l->fhbuckets, 4);
    l->fh_sidx = carve(&at, l->fhbuckets, 4);
    l->total = carve(&at, 0, 0);
    /* Capacities are bounded by nat_config_check(), so the sum fits in 64
     * bits; on a 32-bit size_t it may not fit in the address space. */
    return at == UINT64_MAX ? -1 : 0;
}

size_t
nat_memsize(const struct nat_config *c)
{
    struct layout l;
    return layout(c, &l) == 0 ? l.total : 0;
}

/* Expand the 16-byte secret into four independent 64-bit hash keys
 * (splitmix64 over the two halves: cheap, and every output bit depends
 * on every secret bit). */
static uint64_t
splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int
nat_create_in(const struct nat_config *c, void *mem, size_t size,
              struct nat **out)
{
    struct layout l;
    if (out == NULL || mem == NULL || c == NULL)
        return NAT_EINVAL;
    int rc = nat_config_check(c, NULL);
    if (rc != 0)
        return rc;
    if (layout(c, &l) != 0)
        return NAT_ENOMEM; /* larger than this address space */
    if (size < l.total)
        return NAT_ENOSPC;
    if (((uintptr_t)mem & 15) != 0)
        return NAT_EINVAL;

    uint8_t *base = mem;
    struct nat *n = mem;
    memset(n, 0, sizeof(*n));
    n->cfg = *c;
    /* Little-endian whatever the host: the same secret gives the same keys
     * (and port choices) on every machine. */
    uint64_t s0 = ld64le(c->secret), s1 = ld64le(c->secret + 8);
    uint64_t x = s0 ^ 0x6c69626e61740001ull; /* "libnat" */
    n->k[0] = splitmix(&x) ^ s1;
    n->k[1] = splitmix(&x);
    x ^= s1;
    n->k[2] = splitmix(&x);
    n->k[3] = splitmix(&x) | 1;

    n->timeout[TC_UDP] = c->timeout_udp_ms;
    n->timeout[TC_ICMP] = c->timeout_icmp_ms;
    n->timeout[TC_TCP_EST] = c->timeout_tcp_est_ms;
    n->timeout[TC_TCP_TRANS] = c->timeout_tcp_trans_ms;

    n->sess = (struct sess *)(void *)(base + l.sess);
    n->sess_cap = l.sess_cap;
    n->sidx_in = (uint32_t *)(void *)(base + l.sidx_in);
    n->sidx_out = (uint32_t *)(void *)(base + l.sidx_out);
    n->sidx_addr = (uint32_t *)(void *)(base + l.sidx_addr);
    n->smask = l.sbuckets - 1;
    n->bind = (struct bind *)(void *)(base + l.bind);
    n->bind_cap = l.bind_cap;
    n->bidx_in = (uint32_t *)(void *)(base + l.bidx_in);
    n->bidx_out = (uint32_t *)(void *)(base + l.bidx_out);
    n->bmask = l.bbuckets - 1;
    n->host = (struct host *)(void *)(base + l.host);
    n->host_cap = l.host_cap;
    n->hidx = (uint32_t *)(void *)(base + l.hidx);
    n->hmask = l.hbuckets - 1;
    n->pool = (struct pool_addr *)(void *)(base + l.pool);
    n->pool_cap = c->max_pool;
    for (uint32_t i = 0; i < n->pool_cap; i++)
        n->pool[i].used = 0;
    n->pool_hidx = (uint32_t *)(void *)(base + l.pool_hidx);
    n->pool_dense = (uint32_t *)(void *)(base + l.pool_dense);
    n->pool_hmask = l.pbuckets - 1;
    n->inside = (struct prefix *)(void *)(base + l.inside);
    n->exclude = (struct prefix *)(void *)(base + l.exclude);
    n->prefix_cap = c->max_prefixes;
    n->fwd = (struct nat_forward *)(void *)(base + l.fwd);
    n->fwd_cap = c->max_forwards;
    n->o2o = (struct one_to_one *)(void *)(base + l.o2o);
    n->o2o_cap = c->max_one_to_one;
    n->o2o_hin = (uint32_t *)(void *)(base + l.o2o_hin);
    n->o2o_hext = (uint32_t *)(void *)(base + l.o2o_hext);
    n->o2o_hmask = l.obuckets - 1;
    n->ftrack = (struct frag_track *)(void *)(base + l.ftrack);
    n->ftrack_cap = c->frag_entries;
    n->fidx = (uint32_t *)(void *)(base + l.fidx);
    n->fmask = l.fbuckets - 1;
    n->fheld = (struct frag_held *)(void *)(base + l.fheld);
    n->fheld_cap = c->frag_held;
    n->fh_kidx = (uint32_t *)(void *)(base + l.fh_kidx);
    n->fh_sidx = (uint32_t *)(void *)(base + l.fh_sidx);
    n->fh_mask = l.fhbuckets - 1;
    n->icmp_tokens = (uint64_t)(c->icmp_burst ? c->icmp_burst : 1) * 1000u;
    tbl_init(n);
    frag_init(n);
    rules_pool_rehash(n);
    rules_o2o_rehash(n);
    *out = n;
    return 0;
}

int
nat_create(const struct nat_config *c, struct nat **out)
{
    if (out == NULL)
        return NAT_EINVAL;
    size_t size = nat_memsize(c);
    if (size == 0) { /* a bad config, or too large for the address space */
        int rc = nat_config_check(c, NULL);
        return rc ? rc : NAT_ENOMEM;
    }
    void *mem = NULL;
    if (posix_memalign(&mem, ALIGN, size) != 0)
        return NAT_ENOMEM;
    int rc = nat_create_in(c, mem, size, out);
    if (rc != 0) {
        free(mem);
        return rc;
    }
    (*out)->alloc = mem;
    return 0;
}

void
nat_destroy(struct nat *n)
{
    if (n == NULL)
        return;
    tbl_flush(n);
    if (n->alloc)
        free(n->alloc);
}

size_t
nat_expire(struct nat *n, uint64_t now_ms, size_t budget)
{
    if (n == NULL)
        return 0;
    size_t done = tbl_clock(n, now_ms);
    frag_expire(n, budget);
    return done + tbl_expire(n, budget);
}

size_t
nat_flush(struct nat *n, uint64_t now_ms)
{
    if (n == NULL)
        return 0;
    size_t done = tbl_clock(n, now_ms);
    frag_flush(n); /* fragment state refers to the mappings */
    return done + tbl_flush(n);
}

/* ---- sessions ------------------------------------------------------------ */

static void
sess_info(const struct nat *n, uint32_t i, struct nat_session *o)
{
    const struct sess *s = &n->sess[i];
    o->id = (uint64_t)s->gen << 32 | i;
    o->proto = s->proto;
    o->tcp_state = s->state;
    o->in_addr = s->in_addr;
    o->ext_addr = s->ext_addr;
    o->rem_addr = s->rem_addr;
    o->in_port = s->in_port;
    o->ext_port = s->ext_port;
    o->rem_port = s->rem_port;
    o->last_ms = n->now - ms_since(n->now32, s->last);
    o->expires_ms = o->last_ms + n->timeout[s->tclass];
}

int
nat_session_lookup(struct nat *n, enum nat_dir side, uint8_t proto,
                   uint32_t addr, uint16_t port, uint32_t rem_addr,
                   uint16_t rem_port, struct nat_session *out)
{
    if (n == NULL)
        return NAT_ENOENT;
    if (proto == 1)
        rem_port = 0;
    uint32_t i =
        side == NAT_DIR_OUT
            ? tbl_sess_find_in(n, proto, addr, port, rem_addr, rem_port)
            : tbl_sess_find_out(n, proto, addr, port, rem_addr, rem_port);
    /* Past its deadline it is gone, though expiry has not reached it. */
    if (i == NIL || sess_expired(n, &n->sess[i]))
        return NAT_ENOENT;
    if (out)
        sess_info(n, i, out);
    return 0;
}

int
nat_session_next(struct nat *n, uint64_t *cursor, struct nat_session *out)
{
    if (n == NULL || cursor == NULL || out == NULL)
        return 0;
    for (uint64_t i = *cursor; i < n->sess_cap; i++) {
        if (n->sess[i].tclass != TC_FREE) {
            sess_info(n, (uint32_t)i, out);
            *cursor = i + 1;
            return 1;
        }
    }
    *cursor = n->sess_cap;
    return 0;
}

int
nat_session_delete(struct nat *n, uint64_t id, uint64_t now_ms)
{
    if (n == NULL)
        return NAT_ENOENT;
    uint32_t i = (uint32_t)id;
    tbl_clock(n, now_ms); /* first: nat_session_delete(3) advances it */
    if (i >= n->sess_cap || n->sess[i].tclass == TC_FREE ||
        n->sess[i].gen != (uint32_t)(id >> 32))
        return NAT_ENOENT; /* unknown, or ended (the clock may have) */
    tbl_sess_end(n, i, NAT_END_DELETED);
    return 0;
}

size_t
nat_session_count(const struct nat *n, uint8_t proto)
{
    if (n == NULL)
        return 0;
    switch (proto) {
    case 0:
        return n->nsess;
    case 6:
        return n->nsess_proto[NAT_P_TCP];
    case 17:
        return n->nsess_proto[NAT_P_UDP];
    case 1:
        return n->nsess_proto[NAT_P_ICMP];
    default:
        return 0;
    }
}

void
nat_stats_get(const struct nat *n, struct nat_stats *st)
{
    if (n == NULL || st == NULL)
        return;
    *st = n->st;
    st->sessions = n->nsess;
    st->bindings = n->nbind;
    st->hosts = n->nhost;
    st->sessions_peak = n->nsess_peak;
    st->ports_held = n->nheld;
    st->frags_tracked = n->nftrack;
    st->frags_held = n->nfheld;
}

const char *
nat_verdict_str(enum nat_verdict v)
{
    static const char *const names[NAT_VERDICT_MAX] = {
        "drop", "out", "in", "hairpin", "pass", "held"};
    return (unsigned)v < NAT_VERDICT_MAX ? names[v] : "unknown";
}
