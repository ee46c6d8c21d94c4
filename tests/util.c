/* Packet builders and independent checksum verification for tests. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "packet.h"
#include "tests.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void
t_srand(uint64_t seed)
{
    rng_state = seed ? seed : 1;
}

uint64_t
t_rand(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* A deliberately naive RFC 1071 reference: 16-bit words, 32-bit sum. */
static uint32_t
ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t
ref_finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t
ref_pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
    uint32_t s = ref_sum(ip + 12, 8, 0);
    return s + proto + (uint32_t)l4len;
}

static void
ip_header(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto, size_t l4len)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    st16(b + 2, (uint16_t)(20 + l4len));
    st16(b + 4, 0x1234);
    b[8] = 64;
    b[9] = proto;
    st32(b + 12, src);
    st32(b + 16, dst);
    t_fix_ip_csum(b);
}

void
t_fix_ip_csum(uint8_t *b)
{
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    st16(b + 10, 0);
    st16(b + 10, ref_finish(ref_sum(b, ihl, 0)));
}

static void
fill_payload(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 3);
}

size_t
t_udp(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
      size_t payload)
{
    size_t l4 = 8 + payload;
    ip_header(b, src, dst, 17, l4);
    uint8_t *u = b + 20;
    st16(u, sport);
    st16(u + 2, dport);
    st16(u + 4, (uint16_t)l4);
    st16(u + 6, 0);
    fill_payload(u + 8, payload);
    uint16_t c = ref_finish(ref_sum(u, l4, ref_pseudo(b, 17, l4)));
    st16(u + 6, c == 0 ? 0xffff : c);
    return 20 + l4;
}

size_t
t_tcp(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
      uint8_t flags, size_t payload)
{
    size_t l4 = 20 + payload;
    ip_header(b, src, dst, 6, l4);
    uint8_t *t = b + 20;
    memset(t, 0, 20);
    st16(t, sport);
    st16(t + 2, dport);
    st32(t + 4, 1000);
    st32(t + 8, (flags & 0x10) ? 2000 : 0);
    t[12] = 5 << 4;
    t[13] = flags;
    st16(t + 14, 65535);
    fill_payload(t + 20, payload);
    st16(t + 16, ref_finish(ref_sum(t, l4, ref_pseudo(b, 6, l4))));
    return 20 + l4;
}

size_t
t_icmp_echo(uint8_t *b, uint32_t src, uint32_t dst, uint8_t type, uint16_t id,
            uint16_t seq, size_t payload)
{
    size_t l4 = 8 + payload;
    ip_header(b, src, dst, 1, l4);
    uint8_t *c = b + 20;
    c[0] = type;
    c[1] = 0;
    st16(c + 2, 0);
    st16(c + 4, id);
    st16(c + 6, seq);
    fill_payload(c + 8, payload);
    st16(c + 2, ref_finish(ref_sum(c, l4, 0)));
    return 20 + l4;
}

size_t
t_icmp_error(uint8_t *b, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
             const uint8_t *orig, size_t orig_len, size_t quote)
{
    if (quote > orig_len)
        quote = orig_len;
    size_t l4 = 8 + quote;
    ip_header(b, src, dst, 1, l4);
    uint8_t *c = b + 20;
    memset(c, 0, 8);
    c[0] = type;
    c[1] = code;
    memcpy(c + 8, orig, quote);
    st16(c + 2, ref_finish(ref_sum(c, l4, 0)));
    return 20 + l4;
}

void
t_fix_all_csums(uint8_t *b, size_t len)
{
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    size_t tot = ld16(b + 2);
    if (tot > len)
        tot = len;
    if (len < 20 || ihl < 20 || ihl > tot)
        return; /* no header to fix, or lengths that would wrap */
    t_fix_ip_csum(b);
    uint8_t *l4 = b + ihl;
    size_t l4len = tot - ihl;
    if (b[9] == 6 && l4len >= 20) {
        st16(l4 + 16, 0);
        st16(l4 + 16, ref_finish(ref_sum(l4, l4len, ref_pseudo(b, 6, l4len))));
    } else if (b[9] == 17 && l4len >= 8) {
        st16(l4 + 6, 0);
        uint16_t c = ref_finish(ref_sum(l4, l4len, ref_pseudo(b, 17, l4len)));
        st16(l4 + 6, c == 0 ? 0xffff : c);
    } else if (b[9] == 1 && l4len >= 8) {
        size_t iihl = l4len >= 28 ? (size_t)(l4[8] & 0x0f) * 4 : 0;
        if ((l4[0] == 3 || l4[0] == 11 || l4[0] == 12) && iihl >= 20 &&
            8 + iihl <= l4len) /* the embedded header must fit */
            t_fix_ip_csum(l4 + 8);
        st16(l4 + 2, 0);
        st16(l4 + 2, ref_finish(ref_sum(l4, l4len, 0)));
    }
}

