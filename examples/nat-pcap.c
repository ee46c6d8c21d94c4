/*
 * nat-pcap: run packets through libnat with libpcap.
 *
 * Offline:  nat-pcap -r in.pcap -w out.pcap [NAT options] [--lan-capture]
 *   Replays a capture. The library clock follows the capture's timestamps
 *   and the secret comes from --seed (default 0), so the output is the same
 *   byte for byte on every run.
 *
 * Live:     nat-pcap --in-if IF --out-if IF --in-address ADDR [NAT options]
 *   A NAT between two interfaces that the kernel leaves alone (no addresses
 *   on them): frames are captured and injected with libpcap, and ARP is
 *   answered and resolved here.
 *
 * See nat-pcap(8).
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "common.h"

#define FRAME_MAX 262144 /* libpcap's largest snapshot length */
#define HEADROOM  64

/* ---- small byte helpers
 * ------------------------------------------------------ */

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- program state
 * -------------------------------------------------------------- */

struct flow {
    uint8_t used, proto;
    uint32_t ia, ea, ra; /* inside, external, remote address */
    uint16_t ip, ep, rp; /* their ports (ICMP: identifier, remote 0) */
    uint64_t out, in;    /* packets each way */
};

#define FLOW_SLOTS 8192
#define FLOW_MAX   4096

struct app {
    struct opts o;
    struct nat *nat;
    const char *rfile, *wfile;
    const char *in_if, *out_if;
    uint32_t in_address, gateway;
    int lan, flows_wanted, status_secs;

    /* tool-level counters (libnat counts the rest) */
    uint64_t frames, not_ip, written, lan_local, lan_unmatched;

    struct flow *flow;    /* FLOW_SLOTS, open addressing */
    uint32_t *flow_order; /* indexes in order of appearance */
    uint32_t nflows;
};

static void
usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s -r IN.pcap -w OUT.pcap [--lan-capture] [--flows] "
            "[NAT options]\n"
            "       %s --in-if IF --out-if IF --in-address ADDR "
            "[--gateway ADDR] [NAT options]\n"
            "\n"
            "Offline: replay IN.pcap through libnat and write the translated "
            "packets to\nOUT.pcap (same link type). The clock follows the "
            "capture, so runs are\nreproducible byte for byte. Packets whose "
            "source is inside go out, the\nothers come in.\n"
            "  -r FILE          capture to read (Ethernet, raw IP, Linux "
            "cooked, loopback)\n"
            "  -w FILE          capture to write\n"
            "  --lan-capture    IN.pcap was taken on the LAN: write the "
            "outside view of the\n"
            "                   conversation (replies to inside hosts are "
            "shown as they\n"
            "                   arrived at the public address)\n"
            "  --flows          print the flow table, before and after "
            "translation\n"
            "  defaults: --public 203.0.113.1 --inside "
            "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16\n"
            "\n"
            "Live: NAT between two interfaces without addresses, frames "
            "captured and\ninjected with libpcap, ARP answered and resolved "
            "here.\n"
            "  --in-if IF       inside interface\n"
            "  --out-if IF      outside interface\n"
            "  --in-address A   the inside hosts' gateway address (answered "
            "with ARP)\n"
            "  --gateway A      outside next hop (default: destinations are "
            "on-link)\n"
            "  --status SECS    print a status line every SECS seconds "
            "(default 0: off)\n"
            "\n%s",
            prog, prog, common_options_help);
}

/* ---- link layers
 * ------------------------------------------------------------------ */

static int
link_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP:
        return 1;
    default:
        return 0;
    }
}

/* Offset of the IPv4 header in a frame of link type @dlt, or -1 when the
 * frame does not carry IPv4. */
static long
l3_offset(int dlt, const uint8_t *f, size_t caplen)
{
    size_t off;
    uint32_t af;
    switch (dlt) {
    case DLT_EN10MB: {
        if (caplen < 14)
            return -1;
        uint16_t type = rd16(f + 12);
        off = 14;
        /* Up to two 802.1Q / 802.1ad tags. */
        for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8) &&
                           off + 4 <= caplen;
             tags++) {
            type = rd16(f + off + 2);
            off += 4;
        }
        return type == 0x0800 ? (long)off : -1;
    }
    case DLT_RAW:
    case DLT_IPV4:
        return caplen >= 1 && f[0] >> 4 == 4 ? 0 : -1;
    case DLT_LINUX_SLL:
        return caplen >= 16 && rd16(f + 14) == 0x0800 ? 16 : -1;
    case DLT_LINUX_SLL2:
        return caplen >= 20 && rd16(f) == 0x0800 ? 20 : -1;
    case DLT_NULL:
    case DLT_LOOP:
        if (caplen < 4)
            return -1;
        /* DLT_NULL is in the writer's byte order, DLT_LOOP in network
         * order: accept AF_INET (2) either way. */
        af = rd32(f);
        return af == 2 || af == 0x02000000u ? 4 : -1;
    default:
        return -1;
    }
}

