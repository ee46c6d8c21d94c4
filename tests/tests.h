/* Shared declarations for the Check test suites. */
#ifndef NAT_TESTS_H
#define NAT_TESTS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "libnat.h"

Suite *checksum_suite(void);
Suite *packet_suite(void);

/* ---- packet builders (tests/util.c) ----
 * Each writes a complete, valid IPv4 packet with correct checksums into
 * @buf (at least 1500 bytes) and returns its length. Addresses and ports are
 * host order. */
size_t t_udp(uint8_t *buf, uint32_t src, uint16_t sport, uint32_t dst,
             uint16_t dport, size_t payload);
size_t t_tcp(uint8_t *buf, uint32_t src, uint16_t sport, uint32_t dst,
             uint16_t dport, uint8_t flags, size_t payload);
size_t t_icmp_echo(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type,
                   uint16_t id, uint16_t seq, size_t payload);
/* An ICMP error from @src to @dst quoting the first @quote bytes of the
 * packet @orig (all of it when @quote exceeds its length). */
size_t t_icmp_error(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type,
                    uint8_t code, const uint8_t *orig, size_t orig_len,
                    size_t quote);
/* Recompute the IPv4 header checksum of @buf in place. */
void t_fix_ip_csum(uint8_t *buf);
/* Recompute every checksum (IP, transport, ICMP, embedded) in place. */
void t_fix_all_csums(uint8_t *buf, size_t len);

/* Verify every checksum of a packet by full recomputation: the IP header,
 * the TCP/UDP (pseudo-header) or ICMP checksum, and for ICMP errors the
 * embedded IP header checksum. Returns 1 when all verify. */
int t_csums_ok(const uint8_t *buf, size_t len);

#define IP4(a, b, c, d)                                                        \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |          \
     (uint32_t)(d))

/* Small deterministic PRNG for tests (xorshift64*). */
uint64_t t_rand(void);
void t_srand(uint64_t seed);

#endif
