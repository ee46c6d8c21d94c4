/*
 * Steering for scale-out: which of N single-threaded instances owns a
 * packet. Workers never share state; the dispatcher only reads headers.
 */
#include "config.h"

#include <string.h>

#include "bytes.h"
#include "nat_internal.h"
#include "packet.h"

int
nat_steer_init(struct nat_steer *st, uint32_t workers, uint16_t port_min,
               uint16_t port_max, const uint8_t secret[16])
{
    if (st == NULL || secret == NULL || workers == 0 || workers > 1024)
        return NAT_EINVAL;
    if (port_min == 0 || port_max < port_min)
        return NAT_ERANGE;
    uint32_t span = ((uint32_t)port_max - port_min + 1) / workers;
    if (span < 64)
        return NAT_ERANGE;
    st->workers = workers;
    st->port_min = port_min;
    st->port_max = port_max;
    st->span = span;
    st->key[0] = ld64le(secret); /* same workers on every machine */
    st->key[1] = ld64le(secret + 8);
    st->key[1] |= 1;
    return 0;
}

int
nat_steer_config(const struct nat_steer *st, uint32_t worker,
                 struct nat_config *cfg)
{
    if (st == NULL || cfg == NULL || worker >= st->workers)
        return NAT_EINVAL;
    cfg->port_min = (uint16_t)(st->port_min + worker * st->span);
    cfg->port_max = (uint16_t)(cfg->port_min + st->span - 1);
    cfg->icmp_id_min = cfg->port_min;
    cfg->icmp_id_max = cfg->port_max;
    cfg->port_class = 0;
    return 0;
}

static uint32_t
by_port(const struct nat_steer *st, uint16_t port)
{
    if (port < st->port_min)
        return 0;
    uint32_t w = (uint32_t)(port - st->port_min) / st->span;
    return w < st->workers ? w : 0;
}

uint32_t
nat_steer(const struct nat_steer *st, enum nat_dir dir, const uint8_t *pkt,
          size_t len)
{
    struct nat_pkt p;

    if (st == NULL || pkt == NULL || st->workers <= 1 ||
        nat_pkt_parse(&p, pkt, len) != NAT_R_NONE)
        return 0;
    if (dir == NAT_DIR_OUT) {
        /* By inside host: all of a host's flows meet in one instance. For
         * an error, the inside host is the quoted packet's destination. */
        uint32_t h = p.kind == NAT_PK_ICMP_ERROR ? p.in.dst : p.src;
        uint64_t x = (h ^ st->key[0]) * st->key[1];
        return (uint32_t)(((x >> 32) * st->workers) >> 32);
    }
    switch (p.kind) {
    case NAT_PK_TCP:
    case NAT_PK_UDP:
    case NAT_PK_ICMP_QUERY:
        return by_port(st, p.dport);
    case NAT_PK_ICMP_ERROR:
        return by_port(st, p.in.sport);
    default:
        return 0;
    }
}
