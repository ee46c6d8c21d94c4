/*
 * icount: a fixed, deterministic workload for counting the instructions
 * nat_translate() spends per packet, under callgrind (bench/icount.sh).
 *
 *   icount PATH COUNT     set up, then translate COUNT packets of PATH
 *   icount --list         the paths: name, tab, description, one a line
 *
 * Everything but the translations happens outside measured_loop(): the
 * instance, 1000 established sessions, and all COUNT packets, each built
 * in advance (checksums computed here, independently of the library) in a
 * buffer of exactly its length (cap == len; the buffers are contiguous, so
 * a write past one would corrupt the next and fail the check below). The
 * caller clock advances 1 ms every 1000 packets. Run as
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *       --toggle-collect=measured_loop bench/icount out-udp 200000
 *
 * and the collected Ir divided by COUNT is the cost per packet of
 * nat_translate() (or nat_translate_burst()) plus a few instructions of
 * loop and call. After the loop every verdict is checked (statistics
 * deltas, and for translated packets the rewritten endpoints and every
 * checksum), so a path that silently took another route fails loudly.
 *
 * Only the public API is used, so the same file measures any version of
 * the library.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libnat.h"

#define SESSIONS       1000
#define FLOWS_PER_HOST 16
#define PAYLOAD        18
#define BURST          32
#define NOW0           1000 /* ms: setup, and the first measured packet */

#define PROTO_TCP 6
#define PROTO_UDP 17
#define TH_SYN    0x02
#define TH_ACK    0x10

#define POOL0     0xcb007101u /* 203.0.113.1: the external pool */
#define EXCLUDE   0xc0000200u /* 192.0.2.0/24: excluded, matched by nothing */
#define NEW_REM   0xc6120001u /* 198.18.0.1: remotes no flow talked to */
#define UNK_SRC   0xc6120101u /* 198.18.1.1: sources of unknown traffic */
#define UDP_RPORT 53
#define TCP_RPORT 443

/* ---- paths --------------------------------------------------------------- */

enum path {
    P_OUT_UDP,      /* established outbound UDP (fast path) */
    P_IN_UDP,       /* established inbound UDP (fast path) */
    P_OUT_TCP,      /* established outbound TCP ACK */
    P_IN_TCP,       /* established inbound TCP ACK */
    P_UNKNOWN_IN,   /* inbound UDP to an unbound port: dropped */
    P_FILTERED_IN,  /* inbound UDP to a binding from a new remote: filtered */
    P_NEW_UDP,      /* new outbound UDP sessions */
    P_OUT_UDP_FULL, /* P_OUT_UDP with an exclusion configured: full path */
    P_BURST_OUT,    /* P_OUT_UDP through nat_translate_burst(), 32 a call */
    P_MAX
};

static const struct {
    const char *name, *what;
} paths[P_MAX] = {
    {"out-udp", "established outbound UDP (fast path)"},
    {"in-udp", "established inbound UDP (fast path)"},
    {"out-tcp", "established outbound TCP ACK"},
    {"in-tcp", "established inbound TCP ACK"},
    {"unknown-in", "unknown inbound UDP, dropped (no binding)"},
    {"filtered-in", "inbound UDP from a new remote, dropped by filtering"},
    {"new-udp", "new outbound UDP session"},
    {"out-udp-full", "established outbound UDP, full path (exclusion set)"},
    {"burst-out-udp", "established outbound UDP, burst of 32, per packet"},
};

/* ---- flows --------------------------------------------------------------- */

/* Flow f (as in nat-bench): inside host 10.0.0.1 + f/16, port 20000 + f%16,
 * to remote 198.51.100.1 + f%200, port 53 (UDP) or 443 (TCP). */
static uint32_t
flow_host(uint32_t f)
{
    return 0x0a000001u + f / FLOWS_PER_HOST;
}

static uint16_t
flow_port(uint32_t f)
{
    return (uint16_t)(20000 + f % FLOWS_PER_HOST);
}

static uint32_t
flow_rem(uint32_t f)
{
    return 0xc6336401u + f % 200;
}

/* ---- packets ------------------------------------------------------------- */

static void
st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
st32(uint8_t *p, uint32_t v)
{
    st16(p, (uint16_t)(v >> 16));
    st16(p + 2, (uint16_t)v);
}

static uint16_t
ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
ld32(const uint8_t *p)
{
    return (uint32_t)ld16(p) << 16 | ld16(p + 2);
}