/* ---- flow table (for --flows)
 * -------------------------------------------------- */

/* The transport "ports" of @ip: TCP/UDP ports, ICMP echo identifier. */
static int
ports_of(const uint8_t *ip, size_t len, uint8_t *proto, uint16_t *sp,
         uint16_t *dp)
{
    if (len < 20)
        return -1;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (ihl < 20 || len < ihl + 8 || (rd16(ip + 6) & 0x1fff) != 0)
        return -1;
    const uint8_t *l4 = ip + ihl;
    *proto = ip[9];
    if (*proto == 6 || *proto == 17) {
        *sp = rd16(l4);
        *dp = rd16(l4 + 2);
        return 0;
    }
    if (*proto == 1 && (l4[0] == 0 || l4[0] == 8)) {
        *sp = *dp = rd16(l4 + 4);
        return 0;
    }
    return -1;
}

static void
flow_note(struct app *a, int out, uint8_t proto, uint32_t ia, uint16_t ip,
          uint32_t ea, uint16_t ep, uint32_t ra, uint16_t rp)
{
    if (a->flow == NULL)
        return;
    if (proto == 1)
        rp = 0;
    uint32_t h =
        (ia * 2654435761u) ^ (ra * 40503u) ^ ((uint32_t)ip << 16 | rp) ^ proto;
    for (uint32_t i = 0; i < FLOW_SLOTS; i++) {
        struct flow *f = &a->flow[(h + i) % FLOW_SLOTS];
        if (f->used && f->proto == proto && f->ia == ia && f->ip == ip &&
            f->ra == ra && f->rp == rp) {
            out ? f->out++ : f->in++;
            return;
        }
        if (!f->used) {
            if (a->nflows == FLOW_MAX)
                return;
            *f = (struct flow){1, proto, ia, ea, ra, ip, ep, rp, 0, 0};
            out ? f->out++ : f->in++;
            a->flow_order[a->nflows++] = (h + i) % FLOW_SLOTS;
            return;
        }
    }
}

/* Record a translated packet: @before and @after are the same packet
 * before and after translation, one of them in the inside view. */
static void
flow_record(struct app *a, enum nat_verdict v, const uint8_t *before,
            size_t blen, const uint8_t *after, size_t alen)
{
    uint8_t pb, pa;
    uint16_t bs, bd, as, ad;
    if (ports_of(before, blen, &pb, &bs, &bd) < 0 ||
        ports_of(after, alen, &pa, &as, &ad) < 0)
        return;
    if (v == NAT_OUT || v == NAT_HAIRPIN) /* inside -> remote */
        flow_note(a, 1, pb, rd32(before + 12), bs, rd32(after + 12), as,
                  rd32(before + 16), bd);
    else if (v == NAT_IN) /* remote -> external, became remote -> inside */
        flow_note(a, 0, pb, rd32(after + 16), ad, rd32(before + 16), bd,
                  rd32(before + 12), bs);
}

static void
flows_print(const struct app *a, FILE *f)
{
    char in[32], ext[32], rem[32];
    fprintf(f,
            "flow table, %u flow%s: inside view (before) => outside view "
            "(after translation)\n",
            a->nflows, a->nflows == 1 ? "" : "s");
    for (uint32_t i = 0; i < a->nflows; i++) {
        const struct flow *fl = &a->flow[a->flow_order[i]];
        const char *pn = fl->proto == 6    ? "tcp"
                         : fl->proto == 17 ? "udp"
                                           : "icmp";
        if (fl->proto == 1) {
            snprintf(in, sizeof(in), "%s id %u", addr_str(fl->ia), fl->ip);
            snprintf(ext, sizeof(ext), "%s id %u", addr_str(fl->ea), fl->ep);
            snprintf(rem, sizeof(rem), "%s", addr_str(fl->ra));
        } else {
            snprintf(in, sizeof(in), "%s:%u", addr_str(fl->ia), fl->ip);
            snprintf(ext, sizeof(ext), "%s:%u", addr_str(fl->ea), fl->ep);
            snprintf(rem, sizeof(rem), "%s:%u", addr_str(fl->ra), fl->rp);
        }
        fprintf(
            f,
            "  %-4s %-21s <-> %-21s  =>  %-21s <-> %-21s  %llu out, %llu in\n",
            pn, in, rem, ext, rem, (unsigned long long)fl->out,
            (unsigned long long)fl->in);
    }
}

/* ---- LAN captures: the outside view of a reply
 * ------------------------------- */

/* Rewrite the IPv4 address at @ip + @off, fixing the header checksum. */
static void
set_ip_addr(uint8_t *ip, size_t off, uint32_t na)
{
    uint32_t oa = rd32(ip + off);
    wr16(ip + 10, nat_csum_update32(rd16(ip + 10), oa, na));
    wr32(ip + off, na);
}

