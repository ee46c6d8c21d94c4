/*
 * RFC behaviour suite: one test per testable requirement, named
 * rfc<number>_req<N>_<what>. Time is driven explicitly (milliseconds).
 * Every translated packet is checked by full checksum recomputation in
 * t_xlate().
 */
#include <string.h>

#include "bytes.h"
#include "tests.h"

#define S 1000ull /* one second in ms */

static uint8_t pkt[1500];

/* Send UDP out from @h:@hp to @r:@rp; return the external port used. */
static uint16_t
udp_out(struct nat *n, uint32_t h, uint16_t hp, uint32_t r, uint16_t rp,
        uint64_t now)
{
    size_t len = t_udp(pkt, h, hp, r, rp, 16);
    struct nat_result res = t_xlate(n, NAT_DIR_OUT, pkt, len, now);
    ck_assert_int_eq(res.verdict, NAT_OUT);
    ck_assert_uint_eq(t_dst(pkt), r);
    ck_assert_uint_eq(t_dport(pkt), rp);
    return t_sport(pkt);
}

/* Send UDP in from @r:@rp to @e:@ep; return the verdict (packet in pkt). */
static struct nat_result
udp_in(struct nat *n, uint32_t r, uint16_t rp, uint32_t e, uint16_t ep,
       uint64_t now)
{
    size_t len = t_udp(pkt, r, rp, e, ep, 16);
    return t_xlate(n, NAT_DIR_IN, pkt, len, now);
}

static struct nat_result
tcp_send(struct nat *n, enum nat_dir dir, uint32_t s, uint16_t sp, uint32_t d,
         uint16_t dp, uint8_t flags, uint64_t now)
{
    size_t len = t_tcp(pkt, s, sp, d, dp, flags, 0);
    return t_xlate(n, dir, pkt, len, now);
}

static struct nat_config
cfg_default(void)
{
    struct nat_config c;
    nat_config_init(&c);
    memset(c.secret, 0x5a, sizeof(c.secret));
    return c;
}

/* ---- RFC 4787 (UDP) ------------------------------------------------------- */

/* REQ-1: endpoint-independent mapping: same external endpoint whatever the
 * destination. */
START_TEST(rfc4787_req1_eim_udp)
{
    struct nat *n = t_nat(NULL);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    uint16_t e2 = udp_out(n, T_H1, 5000, T_R2, 53, 1);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    uint16_t e3 = udp_out(n, T_H1, 5000, T_R1, 9999, 2);
    ck_assert_uint_eq(e1, e2);
    ck_assert_uint_eq(e1, e3);
    nat_destroy(n);
}
END_TEST

/* REQ-1 alternatives, selectable: address-dependent mapping. */
START_TEST(rfc4787_req1_adm_udp)
{
    struct nat_config c = cfg_default();
    c.mapping[NAT_P_UDP] = NAT_MAP_AD;
    struct nat *n = t_nat(&c);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    uint16_t e2 = udp_out(n, T_H1, 5000, T_R1, 54, 1);
    uint16_t e3 = udp_out(n, T_H1, 5000, T_R2, 53, 2);
    ck_assert_uint_eq(e1, e2);
    ck_assert_uint_ne(e1, e3);
    nat_destroy(n);
}
END_TEST

/* Address-and-port-dependent mapping ("symmetric"). */
START_TEST(rfc4787_req1_apdm_udp)
{
    struct nat_config c = cfg_default();
    c.mapping[NAT_P_UDP] = NAT_MAP_APD;
    struct nat *n = t_nat(&c);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    uint16_t e2 = udp_out(n, T_H1, 5000, T_R1, 54, 1);
    uint16_t e3 = udp_out(n, T_H1, 5000, T_R1, 53, 2);
    ck_assert_uint_ne(e1, e2);
    ck_assert_uint_eq(e1, e3);
    /* Replies reach the right session each. */
    ck_assert_int_eq(udp_in(n, T_R1, 54, T_PUB, e2, 3).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_dport(pkt), 5000);
    nat_destroy(n);
}
END_TEST

/* REQ-2: paired pooling: all of a host's mappings use one external
 * address, whatever the protocol (RFC 7857 section 4 too). */
