/*
 * nat-bench: libnat's benchmark. Synthetic UDP or TCP traffic in caller
 * buffers, for several table sizes; every figure is the median of several
 * runs and is printed twice: one machine-readable line ("figure ...") and a
 * row of the table at the end. Packets are generated before timing; each
 * measured packet is copied from that ring into the working buffer. The
 * same run measures a baseline: the copy, validating the IP header and
 * rewriting the source with incremental checksums (everything NAT does but
 * the table), so results can be read as a ratio on a noisy machine.
 *
 * usage: nat-bench [--sizes 1k,64k,1m,10m] [--runs 5] [--ms 200]
 *                  [--proto udp|tcp] [--dist uniform,zipf]
 *                  [--threads 1,2] [--burst 32] [--quick]
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h" /* the library's own network-order loads/stores */
#include "libnat.h"

#define MAXRUNS        15
#define SAMPLES        (1u << 22) /* flow index samples per distribution */
#define FLOWS_PER_HOST 16
#define PKT_CAP        128
#define MAX_BURST      256

static int opt_runs = 5;
static int opt_ms = 200;
static int opt_tcp = 0;
static int opt_burst = 32;
static uint32_t opt_sizes[8] = {1000, 64000, 1000000, 10000000};
static int opt_nsizes = 4;
static int opt_dist[2] = {1, 1}; /* uniform, zipf */
static int opt_threads[4] = {1, 2};
static int opt_nthreads = 2;

/* ---- time and statistics ------------------------------------------------- */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- results table ------------------------------------------------------- */

struct row {
    char name[48], detail[48];
    uint32_t size;
    double value, base;
    const char *unit;
};
static struct row rows[512];
static int nrows;

static void
report(const char *name, const char *detail, uint32_t size, double value,
       double base, const char *unit)
{
    printf("figure=%s detail=%s size=%u value=%.3f unit=%s", name, detail, size,
           value, unit);
    if (base > 0)
        printf(" baseline=%.3f ratio=%.3f", base, value / base);
    printf(" runs=%d\n", opt_runs);
    fflush(stdout);
    if (nrows < (int)(sizeof(rows) / sizeof(rows[0]))) {
        struct row *r = &rows[nrows++];
        snprintf(r->name, sizeof(r->name), "%s", name);
        snprintf(r->detail, sizeof(r->detail), "%s", detail);
        r->size = size;
        r->value = value;
        r->base = base;
        r->unit = unit;
    }
}

/* ---- traffic ------------------------------------------------------------- */

/* Flow f: inside 10.0.0.0/8 host f/16 port 20000+f%16, to a remote in
 * 198.51.100.0/24 port 53 (443 for TCP). */
static inline uint32_t
flow_host(uint32_t f)
{
    return 0x0a000001u + f / FLOWS_PER_HOST;
}

static inline uint16_t
flow_port(uint32_t f)
{
    return (uint16_t)(20000 + f % FLOWS_PER_HOST);
}

static inline uint32_t
flow_rem(uint32_t f)
{
    return 0xc6336401u + (f % 200);
}

#define REM_PORT 53

/* A template packet with zero addresses and ports and the partial sums of
 * everything else, so writing a flow's packet costs a few additions. */
struct tmpl {
    uint8_t b[PKT_CAP];
    size_t len;
    uint32_t ip_sum, l4_sum;
    size_t csum_off;
};

static void
tmpl_init(struct tmpl *t, int tcp)
{
    memset(t, 0, sizeof(*t));
    uint8_t *b = t->b;
    size_t l4 = tcp ? 20 : 8, pay = 18;
    t->len = 20 + l4 + pay;
    b[0] = 0x45;
    st16(b + 2, (uint16_t)t->len);
    b[8] = 64;
    b[9] = tcp ? 6 : 17;
    if (tcp) {
        b[32] = 5 << 4;
        b[33] = 0x10; /* ACK */
        st16(b + 34, 65535);
    } else {
        st16(b + 24, (uint16_t)(l4 + pay));
    }
    for (size_t i = 0; i < pay; i++)
        b[20 + l4 + i] = (uint8_t)i;
    t->csum_off = tcp ? 36 : 26;
    t->ip_sum = nat_csum_add(0, b, 20);
    t->l4_sum = nat_csum_add(nat_csum_pseudo4(0, 0, b[9], (uint16_t)(l4 + pay)),
                             b + 20, l4 + pay);
}

