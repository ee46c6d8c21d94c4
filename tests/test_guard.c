/*
 * Guard-page tests: every packet kind, cut at every length, translated
 * from a buffer whose last byte is the last byte before an unmapped
 * (PROT_NONE) page, with cap == len. A read or write even one byte past
 * the packet faults (SIGSEGV fails the test under Check's fork mode, and
 * ASan reports it as a SEGV), with or without sanitizers: the library must
 * look at no byte the caller did not hand it.
 *
 * Each case is translated in both directions, with and without a session
 * for the flow (created by the full packet going out; inbound packets use
 * the addressing of its translation), with the fast path on (no exclusions)
 * and off (one exclusion of 192.0.2.0/24, which no packet uses), and in
 * three forms of every cut length L:
 *   short        IP total length set to L, IP header checksum fixed
 *                (the transport checksum no longer matches);
 *   short_fixed  the same with every checksum fixed (t_fix_all_csums), so
 *                the cut packet gets as far as it can;
 *   trunc        the original total length left in place: the buffer is
 *                shorter than the header claims.
 * Asserted for every call: no crash, a valid verdict and reason, a drop
 * has a reason and nothing else does, the length is unchanged, a dropped
 * or passed packet is unchanged, a translated packet that arrived with
 * valid checksums leaves with valid checksums (t_csums_ok), and a buffer
 * shorter than its IP total length is never translated or passed.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, sigaction under -std=c11 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bytes.h"
#include "tests.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

/* ---- guard slots ---------------------------------------------------------
 * NSLOT pairs of pages [read-write | PROT_NONE]; guard_place() copies the
 * first L bytes of a packet so that they end exactly at the boundary. */

#define NSLOT 32 /* one per packet of a burst (the library's group size) */

struct guard {
    uint8_t *base;
    size_t page, size;
};

static void
guard_init(struct guard *g)
{
    long ps = sysconf(_SC_PAGESIZE);
    ck_assert(ps > 0);
    g->page = (size_t)ps;
    g->size = 2 * g->page * NSLOT;
    void *m = mmap(NULL, g->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(m != MAP_FAILED, "mmap: %s", strerror(errno));
    g->base = m;
    for (size_t i = 0; i < NSLOT; i++)
        ck_assert_int_eq(
            mprotect(g->base + (2 * i + 1) * g->page, g->page, PROT_NONE), 0);
}

static void
guard_free(struct guard *g)
{
    ck_assert_int_eq(munmap(g->base, g->size), 0);
}

/* The first @len bytes of @pkt, placed in slot @slot so that the byte after
 * them is the first byte of the slot's unmapped page. */
static uint8_t *
guard_place(const struct guard *g, size_t slot, const uint8_t *pkt, size_t len)
{
    ck_assert_uint_lt(slot, NSLOT);
    ck_assert_uint_le(len, g->page);
    uint8_t *p = g->base + 2 * slot * g->page + g->page - len;
    if (len)
        memcpy(p, pkt, len);
    return p;
}

/* ---- naming the case that faulted ------------------------------------------
 * Check reports a fault only as "received signal 11" at the last checkpoint;
 * the handler writes the case being translated first, then puts back the
 * handler it replaced (the default action, or ASan's report) for when the
 * access repeats. */

static char cur_case[256];
static struct sigaction prev_segv, prev_bus;

static void
on_fault(int sig)
{
    static const char pre[] = "guard: fault while translating: ";
    ssize_t w = write(2, pre, sizeof(pre) - 1);
    w = write(2, cur_case, strlen(cur_case));
    w = write(2, "\n", 1);
    (void)w;
    /* The access repeats on return and meets the previous handler. */
    sigaction(sig, sig == SIGBUS ? &prev_bus : &prev_segv, NULL);
}

static void
catch_faults(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
    sigaction(SIGBUS, &sa, &prev_bus);
}

/* ---- packet kinds -------------------------------------------------------- */

enum kind {
    K_TCP_SYN,
    K_TCP_ACK_PAYLOAD,
    K_UDP,
    K_UDP_ZERO_CSUM,
    K_ICMP_ECHO, /* request going out, reply coming in */
    K_ICMP_ERROR_TCP,
    K_ICMP_ERROR_UDP,
    K_ICMP_ERROR_ICMP,
    K_IP_OPTIONS, /* TCP with 4 bytes of IP options (router alert) */
    K_FRAG_FIRST, /* UDP, offset 0, more fragments */
    K_FRAG_NONFIRST,
    K_GRE,
    K_MAX
};

static const char *const kind_name[K_MAX] = {
    "tcp_syn",        "tcp_ack_payload", "udp",
    "udp_zero_csum",  "icmp_echo",       "icmp_error_tcp",
    "icmp_error_udp", "icmp_error_icmp", "ip_options",
    "frag_first",     "frag_nonfirst",   "gre"};

#define HPORT     40000 /* inside host's port, ICMP identifier */
#define RPORT     80    /* remote port */
#define FRAG_DATA 104   /* bytes of UDP datagram in the first fragment */

/* The flow's addressing: inside T_H1:HPORT, remote T_R1:RPORT, external
 * ext:eport (from the translation of the flow's first packet). */
struct flow {
    uint32_t ext;
    uint16_t eport;
};

/* The transport protocol of the session a kind's packets belong to. */
static int
kind_l4(enum kind k)
{
    switch (k) {
    case K_TCP_SYN:
    case K_TCP_ACK_PAYLOAD:
    case K_ICMP_ERROR_TCP:
    case K_IP_OPTIONS:
        return 6;
    case K_UDP:
    case K_UDP_ZERO_CSUM:
    case K_ICMP_ERROR_UDP:
    case K_FRAG_FIRST:
    case K_FRAG_NONFIRST:
        return 17;
    case K_ICMP_ECHO:
    case K_ICMP_ERROR_ICMP:
        return 1;
    default:
        return 47;
    }
}

static size_t
with_ip_options(uint8_t *b, size_t len)
{
    memmove(b + 24, b + 20, len - 20);
    static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00}; /* RFC 2113 */
    memcpy(b + 20, ra, 4);
    b[0] = 0x46;
    st16(b + 2, (uint16_t)(len + 4));
    t_fix_ip_csum(b); /* the transport pseudo-header is unchanged */
    return len + 4;
}