/* RFC 1071 sum, written here rather than taken from the library under
 * measurement. */
static uint32_t
sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += ld16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t
fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint32_t
pseudo(const uint8_t *b, size_t l4len)
{
    return sum16(0, b + 12, 8) + b[9] + (uint32_t)l4len;
}

static size_t
pkt_len(int proto)
{
    return 20 + (proto == PROTO_TCP ? 20 : 8) + PAYLOAD;
}

/* Build an IPv4 TCP or UDP packet of pkt_len(proto) bytes at @b. */
static void
build(uint8_t *b, int proto, uint32_t src, uint16_t sport, uint32_t dst,
      uint16_t dport, uint8_t tcp_flags)
{
    size_t len = pkt_len(proto), l4len = len - 20;
    uint8_t *l4 = b + 20;
    memset(b, 0, len);
    b[0] = 0x45;
    st16(b + 2, (uint16_t)len);
    b[8] = 64;
    b[9] = (uint8_t)proto;
    st32(b + 12, src);
    st32(b + 16, dst);
    st16(b + 10, (uint16_t)~fold(sum16(0, b, 20)));
    st16(l4, sport);
    st16(l4 + 2, dport);
    size_t hl = proto == PROTO_TCP ? 20 : 8, csum_off;
    for (size_t i = 0; i < PAYLOAD; i++)
        l4[hl + i] = (uint8_t)(i * 7 + 1);
    if (proto == PROTO_TCP) {
        st32(l4 + 4, 0x01000000u + sport);
        st32(l4 + 8, (tcp_flags & TH_ACK) ? 0x02000000u + dport : 0);
        l4[12] = 5 << 4;
        l4[13] = tcp_flags;
        st16(l4 + 14, 65535);
        csum_off = 16;
    } else {
        st16(l4 + 4, (uint16_t)l4len);
        csum_off = 6;
    }
    uint16_t c = (uint16_t)~fold(sum16(pseudo(b, l4len), l4, l4len));
    if (proto == PROTO_UDP && c == 0)
        c = 0xffff;
    st16(l4 + csum_off, c);
}

/* Every checksum of the packet at @b verifies. */
static int
csums_ok(const uint8_t *b)
{
    size_t len = ld16(b + 2), l4len = len - 20;
    if (fold(sum16(0, b, 20)) != 0xffff)
        return 0;
    if (b[9] == PROTO_UDP && ld16(b + 26) == 0)
        return 1;
    return fold(sum16(pseudo(b, l4len), b + 20, l4len)) == 0xffff;
}

/* ---- instance ------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void fail(const char *fmt, ...);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "icount: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

struct world {
    struct nat *nat;
    int proto;
    uint32_t ext_addr[SESSIONS];
    uint16_t ext_port[SESSIONS];
};

static struct nat_result
xlate(struct nat *nat, enum nat_dir dir, uint8_t *b)
{
    size_t len = ld16(b + 2);
    return nat_translate(nat, dir, b, &len, len, NOW0);
}

/* The instance (default configuration, @cap sessions) with SESSIONS
 * established flows of @proto. TCP flows see a SYN out and a SYN-ACK in
 * (established: SYN both ways), checked through nat_session_lookup(). */
static void
world_create(struct world *w, int proto, uint32_t cap)
{
    struct nat_config c;
    nat_config_init(&c);
    memset(c.secret, 0x42, sizeof(c.secret));
    c.max_sessions = cap;
    c.max_pool = (uint32_t)(cap / 64000.0 * 1.4) + 2; /* as nat-bench */
    int rc = nat_create(&c, &w->nat);
    if (rc != 0)
        fail("nat_create: %s", nat_strerror(rc));
    for (uint32_t i = 0; i < c.max_pool; i++)
        if ((rc = nat_pool_add(w->nat, POOL0 + i)) != 0)
            fail("nat_pool_add: %s", nat_strerror(rc));
    if ((rc = nat_inside_add(w->nat, 0x0a000000u, 8)) != 0)
        fail("nat_inside_add: %s", nat_strerror(rc));
    w->proto = proto;
    uint16_t rport = proto == PROTO_TCP ? TCP_RPORT : UDP_RPORT;
    uint8_t b[128];
    for (uint32_t f = 0; f < SESSIONS; f++) {
        build(b, proto, flow_host(f), flow_port(f), flow_rem(f), rport,
              TH_SYN);
        struct nat_result r = xlate(w->nat, NAT_DIR_OUT, b);
        if (r.verdict != NAT_OUT)
            fail("setup, flow %u: %s", f, nat_reason_str(r.reason));
        w->ext_addr[f] = ld32(b + 12);
        w->ext_port[f] = ld16(b + 20);
    }
    if (proto != PROTO_TCP)
        return;
    for (uint32_t f = 0; f < SESSIONS; f++) {
        build(b, proto, flow_rem(f), rport, w->ext_addr[f], w->ext_port[f],
              TH_SYN | TH_ACK);
        struct nat_result r = xlate(w->nat, NAT_DIR_IN, b);
        struct nat_session s;
        if (r.verdict != NAT_IN ||
            nat_session_lookup(w->nat, NAT_DIR_OUT, PROTO_TCP, flow_host(f),
                               flow_port(f), flow_rem(f), rport, &s) != 0 ||
            s.tcp_state != NAT_TCP_ESTABLISHED)
            fail("setup, flow %u: %s", f, nat_reason_str(r.reason));
    }
}

