/*
 * Shared helpers for the libFuzzer targets: an input reader, an assertion
 * that crashes loudly, an independent reference checksum checker and
 * packet builders. Deliberately naive and separate from lib/ (and from
 * tests/util.c, which needs Check): the targets must not trust libnat to
 * check libnat.
 */
#ifndef NAT_FUZZ_H
#define NAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libnat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed invariant is a crash: libFuzzer saves the input, the replay
 * driver (and so make check) fails. */
#define FZ_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Open findings (fuzz/README.md): built with -DFUZZ_MASK_OPEN, targets
 * steer around library bugs that are reported but not yet fixed, so that a
 * long run can look for new ones. The plain build never masks anything. */
#ifdef FUZZ_MASK_OPEN
#define FZ_MASK_OPEN 1
#else
#define FZ_MASK_OPEN 0
#endif

#define FZ_IP4(a, b, c, d)                                                     \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |          \
     (uint32_t)(d))

/* ---- input reader: zeros once the input is used up ---- */

struct fz {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t
fz_u8(struct fz *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

static inline uint16_t
fz_u16(struct fz *f)
{
    uint16_t hi = fz_u8(f);
    return (uint16_t)(hi << 8 | fz_u8(f));
}

static inline uint32_t
fz_u32(struct fz *f)
{
    uint32_t hi = fz_u16(f);
    return hi << 16 | fz_u16(f);
}

/* ---- network-order access ---- */

static inline uint16_t
fz_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
fz_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static inline void
fz_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
fz_st32(uint8_t *p, uint32_t v)
{
    fz_st16(p, (uint16_t)(v >> 16));
    fz_st16(p + 2, (uint16_t)v);
}

/* ---- reference checksum: RFC 1071 the slow, obvious way ---- */

static inline uint32_t
ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static inline uint16_t
ref_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static inline uint16_t
ref_csum(const uint8_t *p, size_t len)
{
    return (uint16_t)~ref_fold(ref_sum(p, len, 0));
}

/* Pseudo-header sum from an IPv4 header's addresses. */
static inline uint32_t
ref_pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
    return ref_sum(ip + 12, 8, 0) + proto + (uint32_t)l4len;
}

/* Which checksums of a packet verify. A component that is absent (no
 * transport header, no embedded packet) is reported as not present. */
struct ref_check {
    int parsed;      /* a plausible IPv4 header and total length */
    int ip_ok;
    int l4_present, l4_ok;
    int inner_present, inner_ip_ok;     /* ICMP error: embedded IP header */
    int inner_l4_present, inner_l4_ok;  /* ... and its complete transport */
};

static inline int
ref_icmp_is_error(uint8_t t)
{
    return t == 3 || t == 11 || t == 12;
}

/* Transport checksum of a complete segment of @proto at @l4 (IP header
 * @ip); 1 when it verifies. UDP checksum zero means none sent. */
static inline int
ref_l4_ok(const uint8_t *ip, const uint8_t *l4, size_t l4len, uint8_t proto)
{
    switch (proto) {
    case 6:
        return l4len >= 20 &&
               ref_fold(ref_sum(l4, l4len, ref_pseudo(ip, 6, l4len))) ==
                   0xffff;
    case 17:
        if (l4len < 8)
            return 0;
        if (fz_ld16(l4 + 6) == 0)
            return 1;
        return ref_fold(ref_sum(l4, l4len, ref_pseudo(ip, 17, l4len))) ==
               0xffff;
    case 1:
        return l4len >= 8 && ref_fold(ref_sum(l4, l4len, 0)) == 0xffff;
    default:
        return 1;
    }
}

static inline struct ref_check
ref_check(const uint8_t *b, size_t len)
{
    struct ref_check r;
    memset(&r, 0, sizeof(r));
    if (len < 20 || (b[0] >> 4) != 4)
        return r;
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    size_t tot = fz_ld16(b + 2);
    if (ihl < 20 || tot > len || tot < ihl)
        return r;
    r.parsed = 1;
    r.ip_ok = ref_fold(ref_sum(b, ihl, 0)) == 0xffff;
    uint16_t ff = fz_ld16(b + 6);
    if ((ff & 0x3fff) != 0) /* a fragment: no whole transport to check */
        return r;
    uint8_t proto = b[9];
    if (proto != 6 && proto != 17 && proto != 1)
        return r;
    const uint8_t *l4 = b + ihl;
    size_t l4len = tot - ihl;
    r.l4_present = 1;
    r.l4_ok = ref_l4_ok(b, l4, l4len, proto);
    if (proto != 1 || l4len < 8 + 20 || !ref_icmp_is_error(l4[0]))
        return r;
    /* The embedded packet; an RFC 4884 length bounds it. */
    const uint8_t *in = l4 + 8;
    size_t avail = l4len - 8;
    size_t ext = (size_t)l4[5] * 4;
    if (ext != 0 && ext <= avail)
        avail = ext;
    size_t iihl = (size_t)(in[0] & 0x0f) * 4;
    if ((in[0] >> 4) != 4 || iihl < 20 || iihl > avail)
        return r;
    r.inner_present = 1;
    r.inner_ip_ok = ref_fold(ref_sum(in, iihl, 0)) == 0xffff;
    size_t itot = fz_ld16(in + 2);
    uint8_t ip = in[9];
    if ((ip == 6 || ip == 17 || ip == 1) && itot >= iihl && itot <= avail &&
        (fz_ld16(in + 6) & 0x3fff) == 0) {
        r.inner_l4_present = 1;
        r.inner_l4_ok = ref_l4_ok(in, in + iihl, itot - iihl, ip);
    }
    return r;
}

/* Every checksum that verified in @before verifies in @after. */
static inline int
ref_check_kept(const struct ref_check *before, const struct ref_check *after)
{
    if (!after->parsed || !after->ip_ok)
        return 0;
    if (before->l4_present && before->l4_ok && !(after->l4_present &&
                                                 after->l4_ok))
        return 0;
    if (before->inner_present && before->inner_ip_ok &&
        !(after->inner_present && after->inner_ip_ok))
        return 0;
    if (before->inner_l4_present && before->inner_l4_ok &&
        !(after->inner_l4_present && after->inner_l4_ok))
        return 0;
    return 1;
}

/* ---- packet builders (reference checksums; buffers >= 1500 bytes) ---- */

static inline void
ref_fix_ip(uint8_t *b)
{
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    fz_st16(b + 10, 0);
    fz_st16(b + 10, ref_csum(b, ihl));
}

/* Recompute every checksum of a packet in place, as far as it is whole. */
static inline void
ref_fix_all(uint8_t *b, size_t len)
{
    if (len < 20)
        return;
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    size_t tot = fz_ld16(b + 2);
    if (ihl < 20 || ihl > len)
        return;
    ref_fix_ip(b);
    if (tot > len || tot < ihl || (fz_ld16(b + 6) & 0x3fff) != 0)
        return;
    uint8_t *l4 = b + ihl;
    size_t l4len = tot - ihl;
    if (b[9] == 6 && l4len >= 20) {
        fz_st16(l4 + 16, 0);
        fz_st16(l4 + 16, (uint16_t)~ref_fold(ref_sum(
                             l4, l4len, ref_pseudo(b, 6, l4len))));
    } else if (b[9] == 17 && l4len >= 8) {
        fz_st16(l4 + 6, 0);
        uint16_t c = (uint16_t)~ref_fold(
            ref_sum(l4, l4len, ref_pseudo(b, 17, l4len)));
        fz_st16(l4 + 6, c == 0 ? 0xffff : c);
    } else if (b[9] == 1 && l4len >= 8) {
        if (ref_icmp_is_error(l4[0]) && l4len >= 28 &&
            (size_t)(l4[8] & 0x0f) * 4 >= 20 &&
            (size_t)(l4[8] & 0x0f) * 4 + 8 <= l4len)
            ref_fix_ip(l4 + 8);
        fz_st16(l4 + 2, 0);
        fz_st16(l4 + 2, ref_csum(l4, l4len));
    }
}

static inline void
ref_ip_header(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto,
              size_t l4len, uint16_t id)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    fz_st16(b + 2, (uint16_t)(20 + l4len));
    fz_st16(b + 4, id);
    b[8] = 64;
    b[9] = proto;
    fz_st32(b + 12, src);
    fz_st32(b + 16, dst);
    ref_fix_ip(b);
}