/*
 * Change one endpoint of the transport header at @l4 (@avail bytes): the
 * port at offset @poff (ICMP echo: the identifier at 4) becomes @np, and
 * for TCP and UDP the pseudo-header address @oa becomes @na.
 */
static void
set_l4_endpoint(uint8_t *l4, size_t avail, uint8_t proto, size_t poff,
                uint32_t oa, uint32_t na, uint16_t np)
{
    if (avail < poff + 2)
        return;
    uint16_t op = rd16(l4 + poff);
    wr16(l4 + poff, np);
    if (proto == 6 && avail >= 18) {
        uint16_t c = nat_csum_update32(rd16(l4 + 16), oa, na);
        wr16(l4 + 16, nat_csum_update16(c, op, np));
    } else if (proto == 17 && avail >= 8) {
        uint16_t c = nat_csum_udp_update32(rd16(l4 + 6), oa, na);
        wr16(l4 + 6, nat_csum_udp_update16(c, op, np));
    } else if (proto == 1 && avail >= 4) {
        wr16(l4 + 2, nat_csum_update16(rd16(l4 + 2), op, np));
    }
}

/* The session of the inside endpoint @ia:@ip talking to @ra:@rp, or the
 * 1:1 mapping of @ia: its external address and port. */
static int
outside_endpoint(struct app *a, uint8_t proto, uint32_t ia, uint16_t ip,
                 uint32_t ra, uint16_t rp, uint32_t *ea, uint16_t *ep)
{
    struct nat_session s;
    if (nat_session_lookup(a->nat, NAT_DIR_OUT, proto, ia, ip, ra,
                           proto == 1 ? 0 : rp, &s) == 0) {
        *ea = s.ext_addr;
        *ep = s.ext_port;
        return 0;
    }
    for (int i = 0; i < a->o.no2o; i++)
        if (a->o.o2o_in[i] == ia) {
            *ea = a->o.o2o_ext[i];
            *ep = ip;
            return 0;
        }
    return -1;
}

/*
 * A LAN capture holds replies addressed to inside hosts. Rewrite such a
 * packet into what arrived at the NAT's outside: the destination becomes
 * the external endpoint of its session (for ICMP errors, also the source
 * of the packet they quote). Returns -1 when no session matches, which
 * means the NAT never sent the packet it answers.
 */
static int
lan_outside_view(struct app *a, uint8_t *ip, size_t len)
{
    uint8_t proto;
    uint16_t sp, dp;
    uint32_t ea;
    uint16_t ep;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t tot = rd16(ip + 2) < len ? rd16(ip + 2) : len;
    uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);

    if (ports_of(ip, len, &proto, &sp, &dp) == 0) {
        if (outside_endpoint(a, proto, dst, dp, src, sp, &ea, &ep) < 0)
            return -1;
        set_ip_addr(ip, 16, ea);
        set_l4_endpoint(ip + ihl, tot - ihl, proto, proto == 1 ? 4 : 2, dst, ea,
                        ep);
        return 0;
    }
    /* An ICMP error quoting a packet the inside host sent. */
    if (ip[9] != 1 || ihl < 20 || tot < ihl + 8 + 20)
        return -1;
    uint8_t *icmp = ip + ihl;
    if (icmp[0] != 3 && icmp[0] != 4 && icmp[0] != 11 && icmp[0] != 12)
        return -1;
    uint8_t *in = icmp + 8;
    size_t inlen = tot - ihl - 8;
    if (ports_of(in, inlen, &proto, &sp, &dp) < 0)
        return -1;
    uint32_t isrc = rd32(in + 12), idst = rd32(in + 16);
    if (outside_endpoint(a, proto, isrc, sp, idst, dp, &ea, &ep) < 0)
        return -1;
    size_t iihl = (size_t)(in[0] & 15) * 4;
    set_ip_addr(ip, 16, ea);
    set_ip_addr(in, 12, ea);
    set_l4_endpoint(in + iihl, inlen - iihl, proto, proto == 1 ? 4 : 0, isrc,
                    ea, ep);
    /* The ICMP checksum covers the whole message: sum it again. */
    wr16(icmp + 2, 0);
    wr16(icmp + 2, nat_csum(icmp, tot - ihl));
    return 0;
}

/* ---- offline replay
 * ------------------------------------------------------------- */

static void
progress(struct app *a, pcap_t *in, off_t size, int done)
{
    static uint64_t last;
    uint64_t now = mono_ms();
    if (!done && now - last < 250)
        return;
    last = now;
    long pos = ftell(pcap_file(in));
    int pct =
        size > 0 && pos >= 0 ? (int)(100.0 * (double)pos / (double)size) : 0;
    fprintf(stderr, "\r%s: %llu packets, %d%%%s", a->o.prog,
            (unsigned long long)a->frames, done ? 100 : pct, done ? "\n" : "");
}

