/*
 * Fuzz target: differential. Three instances with the same config and
 * secret see the same packets at the same times:
 *
 *   A  no exclusion, nat_translate() per packet: TCP and UDP packets of
 *      live sessions take the established-session shortcut
 *      (established() in lib/translate.c);
 *   B  the same plus an exclusion of 192.0.2.0/24, which no packet ever
 *      uses: an exclusion turns the shortcut off, so B translates every
 *      packet on the general path (nat_out()/nat_in());
 *   C  no exclusion, the packets of each group through one
 *      nat_translate_burst() call (groups of up to 48, so bursts of more
 *      than the library's internal group of 32 happen too).
 *
 * A and B must agree byte for byte on every packet (verdict, reason,
 * output length and bytes) and on every event (type, cause, reason,
 * protocol, addresses, ports, time), in order. C must agree with A on every
 * packet, and on the events of each group as one sequence: with
 * expire_budget 0 the only work a burst does differently (the amortised
 * expiry, earned and spent once per burst) is absent, and a burst
 * translates its packets in order at one time, so the events come in the
 * same order with the same times. After every group the three instances
 * must give the same fragments to nat_frag_collect(), the same ICMP errors
 * from nat_icmp_error(), the same session list and the same
 * nat_stats_get() counters; at the end too, after expiry far ahead.
 *
 * Every packet is handed to each instance in its own heap block of
 * exactly its length (cap == len); held fragments are collected into
 * blocks of exactly their size (fz_collect() in fuzz.h).
 *
 * Input: 6 config bytes, then ops. An op is a group of packets (after a
 * time step chosen by the input, sometimes a jump of 2^31..2^33 ms), an
 * idle period with nat_expire(), a session deleted by position, or a
 * flush. A packet is [kind][addrs][ports][flags] [mutations...]: UDP, TCP
 * (flag sets), ICMP echo, ICMP errors quoting the last translated packet
 * the other way, a datagram cut into fragments sent in a fuzzed order,
 * other protocols, or raw bytes (after a generated IPv4 header or not);
 * then mutations (bit flips, cuts, in particular inside the transport
 * header with a total length that agrees, length lies, fragment fields,
 * IP options, checksums, padding). Inbound packets often aim at the
 * mappings A made, outbound ones repeat A's flows or hairpin to them.
 * Addresses come from 10.0.0.x (inside), 198.51.100.x (remote) and
 * 203.0.113.x (pool, 1:1); an outer address that a mutation or the raw
 * bytes put in 192.0.2.0/24 is moved out of it before the packet is sent.
 *
 * Any disagreement abort()s with a message naming the instances, the
 * group, the packet and what differs.
 */
#include "config.h"

#include <inttypes.h>

#include "fuzz.h"
#include "libnat.h"

#define NI 3        /* instances */
#define IA 0        /* A: no exclusion, per packet */
#define IB 1        /* B: exclusion 192.0.2.0/24, per packet */
#define IC 2        /* C: no exclusion, bursts */
#define MAXG 48     /* packets per group */
#define GSLACK 4    /* a fragmented datagram may overrun the group */
#define MAXSESS 64
#define EVCAP 256
#define MAXHELD 64

#define PUB1 FZ_IP4(203, 0, 113, 1)
#define PUB2 FZ_IP4(203, 0, 113, 2)
#define O2O_IN FZ_IP4(10, 0, 0, 20)
#define O2O_EXT FZ_IP4(203, 0, 113, 20)
#define FWD_TCP_IN FZ_IP4(10, 0, 0, 10)
#define FWD_UDP_IN FZ_IP4(10, 0, 0, 11)
#define EXCL FZ_IP4(192, 0, 2, 0)

static const char *const NAME[NI] = {"A (per packet)", "B (exclusion)",
                                     "C (burst)"};

static const uint32_t INSIDE[8] = {
    FZ_IP4(10, 0, 0, 2), FZ_IP4(10, 0, 0, 3), FZ_IP4(10, 0, 0, 4),
    FWD_TCP_IN,          FWD_UDP_IN,          O2O_IN,
    FZ_IP4(10, 0, 0, 130), FZ_IP4(10, 0, 1, 5), /* the last: not inside */
};
static const uint32_t REMOTE[4] = {
    FZ_IP4(198, 51, 100, 10), FZ_IP4(198, 51, 100, 20),
    FZ_IP4(198, 51, 100, 30), PUB1,
};
static const uint32_t EXTERNAL[4] = {PUB1, PUB2, O2O_EXT,
                                     FZ_IP4(203, 0, 113, 99)};
static const uint16_t PORTS[14] = {1024, 1025, 53,    80,    5000,
                                   5001, 5003, 6000,  8080,  40000,
                                   40001, 65535, 1,   0};
static const uint8_t TCP_FLAGS[8] = {0x02, 0x12, 0x10, 0x11,
                                     0x04, 0x14, 0x18, 0x01};

/* ---- disagreements ---------------------------------------------------- */

static unsigned cur_group, cur_pkt;

#define DIFF_FAIL(...)                                                         \
    do {                                                                       \
        fprintf(stderr, "fuzz_diff: disagreement (group %u, packet %u): ",     \
                cur_group, cur_pkt);                                           \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        abort();                                                               \
    } while (0)

/* ---- event logs ------------------------------------------------------- */