/* Fragment @i (0 first, 1 the rest) of a 208-byte UDP datagram @d of
 * @dlen bytes (with its 20-byte header). */
static size_t
fragment(uint8_t *b, const uint8_t *d, size_t dlen, int i)
{
    size_t off = i ? FRAG_DATA : 0;
    size_t n = i ? dlen - 20 - FRAG_DATA : FRAG_DATA;
    memcpy(b, d, 20);
    memcpy(b + 20, d + 20 + off, n);
    st16(b + 2, (uint16_t)(20 + n));
    st16(b + 4, 0x5a5a);
    st16(b + 6, (uint16_t)(i ? off / 8 : 0x2000));
    t_fix_ip_csum(b);
    return 20 + n;
}

/* A packet of the flow from @s:@sp to @d:@dp (ICMP: identifier @sp going
 * out, @dp coming in); @out says which way it travels. */
static size_t
build_l4(uint8_t *b, enum kind k, int out, uint32_t s, uint16_t sp, uint32_t d,
         uint16_t dp)
{
    switch (k) {
    case K_TCP_SYN:
        return t_tcp(b, s, sp, d, dp, out ? 0x02 : 0x12, 0);
    case K_TCP_ACK_PAYLOAD:
        return t_tcp(b, s, sp, d, dp, 0x18, 100);
    case K_UDP:
        return t_udp(b, s, sp, d, dp, 50);
    case K_UDP_ZERO_CSUM: {
        size_t len = t_udp(b, s, sp, d, dp, 50);
        st16(b + 26, 0);
        return len;
    }
    case K_ICMP_ECHO:
        return t_icmp_echo(b, s, d, out ? 8 : 0, out ? sp : dp, 7, 40);
    case K_IP_OPTIONS:
        return with_ip_options(b, t_tcp(b, s, sp, d, dp, 0x18, 60));
    case K_FRAG_FIRST:
    case K_FRAG_NONFIRST: {
        uint8_t d0[1500];
        size_t dl = t_udp(d0, s, sp, d, dp, 200);
        return fragment(b, d0, dl, k == K_FRAG_NONFIRST);
    }
    case K_GRE: {
        size_t len = t_udp(b, s, 1, d, 1, 32); /* 20 + 40 */
        b[9] = 47;
        memset(b + 20, 0, 40);
        b[22] = 0x08; /* protocol type IPv4 */
        for (int i = 24; i < 60; i++)
            b[i] = (uint8_t)i;
        t_fix_ip_csum(b);
        return len;
    }
    default:
        ck_abort_msg("not a plain kind");
        return 0;
    }
}

