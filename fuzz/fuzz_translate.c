/*
 * Fuzz target: translation. The input decodes to a sequence of packets in
 * both directions, with time advancing, against a small instance (64
 * sessions, pool 203.0.113.1 [+ .2], inside 10.0.0.0/24, two forwards, a
 * 1:1 mapping). Packets are mostly valid (endpoints, ports and flags from
 * small sets, ICMP errors quoting earlier packets), some corrupted.
 *
 * After every step:
 *  - a translated packet (OUT, IN, HAIRPIN) keeps every checksum that
 *    verified before, by an independent full recomputation (fuzz.h);
 *    a PASS packet is untouched; the length never changes;
 *  - a translated outbound TCP/UDP/echo packet gets a reply from the very
 *    remote endpoint it went to, and that reply must come back in to the
 *    original inside endpoint;
 *  - nat_session_count() equals what iteration finds, every session is
 *    found by lookup from both sides, the event balance equals the live
 *    counts, and no external endpoint serves two inside endpoints;
 * and at the end, after expiry far in the future and a flush, nothing is
 * left alive.
 *
 * Every packet handed to the library lives in a heap block of exactly its
 * length (cap == len: fz_translate() in fuzz.h), and held fragments are
 * collected into blocks of exactly their size (fz_collect()), so ASan
 * reports any access past a packet.
 *
 * The exclusion 10.0.0.128/25 is there only when bit 0x10 of the fourth
 * config byte is set: without any exclusion nat_translate() takes its
 * established-session shortcut (established() in lib/translate.c), which
 * an exclusion turns off.
 *
 * Input: 5 config bytes, then steps: [op][kind][addrs][ports][flags]
 * [corrupt...][time].
 */
#include "config.h"

#include "fuzz.h"
#include "libnat.h"

#define CAP 64
#define PUB1 FZ_IP4(203, 0, 113, 1)
#define PUB2 FZ_IP4(203, 0, 113, 2)
#define O2O_IN FZ_IP4(10, 0, 0, 20)
#define O2O_EXT FZ_IP4(203, 0, 113, 20)
#define FWD_TCP_IN FZ_IP4(10, 0, 0, 10)
#define FWD_UDP_IN FZ_IP4(10, 0, 0, 11)

static const uint32_t INSIDE[8] = {
    FZ_IP4(10, 0, 0, 2),   FZ_IP4(10, 0, 0, 3),  FZ_IP4(10, 0, 0, 4),
    FWD_TCP_IN,            FWD_UDP_IN,           O2O_IN,
    FZ_IP4(10, 0, 0, 130), FZ_IP4(192, 0, 2, 7),
};
static const uint32_t REMOTE[8] = {
    FZ_IP4(198, 51, 100, 10), FZ_IP4(198, 51, 100, 20),
    FZ_IP4(203, 0, 113, 254), PUB1,
    O2O_EXT,                  FZ_IP4(10, 0, 0, 3),
    FZ_IP4(198, 51, 100, 30), FZ_IP4(224, 0, 0, 1),
};
static const uint32_t EXTERNAL[4] = {PUB1, PUB2, O2O_EXT,
                                     FZ_IP4(198, 51, 100, 99)};
static const uint16_t PORTS[15] = {1024, 1025, 1026, 53,    80,
                                   5000, 5001, 5003, 6000,  6003,
                                   8080, 40000, 65535, 1,   0};
static const uint8_t TCP_FLAGS[8] = {0x02, 0x12, 0x10, 0x11,
                                     0x04, 0x14, 0x18, 0x01};

struct counters {
    long sess, bind, exhausted;
};

static void
on_event(const struct nat_event *ev, void *arg)
{
    struct counters *c = arg;
    switch (ev->type) {
    case NAT_EV_SESSION_CREATE: c->sess++; break;
    case NAT_EV_SESSION_DELETE:
        FZ_ASSERT(ev->cause >= NAT_END_EXPIRED && ev->cause <= NAT_END_FLUSHED);
        c->sess--;
        break;
    case NAT_EV_BINDING_CREATE: c->bind++; break;
    case NAT_EV_BINDING_DELETE: c->bind--; break;
    case NAT_EV_EXHAUSTED:
        FZ_ASSERT(ev->reason == NAT_R_TABLE_FULL ||
                  ev->reason == NAT_R_PORTS ||
                  ev->reason == NAT_R_HOST_SESSIONS ||
                  ev->reason == NAT_R_HOST_PORTS);
        c->exhausted++;
        break;
    default:
        FZ_ASSERT(!"unknown event type");
    }
}

struct state {
    struct nat *n;
    struct nat_config cfg;
    struct counters ev;
    uint64_t now;
    /* The last packet that went out and that came in, as translated. */
    uint8_t last_out[1600], last_in[1600];
    size_t last_out_len, last_in_len;
    /* Recent outbound mappings: inbound packets aim at them. */
    struct {
        uint8_t proto;
        uint32_t ext;
        uint16_t ext_port;
        uint32_t rem;
        uint16_t rem_port;
    } ring[8];
    unsigned ring_n;
    uint16_t frag_id;
    struct fz_lens held; /* lengths of the packets that were NAT_HELD */
};