START_TEST(rfc4787_req2_paired_pooling)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(nat_pool_add(n, T_PUB2), 0);
    ck_assert_int_eq(nat_pool_add(n, IP4(203, 0, 113, 3)), 0);
    for (uint32_t h = 2; h < 40; h++) {
        uint32_t host = IP4(10, 0, 0, h);
        udp_out(n, host, 1000 + (uint16_t)h, T_R1, 53, h);
        uint32_t ext = t_src(pkt);
        for (uint16_t p = 0; p < 5; p++) {
            udp_out(n, host, (uint16_t)(2000 + p), T_R2, 80, h);
            ck_assert_uint_eq(t_src(pkt), ext);
        }
        ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, host, 3000, T_R1, 80,
                                  0x02, h)
                             .verdict,
                         NAT_OUT);
        ck_assert_uint_eq(t_src(pkt), ext);
    }
    nat_destroy(n);
}
END_TEST

/* REQ-3: no port overloading: two inside endpoints never share an
 * external endpoint, even when they use the same port. */
START_TEST(rfc4787_req3_no_port_overloading)
{
    struct nat *n = t_nat(NULL);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    uint16_t e2 = udp_out(n, T_H2, 5000, T_R2, 53, 0);
    ck_assert_uint_eq(e1, 5000); /* port preservation */
    ck_assert_uint_ne(e1, e2);
    /* Replies go back to the right host each. */
    ck_assert_int_eq(udp_in(n, T_R2, 53, T_PUB, e2, 1).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    ck_assert_int_eq(udp_in(n, T_R1, 53, T_PUB, e1, 1).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    nat_destroy(n);
}
END_TEST

/* REQ-3a: inside ports 0-1023 map into 0-1023, others stay above. */
START_TEST(rfc4787_req3a_port_range_preserved)
{
    struct nat *n = t_nat(NULL);
    for (uint16_t i = 0; i < 50; i++) {
        uint16_t e = udp_out(n, IP4(10, 0, 0, 10 + i), 500, T_R1, 53, i);
        ck_assert_uint_lt(e, 1024);
        ck_assert_uint_gt(e, 0);
        e = udp_out(n, IP4(10, 0, 0, 10 + i), 2000, T_R1, 53, i);
        ck_assert_uint_ge(e, 1024);
    }
    nat_destroy(n);
}
END_TEST

/* REQ-4: port parity preserved when configured. */
START_TEST(rfc4787_req4_port_parity)
{
    struct nat_config c = cfg_default();
    c.port_parity = 1;
    struct nat *n = t_nat(&c);
    for (uint16_t i = 0; i < 200; i++) {
        uint16_t hp = (uint16_t)(6000 + i);
        /* A second host with the same port forces a non-preserved choice. */
        udp_out(n, T_H1, hp, T_R1, 53, 0);
        uint16_t e = udp_out(n, T_H2, hp, T_R1, 53, 0);
        ck_assert_uint_ne(e, hp);
        ck_assert_uint_eq(e & 1, hp & 1);
    }
    nat_destroy(n);
}
END_TEST

/* REQ-5: UDP mappings last at least 2 minutes; default 5 minutes. */
START_TEST(rfc4787_req5_udp_mapping_timeout)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 10 * S);
    nat_expire(n, 10 * S + 300 * S - 1, 100);
    ck_assert_int_eq(udp_in(n, T_R1, 53, T_PUB, e, 10 * S + 300 * S - 1)
                         .verdict,
                     NAT_IN);
    /* That inbound refreshed it (REQ-6 MAY); idle 300 s from there. */
    uint64_t t = 10 * S + 300 * S - 1 + 300 * S;
    nat_expire(n, t, 100);
    ck_assert_uint_eq(nat_session_count(n, 17), 0);
    ck_assert_int_eq(udp_in(n, T_R1, 53, T_PUB, e, t).verdict, NAT_DROP);
    nat_destroy(n);
}
END_TEST

/* REQ-6: outbound traffic refreshes the mapping. */
START_TEST(rfc4787_req6_outbound_refresh)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    for (uint64_t t = 200 * S; t <= 2000 * S; t += 200 * S) {
        nat_expire(n, t, 100);
        ck_assert_uint_eq(udp_out(n, T_H1, 5000, T_R1, 53, t), e);
    }
    ck_assert_uint_eq(nat_session_count(n, 17), 1);
    nat_destroy(n);
}
END_TEST