/* The full packet of kind @k travelling @dir in flow @f. */
static size_t
build(uint8_t *b, enum kind k, enum nat_dir dir, const struct flow *f)
{
    int out = dir == NAT_DIR_OUT;
    uint8_t inner[1500];
    size_t il;
    enum kind ik;
    switch (k) {
    case K_ICMP_ERROR_TCP:
        ik = K_TCP_ACK_PAYLOAD;
        break;
    case K_ICMP_ERROR_UDP:
        ik = K_UDP;
        break;
    case K_ICMP_ERROR_ICMP:
        ik = K_ICMP_ECHO;
        break;
    default:
        return out ? build_l4(b, k, 1, T_H1, HPORT, T_R1, RPORT)
                   : build_l4(b, k, 0, T_R1, RPORT, f->ext, f->eport);
    }
    if (out) {
        /* The inside host reports a packet it got from the remote end. */
        il = build_l4(inner, ik, 0, T_R1, RPORT, T_H1, HPORT);
        return t_icmp_error(b, T_H1, T_R1, 3, 3, inner, il, il);
    }
    /* A router reports the translated packet the flow sent out. */
    il = build_l4(inner, ik, 1, f->ext, f->eport, T_R1, RPORT);
    return t_icmp_error(b, T_RTR, f->ext, 11, 0, inner, il, il);
}

/* ---- instances ----------------------------------------------------------- */

/* One instance at a time, always built in the same block
 * (nat_create_in()): thousands of instances a test cost no allocations. */
static void *nat_block;
static size_t nat_block_size;

static struct nat *
guard_nat(int fast)
{
    struct nat_config c;
    nat_config_init(&c);
    memset(c.secret, 0x5c, sizeof(c.secret));
    c.max_sessions = 256;
    c.frag_entries = 16;
    c.frag_held = 8;
    c.frag_held_per_src = 4;
    if (nat_block == NULL) {
        nat_block_size = (nat_memsize(&c) + 15) & ~(size_t)15;
        ck_assert_uint_gt(nat_block_size, 0);
        nat_block = aligned_alloc(16, nat_block_size);
        ck_assert_ptr_nonnull(nat_block);
    }
    struct nat *n = NULL;
    ck_assert_int_eq(nat_create_in(&c, nat_block, nat_block_size, &n), 0);
    ck_assert_int_eq(nat_pool_add(n, T_PUB), 0);
    ck_assert_int_eq(nat_inside_add(n, IP4(10, 0, 0, 0), 24), 0);
    if (!fast) /* any exclusion turns the fast path off */
        ck_assert_int_eq(nat_exclude_add(n, IP4(192, 0, 2, 0), 24), 0);
    return n;
}

/* Open the session of kind @k's flow: its first packet goes out (TCP: a
 * SYN, answered by a SYN-ACK). Returns the flow's external addressing. */
static struct flow
open_session(struct nat *n, enum kind k)
{
    static uint8_t b[1500];
    struct flow f = {T_PUB, HPORT};
    size_t len;
    int l4 = kind_l4(k);
    if (l4 == 6)
        len = t_tcp(b, T_H1, HPORT, T_R1, RPORT, 0x02, 0);
    else if (l4 == 17)
        len = t_udp(b, T_H1, HPORT, T_R1, RPORT, 200);
    else if (l4 == 1)
        len = t_icmp_echo(b, T_H1, T_R1, 8, HPORT, 7, 40);
    else
        len = build(b, k, NAT_DIR_OUT, &f);
    struct nat_result r = t_xlate(n, NAT_DIR_OUT, b, len, 1000);
    if (l4 == 47)
        return f; /* no session for GRE: whatever the verdict */
    ck_assert_int_eq(r.verdict, NAT_OUT);
    f.ext = t_src(b);
    f.eport = t_sport(b);
    if (l4 == 6) {
        len = t_tcp(b, T_R1, RPORT, f.ext, f.eport, 0x12, 0);
        ck_assert_int_eq(t_xlate(n, NAT_DIR_IN, b, len, 1000).verdict, NAT_IN);
    }
    return f;
}