static int
martian(uint32_t a)
{
    uint8_t top = (uint8_t)(a >> 24);
    return top == 0 || top == 127 || top >= 224;
}

static int
ours(uint32_t a)
{
    return a == PUB1 || a == PUB2 || a == O2O_EXT;
}

static int
is_fwd_target(uint32_t a)
{
    return a == FWD_TCP_IN || a == FWD_UDP_IN;
}

/* ---- invariants over the whole table ---------------------------------- */

/*
 * A session past its deadline (expires_ms) is gone for packets and for
 * nat_session_lookup() but stays listed by nat_session_next() and counted
 * until expiry work reaches it (nat_session_lookup(3)). The instance's
 * clock is the latest time given to it, at most st->now: a session with
 * expires_ms > st->now is certainly alive, one with expires_ms <= st->now
 * may be either. Lookups and the pairwise rules below are checked for the
 * certainly alive ones only; the counts cover every listed session.
 */
static int
alive(const struct state *st, const struct nat_session *x)
{
    return x->expires_ms > st->now;
}

static void
check_table(struct state *st)
{
    struct nat *n = st->n;
    struct nat_session s[CAP + 1];
    size_t cnt = 0, by_proto[3] = {0, 0, 0};
    uint64_t cur = 0;
    while (cnt <= CAP && nat_session_next(n, &cur, &s[cnt])) {
        const struct nat_session *x = &s[cnt];
        FZ_ASSERT(x->proto == 6 || x->proto == 17 || x->proto == 1);
        by_proto[x->proto == 6 ? 0 : x->proto == 17 ? 1 : 2]++;
        FZ_ASSERT(x->last_ms <= st->now && x->expires_ms > x->last_ms);
        struct nat_session l;
        int out = nat_session_lookup(n, NAT_DIR_OUT, x->proto, x->in_addr,
                                     x->in_port, x->rem_addr, x->rem_port, &l);
        FZ_ASSERT(out == 0 || out == NAT_ENOENT);
        FZ_ASSERT(out == NAT_ENOENT ? !alive(st, x) : l.id == x->id);
        int in = nat_session_lookup(n, NAT_DIR_IN, x->proto, x->ext_addr,
                                    x->ext_port, x->rem_addr, x->rem_port, &l);
        FZ_ASSERT(in == 0 || in == NAT_ENOENT);
        FZ_ASSERT(in == NAT_ENOENT ? !alive(st, x) : l.id == x->id);
        /* Found from one side, found from the other. */
        FZ_ASSERT(out == in);
        cnt++;
    }
    FZ_ASSERT(cnt <= CAP);
    FZ_ASSERT(nat_session_count(n, 0) == cnt);
    FZ_ASSERT(nat_session_count(n, 6) == by_proto[0]);
    FZ_ASSERT(nat_session_count(n, 17) == by_proto[1]);
    FZ_ASSERT(nat_session_count(n, 1) == by_proto[2]);

    struct nat_stats sts;
    nat_stats_get(n, &sts);
    FZ_ASSERT(sts.sessions == cnt);
    FZ_ASSERT(sts.sessions_created - sts.sessions_ended == cnt);
    FZ_ASSERT(sts.bindings_created - sts.bindings_ended == sts.bindings);
    FZ_ASSERT((long)cnt == st->ev.sess && (long)sts.bindings == st->ev.bind);
    FZ_ASSERT(sts.bindings <= cnt); /* every live binding has a session */
    FZ_ASSERT(sts.frags_tracked <= st->cfg.frag_entries);
    FZ_ASSERT(sts.frags_held <= st->cfg.frag_held);

    for (size_t i = 0; i < cnt; i++) {
        uint32_t host_sess = 0;
        for (size_t j = 0; j < cnt; j++) {
            if (s[i].in_addr == s[j].in_addr)
                host_sess++;
            if (!alive(st, &s[i]) || !alive(st, &s[j]))
                continue;
            /* RFC 4787 REQ-3: one external endpoint, one inside one. */
            if (s[i].proto == s[j].proto && s[i].ext_addr == s[j].ext_addr &&
                s[i].ext_port == s[j].ext_port)
                FZ_ASSERT(s[i].in_addr == s[j].in_addr &&
                          s[i].in_port == s[j].in_port);
            if (is_fwd_target(s[i].in_addr) || s[i].in_addr != s[j].in_addr)
                continue;
            /* RFC 4787 REQ-2: paired pooling. */
            FZ_ASSERT(s[i].ext_addr == s[j].ext_addr);
            /* REQ-1: endpoint-independent mapping where configured. */
            int pi = s[i].proto == 6 ? 0 : s[i].proto == 17 ? 1 : 2;
            if (st->cfg.mapping[pi] == NAT_MAP_EI &&
                s[i].proto == s[j].proto && s[i].in_port == s[j].in_port)
                FZ_ASSERT(s[i].ext_port == s[j].ext_port);
        }
        if (st->cfg.host_max_sessions)
            FZ_ASSERT(host_sess <= st->cfg.host_max_sessions);
    }
}