int
t_csums_ok(const uint8_t *b, size_t len)
{
    if (len < 20)
        return 0;
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    size_t tot = ld16(b + 2);
    if (ihl < 20 || tot > len || tot < ihl)
        return 0;
    if (ref_finish(ref_sum(b, ihl, 0)) != 0)
        return 0;
    /* Non-first fragments carry no transport checksum to verify. */
    if ((ld16(b + 6) & 0x3fff) != 0)
        return 1;
    const uint8_t *l4 = b + ihl;
    size_t l4len = tot - ihl;
    switch (b[9]) {
    case 6:
        return l4len >= 20 &&
               ref_finish(ref_sum(l4, l4len, ref_pseudo(b, 6, l4len))) == 0;
    case 17:
        if (l4len < 8)
            return 0;
        if (ld16(l4 + 6) == 0) /* no checksum sent */
            return 1;
        return ref_finish(ref_sum(l4, l4len, ref_pseudo(b, 17, l4len))) == 0;
    case 1:
        if (l4len < 8 || ref_finish(ref_sum(l4, l4len, 0)) != 0)
            return 0;
        if ((l4[0] == 3 || l4[0] == 11 || l4[0] == 12) && l4len >= 28) {
            size_t iihl = (size_t)(l4[8] & 0x0f) * 4;
            if (iihl < 20 || 8 + iihl > l4len)
                return 0;
            return ref_finish(ref_sum(l4 + 8, iihl, 0)) == 0;
        }
        return 1;
    default:
        return 1;
    }
}

/* ---- engine helpers ------------------------------------------------------ */

struct nat *
t_nat(const struct nat_config *cfg)
{
    struct nat_config def;
    if (cfg == NULL) {
        nat_config_init(&def);
        cfg = &def;
    }
    struct nat *n = NULL;
    ck_assert_int_eq(nat_create(cfg, &n), 0);
    ck_assert_int_eq(nat_pool_add(n, T_PUB), 0);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 0), 24), 0);
    return n;
}

/* An exact-size heap copy of @len bytes of @buf: ASan reports any access
 * libnat makes even one byte past the packet (malloc(0) may return NULL,
 * which libnat would refuse as a bad buffer, so 0 bytes get 1). */
static uint8_t *
exact_copy(const uint8_t *buf, size_t len)
{
    /* calloc: the byte a 0-length copy gets is defined too (gcc's
     * -Wmaybe-uninitialized cannot see that memcmp() skips it) */
    uint8_t *h = calloc(1, len ? len : 1);
    if (h == NULL) /* no ck_assert: a mark point is a pipe write per call */
        ck_abort_msg("out of memory");
    if (len)
        memcpy(h, buf, len);
    return h;
}

/* The same, but placed @off bytes into a block of @off + @len bytes: the
 * data still ends exactly where the allocation does, at any alignment. */
static uint8_t *
exact_copy_at(const uint8_t *buf, size_t len, size_t off)
{
    uint8_t *h = malloc(off + len ? off + len : 1);
    if (h == NULL)
        ck_abort_msg("out of memory");
    if (len)
        memcpy(h + off, buf, len);
    return h;
}

/* The alignment of @p within 16 bytes, kept by the exact checksum copies
 * (malloc() blocks are at least 8-aligned, so alignment-sensitive code in
 * libnat still meets every offset the caller's data had). */
static size_t
align16(const void *p)
{
    return (size_t)((uintptr_t)p & 15u);
}

enum nat_reason
t_parse(struct nat_pkt *p, const uint8_t *buf, size_t len)
{
    uint8_t *h = exact_copy(buf, len);
    enum nat_reason r = nat_pkt_parse(p, h, len);
    /* if + abort rather than ck_assert: no Check mark point (a pipe write
     * per call) in a helper called hundreds of thousands of times */
    if (len != 0 && memcmp(h, buf, len) != 0)
        ck_abort_msg("nat_pkt_parse() wrote to its const packet");
    free(h);
    return r;
}

uint32_t
t_steer(const struct nat_steer *st, enum nat_dir dir, const uint8_t *pkt,
        size_t len)
{
    uint8_t *h = exact_copy(pkt, len);
    uint32_t w = nat_steer(st, dir, h, len);
    if (len != 0 && memcmp(h, pkt, len) != 0)
        ck_abort_msg("nat_steer() wrote to its const packet");
    free(h);
    return w;
}