/* ---- one case ------------------------------------------------------------ */

enum form { F_SHORT, F_SHORT_FIXED, F_TRUNC, F_MAX };
static const char *const form_name[F_MAX] = {"short", "short_fixed", "trunc"};

/* The first @len bytes of the full packet @full (@flen bytes) in form
 * @form, in @b (at least @flen bytes). */
static void
cut(uint8_t *b, const uint8_t *full, size_t flen, size_t len, enum form form)
{
    memcpy(b, full, flen);
    if (form == F_TRUNC || len < 4)
        return;
    st16(b + 2, (uint16_t)len);
    t_fix_ip_csum(b); /* over the full copy: the header may be cut */
    if (form == F_SHORT_FIXED)
        t_fix_all_csums(b, len);
}

struct ctx {
    enum kind k;
    enum nat_dir dir;
    int sess, fast;
    enum form form;
    size_t len, flen;
};

#define CTX_FMT "%s %s len %zu/%zu (%s) %s session, fast path %s"
#define CTX_ARGS(c)                                                            \
    kind_name[(c)->k], (c)->dir == NAT_DIR_OUT ? "out" : "in", (c)->len,       \
        (c)->flen, form_name[(c)->form], (c)->sess ? "with" : "without",       \
        (c)->fast ? "on" : "off"

/* The assertions on one translated buffer: @p now, @orig the bytes before,
 * @l the length libnat left, @r its result. */
static void
check_result(const struct ctx *c, const uint8_t *orig, const uint8_t *p,
             size_t l, struct nat_result r)
{
    ck_assert_msg((unsigned)r.verdict < NAT_VERDICT_MAX &&
                      (unsigned)r.reason < NAT_R_MAX,
                  CTX_FMT ": verdict %d reason %d out of range", CTX_ARGS(c),
                  r.verdict, r.reason);
    if (r.verdict == NAT_DROP)
        ck_assert_msg(r.reason != NAT_R_NONE, CTX_FMT ": drop without reason",
                      CTX_ARGS(c));
    else
        ck_assert_msg(r.reason == NAT_R_NONE, CTX_FMT ": %s with reason %d",
                      CTX_ARGS(c), nat_verdict_str(r.verdict), r.reason);
    ck_assert_msg(l == c->len, CTX_FMT ": length became %zu", CTX_ARGS(c), l);
    int translated =
        r.verdict == NAT_OUT || r.verdict == NAT_IN || r.verdict == NAT_HAIRPIN;
    if (r.verdict == NAT_DROP || r.verdict == NAT_PASS)
        ck_assert_msg(c->len == 0 || memcmp(orig, p, c->len) == 0,
                      CTX_FMT ": %s changed the packet", CTX_ARGS(c),
                      nat_verdict_str(r.verdict));
    if (translated && t_csums_ok(orig, c->len))
        ck_assert_msg(t_csums_ok(p, c->len),
                      CTX_FMT ": translated with a bad checksum", CTX_ARGS(c));
    /* A buffer shorter than the packet's total length is malformed. */
    if (c->len >= 4 && ld16(orig + 2) > c->len)
        ck_assert_msg(r.verdict == NAT_DROP,
                      CTX_FMT ": buffer shorter than the IP total length, "
                              "verdict %s",
                      CTX_ARGS(c), nat_verdict_str(r.verdict));
}

/* A fresh instance for the case, with the flow's session if asked for. */
static struct nat *
case_nat(enum kind k, int sess, int fast, struct flow *f)
{
    struct nat *n = guard_nat(fast);
    if (sess)
        *f = open_session(n, k);
    return n;
}

