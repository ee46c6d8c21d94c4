/*
 * Checksum layer: RFC 1071 Internet checksum and RFC 1624 incremental update.
 *
 * The sum is computed over native-endian 32-bit loads into four 64-bit
 * lanes (RFC 1071 section 2(B): the one's complement sum is byte-order
 * independent and may be accumulated in wider words, then folded).
 * On a little-endian host the folded 16-bit result is byte-swapped once at
 * the end to give the network-order value.
 */
#include "config.h"

#include <string.h>

#include "cksum.h"
#include "libnat.h"


static inline int
host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static inline uint32_t
load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Sum of 32-bit native-order words of a chunk small enough (below 2^34
 * bytes per lane) that no 64-bit accumulator can overflow. Four lanes keep
 * the adders busy, and compilers vectorise the loop. */
static uint64_t
sum_chunk(const uint8_t *p, size_t len)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    while (len >= 16) {
        s0 += load32(p);
        s1 += load32(p + 4);
        s2 += load32(p + 8);
        s3 += load32(p + 12);
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        s0 += load32(p);
        p += 4;
        len -= 4;
    }
    if (len > 0) { /* up to 3 bytes, zero-padded in native order */
        uint32_t t = 0;
        memcpy(&t, p, len);
        s1 += t;
    }
    return s0 + s1 + s2 + s3; /* each < 2^62: no overflow */
}

/* One's complement sum of @len bytes as native-order 16-bit words, folded.
 * The 32-bit words' sum folds to the same value (RFC 1071 section 2(B)). */
static uint16_t
sum_native(const uint8_t *p, size_t len)
{
    const size_t chunk = (size_t)1 << 30;
    uint64_t s = 0;
    while (len > chunk) {
        s = ck_fold(s) + ck_fold(sum_chunk(p, chunk));
        p += chunk;
        len -= chunk;
    }
    return ck_fold((uint64_t)ck_fold(s) + ck_fold(sum_chunk(p, len)));
}

uint32_t
nat_csum_add(uint32_t sum, const void *buf, size_t len)
{
    uint16_t s = sum_native(buf, len);

    if (host_is_little_endian())
        s = (uint16_t)(s << 8 | s >> 8);
    return ck_fold((uint64_t)sum + s);
}

uint16_t
nat_csum_fold(uint32_t sum)
{
    return ck_fold(sum);
}

uint16_t
nat_csum_finish(uint32_t sum)
{
    return (uint16_t)~ck_fold(sum);
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
    return ck_fold(s);
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
    return ck_fold(s);
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never produces
 * the -0 (0xFFFF) artefact for data that is not all zeros, so it agrees with
 * a full recomputation.
 */
uint16_t
nat_csum_update16(uint16_t csum, uint16_t from, uint16_t to)
{
    return ck_adjust(csum, ck_delta16(from, to));
}

uint16_t
nat_csum_update32(uint16_t csum, uint32_t from, uint32_t to)
{
    return ck_adjust(csum, ck_delta32(from, to));
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
    return ck_adjust_udp(csum, ck_delta16(from, to));
}

uint16_t
nat_csum_udp_update32(uint16_t csum, uint32_t from, uint32_t to)
{
    return ck_adjust_udp(csum, ck_delta32(from, to));
}
