/*
 * Shared helpers for the example programs (nat-pcap, nat-tun, nat-raw):
 * option parsing, address and prefix parsing, building a libnat instance
 * from the options, tcpdump-style packet lines and the end-of-run summary.
 *
 * Only the public API (<libnat.h>) is used, exactly as an application that
 * embeds libnat would use it.
 */
#ifndef NAT_EXAMPLES_COMMON_H
#define NAT_EXAMPLES_COMMON_H

#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libnat.h>

#define OPT_MAX_ADDRS 16
#define OPT_MAX_RULES 64

struct prefix {
    uint32_t addr; /* host order, host bits cleared */
    uint8_t len;
};

/* Everything the three programs share, as given on the command line. */
struct opts {
    const char *prog;
    uint32_t pub[OPT_MAX_ADDRS];
    int npub;
    struct prefix inside[OPT_MAX_ADDRS];
    int ninside;
    struct prefix exclude[OPT_MAX_ADDRS];
    int nexclude;
    struct nat_forward fwd[OPT_MAX_RULES];
    int nfwd;
    uint32_t o2o_in[OPT_MAX_RULES], o2o_ext[OPT_MAX_RULES];
    int no2o;
    int mapping;   /* enum nat_mapping, or -1 for the library default */
    int filtering; /* enum nat_filtering, or -1 */
    uint32_t capacity;
    uint32_t host_sessions; /* per inside host, 0: unlimited */
    int no_icmp;            /* --no-icmp: send no ICMP errors for drops */
    uint32_t icmp_src;      /* --icmp-source, 0 if not given */
    int seed_set;
    uint64_t seed;
    int verbose;
};

/* Long option values of the shared options (program options use < 256). */
enum {
    OPT_PUBLIC = 1000,
    OPT_INSIDE,
    OPT_FORWARD,
    OPT_ONE_TO_ONE,
    OPT_EXCLUDE,
    OPT_MAPPING,
    OPT_FILTERING,
    OPT_CAPACITY,
    OPT_SEED,
    OPT_HOST_SESSIONS,
    OPT_NO_ICMP,
    OPT_ICMP_SOURCE,
};

/* Help text for the shared options, printed by each program's --help. */
extern const char common_options_help[];

/* Fill @o with "nothing given" for program @prog. */
void opts_init(struct opts *o, const char *prog);

/* Handle shared option @c with argument @arg. Returns 1 if it was one of
 * ours, 0 if not. Bad values end the program with status 2. */
int opts_common(struct opts *o, int c, const char *arg);

/*
 * Parse the command line: the shared options and -v/-h, plus the
 * program's own @shortopts and @longopts (ended by a zero entry; values
 * below 256), each handed to @handle(@ctx, c, optarg). -h prints @usage to
 * stdout and exits 0; an unknown option, a missing value or an operand is
 * a usage error (status 2).
 */
void opts_parse(struct opts *o, int argc, char **argv, const char *shortopts,
                const struct option *longopts,
                void (*handle)(void *ctx, int c, const char *arg), void *ctx,
                void (*usage)(FILE *f, const char *prog));

/* --status SECS: 0 (off) to a day; a usage error otherwise. */
uint32_t opts_status_secs(const struct opts *o, const char *arg);

/* Check that the options a NAT needs are there (status 2 if not). */
void opts_require(const struct opts *o);