static inline void
write_pkt(const struct tmpl *t, uint8_t *b, uint32_t src, uint16_t sport,
          uint32_t dst, uint16_t dport)
{
    memcpy(b, t->b, 64);
    st32(b + 12, src);
    st32(b + 16, dst);
    st16(b + 20, sport);
    st16(b + 22, dport);
    uint32_t a = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    st16(b + 10, nat_csum_finish(t->ip_sum + a));
    st16(b + t->csum_off,
         nat_csum_udp_final(nat_csum_finish(t->l4_sum + a + sport + dport)));
}

/* Flow index samples: uniform, or Zipf (s = 1) by inverse transform of the
 * continuous 1/r density, ranks scattered over the table by a bijective-ish
 * multiplicative hash so hot flows are not neighbours in memory. */
static uint32_t *samples[2];

static uint64_t rng = 88172645463325252ull;
static inline uint64_t
xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void
make_samples(uint32_t n)
{
    double ln = log((double)n);
    for (int d = 0; d < 2; d++) {
        if (samples[d] == NULL)
            samples[d] = malloc(sizeof(uint32_t) * SAMPLES);
        for (uint32_t i = 0; i < SAMPLES; i++) {
            uint64_t r = xorshift();
            if (d == 0) {
                samples[d][i] = (uint32_t)((r >> 11) % n);
            } else {
                double u = (double)(r >> 11) / 9007199254740992.0;
                uint64_t rank = (uint64_t)exp(u * ln) - 1;
                samples[d][i] = (uint32_t)((rank * 2654435761ull) % n);
            }
        }
    }
}

/* ---- instance ------------------------------------------------------------ */

struct world {
    struct nat *nat;
    void *mem;
    size_t memsize;
    uint32_t n;
    uint32_t *ext_addr; /* per flow, after population */
    uint16_t *ext_port;
    struct tmpl t;
    uint64_t now;
};

static void
die(const char *what, int rc)
{
    fprintf(stderr, "nat-bench: %s: %s\n", what, nat_strerror(rc));
    exit(1);
}

static uint32_t
pool_size(uint32_t n)
{
    return (uint32_t)((double)n / 64000.0 * 1.4) + 2;
}

static void
world_create(struct world *w, uint32_t n, const struct nat_config *base)
{
    struct nat_config c;
    if (base)
        c = *base;
    else
        nat_config_init(&c);
    memset(c.secret, 0x42, sizeof(c.secret));
    c.max_sessions = n;
    c.max_pool = pool_size(n);
    c.frag_held = 4;
    c.frag_entries = 64;
    /* The instance lives in caller memory (nat_create_in) backed by huge
     * pages where the kernel offers them: what an embedder with a large
     * table should do, since every lookup touches random pages. */
    w->memsize = nat_memsize(&c);
    w->mem = mmap(NULL, w->memsize, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w->mem == MAP_FAILED) {
        fprintf(stderr, "nat-bench: mmap of %zu bytes failed\n", w->memsize);
        exit(1);
    }
#ifdef MADV_HUGEPAGE
    madvise(w->mem, w->memsize, MADV_HUGEPAGE);
#endif
    int rc = nat_create_in(&c, w->mem, w->memsize, &w->nat);
    if (rc)
        die("nat_create_in", rc);
    for (uint32_t i = 0; i < c.max_pool; i++)
        if ((rc = nat_pool_add(w->nat, 0xcb007101u + i)) != 0)
            die("nat_pool_add", rc);
    nat_inside_add(w->nat, 0x0a000000u, 8);
    w->n = n;
    w->ext_addr = malloc(sizeof(uint32_t) * n);
    w->ext_port = malloc(sizeof(uint16_t) * n);
    tmpl_init(&w->t, opt_tcp);
    w->now = 1000;
}

static void
world_destroy(struct world *w)
{
    nat_destroy(w->nat);
    munmap(w->mem, w->memsize);
    free(w->ext_addr);
    free(w->ext_port);
}

