/*
 * Shared helpers for the example programs: see common.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common.h"

const char common_options_help[] =
    "NAT options (shared by nat-pcap, nat-tun and nat-raw):\n"
    "  --public ADDR[,ADDR...]   external address pool\n"
    "  --inside PREFIX[,...]     inside networks (translated going out)\n"
    "  --forward PROTO:[EXTADDR:]PORT[-LAST]=ADDR:PORT\n"
    "                            static port forward, PROTO tcp or udp "
    "(repeatable)\n"
    "  --one-to-one IN=EXT       basic 1:1 NAT of IN as EXT (repeatable)\n"
    "  --exclude PREFIX          never translate to or from PREFIX "
    "(repeatable)\n"
    "  --mapping eim|adm|apdm    mapping behaviour (default eim)\n"
    "  --filtering eif|adf|apdf  filtering behaviour (default adf)\n"
    "  --capacity N              session table size (default 65536)\n"
    "  --host-sessions N         sessions per inside host (default 0: no "
    "limit)\n"
    "  --no-icmp                 send no ICMP error when a new flow is refused "
    "(table\n"
    "                            full, per-host limit, no port; daemons only)\n"
    "  --icmp-source ADDR        source of those errors (default: the first "
    "address of\n"
    "                            the first --inside prefix)\n"
    "  --seed N                  derive the hash/port secret from N\n"
    "  -v, --verbose             one line per packet\n"
    "  -h, --help                this help\n";

void
opts_init(struct opts *o, const char *prog)
{
    memset(o, 0, sizeof(*o));
    const char *slash = strrchr(prog, '/');
    o->prog = slash ? slash + 1 : prog;
    o->mapping = -1;
    o->filtering = -1;
}

void
usage_error(const struct opts *o, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", o->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see %s --help)\n", o->prog);
    exit(2);
}

void
fatal(const struct opts *o, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", o->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---- parsing ----------------------------------------------------------------
 */

int
parse_addr(const char *s, uint32_t *addr)
{
    struct in_addr a;
    /* inet_pton() accepts only the strict dotted quad, which is what a
     * user who types an address means. */
    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *addr = ntohl(a.s_addr);
    return 0;
}

int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int
parse_prefix(const char *s, struct prefix *p)
{
    char buf[64];
    uint32_t len = 32;
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (parse_u32(slash + 1, 0, 32, &len) < 0)
            return -1;
    }
    if (parse_addr(buf, &p->addr) < 0)
        return -1;
    p->len = (uint8_t)len;
    /* Accept "10.0.0.1/24" as written by `ip addr`: keep the network. */
    p->addr &= len ? ~0u << (32 - len) : 0;
    return 0;
}

/* Split @s at commas and call @one for each part; -1 on the first error. */
static int
each_item(struct opts *o, const char *s, const char *what,
          int (*one)(struct opts *, const char *))
{
    char buf[1024];
    if (strlen(s) >= sizeof(buf) || *s == '\0')
        usage_error(o, "bad %s '%s'", what, s);
    strcpy(buf, s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save))
        if (one(o, t) < 0)
            usage_error(o, "bad %s '%s'", what, t);
    return 0;
}

static int
add_public(struct opts *o, const char *s)
{
    if (o->npub == OPT_MAX_ADDRS)
        usage_error(o, "too many public addresses (at most %d)", OPT_MAX_ADDRS);
    return parse_addr(s, &o->pub[o->npub++]);
}

static int
add_inside(struct opts *o, const char *s)
{
    if (o->ninside == OPT_MAX_ADDRS)
        usage_error(o, "too many inside prefixes (at most %d)", OPT_MAX_ADDRS);
    return parse_prefix(s, &o->inside[o->ninside++]);
}

static int
add_exclude(struct opts *o, const char *s)
{
    if (o->nexclude == OPT_MAX_ADDRS)
        usage_error(o, "too many excluded prefixes (at most %d)",
                    OPT_MAX_ADDRS);
    return parse_prefix(s, &o->exclude[o->nexclude++]);
}

