/*
 * RFC behaviour suite: one test per testable requirement, named
 * rfc<number>_req<N>_<what>. Time is driven explicitly (milliseconds).
 * Every translated packet is checked by full checksum recomputation in
 * t_xlate().
 */
#include <stdio.h>
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

/* ---- RFC 4787 (UDP) ------------------------------------------------------ */

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

/* REQ-1 with address-and-port-dependent mapping and endpoint-independent
 * filtering: a remote that has its own mapping is not admitted through
 * another remote's mapping, which would give one inside 5-tuple two
 * sessions (found by fuzzing, finding F3). */
START_TEST(rfc4787_req1_apdm_inside_tuple_unique)
{
    struct nat_config c = cfg_default();
    c.mapping[NAT_P_UDP] = NAT_MAP_APD;
    c.filtering[NAT_P_UDP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    uint16_t e1 = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    uint16_t e2 = udp_out(n, T_H1, 5000, T_R2, 53, 0);
    ck_assert_uint_ne(e1, e2);
    struct nat_result r = udp_in(n, T_R2, 53, T_PUB, e1, 1);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_FILTERED);
    ck_assert_uint_eq(nat_session_count(n, 0), 2);
    /* A remote with no mapping of its own is still admitted (EIF). */
    ck_assert_int_eq(udp_in(n, IP4(198, 51, 100, 99), 7, T_PUB, e1, 1).verdict,
                     NAT_IN);
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
        ck_assert_int_eq(
            tcp_send(n, NAT_DIR_OUT, host, 3000, T_R1, 80, 0x02, h).verdict,
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
    ck_assert_int_eq(
        udp_in(n, T_R1, 53, T_PUB, e, 10 * S + 300 * S - 1).verdict, NAT_IN);
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
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict, NAT_HAIRPIN);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_sport(pkt), e1);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    ck_assert_uint_eq(t_dport(pkt), 6000);
    /* And the reply hairpins back to H1 from H2's external endpoint. */
    len = t_udp(pkt, T_H2, 6000, T_PUB, e1, 16);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 2).verdict, NAT_HAIRPIN);
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

/* ---- RFC 5382 (TCP) ------------------------------------------------------ */

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
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 50000, 0x02, 0).verdict,
        NAT_OUT);
    uint16_t e = t_sport(pkt);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R1, 50000, T_PUB, e, 0x02, 1).verdict,
        NAT_IN);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 50000, 0x12, 2).verdict,
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
        tcp_send(n, NAT_DIR_IN, T_R2, 6000, T_PUB, e, 0x02, 1).verdict, NAT_IN);
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
    ck_assert_int_eq(
        tcp_send(n, NAT_DIR_IN, T_R1, 80, T_PUB, e, 0x10, t).verdict, NAT_IN);
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

/* ---- RFC 7857
 * ---------------------------------------------------------------- */

/* RFC 7857 "TCP RST": RST moves the session to the transitory timer, not
 * deletion. */
START_TEST(rfc7857_tcp_rst_moves_to_transitory)
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

/* RFC 7857 "TCP session tracking": FIN both ways ends in the transitory
 * timer. */
START_TEST(rfc7857_tcp_fin_both_transitory)
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

/* RFC 7857 "outbound mapping refresh and error packets": an outbound RST
 * answering inbound traffic does not refresh the
 * mapping: the session ends a transitory timeout after its last real
 * packet. */
START_TEST(rfc7857_outbound_rst_does_not_refresh)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = tcp_open(n, T_H1, 40000, T_R1, 80, 0);
    tcp_send(n, NAT_DIR_IN, T_R1, 80, T_PUB, e, 0x10, 10 * S);
    tcp_send(n, NAT_DIR_OUT, T_H1, 40000, T_R1, 80, 0x04, 100 * S);
    ck_assert_int_eq(tcp_state(n, T_H1, 40000, T_R1, 80), NAT_TCP_RST);
    nat_expire(n, 10 * S + 240 * S, 100);
    ck_assert_uint_eq(nat_session_count(n, 6), 0);
    nat_destroy(n);
}
END_TEST

/* RFC 7857 "address pooling paired": one address across protocols. */
START_TEST(rfc7857_app_across_protocols)
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
        ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_OUT);
        ck_assert_uint_eq(t_src(pkt), ext);
    }
    nat_destroy(n);
}
END_TEST

