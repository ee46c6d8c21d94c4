/*
 * nat-tun: a user-space NAT router on one Linux TUN device.
 *
 *   nat-tun --tun nat0 --public 203.0.113.10 --inside 10.0.0.0/24 [...]
 *
 * The kernel routes traffic from the inside network, and traffic for the
 * public addresses, into the TUN device (IFF_TUN | IFF_NO_PI: each read is
 * one IPv4 packet). nat-tun translates each packet with libnat and writes
 * it back; the kernel routes the result on. See nat-tun(8) for the `ip`
 * commands that set this up.
 *
 * Packets are read in bursts and translated with nat_translate_burst().
 * The clock is CLOCK_MONOTONIC; nat_expire() runs when the device is idle.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define BURST   32
#define PKT_MAX 65536

static volatile sig_atomic_t stop_flag, dump_flag;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1)
        dump_flag = 1;
    else
        stop_flag = 1;
}

static void
usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s --tun NAME --public ADDR[,...] --inside PREFIX[,...] "
            "[options]\n"
            "\n"
            "User-space NAT router on a TUN device: the kernel routes inside "
            "traffic and\ntraffic for the public addresses into NAME; each "
            "packet is translated and\nwritten back. SIGUSR1 prints the "
            "session table; SIGINT or SIGTERM stop.\n"
            "  --tun NAME       TUN device to use (created if it does not "
            "exist)\n"
            "  --status SECS    status line every SECS seconds (default 10, "
            "0: off)\n"
            "\n%s",
            prog, common_options_help);
}

/* Attach to (or create) TUN device @name and bring it up. */
static int
tun_open(const struct opts *o, const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        fatal(o, "/dev/net/tun: %s", strerror(errno));
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI; /* bare IPv4 packets */
    if (strlen(name) >= sizeof(ifr.ifr_name))
        usage_error(o, "TUN name '%s' is too long", name);
    strcpy(ifr.ifr_name, name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        fatal(o, "TUNSETIFF %s: %s", name, strerror(errno));
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
        fatal(o, "fcntl: %s", strerror(errno));

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fatal(o, "socket: %s", strerror(errno));
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        fatal(o, "SIOCGIFFLAGS %s: %s", name, strerror(errno));
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            fatal(o, "bringing %s up: %s", name, strerror(errno));
    }
    close(s);
    return fd;
}

struct counters {
    uint64_t rx, tx, tx_err;
};

/* Read up to BURST packets, translate them as one burst, write back the
 * ones that go on. Returns the number read (0: nothing was waiting). */
static size_t
do_burst(const struct opts *o, struct nat *nat, int fd, struct counters *c)
{
    static uint8_t bufs[BURST][PKT_MAX];
    static uint8_t before[PKT_MAX];
    struct nat_pkt_io io[BURST];
    size_t n = 0;

    while (n < BURST) {
        ssize_t r = read(fd, bufs[n], PKT_MAX);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            fatal(o, "read: %s", strerror(errno));
        }
        if (r == 0)
            break;
        io[n].buf = bufs[n];
        io[n].len = (size_t)r;
        io[n].cap = PKT_MAX;
        /* One device carries both directions: the source decides. A
         * packet from an inside address goes out; anything else (replies
         * to the public addresses) comes in. */
        uint32_t src = r >= 20 ? (uint32_t)bufs[n][12] << 24 |
                                     (uint32_t)bufs[n][13] << 16 |
                                     (uint32_t)bufs[n][14] << 8 | bufs[n][15]
                               : 0;
        io[n].dir = opts_is_inside(o, src) ? NAT_DIR_OUT : NAT_DIR_IN;
        n++;
    }
    if (n == 0)
        return 0;
    c->rx += n;

    if (o->verbose) {
        /* Translate one at a time to print each packet before and after. */
        for (size_t i = 0; i < n; i++) {
            size_t blen = io[i].len;
            memcpy(before, io[i].buf, blen);
            io[i].res = nat_translate(nat, io[i].dir, io[i].buf, &io[i].len,
                                      io[i].cap, mono_ms());
            print_packet_line(stdout, "tun", io[i].dir, before, blen, io[i].buf,
                              io[i].len, io[i].res);
        }
        fflush(stdout);
    } else {
        nat_translate_burst(nat, io, n, mono_ms());
    }

    for (size_t i = 0; i < n; i++) {
        switch (io[i].res.verdict) {
        case NAT_OUT:
        case NAT_IN:
        case NAT_HAIRPIN:
        case NAT_PASS: /* not ours to translate: the kernel routes it */
            if (write(fd, io[i].buf, io[i].len) == (ssize_t)io[i].len)
                c->tx++;
            else
                c->tx_err++;
            break;
        default: /* dropped (counted by libnat) or held */
            break;
        }
    }
    /* Fragments held until their first fragment came are ready now. */
    size_t flen;
    struct nat_result fres;
    while (nat_frag_collect(nat, bufs[0], PKT_MAX, &flen, &fres) == 1) {
        if (write(fd, bufs[0], flen) == (ssize_t)flen)
            c->tx++;
        else
            c->tx_err++;
    }
    return n;
}