/* "ADDR:PORT" */
static int
parse_endpoint(char *s, uint32_t *addr, uint16_t *port)
{
    char *colon = strrchr(s, ':');
    uint32_t v;
    if (colon == NULL)
        return -1;
    *colon = '\0';
    if (parse_addr(s, addr) < 0 || parse_u32(colon + 1, 1, 65535, &v) < 0)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* PROTO:[EXTADDR:]PORT[-LAST]=ADDR:PORT */
static int
parse_forward(const char *s, struct nat_forward *fw)
{
    char buf[128];
    uint32_t v;
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    memset(fw, 0, sizeof(*fw));
    char *eq = strchr(buf, '=');
    char *colon = strchr(buf, ':');
    if (eq == NULL || colon == NULL || colon > eq)
        return -1;
    *eq = '\0';
    *colon = '\0';
    if (strcmp(buf, "tcp") == 0)
        fw->proto = 6;
    else if (strcmp(buf, "udp") == 0)
        fw->proto = 17;
    else
        return -1;
    char *ext = colon + 1;
    char *port = strrchr(ext, ':');
    if (port != NULL) { /* an explicit external address */
        *port++ = '\0';
        if (parse_addr(ext, &fw->ext_addr) < 0)
            return -1;
    } else {
        port = ext;
    }
    char *dash = strchr(port, '-');
    if (dash != NULL) {
        *dash = '\0';
        if (parse_u32(dash + 1, 1, 65535, &v) < 0)
            return -1;
        fw->ext_port_last = (uint16_t)v;
    }
    if (parse_u32(port, 1, 65535, &v) < 0)
        return -1;
    fw->ext_port = (uint16_t)v;
    if (fw->ext_port_last != 0 && fw->ext_port_last < fw->ext_port)
        return -1;
    if (fw->ext_port_last == fw->ext_port)
        fw->ext_port_last = 0;
    if (parse_endpoint(eq + 1, &fw->in_addr, &fw->in_port) < 0)
        return -1;
    if (fw->ext_port_last != 0 &&
        (uint32_t)fw->in_port + (fw->ext_port_last - fw->ext_port) > 65535)
        return -1;
    return 0;
}

static int
parse_o2o(const char *s, uint32_t *in, uint32_t *ext)
{
    char buf[64];
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    char *eq = strchr(buf, '=');
    if (eq == NULL)
        return -1;
    *eq = '\0';
    return parse_addr(buf, in) < 0 || parse_addr(eq + 1, ext) < 0 ? -1 : 0;
}

static int
parse_behaviour(const char *s, const char *const names[3])
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int
opts_common(struct opts *o, int c, const char *arg)
{
    static const char *const maps[3] = {"eim", "adm", "apdm"};
    static const char *const filts[3] = {"eif", "adf", "apdf"};
    uint32_t v;

    switch (c) {
    case OPT_PUBLIC:
        return each_item(o, arg, "public address", add_public), 1;
    case OPT_INSIDE:
        return each_item(o, arg, "inside prefix", add_inside), 1;
    case OPT_EXCLUDE:
        return each_item(o, arg, "excluded prefix", add_exclude), 1;
    case OPT_FORWARD:
        if (o->nfwd == OPT_MAX_RULES)
            usage_error(o, "too many forwards (at most %d)", OPT_MAX_RULES);
        if (parse_forward(arg, &o->fwd[o->nfwd]) < 0)
            usage_error(o,
                        "bad forward '%s' (want PROTO:[EXTADDR:]PORT[-LAST]"
                        "=ADDR:PORT)",
                        arg);
        o->nfwd++;
        return 1;
    case OPT_ONE_TO_ONE:
        if (o->no2o == OPT_MAX_RULES)
            usage_error(o, "too many 1:1 mappings (at most %d)", OPT_MAX_RULES);
        if (parse_o2o(arg, &o->o2o_in[o->no2o], &o->o2o_ext[o->no2o]) < 0)
            usage_error(o, "bad 1:1 mapping '%s' (want IN=EXT)", arg);
        o->no2o++;
        return 1;
    case OPT_MAPPING:
        if ((o->mapping = parse_behaviour(arg, maps)) < 0)
            usage_error(o, "bad mapping '%s' (want eim, adm or apdm)", arg);
        return 1;
    case OPT_FILTERING:
        if ((o->filtering = parse_behaviour(arg, filts)) < 0)
            usage_error(o, "bad filtering '%s' (want eif, adf or apdf)", arg);
        return 1;
    case OPT_CAPACITY:
        if (parse_u32(arg, 1, 1u << 24, &v) < 0)
            usage_error(o, "bad capacity '%s' (1 to 16777216)", arg);
        o->capacity = v;
        return 1;
    case OPT_HOST_SESSIONS:
        if (parse_u32(arg, 0, 1u << 24, &v) < 0)
            usage_error(o, "bad --host-sessions '%s' (0 to 16777216)", arg);
        o->host_sessions = v;
        return 1;
    case OPT_NO_ICMP:
        o->no_icmp = 1;
        return 1;
    case OPT_ICMP_SOURCE:
        if (parse_addr(arg, &o->icmp_src) < 0)
            usage_error(o, "bad --icmp-source '%s'", arg);
        return 1;
    case OPT_SEED: {
        char *end;
        errno = 0;
        if (*arg < '0' || *arg > '9')
            usage_error(o, "bad seed '%s'", arg);
        o->seed = strtoull(arg, &end, 0);
        if (errno != 0 || *end != '\0')
            usage_error(o, "bad seed '%s'", arg);
        o->seed_set = 1;
        return 1;
    }
    case 'v':
        o->verbose++;
        return 1;
    default:
        return 0;
    }
}

void
opts_parse(struct opts *o, int argc, char **argv, const char *shortopts,
           const struct option *longopts,
           void (*handle)(void *ctx, int c, const char *arg), void *ctx,
           void (*usage)(FILE *f, const char *prog))
{
    static const struct option common[] = {
        {"public", required_argument, NULL, OPT_PUBLIC},
        {"inside", required_argument, NULL, OPT_INSIDE},
        {"forward", required_argument, NULL, OPT_FORWARD},
        {"one-to-one", required_argument, NULL, OPT_ONE_TO_ONE},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"mapping", required_argument, NULL, OPT_MAPPING},
        {"filtering", required_argument, NULL, OPT_FILTERING},
        {"capacity", required_argument, NULL, OPT_CAPACITY},
        {"host-sessions", required_argument, NULL, OPT_HOST_SESSIONS},
        {"no-icmp", no_argument, NULL, OPT_NO_ICMP},
        {"icmp-source", required_argument, NULL, OPT_ICMP_SOURCE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
    };
    enum { NCOMMON = sizeof(common) / sizeof(common[0]) };
    struct option all[NCOMMON + 32];
    char shorts[64];
    size_t n = 0;

    /* One table: the shared options, then the program's. */
    memcpy(all, common, sizeof(common));
    while (longopts[n].name != NULL && n + 1 < 32) {
        all[NCOMMON + n] = longopts[n];
        n++;
    }
    memset(&all[NCOMMON + n], 0, sizeof(all[0]));
    /* ':' first: a missing value is reported as such, not as unknown. */
    snprintf(shorts, sizeof(shorts), ":vh%s", shortopts);

    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
        if (opts_common(o, c, optarg))
            continue;
        switch (c) {
        case 'h':
            usage(stdout, o->prog);
            exit(0);
        case ':':
            usage_error(o, "option %s needs a value", argv[optind - 1]);
        case '?':
            usage_error(o, "unknown option %s", argv[optind - 1]);
        default:
            handle(ctx, c, optarg);
        }
    }
    if (optind < argc)
        usage_error(o, "unexpected argument '%s'", argv[optind]);
}