/* RFC 7857 "port randomization" (RFC 6056): ports that cannot be
 * preserved are randomised, not
 * sequential. */
START_TEST(rfc7857_port_randomization)
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

/* RFC 5508 REQ-5: an error from inside with no
 * session is dropped and creates no mapping. */
START_TEST(rfc5508_req5_error_creates_no_mapping)
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

/* RFC 7857 "ICMP query mappings timeout": identifier as port, 60 s. */
START_TEST(rfc7857_icmp_query_mapping_timeout)
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
    /* RFC 5508 REQ-2: 60 s idle timeout. H2's session, idle since 0,
     * ends at 60 s; H1's, refreshed at 1 ms by the reply, lives on. */
    nat_expire(n, 60 * S, 100);
    ck_assert_uint_eq(nat_session_count(n, 1), 1);
    ck_assert_int_eq(
        nat_session_lookup(n, NAT_DIR_OUT, 1, T_H1, 77, T_R1, 0, NULL), 0);
    nat_expire(n, 60 * S + 1, 100);
    ck_assert_uint_eq(nat_session_count(n, 1), 0);
    nat_destroy(n);
}
END_TEST

/* RFC 7857 "hairpinning support for ICMP" (and RFC 5508 REQ-7):
 * hairpinned ICMP queries, towards a 1:1-mapped
 * inside host (a NAPT has no inbound mapping for an echo request). */
START_TEST(rfc7857_hairpin_icmp)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(nat_one_to_one_add(n, T_H2, IP4(203, 0, 113, 50)), 0);
    size_t len = t_icmp_echo(pkt, T_H1, IP4(203, 0, 113, 50), 8, 99, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_HAIRPIN);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    uint16_t id = t_sport(pkt);
    len = t_icmp_echo(pkt, T_H2, T_PUB, 0, id, 1, 8);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict, NAT_HAIRPIN);
    ck_assert_uint_eq(t_src(pkt), IP4(203, 0, 113, 50));
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(t_sport(pkt), 99);
    nat_destroy(n);
}
END_TEST

/* ---- RFC 6888 (CGN)
 * ------------------------------------------------------------- */

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

/* REQ-6 in every path: fragments (even of a 1:1-mapped host) and inbound
 * packets from or to excluded networks pass untouched. */
START_TEST(rfc6888_req6_exclusion_everywhere)
{
    struct nat *n = t_nat(NULL);
    ck_assert_int_eq(nat_one_to_one_add(n, T_H1, IP4(203, 0, 113, 77)), 0);
    ck_assert_int_eq(nat_exclude_add(n, IP4(198, 51, 100, 0), 24), 0);
    uint8_t copy[1500];
    size_t len = t_udp(pkt, T_H1, 5000, T_R1, 53, 100);
    st16(pkt + 6, 0x0010); /* a non-first fragment at offset 128 */
    t_fix_ip_csum(pkt);
    memcpy(copy, pkt, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_PASS);
    ck_assert_mem_eq(pkt, copy, len);
    len = t_udp(pkt, T_R1, 53, T_PUB, 5000, 8);
    memcpy(copy, pkt, len);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 0).verdict, NAT_PASS);
    ck_assert_mem_eq(pkt, copy, len);
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

/* ---- forwards and basic NAT ---------------------------------------------- */

/* RFC 4787 REQ-8 with static forwarding: a forward admits any remote and
 * the server answers from the forwarded port. */
