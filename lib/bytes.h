/*
 * Unaligned loads and stores in network byte order. Callers check lengths
 * before calling; these never cast packet bytes to structs. memcpy plus a
 * byte swap compiles to one move and one bswap (or a single movbe).
 */
#ifndef NAT_BYTES_H
#define NAT_BYTES_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&    \
    defined(__GNUC__)
#define NAT_BE16(x) __builtin_bswap16(x)
#define NAT_BE32(x) __builtin_bswap32(x)
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NAT_BE16(x) (x)
#define NAT_BE32(x) (x)
#endif

#ifdef NAT_BE16
static inline uint16_t
ld16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return NAT_BE16(v);
}

static inline uint32_t
ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return NAT_BE32(v);
}

static inline void
st16(uint8_t *p, uint16_t v)
{
    v = NAT_BE16(v);
    memcpy(p, &v, 2);
}

static inline void
st32(uint8_t *p, uint32_t v)
{
    v = NAT_BE32(v);
    memcpy(p, &v, 4);
}
#else /* portable fallback */
static inline uint16_t
ld16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static inline void
st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
#endif

/* Little-endian 64-bit load whatever the host: secrets are read this way so
 * that one secret gives the same keys, hence the same choices, on every
 * machine. */
static inline uint64_t
ld64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#endif