/* REQ-8: endpoint-independent filtering admits anyone to a mapping. */
START_TEST(rfc4787_req8_eif)
{
    struct nat_config c = cfg_default();
    c.filtering[NAT_P_UDP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    ck_assert_int_eq(udp_in(n, T_R2, 7777, T_PUB, e, 1).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_src(pkt), T_R2);
    nat_destroy(n);
}
END_TEST

/* REQ-8: address-dependent filtering (the default): only addresses the
 * host has sent to, from any port. */
START_TEST(rfc4787_req8_adf_default)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    ck_assert_int_eq(udp_in(n, T_R1, 9999, T_PUB, e, 1).verdict, NAT_IN);
    struct nat_result r = udp_in(n, T_R2, 53, T_PUB, e, 1);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_FILTERED);
    nat_destroy(n);
}
END_TEST

/* REQ-8: address-and-port-dependent filtering. */
START_TEST(rfc4787_req8_apdf)
{
    struct nat_config c = cfg_default();
    c.filtering[NAT_P_UDP] = NAT_FILTER_APD;
    struct nat *n = t_nat(&c);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    ck_assert_int_eq(udp_in(n, T_R1, 53, T_PUB, e, 1).verdict, NAT_IN);
    struct nat_result r = udp_in(n, T_R1, 54, T_PUB, e, 1);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_FILTERED);
    nat_destroy(n);
}
END_TEST

/* Unsolicited inbound traffic with no mapping is dropped. */
START_TEST(rfc4787_req8_unsolicited_no_mapping)
{
    struct nat *n = t_nat(NULL);
    struct nat_result r = udp_in(n, T_R1, 53, T_PUB, 5000, 1);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_NO_MAPPING);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    nat_destroy(n);
}
END_TEST

/* REQ-9: hairpinning: H1 reaches H2 through H2's external endpoint and
 * sees... H2 sees H1's external endpoint as the source. */
START_TEST(rfc4787_req9_hairpin_udp)
{
    struct nat_config c = cfg_default();
    c.filtering[NAT_P_UDP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    uint16_t e2 = udp_out(n, T_H2, 6000, T_R1, 3478, 0);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 3478, 0);
    size_t len = t_udp(pkt, T_H1, 5000, T_PUB, e2, 16);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict,
                     NAT_HAIRPIN);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_sport(pkt), e1);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    ck_assert_uint_eq(t_dport(pkt), 6000);
    /* And the reply hairpins back to H1 from H2's external endpoint. */
    len = t_udp(pkt, T_H2, 6000, T_PUB, e1, 16);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 2).verdict,
                     NAT_HAIRPIN);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_sport(pkt), e2);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_dport(pkt), 5000);
    nat_destroy(n);
}
END_TEST

/* REQ-9 with the default address-dependent filtering: hairpinned packets
 * are filtered like any inbound packet (H2 never sent to our address). */
START_TEST(rfc4787_req9_hairpin_filtered)
{
    struct nat *n = t_nat(NULL);
    uint16_t e2 = udp_out(n, T_H2, 6000, T_R1, 3478, 0);
    size_t len = t_udp(pkt, T_H1, 5000, T_PUB, e2, 16);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 1);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_FILTERED);
    nat_destroy(n);
}
END_TEST

/* REQ-11: deterministic: same config, secret and packets, same choices. */
START_TEST(rfc4787_req11_deterministic)
{
    struct nat_config c = cfg_default();
    struct nat *a = t_nat(&c), *b = t_nat(&c);
    for (uint16_t i = 0; i < 100; i++) {
        uint16_t ea = udp_out(a, IP4(10, 0, 0, 2 + i % 5), 7000, T_R1, 53, i);
        uint16_t eb = udp_out(b, IP4(10, 0, 0, 2 + i % 5), 7000, T_R1, 53, i);
        ck_assert_uint_eq(ea, eb);
    }
    nat_destroy(a);
    nat_destroy(b);
}
END_TEST

/* REQ-12: an ICMP error received for a mapping does not delete it. */
START_TEST(rfc4787_req12_icmp_error_keeps_mapping)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    uint8_t orig[64];
    memcpy(orig, pkt, 44);
    size_t len = t_icmp_error(pkt, T_RTR, T_PUB, 3, 1, orig, 44, 28);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 1).verdict, NAT_IN);
    ck_assert_uint_eq(nat_session_count(n, 17), 1);
    ck_assert_int_eq(udp_in(n, T_R1, 53, T_PUB, e, 2).verdict, NAT_IN);
    nat_destroy(n);
}
END_TEST

/* ---- RFC 5382 (TCP) -------------------------------------------------------- */

static uint16_t
tcp_open(struct nat *n, uint32_t h, uint16_t hp, uint32_t r, uint16_t rp,
         uint64_t now)
{
    ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, h, hp, r, rp, 0x02, now).verdict,
                     NAT_OUT);
    uint16_t e = t_sport(pkt);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, r, rp, T_PUB, e, 0x12, now).verdict, NAT_IN);
    ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, h, hp, r, rp, 0x10, now).verdict,
                     NAT_OUT);
    return e;
}