/* Create every flow's session; returns sessions per second. For TCP the
 * first packet is a SYN, then an inbound SYN-ACK makes it established. */
static double
populate(struct world *w)
{
    uint8_t b[PKT_CAP];
    double t0 = now_s();
    for (uint32_t f = 0; f < w->n; f++) {
        write_pkt(&w->t, b, flow_host(f), flow_port(f), flow_rem(f), REM_PORT);
        if (opt_tcp) {
            b[33] = 0x02;
            st16(b + 36, nat_csum_update16(ld16(b + 36), 0x0010, 0x0002));
        }
        size_t len = w->t.len;
        struct nat_result r =
            nat_translate(w->nat, NAT_DIR_OUT, b, &len, PKT_CAP, w->now);
        if (r.verdict != NAT_OUT) {
            fprintf(stderr, "nat-bench: populate flow %u: %s\n", f,
                    nat_reason_str(r.reason));
            exit(1);
        }
        w->ext_addr[f] = ld32(b + 12);
        w->ext_port[f] = ld16(b + 20);
    }
    double dt = now_s() - t0;
    if (opt_tcp) {
        for (uint32_t f = 0; f < w->n; f++) {
            write_pkt(&w->t, b, flow_rem(f), REM_PORT, w->ext_addr[f],
                      w->ext_port[f]);
            b[33] = 0x12;
            st16(b + 36, nat_csum_update16(ld16(b + 36), 0x0010, 0x0012));
            size_t len = w->t.len;
            nat_translate(w->nat, NAT_DIR_IN, b, &len, PKT_CAP, w->now);
        }
    }
    return w->n / dt;
}

/* ---- measured loops ------------------------------------------------------ */

enum mode { M_OUT, M_IN, M_UNKNOWN };

static inline void
gen(const struct world *w, uint8_t *b, enum mode m, uint32_t f, uint32_t k)
{
    switch (m) {
    case M_OUT:
        write_pkt(&w->t, b, flow_host(f), flow_port(f), flow_rem(f), REM_PORT);
        break;
    case M_IN:
        write_pkt(&w->t, b, flow_rem(f), REM_PORT, w->ext_addr[f],
                  w->ext_port[f]);
        break;
    case M_UNKNOWN: /* from addresses no flow talks to */
        write_pkt(&w->t, b, 0xc0000200u + (k & 0xff), REM_PORT, w->ext_addr[f],
                  (uint16_t)(1024 + (k * 7919u) % 64000));
        break;
    }
}

/* The baseline's "NAT without a table": validate the IP header and rewrite
 * the source endpoint with incremental checksum updates. */
static inline void
touch(uint8_t *b, size_t len, size_t csum_off)
{
    if (len < 20 || nat_csum(b, 20) != 0)
        abort();
    uint32_t old = ld32(b + 12), na = 0xcb007101u;
    uint16_t op = ld16(b + 20), np = (uint16_t)(op ^ 0x5a5a);
    st32(b + 12, na);
    st16(b + 20, np);
    st16(b + 10, nat_csum_update32(ld16(b + 10), old, na));
    uint16_t c = nat_csum_update32(ld16(b + csum_off), old, na);
    st16(b + csum_off, nat_csum_update16(c, op, np));
}

static volatile uint64_t sink;

/* Packets are generated before timing into a ring (RING packets of 64
 * bytes, streamed sequentially), and each is copied into the working
 * buffer just before use, because translation rewrites it in place. The
 * baseline pays the same copy. */
#define RING (1u << 20)
#define SLOT 64
static uint8_t *ring;

static void
fill_ring(const struct world *w, enum mode m, int dist)
{
    if (ring == NULL && (ring = malloc((size_t)RING * SLOT)) == NULL) {
        fprintf(stderr, "nat-bench: out of memory\n");
        exit(1);
    }
    const uint32_t *s = samples[dist];
    uint32_t j = (uint32_t)xorshift() % SAMPLES;
    for (uint32_t i = 0; i < RING; i++) {
        gen(w, ring + (size_t)i * SLOT, m, s[j], j);
        j = (j + 1) & (SAMPLES - 1);
    }
}