struct rec {
    int type, reason, cause;
    uint8_t proto;
    uint32_t in_addr, ext_addr, rem_addr;
    uint16_t in_port, ext_port, rem_port;
    uint64_t now_ms;
};

/* Events since the log was last cleared: all counted and hashed, the
 * first EVCAP kept. */
struct evlog {
    size_t n;
    uint64_t hash;
    struct rec r[EVCAP];
};

static uint64_t
mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static void
on_event(const struct nat_event *ev, void *arg)
{
    struct evlog *l = arg;
    FZ_ASSERT(ev->type >= NAT_EV_BINDING_CREATE && ev->type <= NAT_EV_EXHAUSTED);
    struct rec r;
    memset(&r, 0, sizeof(r));
    r.type = (int)ev->type;
    r.reason = (int)ev->reason;
    r.cause = (int)ev->cause;
    r.proto = ev->proto;
    r.in_addr = ev->in_addr;
    r.ext_addr = ev->ext_addr;
    r.rem_addr = ev->rem_addr;
    r.in_port = ev->in_port;
    r.ext_port = ev->ext_port;
    r.rem_port = ev->rem_port;
    r.now_ms = ev->now_ms;
    uint64_t h = l->hash;
    h = mix(h, (uint64_t)r.type << 40 | (uint64_t)r.reason << 20 |
                   (uint64_t)r.cause << 8 | r.proto);
    h = mix(h, (uint64_t)r.in_addr << 32 | r.ext_addr);
    h = mix(h, (uint64_t)r.rem_addr << 32 | (uint64_t)r.in_port << 16 |
                   r.ext_port);
    h = mix(h, (uint64_t)r.rem_port);
    h = mix(h, r.now_ms);
    l->hash = h;
    if (l->n < EVCAP)
        l->r[l->n] = r;
    l->n++;
}

static int
rec_eq(const struct rec *a, const struct rec *b)
{
    return a->type == b->type && a->reason == b->reason &&
           a->cause == b->cause && a->proto == b->proto &&
           a->in_addr == b->in_addr && a->ext_addr == b->ext_addr &&
           a->rem_addr == b->rem_addr && a->in_port == b->in_port &&
           a->ext_port == b->ext_port && a->rem_port == b->rem_port &&
           a->now_ms == b->now_ms;
}

static void
rec_print(const char *who, size_t i, const struct rec *r)
{
    fprintf(stderr,
            "  %s event %zu: type %d cause %d reason %d proto %u in "
            "%08" PRIx32 ":%u ext %08" PRIx32 ":%u rem %08" PRIx32
            ":%u now %" PRIu64 "\n",
            who, i, r->type, r->cause, r->reason, r->proto, r->in_addr,
            r->in_port, r->ext_addr, r->ext_port, r->rem_addr, r->rem_port,
            r->now_ms);
}

/* The logs of instances @x and @y hold the same events, in order. */
static void
events_same(const struct evlog *lg, int x, int y, const char *when)
{
    const struct evlog *a = &lg[x], *b = &lg[y];
    size_t kept = a->n < b->n ? a->n : b->n;
    if (kept > EVCAP)
        kept = EVCAP;
    size_t i = 0;
    while (i < kept && rec_eq(&a->r[i], &b->r[i]))
        i++;
    if (i == kept && a->n == b->n && a->hash == b->hash)
        return;
    fprintf(stderr, "fuzz_diff: events of %s and %s differ %s "
                    "(%zu and %zu events; first difference at %zu)\n",
            NAME[x], NAME[y], when, a->n, b->n, i);
    if (i < EVCAP && i < a->n)
        rec_print(NAME[x], i, &a->r[i]);
    if (i < EVCAP && i < b->n)
        rec_print(NAME[y], i, &b->r[i]);
    DIFF_FAIL("events of %s and %s %s", NAME[x], NAME[y], when);
}

static void
events_clear(struct evlog *lg)
{
    for (int i = 0; i < NI; i++) {
        lg[i].n = 0;
        lg[i].hash = 0;
    }
}

/* ---- state ------------------------------------------------------------ */

struct flow {
    uint8_t proto;
    uint32_t in, ext, rem;
    uint16_t in_port, ext_port, rem_port;
};

struct pkt {
    enum nat_dir dir;
    size_t len;
    uint8_t b[1600];
};

struct state {
    struct nat *n[NI];
    struct nat_config cfg;
    struct evlog ev[NI];
    uint64_t now;
    /* A's last translated packet each way, quoted by ICMP errors. */
    uint8_t last_out[1600], last_in[1600];
    size_t last_out_len, last_in_len;
    /* A's recent outbound mappings. */
    struct flow ring[8];
    unsigned ring_n;
    uint16_t ip_id;
    struct fz_lens held; /* lengths of the packets that were NAT_HELD */
    /* The current group: inputs and A's results. */
    struct pkt in[MAXG + GSLACK];
    struct pkt outa[MAXG + GSLACK];
    struct nat_result ra[MAXG + GSLACK];
    size_t ng;
};

/* ---- packet generation ------------------------------------------------ */

static uint16_t
pick_port(struct fz *f, unsigned idx)
{
    return idx < 14 ? PORTS[idx] : fz_u16(f);
}