START_TEST(rfc4787_port_forward_reachable)
{
    struct nat *n = t_nat(NULL);
    struct nat_forward fw = {.proto = 6,
                             .ext_addr = T_PUB,
                             .ext_port = 8080,
                             .in_addr = T_H2,
                             .in_port = 80};
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

/* ---- RFC 5508 (ICMP), RFC 4787 REQ-13/14 --------------------------------- */

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (h[0] && h[1] && n < cap) {
        unsigned v;
        ck_assert(sscanf(h, "%2x", &v) == 1);
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

/* Full-packet vectors from scapy (tests/gen_nat_vectors.py): every output
 * byte, checksums included, must equal scapy's independent computation. */
START_TEST(rfc5508_scapy_translation_vectors)
{
    FILE *f = fopen(TEST_DATA_DIR "/scapy_nat.txt", "r");
    ck_assert_msg(f != NULL, "missing scapy_nat.txt");
    static char line[16384], cur[64];
    static uint8_t in[4096], want[4096], got[4096];
    struct nat *n = NULL;
    int steps = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        char *name = strtok(line, " \n"), *dir = strtok(NULL, " \n");
        char *ihex = strtok(NULL, " \n"), *ohex = strtok(NULL, " \n");
        ck_assert(name && dir && ihex && ohex);
        if (n == NULL || strcmp(name, cur) != 0) {
            nat_destroy(n);
            n = t_nat(NULL);
            snprintf(cur, sizeof(cur), "%s", name);
        }
        steps++;
        if (strcmp(dir, "collect") == 0) {
            size_t wl = unhex(ohex, want, sizeof(want)), gl = 0;
            struct nat_result r;
            ck_assert_int_eq(t_frag_collect(n, got, sizeof(got), &gl, &r), 1);
            ck_assert_int_eq(r.verdict, NAT_OUT);
            ck_assert_uint_eq(gl, wl);
            ck_assert_msg(memcmp(got, want, wl) == 0, "%s: collected bytes",
                          name);
            continue;
        }
        size_t il = unhex(ihex, in, sizeof(in));
        memcpy(got, in, il);
        size_t gl = il;
        struct nat_result r =
            t_translate(n, strcmp(dir, "out") == 0 ? NAT_DIR_OUT : NAT_DIR_IN,
                        got, &gl, 1000);
        if (strcmp(ohex, "DROP") == 0) {
            ck_assert_msg(r.verdict == NAT_DROP, "%s: expected a drop", name);
            ck_assert_msg(memcmp(got, in, il) == 0, "%s: drop changed bytes",
                          name);
            continue;
        }
        if (strcmp(ohex, "HELD") == 0) {
            ck_assert_msg(r.verdict == NAT_HELD, "%s: expected held", name);
            continue;
        }
        size_t wl = unhex(ohex, want, sizeof(want));
        ck_assert_msg(r.verdict == NAT_OUT || r.verdict == NAT_IN,
                      "%s: verdict %s reason %s", name,
                      nat_verdict_str(r.verdict), nat_reason_str(r.reason));
        ck_assert_uint_eq(gl, wl);
        for (size_t i = 0; i < wl; i++)
            ck_assert_msg(got[i] == want[i],
                          "%s %s: byte %zu is %02x, scapy says %02x", name, dir,
                          i, got[i], want[i]);
    }
    fclose(f);
    nat_destroy(n);
    ck_assert_int_ge(steps, 25);
}
END_TEST

/* REQ-1: ICMP queries from inside and their replies pass. */
START_TEST(rfc5508_req1_icmp_query_permitted)
{
    struct nat *n = t_nat(NULL);
    for (uint8_t t = 8; t <= 13; t += 5) { /* echo, timestamp */
        size_t len = t_icmp_echo(pkt, T_H1, T_R1, t, 300, 1, 12);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_OUT);
        uint16_t id = t_sport(pkt);
        len = t_icmp_echo(pkt, T_R1, T_PUB, (uint8_t)(t == 8 ? 0 : 14), id, 1,
                          12);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 1).verdict, NAT_IN);
        ck_assert_uint_eq(t_dst(pkt), T_H1);
    }
    nat_destroy(n);
}
END_TEST

/* REQ-2: the ICMP query session lasts at least 60 s. */
START_TEST(rfc5508_req2_icmp_query_timeout_60s)
{
    struct nat *n = t_nat(NULL);
    size_t len = t_icmp_echo(pkt, T_H1, T_R1, 8, 300, 1, 12);
    t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    uint16_t id = t_sport(pkt);
    nat_expire(n, 60 * S - 1, 100);
    len = t_icmp_echo(pkt, T_R1, T_PUB, 0, id, 1, 12);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 60 * S - 1).verdict,
                     NAT_IN);
    nat_destroy(n);
}
END_TEST

