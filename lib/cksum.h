/*
 * The one set of checksum primitives the library uses (internal).
 *
 * Every header rewrite in libnat is "write a field, fix the checksums that
 * cover it" (RFC 1624). The model is OpenBSD pf's pf_patch_16/32: a call
 * writes the field and returns the one's complement delta it caused,
 * deltas of several fields are added, and one call applies the sum to each
 * checksum that covers them:
 *
 *     uint32_t d = ck_put32(ip + 12, new_addr);    IP header and pseudo-hdr
 *     ck_apply(ip + 10, d);                        IP header checksum
 *     ck_apply_l4(proto, l4, d + ck_put16(l4, new_port));
 *
 * Proof (RFC 1624 eqn. 3): HC' = ~(~HC + ~m + m'). A delta is a sum of
 * (~m + m') terms, each below 2^17; any number of them below 2^14, plus
 * ~HC, stays below 2^32, where ck_fold32() is exact.
 *
 * The UDP rule (RFC 768) lives here and only here: a zero checksum means
 * "none" and stays zero; a computed zero is sent as 0xFFFF.
 *
 * pre: the caller has checked that every byte written or read is inside
 * the packet (ld/st never check lengths).
 */
#ifndef NAT_CKSUM_H
#define NAT_CKSUM_H

#include <stdint.h>

#include "bytes.h"

/* Fold a one's complement sum of 32 bits to 16: the first step leaves at
 * most 0x1FFFE, the second at most 0xFFFF. */
static inline uint16_t
ck_fold32(uint32_t s)
{
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)((s & 0xffffu) + (s >> 16));
}

/* Fold a one's complement sum of up to 64 bits to 16 bits (two steps to
 * 32 bits, as above, then ck_fold32()). */
static inline uint16_t
ck_fold(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    return ck_fold32((uint32_t)s);
}

/* The delta of changing a 16- or 32-bit field from @o to @v. */
static inline uint32_t
ck_delta16(uint16_t o, uint16_t v)
{
    return (uint32_t)(uint16_t)~o + v;
}

static inline uint32_t
ck_delta32(uint32_t o, uint32_t v)
{
    return (uint32_t)(uint16_t) ~(o >> 16) + (uint16_t)~o + (v >> 16) +
           (v & 0xffff);
}

/* A checksum @c after changes whose deltas sum to @d. */
static inline uint16_t
ck_adjust(uint16_t c, uint32_t d)
{
    return (uint16_t)~ck_fold32((uint32_t)(uint16_t)~c + d);
}

/* Write the field, return its delta. */
static inline uint32_t
ck_put16(uint8_t *p, uint16_t v)
{
    uint16_t o = ld16(p);
    st16(p, v);
    return ck_delta16(o, v);
}

static inline uint32_t
ck_put32(uint8_t *p, uint32_t v)
{
    uint32_t o = ld32(p);
    st32(p, v);
    return ck_delta32(o, v);
}

/* Apply delta @d to the checksum field at @ck (IP header, TCP, ICMP). */
static inline void
ck_apply(uint8_t *ck, uint32_t d)
{
    st16(ck, ck_adjust(ld16(ck), d));
}

/* The same for a UDP checksum field: zero stays zero, zero is sent as
 * 0xFFFF (RFC 768). */
static inline uint16_t
ck_adjust_udp(uint16_t c, uint32_t d)
{
    if (c == 0)
        return 0;
    c = ck_adjust(c, d);
    return c ? c : 0xffff;
}

static inline void
ck_apply_udp(uint8_t *ck, uint32_t d)
{
    st16(ck, ck_adjust_udp(ld16(ck), d));
}

#endif