/* Packets per second of one run: single API, burst API or baseline. */
static double
run_once(struct world *w, enum mode m, int burst, int baseline)
{
    static uint8_t bufs[MAX_BURST][PKT_CAP];
    static struct nat_pkt_io io[MAX_BURST];
    uint64_t pkts = 0, ok = 0;
    uint32_t j = (uint32_t)xorshift() % RING;
    int nb = burst ? opt_burst : 1;
    double t0 = now_s(), end = t0 + opt_ms / 1000.0, t1;
    do {
        for (int rep = 0; rep < 256; rep++) {
            for (int i = 0; i < nb; i++) {
                memcpy(bufs[i], ring + (size_t)j * SLOT, SLOT);
                j = (j + 1) & (RING - 1);
            }
            if (baseline) {
                for (int i = 0; i < nb; i++)
                    touch(bufs[i], w->t.len, w->t.csum_off);
                ok += (uint64_t)nb;
            } else if (burst) {
                for (int i = 0; i < nb; i++) {
                    io[i].buf = bufs[i];
                    io[i].len = w->t.len;
                    io[i].cap = PKT_CAP;
                    io[i].dir = m == M_OUT ? NAT_DIR_OUT : NAT_DIR_IN;
                }
                ok += nat_translate_burst(w->nat, io, (size_t)nb, w->now);
            } else {
                size_t len = w->t.len;
                struct nat_result r =
                    nat_translate(w->nat, m == M_OUT ? NAT_DIR_OUT : NAT_DIR_IN,
                                  bufs[0], &len, PKT_CAP, w->now);
                ok += r.verdict != NAT_DROP;
            }
            pkts += (uint64_t)nb;
        }
        t1 = now_s();
    } while (t1 < end);
    sink += ok;
    if (m != M_UNKNOWN && !baseline && ok != pkts) {
        fprintf(stderr, "nat-bench: %llu of %llu packets dropped\n",
                (unsigned long long)(pkts - ok), (unsigned long long)pkts);
        exit(1);
    }
    if (m == M_UNKNOWN && !baseline && ok != 0) {
        fprintf(stderr, "nat-bench: unknown inbound packets were accepted\n");
        exit(1);
    }
    return (double)pkts / (t1 - t0);
}

static double
measure(struct world *w, enum mode m, int burst, int baseline)
{
    double v[MAXRUNS];
    for (int r = 0; r < opt_runs; r++)
        v[r] = run_once(w, m, burst, baseline);
    return median(v, opt_runs);
}

static const char *
size_name(uint32_t n, char *buf, size_t cap)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, cap, "%uM", n / 1000000);
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, cap, "%uK", n / 1000);
    else
        snprintf(buf, cap, "%u", n);
    return buf;
}

static void
bench_size(uint32_t n)
{
    struct world w;
    char sz[16], det[48];
    const char *dn[2] = {"uniform", "zipf"};
    size_name(n, sz, sizeof(sz));
    make_samples(n);

    /* New sessions per second: median over runs for tables that allow
     * repeated population; one population for the largest. */
    double v[MAXRUNS];
    int reps = n <= 1000000 ? opt_runs : 1;
    for (int r = 0; r < reps; r++) {
        world_create(&w, n, NULL);
        v[r] = populate(&w);
        if (r + 1 < reps)
            world_destroy(&w);
    }
    double newps = median(v, reps);
    report("new_sessions", opt_tcp ? "tcp" : "udp", n, newps / 1e6, 0, "M/s");

    struct nat_config c;
    nat_config_init(&c);
    c.max_sessions = n;
    c.max_pool = pool_size(n);
    c.frag_held = 4;
    c.frag_entries = 64;
    size_t mem = nat_memsize(&c);
    report("bytes_per_session", "incl-indexes", n, (double)mem / n, 0, "B");
    report("instance_memory", "total", n, (double)mem / (1 << 20), 0, "MiB");

    for (int d = 0; d < 2; d++) {
        if (!opt_dist[d])
            continue;
        for (int m = M_OUT; m <= M_IN; m++) {
            fill_ring(&w, (enum mode)m, d);
            double base = measure(&w, (enum mode)m, 0, 1);
            for (int burst = 0; burst <= 1; burst++) {
                double x = measure(&w, (enum mode)m, burst, 0);
                snprintf(det, sizeof(det), "%s-%s-%s",
                         m == M_OUT ? "out" : "in", dn[d],
                         burst ? "burst" : "single");
                report("established", det, n, x / 1e6, base / 1e6, "Mpps");
            }
        }
    }
    fill_ring(&w, M_UNKNOWN, 0);
    double base = measure(&w, M_UNKNOWN, 0, 1);
    double x = measure(&w, M_UNKNOWN, 0, 0);
    report("unknown_inbound_drop", "uniform-single", n, x / 1e6, base / 1e6,
           "Mpps");

    /* Expiry: everything idles out in one long nat_expire() call. */
    double t0 = now_s();
    size_t gone = nat_expire(w.nat, w.now + 10000000ull, n);
    double dt = now_s() - t0;
    if (gone != n) {
        fprintf(stderr, "nat-bench: expired %zu of %u\n", gone, n);
        exit(1);
    }
    report("expiry", "sessions", n, gone / dt / 1e6, 0, "M/s");
    world_destroy(&w);
}