static int
tcp_state(struct nat *n, uint32_t h, uint16_t hp, uint32_t r, uint16_t rp)
{
    struct nat_session s;
    if (nat_session_lookup(n, NAT_DIR_OUT, 6, h, hp, r, rp, &s) != 0)
        return -1;
    return s.tcp_state;
}

/* REQ-1: endpoint-independent mapping for TCP. */
START_TEST(rfc5382_req1_eim_tcp)
{
    struct nat *n = t_nat(NULL);
    uint16_t e1 = tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    uint16_t e2 = tcp_open(n, T_H1, 40000, T_R2, 443, 0);
    ck_assert_uint_eq(e1, e2);
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R1, 80), NAT_TCP_ESTABLISHED);
    nat_destroy(n);
}
END_TEST

/* REQ-2: simultaneous open (SYN out, SYN in, then SYN-ACKs) works. */
START_TEST(rfc5382_req2_simultaneous_open)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 50000, 0x02,
                              0)
                         .verdict,
                     NAT_OUT);
    uint16_t e = t_sport(pkt);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R1, 50000, T_PUB, e, 0x02, 1).verdict,
        NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_int_eq(tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 50000, 0x12,
                              2)
                         .verdict,
                     NAT_OUT);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R1, 50000, T_PUB, e, 0x12, 3).verdict,
        NAT_IN);
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R1, 50000),
                     NAT_TCP_ESTABLISHED);
    nat_destroy(n);
}
END_TEST

/* REQ-3: endpoint-independent filtering selectable for TCP: an inbound SYN
 * from a new remote to an existing mapping opens a session (P2P). */
START_TEST(rfc5382_req3_tcp_filtering_eif)
{
    struct nat_config c = cfg_default();
    c.filtering[NAT_P_TCP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    uint16_t e = tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R2, 6000, T_PUB, e, 0x02, 1).verdict,
        NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_dport(pkt), 40000);
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R2, 6000), NAT_TCP_SYN_IN);
    nat_destroy(n);
}
END_TEST

/* REQ-4: an unsolicited inbound SYN gets no response and creates nothing
 * (dropped silently: permitted by REQ-4a). */
START_TEST(rfc5382_req4_unsolicited_syn_dropped)
{
    struct nat *n = t_nat(NULL);
    struct nat_result r =
        tcp_send(n, NAT_DIR_IN, T_R1, 6000, T_PUB, 22, 0x02, 0);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_TCP_SYN_IN);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    /* An outbound SYN for the same connection afterwards still works. */
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_OUT, T_H1, 22, T_R1, 6000, 0x02, 1).verdict,
        NAT_OUT);
    nat_destroy(n);
}
END_TEST

/* REQ-5: established idle timeout at least 2 h 4 min. */
START_TEST(rfc5382_req5_established_idle_timeout)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    uint64_t t = 7440 * S - 1;
    nat_expire(n, t, 100);
    ck_assert_int_eq(tcp_send(n, NAT_DIR_IN, T_R1, 80, T_PUB, e, 0x10, t)
                         .verdict,
                     NAT_IN);
    t += 7440 * S;
    nat_expire(n, t, 100);
    ck_assert_uint_eq(nat_session_count(n, 6), 0);
    nat_destroy(n);
}
END_TEST

/* REQ-5: transitory (SYN-only) timeout at least 4 minutes. */
START_TEST(rfc5382_req5_transitory_timeout)
{
    struct nat *n = t_nat(NULL);
    tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 80, 0x02, 0);
    nat_expire(n, 240 * S - 1, 100);
    ck_assert_uint_eq(nat_session_count(n, 6), 1);
    nat_expire(n, 240 * S, 100);
    ck_assert_uint_eq(nat_session_count(n, 6), 0);
    nat_destroy(n);
}
END_TEST

/* REQ-7: no port overloading for TCP either. */
START_TEST(rfc5382_req7_no_port_overloading_tcp)
{
    struct nat *n = t_nat(NULL);
    uint16_t e1 = tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    uint16_t e2 = tcp_open(n, T_H2, 40000, T_R1, 80, 0);
    ck_assert_uint_ne(e1, e2);
    nat_destroy(n);
}
END_TEST