static inline void
ref_payload(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31u + seed);
}

static inline size_t
ref_udp(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst,
        uint16_t dport, size_t payload)
{
    size_t l4 = 8 + payload;
    ref_ip_header(b, src, dst, 17, l4, 0x4242);
    uint8_t *u = b + 20;
    fz_st16(u, sport);
    fz_st16(u + 2, dport);
    fz_st16(u + 4, (uint16_t)l4);
    ref_payload(u + 8, payload, (uint8_t)sport);
    ref_fix_all(b, 20 + l4);
    return 20 + l4;
}

static inline size_t
ref_tcp(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst,
        uint16_t dport, uint8_t flags, size_t payload)
{
    size_t l4 = 20 + payload;
    ref_ip_header(b, src, dst, 6, l4, 0x4343);
    uint8_t *t = b + 20;
    memset(t, 0, 20);
    fz_st16(t, sport);
    fz_st16(t + 2, dport);
    fz_st32(t + 4, 0x01020304);
    fz_st32(t + 8, (flags & 0x10) ? 0x05060708 : 0);
    t[12] = 5 << 4;
    t[13] = flags;
    fz_st16(t + 14, 65535);
    ref_payload(t + 20, payload, (uint8_t)dport);
    ref_fix_all(b, 20 + l4);
    return 20 + l4;
}