static uint16_t
port_of(const uint8_t *b, int dst)
{
    const uint8_t *l4 = b + (b[0] & 0x0f) * 4;
    return b[9] == 1 ? fz_ld16(l4 + 4) : fz_ld16(l4 + 2 * dst);
}

/* Keep the outer addresses out of 192.0.2.0/24 (B's exclusion): only
 * the exclusion may tell B from A. A header checksum that verified is
 * made to verify again. */
static void
sanitize(uint8_t *b, size_t len)
{
    if (len < 16)
        return;
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    int ok = ihl >= 20 && ihl <= len && ref_fold(ref_sum(b, ihl, 0)) == 0xffff;
    int moved = 0;
    for (size_t off = 12; off + 4 <= len && off <= 16; off += 4) {
        if ((fz_ld32(b + off) & 0xffffff00u) == EXCL) {
            b[off + 2] ^= 0x80; /* 192.0.130.x */
            moved = 1;
        }
    }
    if (moved && ok)
        ref_fix_ip(b);
}

/* Damage a packet in one of a few ways; returns the new length. */
static size_t
mutate(struct fz *f, uint8_t *b, size_t len)
{
    uint8_t mode = fz_u8(f), x = fz_u8(f), y = fz_u8(f);
    if (len == 0)
        return 0;
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    switch (mode & 7) {
    case 0: /* flip bits */
        b[x % len] ^= y ? y : 1;
        if (mode & 0x08) /* ... and make the checksums agree */
            ref_fix_all(b, len);
        break;
    case 1: /* cut anywhere */
        len = x % len;
        break;
    case 2: /* cut inside the transport header, total length agreeing:
             * the parser sees a whole IP packet with a short segment */
        if (len > 20 && ihl == 20) {
            size_t cut = 20 + x % 28;
            if (cut < len) {
                len = cut;
                fz_st16(b + 2, (uint16_t)len);
                if (mode & 0x08)
                    ref_fix_all(b, len);
                else
                    ref_fix_ip(b);
            }
        }
        break;
    case 3: /* total length lies */
        if (len >= 20) {
            fz_st16(b + 2, (uint16_t)(fz_ld16(b + 2) + (int8_t)x));
            if (ihl >= 20 && ihl <= len)
                ref_fix_ip(b);
        }
        break;
    case 4: /* fragment fields */
        if (len >= 20) {
            fz_st16(b + 6, (uint16_t)(x << 8 | y));
            ref_fix_all(b, len);
        }
        break;
    case 5: { /* IP options */
        size_t olen = 4 * (1 + (x % 10));
        if (ihl != 20 || len < 20 || len + olen > 1500)
            break;
        memmove(b + 20 + olen, b + 20, len - 20);
        for (size_t i = 0; i < olen; i++)
            b[20 + i] = (y & 1) ? 1 : fz_u8(f);
        b[0] = (uint8_t)(0x40 | (20 + olen) / 4);
        len += olen;
        fz_st16(b + 2, (uint16_t)(fz_ld16(b + 2) + olen));
        ref_fix_all(b, len);
        break;
    }
    case 6: /* transport checksum: zero (UDP: none) or wrong */
        if (len < 20)
            break;
        if (b[9] == 17 && len >= ihl + 8)
            fz_st16(b + ihl + 6, (x & 1) ? 0 : (uint16_t)(x << 8 | y));
        else if (b[9] == 6 && len >= ihl + 18)
            b[ihl + 16] ^= y ? y : 1;
        else if (b[9] == 1 && len >= ihl + 4)
            b[ihl + 2] ^= y ? y : 1;
        break;
    default: /* link-layer padding past the total length */
        for (size_t i = 0; i < (size_t)(x & 31) && len < 1600; i++)
            b[len++] = y;
        break;
    }
    return len;
}

static size_t
quote_len(uint8_t q, size_t len)
{
    switch (q & 3) {
    case 0:
        return 28;
    case 1:
        return len;
    case 2:
        return 20 + 8 + (q >> 2);
    default:
        return 548;
    }
}

/* Build one packet (or, for a fragmented datagram, several) into the
 * group; returns how many were added. */