/* The verbose line of a packet that is not written, and why. */
static void
print_not_written(const char *tag, const char *dir, const uint8_t *ip,
                  size_t len, const char *why)
{
    char d[256];
    pkt_describe(d, sizeof(d), ip, len);
    fprintf(stdout, "%s %-3s %s => %s: not written\n", tag, dir, d, why);
}

/* Translate one IPv4 packet of a capture; returns 1 to write it. */
static int
replay_packet(struct app *a, uint8_t *ip, size_t *len, size_t cap, uint64_t now,
              const char *tag)
{
    static uint8_t before[FRAME_MAX];
    uint32_t src = *len >= 20 ? rd32(ip + 12) : 0;
    uint32_t dst = *len >= 20 ? rd32(ip + 16) : 0;
    enum nat_dir dir = opts_is_inside(&a->o, src) ? NAT_DIR_OUT : NAT_DIR_IN;
    size_t blen = *len;
    memcpy(before, ip, blen);

    if (a->lan && *len >= 20 && opts_is_inside(&a->o, dst)) {
        if (dir == NAT_DIR_OUT) {
            /* Inside to inside on the LAN: never went through the NAT. */
            a->lan_local++;
            if (a->o.verbose)
                print_not_written(tag, "--", before, blen, "LAN-local");
            return 0;
        }
        if (lan_outside_view(a, ip, *len) < 0) {
            a->lan_unmatched++;
            if (a->o.verbose)
                print_not_written(tag, "in", before, blen, "no session");
            return 0;
        }
        /* Run the outside view through libnat too, so its session state
         * (TCP state, timers) follows the conversation; write the outside
         * view if libnat admits it. */
        static uint8_t tmp[FRAME_MAX];
        size_t tlen = *len;
        memcpy(tmp, ip, tlen);
        struct nat_result res =
            nat_translate(a->nat, NAT_DIR_IN, tmp, &tlen, sizeof(tmp), now);
        if (a->o.verbose)
            print_packet_line(stdout, tag, NAT_DIR_IN, before, blen, ip, *len,
                              res);
        if (res.verdict == NAT_IN)
            flow_record(a, NAT_IN, ip, *len, tmp, tlen);
        return res.verdict != NAT_DROP && res.verdict != NAT_HELD;
    }

    struct nat_result res = nat_translate(a->nat, dir, ip, len, cap, now);
    if (a->o.verbose)
        print_packet_line(stdout, tag, dir, before, blen, ip, *len, res);
    flow_record(a, res.verdict, before, blen, ip, *len);
    return res.verdict != NAT_DROP && res.verdict != NAT_HELD;
}

static int
run_offline(struct app *a)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    static uint8_t frame[FRAME_MAX + HEADROOM];
    struct stat stt;
    uint64_t first_us = 0;
    int rc;

    pcap_t *in = pcap_open_offline(a->rfile, err);
    if (in == NULL)
        fatal(&a->o, "%s", err);
    int dlt = pcap_datalink(in);
    if (!link_supported(dlt))
        fatal(&a->o, "%s: link type %s is not supported", a->rfile,
              pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt)
                                             : "?");
    int snap = pcap_snapshot(in);
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(
        dlt, snap > 0 ? snap : FRAME_MAX, pcap_get_tstamp_precision(in));
    pcap_dumper_t *out = pcap_dump_open(dead, a->wfile);
    if (out == NULL)
        fatal(&a->o, "%s", pcap_geterr(dead));
    int tty = isatty(2) && !a->o.verbose;
    off_t size = stat(a->rfile, &stt) == 0 ? stt.st_size : 0;
    unsigned div = pcap_get_tstamp_precision(in) == PCAP_TSTAMP_PRECISION_NANO
                       ? 1000000u
                       : 1000u;

    while (!stop_flag && (rc = pcap_next_ex(in, &h, &data)) == 1) {
        a->frames++;
        size_t caplen = h->caplen < FRAME_MAX ? h->caplen : FRAME_MAX;
        memcpy(frame, data, caplen);
        /* The library clock follows the capture: replays are exact. */
        uint64_t now =
            (uint64_t)h->ts.tv_sec * 1000u + (uint64_t)h->ts.tv_usec / div;
        /* Verbose lines show the time since the first packet, in us. */
        uint64_t us = (uint64_t)h->ts.tv_sec * 1000000u +
                      (uint64_t)h->ts.tv_usec / (div / 1000u);
        if (a->frames == 1)
            first_us = us;
        us = us >= first_us ? us - first_us : 0;
        char tag[48];
        snprintf(tag, sizeof(tag), "%5llu %4llu.%06llu",
                 (unsigned long long)a->frames,
                 (unsigned long long)(us / 1000000u),
                 (unsigned long long)(us % 1000000u));
        long off = l3_offset(dlt, frame, caplen);
        if (off < 0) {
            a->not_ip++;
            if (a->o.verbose)
                fprintf(stdout, "%s --  not IPv4 (%u bytes): skipped\n", tag,
                        h->caplen);
            continue;
        }
        size_t len = caplen - (size_t)off;
        size_t cap = sizeof(frame) - (size_t)off;
        if (!replay_packet(a, frame + off, &len, cap, now, tag))
            continue;
        struct pcap_pkthdr oh = *h;
        oh.caplen = (bpf_u_int32)((size_t)off + len);
        oh.len = h->len - h->caplen + oh.caplen; /* keep any snap cut-off */
        pcap_dump((u_char *)out, &oh, frame);
        a->written++;
        /* Fragments held until their first fragment came are ready now:
         * write them after it, behind the same link-layer header. */
        size_t flen;
        struct nat_result fres;
        while (nat_frag_collect(a->nat, frame + off, cap, &flen, &fres) == 1) {
            oh.caplen = oh.len = (bpf_u_int32)((size_t)off + flen);
            pcap_dump((u_char *)out, &oh, frame);
            a->written++;
        }
        if (tty)
            progress(a, in, size, 0);
    }
    if (rc == PCAP_ERROR)
        fatal(&a->o, "%s: %s", a->rfile, pcap_geterr(in));
    if (tty)
        progress(a, in, size, 1);
    pcap_dump_close(out);
    pcap_close(dead);
    pcap_close(in);
    return 0;
}

