/*
 * Unaligned, bounds-agnostic loads and stores in network byte order.
 * Callers check lengths before calling; these never cast packet bytes to
 * structs (memcpy compiles to a single move on every target we care about).
 */
#ifndef NAT_BYTES_H
#define NAT_BYTES_H

#include <stdint.h>
#include <string.h>

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