static size_t
gen(struct state *st, struct fz *f, struct pkt *out, size_t room)
{
    uint8_t k = fz_u8(f), a = fz_u8(f), pp = fz_u8(f), fl = fz_u8(f);
    enum nat_dir dir = (k & 8) ? NAT_DIR_IN : NAT_DIR_OUT;
    uint8_t kind = k & 7;
    uint16_t sport = pick_port(f, pp & 15), dport = pick_port(f, pp >> 4);
    uint8_t flags = (fl & 8) ? (uint8_t)(fl & 0x3f) : TCP_FLAGS[fl & 7];
    size_t payload = (k >> 4 & 3) == 3 ? 600 : (size_t)(k >> 4 & 3) * 7;
    uint32_t src, dst;
    uint8_t *b = out[0].b;
    size_t len = 0;

    if (dir == NAT_DIR_OUT) {
        src = INSIDE[a & 7];
        dst = REMOTE[a >> 3 & 3];
    } else {
        src = REMOTE[a & 3];
        dst = EXTERNAL[a >> 2 & 3];
    }
    int aim = (a & 0x40) && st->ring_n > 0;
    if (aim) {
        const struct flow *w =
            &st->ring[(a >> 4 & 3) % (st->ring_n < 8 ? st->ring_n : 8)];
        if (dir == NAT_DIR_IN) {
            /* At one of A's mappings, from its remote or another. */
            dst = w->ext;
            dport = w->ext_port;
            if (a & 0x80) {
                src = w->rem;
                sport = w->rem_port;
            }
        } else if (a & 0x80) {
            /* Hairpin to one of A's mappings. */
            dst = w->ext;
            dport = w->ext_port;
        } else {
            /* The same flow again. */
            src = w->in;
            sport = w->in_port;
            dst = w->rem;
            dport = w->rem_port;
        }
        if (kind <= 3)
            kind = w->proto == 17 ? 0 : w->proto == 6 ? 1 : 3;
    }

    switch (kind) {
    case 0:
        len = ref_udp(b, src, sport, dst, dport, payload);
        break;
    case 1:
    case 2:
        len = ref_tcp(b, src, sport, dst, dport, flags, payload);
        break;
    case 3: { /* echo request or reply; the identifier as the port */
        uint8_t type = dir == NAT_DIR_OUT ? ((fl & 1) ? 0 : 8)
                                          : ((fl & 1) ? 8 : 0);
        len = ref_icmp_query(b, src, dst, type,
                             dir == NAT_DIR_OUT ? sport : dport, payload);
        break;
    }
    case 4: { /* an ICMP error about A's last translated packet the other way */
        const uint8_t *q = dir == NAT_DIR_IN ? st->last_out : st->last_in;
        size_t qlen = dir == NAT_DIR_IN ? st->last_out_len : st->last_in_len;
        uint8_t tmp[100];
        if (qlen == 0) {
            qlen = ref_udp(tmp, dst, dport, src, sport, 8);
            q = tmp;
        }
        uint8_t type = (fl & 3) == 0 ? 11 : (fl & 3) == 1 ? 12 : 3;
        /* From the quoted packet's destination or a router on its path,
         * to the quoted packet's source. */
        uint32_t esrc = (fl & 0x40) ? fz_ld32(q + 16) : src;
        len = ref_icmp_error(b, esrc, fz_ld32(q + 12), type, fl >> 2 & 3, q,
                             qlen, quote_len(pp, qlen));
        break;
    }
    case 5: { /* a datagram cut into fragments, sent in a fuzzed order */
        uint8_t whole[1600];
        size_t wl;
        uint8_t cut = fz_u8(f), order = fz_u8(f);
        payload = 16 + (size_t)(cut >> 2 & 7) * 9 + ((fl & 0x80) ? 300 : 0);
        switch (fl >> 4 & 3) {
        case 0:
            wl = ref_udp(whole, src, sport, dst, dport, payload);
            break;
        case 1:
            wl = ref_tcp(whole, src, sport, dst, dport, flags, payload);
            break;
        default:
            wl = ref_icmp_query(whole, src, dst,
                                dir == NAT_DIR_OUT ? 8 : 0,
                                dir == NAT_DIR_OUT ? sport : dport, payload);
            break;
        }
        fz_st16(whole + 4, ++st->ip_id);
        size_t pl = wl - 20, nfr = 2 + cut % 3;
        size_t piece = ((pl / nfr) + 7) & ~(size_t)7;
        if (cut & 0x80) /* a tiny first fragment */
            piece = 8;
        size_t off[4], plen[4], cnt = 0;
        for (size_t o = 0; o < pl && cnt < 4; cnt++) {
            off[cnt] = o;
            plen[cnt] = cnt == 3 || o + piece >= pl ? pl - o : piece;
            o += plen[cnt];
        }
        if (cnt > room)
            cnt = room;
        for (size_t j = 0; j < cnt; j++) {
            size_t i = (order & 0x80) ? (cnt - 1 - (j + order) % cnt)
                                      : (j + order) % cnt;
            uint8_t *p = out[j].b;
            memcpy(p, whole, 20);
            memcpy(p + 20, whole + 20 + off[i], plen[i]);
            fz_st16(p + 2, (uint16_t)(20 + plen[i]));
            int last = off[i] + plen[i] >= pl;
            fz_st16(p + 6, (uint16_t)((last ? 0 : 0x2000) | off[i] / 8));
            ref_fix_ip(p);
            out[j].len = 20 + plen[i];
            out[j].dir = dir;
            if ((order & 0x40) && j == cnt - 1)
                out[j].len = mutate(f, p, out[j].len);
            sanitize(p, out[j].len);
        }
        return cnt;
    }
    case 6: /* neither TCP, UDP nor an ICMP query or error */
        switch (fl & 3) {
        case 0:
        case 1:
            ref_ip_header(b, src, dst, (fl & 1) ? 47 : 50, 8 + payload, 7);
            ref_payload(b + 20, 8 + payload, fl);
            len = 28 + payload;
            break;
        default:
            len = ref_icmp_query(b, src, dst, (fl & 1) ? 5 : 13, sport,
                                 payload);
            break;
        }
        break;
    default: { /* raw bytes, after a generated IPv4 header or not */
        size_t n = fz_u8(f) % 72, h = 0;
        if (fl & 1) {
            static const uint8_t PROTO[4] = {6, 17, 1, 0};
            uint8_t proto = PROTO[fl >> 4 & 3];
            ref_ip_header(b, src, dst, proto ? proto : fl, n, 9);
            h = 20;
        }
        for (size_t i = 0; i < n; i++)
            b[h + i] = fz_u8(f);
        len = h + n;
        if ((fl & 3) == 3)
            ref_fix_all(b, len);
        break;
    }
    }
    if (k & 0x80) {
        len = mutate(f, b, len);
        if (fl & 0x20)
            len = mutate(f, b, len);
    }
    sanitize(b, len);
    out[0].len = len;
    out[0].dir = dir;
    return 1;
}