/* An error about H1's UDP flow, from a router, as it arrives outside. */
static size_t
error_about_udp(uint8_t *out, uint16_t ext_port, size_t quote)
{
    uint8_t orig[128];
    size_t olen = t_udp(orig, T_PUB, ext_port, T_R1, 53, 40);
    return t_icmp_error(out, T_RTR, T_PUB, 3, 3, orig, olen, quote);
}

/* REQ-3: errors with a bad ICMP checksum or a bad embedded IP header
 * checksum are dropped, unchanged. */
START_TEST(rfc5508_req3_bad_checksums_dropped)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    size_t len = error_about_udp(pkt, e, 28);
    pkt[22] ^= 0x01; /* ICMP checksum */
    struct nat_result r = t_xlate(n, NAT_DIR_IN, pkt, len, 1);
    ck_assert_int_eq(r.reason, NAT_R_ICMP_CHECKSUM);
    len = error_about_udp(pkt, e, 28);
    pkt[28 + 10] ^= 0x01; /* embedded IP checksum; fix the ICMP one */
    st16(pkt + 22, 0);
    st16(pkt + 22, t_csum(pkt + 20, len - 20));
    r = t_xlate(n, NAT_DIR_IN, pkt, len, 1);
    ck_assert_int_eq(r.reason, NAT_R_ICMP_INNER_CHECKSUM);
    nat_destroy(n);
}
END_TEST

/* REQ-4: inbound errors are translated (outer destination, embedded
 * source and port, all checksums); with no mapping they are dropped. */
START_TEST(rfc5508_req4_inbound_error)
{
    struct nat *n = t_nat(NULL);
    size_t len = error_about_udp(pkt, 5000, 28);
    struct nat_result r = t_xlate(n, NAT_DIR_IN, pkt, len, 0);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_ICMP_NO_SESSION);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    for (size_t q = 28; q <= 68; q += 40) { /* truncated and full quote */
        len = error_about_udp(pkt, e, q);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 1).verdict, NAT_IN);
        ck_assert_uint_eq(t_dst(pkt), T_H1);
        ck_assert_uint_eq(ld32(pkt + 28 + 12), T_H1);
        ck_assert_uint_eq(ld16(pkt + 48), 5000);
    }
    nat_destroy(n);
}
END_TEST

/* REQ-5: errors from inside are translated; with no mapping dropped. */
START_TEST(rfc5508_req5_outbound_error)
{
    struct nat *n = t_nat(NULL);
    uint16_t e = udp_out(n, T_H1, 5000, T_R1, 53, 0);
    uint8_t orig[128];
    size_t olen = t_udp(orig, T_R1, 53, T_H1, 5000, 40);
    size_t len = t_icmp_error(pkt, T_H1, T_R1, 3, 3, orig, olen, olen);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(ld32(pkt + 28 + 16), T_PUB);
    ck_assert_uint_eq(ld16(pkt + 50), e);
    olen = t_udp(orig, T_R1, 53, T_H2, 5000, 40);
    len = t_icmp_error(pkt, T_H2, T_R1, 3, 3, orig, olen, olen);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).reason,
                     NAT_R_ICMP_NO_SESSION);
    nat_destroy(n);
}
END_TEST

/* REQ-6: an error about a query session neither refreshes nor ends it. */
START_TEST(rfc5508_req6_error_does_not_refresh)
{
    struct nat *n = t_nat(NULL);
    size_t len = t_icmp_echo(pkt, T_H1, T_R1, 8, 300, 1, 12);
    t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    uint8_t orig[128];
    memcpy(orig, pkt, 40);
    len = t_icmp_error(pkt, T_RTR, T_PUB, 11, 0, orig, 40, 28);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 50 * S).verdict, NAT_IN);
    ck_assert_uint_eq(nat_session_count(n, 1), 1);
    nat_expire(n, 60 * S, 100);
    ck_assert_uint_eq(nat_session_count(n, 1), 0);
    nat_destroy(n);
}
END_TEST

/* REQ-7: hairpinned ICMP errors: H2 reports an error about a packet H1
 * hairpinned to it; H1 receives it with its own endpoints quoted. */