int
t_icmp_gen(struct nat *nat, const uint8_t *pkt, size_t len, uint8_t type,
           uint8_t code, uint32_t src, uint16_t mtu, uint8_t *out, size_t cap,
           uint64_t now_ms)
{
    uint8_t *in = pkt ? exact_copy(pkt, len) : NULL;
    int rc = NAT_ENOSPC;
    if (out == NULL) /* argument checks: nothing to size */
        rc = nat_icmp_error(nat, in, len, type, code, src, mtu, NULL, cap,
                            now_ms);
    /* The first capacity that is not NAT_ENOSPC is the error's exact
     * length; every smaller one must be refused without a single write
     * (the canary stays; ASan watches the block's end). */
    for (size_t c = 0; out != NULL && c <= cap; c++) {
        uint8_t *h = malloc(c ? c : 1);
        if (h == NULL)
            ck_abort_msg("out of memory");
        memset(h, 0xa5, c ? c : 1);
        rc = nat_icmp_error(nat, in, len, type, code, src, mtu, h, c, now_ms);
        if (rc == NAT_ENOSPC) {
            for (size_t i = 0; i < c; i++)
                if (h[i] != 0xa5)
                    ck_abort_msg("nat_icmp_error() refused cap %zu but wrote "
                                 "byte %zu",
                                 c, i);
            free(h);
            continue;
        }
        if (rc > 0) {
            ck_assert_uint_eq((size_t)rc, c);
            memcpy(out, h, c);
        }
        free(h);
        break;
    }
    if (in != NULL) {
        if (len != 0 && memcmp(in, pkt, len) != 0)
            ck_abort_msg("nat_icmp_error() wrote to its const packet");
        free(in);
    }
    return rc;
}

uint16_t
t_csum(const void *buf, size_t len)
{
    size_t off = align16(buf);
    uint8_t *h = exact_copy_at(buf, len, off);
    uint16_t c = nat_csum(h + off, len);
    free(h);
    return c;
}

uint32_t
t_csum_add(uint32_t sum, const void *buf, size_t len)
{
    size_t off = align16(buf);
    uint8_t *h = exact_copy_at(buf, len, off);
    uint32_t s = nat_csum_add(sum, h + off, len);
    free(h);
    return s;
}

struct nat_result
t_translate(struct nat *nat, enum nat_dir dir, uint8_t *buf, size_t *len,
            uint64_t now_ms)
{
    size_t l = *len;
    uint8_t *h = exact_copy(buf, l);
    struct nat_result r = nat_translate(nat, dir, h, len, l, now_ms);
    /* *len never grows past cap; copy back what libnat may have written. */
    memcpy(buf, h, *len > l ? l : *len);
    free(h);
    return r;
}

size_t
t_translate_burst(struct nat *nat, struct nat_pkt_io *pkts, size_t n,
                  uint64_t now_ms)
{
    uint8_t **orig = malloc((n ? n : 1) * sizeof(*orig));
    ck_assert_ptr_nonnull(orig);
    for (size_t i = 0; i < n; i++) {
        orig[i] = pkts[i].buf;
        ck_assert_uint_le(pkts[i].len, pkts[i].cap);
        pkts[i].buf = exact_copy(orig[i], pkts[i].len);
        pkts[i].cap = pkts[i].len;
    }
    size_t sent = nat_translate_burst(nat, pkts, n, now_ms);
    for (size_t i = 0; i < n; i++) {
        size_t l = pkts[i].len > pkts[i].cap ? pkts[i].cap : pkts[i].len;
        memcpy(orig[i], pkts[i].buf, l);
        free(pkts[i].buf);
        pkts[i].buf = orig[i];
    }
    free(orig);
    return sent;
}

int
t_frag_collect(struct nat *nat, uint8_t *buf, size_t cap, size_t *len,
               struct nat_result *res)
{
    /* The first capacity that is not NAT_ENOSPC is the fragment's exact
     * length: every smaller one must be refused without a write (ASan
     * watches each exact-size heap buffer). */
    for (size_t c = 0; c <= cap; c++) {
        uint8_t *h = malloc(c ? c : 1);
        ck_assert_ptr_nonnull(h);
        int rc = nat_frag_collect(nat, h, c, len, res);
        if (rc == NAT_ENOSPC) {
            free(h);
            continue;
        }
        if (rc == 1) {
            ck_assert_uint_eq(*len, c);
            memcpy(buf, h, c);
        }
        free(h);
        return rc;
    }
    return NAT_ENOSPC;
}

struct nat_result
t_xlate(struct nat *nat, enum nat_dir dir, uint8_t *buf, size_t len,
        uint64_t now_ms)
{
    size_t l = len;
    struct nat_result r = t_translate(nat, dir, buf, &l, now_ms);
    ck_assert_uint_eq(l, len);
    if (r.verdict == NAT_OUT || r.verdict == NAT_IN || r.verdict == NAT_HAIRPIN)
        ck_assert_msg(t_csums_ok(buf, len),
                      "translated packet has a bad checksum");
    if (r.verdict != NAT_DROP)
        ck_assert_int_eq(r.reason, NAT_R_NONE);
    return r;
}

uint32_t
t_src(const uint8_t *b)
{
    return ld32(b + 12);
}

uint32_t
t_dst(const uint8_t *b)
{
    return ld32(b + 16);
}

uint16_t
t_sport(const uint8_t *b)
{
    const uint8_t *l4 = b + (b[0] & 0x0f) * 4;
    return b[9] == 1 ? ld16(l4 + 4) : ld16(l4);
}

uint16_t
t_dport(const uint8_t *b)
{
    const uint8_t *l4 = b + (b[0] & 0x0f) * 4;
    return b[9] == 1 ? ld16(l4 + 4) : ld16(l4 + 2);
}