/* The addressing the flow gets, from an instance of its own, for the
 * inbound cases that have no session. */
static struct flow
probe_flow(enum kind k, int fast)
{
    struct nat *n = guard_nat(fast);
    struct flow f = open_session(n, k);
    nat_destroy(n);
    return f;
}

static unsigned long calls;

/* Every length 0..full of kind @k going @dir, in every form, with and
 * without a session, fast path on and off: one nat_translate() each on a
 * fresh instance, the packet ending at a guard page. */
static void
guard_every_length(enum kind k, enum nat_dir dir)
{
    struct guard g;
    guard_init(&g);
    catch_faults();
    static uint8_t full[1500], b[1500], orig[1500];
    calls = 0;
    for (int fast = 0; fast < 2; fast++) {
        struct flow pf = probe_flow(k, fast);
        for (int sess = 0; sess < 2; sess++) {
            /* The full packet, with the addressing a session gives. */
            size_t flen = build(full, k, dir, &pf);
            for (size_t len = 0; len <= flen; len++) {
                for (int form = 0; form < F_MAX; form++) {
                    if (len < 4 && form != F_TRUNC)
                        continue; /* no total length to set */
                    struct ctx c = {k,   dir, sess, fast, (enum form)form,
                                    len, flen};
                    struct flow f = pf;
                    struct nat *n = case_nat(k, sess, fast, &f);
                    ck_assert_msg(f.ext == pf.ext && f.eport == pf.eport,
                                  "%s: the flow's addressing moved",
                                  kind_name[k]);
                    cut(b, full, flen, len, (enum form)form);
                    memcpy(orig, b, len);
                    uint8_t *p = guard_place(&g, 0, b, len);
                    snprintf(cur_case, sizeof(cur_case), CTX_FMT, CTX_ARGS(&c));
                    size_t l = len;
                    struct nat_result r =
                        nat_translate(n, dir, p, &l, len, 2000);
                    calls++;
                    check_result(&c, orig, p, l, r);
                    /* Whatever it held is released or dropped, never
                     * read past its end either. */
                    size_t hl;
                    struct nat_result hr;
                    uint8_t *h = guard_place(&g, 1, b, flen);
                    while (nat_frag_collect(n, h, flen, &hl, &hr) == 1)
                        ck_assert(hl <= flen);
                    nat_destroy(n);
                }
            }
        }
    }
    guard_free(&g);
    fprintf(stderr, "guard: %s %s: %lu packets\n", kind_name[k],
            dir == NAT_DIR_OUT ? "out" : "in", calls);
}

/* The same cases through nat_translate_burst(): up to 32 lengths at a time,
 * each in its own guard slot, on one instance per burst. */
static void
guard_burst_every_length(enum nat_dir dir)
{
    struct guard g;
    guard_init(&g);
    catch_faults();
    static uint8_t full[1500], b[NSLOT][1500];
    calls = 0;
    for (int k = 0; k < K_MAX; k++)
        for (int fast = 0; fast < 2; fast++) {
            struct flow pf = probe_flow((enum kind)k, fast);
            for (int sess = 0; sess < 2; sess++)
                for (int form = 0; form < F_MAX; form++) {
                    size_t flen = build(full, (enum kind)k, dir, &pf);
                    for (size_t len0 = 0; len0 <= flen; len0 += NSLOT) {
                        struct flow f = pf;
                        struct nat *n = case_nat((enum kind)k, sess, fast, &f);
                        struct nat_pkt_io io[NSLOT];
                        size_t cnt = 0;
                        for (size_t len = len0; len <= flen && cnt < NSLOT;
                             len++, cnt++) {
                            cut(b[cnt], full, flen, len, (enum form)form);
                            io[cnt].buf = guard_place(&g, cnt, b[cnt], len);
                            io[cnt].len = io[cnt].cap = len;
                            io[cnt].dir = dir;
                        }
                        snprintf(
                            cur_case, sizeof(cur_case),
                            "burst of %s %s lengths %zu..%zu/%zu (%s) "
                            "%s session, fast path %s",
                            kind_name[k], dir == NAT_DIR_OUT ? "out" : "in",
                            len0, len0 + cnt - 1, flen, form_name[form],
                            sess ? "with" : "without", fast ? "on" : "off");
                        size_t sent = nat_translate_burst(n, io, cnt, 2000);
                        size_t kept = 0;
                        for (size_t i = 0; i < cnt; i++) {
                            struct ctx c = {
                                (enum kind)k,    dir,      sess, fast,
                                (enum form)form, len0 + i, flen};
                            check_result(&c, b[i], io[i].buf, io[i].len,
                                         io[i].res);
                            kept += io[i].res.verdict != NAT_DROP;
                            calls++;
                        }
                        ck_assert_uint_eq(sent, kept);
                        nat_destroy(n);
                    }
                }
        }
    guard_free(&g);
    fprintf(stderr, "guard: burst %s: %lu packets\n",
            dir == NAT_DIR_OUT ? "out" : "in", calls);
}