START_TEST(rfc5508_req7_hairpin_error)
{
    struct nat_config c = cfg_default();
    c.filtering[NAT_P_UDP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    uint16_t e2 = udp_out(n, T_H2, 6000, T_R1, 3478, 0);
    size_t len = t_udp(pkt, T_H1, 5000, T_PUB, e2, 16);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict, NAT_HAIRPIN);
    uint16_t e1 = t_sport(pkt);
    uint8_t orig[128];
    memcpy(orig, pkt, len); /* as H2 received it */
    len = t_icmp_error(pkt, T_H2, T_PUB, 3, 3, orig, len, len);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 2);
    ck_assert_msg(r.verdict == NAT_HAIRPIN, "verdict %s reason %s",
                  nat_verdict_str(r.verdict), nat_reason_str(r.reason));
    ck_assert_uint_eq(t_src(pkt), T_PUB);
    ck_assert_uint_eq(t_dst(pkt), T_H1);
    ck_assert_uint_eq(ld32(pkt + 28 + 12), T_H1); /* quoted: H1:5000 */
    ck_assert_uint_eq(ld16(pkt + 48), 5000);
    ck_assert_uint_eq(ld32(pkt + 28 + 16), T_PUB); /* -> H2's external */
    ck_assert_uint_eq(ld16(pkt + 50), e2);
    ck_assert_uint_ne(e1, 0);
    nat_destroy(n);
}
END_TEST

/* REQ-8 (and RFC 6888 REQ-11b): when no session can be created, the
 * front end can answer with destination unreachable code 13. */
START_TEST(rfc5508_req8_admin_prohibited_on_exhaustion)
{
    struct nat_config c = cfg_default();
    c.max_sessions = 1;
    struct nat *n = t_nat(&c);
    udp_out(n, T_H1, 5000, T_R1, 53, 0);
    size_t len = t_udp(pkt, T_H2, 5000, T_R1, 53, 16);
    uint8_t copy[64];
    memcpy(copy, pkt, len);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 1);
    ck_assert_int_eq(r.reason, NAT_R_TABLE_FULL);
    uint8_t type, code, err[600];
    ck_assert_int_eq(nat_icmp_for_reason(r.reason, &type, &code), 1);
    ck_assert_uint_eq(type, 3);
    ck_assert_uint_eq(code, 13);
    int el = t_icmp_gen(n, pkt, len, type, code, IP4(10, 0, 0, 1), 0, err,
                        sizeof(err), 1);
    ck_assert_int_eq(el, 28 + (int)len);
    ck_assert(t_csums_ok(err, (size_t)el));
    ck_assert_uint_eq(t_src(err), IP4(10, 0, 0, 1));
    ck_assert_uint_eq(t_dst(err), T_H2);
    ck_assert_mem_eq(err + 28, copy, len); /* quotes the packet as sent */
    /* Malformed and unsolicited packets get no answer. */
    ck_assert_int_eq(nat_icmp_for_reason(NAT_R_FILTERED, &type, &code), 0);
    ck_assert_int_eq(nat_icmp_for_reason(NAT_R_IP_CHECKSUM, &type, &code), 0);
    nat_destroy(n);
}
END_TEST

/* REQ-10 (RFC 1812 4.3.2.7, RFC 1122 3.2.2): no error about an ICMP
 * error, a non-first fragment or a multicast packet; at most 576 bytes;
 * rate limited. */
START_TEST(rfc5508_req10_icmp_generation_rules)
{
    struct nat_config c = cfg_default();
    c.icmp_rate = 1;
    c.icmp_burst = 2;
    struct nat *n = t_nat(&c);
    uint8_t err[1500];
    size_t len = error_about_udp(pkt, 5000, 28);
    ck_assert_int_eq(
        t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), 0),
        NAT_EINVAL);
    len = t_udp(pkt, T_H1, 5000, IP4(224, 0, 0, 9), 520, 8);
    ck_assert_int_eq(
        t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), 0),
        NAT_EINVAL);
    len = t_udp(pkt, T_H1, 5000, T_R1, 53, 1400);
    st16(pkt + 6, 0x00b9); /* offset 1480: a non-first fragment */
    t_fix_ip_csum(pkt);
    ck_assert_int_eq(
        t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), 0),
        NAT_EINVAL);
    len = t_udp(pkt, T_H1, 5000, T_R1, 53, 1400);
    ck_assert_int_eq(t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, 100, 0),
                     NAT_ENOSPC);
    /* 576 is the documented maximum: one byte less is refused (t_icmp_gen()
     * also proves the 576-byte errors below fill exactly 576 bytes). */
    ck_assert_int_eq(t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, 575, 0),
                     NAT_ENOSPC);
    ck_assert_int_eq(
        t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), 0), 576);
    ck_assert_int_eq(
        t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), 0), 576);
    ck_assert_int_eq(
        t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), 0),
        NAT_ELIMIT);
    ck_assert_int_eq(
        t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), 1000), 576);
    nat_destroy(n);
}
END_TEST

