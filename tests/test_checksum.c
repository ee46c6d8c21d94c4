/* Checksum layer: RFC 1071 sums and RFC 1624 incremental updates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "tests.h"

/* Naive reference: 16-bit big-endian words into a 32-bit accumulator. */
static uint16_t
naive_csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* RFC 1071 section 3 worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
START_TEST(rfc1071_example_sum)
{
    const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ck_assert_uint_eq(nat_csum_fold(t_csum_add(0, d, sizeof(d))), 0xddf2);
    ck_assert_uint_eq(t_csum(d, sizeof(d)), (uint16_t)~0xddf2);
}
END_TEST

/* Any length and alignment gives the naive reference result. (t_csum()
 * sums an exact-size heap copy at the source's alignment within 16 bytes,
 * so every offset still meets libnat's alignment handling.) */
START_TEST(rfc1071_any_length_alignment)
{
    static uint8_t big[4096 + 16];
    t_srand(1);
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)t_rand();
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 300; len++)
            ck_assert_uint_eq(t_csum(big + off, len),
                              naive_csum(big + off, len));
    ck_assert_uint_eq(t_csum(big + 3, 4096), naive_csum(big + 3, 4096));
}
END_TEST

/* All-0xFF data: the wide lanes must carry correctly. */
START_TEST(rfc1071_carry_saturation)
{
    static uint8_t ff[65536];
    memset(ff, 0xff, sizeof(ff));
    for (size_t len = 0; len <= sizeof(ff); len += 4093)
        ck_assert_uint_eq(t_csum(ff, len), naive_csum(ff, len));
    ck_assert_uint_eq(t_csum(ff, sizeof(ff)), naive_csum(ff, sizeof(ff)));
}
END_TEST

/* Sums over pieces (even-length except the last) equal the whole. */
START_TEST(rfc1071_incremental_pieces)
{
    uint8_t d[101];
    for (size_t i = 0; i < sizeof(d); i++)
        d[i] = (uint8_t)(i * 31 + 7);
    uint32_t s = t_csum_add(0, d, 40); /* each piece its own exact block */
    s = t_csum_add(s, d + 40, 2);
    s = t_csum_add(s, d + 42, 59);
    ck_assert_uint_eq(nat_csum_finish(s), naive_csum(d, sizeof(d)));
}
END_TEST

START_TEST(pseudo_header_ipv4)
{
    /* 192.0.2.1 -> 198.51.100.2, UDP, length 12 */
    uint8_t ph[12];
    st32(ph, 0xc0000201);
    st32(ph + 4, 0xc6336402);
    ph[8] = 0;
    ph[9] = 17;
    st16(ph + 10, 12);
    ck_assert_uint_eq(
        nat_csum_fold(nat_csum_pseudo4(0xc0000201, 0xc6336402, 17, 12)),
        (uint16_t)~naive_csum(ph, sizeof(ph)));
}
END_TEST

START_TEST(pseudo_header_ipv6)
{
    uint8_t *src = malloc(16), *dst = malloc(16), ph[40]; /* exact blocks */
    ck_assert(src != NULL && dst != NULL);
    for (int i = 0; i < 16; i++) {
        src[i] = (uint8_t)(0x20 + i);
        dst[i] = (uint8_t)(0xf0 - i);
    }
    memcpy(ph, src, 16);
    memcpy(ph + 16, dst, 16);
    st32(ph + 32, 70000);
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = 58;
    ck_assert_uint_eq(nat_csum_fold(nat_csum_pseudo6(src, dst, 58, 70000)),
                      (uint16_t)~naive_csum(ph, sizeof(ph)));
    free(src);
    free(dst);
}
END_TEST

/* Pick a 16-bit value, biased towards the 0x0000/0xFFFF edges. */
static uint16_t
edge16(void)
{
    uint64_t r = t_rand();
    switch (r & 7) {
    case 0:
        return 0x0000;
    case 1:
        return 0xffff;
    case 2:
        return (uint16_t)(0xfffe + ((r >> 3) & 1));
    case 3:
        return (uint16_t)((r >> 3) & 1);
    default:
        return (uint16_t)(r >> 16);
    }
}

#define D_LEN 16u /* the RFC 1624 tests' data block */

/*
 * RFC 1624: over 10 million random cases the incremental update equals a
 * full recomputation. The 16-byte block has a non-zero constant first word,
 * as every real header does (all-zero data is the one case where full and
 * incremental legitimately differ between +0 and -0, see RFC 1624 sec. 3).
 */
START_TEST(rfc1624_update16_matches_full)
{
    uint8_t *d = malloc(D_LEN); /* exact size: ASan sees a read past it */
    ck_assert_ptr_nonnull(d);
    t_srand(0x1624);
    for (long n = 0; n < 5000000; n++) {
        st16(d, 0x4500);
        for (int i = 2; i < (int)D_LEN; i += 2)
            st16(d + i, edge16());
        size_t at = 2 + 2 * (size_t)(t_rand() % 7);
        uint16_t c0 = nat_csum(d, D_LEN);
        uint16_t from = ld16(d + at), to = edge16();
        st16(d + at, to);
        uint16_t full = nat_csum(d, D_LEN);
        uint16_t inc = nat_csum_update16(c0, from, to);
        if (inc != full)
            ck_abort_msg("case %ld: c0=%04x from=%04x to=%04x inc=%04x "
                         "full=%04x",
                         n, c0, from, to, inc, full);
    }
    free(d);
}
END_TEST

