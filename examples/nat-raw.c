/*
 * nat-raw: a NAT router over raw sockets, with the kernel doing the rest.
 *
 *   nat-raw --in-if lan0 --out-if wan0 --public 203.0.113.10 \
 *           --inside 10.0.0.0/24 [...]
 *
 * Receive: one packet socket (AF_PACKET, SOCK_DGRAM, ETH_P_IP) per
 * interface, so each packet arrives with the interface it came in on,
 * which is its direction. Only unicast frames addressed to this host are
 * taken (PACKET_HOST).
 *
 * Send: one raw IPv4 socket (IPPROTO_RAW, the header is ours): the kernel
 * picks the route and resolves the next hop with ARP.
 *
 * The kernel must therefore not forward or answer the same packets itself:
 * IPv4 forwarding off, and a filter rule that drops, before the kernel's IP
 * stack sees them, the packets addressed to the public addresses. Packet
 * sockets receive their copy before netfilter runs. See nat-raw(8).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define PKT_MAX   65536
#define LOCAL_MAX 64

struct app {
    struct opts o;
    struct nat *nat;
    const char *in_if, *out_if;
    int in_fd, out_fd, raw_fd;
    uint32_t local[LOCAL_MAX]; /* this host's own addresses */
    int nlocal;
    uint32_t status_secs;
    uint64_t rx, tx, tx_err, skipped_local, ttl_drops, csum_fixed;
};

static void
usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s --in-if IF --out-if IF --public ADDR[,...] --inside "
            "PREFIX[,...]\n"
            "       [options]\n"
            "\n"
            "NAT router over raw sockets: packet sockets receive on the "
            "inside and outside\ninterfaces, a raw IP socket sends and the "
            "kernel routes and resolves ARP.\nThe kernel must not forward "
            "(net.ipv4.ip_forward=0) and must drop traffic\nto the public "
            "addresses before its IP stack (see nat-raw(8)).\n"
            "  --in-if IF       inside interface\n"
            "  --out-if IF      outside interface\n"
            "  --status SECS    status line every SECS seconds (default 10, "
            "0: off)\n"
            "\n%s",
            prog, common_options_help);
}

/* A packet socket for IPv4 on @ifname, with auxiliary data so we can tell
 * packets whose checksum the sender left to hardware. */
static int
packet_socket(const struct opts *o, const char *ifname)
{
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    htons(ETH_P_IP));
    if (fd < 0)
        fatal(o, "packet socket: %s", strerror(errno));
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0)
        fatal(o, "%s: %s", ifname, strerror(errno));
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = (int)idx;
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        fatal(o, "bind %s: %s", ifname, strerror(errno));
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
        fatal(o, "PACKET_AUXDATA: %s", strerror(errno));
    int rcvbuf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    return fd;
}

/* This host's IPv4 addresses: packets for them belong to the kernel. */
static void
load_local_addresses(struct app *a)
{
    struct ifaddrs *ifa, *i;
    a->nlocal = 0;
    if (getifaddrs(&ifa) < 0)
        fatal(&a->o, "getifaddrs: %s", strerror(errno));
    for (i = ifa; i != NULL && a->nlocal < LOCAL_MAX; i = i->ifa_next)
        if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *sin =
                (const struct sockaddr_in *)(const void *)i->ifa_addr;
            a->local[a->nlocal++] = ntohl(sin->sin_addr.s_addr);
        }
    freeifaddrs(ifa);
}

static int
is_kernel_local(const struct app *a, uint32_t addr)
{
    if (opts_is_public(&a->o, addr))
        return 0; /* assigned for ARP's sake, but the NAT's */
    for (int i = 0; i < a->nlocal; i++)
        if (a->local[i] == addr)
            return 1;
    return 0;
}

/*
 * A packet sent by this host (or a veth peer) with checksum offload
 * carries only the pseudo-header sum in its TCP/UDP checksum field
 * (TP_STATUS_CSUMNOTREADY). Finish it in software, as the NIC would have:
 * libnat updates checksums incrementally and needs a complete one.
 */