/* ---- translating one packet with its checks ---------------------------- */

static struct nat_result
xlate(struct state *st, enum nat_dir dir, uint8_t *buf, size_t len)
{
    static uint8_t orig[1600];
    memcpy(orig, buf, len);
    struct ref_check before = ref_check(buf, len);
    size_t l = len;
    /* On an exact-size heap copy: cap == len. */
    struct nat_result r = fz_translate(st->n, dir, buf, &l, st->now);
    FZ_ASSERT(l == len);
    if (r.verdict == NAT_HELD) {
        fz_lens_add(&st->held, len);
        if (len >= 4)
            fz_lens_add(&st->held, fz_ld16(buf + 2));
    }
    FZ_ASSERT(r.verdict < NAT_VERDICT_MAX && r.reason < NAT_R_MAX);
    FZ_ASSERT((r.verdict == NAT_DROP) == (r.reason != NAT_R_NONE));
    switch (r.verdict) {
    case NAT_OUT:
    case NAT_IN:
    case NAT_HAIRPIN: {
        struct ref_check after = ref_check(buf, len);
        FZ_ASSERT(ref_check_kept(&before, &after));
        /* Only the header bytes change: the ones past tot_len never. */
        size_t tot = fz_ld16(buf + 2);
        FZ_ASSERT(memcmp(buf + tot, orig + tot, len - tot) == 0);
        FZ_ASSERT(dir == NAT_DIR_OUT ? r.verdict != NAT_IN
                                     : r.verdict == NAT_IN);
        break;
    }
    case NAT_PASS:
        FZ_ASSERT(memcmp(buf, orig, len) == 0);
        break;
    default:
        break;
    }
    return r;
}

/* Transport "port" of a packet: TCP/UDP source or destination, ICMP id. */
static uint16_t
port_of(const uint8_t *b, int dst)
{
    const uint8_t *l4 = b + (b[0] & 0x0f) * 4;
    return b[9] == 1 ? fz_ld16(l4 + 4) : fz_ld16(l4 + 2 * dst);
}

/* After an outbound packet went out translated: the remote answers, and
 * the answer must reach the inside endpoint that sent it. */
static void
check_reply(struct state *st, const uint8_t *orig, const uint8_t *out)
{
    uint8_t proto = orig[9];
    uint32_t in_addr = fz_ld32(orig + 12), rem = fz_ld32(orig + 16);
    uint16_t in_port = port_of(orig, 0), rem_port = port_of(orig, 1);
    uint32_t ext = fz_ld32(out + 12);
    uint16_t ext_port = port_of(out, 0);
    const uint8_t *l4 = orig + (orig[0] & 0x0f) * 4;

    /* A NAT_OUT packet leaves with its destination unchanged. */
    FZ_ASSERT(fz_ld32(out + 16) == rem);
    if (proto != 1)
        FZ_ASSERT(port_of(out, 1) == rem_port);
    if (martian(rem) || ours(rem) || (fz_ld16(orig + 6) & 0x1fff) != 0)
        return;
    /* An outbound RST does not refresh its session, which ends a
     * transitory time after its last other packet, or at once if that is
     * longer ago (nat_translate(3), RFC 7857 7.1): no reply is owed. */
    if (proto == 6 && (l4[13] & 0x04))
        return;

    uint8_t buf[1600];
    size_t len;
    switch (proto) {
    case 17:
        len = ref_udp(buf, rem, rem_port, ext, ext_port, 3);
        break;
    case 6:
        len = ref_tcp(buf, rem, rem_port, ext, ext_port, 0x10, 0);
        break;
    case 1:
        if (l4[0] != 8) /* only echo requests get a reply here */
            return;
        len = ref_icmp_query(buf, rem, ext, 0, ext_port, 2);
        break;
    default:
        return;
    }
    struct nat_result r = xlate(st, NAT_DIR_IN, buf, len);
    FZ_ASSERT(r.verdict == NAT_IN);
    FZ_ASSERT(fz_ld32(buf + 12) == rem && fz_ld32(buf + 16) == in_addr);
    FZ_ASSERT(port_of(buf, 1) == in_port);
    if (proto != 1)
        FZ_ASSERT(port_of(buf, 0) == rem_port);
}

/* ---- packet generation ------------------------------------------------- */

static uint16_t
pick_port(struct fz *f, unsigned idx)
{
    return idx < 15 ? PORTS[idx] : fz_u16(f);
}

