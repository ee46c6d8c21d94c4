/* Shared declarations for the Check test suites. */
#ifndef NAT_TESTS_H
#define NAT_TESTS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "libnat.h"

Suite *checksum_suite(void);
Suite *packet_suite(void);
Suite *nat_suite(void);
Suite *rfc_suite(void);
Suite *steer_suite(void);
Suite *adversarial_suite(void);
Suite *guard_suite(void);
Suite *harden_suite(void);
Suite *portable_suite(void);

/* ---- engine helpers (tests/util.c) --------------------------------------- */
#define T_PUB  IP4(203, 0, 113, 1) /* the NAT's external address */
#define T_PUB2 IP4(203, 0, 113, 2) /* a second pool address */
#define T_H1   IP4(10, 0, 0, 2)    /* inside hosts */
#define T_H2   IP4(10, 0, 0, 3)
#define T_R1   IP4(198, 51, 100, 10) /* remote hosts */
#define T_R2   IP4(198, 51, 100, 20)
#define T_RTR  IP4(203, 0, 113, 254) /* a router on the outside path */

/* A NAT with @cfg (NULL: defaults) plus pool T_PUB and inside 10.0.0.0/24. */
struct nat *t_nat(const struct nat_config *cfg);
/* Translate through an exact-size heap copy (cap == len, see t_translate),
 * and when the verdict rewrote the packet assert that every checksum
 * verifies by full recomputation. */
struct nat_result t_xlate(struct nat *nat, enum nat_dir dir, uint8_t *buf,
                          size_t len, uint64_t now_ms);
/* The same through exact-size buffers: the packet is copied into a heap
 * buffer of exactly *@len bytes, translated with cap == *@len and copied
 * back, so ASan sees any read or write past the packet. No assertions. */
struct nat_result t_translate(struct nat *nat, enum nat_dir dir, uint8_t *buf,
                              size_t *len, uint64_t now_ms);
/* nat_translate_burst() with each packet in an exact-size heap buffer
 * (cap == len); bufs and caps are restored, results and bytes copied back. */
size_t t_translate_burst(struct nat *nat, struct nat_pkt_io *pkts, size_t n,
                         uint64_t now_ms);
/* nat_frag_collect() into heap buffers of growing size up to @cap: checks
 * that every capacity below the fragment's length is NAT_ENOSPC and that it
 * is copied into a buffer of exactly its length. Same return values. */
int t_frag_collect(struct nat *nat, uint8_t *buf, size_t cap, size_t *len,
                   struct nat_result *res);
/* nat_icmp_error() on an exact-size heap copy of @pkt, into heap buffers
 * of growing size up to @cap: checks that every capacity below the error's
 * length is NAT_ENOSPC without a write, and that the error is written into
 * a buffer of exactly its length (then copied to @out). Same return
 * values. (t_icmp_error() below builds an ICMP error; this one asks libnat
 * to generate one.) */
int t_icmp_gen(struct nat *nat, const uint8_t *pkt, size_t len, uint8_t type,
               uint8_t code, uint32_t src, uint16_t mtu, uint8_t *out,
               size_t cap, uint64_t now_ms);
/* nat_steer() on an exact-size heap copy of @pkt (cap == len). */
uint32_t t_steer(const struct nat_steer *st, enum nat_dir dir,
                 const uint8_t *pkt, size_t len);
/* The internal parser (lib/packet.h) on an exact-size heap copy of @buf;
 * also asserts that it left the (const) packet unchanged. */
struct nat_pkt;
enum nat_reason t_parse(struct nat_pkt *p, const uint8_t *buf, size_t len);
/* nat_csum() and nat_csum_add() over exactly @len bytes: a heap copy that
 * ends where the allocation ends, at @buf's alignment within 16 bytes. */
uint16_t t_csum(const void *buf, size_t len);
uint32_t t_csum_add(uint32_t sum, const void *buf, size_t len);
/* Field readers for translated packets (host order). */
uint32_t t_src(const uint8_t *b);
uint32_t t_dst(const uint8_t *b);
uint16_t t_sport(const uint8_t *b); /* ICMP query: identifier */
uint16_t t_dport(const uint8_t *b);

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