/* ---- comparisons -------------------------------------------------------- */

static void
stats_same(struct state *st, int x, int y)
{
    struct nat_stats a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    nat_stats_get(st->n[x], &a);
    nat_stats_get(st->n[y], &b);
#define SAME(fld)                                                              \
    do {                                                                       \
        if (a.fld != b.fld)                                                    \
            DIFF_FAIL("nat_stats_get: %s of %s is %" PRIu64 ", of %s %" PRIu64, \
                      #fld, NAME[x], (uint64_t)a.fld, NAME[y],                 \
                      (uint64_t)b.fld);                                        \
    } while (0)
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        if (a.verdicts[v] != b.verdicts[v])
            DIFF_FAIL("nat_stats_get: verdicts[%s] of %s is %" PRIu64
                      ", of %s %" PRIu64,
                      nat_verdict_str((enum nat_verdict)v), NAME[x],
                      a.verdicts[v], NAME[y], b.verdicts[v]);
    for (int r = 0; r < NAT_R_MAX; r++)
        if (a.drops[r] != b.drops[r])
            DIFF_FAIL("nat_stats_get: drops[%s] of %s is %" PRIu64
                      ", of %s %" PRIu64,
                      nat_reason_str((enum nat_reason)r), NAME[x], a.drops[r],
                      NAME[y], b.drops[r]);
    SAME(sessions_created);
    SAME(sessions_ended);
    SAME(bindings_created);
    SAME(bindings_ended);
    SAME(sessions);
    SAME(bindings);
    SAME(hosts);
    SAME(sessions_peak);
    SAME(ports_held);
    SAME(frags_tracked);
    SAME(frags_held);
    SAME(icmp_sent);
    SAME(icmp_limited);
#undef SAME
}

static size_t
sessions(struct nat *n, struct nat_session *s)
{
    size_t cnt = 0;
    uint64_t cur = 0;
    while (cnt <= MAXSESS && nat_session_next(n, &cur, &s[cnt]))
        cnt++;
    FZ_ASSERT(cnt <= MAXSESS);
    return cnt;
}

static void
sessions_same(struct state *st, int x, int y)
{
    struct nat_session a[MAXSESS + 1], b[MAXSESS + 1];
    size_t na = sessions(st->n[x], a), nb = sessions(st->n[y], b);
    if (na != nb)
        DIFF_FAIL("%s has %zu sessions, %s %zu", NAME[x], na, NAME[y], nb);
    for (size_t i = 0; i < na; i++) {
        const struct nat_session *p = &a[i], *q = &b[i];
        if (p->id != q->id || p->proto != q->proto ||
            p->tcp_state != q->tcp_state || p->in_addr != q->in_addr ||
            p->ext_addr != q->ext_addr || p->rem_addr != q->rem_addr ||
            p->in_port != q->in_port || p->ext_port != q->ext_port ||
            p->rem_port != q->rem_port || p->last_ms != q->last_ms ||
            p->expires_ms != q->expires_ms)
            DIFF_FAIL("session %zu: %s has id %" PRIu64 " proto %u state %u "
                      "%08" PRIx32 ":%u/%08" PRIx32 ":%u/%08" PRIx32
                      ":%u last %" PRIu64 " expires %" PRIu64
                      ", %s id %" PRIu64 " proto %u state %u "
                      "%08" PRIx32 ":%u/%08" PRIx32 ":%u/%08" PRIx32
                      ":%u last %" PRIu64 " expires %" PRIu64,
                      i, NAME[x], p->id, p->proto, p->tcp_state, p->in_addr,
                      p->in_port, p->ext_addr, p->ext_port, p->rem_addr,
                      p->rem_port, p->last_ms, p->expires_ms, NAME[y], q->id,
                      q->proto, q->tcp_state, q->in_addr, q->in_port,
                      q->ext_addr, q->ext_port, q->rem_addr, q->rem_port,
                      q->last_ms, q->expires_ms);
    }
}

static void
all_same(struct state *st)
{
    stats_same(st, IA, IB);
    stats_same(st, IA, IC);
    sessions_same(st, IA, IB);
    sessions_same(st, IA, IC);
    events_same(st->ev, IA, IB, "");
    events_same(st->ev, IA, IC, "");
}

static void
result_same(int x, struct nat_result rx, const uint8_t *bx, size_t lx, int y,
            struct nat_result ry, const uint8_t *by, size_t ly)
{
    if (rx.verdict != ry.verdict || rx.reason != ry.reason)
        DIFF_FAIL("%s: %s/%s, %s: %s/%s", NAME[x], nat_verdict_str(rx.verdict),
                  nat_reason_str(rx.reason), NAME[y],
                  nat_verdict_str(ry.verdict), nat_reason_str(ry.reason));
    if (lx != ly)
        DIFF_FAIL("output length: %s %zu, %s %zu", NAME[x], lx, NAME[y], ly);
    for (size_t i = 0; i < lx; i++)
        if (bx[i] != by[i])
            DIFF_FAIL("output byte %zu (of %zu): %s %02x, %s %02x "
                      "(verdict %s)",
                      i, lx, NAME[x], bx[i], NAME[y], by[i],
                      nat_verdict_str(rx.verdict));
}