uint32_t
opts_status_secs(const struct opts *o, const char *arg)
{
    uint32_t v;
    if (parse_u32(arg, 0, 86400, &v) < 0)
        usage_error(o, "bad --status '%s'", arg);
    return v;
}

void
opts_require(const struct opts *o)
{
    if (o->npub == 0)
        usage_error(o, "--public is required");
    if (o->ninside == 0)
        usage_error(o, "--inside is required");
}

/* ---- signals and bytes -----------------------------------------------------
 */

volatile sig_atomic_t stop_flag, dump_flag;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1)
        dump_flag = 1;
    else
        stop_flag = 1;
}

void
install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* ---- the instance -----------------------------------------------------------
 */

int
opts_is_inside(const struct opts *o, uint32_t addr)
{
    for (int i = 0; i < o->ninside; i++) {
        uint32_t m = o->inside[i].len ? ~0u << (32 - o->inside[i].len) : 0;
        if ((addr & m) == o->inside[i].addr)
            return 1;
    }
    return 0;
}

int
opts_is_public(const struct opts *o, uint32_t addr)
{
    for (int i = 0; i < o->npub; i++)
        if (o->pub[i] == addr)
            return 1;
    for (int i = 0; i < o->no2o; i++)
        if (o->o2o_ext[i] == addr)
            return 1;
    return 0;
}