/* REQ-8: hairpinning for TCP. */
START_TEST(rfc5382_req8_hairpin_tcp)
{
    struct nat_config c = cfg_default();
    c.filtering[NAT_P_TCP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    uint16_t e2 = tcp_open(n, T_H2, 8080, T_R1, 80, 0);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_OUT, T_H1, 41000, T_PUB, e2, 0x02, 1).verdict,
        NAT_HAIRPIN);
    uint16_t e1 = t_sport(pkt);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    ck_assert_uint_eq(t_dport(pkt), 8080);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_OUT, T_H2, 8080, T_PUB, e1, 0x12, 2).verdict,
        NAT_HAIRPIN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_dport(pkt), 41000);
    ck_assert_uint_eq(t_sport(pkt), e2);
    nat_destroy(n);
}
END_TEST

/* REQ-9: ICMP errors for TCP are translated (embedded header included). */
START_TEST(rfc5382_req9_icmp_error_translated_tcp)
{
    struct nat *n = t_nat(NULL);
    tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 80, 0x02, 0);
    uint16_t e = t_sport(pkt);
    uint8_t orig[64];
    memcpy(orig, pkt, 40);
    size_t len = t_icmp_error(pkt, T_RTR, T_PUB, 3, 4, orig, 40, 40);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 1).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(ld32(pkt + 28 + 12), T_H1); /* embedded source */
    ck_assert_uint_eq(ld16(pkt + 48), 40000);     /* embedded port */
    ck_assert_uint_ne(e, 0);
    nat_destroy(n);
}
END_TEST

/* REQ-10: receiving ICMP does not end the session or change its state. */
START_TEST(rfc5382_req10_icmp_does_not_end_session)
{
    struct nat *n = t_nat(NULL);
    tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    uint8_t orig[64];
    size_t olen = t_tcp(orig, T_PUB, 40000, T_R1, 80, 0x10, 0);
    for (uint8_t type = 3; type <= 12; type += 9) {
        size_t len = t_icmp_error(pkt, T_RTR, T_PUB, type, 0, orig, olen, 28);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 1).verdict, NAT_IN);
    }
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R1, 80), NAT_TCP_ESTABLISHED);
    nat_destroy(n);
}
END_TEST

/* ---- RFC 7857 ---------------------------------------------------------------- */

/* 2.1: RST moves the session to the transitory timer, not deletion. */
START_TEST(rfc7857_2_1_rst_moves_to_transitory)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    tcp_send(n, NAT_DIR_IN, T_R1, 80, T_PUB, e, 0x14, 10 * S);
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R1, 80), NAT_TCP_RST);
    nat_expire(n, 10 * S + 240 * S - 1, 100);
    ck_assert_uint_eq(nat_session_count(n, 6), 1);
    nat_expire(n, 10 * S + 240 * S, 100);
    ck_assert_uint_eq(nat_session_count(n, 6), 0);
    nat_destroy(n);
}
END_TEST

/* 2.1: FIN both ways also ends in the transitory timer. */
START_TEST(rfc7857_2_1_fin_both_transitory)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 80, 0x11, 1);
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R1, 80), NAT_TCP_FIN_OUT);
    tcp_send(n, NAT_DIR_IN, T_R1, 80, T_PUB, e, 0x11, 2);
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R1, 80), NAT_TCP_CLOSING);
    nat_expire(n, 2 + 240 * S, 100);
    ck_assert_uint_eq(nat_session_count(n, 6), 0);
    nat_destroy(n);
}
END_TEST

/* 4: paired pooling holds across protocols. */
START_TEST(rfc7857_4_paired_pooling_across_protocols)
{
    struct nat *n = t_nat(NULL);
    for (uint32_t i = 0; i < 8; i++)
        ck_assert_int_eq(nat_pool_add(n, IP4(203, 0, 113, 10 + i)), 0);
    for (uint32_t h = 2; h < 30; h++) {
        uint32_t host = IP4(10, 0, 0, h);
        udp_out(n, host, 1000, T_R1, 53, 0);
        uint32_t ext = t_src(pkt);
        tcp_send(n, NAT_DIR_OUT, host, 1000, T_R1, 80, 0x02, 0);
        ck_assert_uint_eq(t_src(pkt), ext);
        size_t len = t_icmp_echo(pkt, host, T_R1, 8, 77, 1, 8);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict,
                         NAT_OUT);
        ck_assert_uint_eq(t_src(pkt), ext);
    }
    nat_destroy(n);
}
END_TEST

/* 6 (and RFC 6056): ports that cannot be preserved are randomised, not
 * sequential. */