/* ---- the measured region ------------------------------------------------- */

struct run {
    struct nat *nat;
    enum nat_dir dir;
    uint8_t *pkts; /* count packets of len bytes, back to back */
    size_t len, count;
    struct nat_pkt_io *io; /* burst: count entries over pkts */
};

/* The only code callgrind counts (--toggle-collect=measured_loop): external
 * and never inlined or cloned, so the symbol keeps its name. */
void measured_loop(const struct run *run);

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, noclone))
#elif defined(__GNUC__)
__attribute__((noinline))
#endif
void
measured_loop(const struct run *run)
{
    struct nat *nat = run->nat;
    uint8_t *pkts = run->pkts;
    size_t len = run->len, count = run->count;
    struct nat_pkt_io *io = run->io;
    enum nat_dir dir = run->dir;

    if (io != NULL) {
        for (size_t i = 0; i + BURST <= count; i += BURST)
            nat_translate_burst(nat, io + i, BURST, NOW0 + i / 1000);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        size_t l = len;
        nat_translate(nat, dir, pkts + i * len, &l, len, NOW0 + i / 1000);
    }
}

/* ---- main ---------------------------------------------------------------- */

static void
usage(void)
{
    fprintf(stderr, "usage: icount PATH COUNT | icount --list\npaths:\n");
    for (int p = 0; p < P_MAX; p++)
        fprintf(stderr, "  %-14s %s\n", paths[p].name, paths[p].what);
    exit(2);
}