/* ---- tests --------------------------------------------------------------- */

/* The helper itself: the last byte of a placed packet is readable and the
 * next one is not (a pipe write of it fails with EFAULT, no signal). */
START_TEST(guard_place_ends_packet_at_unmapped_page)
{
    struct guard g;
    guard_init(&g);
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    static const size_t lens[] = {1, 20, 28, 1500};
    uint8_t pkt[1500] = {0};
    for (size_t s = 0; s < NSLOT; s += NSLOT - 1)
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            uint8_t *p = guard_place(&g, s, pkt, lens[i]);
            ck_assert_int_eq(write(fd[1], p, lens[i]), (ssize_t)lens[i]);
            errno = 0;
            ck_assert_int_eq(write(fd[1], p + lens[i], 1), -1);
            ck_assert_int_eq(errno, EFAULT);
            char sink[1500];
            ck_assert_int_eq(read(fd[0], sink, lens[i]), (ssize_t)lens[i]);
        }
    close(fd[0]);
    close(fd[1]);
    guard_free(&g);
}
END_TEST

#define GUARD_TEST(name, kind, dir)                                            \
    START_TEST(name)                                                           \
    {                                                                          \
        guard_every_length(kind, dir);                                         \
    }                                                                          \
    END_TEST

GUARD_TEST(guard_tcp_syn_truncated_every_length_out, K_TCP_SYN, NAT_DIR_OUT)
GUARD_TEST(guard_tcp_syn_truncated_every_length_in, K_TCP_SYN, NAT_DIR_IN)
GUARD_TEST(guard_tcp_ack_payload_truncated_every_length_out, K_TCP_ACK_PAYLOAD,
           NAT_DIR_OUT)
GUARD_TEST(guard_tcp_ack_payload_truncated_every_length_in, K_TCP_ACK_PAYLOAD,
           NAT_DIR_IN)
GUARD_TEST(guard_udp_truncated_every_length_out, K_UDP, NAT_DIR_OUT)
GUARD_TEST(guard_udp_truncated_every_length_in, K_UDP, NAT_DIR_IN)
GUARD_TEST(guard_udp_zero_csum_truncated_every_length_out, K_UDP_ZERO_CSUM,
           NAT_DIR_OUT)
GUARD_TEST(guard_udp_zero_csum_truncated_every_length_in, K_UDP_ZERO_CSUM,
           NAT_DIR_IN)
GUARD_TEST(guard_icmp_echo_truncated_every_length_out, K_ICMP_ECHO, NAT_DIR_OUT)
GUARD_TEST(guard_icmp_echo_truncated_every_length_in, K_ICMP_ECHO, NAT_DIR_IN)
GUARD_TEST(guard_icmp_error_tcp_truncated_every_length_out, K_ICMP_ERROR_TCP,
           NAT_DIR_OUT)
GUARD_TEST(guard_icmp_error_tcp_truncated_every_length_in, K_ICMP_ERROR_TCP,
           NAT_DIR_IN)
GUARD_TEST(guard_icmp_error_udp_truncated_every_length_out, K_ICMP_ERROR_UDP,
           NAT_DIR_OUT)
