/*
 * Portability: the same configuration, secret and packets make the same
 * choices on every host, whatever its byte order or word size. The
 * expected external ports were measured on x86_64; .ci/cross.sh runs this
 * suite on i686 (32-bit) and s390x (big-endian) under qemu-user, where any
 * byte-order or width dependence in how the secret becomes hash keys, or
 * in the hashes themselves, shows up as a different port.
 */
#include <stdio.h>
#include <string.h>

#include "tests.h"

static uint8_t pkt[1500];

#define STEER_GOLDEN 3, 4, 4, 4, 5, 5, 6, 6, 6, 0, 0, 1, 1, 2, 2, 2

struct flow {
    uint8_t proto; /* 6, 17 or 1 (ICMP echo: sport is the identifier) */
    uint32_t src;
    uint16_t sport;
    uint32_t dst;
    uint16_t dport;
};

/* Pairs of inside endpoints that share a source port, so that with port
 * preservation on the second of each pair needs a hashed choice. */
static const struct flow flows[] = {
    {17, T_H1, 5000, T_R1, 53},    {17, T_H2, 5000, T_R1, 53},
    {17, T_H1, 40000, T_R2, 123},  {17, T_H2, 40000, T_R2, 123},
    {17, T_H1, 1024, T_R1, 5060},  {17, T_H2, 1024, T_R2, 5060},
    {17, T_H1, 65535, T_R1, 4500}, {17, T_H2, 65535, T_R1, 4500},
    {6, T_H1, 5000, T_R1, 80},     {6, T_H2, 5000, T_R1, 80},
    {6, T_H1, 33000, T_R2, 443},   {6, T_H2, 33000, T_R2, 443},
    {6, T_H1, 49152, T_R1, 22},    {6, T_H2, 49152, T_R2, 22},
    {6, T_H1, 512, T_R1, 25},      {6, T_H2, 512, T_R1, 25},
    {1, T_H1, 7, T_R1, 0},         {1, T_H2, 7, T_R1, 0},
};
#define NFLOWS (sizeof(flows) / sizeof(flows[0]))

/* The secret is bytes 0..15; everything else is nat_config_init()'s
 * defaults, apart from port preservation when @preserve is 0. */
static void
run_flows(int preserve, uint16_t got[NFLOWS])
{
    struct nat_config c;
    nat_config_init(&c);
    for (int i = 0; i < 16; i++)
        c.secret[i] = (uint8_t)i;
    c.port_preserve = (uint8_t)preserve;
    struct nat *n = t_nat(&c);
    for (size_t i = 0; i < NFLOWS; i++) {
        const struct flow *f = &flows[i];
        size_t len;
        if (f->proto == 17)
            len = t_udp(pkt, f->src, f->sport, f->dst, f->dport, 16);
        else if (f->proto == 6)
            len = t_tcp(pkt, f->src, f->sport, f->dst, f->dport, 0x02, 0);
        else
            len = t_icmp_echo(pkt, f->src, f->dst, 8, f->sport, 1, 8);
        struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 1000 + i);
        ck_assert_int_eq(r.verdict, NAT_OUT);
        ck_assert_uint_eq(t_src(pkt), T_PUB);
        got[i] = t_sport(pkt);
    }
    nat_destroy(n);
}

static void
assert_ports(const uint16_t want[NFLOWS], const uint16_t got[NFLOWS])
{
    char list[NFLOWS * 8 + 1];
    size_t at = 0;
    int bad = -1;
    for (size_t i = 0; i < NFLOWS; i++) {
        at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%u",
                               i ? ", " : "", (unsigned)got[i]);
        if (bad < 0 && got[i] != want[i])
            bad = (int)i;
    }
    ck_assert_msg(bad < 0,
                  "flow %d: external port %u, expected %u (x86_64); "
                  "all ports: {%s}",
                  bad, bad < 0 ? 0u : (unsigned)got[bad],
                  bad < 0 ? 0u : (unsigned)want[bad], list);
}

/* Defaults (port preservation on): the first of each pair keeps its port,
 * the second gets the keyed-hash choice. */
START_TEST(portable_fixed_secret_same_ports)
{
    static const uint16_t want[NFLOWS] = {
        5000,  35561, 40000, 29090, 1024, 32438, 65535, 62679, 5000,
        35576, 33000, 62013, 49152, 6887, 512,   516,   7,     18907,
    };
    uint16_t got[NFLOWS];
    run_flows(1, got);
    assert_ports(want, got);
}
END_TEST

/* Without preservation every choice comes from the keyed hash. */
START_TEST(portable_fixed_secret_no_preserve)
{
    static const uint16_t want[NFLOWS] = {
        35930, 23561, 10470, 36151, 33187, 35837, 21088, 2585,  60810,
        57359, 16045, 50923, 13837, 4228,  540,   173,   47785, 12754,
    };
    uint16_t got[NFLOWS];
    run_flows(0, got);
    assert_ports(want, got);
}
END_TEST

/* nat_steer() with a secret whose halves read differently in either byte
 * order: the worker of each outbound packet (by inside host) is the same
 * on every machine. Measured on x86_64. */
START_TEST(portable_fixed_secret_same_workers)
{
    struct nat_steer st;
    uint8_t secret[16];
    for (int i = 0; i < 16; i++)
        secret[i] = (uint8_t)i;
    ck_assert_int_eq(nat_steer_init(&st, 7, 1024, 65535, secret), 0);
    static const uint32_t want[16] = {STEER_GOLDEN};
    uint32_t got[16];
    for (uint32_t h = 0; h < 16; h++) {
        size_t len = t_udp(pkt, IP4(10, 0, 0, 2 + h), 5000, T_R1, 53, 8);
        got[h] = t_steer(&st, NAT_DIR_OUT, pkt, len);
    }
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(got[i], want[i]);
}
END_TEST

Suite *
portable_suite(void)
{
    Suite *s = suite_create("portable");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, portable_fixed_secret_same_ports);
    tcase_add_test(tc, portable_fixed_secret_no_preserve);
    tcase_add_test(tc, portable_fixed_secret_same_workers);
    suite_add_tcase(s, tc);
    return s;
}