int
main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int p = 0; p < P_MAX; p++)
            printf("%s\t%s\n", paths[p].name, paths[p].what);
        return 0;
    }
    if (argc != 3)
        usage();
    int path = 0;
    while (path < P_MAX && strcmp(argv[1], paths[path].name) != 0)
        path++;
    char *end;
    unsigned long cnt = strtoul(argv[2], &end, 10);
    if (path == P_MAX || *end != '\0' || cnt == 0 || cnt > 10000000 ||
        (path == P_BURST_OUT && cnt % BURST != 0))
        usage();
    size_t count = cnt;

    int tcp = path == P_OUT_TCP || path == P_IN_TCP;
    int proto = tcp ? PROTO_TCP : PROTO_UDP;
    uint16_t rport = tcp ? TCP_RPORT : UDP_RPORT;
    /* New sessions need room for all of them; the rest run in a table of
     * exactly SESSIONS. */
    uint32_t cap = path == P_NEW_UDP ? (uint32_t)(SESSIONS + count) : SESSIONS;
    static struct world w;
    world_create(&w, proto, cap);
    if (path == P_OUT_UDP_FULL) {
        int rc = nat_exclude_add(w.nat, EXCLUDE, 24);
        if (rc != 0)
            fail("nat_exclude_add: %s", nat_strerror(rc));
    }

    /* Unbound ports of the first pool address for unknown-in. */
    static uint8_t bound[65536];
    for (uint32_t f = 0; f < SESSIONS; f++)
        if (w.ext_addr[f] == POOL0)
            bound[w.ext_port[f]] = 1;

    struct run run = {.nat = w.nat, .len = pkt_len(proto), .count = count};
    int in = path == P_IN_UDP || path == P_IN_TCP || path == P_UNKNOWN_IN ||
             path == P_FILTERED_IN;
    run.dir = in ? NAT_DIR_IN : NAT_DIR_OUT;
    run.pkts = malloc(count * run.len);
    uint32_t *flow = malloc(count * sizeof(*flow));
    if (run.pkts == NULL || flow == NULL)
        fail("out of memory");
    uint32_t port = 1024;
    for (size_t i = 0; i < count; i++) {
        /* every established flow equally often, in a scattered order */
        uint32_t f = (uint32_t)((i * 7919u) % SESSIONS);
        uint8_t *b = run.pkts + i * run.len;
        switch (path) {
        case P_OUT_UDP:
        case P_OUT_TCP:
        case P_OUT_UDP_FULL:
        case P_BURST_OUT:
            build(b, proto, flow_host(f), flow_port(f), flow_rem(f), rport,
                  TH_ACK);
            break;
        case P_IN_UDP:
        case P_IN_TCP:
            build(b, proto, flow_rem(f), rport, w.ext_addr[f], w.ext_port[f],
                  TH_ACK);
            break;
        case P_UNKNOWN_IN:
            do
                port = port == 65535 ? 1024 : port + 1;
            while (bound[port]);
            build(b, proto, UNK_SRC + (uint32_t)(i & 0xff), UDP_RPORT, POOL0,
                  (uint16_t)port, 0);
            break;
        case P_FILTERED_IN:
            build(b, proto, NEW_REM + f % 200, UDP_RPORT, w.ext_addr[f],
                  w.ext_port[f], 0);
            break;
        case P_NEW_UDP:
            f = (uint32_t)(SESSIONS + i);
            build(b, proto, flow_host(f), flow_port(f), flow_rem(f), rport, 0);
            break;
        }
        flow[i] = f;
    }
    if (path == P_BURST_OUT) {
        run.io = calloc(count, sizeof(*run.io));
        if (run.io == NULL)
            fail("out of memory");
        for (size_t i = 0; i < count; i++) {
            run.io[i].buf = run.pkts + i * run.len;
            run.io[i].len = run.len;
            run.io[i].cap = run.len;
            run.io[i].dir = NAT_DIR_OUT;
        }
    }

    struct nat_stats st0, st1;
    nat_stats_get(w.nat, &st0);
    measured_loop(&run);
    nat_stats_get(w.nat, &st1);

    /* Check that every packet took the path named. */
    enum nat_verdict want = NAT_OUT;
    enum nat_reason why = NAT_R_NONE;
    if (path == P_UNKNOWN_IN)
        want = NAT_DROP, why = NAT_R_NO_MAPPING;
    else if (path == P_FILTERED_IN)
        want = NAT_DROP, why = NAT_R_FILTERED;
    else if (in)
        want = NAT_IN;
    uint64_t got = st1.verdicts[want] - st0.verdicts[want];
    if (got != count)
        fail("%llu of %zu packets with verdict %s", (unsigned long long)got,
             count, nat_verdict_str(want));
    if (why != NAT_R_NONE && st1.drops[why] - st0.drops[why] != count)
        fail("not all drops were %s", nat_reason_str(why));
    uint64_t created = st1.sessions_created - st0.sessions_created;
    if (created != (path == P_NEW_UDP ? count : 0))
        fail("%llu sessions created", (unsigned long long)created);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *b = run.pkts + i * run.len;
        uint32_t f = flow[i];
        int ok = ld16(b + 2) == run.len && csums_ok(b);
        if (path == P_BURST_OUT)
            ok = ok && run.io[i].res.verdict == NAT_OUT;
        if (want == NAT_OUT && path != P_NEW_UDP)
            ok = ok && ld32(b + 12) == w.ext_addr[f] &&
                 ld16(b + 20) == w.ext_port[f] && ld32(b + 16) == flow_rem(f);
        else if (want == NAT_OUT)
            ok = ok && (ld32(b + 12) & ~0xffu) == (POOL0 & ~0xffu);
        else if (want == NAT_IN)
            ok = ok && ld32(b + 16) == flow_host(f) &&
                 ld16(b + 22) == flow_port(f) && ld32(b + 12) == flow_rem(f);
        if (!ok)
            fail("%s: packet %zu is wrong after translation", paths[path].name,
                 i);
    }
    printf("icount: %s: %zu packets, libnat %s, %u sessions at the end\n",
           paths[path].name, count, nat_version(), st1.sessions);
    nat_destroy(w.nat);
    free(run.io);
    free(run.pkts);
    free(flow);
    return 0;
}
