/*
 * TCP state tracking for timeouts (RFC 7857 section 2, after RFC 6146;
 * RFC 5382 REQ-2 and REQ-5). The state only chooses the timeout class:
 * established (2 h 4 min) while data can flow, transitory (4 min) while a
 * connection opens, closes or was reset. Sequence numbers are not tracked.
 */
#include "config.h"

#include "nat_internal.h"
#include "packet.h"

static enum tclass
tcp_class(uint8_t state)
{
    switch (state) {
    case NAT_TCP_ESTABLISHED:
    case NAT_TCP_FIN_OUT:
    case NAT_TCP_FIN_IN:
        return TC_TCP_EST;
    default:
        return TC_TCP_TRANS;
    }
}

enum tclass
nat_tcp_track(struct sess *s, uint8_t fl, int out)
{
    if (fl & NAT_TH_RST) {
        /* RFC 7857 2.2: keep the session for the transitory time. */
        s->state = NAT_TCP_RST;
        return TC_TCP_TRANS;
    }
    switch (s->state) {
    case NAT_TCP_SYN_OUT: /* SYN both ways, incl. simultaneous open */
        if (!out && (fl & NAT_TH_SYN))
            s->state = NAT_TCP_ESTABLISHED;
        break;
    case NAT_TCP_SYN_IN:
        if (out && (fl & NAT_TH_SYN))
            s->state = NAT_TCP_ESTABLISHED;
        break;
    case NAT_TCP_ESTABLISHED:
        if (fl & NAT_TH_FIN)
            s->state = out ? NAT_TCP_FIN_OUT : NAT_TCP_FIN_IN;
        break;
    case NAT_TCP_FIN_OUT:
        if (!out && (fl & NAT_TH_FIN))
            s->state = NAT_TCP_CLOSING;
        break;
    case NAT_TCP_FIN_IN:
        if (out && (fl & NAT_TH_FIN))
            s->state = NAT_TCP_CLOSING;
        break;
    case NAT_TCP_RST:
        /* The RST was not accepted (e.g. out of window) and the peers
         * carry on: back to established. */
        if (fl & NAT_TH_ACK)
            s->state = NAT_TCP_ESTABLISHED;
        break;
    default:
        break;
    }
    return tcp_class(s->state);
}