START_TEST(rfc7857_6_port_randomization)
{
    struct nat_config c = cfg_default();
    c.port_preserve = 0;
    struct nat *n = t_nat(&c);
    uint16_t prev = 0;
    int sequential = 0;
    for (uint16_t i = 0; i < 100; i++) {
        uint16_t e = udp_out(n, T_H1, (uint16_t)(20000 + i), T_R1, 53, 0);
        if (prev && (uint16_t)(e - prev) == 1)
            sequential++;
        prev = e;
    }
    ck_assert_int_lt(sequential, 5);
    nat_destroy(n);
}
END_TEST

/* 8: ICMP errors never create a mapping. */
START_TEST(rfc7857_8_icmp_error_creates_no_mapping)
{
    struct nat *n = t_nat(NULL);
    uint8_t orig[64];
    size_t olen = t_udp(orig, T_R1, 53, T_H1, 5000, 8);
    size_t len = t_icmp_error(pkt, T_H1, T_R1, 3, 3, orig, olen, olen);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_ICMP_NO_SESSION);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    nat_destroy(n);
}
END_TEST

/* ICMP query mapping (RFC 5508 REQ-1 style): echo identifier as port. */
START_TEST(rfc7857_8_icmp_query_mapping)
{
    struct nat *n = t_nat(NULL);
    size_t len = t_icmp_echo(pkt, T_H1, T_R1, 8, 77, 1, 32);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_OUT);
    uint16_t id = t_sport(pkt);
    len = t_icmp_echo(pkt, T_H2, T_R1, 8, 77, 1, 32);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_OUT);
    ck_assert_uint_ne(t_sport(pkt), id);
    len = t_icmp_echo(pkt, T_R1, T_PUB, 0, id, 1, 32);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 1).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_sport(pkt), 77);
    /* RFC 5508 REQ-1: 60 s idle timeout. H2's session, idle since 0,
     * ends at 60 s; H1's, refreshed at 1 ms by the reply, lives on. */
    nat_expire(n, 60 * S, 100);
    ck_assert_uint_eq(nat_session_count(n, 1), 1);
    ck_assert_int_eq(nat_session_lookup(n, NAT_DIR_OUT, 1, T_H1, 77, T_R1, 0,
                                        NULL),
                     0);
    nat_expire(n, 60 * S + 1, 100);
    ck_assert_uint_eq(nat_session_count(n, 1), 0);
    nat_destroy(n);
}
END_TEST

/* 9: ICMP query hairpinning (towards a 1:1-mapped inside host). */
START_TEST(rfc7857_9_hairpin_icmp)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(nat_one_to_one_add(n, T_H2, IP4(203, 0, 113, 50)), 0);
    size_t len = t_icmp_echo(pkt, T_H1, IP4(203, 0, 113, 50), 8, 99, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict,
                     NAT_HAIRPIN);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    uint16_t id = t_sport(pkt);
    len = t_icmp_echo(pkt, T_H2, T_PUB, 0, id, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict,
                     NAT_HAIRPIN);
    ck_assert_uint_eq(t_src(pkt), IP4(203, 0, 113, 50));
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_sport(pkt), 99);
    nat_destroy(n);
}
END_TEST

/* ---- RFC 6888 (CGN) ------------------------------------------------------------- */

/* REQ-2: paired pooling is the default. */
START_TEST(rfc6888_req2_paired_default)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(nat_pool_add(n, T_PUB2), 0);
    udp_out(n, T_H1, 1, T_R1, 53, 0);
    uint32_t ext = t_src(pkt);
    for (uint16_t p = 2; p < 300; p++) {
        udp_out(n, T_H1, p, T_R1, 53, 0);
        ck_assert_uint_eq(t_src(pkt), ext);
    }
    nat_destroy(n);
}
END_TEST

static int exhaust_events;
static enum nat_reason exhaust_reason;

static void
on_event(const struct nat_event *ev, void *arg)
{
    (void)arg;
    if (ev->type == NAT_EV_EXHAUSTED) {
        exhaust_events++;
        exhaust_reason = ev->reason;
    }
}

