/*
 * Ports layer: external port occupancy and allocation.
 *
 * One bitmap per (external address, protocol) with a summary of full
 * 64-port words, so a free port is found by skipping whole words even at
 * 99 % occupancy. Choice order (RFC 4787 REQ-3/3a/4, RFC 6056):
 *   1. the inside port itself, when free and preservation is on;
 *   2. otherwise a start point from a keyed hash of the inside endpoint,
 *      the remote (for dependent mappings) and a counter, then the next
 *      free port with the required parity, wrapping once. This is RFC 6056
 *      algorithm 3's "F(local, remote, secret)" with the counter hashed in
 *      rather than added, so consecutive choices are not adjacent.
 * A port in use by any live or held binding is never handed out (REQ-3:
 * no port overloading).
 */
#include "config.h"

#include "nat_internal.h"

static inline uint64_t *
bits_of(struct nat *n, uint32_t pool, uint8_t proto)
{
    return n->pool[pool].bits[proto_idx(proto)];
}

static inline uint64_t *
full_of(struct nat *n, uint32_t pool, uint8_t proto)
{
    return n->pool[pool].full[proto_idx(proto)];
}

void
port_set(struct nat *n, uint32_t pool, uint8_t proto, uint16_t port)
{
    uint64_t *bits = bits_of(n, pool, proto);
    uint32_t w = port >> 6;
    bits[w] |= 1ull << (port & 63);
    if (bits[w] == UINT64_MAX)
        full_of(n, pool, proto)[w >> 6] |= 1ull << (w & 63);
}

void
port_clear(struct nat *n, uint32_t pool, uint8_t proto, uint16_t port)
{
    uint32_t w = port >> 6;
    bits_of(n, pool, proto)[w] &= ~(1ull << (port & 63));
    full_of(n, pool, proto)[w >> 6] &= ~(1ull << (w & 63));
}

static inline uint64_t
range_mask(uint32_t w, uint32_t lo, uint32_t hi)
{
    uint64_t m = UINT64_MAX;
    if (w == lo >> 6)
        m &= UINT64_MAX << (lo & 63);
    if (w == hi >> 6)
        m &= UINT64_MAX >> (63 - (hi & 63));
    return m;
}

/* First free port in [lo, hi] whose bit is in @pmask (a parity pattern). */
static int
find_free(const uint64_t *bits, const uint64_t *full, uint32_t lo, uint32_t hi,
          uint64_t pmask)
{
    uint32_t w = lo >> 6, wend = hi >> 6;
    while (w <= wend) {
        /* Skip runs of full words 64 at a time via the summary. */
        uint64_t f = full[w >> 6] >> (w & 63);
        if (f & 1) {
            uint64_t nf = ~f;
            if (nf == 0) {
                w = (w | 63) + 1;
                continue;
            }
            w += (uint32_t)__builtin_ctzll(nf);
            continue;
        }
        uint64_t avail = ~bits[w] & pmask & range_mask(w, lo, hi);
        if (avail)
            return (int)(w * 64 + (uint32_t)__builtin_ctzll(avail));
        w++;
    }
    return -1;
}

/*
 * Allocate an external port on pool address @pool for the inside endpoint.
 * Returns the port (marked used) or -1 when none is free.
 */
int
port_alloc(struct nat *n, uint32_t pool, uint8_t proto, uint32_t in_addr,
           uint16_t in_port, uint32_t rem_addr, uint16_t rem_port)
{
    const struct nat_config *c = &n->cfg;
    uint32_t lo = c->port_min, hi = c->port_max;
    uint64_t pmask = UINT64_MAX;

    /* ICMP identifiers have their own range and no classes or parity. */
    if (proto == 1) {
        lo = c->icmp_id_min;
        hi = c->icmp_id_max;
    } else {
        if (c->port_class && in_port < 1024) { /* RFC 4787 REQ-3a */
            lo = 1;
            hi = 1023;
        }
        if (c->port_parity) /* RFC 4787 REQ-4 */
            pmask =
                (in_port & 1) ? 0xaaaaaaaaaaaaaaaaull : 0x5555555555555555ull;
    }

    uint64_t *bits = bits_of(n, pool, proto);
    uint64_t *full = full_of(n, pool, proto);

    if (c->port_preserve && in_port >= lo && in_port <= hi &&
        !((bits[in_port >> 6] >> (in_port & 63)) & 1)) {
        port_set(n, pool, proto, in_port);
        return in_port;
    }

    /* RFC 6056 3.3.3 (keyed hash, counter hashed in), then search. */
    uint32_t span = hi - lo + 1;
    uint32_t h = nat_hash5(n, proto, in_addr, in_port,
                           rem_addr ^ n->port_counter++, rem_port);
    uint32_t start = lo + h % span;
    int p = find_free(bits, full, start, hi, pmask);
    if (p < 0 && start > lo)
        p = find_free(bits, full, lo, start - 1, pmask);
    if (p < 0)
        return -1;
    port_set(n, pool, proto, (uint16_t)p);
    return p;
}
