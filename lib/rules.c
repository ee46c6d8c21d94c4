/*
 * Rules: external address pool, inside and excluded prefixes, static port
 * forwards and 1:1 mappings. Fixed-capacity arrays sized at create; the
 * packet path only reads them, and only when no session matched.
 */
#include "config.h"

#include <string.h>

#include "nat_internal.h"

static uint32_t
prefix_mask(uint8_t len)
{
    return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

static int
prefix_match(const struct prefix *p, uint32_t n, uint32_t addr)
{
    for (uint32_t i = 0; i < n; i++)
        if ((addr & p[i].mask) == p[i].addr)
            return 1;
    return 0;
}

int
rules_is_inside(const struct nat *n, uint32_t addr)
{
    return prefix_match(n->inside, n->ninside, addr);
}

int
rules_is_excluded(const struct nat *n, uint32_t addr)
{
    return prefix_match(n->exclude, n->nexclude, addr);
}

/* The pool index: open addressing over a table at most half full, so the
 * per-packet "is this one of our addresses?" test touches one or two
 * cache lines whatever the pool size. */
static uint32_t
pool_slot(const struct nat *n, uint32_t addr)
{
    return rules_pool_slot(n, addr);
}


/* The quick "not one of ours" filter used on every outbound packet. */
void
rules_filter_rebuild(struct nat *n)
{
    uint64_t f = 0;
    for (uint32_t i = 0; i < n->pool_cap; i++)
        if (n->pool[i].used)
            f |= 1ull << ((n->pool[i].addr * 0x9e3779b1u) >> 26);
    for (uint32_t i = 0; i < n->no2o; i++)
        f |= 1ull << ((n->o2o[i].ext_addr * 0x9e3779b1u) >> 26);
    n->ours_filter = f;
}

void
rules_pool_rehash(struct nat *n)
{
    uint32_t k = 0;
    memset(n->pool_hidx, 0, sizeof(uint32_t) * (n->pool_hmask + 1));
    for (uint32_t i = 0; i < n->pool_cap; i++) {
        if (!n->pool[i].used)
            continue;
        n->pool_dense[k++] = i;
        uint32_t h = pool_slot(n, n->pool[i].addr);
        while (n->pool_hidx[h] != 0)
            h = (h + 1) & n->pool_hmask;
        n->pool_hidx[h] = i + 1;
    }
    rules_filter_rebuild(n);
}

/* Paired pooling (RFC 4787 REQ-2) for a host's first binding: a keyed
 * hash of the inside address picks the pool address, so the choice is
 * stable and spreads hosts evenly. */
uint32_t
rules_pool_for_host(const struct nat *n, uint32_t in_addr)
{
    if (n->npool == 0)
        return NIL;
    uint32_t k = nat_hash5(n, 0xff, in_addr, 0, 0, 0) % n->npool;
    return n->pool_dense[k]; /* the k-th used slot: O(1), no scan */
}

static int
prefix_add(struct prefix *p, uint32_t *np, uint32_t cap, uint32_t addr,
           uint8_t len)
{
    if (len > 32)
        return NAT_EINVAL;
    uint32_t mask = prefix_mask(len);
    if ((addr & mask) != addr)
        return NAT_EINVAL; /* host bits set: almost surely a typo */
    for (uint32_t i = 0; i < *np; i++)
        if (p[i].addr == addr && p[i].mask == mask)
            return NAT_EEXIST;
    if (*np >= cap)
        return NAT_ENOSPC;
    p[*np].addr = addr;
    p[*np].mask = mask;
    (*np)++;
    return 0;
}

static int
prefix_del(struct prefix *p, uint32_t *np, uint32_t addr, uint8_t len)
{
    if (len > 32)
        return NAT_EINVAL;
    uint32_t mask = prefix_mask(len);
    for (uint32_t i = 0; i < *np; i++) {
        if (p[i].addr == addr && p[i].mask == mask) {
            p[i] = p[--(*np)];
            return 0;
        }
    }
    return NAT_ENOENT;
}

int
nat_inside_add(struct nat *n, uint32_t prefix, uint8_t len)
{
    if (n == NULL)
        return NAT_EINVAL;
    return prefix_add(n->inside, &n->ninside, n->prefix_cap, prefix, len);
}

int
nat_inside_del(struct nat *n, uint32_t prefix, uint8_t len)
{
    if (n == NULL)
        return NAT_EINVAL;
    return prefix_del(n->inside, &n->ninside, prefix, len);
}

int
nat_exclude_add(struct nat *n, uint32_t prefix, uint8_t len)
{
    if (n == NULL)
        return NAT_EINVAL;
    return prefix_add(n->exclude, &n->nexclude, n->prefix_cap, prefix, len);
}

int
nat_exclude_del(struct nat *n, uint32_t prefix, uint8_t len)
{
    if (n == NULL)
        return NAT_EINVAL;
    return prefix_del(n->exclude, &n->nexclude, prefix, len);
}

/* ---- pool ---------------------------------------------------------------- */

/* 1:1 rules by either address: open addressing over rule index + 1, so the
 * unsolicited-inbound path costs O(1) whatever the number of rules. */
static uint32_t
o2o_slot(const struct nat *n, uint32_t addr, uint8_t side)
{
    return nat_hash5(n, side, addr, 0, 0, 0) & n->o2o_hmask;
}

static const struct one_to_one *
o2o_find(const struct nat *n, const uint32_t *tab, uint8_t side,
         uint32_t addr)
{
    if (n->no2o == 0)
        return NULL;
    for (uint32_t h = o2o_slot(n, addr, side);; h = (h + 1) & n->o2o_hmask) {
        uint32_t e = tab[h];
        if (e == 0)
            return NULL;
        const struct one_to_one *o = &n->o2o[e - 1];
        if ((side == 0xfc ? o->in_addr : o->ext_addr) == addr)
            return o;
    }
}

const struct one_to_one *
rules_o2o_by_in(const struct nat *n, uint32_t addr)
{
    return o2o_find(n, n->o2o_hin, 0xfc, addr);
}

const struct one_to_one *
rules_o2o_by_ext(const struct nat *n, uint32_t addr)
{
    return o2o_find(n, n->o2o_hext, 0xfd, addr);
}

static void
o2o_insert(struct nat *n, uint32_t *tab, uint8_t side, uint32_t addr,
           uint32_t i)
{
    uint32_t h = o2o_slot(n, addr, side);
    while (tab[h] != 0)
        h = (h + 1) & n->o2o_hmask;
    tab[h] = i + 1;
}

/* Rebuild both tables (at most 2 * max_one_to_one + 1 slots: load < 1/2,
 * so every probe sequence ends at an empty slot). */
void
rules_o2o_rehash(struct nat *n)
{
    memset(n->o2o_hin, 0, sizeof(uint32_t) * (n->o2o_hmask + 1));
    memset(n->o2o_hext, 0, sizeof(uint32_t) * (n->o2o_hmask + 1));
    for (uint32_t i = 0; i < n->no2o; i++) {
        o2o_insert(n, n->o2o_hin, 0xfc, n->o2o[i].in_addr, i);
        o2o_insert(n, n->o2o_hext, 0xfd, n->o2o[i].ext_addr, i);
    }
    rules_filter_rebuild(n);
}

static int
addr_ok(uint32_t a)
{
    uint8_t top = (uint8_t)(a >> 24);
    return a != 0 && top != 127 && top < 224;
}

int
nat_pool_add(struct nat *n, uint32_t addr)
{
    if (n == NULL)
        return NAT_EINVAL;
    if (!addr_ok(addr))
        return NAT_EINVAL;
    if (rules_pool_find(n, addr) != NIL || rules_o2o_by_ext(n, addr))
        return NAT_EEXIST;
    for (uint32_t i = 0; i < n->pool_cap; i++) {
        struct pool_addr *p = &n->pool[i];
        if (p->used)
            continue;
        memset(p->bits, 0, sizeof(p->bits));
        memset(p->full, 0, sizeof(p->full));
        /* Port 0 and ICMP identifier 0 are never handed out. */
        for (int k = 0; k < NAT_P_MAX; k++)
            p->bits[k][0] = 1;
        p->addr = addr;
        p->nbind = 0;
        p->used = 1;
        n->npool++;
        rules_pool_rehash(n);
        /* Forwards added earlier for this address reserve their ports. */
        for (uint32_t f = 0; f < n->nfwd; f++) {
            const struct nat_forward *fw = &n->fwd[f];
            if (fw->ext_addr != addr)
                continue;
            for (uint32_t port = fw->ext_port; port <= fw->ext_port_last;
                 port++)
                port_set(n, i, fw->proto, (uint16_t)port);
        }
        return 0;
    }
    return NAT_ENOSPC;
}

int
nat_pool_del(struct nat *n, uint32_t addr)
{
    if (n == NULL)
        return NAT_EINVAL;
    uint32_t i = rules_pool_find(n, addr);
    if (i == NIL)
        return NAT_ENOENT;
    if (n->pool[i].nbind != 0)
        return NAT_EBUSY;
    /* Hosts paired with it pick again on their next binding. */
    for (uint32_t h = 0; h < n->host_cap; h++)
        if (n->host[h].pool == i)
            n->host[h].pool = NIL;
    n->pool[i].used = 0;
    n->npool--;
    rules_pool_rehash(n);
    return 0;
}

/* ---- forwards ------------------------------------------------------------ */

/* Forwards are kept sorted by (protocol, external address, first port);
 * their external ranges never overlap (nat_forward_add() refuses it), so
 * the forward holding a port is the last one that starts at or before it:
 * a binary search, O(log forwards) on the unsolicited-inbound path. */
static uint64_t
fwd_key(uint8_t proto, uint32_t ext_addr, uint16_t port)
{
    return (uint64_t)proto << 48 | (uint64_t)ext_addr << 16 | port;
}

/* The number of forwards whose key is at most @key. */
static uint32_t
fwd_upper(const struct nat *n, uint64_t key)
{
    uint32_t lo = 0, hi = n->nfwd;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct nat_forward *f = &n->fwd[mid];
        if (fwd_key(f->proto, f->ext_addr, f->ext_port) <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct nat_forward *
rules_forward_in(const struct nat *n, uint8_t proto, uint32_t ext_addr,
                 uint16_t ext_port)
{
    uint32_t i = fwd_upper(n, fwd_key(proto, ext_addr, ext_port));
    if (i == 0)
        return NULL;
    const struct nat_forward *f = &n->fwd[i - 1];
    if (f->proto == proto && f->ext_addr == ext_addr &&
        ext_port <= f->ext_port_last)
        return f;
    return NULL;
}

/* The forward whose inside target is in_addr:in_port, and its port. */
const struct nat_forward *
rules_forward_out(const struct nat *n, uint8_t proto, uint32_t in_addr,
                  uint16_t in_port, uint16_t *ext_port)
{
    for (uint32_t i = 0; i < n->nfwd; i++) {
        const struct nat_forward *f = &n->fwd[i];
        uint32_t span = (uint32_t)(f->ext_port_last - f->ext_port);
        if (f->proto == proto && f->in_addr == in_addr &&
            in_port >= f->in_port && (uint32_t)(in_port - f->in_port) <= span) {
            *ext_port = (uint16_t)(f->ext_port + (in_port - f->in_port));
            return f;
        }
    }
    return NULL;
}

static int
forward_norm(const struct nat_forward *in, struct nat_forward *out)
{
    *out = *in;
    if (out->ext_port_last == 0)
        out->ext_port_last = out->ext_port;
    if ((out->proto != 6 && out->proto != 17) || out->ext_port == 0 ||
        out->in_port == 0 || out->ext_port_last < out->ext_port ||
        !addr_ok(out->in_addr) || !addr_ok(out->ext_addr))
        return NAT_EINVAL;
    if ((uint32_t)out->in_port + (out->ext_port_last - out->ext_port) > 65535)
        return NAT_ERANGE;
    return 0;
}

int
nat_forward_add(struct nat *n, const struct nat_forward *fw)
{
    if (n == NULL || fw == NULL)
        return NAT_EINVAL;
    struct nat_forward f;
    int rc = forward_norm(fw, &f);
    /* nat_forward_add(3): the first error that applies, EINVAL first. */
    uint32_t pi = rc == NAT_EINVAL ? NIL : rules_pool_find(n, f.ext_addr);
    if (rc == NAT_EINVAL || pi == NIL)
        return NAT_EINVAL; /* bad fields, or the address is not ours */
    if (rc)
        return rc;
    /* Sorted and disjoint: only the neighbours can overlap it. */
    uint32_t at = fwd_upper(n, fwd_key(f.proto, f.ext_addr, f.ext_port));
    for (uint32_t i = at ? at - 1 : 0; i < n->nfwd && i <= at; i++) {
        const struct nat_forward *o = &n->fwd[i];
        if (o->proto == f.proto && o->ext_addr == f.ext_addr &&
            f.ext_port <= o->ext_port_last && o->ext_port <= f.ext_port_last)
            return NAT_EEXIST;
    }
    if (n->nfwd >= n->fwd_cap)
        return NAT_ENOSPC;
    for (uint32_t p = f.ext_port; p <= f.ext_port_last; p++)
        if (port_is_set(n, pi, f.proto, (uint16_t)p))
            return NAT_EBUSY; /* a dynamic binding holds it */
    for (uint32_t p = f.ext_port; p <= f.ext_port_last; p++)
        port_set(n, pi, f.proto, (uint16_t)p);
    memmove(&n->fwd[at + 1], &n->fwd[at], (n->nfwd - at) * sizeof(f));
    n->fwd[at] = f;
    n->nfwd++;
    return 0;
}

int
nat_forward_del(struct nat *n, const struct nat_forward *fw)
{
    if (n == NULL || fw == NULL)
        return NAT_EINVAL;
    /* Only the external side identifies a forward. */
    struct nat_forward f = *fw;
    if (f.ext_port_last == 0)
        f.ext_port_last = f.ext_port;
    for (uint32_t i = 0; i < n->nfwd; i++) {
        struct nat_forward *o = &n->fwd[i];
        if (o->proto != f.proto || o->ext_addr != f.ext_addr ||
            o->ext_port != f.ext_port || o->ext_port_last != f.ext_port_last)
            continue;
        uint32_t pi = rules_pool_find(n, o->ext_addr);
        /* Live sessions through the forward keep working until they end;
         * their bindings then release the ports. */
        for (uint32_t p = o->ext_port; p <= o->ext_port_last; p++) {
            if (pi == NIL)
                break;
            uint32_t b =
                tbl_bind_find_out(n, o->proto, o->ext_addr, (uint16_t)p);
            if (b != NIL)
                n->bind[b].flags &= (uint8_t)~BF_FORWARD;
            else
                port_clear(n, pi, o->proto, (uint16_t)p);
        }
        n->nfwd--;
        memmove(o, o + 1, (n->nfwd - i) * sizeof(*o)); /* stays sorted */
        return 0;
    }
    return NAT_ENOENT;
}

/* ---- 1:1 ----------------------------------------------------------------- */

int
nat_one_to_one_add(struct nat *n, uint32_t in_addr, uint32_t ext_addr)
{
    if (n == NULL)
        return NAT_EINVAL;
    if (!addr_ok(in_addr) || !addr_ok(ext_addr))
        return NAT_EINVAL;
    if (rules_pool_find(n, ext_addr) != NIL)
        return NAT_EEXIST;
    if (rules_o2o_by_in(n, in_addr) || rules_o2o_by_ext(n, ext_addr))
        return NAT_EEXIST;
    if (n->no2o >= n->o2o_cap)
        return NAT_ENOSPC;
    n->o2o[n->no2o].in_addr = in_addr;
    n->o2o[n->no2o].ext_addr = ext_addr;
    n->no2o++;
    rules_o2o_rehash(n);
    return 0;
}

int
nat_one_to_one_del(struct nat *n, uint32_t in_addr)
{
    if (n == NULL)
        return NAT_EINVAL;
    for (uint32_t i = 0; i < n->no2o; i++) {
        if (n->o2o[i].in_addr == in_addr) {
            n->o2o[i] = n->o2o[--n->no2o];
            rules_o2o_rehash(n);
            return 0;
        }
    }
    return NAT_ENOENT;
}