/* REQ-9: ICMP generation can be turned off by policy: with icmp_rate 0
 * nat_icmp_error() never writes an error. */
START_TEST(rfc5508_req9_icmp_generation_off)
{
    struct nat_config c = cfg_default();
    c.icmp_rate = 0;
    struct nat *n = t_nat(&c);
    uint8_t err[600];
    size_t len = t_udp(pkt, T_H1, 5000, T_R1, 53, 8);
    for (uint64_t t = 0; t < 5000; t += 1000)
        ck_assert_int_eq(
            t_icmp_gen(n, pkt, len, 3, 13, T_PUB, 0, err, sizeof(err), t),
            NAT_ELIMIT);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.icmp_sent, 0);
    ck_assert_uint_eq(st.icmp_limited, 5);
    nat_destroy(n);
}
END_TEST

/* REQ-11: ICMP messages that are neither queries nor errors (router
 * advertisements, redirects) are dropped with their reason. */
START_TEST(rfc5508_req11_non_query_error_dropped)
{
    struct nat *n = t_nat(NULL);
    size_t len = t_icmp_echo(pkt, T_H1, T_R1, 9, 0, 0, 8);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_ICMP_TYPE);
    len = t_icmp_echo(pkt, T_R1, T_PUB, 5, 0, 0, 28);
    r = t_xlate(n, NAT_DIR_IN, pkt, len, 0);
    ck_assert_int_eq(r.reason, NAT_R_ICMP_TYPE);
    nat_destroy(n);
}
END_TEST

/* RFC 4787 REQ-13: a front end answers DF packets that do not fit with
 * "fragmentation needed" carrying the next-hop MTU (RFC 1191). */
START_TEST(rfc4787_req13_frag_needed_generated)
{
    struct nat *n = t_nat(NULL);
    size_t len = t_udp(pkt, T_H1, 5000, T_R1, 53, 1400);
    st16(pkt + 6, 0x4000);
    t_fix_ip_csum(pkt);
    uint8_t err[600];
    int el = t_icmp_gen(n, pkt, len, 3, 4, IP4(10, 0, 0, 1), 1280, err,
                        sizeof(err), 0);
    ck_assert_int_gt(el, 0);
    ck_assert_uint_eq(err[20], 3);
    ck_assert_uint_eq(err[21], 4);
    ck_assert_uint_eq(ld16(err + 26), 1280);
    ck_assert(t_csums_ok(err, (size_t)el));
    nat_destroy(n);
}
END_TEST

/* Make fragment @i (0, 1, 2) of a 3-fragment UDP datagram from @src. */
static size_t
frag_of_ports(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst,
              uint16_t dport, uint16_t id, int i)
{
    static uint8_t whole[1500];
    size_t wl = t_udp(whole, src, sport, dst, dport, 1100); /* 1128 bytes */
    size_t off = (size_t)i * 512, dl = i < 2 ? 512 : wl - 20 - 1024;
    memcpy(out, whole, 20);
    memcpy(out + 20, whole + 20 + off, dl);
    st16(out + 2, (uint16_t)(20 + dl));
    st16(out + 4, id);
    st16(out + 6, (uint16_t)((i < 2 ? 0x2000 : 0) | (off / 8)));
    t_fix_ip_csum(out);
    return 20 + dl;
}

static size_t
frag_of(uint8_t *out, uint32_t src, uint32_t dst, uint16_t id, int i)
{
    return frag_of_ports(out, src, 7000, dst, 9, id, i);
}

/* REQ-14: in-order fragments all follow the first fragment's mapping;
 * inbound fragments of the reply too. */