/* REQ-4: external ports per subscriber are limited. */
START_TEST(rfc6888_req4_host_port_limit)
{
    struct nat_config c = cfg_default();
    c.host_max_ports = 10;
    c.event_cb = on_event;
    exhaust_events = 0;
    struct nat *n = t_nat(&c);
    for (uint16_t p = 0; p < 10; p++)
        udp_out(n, T_H1, (uint16_t)(3000 + p), T_R1, 53, 0);
    size_t len = t_udp(pkt, T_H1, 4000, T_R1, 53, 4);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_HOST_PORTS);
    ck_assert_int_eq(exhaust_events, 1);
    ck_assert_int_eq(exhaust_reason, NAT_R_HOST_PORTS);
    /* Other subscribers are unaffected; existing bindings keep working. */
    udp_out(n, T_H2, 4000, T_R1, 53, 0);
    udp_out(n, T_H1, 3000, T_R2, 53, 0);
    nat_destroy(n);
}
END_TEST

/* REQ-5: state per subscriber is limited. */
START_TEST(rfc6888_req5_host_session_limit)
{
    struct nat_config c = cfg_default();
    c.host_max_sessions = 5;
    struct nat *n = t_nat(&c);
    for (uint32_t r = 0; r < 5; r++)
        udp_out(n, T_H1, 3000, IP4(198, 51, 100, 1 + r), 53, 0);
    size_t len = t_udp(pkt, T_H1, 3000, T_R2, 53, 4);
    struct nat_result res = t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    ck_assert_int_eq(res.verdict, NAT_DROP);
    ck_assert_int_eq(res.reason, NAT_R_HOST_SESSIONS);
    ck_assert_uint_eq(nat_session_count(n, 0), 5);
    nat_destroy(n);
}
END_TEST

/* REQ-6: translation can be turned off for given destinations. */
START_TEST(rfc6888_req6_exclude_destination)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(nat_exclude_add(n, IP4(198, 51, 100, 0), 24), 0);
    size_t len = t_udp(pkt, T_H1, 3000, T_R1, 53, 4);
    uint8_t copy[64];
    memcpy(copy, pkt, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_PASS);
    ck_assert_mem_eq(pkt, copy, len);
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    nat_destroy(n);
}
END_TEST

/* REQ-8: a released port is not reused for 120 s. */
START_TEST(rfc6888_req8_port_hold_120s)
{
    struct nat_config c = cfg_default();
    c.port_min = 30000;
    c.port_max = 30000;
    struct nat *n = t_nat(&c);
    ck_assert_uint_eq(udp_out(n, T_H1, 30000, T_R1, 53, 0), 30000);
    nat_expire(n, 300 * S, 100); /* session and binding end */
    ck_assert_uint_eq(nat_session_count(n, 0), 0);
    size_t len = t_udp(pkt, T_H2, 30000, T_R1, 53, 4);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 300 * S + 1);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_PORTS);
    nat_expire(n, 420 * S, 100);
    ck_assert_uint_eq(udp_out(n, T_H2, 30000, T_R1, 53, 420 * S), 30000);
    nat_destroy(n);
}
END_TEST

/* REQ-11: when the table is full, drop and report; never evict. */
START_TEST(rfc6888_req11_exhaustion_no_eviction)
{
    struct nat_config c = cfg_default();
    c.max_sessions = 16;
    c.event_cb = on_event;
    exhaust_events = 0;
    struct nat *n = t_nat(&c);
    for (uint16_t p = 0; p < 16; p++)
        udp_out(n, T_H1, (uint16_t)(3000 + p), T_R1, 53, 0);
    size_t len = t_udp(pkt, T_H2, 3000, T_R1, 53, 4);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 1);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_TABLE_FULL);
    ck_assert_int_eq(exhaust_events, 1);
    ck_assert_uint_eq(nat_session_count(n, 0), 16);
    for (uint16_t p = 0; p < 16; p++)
        udp_out(n, T_H1, (uint16_t)(3000 + p), T_R1, 53, 2);
    /* After expiry there is room again. */
    nat_expire(n, 400 * S, 100);
    udp_out(n, T_H2, 3000, T_R1, 53, 400 * S);
    nat_destroy(n);
}
END_TEST

/* ---- forwards and basic NAT ------------------------------------------------- */

/* RFC 4787 REQ-8 with static forwarding: a forward admits any remote and
 * the server answers from the forwarded port. */
START_TEST(rfc4787_port_forward_reachable)
{
    struct nat *n = t_nat(NULL);
    struct nat_forward fw = {.proto = 6, .ext_addr = T_PUB, .ext_port = 8080,
                             .in_addr = T_H2, .in_port = 80};
    ck_assert_int_eq(nat_forward_add(n, &fw), 0);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R1, 5555, T_PUB, 8080, 0x02, 0).verdict,
        NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    ck_assert_uint_eq(t_dport(pkt), 80);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_OUT, T_H2, 80, T_R1, 5555, 0x12, 1).verdict,
        NAT_OUT);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_sport(pkt), 8080);
    /* Hairpin to the forward from inside. */
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_OUT, T_H1, 41000, T_PUB, 8080, 0x02, 2).verdict,
        NAT_HAIRPIN);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    nat_destroy(n);
}
END_TEST