GUARD_TEST(guard_icmp_error_udp_truncated_every_length_in, K_ICMP_ERROR_UDP,
           NAT_DIR_IN)
GUARD_TEST(guard_icmp_error_icmp_truncated_every_length_out, K_ICMP_ERROR_ICMP,
           NAT_DIR_OUT)
GUARD_TEST(guard_icmp_error_icmp_truncated_every_length_in, K_ICMP_ERROR_ICMP,
           NAT_DIR_IN)
GUARD_TEST(guard_ip_options_truncated_every_length_out, K_IP_OPTIONS,
           NAT_DIR_OUT)
GUARD_TEST(guard_ip_options_truncated_every_length_in, K_IP_OPTIONS, NAT_DIR_IN)
GUARD_TEST(guard_frag_first_truncated_every_length_out, K_FRAG_FIRST,
           NAT_DIR_OUT)
GUARD_TEST(guard_frag_first_truncated_every_length_in, K_FRAG_FIRST, NAT_DIR_IN)
GUARD_TEST(guard_frag_nonfirst_truncated_every_length_out, K_FRAG_NONFIRST,
           NAT_DIR_OUT)
GUARD_TEST(guard_frag_nonfirst_truncated_every_length_in, K_FRAG_NONFIRST,
           NAT_DIR_IN)
GUARD_TEST(guard_gre_truncated_every_length_out, K_GRE, NAT_DIR_OUT)
GUARD_TEST(guard_gre_truncated_every_length_in, K_GRE, NAT_DIR_IN)

START_TEST(guard_burst_every_kind_truncated_every_length_out)
{
    guard_burst_every_length(NAT_DIR_OUT);
}
END_TEST

START_TEST(guard_burst_every_kind_truncated_every_length_in)
{
    guard_burst_every_length(NAT_DIR_IN);
}
END_TEST

Suite *
guard_suite(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("guard");
    tcase_add_test(tc, guard_place_ends_packet_at_unmapped_page);
    tcase_add_test(tc, guard_tcp_syn_truncated_every_length_out);
    tcase_add_test(tc, guard_tcp_syn_truncated_every_length_in);
    tcase_add_test(tc, guard_tcp_ack_payload_truncated_every_length_out);
    tcase_add_test(tc, guard_tcp_ack_payload_truncated_every_length_in);
    tcase_add_test(tc, guard_udp_truncated_every_length_out);
    tcase_add_test(tc, guard_udp_truncated_every_length_in);
    tcase_add_test(tc, guard_udp_zero_csum_truncated_every_length_out);
    tcase_add_test(tc, guard_udp_zero_csum_truncated_every_length_in);
    tcase_add_test(tc, guard_icmp_echo_truncated_every_length_out);
    tcase_add_test(tc, guard_icmp_echo_truncated_every_length_in);
    tcase_add_test(tc, guard_icmp_error_tcp_truncated_every_length_out);
    tcase_add_test(tc, guard_icmp_error_tcp_truncated_every_length_in);
    tcase_add_test(tc, guard_icmp_error_udp_truncated_every_length_out);
    tcase_add_test(tc, guard_icmp_error_udp_truncated_every_length_in);
    tcase_add_test(tc, guard_icmp_error_icmp_truncated_every_length_out);
    tcase_add_test(tc, guard_icmp_error_icmp_truncated_every_length_in);
    tcase_add_test(tc, guard_ip_options_truncated_every_length_out);
    tcase_add_test(tc, guard_ip_options_truncated_every_length_in);
    tcase_add_test(tc, guard_frag_first_truncated_every_length_out);
    tcase_add_test(tc, guard_frag_first_truncated_every_length_in);
    tcase_add_test(tc, guard_frag_nonfirst_truncated_every_length_out);
    tcase_add_test(tc, guard_frag_nonfirst_truncated_every_length_in);
    tcase_add_test(tc, guard_gre_truncated_every_length_out);
    tcase_add_test(tc, guard_gre_truncated_every_length_in);
    tcase_add_test(tc, guard_burst_every_kind_truncated_every_length_out);
    tcase_add_test(tc, guard_burst_every_kind_truncated_every_length_in);
    suite_add_tcase(s, tc);
    return s;
}