START_TEST(rfc4787_req14_fragments_in_order)
{
    struct nat *n = t_nat(NULL);
    for (int i = 0; i < 3; i++) {
        size_t len = frag_of(pkt, T_H1, T_R1, 99, i);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_OUT);
        ck_assert_uint_eq(t_src(pkt), T_PUB);
    }
    for (int i = 0; i < 3; i++) {
        size_t len = frag_of_ports(pkt, T_R1, 9, T_PUB, 7000, 5, i);
        /* The reply goes to the external port of the request (7000). */
        ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 1).verdict, NAT_IN);
        ck_assert_uint_eq(t_dst(pkt), T_H1);
    }
    nat_destroy(n);
}
END_TEST

/* REQ-14a: out-of-order fragments are held, then released translated. */
START_TEST(rfc4787_req14_fragments_out_of_order)
{
    struct nat *n = t_nat(NULL);
    size_t len = frag_of(pkt, T_H1, T_R1, 99, 2);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 0).verdict, NAT_HELD);
    len = frag_of(pkt, T_H1, T_R1, 99, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict, NAT_OUT);
    uint8_t got[1500];
    size_t gl;
    struct nat_result r;
    ck_assert_int_eq(t_frag_collect(n, got, 10, &gl, &r), NAT_ENOSPC);
    ck_assert_int_eq(t_frag_collect(n, got, sizeof(got), &gl, &r), 1);
    ck_assert_int_eq(r.verdict, NAT_OUT);
    ck_assert_uint_eq(t_src(got), T_PUB);
    ck_assert(t_csums_ok(got, gl));
    ck_assert_int_eq(t_frag_collect(n, got, sizeof(got), &gl, &r), 0);
    nat_destroy(n);
}
END_TEST

/* REQ-14: held fragments are bounded per source and in total, and expire;
 * fragments whose first fragment is dropped are dropped too. */
START_TEST(rfc4787_req14_fragment_store_bounded)
{
    struct nat_config c = cfg_default();
    c.frag_held = 8;
    c.frag_held_per_src = 3;
    struct nat *n = t_nat(&c);
    struct nat_result r;
    for (uint16_t id = 0; id < 4; id++) {
        size_t len = frag_of(pkt, T_H1, T_R1, id, 1);
        r = t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    }
    ck_assert_int_eq(r.reason, NAT_R_FRAG_SRC_LIMIT);
    for (uint32_t h = 10; h < 20; h++) {
        size_t len = frag_of(pkt, IP4(10, 0, 0, h), T_R1, 1, 1);
        r = t_xlate(n, NAT_DIR_OUT, pkt, len, 0);
    }
    ck_assert_int_eq(r.reason, NAT_R_FRAG_STORE_FULL);
    struct nat_stats st;
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.frags_held, 8);
    nat_expire(n, 15 * S, 100);
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.frags_held, 0);
    ck_assert_uint_eq(st.drops[NAT_R_FRAG_TIMEOUT], 8);
    /* Orphans: the first fragment is filtered, so are the held ones. */
    size_t len = frag_of(pkt, T_R2, T_PUB, 3, 1);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 16 * S).verdict,
                     NAT_HELD);
    len = frag_of(pkt, T_R2, T_PUB, 3, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, pkt, len, 16 * S).verdict,
                     NAT_DROP);
    nat_stats_get(n, &st);
    ck_assert_uint_eq(st.frags_held, 0);
    ck_assert_uint_eq(st.drops[NAT_R_FRAG_ORPHAN], 1);
    nat_destroy(n);
}
END_TEST

/* REQ-14 with hairpinning: later fragments of a 1:1 host's datagram to
 * one of our own addresses wait for the first fragment and follow it back
 * inside, instead of leaving by the stateless 1:1 path (finding F2). */