static int
finish_checksum(uint8_t *ip, size_t len)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t tot = (size_t)(ip[2] << 8 | ip[3]);
    if (ihl < 20 || tot > len || tot < ihl || (ip[6] & 0x3f) || ip[7])
        return 0;
    uint8_t *l4 = ip + ihl;
    size_t l4len = tot - ihl;
    size_t off = ip[9] == 6 ? 16 : ip[9] == 17 ? 6 : 0;
    if (off == 0 || l4len < off + 2)
        return 0;
    /* The field holds the folded pseudo-header sum: summing the segment
     * with it in place and complementing gives the real checksum. */
    uint16_t ck = nat_csum(l4, l4len);
    if (ip[9] == 17)
        ck = nat_csum_udp_final(ck);
    l4[off] = (uint8_t)(ck >> 8);
    l4[off + 1] = (uint8_t)ck;
    return 1;
}

static void
send_ip(struct app *a, const uint8_t *ip, size_t len)
{
    struct sockaddr_in to;
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    memcpy(&to.sin_addr, ip + 16, 4);
    if (sendto(a->raw_fd, ip, len, 0, (struct sockaddr *)&to, sizeof(to)) ==
        (ssize_t)len)
        a->tx++;
    else
        a->tx_err++;
}

/* Forward a packet libnat passed untouched, as a router would: TTL - 1. */
static void
forward_pass(struct app *a, uint8_t *ip, size_t len)
{
    if (ip[8] <= 1) {
        a->ttl_drops++;
        return;
    }
    uint16_t old = (uint16_t)(ip[8] << 8 | ip[9]);
    ip[8]--;
    uint16_t ck = nat_csum_update16((uint16_t)(ip[10] << 8 | ip[11]), old,
                                    (uint16_t)(ip[8] << 8 | ip[9]));
    ip[10] = (uint8_t)(ck >> 8);
    ip[11] = (uint8_t)ck;
    send_ip(a, ip, len);
}

/* Receive and handle what is waiting on @fd (at most a burst). */
static void
receive(struct app *a, int fd, enum nat_dir dir, const char *ifname)
{
    static uint8_t buf[PKT_MAX], before[PKT_MAX], icmp[PKT_MAX];
    union {
        char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        struct cmsghdr align;
    } ctl;

    for (int n = 0; n < 64; n++) {
        struct sockaddr_ll from;
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr msg;
        memset(&msg, 0, sizeof(msg));
        msg.msg_name = &from;
        msg.msg_namelen = sizeof(from);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.b;
        msg.msg_controllen = sizeof(ctl.b);
        ssize_t r = recvmsg(fd, &msg, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            fatal(&a->o, "recvmsg %s: %s", ifname, strerror(errno));
        }
        /* Unicast to us only: not our own transmissions, broadcasts,
         * multicasts or (in promiscuous mode) other hosts' frames. */
        if (from.sll_pkttype != PACKET_HOST || r < 20 ||
            (msg.msg_flags & MSG_TRUNC))
            continue;
        a->rx++;
        size_t len = (size_t)r;
        uint32_t dst = rd32(buf + 16);
        if (is_kernel_local(a, dst)) {
            a->skipped_local++; /* for this host itself */
            continue;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL;
             c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
                continue;
            struct tpacket_auxdata aux;
            memcpy(&aux, CMSG_DATA(c), sizeof(aux));
            if ((aux.tp_status & TP_STATUS_CSUMNOTREADY) &&
                finish_checksum(buf, len))
                a->csum_fixed++;
        }

        size_t blen = len;
        if (a->o.verbose)
            memcpy(before, buf, blen);
        struct nat_result res =
            nat_translate(a->nat, dir, buf, &len, sizeof(buf), mono_ms());
        if (a->o.verbose) {
            print_packet_line(stdout, ifname, dir, before, blen, buf, len, res);
            fflush(stdout);
        }
        switch (res.verdict) {
        case NAT_OUT:
        case NAT_IN:
        case NAT_HAIRPIN:
            send_ip(a, buf, len); /* the kernel routes by destination */
            break;
        case NAT_PASS:
            forward_pass(a, buf, len);
            break;
        case NAT_DROP: { /* a new flow refused: tell the inside sender */
            size_t elen = dir == NAT_DIR_OUT
                              ? icmp_for_drop(&a->o, a->nat, res, buf, len,
                                              icmp, sizeof(icmp), mono_ms())
                              : 0;
            if (elen > 0)
                send_ip(a, icmp, elen);
            break;
        }
        default:
            break;
        }
        /* Fragments held until their first fragment came are ready now. */
        struct nat_result fres;
        while (nat_frag_collect(a->nat, buf, sizeof(buf), &len, &fres) == 1)
            send_ip(a, buf, len);
    }
}