enum { OPT_TUN = 1, OPT_STATUS };

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        COMMON_LONG_OPTIONS,
        {"tun", required_argument, NULL, OPT_TUN},
        {"status", required_argument, NULL, OPT_STATUS},
        {NULL, 0, NULL, 0},
    };
    struct opts o;
    const char *tun = NULL;
    uint32_t status_secs = 10;
    struct counters cnt = {0, 0, 0};
    int c;

    opts_init(&o, argv[0]);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        if (opts_common(&o, c, optarg))
            continue;
        switch (c) {
        case 'h':
            usage(stdout, o.prog);
            return 0;
        case OPT_TUN:
            tun = optarg;
            break;
        case OPT_STATUS:
            if (parse_u32(optarg, 0, 86400, &status_secs) < 0)
                usage_error(&o, "bad --status '%s'", optarg);
            break;
        case ':':
            usage_error(&o, "option %s needs a value", argv[optind - 1]);
        default:
            usage_error(&o, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error(&o, "unexpected argument '%s'", argv[optind]);
    if (tun == NULL)
        usage_error(&o, "--tun is required");
    opts_require(&o);

    struct nat *nat = nat_from_opts(&o, 1);
    int fd = tun_open(&o, tun);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fprintf(stderr, "%s: translating on %s, public %s (pid %ld)\n", o.prog, tun,
            addr_str(o.pub[0]), (long)getpid());
    uint64_t next_status = mono_ms() + status_secs * 1000u;
    while (!stop_flag) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, 500);
        if (r < 0 && errno != EINTR)
            fatal(&o, "poll: %s", strerror(errno));
        uint64_t now = mono_ms();
        if (r > 0) {
            /* Drain what is waiting, a burst at a time, but come back to
             * signals and timers now and then. */
            for (int i = 0; i < 64 && !stop_flag; i++)
                if (do_burst(&o, nat, fd, &cnt) < BURST)
                    break;
        } else if (r == 0) {
            nat_expire(nat, now, 4096); /* idle: catch up on expiry */
        }
        if (dump_flag) {
            dump_flag = 0;
            print_sessions(stdout, nat, now);
            fflush(stdout);
        }
        if (status_secs && now >= next_status) {
            print_status(stdout, &o, nat);
            next_status = now + status_secs * 1000u;
        }
    }

    printf("%s: %llu packets read from %s, %llu written, %llu write "
           "errors\n",
           o.prog, (unsigned long long)cnt.rx, tun, (unsigned long long)cnt.tx,
           (unsigned long long)cnt.tx_err);
    print_summary(stdout, nat);
    nat_destroy(nat);
    close(fd);
    return 0;
}