/* ---- live: ARP and neighbours
 * ------------------------------------------------------ */

#define NEIGH_MAX   256
#define NEIGH_QUEUE 8
#define ARP_TRIES   5

struct queued {
    size_t len;
    uint8_t *buf; /* a frame with room for the Ethernet header */
};

struct neigh {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t valid, tries;
    uint64_t asked_ms;
    struct queued q[NEIGH_QUEUE];
    int nq;
};

struct side {
    const char *name;
    pcap_t *p;
    uint8_t mac[6];
    uint32_t arp_src;       /* our address for ARP requests */
    const uint32_t *answer; /* addresses we answer ARP for */
    int nanswer;
    struct neigh neigh[NEIGH_MAX];
    uint64_t tx, tx_err, rx;
};

struct live {
    struct app *a;
    struct side in, out;
    uint32_t answer_out[OPT_MAX_ADDRS * 2];
    uint64_t arp_drops;
};

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void
send_frame(struct side *s, uint8_t *frame, size_t len)
{
    if (pcap_inject(s->p, frame, len) < 0)
        s->tx_err++;
    else
        s->tx++;
}

static void
send_arp(struct side *s, int op, const uint8_t *dmac, uint32_t tip,
         const uint8_t *tmac, uint32_t sip)
{
    uint8_t f[42];
    memcpy(f, dmac, 6);
    memcpy(f + 6, s->mac, 6);
    wr16(f + 12, 0x0806);
    wr16(f + 14, 1);      /* Ethernet */
    wr16(f + 16, 0x0800); /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    wr16(f + 20, (uint16_t)op);
    memcpy(f + 22, s->mac, 6);
    wr32(f + 28, sip);
    memcpy(f + 32, tmac, 6);
    wr32(f + 38, tip);
    send_frame(s, f, sizeof(f));
}