/* splitmix64: a fixed, well-mixed expansion of the seed into the secret. */
static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void
fill_secret(const struct opts *o, uint8_t secret[16], int random_secret)
{
    if (random_secret && !o->seed_set) {
        size_t got = 0;
        while (got < 16) {
            ssize_t r = getrandom(secret + got, 16 - got, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                fatal(o, "getrandom: %s", strerror(errno));
            got += (size_t)r;
        }
        return;
    }
    uint64_t x = o->seed;
    for (int i = 0; i < 16; i += 8) {
        uint64_t v = splitmix64(&x);
        for (int j = 0; j < 8; j++)
            secret[i + j] = (uint8_t)(v >> (8 * j));
    }
}

static void
check(const struct opts *o, int rc, const char *what, const char *arg)
{
    if (rc < 0)
        usage_error(o, "%s %s: %s", what, arg, nat_strerror(rc));
}

void
opts_config(const struct opts *o, struct nat_config *cfg, int random_secret)
{
    nat_config_init(cfg);
    if (o->capacity)
        cfg->max_sessions = o->capacity;
    cfg->host_max_sessions = o->host_sessions;
    if ((uint32_t)(o->npub + o->no2o) > cfg->max_pool)
        cfg->max_pool = (uint32_t)(o->npub + o->no2o);
    cfg->max_prefixes = (uint32_t)(o->ninside + o->nexclude + 1);
    for (int p = 0; p < NAT_P_MAX; p++) {
        if (o->mapping >= 0)
            cfg->mapping[p] = (uint8_t)o->mapping;
        if (o->filtering >= 0)
            cfg->filtering[p] = (uint8_t)o->filtering;
    }
    fill_secret(o, cfg->secret, random_secret);
}

struct nat *
nat_from_config(const struct opts *o, const struct nat_config *cfg)
{
    struct nat *nat;
    const char *field = NULL;
    char buf[64];

    int rc = nat_config_check(cfg, &field);
    if (rc < 0)
        usage_error(o, "configuration field %s: %s", field ? field : "?",
                    nat_strerror(rc));
    rc = nat_create(cfg, &nat);
    if (rc < 0)
        fatal(o, "nat_create: %s", nat_strerror(rc));

    for (int i = 0; i < o->npub; i++)
        check(o, nat_pool_add(nat, o->pub[i]), "public address",
              addr_str(o->pub[i]));
    for (int i = 0; i < o->ninside; i++) {
        snprintf(buf, sizeof(buf), "%s/%u", addr_str(o->inside[i].addr),
                 o->inside[i].len);
        check(o, nat_inside_add(nat, o->inside[i].addr, o->inside[i].len),
              "inside prefix", buf);
    }
    for (int i = 0; i < o->nexclude; i++) {
        snprintf(buf, sizeof(buf), "%s/%u", addr_str(o->exclude[i].addr),
                 o->exclude[i].len);
        check(o, nat_exclude_add(nat, o->exclude[i].addr, o->exclude[i].len),
              "excluded prefix", buf);
    }
    for (int i = 0; i < o->no2o; i++)
        check(o, nat_one_to_one_add(nat, o->o2o_in[i], o->o2o_ext[i]),
              "1:1 mapping for", addr_str(o->o2o_in[i]));
    for (int i = 0; i < o->nfwd; i++) {
        struct nat_forward fw = opts_forward(o, i);
        snprintf(buf, sizeof(buf), "%s port %u", addr_str(fw.ext_addr),
                 fw.ext_port);
        check(o, nat_forward_add(nat, &fw), "forward of", buf);
    }
    return nat;
}

struct nat *
nat_from_opts(const struct opts *o, int random_secret)
{
    struct nat_config cfg;
    opts_config(o, &cfg, random_secret);
    return nat_from_config(o, &cfg);
}

struct nat_forward
opts_forward(const struct opts *o, int i)
{
    struct nat_forward fw = o->fwd[i];
    if (fw.ext_addr == 0)
        fw.ext_addr = o->pub[0];
    if (fw.ext_port_last == 0)
        fw.ext_port_last = fw.ext_port;
    return fw;
}

uint32_t
opts_icmp_source(const struct opts *o)
{
    if (o->icmp_src != 0 || o->ninside == 0)
        return o->icmp_src;
    /* A /31 or /32 has no network address to skip. */
    return o->inside[0].addr + (o->inside[0].len < 31 ? 1u : 0u);
}

size_t
icmp_for_drop(const struct opts *o, struct nat *nat, struct nat_result res,
              const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
              uint64_t now_ms)
{
    uint8_t type, code;
    if (o->no_icmp || res.verdict != NAT_DROP ||
        !nat_icmp_for_reason(res.reason, &type, &code))
        return 0;
    int n = nat_icmp_error(nat, pkt, len, type, code, opts_icmp_source(o), 0,
                           out, cap, now_ms);
    return n > 0 ? (size_t)n : 0;
}

uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- printing ---------------------------------------------------------------
 */

const char *
addr_str(uint32_t a)
{
    /* Per thread, so that threads may print at the same time. */
    static _Thread_local char bufs[8][16];
    static _Thread_local unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
             a & 255);
    return b;
}