/* ---- checksum ------------------------------------------------------------ */

static void
bench_checksum(void)
{
    static uint8_t buf[1500 + 8];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 13);
    double v[MAXRUNS], b[MAXRUNS];
    for (int r = 0; r < opt_runs; r++) {
        uint64_t n = 0, acc = 0;
        double t0 = now_s(), end = t0 + opt_ms / 1000.0, t1;
        do {
            for (int i = 0; i < 1000; i++)
                acc += nat_csum(buf + (i & 1), 1500);
            n += 1000;
            t1 = now_s();
        } while (t1 < end);
        sink += acc;
        v[r] = (double)n * 1500 / (t1 - t0) / 1e9;
        /* baseline: reading the same bytes (a plain 64-bit sum) */
        n = 0;
        t0 = now_s();
        end = t0 + opt_ms / 1000.0;
        do {
            for (int i = 0; i < 1000; i++) {
                uint64_t s = 0, x;
                for (size_t k = 0; k + 8 <= 1500; k += 8) {
                    memcpy(&x, buf + (i & 1) + k, 8);
                    s += x;
                }
                acc += s;
            }
            n += 1000;
            t1 = now_s();
        } while (t1 < end);
        sink += acc;
        b[r] = (double)n * 1500 / (t1 - t0) / 1e9;
    }
    report("checksum", "1500B", 1500, median(v, opt_runs), median(b, opt_runs),
           "GB/s");
}

/* ---- scale-out ----------------------------------------------------------- */

struct worker {
    pthread_t th;
    struct world w;
    uint32_t id;
    double pps;
};

static struct nat_steer steer;

static void *
worker_main(void *arg)
{
    struct worker *k = arg;
    struct nat_config c;
    nat_config_init(&c);
    nat_steer_config(&steer, k->id, &c);
    world_create(&k->w, 64000, &c);
    populate(&k->w);
    double v[MAXRUNS];
    for (int r = 0; r < opt_runs; r++) {
        /* each worker's own run loop; samples are shared read-only */
        uint8_t b[PKT_CAP];
        uint64_t pkts = 0;
        uint32_t j = k->id * 7777u;
        double t0 = now_s(), end = t0 + opt_ms / 1000.0, t1;
        do {
            for (int i = 0; i < 4096; i++) {
                uint32_t f = samples[0][j];
                j = (j + 1) & (SAMPLES - 1);
                write_pkt(&k->w.t, b, flow_host(f), flow_port(f), flow_rem(f),
                          REM_PORT);
                size_t len = k->w.t.len;
                nat_translate(k->w.nat, NAT_DIR_OUT, b, &len, PKT_CAP,
                              k->w.now);
            }
            pkts += 4096;
            t1 = now_s();
        } while (t1 < end);
        v[r] = (double)pkts / (t1 - t0);
    }
    k->pps = median(v, opt_runs);
    world_destroy(&k->w);
    return NULL;
}