/* RFC 3022 basic NAT: 1:1 address mapping, ports untouched. */
START_TEST(rfc3022_one_to_one)
{
    struct nat *n = t_nat(NULL);
    uint32_t ext = IP4(203, 0, 113, 77);
    ck_assert_int_eq(nat_one_to_one_add(n, T_H1, ext), 0);
    ck_assert_uint_eq(udp_out(n, T_H1, 5000, T_R1, 53, 0), 5000);
    ck_assert_uint_eq(t_src(pkt), ext);
    ck_assert_int_eq(udp_in(n, T_R2, 53, ext, 6000, 1).verdict, NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_dport(pkt), 6000);
    nat_destroy(n);
}
END_TEST

Suite *
rfc_suite(void)
{
    Suite *s = suite_create("rfc");
    TCase *tc = tcase_create("rfc4787");
    tcase_add_test(tc, rfc4787_req1_eim_udp);
    tcase_add_test(tc, rfc4787_req1_adm_udp);
    tcase_add_test(tc, rfc4787_req1_apdm_udp);
    tcase_add_test(tc, rfc4787_req2_paired_pooling);
    tcase_add_test(tc, rfc4787_req3_no_port_overloading);
    tcase_add_test(tc, rfc4787_req3a_port_range_preserved);
    tcase_add_test(tc, rfc4787_req4_port_parity);
    tcase_add_test(tc, rfc4787_req5_udp_mapping_timeout);
    tcase_add_test(tc, rfc4787_req6_outbound_refresh);
    tcase_add_test(tc, rfc4787_req8_eif);
    tcase_add_test(tc, rfc4787_req8_adf_default);
    tcase_add_test(tc, rfc4787_req8_apdf);
    tcase_add_test(tc, rfc4787_req8_unsolicited_no_mapping);
    tcase_add_test(tc, rfc4787_req9_hairpin_udp);
    tcase_add_test(tc, rfc4787_req9_hairpin_filtered);
    tcase_add_test(tc, rfc4787_req11_deterministic);
    tcase_add_test(tc, rfc4787_req12_icmp_error_keeps_mapping);
    tcase_add_test(tc, rfc4787_port_forward_reachable);
    tcase_add_test(tc, rfc3022_one_to_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc5382");
    tcase_add_test(tc, rfc5382_req1_eim_tcp);
    tcase_add_test(tc, rfc5382_req2_simultaneous_open);
    tcase_add_test(tc, rfc5382_req3_tcp_filtering_eif);
    tcase_add_test(tc, rfc5382_req4_unsolicited_syn_dropped);
    tcase_add_test(tc, rfc5382_req5_established_idle_timeout);
    tcase_add_test(tc, rfc5382_req5_transitory_timeout);
    tcase_add_test(tc, rfc5382_req7_no_port_overloading_tcp);
    tcase_add_test(tc, rfc5382_req8_hairpin_tcp);
    tcase_add_test(tc, rfc5382_req9_icmp_error_translated_tcp);
    tcase_add_test(tc, rfc5382_req10_icmp_does_not_end_session);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc7857");
    tcase_add_test(tc, rfc7857_2_1_rst_moves_to_transitory);
    tcase_add_test(tc, rfc7857_2_1_fin_both_transitory);
    tcase_add_test(tc, rfc7857_4_paired_pooling_across_protocols);
    tcase_add_test(tc, rfc7857_6_port_randomization);
    tcase_add_test(tc, rfc7857_8_icmp_error_creates_no_mapping);
    tcase_add_test(tc, rfc7857_8_icmp_query_mapping);
    tcase_add_test(tc, rfc7857_9_hairpin_icmp);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc6888");
    tcase_add_test(tc, rfc6888_req2_paired_default);
    tcase_add_test(tc, rfc6888_req4_host_port_limit);
    tcase_add_test(tc, rfc6888_req5_host_session_limit);
    tcase_add_test(tc, rfc6888_req6_exclude_destination);
    tcase_add_test(tc, rfc6888_req8_port_hold_120s);
    tcase_add_test(tc, rfc6888_req11_exhaustion_no_eviction);
    suite_add_tcase(s, tc);
    return s;
}