static struct neigh *
neigh_get(struct side *s, uint32_t ip, int create)
{
    struct neigh *free_slot = NULL;
    for (int i = 0; i < NEIGH_MAX; i++) {
        if (s->neigh[i].ip == ip)
            return &s->neigh[i];
        if (s->neigh[i].ip == 0 && free_slot == NULL)
            free_slot = &s->neigh[i];
    }
    if (!create || free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->ip = ip;
    return free_slot;
}

static void
neigh_learn(struct side *s, uint32_t ip, const uint8_t *mac, int create)
{
    struct neigh *n = neigh_get(s, ip, create);
    if (n == NULL)
        return;
    memcpy(n->mac, mac, 6);
    n->valid = 1;
    n->tries = 0;
    for (int i = 0; i < n->nq; i++) {
        memcpy(n->q[i].buf, n->mac, 6);
        send_frame(s, n->q[i].buf, n->q[i].len);
        free(n->q[i].buf);
    }
    n->nq = 0;
}

/* Send the IPv4 packet @ip (@len bytes, HEADROOM bytes writable in front
 * of it) to @nexthop on side @s, resolving its MAC first if need be. */
static void
send_ip(struct live *l, struct side *s, uint8_t *ip, size_t len,
        uint32_t nexthop)
{
    uint8_t *f = ip - 14;
    memcpy(f + 6, s->mac, 6);
    wr16(f + 12, 0x0800);
    struct neigh *n = neigh_get(s, nexthop, 1);
    if (n != NULL && n->valid) {
        memcpy(f, n->mac, 6);
        send_frame(s, f, len + 14);
        return;
    }
    if (n == NULL || n->nq == NEIGH_QUEUE) {
        l->arp_drops++;
        return;
    }
    /* Hold the packet until ARP answers (or gives up). */
    uint8_t *copy = malloc(len + 14);
    if (copy == NULL) {
        l->arp_drops++;
        return;
    }
    memcpy(copy, f, len + 14);
    n->q[n->nq++] = (struct queued){len + 14, copy};
    if (n->tries == 0) {
        n->tries = 1;
        n->asked_ms = mono_ms();
        send_arp(s, 1, bcast, nexthop, (const uint8_t[6]){0}, s->arp_src);
    }
}

/* Retry or give up on unanswered ARP requests. */
static void
neigh_timers(struct live *l, struct side *s, uint64_t now)
{
    for (int i = 0; i < NEIGH_MAX; i++) {
        struct neigh *n = &s->neigh[i];
        if (n->ip == 0 || n->valid || n->tries == 0 || now - n->asked_ms < 1000)
            continue;
        if (n->tries >= ARP_TRIES) {
            for (int j = 0; j < n->nq; j++)
                free(n->q[j].buf);
            l->arp_drops += (uint64_t)n->nq;
            memset(n, 0, sizeof(*n)); /* forget it: ask again next time */
            continue;
        }
        n->tries++;
        n->asked_ms = now;
        send_arp(s, 1, bcast, n->ip, (const uint8_t[6]){0}, s->arp_src);
    }
}

static int
answers_for(const struct side *s, uint32_t ip)
{
    for (int i = 0; i < s->nanswer; i++)
        if (s->answer[i] == ip)
            return 1;
    return 0;
}

static void
arp_input(struct side *s, const uint8_t *f, size_t len)
{
    if (len < 42 || rd16(f + 14) != 1 || rd16(f + 16) != 0x0800 || f[18] != 6 ||
        f[19] != 4)
        return;
    uint16_t op = rd16(f + 20);
    uint32_t sip = rd32(f + 28), tip = rd32(f + 38);
    int ours = answers_for(s, tip);
    /* RFC 826: update a known sender; add it when the request is for us. */
    if (sip != 0)
        neigh_learn(s, sip, f + 22, ours || op == 2);
    if (op == 1 && ours)
        send_arp(s, 2, f + 22, sip, f + 22, tip);
}

static uint64_t
live_now(void)
{
    return mono_ms();
}

static void
ip_input(struct live *l, struct side *from, uint8_t *frame, size_t caplen)
{
    struct app *a = l->a;
    uint8_t *ip = frame + 14;
    size_t len = caplen - 14;
    static uint8_t before[FRAME_MAX];
    size_t blen = len;
    enum nat_dir dir = from == &l->in ? NAT_DIR_OUT : NAT_DIR_IN;

    if (len < 20)
        return;
    uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
    if (dir == NAT_DIR_OUT) {
        /* Learn inside neighbours from their traffic to us. */
        if (opts_is_inside(&a->o, src))
            neigh_learn(from, src, frame + 6, 1);
        if (dst == a->in_address)
            return; /* for the gateway itself: nothing here answers */
    }
    if (a->o.verbose)
        memcpy(before, ip, blen);
    struct nat_result res =
        nat_translate(a->nat, dir, ip, &len, FRAME_MAX - 14, live_now());
    if (a->o.verbose) {
        print_packet_line(stdout, from->name, dir, before, blen, ip, len, res);
        fflush(stdout);
    }
    dst = rd32(ip + 16);
    switch (res.verdict) {
    case NAT_OUT:
        send_ip(l, &l->out, ip, len, a->gateway ? a->gateway : dst);
        break;
    case NAT_IN:
    case NAT_HAIRPIN:
        send_ip(l, &l->in, ip, len, dst);
        break;
    case NAT_DROP: { /* a new flow refused: tell the inside sender */
        static uint8_t err[HEADROOM + 1024];
        size_t elen = dir == NAT_DIR_OUT
                          ? icmp_for_drop(&a->o, a->nat, res, ip, len,
                                          err + HEADROOM, 1024, live_now())
                          : 0;
        if (elen > 0)
            send_ip(l, &l->in, err + HEADROOM, elen, src);
        break;
    }
    default:
        /* Held, or passed: a pure NAT routes nothing else. */
        break;
    }
    /* Fragments held until their first fragment came are ready now. */
    size_t flen;
    struct nat_result fres;
    while (nat_frag_collect(a->nat, ip, FRAME_MAX - 14, &flen, &fres) == 1)
        send_ip(l, fres.verdict == NAT_OUT ? &l->out : &l->in, ip, flen,
                fres.verdict == NAT_OUT && a->gateway ? a->gateway
                                                      : rd32(ip + 16));
}

/* pcap_dispatch() callback context: which side the frame came from. */
struct rx_ctx {
    struct live *l;
    struct side *s;
};

static void
rx_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    const struct rx_ctx *c = (const struct rx_ctx *)(const void *)user;
    static uint8_t buf[HEADROOM + FRAME_MAX];
    size_t caplen = h->caplen;
    if (caplen < 14 || caplen != h->len || caplen > FRAME_MAX)
        return; /* truncated or oversized (GRO): cannot forward */
    c->s->rx++;
    uint8_t *f = buf + HEADROOM - 14;
    memcpy(f, data, caplen);
    uint16_t type = rd16(f + 12);
    if (type == 0x0806) {
        arp_input(c->s, f, caplen);
        return;
    }
    if (type != 0x0800 || memcmp(f, c->s->mac, 6) != 0)
        return; /* only IPv4 unicast to our MAC is routed through us */
    ip_input(c->l, c->s, f, caplen);
}