/* ---- steps ------------------------------------------------------------ */

/* One packet through A and B, each in its own exact-size block. */
static void
per_packet(struct state *st, size_t i)
{
    const struct pkt *p = &st->in[i];
    struct nat_result r[2];
    uint8_t *b[2];
    size_t len[2];
    cur_pkt = (unsigned)i;
    for (int x = IA; x <= IB; x++) {
        b[x] = fz_exact_dup(p->b, p->len);
        len[x] = p->len;
        r[x] = nat_translate(st->n[x], p->dir, b[x], &len[x], p->len,
                             st->now);
        FZ_ASSERT(len[x] <= p->len);
        FZ_ASSERT(r[x].verdict < NAT_VERDICT_MAX && r[x].reason < NAT_R_MAX);
        FZ_ASSERT((r[x].verdict == NAT_DROP) == (r[x].reason != NAT_R_NONE));
    }
    result_same(IA, r[IA], b[IA], len[IA], IB, r[IB], b[IB], len[IB]);
    events_same(st->ev, IA, IB, "after a packet");
    st->ra[i] = r[IA];
    st->outa[i].len = len[IA];
    st->outa[i].dir = p->dir;
    if (len[IA])
        memcpy(st->outa[i].b, b[IA], len[IA]);
    free(b[IA]);
    free(b[IB]);

    if (r[IA].verdict == NAT_HELD) {
        fz_lens_add(&st->held, p->len);
        if (p->len >= 4)
            fz_lens_add(&st->held, fz_ld16(p->b + 2));
    }
    /* What A did steers the packets that follow. */
    const uint8_t *o = st->outa[i].b;
    size_t ol = len[IA];
    if (r[IA].verdict == NAT_OUT) {
        memcpy(st->last_out, o, ol);
        st->last_out_len = ol;
        size_t ihl = (size_t)(o[0] & 0x0f) * 4;
        uint16_t ff = fz_ld16(o + 6);
        if ((o[9] == 6 || o[9] == 17 || o[9] == 1) && (ff & 0x1fff) == 0 &&
            ol >= ihl + 8 && p->len >= ihl + 8 &&
            (o[9] != 1 || o[ihl] == 8)) {
            struct flow *w = &st->ring[st->ring_n++ % 8];
            w->proto = o[9];
            w->in = fz_ld32(p->b + 12);
            w->in_port = port_of(p->b, 0);
            w->ext = fz_ld32(o + 12);
            w->ext_port = port_of(o, 0);
            w->rem = fz_ld32(o + 16);
            w->rem_port = port_of(o, 1);
        }
    } else if (r[IA].verdict == NAT_IN || r[IA].verdict == NAT_HAIRPIN) {
        memcpy(st->last_in, o, ol);
        st->last_in_len = ol;
    }
}

/* The whole group through C in one burst: the same results as A's. */
static void
burst(struct state *st)
{
    struct nat_pkt_io io[MAXG + GSLACK];
    size_t kept = 0;
    for (size_t i = 0; i < st->ng; i++) {
        io[i].buf = fz_exact_dup(st->in[i].b, st->in[i].len);
        io[i].len = st->in[i].len;
        io[i].cap = st->in[i].len;
        io[i].dir = st->in[i].dir;
        io[i].res.verdict = NAT_VERDICT_MAX;
        io[i].res.reason = NAT_R_MAX;
    }
    size_t got = nat_translate_burst(st->n[IC], io, st->ng, st->now);
    for (size_t i = 0; i < st->ng; i++) {
        cur_pkt = (unsigned)i;
        FZ_ASSERT(io[i].len <= io[i].cap);
        result_same(IA, st->ra[i], st->outa[i].b, st->outa[i].len, IC,
                    io[i].res, io[i].buf, io[i].len);
        kept += io[i].res.verdict != NAT_DROP;
        free(io[i].buf);
    }
    cur_pkt = (unsigned)st->ng;
    if (got != kept)
        DIFF_FAIL("nat_translate_burst returned %zu, %zu not dropped", got,
                  kept);
    /* With expire_budget 0 a burst does what the same packets one by one
     * do, in the same order at the same time: the same events too. */
    events_same(st->ev, IA, IC, "over a group (burst)");
}

/* The fragments each instance released: the same, in the same order. */
static void
collect_all(struct state *st, int roomy)
{
    for (int k = 0; k < 2 * MAXHELD; k++) {
        uint8_t *b[NI];
        size_t len[NI];
        struct nat_result r[NI];
        int rc[NI];
        for (int x = 0; x < NI; x++) {
            len[x] = 0;
            rc[x] = fz_collect(st->n[x], &st->held, roomy, &b[x], &len[x],
                               &r[x]);
        }
        for (int x = 1; x < NI; x++) {
            if (rc[x] != rc[IA])
                DIFF_FAIL("nat_frag_collect: %s %d, %s %d", NAME[IA], rc[IA],
                          NAME[x], rc[x]);
            if (rc[IA] == 1)
                result_same(IA, r[IA], b[IA], len[IA], x, r[x], b[x], len[x]);
        }
        if (rc[IA] != 1)
            return;
        FZ_ASSERT(r[IA].verdict == NAT_OUT || r[IA].verdict == NAT_IN ||
                  r[IA].verdict == NAT_HAIRPIN || r[IA].verdict == NAT_PASS);
        for (int x = 0; x < NI; x++)
            free(b[x]);
    }
    FZ_ASSERT(!"more fragments released than can be held");
}