/* A bounded string builder: appends never overflow, output is truncated. */
struct sbuf {
    char *p;
    size_t cap, len;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
    if (b->len + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

/* The fields of an IPv4 packet that the printer needs. */
struct view {
    int ok; /* 20-byte header present and version 4 */
    uint32_t src, dst;
    uint8_t proto, ihl;
    size_t tot;    /* bytes of the datagram present: min(total, len) */
    uint16_t frag; /* offset in 8-byte units */
    int mf;
    const uint8_t *l4;
    size_t l4len;
};

static void
view_parse(struct view *v, const uint8_t *ip, size_t len)
{
    memset(v, 0, sizeof(*v));
    if (len < 20 || ip[0] >> 4 != 4)
        return;
    v->ihl = (uint8_t)((ip[0] & 15) * 4);
    v->tot = rd16(ip + 2);
    if (v->tot > len)
        v->tot = len;
    if (v->ihl < 20 || v->ihl > v->tot)
        return;
    v->ok = 1;
    v->src = rd32(ip + 12);
    v->dst = rd32(ip + 16);
    v->proto = ip[9];
    v->frag = rd16(ip + 6) & 0x1fff;
    v->mf = (ip[6] & 0x20) != 0;
    v->l4 = ip + v->ihl;
    v->l4len = v->tot - v->ihl;
}

static const char *
proto_name(uint8_t p)
{
    switch (p) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    default:
        return NULL;
    }
}

/* "a.p > b.q" (ports only for unfragmented or first-fragment TCP/UDP). */
static void
endpoints(struct sbuf *b, const struct view *v)
{
    if ((v->proto == 6 || v->proto == 17) && v->frag == 0 && v->l4len >= 4)
        sb_add(b, "%s.%u > %s.%u", addr_str(v->src), rd16(v->l4),
               addr_str(v->dst), rd16(v->l4 + 2));
    else
        sb_add(b, "%s > %s", addr_str(v->src), addr_str(v->dst));
}

static void
tcp_flags(struct sbuf *b, uint8_t fl)
{
    static const char names[] = "FSRP"; /* FIN SYN RST PSH, as tcpdump */
    sb_add(b, "Flags [");
    for (int i = 0; i < 4; i++)
        if (fl & (1u << i))
            sb_add(b, "%c", names[i]);
    if (fl & 0x20)
        sb_add(b, "U");
    if (fl & 0x10)
        sb_add(b, ".");
    sb_add(b, "]");
}

static int
icmp_is_error(uint8_t type)
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static void
icmp_text(struct sbuf *b, const struct view *v, int quote)
{
    uint8_t type = v->l4[0], code = v->l4[1];
    switch (type) {
    case 0:
    case 8:
        sb_add(b, "ICMP echo %s, id %u, seq %u", type ? "request" : "reply",
               rd16(v->l4 + 4), rd16(v->l4 + 6));
        break;
    case 3: {
        static const char *const codes[] = {"net", "host", "protocol", "port",
                                            "need to frag"};
        if (code < 5)
            sb_add(b, "ICMP %s unreachable", codes[code]);
        else
            sb_add(b, "ICMP unreachable code %u", code);
        break;
    }
    case 11:
        sb_add(b, "ICMP time exceeded %s",
               code ? "in-reassembly" : "in-transit");
        break;
    default:
        sb_add(b, "ICMP type %u code %u", type, code);
        break;
    }
    if (quote && icmp_is_error(type) && v->l4len > 8) {
        struct view in;
        view_parse(&in, v->l4 + 8, v->l4len - 8);
        if (in.ok) {
            sb_add(b, " (quoting %s ",
                   proto_name(in.proto) ? proto_name(in.proto) : "proto");
            endpoints(b, &in);
            sb_add(b, ")");
        } else {
            sb_add(b, " (quoting a malformed header)");
        }
    }
}

/* Start describing @ip into @b (@out of @cap bytes, emptied) and parse it
 * into @v. Returns 1 when there is more to say: the buffer has room and
 * the header parsed. */
static int
describe_start(struct sbuf *b, char *out, size_t cap, struct view *v,
               const uint8_t *ip, size_t len)
{
    *b = (struct sbuf){out, cap, 0};
    if (cap == 0)
        return 0;
    out[0] = '\0';
    view_parse(v, ip, len);
    return v->ok;
}

void
pkt_describe(char *out, size_t cap, const uint8_t *ip, size_t len)
{
    struct sbuf b;
    struct view v;
    if (!describe_start(&b, out, cap, &v, ip, len)) {
        sb_add(&b, "IP? malformed, %zu bytes", len);
        return;
    }
    sb_add(&b, "IP ");
    endpoints(&b, &v);
    sb_add(&b, ": ");
    if (v.frag != 0 || v.mf) {
        const char *n = proto_name(v.proto);
        sb_add(&b, "%s fragment offset %u%s, length %zu", n ? n : "IP",
               v.frag * 8u, v.mf ? "+" : "", v.l4len);
        return;
    }
    switch (v.proto) {
    case 6:
        if (v.l4len < 20) {
            sb_add(&b, "TCP truncated, length %zu", v.l4len);
            break;
        }
        tcp_flags(&b, v.l4[13]);
        size_t doff = (size_t)(v.l4[12] >> 4) * 4;
        sb_add(&b, ", length %zu", doff <= v.l4len ? v.l4len - doff : 0);
        break;
    case 17:
        sb_add(&b, "UDP, length %zu", v.l4len >= 8 ? v.l4len - 8 : 0);
        break;
    case 1:
        if (v.l4len < 8) {
            sb_add(&b, "ICMP truncated, length %zu", v.l4len);
            break;
        }
        icmp_text(&b, &v, 1);
        sb_add(&b, ", length %zu", v.l4len - 8);
        break;
    default:
        sb_add(&b, "ip-proto-%u, length %zu", v.proto, v.l4len);
        break;
    }
}

void
pkt_endpoints(char *out, size_t cap, const uint8_t *ip, size_t len)
{
    struct sbuf b;
    struct view v;
    if (!describe_start(&b, out, cap, &v, ip, len)) {
        sb_add(&b, "?");
        return;
    }
    endpoints(&b, &v);
    if (v.proto == 1 && v.frag == 0 && v.l4len >= 8) {
        if (v.l4[0] == 0 || v.l4[0] == 8) {
            sb_add(&b, " id %u", rd16(v.l4 + 4));
        } else if (icmp_is_error(v.l4[0]) && v.l4len > 8) {
            struct view in;
            view_parse(&in, v.l4 + 8, v.l4len - 8);
            if (in.ok) {
                sb_add(&b, " (quoting ");
                endpoints(&b, &in);
                sb_add(&b, ")");
            }
        }
    }
}

void
print_packet_line(FILE *f, const char *tag, enum nat_dir dir,
                  const uint8_t *before, size_t blen, const uint8_t *after,
                  size_t alen, struct nat_result res)
{
    char a[256], b[200];
    pkt_describe(a, sizeof(a), before, blen);
    fprintf(f, "%s %-3s %s => ", tag, dir == NAT_DIR_OUT ? "out" : "in", a);
    switch (res.verdict) {
    case NAT_DROP:
        fprintf(f, "drop (%s)\n", nat_reason_str(res.reason));
        break;
    case NAT_HELD:
    case NAT_PASS:
        fprintf(f, "%s\n", nat_verdict_str(res.verdict));
        break;
    default:
        pkt_endpoints(b, sizeof(b), after, alen);
        fprintf(f, "%s [%s]\n", b, nat_verdict_str(res.verdict));
        break;
    }
}

void
print_summary(FILE *f, const struct nat *nat)
{
    struct nat_stats st;
    nat_stats_get(nat, &st);
    print_summary_stats(f, &st);
}

void
print_summary_stats(FILE *f, const struct nat_stats *s)
{
    uint64_t total = 0;
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        total += s->verdicts[v];
    fprintf(f, "packets:  %llu given to libnat\n", (unsigned long long)total);
    fprintf(f, "verdicts:");
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        fprintf(f, " %s %llu%s", nat_verdict_str((enum nat_verdict)v),
                (unsigned long long)s->verdicts[v],
                v + 1 < NAT_VERDICT_MAX ? "," : "\n");
    if (s->verdicts[NAT_DROP] != 0) {
        fprintf(f, "drops by reason:\n");
        for (int r = 1; r < NAT_R_MAX; r++)
            if (s->drops[r] != 0)
                fprintf(f, "  %-22s %llu\n", nat_reason_str((enum nat_reason)r),
                        (unsigned long long)s->drops[r]);
    }
    fprintf(f,
            "sessions: %llu created, %llu ended (expired or flushed), "
            "%u live, peak %u\n",
            (unsigned long long)s->sessions_created,
            (unsigned long long)s->sessions_ended, s->sessions,
            s->sessions_peak);
    fprintf(f, "bindings: %llu created, %llu ended, %u live\n",
            (unsigned long long)s->bindings_created,
            (unsigned long long)s->bindings_ended, s->bindings);
}

void
stats_add(struct nat_stats *sum, const struct nat_stats *s)
{
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        sum->verdicts[v] += s->verdicts[v];
    for (int r = 0; r < NAT_R_MAX; r++)
        sum->drops[r] += s->drops[r];
    sum->sessions_created += s->sessions_created;
    sum->sessions_ended += s->sessions_ended;
    sum->bindings_created += s->bindings_created;
    sum->bindings_ended += s->bindings_ended;
    sum->sessions += s->sessions;
    sum->bindings += s->bindings;
    sum->hosts += s->hosts;
    sum->sessions_peak += s->sessions_peak;
    sum->ports_held += s->ports_held;
    sum->frags_tracked += s->frags_tracked;
    sum->frags_held += s->frags_held;
    sum->icmp_sent += s->icmp_sent;
    sum->icmp_limited += s->icmp_limited;
}

static const char *
tcp_state_name(uint8_t s)
{
    static const char *const n[] = {"NONE",        "SYN_SENT", "SYN_RECV",
                                    "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
                                    "TIME_WAIT",   "CLOSE"};
    return s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

void
print_sessions(FILE *f, struct nat *nat, uint64_t now_ms)
{
    struct nat_session s;
    uint64_t cursor = 0;
    size_t n = 0;
    while (nat_session_next(nat, &cursor, &s) == 1) {
        uint64_t left =
            s.expires_ms > now_ms ? (s.expires_ms - now_ms) / 1000u : 0;
        const char *pn = s.proto == 6    ? "tcp"
                         : s.proto == 17 ? "udp"
                         : s.proto == 1  ? "icmp"
                                         : "?";
        fprintf(f, "%-4s %-2u %llu ", pn, s.proto, (unsigned long long)left);
        if (s.proto == 6)
            fprintf(f, "%s ", tcp_state_name(s.tcp_state));
        if (s.proto == 1)
            fprintf(f,
                    "src=%s dst=%s type=8 code=0 id=%u "
                    "src=%s dst=%s type=0 code=0 id=%u\n",
                    addr_str(s.in_addr), addr_str(s.rem_addr), s.in_port,
                    addr_str(s.rem_addr), addr_str(s.ext_addr), s.ext_port);
        else
            fprintf(f,
                    "src=%s dst=%s sport=%u dport=%u "
                    "src=%s dst=%s sport=%u dport=%u\n",
                    addr_str(s.in_addr), addr_str(s.rem_addr), s.in_port,
                    s.rem_port, addr_str(s.rem_addr), addr_str(s.ext_addr),
                    s.rem_port, s.ext_port);
        n++;
    }
    fprintf(f, "%zu session%s\n", n, n == 1 ? "" : "s");
}

void
print_status(FILE *f, const struct opts *o, const struct nat *nat)
{
    struct nat_stats st;
    nat_stats_get(nat, &st);
    print_status_stats(f, o, &st);
}

void
print_status_stats(FILE *f, const struct opts *o, const struct nat_stats *s)
{
    unsigned long long total = 0;
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        total += s->verdicts[v];
    fprintf(f,
            "%s: sessions %u (peak %u), packets %llu (out %llu, in %llu, "
            "hairpin %llu, pass %llu), drops %llu\n",
            o->prog, s->sessions, s->sessions_peak, total,
            (unsigned long long)s->verdicts[NAT_OUT],
            (unsigned long long)s->verdicts[NAT_IN],
            (unsigned long long)s->verdicts[NAT_HAIRPIN],
            (unsigned long long)s->verdicts[NAT_PASS],
            (unsigned long long)s->verdicts[NAT_DROP]);
    fflush(f);
}