static void
if_mac(const struct opts *o, const char *ifname, uint8_t mac[6])
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        fatal(o, "socket: %s", strerror(errno));
    memset(&ifr, 0, sizeof(ifr));
    if (strlen(ifname) >= sizeof(ifr.ifr_name))
        usage_error(o, "interface name '%s' is too long", ifname);
    strcpy(ifr.ifr_name, ifname);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        fatal(o, "%s: %s", ifname, strerror(errno));
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(fd);
}

static pcap_t *
open_live(const struct opts *o, const char *ifname)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_create(ifname, err);
    if (p == NULL)
        fatal(o, "%s: %s", ifname, err);
    pcap_set_snaplen(p, 65535);
    pcap_set_promisc(p, 0);
    pcap_set_immediate_mode(p, 1); /* deliver each frame at once */
    pcap_set_buffer_size(p, 8 << 20);
    int rc = pcap_activate(p);
    if (rc < 0)
        fatal(o, "%s: %s", ifname, pcap_geterr(p));
    if (pcap_datalink(p) != DLT_EN10MB)
        fatal(o, "%s: not an Ethernet interface", ifname);
    /* Our own injected frames must not come back to us. */
    if (pcap_setdirection(p, PCAP_D_IN) < 0)
        fatal(o, "%s: %s", ifname, pcap_geterr(p));
    struct bpf_program prog;
    if (pcap_compile(p, &prog, "arp or ip", 1, PCAP_NETMASK_UNKNOWN) < 0 ||
        pcap_setfilter(p, &prog) < 0)
        fatal(o, "%s: %s", ifname, pcap_geterr(p));
    pcap_freecode(&prog);
    if (pcap_setnonblock(p, 1, err) < 0)
        fatal(o, "%s: %s", ifname, err);
    return p;
}

static int
run_live(struct app *a)
{
    static struct live l;
    l.a = a;
    l.in.name = a->in_if;
    l.out.name = a->out_if;
    if_mac(&a->o, a->in_if, l.in.mac);
    if_mac(&a->o, a->out_if, l.out.mac);
    l.in.p = open_live(&a->o, a->in_if);
    l.out.p = open_live(&a->o, a->out_if);
    l.in.arp_src = a->in_address;
    l.in.answer = &a->in_address;
    l.in.nanswer = 1;
    int n = 0;
    for (int i = 0; i < a->o.npub; i++)
        l.answer_out[n++] = a->o.pub[i];
    for (int i = 0; i < a->o.no2o; i++)
        l.answer_out[n++] = a->o.o2o_ext[i];
    l.out.answer = l.answer_out;
    l.out.nanswer = n;
    l.out.arp_src = a->o.pub[0];

    struct rx_ctx cin = {&l, &l.in}, cout = {&l, &l.out};
    struct pollfd pfd[2] = {{pcap_get_selectable_fd(l.in.p), POLLIN, 0},
                            {pcap_get_selectable_fd(l.out.p), POLLIN, 0}};
    if (pfd[0].fd < 0 || pfd[1].fd < 0)
        fatal(&a->o, "no selectable descriptor for the interfaces");
    fprintf(stderr, "%s: NAT between %s (inside) and %s (outside), public %s\n",
            a->o.prog, a->in_if, a->out_if, addr_str(a->o.pub[0]));
    uint64_t next_status = mono_ms() + (uint64_t)a->status_secs * 1000u;
    while (!stop_flag) {
        int r = poll(pfd, 2, 200);
        if (r < 0 && errno != EINTR)
            fatal(&a->o, "poll: %s", strerror(errno));
        uint64_t now = mono_ms();
        if (r > 0) {
            if (pfd[0].revents)
                pcap_dispatch(l.in.p, 256, rx_frame, (u_char *)&cin);
            if (pfd[1].revents)
                pcap_dispatch(l.out.p, 256, rx_frame, (u_char *)&cout);
        } else {
            nat_expire(a->nat, now, 1024); /* idle: catch up on expiry */
        }
        neigh_timers(&l, &l.in, now);
        neigh_timers(&l, &l.out, now);
        if (dump_flag) {
            dump_flag = 0;
            print_sessions(stdout, a->nat, now);
            fflush(stdout);
        }
        if (a->status_secs && now >= next_status) {
            print_status(stdout, &a->o, a->nat);
            next_status = now + (uint64_t)a->status_secs * 1000u;
        }
    }
    printf("%s: %llu frames in on %s, %llu on %s; sent %llu on %s, %llu on "
           "%s; %llu send errors; %llu dropped waiting for ARP\n",
           a->o.prog, (unsigned long long)l.in.rx, a->in_if,
           (unsigned long long)l.out.rx, a->out_if, (unsigned long long)l.in.tx,
           a->in_if, (unsigned long long)l.out.tx, a->out_if,
           (unsigned long long)(l.in.tx_err + l.out.tx_err),
           (unsigned long long)l.arp_drops);
    pcap_close(l.in.p);
    pcap_close(l.out.p);
    return 0;
}