/* ICMP errors for A's drops that deserve one: the same from everyone. */
static void
icmp_errors(struct state *st, uint8_t sel)
{
    static const size_t CAPS[4] = {576, 1600, 100, 48};
    size_t cap = CAPS[sel & 3];
    for (size_t i = 0; i < st->ng; i++) {
        uint8_t type, code;
        if (st->ra[i].verdict != NAT_DROP ||
            !nat_icmp_for_reason(st->ra[i].reason, &type, &code))
            continue;
        cur_pkt = (unsigned)i;
        uint8_t *o[NI];
        int rc[NI];
        for (int x = 0; x < NI; x++) {
            uint8_t *in = fz_exact_dup(st->in[i].b, st->in[i].len);
            o[x] = malloc(cap);
            FZ_ASSERT(o[x] != NULL);
            rc[x] = nat_icmp_error(st->n[x], in, st->in[i].len, type, code,
                                   PUB1, 0, o[x], cap, st->now);
            free(in);
        }
        for (int x = 1; x < NI; x++) {
            if (rc[x] != rc[IA] ||
                (rc[IA] > 0 && memcmp(o[x], o[IA], (size_t)rc[IA]) != 0))
                DIFF_FAIL("nat_icmp_error: %s %d, %s %d (or other bytes)",
                          NAME[IA], rc[IA], NAME[x], rc[x]);
        }
        for (int x = 0; x < NI; x++)
            free(o[x]);
    }
}

static void
advance(struct state *st, struct fz *f)
{
    uint8_t t = fz_u8(f);
    if (t < 128)
        st->now += t;
    else if (t < 200)
        st->now += (uint64_t)(t - 128) * 100;
    else if (t < 248)
        st->now += (uint64_t)(t - 200) * 10000;
    else {
        /* A jump of 2^31..2^33 ms: 32-bit deadlines would wrap. */
        static const uint64_t J[6] = {1ull << 31, (1ull << 32) - 1,
                                      1ull << 32, (1ull << 32) + 1,
                                      1ull << 33, 0};
        uint64_t j = J[t - 248 < 6 ? t - 248 : 5];
        if (j == 0)
            j = (1ull << 31) + (uint64_t)fz_u32(f) * 3 / 2;
        st->now += j;
    }
}

static void
group_step(struct state *st, struct fz *f)
{
    uint8_t g = fz_u8(f);
    size_t want = g < 192 ? 1 + (size_t)(g & 7) : 1 + (size_t)(g % MAXG);
    advance(st, f);
    events_clear(st->ev);
    st->ng = 0;
    while (st->ng < want && f->n > 0)
        st->ng += gen(st, f, &st->in[st->ng], MAXG + GSLACK - st->ng);
    if (st->ng == 0)
        return;
    for (size_t i = 0; i < st->ng; i++)
        per_packet(st, i);
    burst(st);
    uint8_t sel = fz_u8(f);
    collect_all(st, (sel & 0x30) == 0x30);
    icmp_errors(st, sel >> 6);
    cur_pkt = (unsigned)st->ng;
    all_same(st);
}

/* ---- setup -------------------------------------------------------------- */

