/* Packet layer: validation of IPv4, TCP, UDP and ICMP headers. */
#include <string.h>

#include "bytes.h"
#include "packet.h"
#include "tests.h"

#define IN IP4(10, 0, 0, 2)
#define OUT IP4(203, 0, 113, 9)

START_TEST(parse_valid_udp)
{
    uint8_t b[1500];
    size_t n = t_udp(b, IN, 40000, OUT, 53, 12);
    struct nat_pkt p;
    ck_assert_int_eq(nat_pkt_parse(&p, b, n), NAT_R_NONE);
    ck_assert_int_eq(p.kind, NAT_PK_UDP);
    ck_assert_uint_eq(p.src, IN);
    ck_assert_uint_eq(p.dst, OUT);
    ck_assert_uint_eq(p.sport, 40000);
    ck_assert_uint_eq(p.dport, 53);
    ck_assert_uint_eq(p.l4_off, 20);
    ck_assert_uint_eq(p.l4_len, 20);
}
END_TEST

Suite *
packet_suite(void)
{
    Suite *s = suite_create("packet");
    TCase *tc = tcase_create("ipv4");
    tcase_add_test(tc, parse_valid_udp);
    suite_add_tcase(s, tc);
    return s;
}