/* ---- main
 * ----------------------------------------------------------------------------
 */

enum {
    OPT_LAN = 1,
    OPT_FLOWS,
    OPT_IN_IF,
    OPT_OUT_IF,
    OPT_IN_ADDRESS,
    OPT_GATEWAY,
    OPT_STATUS,
};

static void
pcap_option(void *ctx, int c, const char *arg)
{
    struct app *a = ctx;
    switch (c) {
    case 'r':
        a->rfile = arg;
        break;
    case 'w':
        a->wfile = arg;
        break;
    case OPT_LAN:
        a->lan = 1;
        break;
    case OPT_FLOWS:
        a->flows_wanted = 1;
        break;
    case OPT_IN_IF:
        a->in_if = arg;
        break;
    case OPT_OUT_IF:
        a->out_if = arg;
        break;
    case OPT_IN_ADDRESS:
        if (parse_addr(arg, &a->in_address) < 0)
            usage_error(&a->o, "bad address '%s'", arg);
        break;
    case OPT_GATEWAY:
        if (parse_addr(arg, &a->gateway) < 0)
            usage_error(&a->o, "bad address '%s'", arg);
        break;
    case OPT_STATUS:
        a->status_secs = (int)opts_status_secs(&a->o, arg);
        break;
    }
}

int
main(int argc, char **argv)
{
    static struct app app;
    struct app *a = &app;
    static const struct option longopts[] = {
        {"lan-capture", no_argument, NULL, OPT_LAN},
        {"flows", no_argument, NULL, OPT_FLOWS},
        {"in-if", required_argument, NULL, OPT_IN_IF},
        {"out-if", required_argument, NULL, OPT_OUT_IF},
        {"in-address", required_argument, NULL, OPT_IN_ADDRESS},
        {"gateway", required_argument, NULL, OPT_GATEWAY},
        {"status", required_argument, NULL, OPT_STATUS},
        {NULL, 0, NULL, 0},
    };

    opts_init(&a->o, argv[0]);
    opts_parse(&a->o, argc, argv, "r:w:", longopts, pcap_option, a, usage);

    int live = a->in_if != NULL || a->out_if != NULL;
    if (live) {
        if (a->rfile || a->wfile || a->lan)
            usage_error(&a->o, "-r, -w and --lan-capture are for offline "
                               "mode, not with --in-if/--out-if");
        if (a->in_if == NULL || a->out_if == NULL)
            usage_error(&a->o, "live mode needs both --in-if and --out-if");
        if (a->in_address == 0)
            usage_error(&a->o, "live mode needs --in-address");
        if (a->o.icmp_src == 0) /* the inside hosts' gateway */
            a->o.icmp_src = a->in_address;
        opts_require(&a->o);
    } else {
        if (a->rfile == NULL || a->wfile == NULL)
            usage_error(&a->o, "need -r IN.pcap and -w OUT.pcap "
                               "(or --in-if and --out-if)");
        /* Built-in defaults: a documentation address and RFC 1918. */
        if (a->o.npub == 0)
            opts_common(&a->o, OPT_PUBLIC, "203.0.113.1");
        if (a->o.ninside == 0)
            opts_common(&a->o, OPT_INSIDE,
                        "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16");
    }
    a->nat = nat_from_opts(&a->o, live);
    if (a->flows_wanted) {
        a->flow = calloc(FLOW_SLOTS, sizeof(*a->flow));
        a->flow_order = calloc(FLOW_MAX, sizeof(*a->flow_order));
        if (a->flow == NULL || a->flow_order == NULL)
            fatal(&a->o, "out of memory");
    }

    install_signals();

    if (live) {
        run_live(a);
    } else {
        run_offline(a);
        printf("%s: %llu frames read from %s, %llu written to %s", a->o.prog,
               (unsigned long long)a->frames, a->rfile,
               (unsigned long long)a->written, a->wfile);
        if (a->not_ip)
            printf(", %llu not IPv4 (skipped)", (unsigned long long)a->not_ip);
        if (a->lan)
            printf(", %llu LAN-local, %llu replies without a session",
                   (unsigned long long)a->lan_local,
                   (unsigned long long)a->lan_unmatched);
        printf("\n");
    }
    if (a->flow != NULL)
        flows_print(a, stdout);
    print_summary(stdout, a->nat);
    nat_destroy(a->nat);
    free(a->flow);
    free(a->flow_order);
    return 0;
}
