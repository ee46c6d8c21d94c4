/* Scale-out steering: N instances with disjoint port slices. */
#include <string.h>

#include "bytes.h"
#include "tests.h"

#define W 4

static uint8_t pkt[1500];

static void
make_workers(struct nat_steer *st, struct nat *w[W])
{
    uint8_t secret[16];
    memset(secret, 7, sizeof(secret));
    ck_assert_int_eq(nat_steer_init(st, W, 1024, 65535, secret), 0);
    for (uint32_t i = 0; i < W; i++) {
        struct nat_config c;
        nat_config_init(&c);
        ck_assert_int_eq(nat_steer_config(st, i, &c), 0);
        w[i] = t_nat(&c);
    }
}

START_TEST(steer_init_rejects_bad_arguments)
{
    struct nat_steer st;
    uint8_t secret[16] = {0};
    ck_assert_int_eq(nat_steer_init(&st, 0, 1024, 65535, secret), NAT_EINVAL);
    ck_assert_int_eq(nat_steer_init(&st, 2, 0, 65535, secret), NAT_ERANGE);
    ck_assert_int_eq(nat_steer_init(&st, 2, 2000, 1000, secret), NAT_ERANGE);
    ck_assert_int_eq(nat_steer_init(&st, 1000, 1024, 2000, secret), NAT_ERANGE);
    ck_assert_int_eq(nat_steer_init(&st, 2, 1024, 65535, secret), 0);
    struct nat_config c;
    nat_config_init(&c);
    ck_assert_int_eq(nat_steer_config(&st, 2, &c), NAT_EINVAL);
}
END_TEST

/* Slices are disjoint and cover the range; every flow's reply is steered
 * back to the worker that translated it; all flows of a host meet in one
 * worker (so EIM and paired pooling stay exact). */
START_TEST(steer_replies_reach_owner)
{
    struct nat_steer st;
    struct nat *w[W];
    make_workers(&st, w);
    int used[W] = {0};
    for (uint32_t h = 0; h < 64; h++) {
        uint32_t host = IP4(10, 0, 0, 2 + h);
        uint32_t owner = W;
        for (uint16_t p = 0; p < 8; p++) {
            size_t len = t_udp(pkt, host, (uint16_t)(3000 + p), T_R1, 53, 8);
            uint32_t k = t_steer(&st, NAT_DIR_OUT, pkt, len);
            ck_assert_uint_lt(k, W);
            if (owner == W)
                owner = k;
            ck_assert_uint_eq(k, owner);
            ck_assert_int_eq(t_xlate(w[k], NAT_DIR_OUT, pkt, len, 0).verdict,
                             NAT_OUT);
            uint16_t e = t_sport(pkt);
            len = t_udp(pkt, T_R1, 53, T_PUB, e, 8);
            ck_assert_uint_eq(t_steer(&st, NAT_DIR_IN, pkt, len), k);
            ck_assert_int_eq(t_xlate(w[k], NAT_DIR_IN, pkt, len, 1).verdict,
                             NAT_IN);
            ck_assert_uint_eq(t_dst(pkt), host);
        }
        /* ICMP echo identifiers are sliced too. */
        size_t len = t_icmp_echo(pkt, host, T_R1, 8, 5, 1, 8);
        uint32_t k = t_steer(&st, NAT_DIR_OUT, pkt, len);
        ck_assert_uint_eq(k, owner);
        ck_assert_int_eq(t_xlate(w[k], NAT_DIR_OUT, pkt, len, 0).verdict,
                         NAT_OUT);
        len = t_icmp_echo(pkt, T_R1, T_PUB, 0, t_sport(pkt), 1, 8);
        ck_assert_uint_eq(t_steer(&st, NAT_DIR_IN, pkt, len), k);
        used[owner]++;
    }
    for (int i = 0; i < W; i++) {
        ck_assert_int_gt(used[i], 0); /* hosts spread over all workers */
        nat_destroy(w[i]);
    }
}
END_TEST

/* Malformed and portless packets go to worker 0. */
START_TEST(steer_portless_to_worker0)
{
    struct nat_steer st;
    struct nat *w[W];
    make_workers(&st, w);
    memset(pkt, 0, 40);
    ck_assert_uint_eq(t_steer(&st, NAT_DIR_IN, pkt, 40), 0);
    size_t len = t_udp(pkt, T_R1, 53, T_PUB, 80, 8); /* below every slice */
    ck_assert_uint_eq(t_steer(&st, NAT_DIR_IN, pkt, len), 0);
    for (int i = 0; i < W; i++)
        nat_destroy(w[i]);
}
END_TEST

Suite *
steer_suite(void)
{
    Suite *s = suite_create("steer");
    TCase *tc = tcase_create("steer");
    tcase_add_test(tc, steer_init_rejects_bad_arguments);
    tcase_add_test(tc, steer_replies_reach_owner);
    tcase_add_test(tc, steer_portless_to_worker0);
    suite_add_tcase(s, tc);
    return s;
}