static void
bench_threads(void)
{
    uint8_t secret[16] = {1};
    make_samples(64000);
    double one = 0;
    for (int t = 0; t < opt_nthreads; t++) {
        int nt = opt_threads[t];
        struct worker *k = calloc((size_t)nt, sizeof(*k));
        nat_steer_init(&steer, (uint32_t)nt, 1024, 65535, secret);
        for (int i = 0; i < nt; i++) {
            k[i].id = (uint32_t)i;
            pthread_create(&k[i].th, NULL, worker_main, &k[i]);
        }
        double sum = 0;
        for (int i = 0; i < nt; i++) {
            pthread_join(k[i].th, NULL);
            sum += k[i].pps;
        }
        free(k);
        char det[32];
        snprintf(det, sizeof(det), "%d-threads", nt);
        if (nt == 1)
            one = sum;
        report("scaleout_aggregate", det, 64000, sum / 1e6, one / 1e6, "Mpps");
    }
}

/* ---- options and output -------------------------------------------------- */

static uint32_t
parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end == 'k' || *end == 'K')
        v *= 1000;
    else if (*end == 'm' || *end == 'M')
        v *= 1000000;
    if (v < 16 || v > 200000000) {
        fprintf(stderr, "nat-bench: bad size %s\n", s);
        exit(2);
    }
    return (uint32_t)v;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: nat-bench [--sizes 1k,64k,1m,10m] [--runs N] [--ms MS]\n"
            "                 [--proto udp|tcp] [--dist uniform,zipf]\n"
            "                 [--threads 1,2] [--burst N] [--quick]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            opt_sizes[0] = 1000;
            opt_sizes[1] = 64000;
            opt_nsizes = 2;
            opt_runs = 3;
            opt_ms = 50;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (!strcmp(a, "--sizes")) {
            opt_nsizes = 0;
            for (char *tok = strtok(v, ","); tok && opt_nsizes < 8;
                 tok = strtok(NULL, ","))
                opt_sizes[opt_nsizes++] = parse_size(tok);
        } else if (!strcmp(a, "--runs")) {
            opt_runs = atoi(v);
            if (opt_runs < 1 || opt_runs > MAXRUNS)
                usage();
        } else if (!strcmp(a, "--ms")) {
            opt_ms = atoi(v);
            if (opt_ms < 1)
                usage();
        } else if (!strcmp(a, "--proto")) {
            if (strcmp(v, "udp") && strcmp(v, "tcp"))
                usage();
            opt_tcp = !strcmp(v, "tcp");
        } else if (!strcmp(a, "--dist")) {
            opt_dist[0] = strstr(v, "uniform") != NULL;
            opt_dist[1] = strstr(v, "zipf") != NULL;
        } else if (!strcmp(a, "--threads")) {
            opt_nthreads = 0;
            for (char *tok = strtok(v, ","); tok && opt_nthreads < 4;
                 tok = strtok(NULL, ","))
                opt_threads[opt_nthreads++] = atoi(tok);
        } else if (!strcmp(a, "--burst")) {
            opt_burst = atoi(v);
            if (opt_burst < 1 || opt_burst > MAX_BURST)
                usage();
        } else {
            usage();
        }
    }
    printf("# nat-bench: libnat %s, %s, median of %d runs of %d ms\n",
           nat_version(), opt_tcp ? "tcp" : "udp", opt_runs, opt_ms);
    bench_checksum();
    for (int i = 0; i < opt_nsizes; i++)
        bench_size(opt_sizes[i]);
    bench_threads();

    printf("\n%-22s %-26s %10s %12s %10s %8s\n", "figure", "detail", "size",
           "value", "baseline", "ratio");
    for (int i = 0; i < nrows; i++) {
        struct row *r = &rows[i];
        char sz[16];
        printf("%-22s %-26s %10s %8.2f %-4s", r->name, r->detail,
               size_name(r->size, sz, sizeof(sz)), r->value, r->unit);
        if (r->base > 0)
            printf(" %9.2f %8.2f", r->base, r->value / r->base);
        printf("\n");
    }
    return sink == 42 ? 1 : 0;
}