/* Returns 0 when the config is (rightly) refused. */
static int
setup(struct state *st, struct fz *f)
{
    struct nat_config *c = &st->cfg;
    uint8_t m = fz_u8(f), fl = fz_u8(f), x = fz_u8(f), y = fz_u8(f);
    uint8_t z = fz_u8(f), s = fz_u8(f);
    nat_config_init(c);
    for (int p = 0; p < NAT_P_MAX; p++) {
        c->mapping[p] = (uint8_t)((m >> (2 * p)) % 3);
        c->filtering[p] = (uint8_t)((fl >> (2 * p)) % 3);
    }
    c->port_preserve = x & 1;
    c->port_parity = x >> 1 & 1;
    c->port_class = x >> 2 & 1;
    c->hairpin = (x >> 3 & 1) ^ 1;
    if (x & 0x10) { /* a tiny port range: exhaustion */
        c->port_min = 1024;
        c->port_max = 1031;
    }
    c->host_max_sessions = (x & 0x20) ? 6 : 0;
    c->host_max_ports = (x & 0x40) ? 3 : 0;
    c->max_sessions = (x & 0x80) ? 12 : MAXSESS;
    c->max_bindings = (y & 0x08) ? 8 : 0;
    c->max_hosts = (y & 0x10) ? 3 : 0;
    c->max_pool = 2;
    c->max_forwards = 4;
    c->max_one_to_one = 2;
    c->port_hold_ms = (y & 0x20) ? 0 : 2000;
    if (y & 0x40) { /* short timeouts: expiry within a few steps */
        c->timeout_udp_ms = 3000;
        c->timeout_icmp_ms = 2000;
        c->timeout_tcp_est_ms = 20000;
        c->timeout_tcp_trans_ms = 4000;
    } /* else the RFC defaults: only the big steps and jumps expire them */
    c->icmp_rate = (y & 0x80) ? 1 : 100;
    c->icmp_burst = (y & 0x80) ? 1 : 20;
    static const uint32_t FE[4] = {8, 2, 64, 1}, FH[4] = {4, 1, 0, 16};
    c->frag_entries = FE[z & 3];
    c->frag_held = FH[z >> 2 & 3];
    c->frag_held_per_src = (z & 0x10) ? 0 : 2;
    c->frag_timeout_ms = (z & 0x20) ? 3000 : 15000;
    /* No amortised expiry: it is the one thing a burst does differently
     * (credit earned and spent once per burst), and with it the three
     * instances would end sessions at different calls. */
    c->expire_budget = 0;
    memset(c->secret, s, sizeof(c->secret));
    c->secret[0] ^= z;
    c->event_cb = on_event;

    int rc = nat_config_check(c, NULL);
    if (rc != 0)
        return 0;
    for (int i = 0; i < NI; i++) {
        c->event_arg = &st->ev[i];
        FZ_ASSERT(nat_create(c, &st->n[i]) == 0);
        struct nat *n = st->n[i];
        FZ_ASSERT(nat_pool_add(n, PUB1) == 0);
        if (y & 1)
            FZ_ASSERT(nat_pool_add(n, PUB2) == 0);
        FZ_ASSERT(nat_inside_add(n, FZ_IP4(10, 0, 0, 0), 24) == 0);
        if (y & 2) {
            struct nat_forward fw = {6, PUB1, 80, 0, FWD_TCP_IN, 8080};
            FZ_ASSERT(nat_forward_add(n, &fw) == 0);
            struct nat_forward fu = {17, PUB1, 5000, 5003, FWD_UDP_IN, 6000};
            FZ_ASSERT(nat_forward_add(n, &fu) == 0);
        }
        if (y & 4)
            FZ_ASSERT(nat_one_to_one_add(n, O2O_IN, O2O_EXT) == 0);
        if (i == IB) /* the exclusion nothing uses */
            FZ_ASSERT(nat_exclude_add(n, EXCL, 24) == 0);
    }
    c->event_arg = NULL;
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state st;
    memset(&st, 0, sizeof(st));
    struct fz f = {data, size};
    cur_group = cur_pkt = 0;
    if (!setup(&st, &f))
        return 0;

    unsigned ops = 0;
    while (f.n > 0 && ops++ < 200) {
        uint8_t op = fz_u8(&f);
        cur_group = ops;
        cur_pkt = 0;
        switch (op & 15) {
        default:
            group_step(&st, &f);
            break;
        case 12:
        case 13: { /* an idle period, then expiry with a budget */
            advance(&st, &f);
            uint8_t b = fz_u8(&f);
            size_t budget = (b & 0x80) ? SIZE_MAX : (size_t)(b & 15);
            events_clear(st.ev);
            size_t e[NI];
            for (int x = 0; x < NI; x++)
                e[x] = nat_expire(st.n[x], st.now, budget);
            for (int x = 1; x < NI; x++)
                if (e[x] != e[IA])
                    DIFF_FAIL("nat_expire: %s ended %zu, %s %zu", NAME[IA],
                              e[IA], NAME[x], e[x]);
            all_same(&st);
            break;
        }
        case 14: { /* delete the k-th session, everywhere */
            uint8_t k = fz_u8(&f);
            events_clear(st.ev);
            for (int x = 0; x < NI; x++) {
                uint64_t cur = 0;
                struct nat_session s;
                uint8_t j = k;
                while (nat_session_next(st.n[x], &cur, &s))
                    if (j-- == 0) {
                        FZ_ASSERT(nat_session_delete(st.n[x], s.id,
                                                     st.now) == 0);
                        break;
                    }
            }
            all_same(&st);
            break;
        }
        case 15: { /* flush */
            if (!(op & 0x10)) {
                group_step(&st, &f);
                break;
            }
            events_clear(st.ev);
            size_t e[NI];
            for (int x = 0; x < NI; x++)
                e[x] = nat_flush(st.n[x], st.now);
            for (int x = 1; x < NI; x++)
                if (e[x] != e[IA])
                    DIFF_FAIL("nat_flush: %s ended %zu, %s %zu", NAME[IA],
                              e[IA], NAME[x], e[x]);
            all_same(&st);
            break;
        }
        }
    }

    /* Everything expires, the same way everywhere; then the instances go. */
    cur_group = ops + 1;
    cur_pkt = 0;
    events_clear(st.ev);
    st.now += 1ull << 34;
    size_t e[NI];
    for (int x = 0; x < NI; x++)
        e[x] = nat_expire(st.n[x], st.now, SIZE_MAX);
    for (int x = 1; x < NI; x++)
        if (e[x] != e[IA])
            DIFF_FAIL("final nat_expire: %s ended %zu, %s %zu", NAME[IA],
                      e[IA], NAME[x], e[x]);
    all_same(&st);
    events_clear(st.ev);
    for (int x = 0; x < NI; x++)
        nat_destroy(st.n[x]);
    events_same(st.ev, IA, IB, "in nat_destroy");
    events_same(st.ev, IA, IC, "in nat_destroy");
    return 0;
}