/* Print "prog: message" to stderr and exit with status 2 (usage error). */
void usage_error(const struct opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Print "prog: message" to stderr and exit with status 1 (runtime error). */
void fatal(const struct opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Set by the handlers that install_signals() installs: SIGINT or SIGTERM
 * (stop), SIGUSR1 (print the session table). */
extern volatile sig_atomic_t stop_flag, dump_flag;

/* Catch SIGINT, SIGTERM and SIGUSR1 into the flags above. */
void install_signals(void);

/* Big-endian loads from packet bytes. */
uint16_t rd16(const uint8_t *p);
uint32_t rd32(const uint8_t *p);

/* Parsing. Each returns 0, or -1 when @s is not valid. */
int parse_addr(const char *s, uint32_t *addr);
int parse_prefix(const char *s, struct prefix *p);
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Dotted-quad text for a host-order address (rotating per-thread buffers). */
const char *addr_str(uint32_t addr);

/* Does @addr fall in one of the inside prefixes? */
int opts_is_inside(const struct opts *o, uint32_t addr);

/* Is @addr one of the public addresses (or a 1:1 external address)? */
int opts_is_public(const struct opts *o, uint32_t addr);

/*
 * Create the libnat instance the options describe. @random_secret: fill
 * the hash/port secret from getrandom(2) unless --seed was given (daemons);
 * otherwise derive it from the seed (default 0), so runs are reproducible.
 * Exits with a message on failure.
 */
struct nat *nat_from_opts(const struct opts *o, int random_secret);

/*
 * nat_from_opts() in two steps, for programs that change the configuration
 * or create several instances from one command line (nat-tun --workers):
 * opts_config() fills @cfg as the options say; nat_from_config() creates an
 * instance from @cfg and adds every rule of the options to it.
 */
void opts_config(const struct opts *o, struct nat_config *cfg,
                 int random_secret);
struct nat *nat_from_config(const struct opts *o, const struct nat_config *cfg);

/* Forward @i of the options as added to libnat: the external address filled
 * in (the first public address by default), ext_port_last set. */
struct nat_forward opts_forward(const struct opts *o, int i);

/*
 * The ICMP error (RFC 5508 REQ-8, RFC 6888 REQ-11b) for the outbound packet
 * @pkt (@len bytes, as received: libnat leaves a dropped packet as it
 * was) that libnat dropped with @res, from the router's inside address
 * (opts_icmp_source()), written into @out of @cap bytes by
 * nat_icmp_error(), which rate-limits it. Returns its length, or 0 when no
 * error is due: not a drop, a drop that deserves none, --no-icmp, the rate
 * limit, or a packet no error may be sent about.
 */
size_t icmp_for_drop(const struct opts *o, struct nat *nat,
                     struct nat_result res, const uint8_t *pkt, size_t len,
                     uint8_t *out, size_t cap, uint64_t now_ms);

/* The source of the ICMP errors sent to inside hosts: --icmp-source, or by
 * default the first host address of the first inside prefix (10.0.0.1 for
 * 10.0.0.0/24). */
uint32_t opts_icmp_source(const struct opts *o);

/* Monotonic clock in milliseconds (for the daemons). */
uint64_t mono_ms(void);

/*
 * One tcpdump-style description of the IPv4 packet at @ip, @len bytes:
 * "IP 10.0.0.2.40000 > 198.51.100.53.53: UDP, length 12". Never reads past
 * @len; malformed packets are described as far as they parse.
 */
void pkt_describe(char *out, size_t cap, const uint8_t *ip, size_t len);

/* Only the endpoints: "10.0.0.2.40000 > 198.51.100.53.53". */
void pkt_endpoints(char *out, size_t cap, const uint8_t *ip, size_t len);

/*
 * The verbose per-packet line: @tag (a timestamp or interface), the packet
 * before translation, then the verdict and what it became:
 *   "0.000120 out IP 10.0.0.2.40000 > 1.2.3.4.53: UDP, length 12
 *      => 203.0.113.1.40000 > 1.2.3.4.53 [out]"   (on one line)
 */
void print_packet_line(FILE *f, const char *tag, enum nat_dir dir,
                       const uint8_t *before, size_t blen, const uint8_t *after,
                       size_t alen, struct nat_result res);

/* The counters of @nat: verdicts, drop reasons, sessions, peak. */
void print_summary(FILE *f, const struct nat *nat);
/* The same from counters already collected (or summed over instances). */
void print_summary_stats(FILE *f, const struct nat_stats *st);

/* Add the counters of @s to @sum (several instances' totals). */
void stats_add(struct nat_stats *sum, const struct nat_stats *s);

/* A conntrack-style table of the live sessions of @nat at @now_ms. */
void print_sessions(FILE *f, struct nat *nat, uint64_t now_ms);

/* One status line: sessions, packets, drops. */
void print_status(FILE *f, const struct opts *o, const struct nat *nat);
void print_status_stats(FILE *f, const struct opts *o,
                        const struct nat_stats *st);

#endif /* NAT_EXAMPLES_COMMON_H */