START_TEST(rfc1624_update32_matches_full)
{
    uint8_t *d = malloc(D_LEN);
    ck_assert_ptr_nonnull(d);
    t_srand(0x3232);
    for (long n = 0; n < 5000000; n++) {
        st16(d, 0x4500);
        for (int i = 2; i < (int)D_LEN; i += 2)
            st16(d + i, edge16());
        size_t at = 2 + 2 * (size_t)(t_rand() % 6);
        uint16_t c0 = nat_csum(d, D_LEN);
        uint32_t from = ld32(d + at);
        uint32_t to = (uint32_t)edge16() << 16 | edge16();
        st32(d + at, to);
        uint16_t full = nat_csum(d, D_LEN);
        uint16_t inc = nat_csum_update32(c0, from, to);
        if (inc != full)
            ck_abort_msg("case %ld: c0=%04x from=%08x to=%08x inc=%04x "
                         "full=%04x",
                         n, c0, from, to, inc, full);
    }
    free(d);
}
END_TEST

/* RFC 768: a zero UDP checksum means none and stays zero. */
START_TEST(rfc768_udp_zero_checksum_stays_zero)
{
    ck_assert_uint_eq(nat_csum_udp_update16(0, 1234, 4321), 0);
    ck_assert_uint_eq(nat_csum_udp_update32(0, 0x0a000001, 0xcb007101), 0);
}
END_TEST

/* RFC 768: a computed zero is transmitted as all ones. */
START_TEST(rfc768_udp_computed_zero_sent_as_ffff)
{
    ck_assert_uint_eq(nat_csum_udp_final(0), 0xffff);
    ck_assert_uint_eq(nat_csum_udp_final(0x1234), 0x1234);
    /* Find an update whose plain result is 0 and check it becomes 0xFFFF. */
    int seen = 0;
    for (uint32_t to = 0; to <= 0xffff && !seen; to++) {
        if (nat_csum_update16(0x1234, 0x0001, (uint16_t)to) == 0) {
            ck_assert_uint_eq(
                nat_csum_udp_update16(0x1234, 0x0001, (uint16_t)to), 0xffff);
            seen = 1;
        }
    }
    ck_assert(seen);
}
END_TEST

/* Independent oracle: checksums of packets produced by scapy. Each line of
 * tests/data/scapy_csum.txt is "<hex bytes> <ip csum> <l4 csum>". */
START_TEST(scapy_vectors_match)
{
    FILE *f = fopen(TEST_DATA_DIR "/scapy_csum.txt", "r");
    ck_assert_msg(f != NULL, "missing " TEST_DATA_DIR "/scapy_csum.txt");
    static char line[8192];
    static uint8_t pkt[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *hex = strtok(line, " \n");
        char *ipc = strtok(NULL, " \n");
        char *l4c = strtok(NULL, " \n");
        ck_assert(hex && ipc && l4c);
        size_t len = strlen(hex) / 2;
        ck_assert(len <= sizeof(pkt));
        for (size_t i = 0; i < len; i++) {
            unsigned v;
            ck_assert(sscanf(hex + 2 * i, "%2x", &v) == 1);
            pkt[i] = (uint8_t)v;
        }
        unsigned want_ip = (unsigned)strtoul(ipc, NULL, 16);
        unsigned want_l4 = (unsigned)strtoul(l4c, NULL, 16);
        size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
        ck_assert_uint_eq(ld16(pkt + 10), want_ip);
        /* Recompute with the field zeroed. */
        st16(pkt + 10, 0);
        ck_assert_uint_eq(t_csum(pkt, ihl), want_ip);
        st16(pkt + 10, (uint16_t)want_ip);
        uint8_t proto = pkt[9];
        size_t l4len = ld16(pkt + 2) - ihl;
        uint8_t *l4 = pkt + ihl;
        size_t at = proto == 6 ? 16 : proto == 17 ? 6 : 2;
        st16(l4 + at, 0);
        uint32_t s = proto == 1
                         ? 0
                         : nat_csum_pseudo4(ld32(pkt + 12), ld32(pkt + 16),
                                            proto, (uint16_t)l4len);
        uint16_t got = nat_csum_finish(t_csum_add(s, l4, l4len));
        if (proto == 17)
            got = nat_csum_udp_final(got);
        ck_assert_uint_eq(got, want_l4);
        n++;
    }
    fclose(f);
    ck_assert_int_ge(n, 20);
}
END_TEST

Suite *
checksum_suite(void)
{
    Suite *s = suite_create("checksum");
    TCase *tc = tcase_create("rfc1071");
    tcase_add_test(tc, rfc1071_example_sum);
    tcase_add_test(tc, rfc1071_any_length_alignment);
    tcase_add_test(tc, rfc1071_carry_saturation);
    tcase_add_test(tc, rfc1071_incremental_pieces);
    tcase_add_test(tc, pseudo_header_ipv4);
    tcase_add_test(tc, pseudo_header_ipv6);
    tcase_add_test(tc, scapy_vectors_match);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc1624");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, rfc1624_update16_matches_full);
    tcase_add_test(tc, rfc1624_update32_matches_full);
    tcase_add_test(tc, rfc768_udp_zero_checksum_stays_zero);
    tcase_add_test(tc, rfc768_udp_computed_zero_sent_as_ffff);
    suite_add_tcase(s, tc);
    return s;
}
