/*
 * nat-demo: a self-demonstration of libnat's checksum and packet layers over
 * bundled sample packets (examples/samples.txt). For each packet it prints
 * what the parser found, or the reason it would be dropped, and verifies the
 * checksums with the public checksum API.
 *
 * usage: nat-demo [samples.txt]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "libnat.h"
#include "packet.h"

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void
print_addr(uint32_t a)
{
    printf("%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static const char *
kind_name(uint8_t k)
{
    static const char *const n[] = {"other", "tcp", "udp", "icmp-query",
                                    "icmp-error", "fragment"};
    return k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

static int
transport_csum_ok(const uint8_t *b, const struct nat_pkt *p)
{
    const uint8_t *l4 = b + p->l4_off;
    uint32_t s = 0;
    if (p->kind == NAT_PK_UDP && ld16(l4 + 6) == 0)
        return 1; /* no checksum sent */
    if (p->kind == NAT_PK_TCP || p->kind == NAT_PK_UDP)
        s = nat_csum_pseudo4(p->src, p->dst, p->proto, p->l4_len);
    return nat_csum_finish(nat_csum_add(s, l4, p->l4_len)) == 0;
}

int
main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "examples/samples.txt";
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "nat-demo: cannot open %s\n", path);
        return 2;
    }
    printf("libnat %s: checksum and packet layer demo over %s\n\n",
           nat_version(), path);
    char line[8192];
    uint8_t pkt[4096];
    int n = 0, ok = 0;
    while (fgets(line, sizeof(line), f)) {
        char *bar = strchr(line, '|');
        if (line[0] == '#' || bar == NULL)
            continue;
        *bar = '\0';
        size_t len = unhex(bar + 1, pkt, sizeof(pkt));
        struct nat_pkt p;
        enum nat_reason r = nat_pkt_parse(&p, pkt, len);
        printf("%d. %s (%zu bytes)\n   ", ++n, line, len);
        if (r != NAT_R_NONE) {
            printf("drop: %s\n", nat_reason_str(r));
            continue;
        }
        ok++;
        printf("%s ", kind_name(p.kind));
        print_addr(p.src);
        printf(":%u > ", p.sport);
        print_addr(p.dst);
        printf(":%u  ip-csum %04x ok, l4-csum %s\n", p.dport, ld16(pkt + 10),
               transport_csum_ok(pkt, &p) ? "ok" : "BAD");
        if (p.kind == NAT_PK_ICMP_ERROR) {
            printf("   quotes proto %u ", p.in.proto);
            print_addr(p.in.src);
            printf(":%u > ", p.in.sport);
            print_addr(p.in.dst);
            printf(":%u\n", p.in.dport);
        }
    }
    fclose(f);
    printf("\n%d packets, %d valid, %d dropped with a reason\n", n, ok, n - ok);
    return 0;
}