START_TEST(rfc4787_req14_hairpinned_fragments_follow_first)
{
    struct nat_config c = cfg_default();
    c.filtering[NAT_P_UDP] = NAT_FILTER_EI;
    struct nat *n = t_nat(&c);
    ck_assert_int_eq(nat_one_to_one_add(n, T_H1, IP4(203, 0, 113, 77)), 0);
    uint16_t e2 = udp_out(n, T_H2, 9, T_R1, 53, 0);
    size_t len = frag_of_ports(pkt, T_H1, 7000, T_PUB, e2, 42, 2);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict, NAT_HELD);
    len = frag_of_ports(pkt, T_H1, 7000, T_PUB, e2, 42, 0);
    ck_assert_int_eq(t_xlate(n, NAT_DIR_OUT, pkt, len, 1).verdict, NAT_HAIRPIN);
    ck_assert_uint_eq(t_dst(pkt), T_H2);
    uint8_t got[1500];
    size_t gl;
    struct nat_result r;
    ck_assert_int_eq(t_frag_collect(n, got, sizeof(got), &gl, &r), 1);
    ck_assert_int_eq(r.verdict, NAT_HAIRPIN);
    ck_assert_uint_eq(t_dst(got), T_H2);
    ck_assert_uint_eq(t_src(got), IP4(203, 0, 113, 77));
    ck_assert(t_csums_ok(got, gl));
    nat_destroy(n);
}
END_TEST

/* REQ-14: an error quoting a non-first fragment cannot be matched and is
 * dropped with its reason. */
START_TEST(rfc4787_req14_error_quoting_fragment)
{
    struct nat *n = t_nat(NULL);
    uint8_t orig[1500];
    size_t olen = frag_of(orig, T_PUB, T_R1, 9, 1);
    size_t len = t_icmp_error(pkt, T_RTR, T_PUB, 11, 1, orig, olen, 28);
    struct nat_result r = t_xlate(n, NAT_DIR_IN, pkt, len, 0);
    ck_assert_int_eq(r.verdict, NAT_DROP);
    ck_assert_int_eq(r.reason, NAT_R_ICMP_INNER_FRAG);
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
    tcase_add_test(tc, rfc4787_req1_apdm_inside_tuple_unique);
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
    tcase_add_test(tc, rfc7857_tcp_rst_moves_to_transitory);
    tcase_add_test(tc, rfc7857_tcp_fin_both_transitory);
    tcase_add_test(tc, rfc7857_outbound_rst_does_not_refresh);
    tcase_add_test(tc, rfc7857_app_across_protocols);
    tcase_add_test(tc, rfc7857_port_randomization);
    tcase_add_test(tc, rfc5508_req5_error_creates_no_mapping);
    tcase_add_test(tc, rfc7857_icmp_query_mapping_timeout);
    tcase_add_test(tc, rfc7857_hairpin_icmp);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc6888");
    tcase_add_test(tc, rfc6888_req2_paired_default);
    tcase_add_test(tc, rfc6888_req4_host_port_limit);
    tcase_add_test(tc, rfc6888_req5_host_session_limit);
    tcase_add_test(tc, rfc6888_req6_exclude_destination);
    tcase_add_test(tc, rfc6888_req6_exclusion_everywhere);
    tcase_add_test(tc, rfc6888_req8_port_hold_120s);
    tcase_add_test(tc, rfc6888_req11_exhaustion_no_eviction);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc5508");
    tcase_add_test(tc, rfc5508_scapy_translation_vectors);
    tcase_add_test(tc, rfc5508_req1_icmp_query_permitted);
    tcase_add_test(tc, rfc5508_req2_icmp_query_timeout_60s);
    tcase_add_test(tc, rfc5508_req3_bad_checksums_dropped);
    tcase_add_test(tc, rfc5508_req4_inbound_error);
    tcase_add_test(tc, rfc5508_req5_outbound_error);
    tcase_add_test(tc, rfc5508_req6_error_does_not_refresh);
    tcase_add_test(tc, rfc5508_req7_hairpin_error);
    tcase_add_test(tc, rfc5508_req8_admin_prohibited_on_exhaustion);
    tcase_add_test(tc, rfc5508_req9_icmp_generation_off);
    tcase_add_test(tc, rfc5508_req10_icmp_generation_rules);
    tcase_add_test(tc, rfc5508_req11_non_query_error_dropped);
    tcase_add_test(tc, rfc4787_req13_frag_needed_generated);
    tcase_add_test(tc, rfc4787_req14_fragments_in_order);
    tcase_add_test(tc, rfc4787_req14_fragments_out_of_order);
    tcase_add_test(tc, rfc4787_req14_fragment_store_bounded);
    tcase_add_test(tc, rfc4787_req14_error_quoting_fragment);
    tcase_add_test(tc, rfc4787_req14_hairpinned_fragments_follow_first);
    suite_add_tcase(s, tc);
    return s;
}