static inline size_t
ref_icmp_query(uint8_t *b, uint32_t src, uint32_t dst, uint8_t type,
               uint16_t id, size_t payload)
{
    size_t l4 = 8 + payload;
    ref_ip_header(b, src, dst, 1, l4, 0x4444);
    uint8_t *c = b + 20;
    memset(c, 0, 8);
    c[0] = type;
    fz_st16(c + 4, id);
    fz_st16(c + 6, 7);
    ref_payload(c + 8, payload, (uint8_t)id);
    ref_fix_all(b, 20 + l4);
    return 20 + l4;
}

/* An ICMP error quoting the first @quote bytes of @orig. */
static inline size_t
ref_icmp_error(uint8_t *b, uint32_t src, uint32_t dst, uint8_t type,
               uint8_t code, const uint8_t *orig, size_t orig_len,
               size_t quote)
{
    if (quote > orig_len)
        quote = orig_len;
    if (quote > 1400)
        quote = 1400;
    size_t l4 = 8 + quote;
    ref_ip_header(b, src, dst, 1, l4, 0x4545);
    uint8_t *c = b + 20;
    memset(c, 0, 8);
    c[0] = type;
    c[1] = code;
    memcpy(c + 8, orig, quote);
    fz_st16(c + 2, ref_csum(c, l4));
    return 20 + l4;
}

/* ---- exact-size buffers: ASan sees any access past the packet ---- */

/* A heap copy of @len bytes of @src in a block of exactly @len bytes
 * (malloc(0) gives a valid block without usable bytes). */
static inline uint8_t *
fz_exact_dup(const uint8_t *src, size_t len)
{
    uint8_t *b = malloc(len);
    FZ_ASSERT(b != NULL || len == 0);
    if (b != NULL && src != NULL)
        memcpy(b, src, len);
    return b;
}