/* Damage a packet in one of a few ways (sometimes keeping checksums). */
static size_t
corrupt(struct fz *f, uint8_t *b, size_t len)
{
    uint8_t mode = fz_u8(f), x = fz_u8(f), y = fz_u8(f);
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    switch (mode % 8) {
    case 0: /* flip bits */
        b[x % len] ^= y ? y : 1;
        break;
    case 1: /* flip bits and fix checksums: valid but odd */
        b[x % len] ^= y ? y : 1;
        ref_fix_all(b, len);
        break;
    case 2: /* truncate */
        len = len ? x % len : 0;
        break;
    case 3: /* total length lies */
        fz_st16(b + 2, (uint16_t)(fz_ld16(b + 2) + (int8_t)x));
        ref_fix_ip(b);
        break;
    case 4: /* fragment fields */
        fz_st16(b + 6, (uint16_t)(x << 8 | y));
        ref_fix_all(b, len);
        break;
    case 5: { /* IP options */
        size_t olen = 4 * (1 + (x % 10));
        if (ihl != 20 || len + olen > 1500)
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
    switch (q % 4) {
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

/* Build one packet for direction @dir into @b; returns its length. */
static size_t
make_packet(struct state *st, struct fz *f, enum nat_dir dir, uint8_t *b)
{
    uint8_t k = fz_u8(f), a = fz_u8(f), pp = fz_u8(f), fl = fz_u8(f);
    uint32_t src, dst;
    uint16_t sport = pick_port(f, pp & 15), dport = pick_port(f, pp >> 4);
    uint8_t flags = (fl & 8) ? (uint8_t)(fl & 0x3f) : TCP_FLAGS[fl & 7];
    size_t payload = (k >> 3 & 3) == 3 ? 600 : (k >> 3 & 3) * 7;
    uint8_t kind = k & 7;

    if (dir == NAT_DIR_OUT) {
        src = INSIDE[a & 7];
        dst = REMOTE[a >> 3 & 7];
    } else {
        src = REMOTE[a & 7];
        dst = EXTERNAL[a >> 3 & 3];
        if ((a & 0x20) && st->ring_n > 0) {
            /* Aim at a live-looking mapping; the exact remote or not. */
            unsigned i = (a >> 6) % (st->ring_n < 8 ? st->ring_n : 8);
            dst = st->ring[i].ext;
            dport = st->ring[i].ext_port;
            if (fl & 0x80) {
                src = st->ring[i].rem;
                sport = st->ring[i].rem_port;
            }
            if (kind <= 2)
                kind = st->ring[i].proto == 17 ? 0
                       : st->ring[i].proto == 6 ? 1
                                                : 4;
        }
    }

    size_t len;
    switch (kind) {
    case 0:
        len = ref_udp(b, src, sport, dst, dport, payload);
        break;
    case 1:
    case 2:
        len = ref_tcp(b, src, sport, dst, dport, flags, payload);
        break;
    case 3: /* echo request; id from the source port */
    case 4: /* echo reply */
        len = ref_icmp_query(b, src, dst, kind == 3 ? 8 : 0,
                             dir == NAT_DIR_OUT ? sport : dport, payload);
        break;
    case 5: { /* an ICMP error about the last packet the other way */
        const uint8_t *q = dir == NAT_DIR_IN ? st->last_out : st->last_in;
        size_t qlen = dir == NAT_DIR_IN ? st->last_out_len : st->last_in_len;
        uint8_t tmp[100];
        if (qlen == 0) {
            qlen = ref_udp(tmp, dst, dport, src, sport, 8);
            q = tmp;
        }
        uint8_t type = (fl & 3) == 0 ? 11 : (fl & 3) == 1 ? 12 : 3;
        /* Sent by the quoted packet's destination (or a router on its
         * path) back to the quoted source. */
        uint32_t esrc = (fl & 0x40) ? fz_ld32(q + 16) : src;
        len = ref_icmp_error(b, esrc, fz_ld32(q + 12), type, fl >> 2 & 3, q,
                             qlen, quote_len(pp, qlen));
        break;
    }
    case 6: /* a protocol without ports */
        ref_ip_header(b, src, dst, (fl & 1) ? 47 : 50, 8 + payload, 7);
        ref_payload(b + 20, 8 + payload, fl);
        len = 28 + payload;
        break;
    default: /* an ICMP type that is neither query nor error */
        len = ref_icmp_query(b, src, dst, (fl & 1) ? 5 : 13, sport, payload);
        b[20] = (fl & 2) ? 4 : b[20];
        ref_fix_all(b, len);
        break;
    }
    if ((k >> 5) == 7)
        len = corrupt(f, b, len);
    return len;
}


/* ---- fragments the instance held and released later ---------------------- */

/* Pieces of the datagram being fragmented in this step, by offset. */
struct frags {
    uint16_t id;
    size_t n;
    size_t off[4], plen[4];
    int got[4];
    enum nat_verdict v[4];
    uint8_t out[4][1600];
    size_t out_len[4];
};

static void
frags_record(struct frags *fc, const uint8_t *b, size_t len, enum nat_verdict v)
{
    if (fc == NULL || len < 20 || fz_ld16(b + 4) != fc->id)
        return;
    size_t off = (size_t)(fz_ld16(b + 6) & 0x1fff) * 8;
    for (size_t i = 0; i < fc->n; i++) {
        if (fc->off[i] == off && !fc->got[i]) {
            fc->got[i] = 1;
            fc->v[i] = v;
            memcpy(fc->out[i], b, len);
            fc->out_len[i] = len;
            return;
        }
    }
}

/* Take every fragment libnat has released; each is a well-formed packet
 * with a verdict and a valid header checksum. */
static void
drain(struct state *st, struct fz *f, struct frags *fc)
{
    size_t len = 0;
    struct nat_result r;
    int rc, roomy = 0;
    uint8_t *b;
    if (f != NULL) {
        uint8_t sel = fz_u8(f);
        if ((sel & 0x0f) == 0) {
            /* Too small a buffer: the fragment must stay queued. */
            b = malloc(20);
            FZ_ASSERT(b != NULL);
            rc = nat_frag_collect(st->n, b, 20, &len, &r);
            FZ_ASSERT(rc == 0 || rc == NAT_ENOSPC);
            free(b);
        }
        /* Sometimes a roomy buffer: nothing past the fragment changes. */
        roomy = (sel & 0x30) == 0x30;
    }
    /* Otherwise each one into a block of exactly its size. */
    while ((rc = fz_collect(st->n, &st->held, roomy, &b, &len, &r)) == 1) {
        FZ_ASSERT(len >= 20 && len <= 1600);
        FZ_ASSERT(r.reason == NAT_R_NONE);
        FZ_ASSERT(r.verdict == NAT_OUT || r.verdict == NAT_IN ||
                  r.verdict == NAT_HAIRPIN || r.verdict == NAT_PASS);
        struct ref_check c = ref_check(b, len);
        FZ_ASSERT(c.parsed && c.ip_ok);
        FZ_ASSERT((fz_ld16(b + 6) & 0x1fff) != 0); /* never a first */
        frags_record(fc, b, len, r.verdict);
        free(b);
    }
    FZ_ASSERT(rc == 0);
}

/* ---- ICMP errors generated for dropped packets ---------------------------- */

static int
is_group(uint32_t a)
{
    return (a >> 28) == 0xe || a == UINT32_MAX;
}

static void
gen_error(struct state *st, struct fz *f, const uint8_t *pkt, size_t len,
          uint8_t type, uint8_t code)
{
    static const size_t CAPS[4] = {1600, 576, 100, 27};
    size_t cap = CAPS[fz_u8(f) & 3];
    uint32_t src = PUB1;
    /* The packet and the output each in a block of exactly their size. */
    uint8_t *in = fz_exact_dup(pkt, len);
    uint8_t *out = malloc(cap);
    FZ_ASSERT(out != NULL);
    int rc = nat_icmp_error(st->n, in, len, type, code, src, 1400, out, cap,
                            st->now);
    FZ_ASSERT(len == 0 || memcmp(in, pkt, len) == 0); /* never written */
    free(in);
    if (rc <= 0) {
        FZ_ASSERT(rc == NAT_EINVAL || rc == NAT_ENOSPC || rc == NAT_ELIMIT);
        free(out);
        return;
    }
    size_t n = (size_t)rc;
    FZ_ASSERT(ref_icmp_is_error(type));
    FZ_ASSERT(n <= cap && n <= 576 && n >= 28 + 20);
    struct ref_check c = ref_check(out, n);
    FZ_ASSERT(c.parsed && c.ip_ok && c.l4_present && c.l4_ok);
    FZ_ASSERT(fz_ld16(out + 2) == n && out[9] == 1);
    FZ_ASSERT(out[20] == type && out[21] == code);
    FZ_ASSERT(fz_ld32(out + 12) == src && fz_ld32(out + 16) == fz_ld32(pkt + 12));
    size_t tot = fz_ld16(pkt + 2);
    FZ_ASSERT(n == 28 + (tot < 548 ? tot : 548));
    FZ_ASSERT(memcmp(out + 28, pkt, n - 28) == 0);
    /* RFC 1122 3.2.2: not about errors, later fragments or groups. */
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    FZ_ASSERT((fz_ld16(pkt + 6) & 0x1fff) == 0);
    FZ_ASSERT(!(pkt[9] == 1 && ihl < len && ref_icmp_is_error(pkt[ihl])));
    FZ_ASSERT(!is_group(fz_ld32(pkt + 12)) && !is_group(fz_ld32(pkt + 16)));
    free(out);
}

static void
maybe_error(struct state *st, struct fz *f, const uint8_t *orig, size_t len,
            struct nat_result r)
{
    uint8_t type, code;
    if (r.verdict == NAT_DROP && nat_icmp_for_reason(r.reason, &type, &code)) {
        FZ_ASSERT(type == 3 && code == 13);
        gen_error(st, f, orig, len, type, code);
        return;
    }
    uint8_t k = fz_u8(f);
    if ((k & 7) == 0) {
        static const uint8_t TYPES[4] = {3, 11, 12, 4};
        FZ_ASSERT(!nat_icmp_for_reason(r.reason, &type, &code) ||
                  r.verdict == NAT_DROP);
        gen_error(st, f, orig, len, TYPES[k >> 3 & 3], (uint8_t)(k >> 5));
    }
}

static void
remember(struct state *st, enum nat_dir dir, const uint8_t *orig,
         const uint8_t *b, size_t len)
{
    if (dir == NAT_DIR_OUT) {
        memcpy(st->last_out, b, len);
        st->last_out_len = len;
        if (len >= 28 && (b[9] == 6 || b[9] == 17 || b[9] == 1)) {
            unsigned i = st->ring_n++ % 8;
            st->ring[i].proto = b[9];
            st->ring[i].ext = fz_ld32(b + 12);
            st->ring[i].ext_port = port_of(b, 0);
            st->ring[i].rem = fz_ld32(orig + 16);
            st->ring[i].rem_port = port_of(orig, 1);
        }
    } else {
        memcpy(st->last_in, b, len);
        st->last_in_len = len;
    }
}

/* One packet: build, translate, check, maybe reply. */
static void
packet_step(struct state *st, struct fz *f, enum nat_dir dir)
{
    uint8_t b[1600], orig[1600];
    size_t len = make_packet(st, f, dir, b);
    memcpy(orig, b, len);
    struct ref_check rc = ref_check(b, len);
    struct nat_result r = xlate(st, dir, b, len);
    if (r.verdict == NAT_OUT || r.verdict == NAT_IN ||
        r.verdict == NAT_HAIRPIN)
        remember(st, r.verdict == NAT_OUT ? NAT_DIR_OUT : NAT_DIR_IN, orig,
                 b, len);
    /* A well-formed translated TCP/UDP/ICMP packet with the standard
     * header: its reply must come back. */
    drain(st, f, NULL);
    maybe_error(st, f, orig, len, r);
    if (r.verdict == NAT_OUT && rc.parsed && rc.l4_present &&
        (orig[0] & 0x0f) == 5 && len >= 28 && (orig[9] != 6 || len >= 40) &&
        (fz_ld16(orig + 6) & 0x2000) == 0)
        check_reply(st, orig, b);
}

/* One datagram cut into 2-4 fragments sent in a fuzzed order. Later
 * fragments follow their first fragment's verdict and addresses; when all
 * come back translated, the reassembled datagram's transport checksum
 * still verifies. */
static void
frag_step(struct state *st, struct fz *f, enum nat_dir dir)
{
    static uint8_t b[1600], pkt[1600];
    static struct frags fc;
    size_t len = make_packet(st, f, dir, b);
    uint8_t cut = fz_u8(f), order = fz_u8(f);
    struct ref_check whole = ref_check(b, len);
    size_t pl = len - 20;
    if (!whole.parsed || (b[0] & 0x0f) != 5 || fz_ld16(b + 2) != len ||
        len < 20 + 16 || (fz_ld16(b + 6) & 0x3fff) != 0) {
        xlate(st, dir, b, len);
        drain(st, f, NULL);
        return;
    }
    memset(&fc, 0, sizeof(fc));
    fc.id = ++st->frag_id;
    fz_st16(b + 4, fc.id);
    fc.n = 2 + cut % 3;
    size_t piece = ((pl / fc.n) + 7) & ~(size_t)7;
    if (piece < 8)
        piece = 8;
    if (cut & 0x80) /* a tiny first fragment */
        piece = 8;
    size_t n = 0;
    for (size_t off = 0; off < pl && n < 4; n++) {
        fc.off[n] = off;
        fc.plen[n] = n == 3 || off + piece >= pl ? pl - off : piece;
        off += fc.plen[n];
    }
    fc.n = n;

    enum nat_verdict first = NAT_DROP;
    int first_done = 0;
    uint32_t fsrc = 0, fdst = 0;
    for (size_t k = 0; k < fc.n; k++) {
        size_t i = (order & 0x80) ? (fc.n - 1 - (k + order) % fc.n)
                                  : (k + order) % fc.n;
        memcpy(pkt, b, 20);
        memcpy(pkt + 20, b + 20 + fc.off[i], fc.plen[i]);
        fz_st16(pkt + 2, (uint16_t)(20 + fc.plen[i]));
        int last = fc.off[i] + fc.plen[i] >= pl;
        fz_st16(pkt + 6, (uint16_t)((last ? 0 : 0x2000) | fc.off[i] / 8));
        ref_fix_ip(pkt);
        size_t flen = 20 + fc.plen[i];
        struct nat_result r = xlate(st, dir, pkt, flen);
        if (r.verdict == NAT_OUT || r.verdict == NAT_IN ||
            r.verdict == NAT_HAIRPIN || r.verdict == NAT_PASS)
            frags_record(&fc, pkt, flen, r.verdict);
        if (i == 0) {
            first = r.verdict;
            first_done = 1;
            fsrc = fz_ld32(pkt + 12);
            fdst = fz_ld32(pkt + 16);
        } else if (first_done && (first == NAT_OUT || first == NAT_IN ||
                                  first == NAT_HAIRPIN)) {
            /* After a translated first: same verdict, or held/dropped
             * when its state was recycled. Never passed untranslated. */
            FZ_ASSERT(r.verdict == first || r.verdict == NAT_HELD ||
                      r.verdict == NAT_DROP);
        }
        drain(st, f, &fc);
    }
    if (!(first == NAT_OUT || first == NAT_IN || first == NAT_HAIRPIN))
        return;
    size_t got = 0;
    for (size_t i = 0; i < fc.n; i++) {
        if (!fc.got[i])
            continue;
        got++;
        FZ_ASSERT(fc.v[i] == first);
        FZ_ASSERT(fz_ld32(fc.out[i] + 12) == fsrc &&
                  fz_ld32(fc.out[i] + 16) == fdst);
    }
    if (got != fc.n || !whole.l4_ok)
        return;
    /* Reassemble what was sent and verify the transport checksum. */
    memcpy(pkt, fc.out[0], 20);
    for (size_t i = 0; i < fc.n; i++)
        memcpy(pkt + 20 + fc.off[i], fc.out[i] + 20, fc.plen[i]);
    fz_st16(pkt + 2, (uint16_t)len);
    fz_st16(pkt + 6, 0);
    ref_fix_ip(pkt);
    struct ref_check re = ref_check(pkt, len);
    FZ_ASSERT(re.l4_present && re.l4_ok);
}

/* A burst of a few packets through nat_translate_burst(). */
static void
burst_step(struct state *st, struct fz *f)
{
    uint8_t bufs[4][1600], orig[4][1600];
    struct nat_pkt_io io[4];
    struct ref_check before[4];
    size_t cnt = 2 + (fz_u8(f) & 1) * 2;
    for (size_t i = 0; i < cnt; i++) {
        io[i].dir = (fz_u8(f) & 1) ? NAT_DIR_IN : NAT_DIR_OUT;
        io[i].len = make_packet(st, f, io[i].dir, bufs[i]);
        memcpy(orig[i], bufs[i], io[i].len);
        before[i] = ref_check(bufs[i], io[i].len);
        /* Each packet in a block of exactly its length. */
        io[i].buf = fz_exact_dup(bufs[i], io[i].len);
        io[i].cap = io[i].len;
    }
    size_t kept = nat_translate_burst(st->n, io, cnt, st->now);
    size_t k2 = 0;
    for (size_t i = 0; i < cnt; i++) {
        enum nat_verdict v = io[i].res.verdict;
        k2 += v != NAT_DROP;
        FZ_ASSERT(io[i].len == io[i].cap);
        if (io[i].len)
            memcpy(bufs[i], io[i].buf, io[i].len);
        free(io[i].buf);
        if (v == NAT_HELD) {
            fz_lens_add(&st->held, io[i].len);
            if (io[i].len >= 4)
                fz_lens_add(&st->held, fz_ld16(bufs[i] + 2));
        }
        if (v == NAT_OUT || v == NAT_IN || v == NAT_HAIRPIN) {
            struct ref_check after = ref_check(bufs[i], io[i].len);
            FZ_ASSERT(ref_check_kept(&before[i], &after));
        } else if (v == NAT_PASS) {
            FZ_ASSERT(memcmp(bufs[i], orig[i], io[i].len) == 0);
        }
    }
    FZ_ASSERT(kept == k2);
    drain(st, f, NULL);
}

static void
advance(struct state *st, uint8_t t)
{
    if (t < 128)
        st->now += t;
    else if (t < 224)
        st->now += (uint64_t)(t - 128) * 100;
    else
        st->now += (uint64_t)(t - 224) * 10000;
}

/* ---- setup ------------------------------------------------------------- */

/* Returns 0 when the fuzzed config is (rightly) refused. */
static int
setup(struct state *st, struct fz *f)
{
    struct nat_config *c = &st->cfg;
    uint8_t m = fz_u8(f), fl = fz_u8(f), x = fz_u8(f), y = fz_u8(f);
    uint8_t z = fz_u8(f);
    nat_config_init(c);
    static const uint32_t FE[4] = {8, 2, 0, 64}, FH[4] = {4, 1, 0, 16};
    c->frag_entries = FE[z & 3]; /* 0 is invalid: F1 in README.md */
    c->frag_held = FH[z >> 2 & 3];
    c->frag_held_per_src = (z & 0x10) ? 0 : 2;
    c->frag_timeout_ms = 3000;
    c->icmp_rate = (z & 0x20) ? 0 : (z & 0x40) ? 1 : 100;
    c->icmp_burst = (z & 0x80) ? 0 : 20;
    c->max_sessions = CAP;
    c->max_bindings = (x & 0x80) ? 16 : 0;
    c->max_hosts = (y & 0x80) ? 4 : 0;
    c->max_pool = 2;
    c->max_forwards = 4;
    c->max_one_to_one = 2;
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
    c->host_max_sessions = (x & 0x20) ? 8 : 0;
    c->host_max_ports = (x & 0x40) ? 4 : 0;
    c->timeout_udp_ms = 3000;
    c->timeout_icmp_ms = 2000;
    c->timeout_tcp_est_ms = 20000;
    c->timeout_tcp_trans_ms = 4000;
    c->port_hold_ms = (y & 1) ? 0 : 2000;
    c->expire_budget = y >> 1 & 7;
    memset(c->secret, y, sizeof(c->secret));
    c->event_cb = on_event;
    c->event_arg = &st->ev;

    int rc = nat_config_check(c, NULL);
    if (rc != 0) {
        FZ_ASSERT(nat_create(c, &st->n) == rc);
        return 0;
    }
    FZ_ASSERT(nat_create(c, &st->n) == 0);
    FZ_ASSERT(nat_pool_add(st->n, PUB1) == 0);
    if (y & 0x40)
        FZ_ASSERT(nat_pool_add(st->n, PUB2) == 0);
    FZ_ASSERT(nat_inside_add(st->n, FZ_IP4(10, 0, 0, 0), 24) == 0);
    /* An exclusion turns the established-session shortcut off: only
     * sometimes, so that both paths are fuzzed. */
    if (y & 0x10)
        FZ_ASSERT(nat_exclude_add(st->n, FZ_IP4(10, 0, 0, 128), 25) == 0);
    struct nat_forward fw = {6, PUB1, 80, 0, FWD_TCP_IN, 8080};
    FZ_ASSERT(nat_forward_add(st->n, &fw) == 0);
    struct nat_forward fu = {17, PUB1, 5000, 5003, FWD_UDP_IN, 6000};
    FZ_ASSERT(nat_forward_add(st->n, &fu) == 0);
    FZ_ASSERT(nat_one_to_one_add(st->n, O2O_IN, O2O_EXT) == 0);
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state st;
    memset(&st, 0, sizeof(st));
    struct fz f = {data, size};
    if (!setup(&st, &f))
        return 0;

    int steps = 0;
    while (f.n > 0 && steps++ < 400) {
        uint8_t op = fz_u8(&f);
        switch (op % 16) {
        case 0: case 1: case 2: case 3: case 4:
            packet_step(&st, &f, NAT_DIR_OUT);
            break;
        case 5: case 6: case 7: case 8: case 9:
            packet_step(&st, &f, NAT_DIR_IN);
            break;
        case 10: case 11:
            frag_step(&st, &f, (op & 0x10) ? NAT_DIR_IN : NAT_DIR_OUT);
            break;
        case 12:
            burst_step(&st, &f);
            break;
        case 13: { /* an idle period */
            advance(&st, fz_u8(&f));
            size_t before = nat_session_count(st.n, 0);
            size_t ended = nat_expire(st.n, st.now, fz_u8(&f) & 15);
            FZ_ASSERT(ended <= before &&
                      nat_session_count(st.n, 0) == before - ended);
            break;
        }
        case 14: { /* delete a session by id */
            uint8_t k = fz_u8(&f);
            uint64_t cur = 0;
            struct nat_session s;
            while (nat_session_next(st.n, &cur, &s))
                if (k-- == 0) {
                    FZ_ASSERT(nat_session_delete(st.n, s.id, st.now) == 0);
                    break;
                }
            break;
        }
        default:
            if (op & 0x10) {
                size_t before = nat_session_count(st.n, 0);
                FZ_ASSERT(nat_flush(st.n, st.now) == before);
            } else {
                advance(&st, fz_u8(&f));
            }
            break;
        }
        advance(&st, (op >> 4) < 12 ? (op >> 4) : 0);
        check_table(&st);
    }

    /* Everything expires: nothing may be left alive. Ports ended now are
     * held down from now on, so they go one hold period later. */
    st.now += 1000000000ull;
    nat_expire(st.n, st.now, SIZE_MAX);
    check_table(&st);
    struct nat_stats sts;
    nat_stats_get(st.n, &sts);
    FZ_ASSERT(sts.sessions == 0 && sts.bindings == 0 && sts.hosts == 0);
    FZ_ASSERT(sts.frags_tracked == 0 && sts.frags_held == 0);
    st.now += (uint64_t)st.cfg.port_hold_ms + 1;
    nat_expire(st.n, st.now, SIZE_MAX);
    nat_stats_get(st.n, &sts);
    FZ_ASSERT(sts.ports_held == 0);
    nat_flush(st.n, st.now);
    nat_stats_get(st.n, &sts);
    FZ_ASSERT(sts.sessions == 0 && sts.bindings == 0 && sts.hosts == 0 &&
              sts.ports_held == 0 && sts.frags_tracked == 0 &&
              sts.frags_held == 0);
    FZ_ASSERT(st.ev.sess == 0 && st.ev.bind == 0);
    FZ_ASSERT(sts.sessions_created == sts.sessions_ended);
    nat_destroy(st.n);
    return 0;
}