enum { OPT_IN_IF = 1, OPT_OUT_IF, OPT_STATUS };

static void
raw_option(void *ctx, int c, const char *arg)
{
    struct app *a = ctx;
    switch (c) {
    case OPT_IN_IF:
        a->in_if = arg;
        break;
    case OPT_OUT_IF:
        a->out_if = arg;
        break;
    case OPT_STATUS:
        a->status_secs = opts_status_secs(&a->o, arg);
        break;
    }
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"in-if", required_argument, NULL, OPT_IN_IF},
        {"out-if", required_argument, NULL, OPT_OUT_IF},
        {"status", required_argument, NULL, OPT_STATUS},
        {NULL, 0, NULL, 0},
    };
    static struct app app = {.status_secs = 10};
    struct app *a = &app;

    opts_init(&a->o, argv[0]);
    opts_parse(&a->o, argc, argv, "", longopts, raw_option, a, usage);
    if (a->in_if == NULL || a->out_if == NULL)
        usage_error(&a->o, "--in-if and --out-if are required");
    if (strcmp(a->in_if, a->out_if) == 0)
        usage_error(&a->o, "--in-if and --out-if must differ");
    opts_require(&a->o);

    a->nat = nat_from_opts(&a->o, 1);
    a->in_fd = packet_socket(&a->o, a->in_if);
    a->out_fd = packet_socket(&a->o, a->out_if);
    a->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (a->raw_fd < 0)
        fatal(&a->o, "raw socket: %s", strerror(errno));
    load_local_addresses(a);

    install_signals();

    fprintf(stderr, "%s: NAT from %s (inside) to %s (outside), public %s\n",
            a->o.prog, a->in_if, a->out_if, addr_str(a->o.pub[0]));
    uint64_t next_status = mono_ms() + a->status_secs * 1000u;
    uint64_t next_addr = mono_ms() + 10000;
    while (!stop_flag) {
        struct pollfd pfd[2] = {{a->in_fd, POLLIN, 0}, {a->out_fd, POLLIN, 0}};
        int r = poll(pfd, 2, 500);
        if (r < 0 && errno != EINTR)
            fatal(&a->o, "poll: %s", strerror(errno));
        uint64_t now = mono_ms();
        if (r > 0) {
            if (pfd[0].revents)
                receive(a, a->in_fd, NAT_DIR_OUT, a->in_if);
            if (pfd[1].revents)
                receive(a, a->out_fd, NAT_DIR_IN, a->out_if);
        } else if (r == 0) {
            nat_expire(a->nat, now, 4096); /* idle: catch up on expiry */
        }
        if (now >= next_addr) { /* addresses may change under us */
            load_local_addresses(a);
            next_addr = now + 10000;
        }
        if (dump_flag) {
            dump_flag = 0;
            print_sessions(stdout, a->nat, now);
            fflush(stdout);
        }
        if (a->status_secs && now >= next_status) {
            print_status(stdout, &a->o, a->nat);
            next_status = now + a->status_secs * 1000u;
        }
    }
    printf("%s: %llu packets received, %llu sent, %llu send errors, %llu for "
           "this host (left to the kernel), %llu TTL expired, %llu "
           "checksums finished\n",
           a->o.prog, (unsigned long long)a->rx, (unsigned long long)a->tx,
           (unsigned long long)a->tx_err, (unsigned long long)a->skipped_local,
           (unsigned long long)a->ttl_drops, (unsigned long long)a->csum_fixed);
    print_summary(stdout, a->nat);
    nat_destroy(a->nat);
    close(a->in_fd);
    close(a->out_fd);
    close(a->raw_fd);
    return 0;
}
