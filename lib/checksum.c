/*
 * Checksum layer: RFC 1071 Internet checksum and RFC 1624 incremental update.
 *
 * The sum is computed over native-endian 64-bit loads with a separate carry
 * count per lane (RFC 1071 section 2(B): the one's complement sum is byte-
 * order independent and may be accumulated in wider words, then folded).
 * On a little-endian host the folded 16-bit result is byte-swapped once at
 * the end to give the network-order value.
 */
#include "config.h"

#include <string.h>

#include "libnat.h"

static inline uint64_t
load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint16_t
fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

static inline int
host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* One's complement sum of @len bytes as native-order 16-bit words, folded. */
static uint16_t
sum_native(const uint8_t *p, size_t len)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;

    /* Four independent add-with-carry chains keep the adders busy. */
    while (len >= 32) {
        uint64_t a = load64(p), b = load64(p + 8);
        uint64_t c = load64(p + 16), d = load64(p + 24);
        s0 += a;
        c0 += s0 < a;
        s1 += b;
        c1 += s1 < b;
        s2 += c;
        c2 += s2 < c;
        s3 += d;
        c3 += s3 < d;
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t a = load64(p);
        s0 += a;
        c0 += s0 < a;
        p += 8;
        len -= 8;
    }
    /* Tail: up to 7 bytes, zero-padded in native order. */
    if (len > 0) {
        uint64_t t = 0;
        memcpy(&t, p, len);
        s1 += t;
        c1 += s1 < t;
    }

    /* Combine lanes: each lane and carry folded separately cannot overflow. */
    uint64_t s = (uint64_t)fold64(s0) + fold64(s1) + fold64(s2) + fold64(s3) +
                 fold64(c0) + fold64(c1) + fold64(c2) + fold64(c3);
    return fold64(s);
}

uint32_t
nat_csum_add(uint32_t sum, const void *buf, size_t len)
{
    uint16_t s = sum_native(buf, len);

    if (host_is_little_endian())
        s = (uint16_t)(s << 8 | s >> 8);
    return fold64((uint64_t)sum + s);
}

uint16_t
nat_csum_fold(uint32_t sum)
{
    return fold64(sum);
}

uint16_t
nat_csum_finish(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

uint16_t
nat_csum(const void *buf, size_t len)
{
    return nat_csum_finish(nat_csum_add(0, buf, len));
}

uint32_t
nat_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint64_t s = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) +
                 proto + len;
    return fold64(s);
}

uint32_t
nat_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next,
                 uint32_t len)
{
    uint64_t s = 0;
    for (int i = 0; i < 16; i += 2) {
        s += (uint32_t)(src[i] << 8 | src[i + 1]);
        s += (uint32_t)(dst[i] << 8 | dst[i + 1]);
    }
    s += (len >> 16) + (len & 0xffffu) + next;
    return fold64(s);
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never produces
 * the -0 (0xFFFF) artefact for data that is not all zeros, so it agrees with
 * a full recomputation.
 */
uint16_t
nat_csum_update16(uint16_t csum, uint16_t from, uint16_t to)
{
    uint64_t s = (uint16_t)~csum;
    s += (uint16_t)~from;
    s += to;
    return (uint16_t)~fold64(s);
}

uint16_t
nat_csum_update32(uint16_t csum, uint32_t from, uint32_t to)
{
    uint64_t s = (uint16_t)~csum;
    s += (uint16_t)~(from >> 16);
    s += (uint16_t)~from;
    s += to >> 16;
    s += to & 0xffffu;
    return (uint16_t)~fold64(s);
}

uint16_t
nat_csum_udp_final(uint16_t csum)
{
    return csum == 0 ? 0xffff : csum;
}

/* pre: csum is the field as received; 0 means the sender sent none. */
uint16_t
nat_csum_udp_update16(uint16_t csum, uint16_t from, uint16_t to)
{
    if (csum == 0)
        return 0;
    return nat_csum_udp_final(nat_csum_update16(csum, from, to));
}

uint16_t
nat_csum_udp_update32(uint16_t csum, uint32_t from, uint32_t to)
{
    if (csum == 0)
        return 0;
    return nat_csum_udp_final(nat_csum_update32(csum, from, to));
}