/* nat_translate() on an exact-size heap copy of @buf (cap == len), the
 * result copied back: the library is never handed spare room. */
static inline struct nat_result
fz_translate(struct nat *n, enum nat_dir dir, uint8_t *buf, size_t *len,
             uint64_t now)
{
    size_t cap = *len;
    uint8_t *b = fz_exact_dup(buf, cap);
    struct nat_result r = nat_translate(n, dir, b, len, cap, now);
    FZ_ASSERT(*len <= cap);
    if (cap)
        memcpy(buf, b, cap);
    free(b);
    return r;
}

/* Lengths a fragment held by libnat can have: those of the packets that
 * were NAT_HELD (their buffer length and IP total length). */
struct fz_lens {
    size_t n;
    size_t v[64];
};

static inline void
fz_lens_add(struct fz_lens *s, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == len)
            return;
    if (s->n < 64) {
        /* Kept sorted: probes go from the smallest up. */
        size_t i = s->n++;
        while (i > 0 && s->v[i - 1] > len) {
            s->v[i] = s->v[i - 1];
            i--;
        }
        s->v[i] = len;
    }
}

/* Every byte of @p[0..n) is @c. */
static inline int
fz_all(const uint8_t *p, size_t n, uint8_t c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

/*
 * nat_frag_collect() into a buffer of exactly the fragment's size: caps
 * from @lens are tried in increasing order, each in a heap block of
 * exactly that size, so the first that does not fail with NAT_ENOSPC is
 * the fragment's length (unless its length is none of them: then the
 * smallest cap that fits is found by trying every cap on a scratch block
 * whose bytes past the cap must stay untouched). With @roomy the call gets
 * a 64 KiB block instead, and nothing past the fragment may change.
 * Returns nat_frag_collect()'s result; on 1, *@out is a heap block of
 * exactly *@len bytes that the caller frees.
 */
static inline int
fz_collect(struct nat *n, const struct fz_lens *lens, int roomy,
           uint8_t **out, size_t *len, struct nat_result *res)
{
    static uint8_t scratch[65536 + 64];
    uint8_t one[1];
    int rc = nat_frag_collect(n, one, 0, len, res);
    *out = NULL;
    if (rc == 0)
        return 0;
    FZ_ASSERT(rc == NAT_ENOSPC); /* a fragment is at least 20 bytes */
    if (roomy) {
        memset(scratch, 0xa5, sizeof(scratch));
        rc = nat_frag_collect(n, scratch, 65536, len, res);
        FZ_ASSERT(rc == 1 && *len >= 20 && *len <= 65535);
        FZ_ASSERT(fz_all(scratch + *len, sizeof(scratch) - *len, 0xa5));
        *out = fz_exact_dup(scratch, *len);
        return 1;
    }
    for (size_t i = 0; lens != NULL && i < lens->n; i++) {
        size_t cap = lens->v[i];
        uint8_t *b = malloc(cap ? cap : 1);
        FZ_ASSERT(b != NULL);
        rc = nat_frag_collect(n, b, cap, len, res);
        if (rc == NAT_ENOSPC) {
            free(b);
            continue;
        }
        FZ_ASSERT(rc == 1 && *len <= cap);
        *out = b;
        return 1;
    }
    /* Not one of the expected lengths: the smallest cap that fits. */
    for (size_t cap = 20; cap <= 65535; cap++) {
        memset(scratch + cap, 0x5a, 64);
        rc = nat_frag_collect(n, scratch, cap, len, res);
        FZ_ASSERT(fz_all(scratch + cap, 64, 0x5a));
        if (rc == NAT_ENOSPC)
            continue;
        FZ_ASSERT(rc == 1 && *len == cap);
        *out = fz_exact_dup(scratch, *len);
        return 1;
    }
    FZ_ASSERT(!"a held fragment longer than 65535 bytes");
    return -1;
}

#endif
