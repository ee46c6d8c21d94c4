/*
 * Table layer: session, binding and host pools, their keyed hash indexes,
 * and O(1) expiry lists. It knows nothing of packets.
 */
#include "config.h"

#include <string.h>

#include "nat_internal.h"

/* ---- lists --------------------------------------------------------------- */

static void
sl_unlink(struct nat *n, struct list *l, uint32_t i)
{
    struct sess *s = &n->sess[i];
    if (s->lprev != NIL)
        n->sess[s->lprev].lnext = s->lnext;
    else
        l->head = s->lnext;
    if (s->lnext != NIL)
        n->sess[s->lnext].lprev = s->lprev;
    else
        l->tail = s->lprev;
}

static void
sl_append(struct nat *n, struct list *l, uint32_t i)
{
    struct sess *s = &n->sess[i];
    s->queued = n->now32;
    s->lnext = NIL;
    s->lprev = l->tail;
    if (l->tail != NIL)
        n->sess[l->tail].lnext = i;
    else
        l->head = i;
    l->tail = i;
}

/*
 * Requeue a refreshed session in join order as of its last packet, so its
 * next check falls exactly on its real deadline. Sessions that joined after
 * that packet are stepped over from the tail, at most 8 of them; past that
 * it goes last, and may end up to one timeout late (never early).
 */
static void
sl_requeue(struct nat *n, struct list *l, uint32_t i)
{
    struct sess *s = &n->sess[i];
    uint32_t age = ms_since(n->now32, s->last);
    uint32_t after = l->tail;
    for (int steps = 0; after != NIL && steps < 8; steps++) {
        if (ms_since(n->now32, n->sess[after].queued) >= age)
            break; /* joined no later than our last packet */
        after = n->sess[after].lprev;
    }
    if (after != NIL && ms_since(n->now32, n->sess[after].queued) < age) {
        sl_append(n, l, i); /* too far back: go last */
        return;
    }
    s->queued = s->last;
    s->lprev = after;
    s->lnext = after == NIL ? l->head : n->sess[after].lnext;
    if (s->lprev != NIL)
        n->sess[s->lprev].lnext = i;
    else
        l->head = i;
    if (s->lnext != NIL)
        n->sess[s->lnext].lprev = i;
    else
        l->tail = i;
}

/* The held-binding list is a queue: bindings join at the tail when their
 * hold begins and leave only from the head, oldest first. */
static void
held_push(struct nat *n, uint32_t i)
{
    n->bind[i].lnext = NIL;
    if (n->held.tail != NIL)
        n->bind[n->held.tail].lnext = i;
    else
        n->held.head = i;
    n->held.tail = i;
    n->nheld++;
}

static void bind_release_port(struct nat *n, uint32_t bi);

/* End the hold of the oldest held binding: its port becomes free. */
static void
held_release_oldest(struct nat *n)
{
    uint32_t bi = n->held.head;
    n->held.head = n->bind[bi].lnext;
    if (n->held.head == NIL)
        n->held.tail = NIL;
    n->nheld--;
    bind_release_port(n, bi);
}

void
tbl_init(struct nat *n)
{
    for (uint32_t i = 0; i < n->sess_cap; i++) {
        n->sess[i].tclass = TC_FREE;
        n->sess[i].gen = 0;
        n->sess[i].lnext = i + 1 < n->sess_cap ? i + 1 : NIL;
    }
    n->sess_free = n->sess_cap ? 0 : NIL;
    for (uint32_t i = 0; i < n->bind_cap; i++) {
        n->bind[i].flags = 0;
        n->bind[i].lnext = i + 1 < n->bind_cap ? i + 1 : NIL;
    }
    n->bind_free = n->bind_cap ? 0 : NIL;
    for (uint32_t i = 0; i < n->host_cap; i++)
        n->host[i].hnext = i + 1 < n->host_cap ? i + 1 : NIL;
    n->host_free = n->host_cap ? 0 : NIL;
    memset(n->sidx_in, 0xff, sizeof(uint32_t) * (n->smask + 1));
    memset(n->sidx_out, 0xff, sizeof(uint32_t) * (n->smask + 1));
    memset(n->sidx_addr, 0xff, sizeof(uint32_t) * (n->smask + 1));
    memset(n->bidx_in, 0xff, sizeof(uint32_t) * (n->bmask + 1));
    memset(n->bidx_out, 0xff, sizeof(uint32_t) * (n->bmask + 1));
    memset(n->hidx, 0xff, sizeof(uint32_t) * (n->hmask + 1));
    for (int c = 0; c < TC_MAX; c++)
        n->lists[c].head = n->lists[c].tail = NIL;
    n->held.head = n->held.tail = NIL;
}

void
tbl_event(struct nat *n, enum nat_event_type type, enum nat_end_cause c,
          enum nat_reason r, uint8_t proto, uint32_t in_addr, uint16_t in_port,
          uint32_t ext_addr, uint16_t ext_port, uint32_t rem_addr,
          uint16_t rem_port)
{
    if (n->cfg.event_cb == NULL)
        return;
    struct nat_event ev = {
        .type = type,
        .reason = r,
        .cause = c,
        .now_ms = n->now,
        .proto = proto,
        .in_addr = in_addr,
        .ext_addr = ext_addr,
        .rem_addr = rem_addr,
        .in_port = in_port,
        .ext_port = ext_port,
        .rem_port = rem_port,
    };
    n->cfg.event_cb(&ev, n->cfg.event_arg);
}

/* ---- lookups ------------------------------------------------------------- */

uint32_t
tbl_bind_find_in(const struct nat *n, uint8_t proto, uint32_t in_addr,
                 uint16_t in_port, uint32_t rem_addr, uint16_t rem_port)
{
    uint32_t h = nat_hash5(n, proto, in_addr, in_port, rem_addr, rem_port);
    for (uint32_t i = n->bidx_in[h & n->bmask]; i != NIL;
         i = n->bind[i].hnext_in) {
        const struct bind *b = &n->bind[i];
        if (b->in_addr == in_addr && b->in_port == in_port &&
            b->rem_addr == rem_addr && b->rem_port == rem_port &&
            b->proto == proto)
            return i;
    }
    return NIL;
}

uint32_t
tbl_bind_find_out(const struct nat *n, uint8_t proto, uint32_t ext_addr,
                  uint16_t ext_port)
{
    uint32_t h = nat_hash5(n, proto, ext_addr, ext_port, 0, 0);
    for (uint32_t i = n->bidx_out[h & n->bmask]; i != NIL;
         i = n->bind[i].hnext_out) {
        const struct bind *b = &n->bind[i];
        if (b->ext_addr == ext_addr && b->ext_port == ext_port &&
            b->proto == proto)
            return i;
    }
    return NIL;
}

/* ---- hosts --------------------------------------------------------------- */

uint32_t
tbl_host_find(const struct nat *n, uint32_t addr)
{
    uint32_t h = nat_hash5(n, 0, addr, 0, 0, 0);
    for (uint32_t i = n->hidx[h & n->hmask]; i != NIL; i = n->host[i].hnext)
        if (n->host[i].addr == addr)
            return i;
    return NIL;
}

/* Find or create the host record; NIL when the host table is full. */
uint32_t
tbl_host_get(struct nat *n, uint32_t addr)
{
    uint32_t i = tbl_host_find(n, addr);
    if (i != NIL || n->host_free == NIL)
        return i;
    i = n->host_free;
    struct host *h = &n->host[i];
    n->host_free = h->hnext;
    h->addr = addr;
    h->nsess = h->nbind = 0;
    h->pool = NIL;
    uint32_t *head = &n->hidx[nat_hash5(n, 0, addr, 0, 0, 0) & n->hmask];
    h->hnext = *head;
    *head = i;
    n->nhost++;
    return i;
}

/* Release the host record once nothing refers to it. */
void
tbl_host_put(struct nat *n, uint32_t i)
{
    struct host *h = &n->host[i];
    if (h->nbind != 0 || h->nsess != 0)
        return;
    uint32_t *pp = &n->hidx[nat_hash5(n, 0, h->addr, 0, 0, 0) & n->hmask];
    while (*pp != i)
        pp = &n->host[*pp].hnext;
    *pp = h->hnext;
    h->hnext = n->host_free;
    n->host_free = i;
    n->nhost--;
}

/* ---- bindings ------------------------------------------------------------ */

static void
bind_release_port(struct nat *n, uint32_t bi)
{
    struct bind *b = &n->bind[bi];
    if (!(b->flags & BF_FORWARD)) /* a forward owns its ports */
        port_clear(n, b->pool, b->proto, b->ext_port);
    n->pool[b->pool].nbind--;
    b->flags = 0;
    b->lnext = n->bind_free;
    n->bind_free = bi;
}

/* Take a free binding slot. When none is free, the oldest binding in the
 * port hold-down gives its slot up early: never a live one. */
uint32_t
tbl_bind_new(struct nat *n)
{
    if (n->bind_free == NIL && n->held.head != NIL)
        held_release_oldest(n);
    uint32_t i = n->bind_free;
    if (i == NIL)
        return NIL;
    n->bind_free = n->bind[i].lnext;
    struct bind *b = &n->bind[i];
    memset(b, 0, sizeof(*b));
    b->sess_head = NIL;
    b->lnext = NIL;
    return i;
}

/* Publish a filled-in binding in both indexes. */
void
tbl_bind_link(struct nat *n, uint32_t bi)
{
    struct bind *b = &n->bind[bi];
    uint32_t *head = &n->bidx_in[nat_hash5(n, b->proto, b->in_addr, b->in_port,
                                           b->rem_addr, b->rem_port) &
                                 n->bmask];
    b->hnext_in = *head;
    *head = bi;
    head = &n->bidx_out[nat_hash5(n, b->proto, b->ext_addr, b->ext_port, 0, 0) &
                        n->bmask];
    b->hnext_out = *head;
    *head = bi;
    b->flags |= BF_LIVE;
    n->nbind++;
    n->pool[b->pool].nbind++;
    n->host[b->host].nbind++;
    n->st.bindings_created++;
    tbl_event(n, NAT_EV_BINDING_CREATE, NAT_END_NONE, NAT_R_NONE, b->proto,
              b->in_addr, b->in_port, b->ext_addr, b->ext_port, 0, 0);
}

static void
bind_unlink_idx(struct nat *n, uint32_t bi)
{
    struct bind *b = &n->bind[bi];
    uint32_t *pp = &n->bidx_in[nat_hash5(n, b->proto, b->in_addr, b->in_port,
                                         b->rem_addr, b->rem_port) &
                               n->bmask];
    while (*pp != bi)
        pp = &n->bind[*pp].hnext_in;
    *pp = b->hnext_in;
    pp = &n->bidx_out[nat_hash5(n, b->proto, b->ext_addr, b->ext_port, 0, 0) &
                      n->bmask];
    while (*pp != bi)
        pp = &n->bind[*pp].hnext_out;
    *pp = b->hnext_out;
}

/* The last session of a binding ended: unpublish it and hold its port down
 * (RFC 6888 REQ-8) before the port can go to another inside endpoint. */
static void
bind_end(struct nat *n, uint32_t bi, enum nat_end_cause cause, int hold)
{
    struct bind *b = &n->bind[bi];
    bind_unlink_idx(n, bi);
    b->flags &= (uint8_t)~BF_LIVE;
    n->nbind--;
    n->host[b->host].nbind--;
    tbl_host_put(n, b->host);
    n->st.bindings_ended++;
    tbl_event(n, NAT_EV_BINDING_DELETE, cause, NAT_R_NONE, b->proto, b->in_addr,
              b->in_port, b->ext_addr, b->ext_port, 0, 0);
    if (hold && n->cfg.port_hold_ms > 0 && !(b->flags & BF_FORWARD)) {
        b->flags |= BF_HELD;
        b->held_since = n->now32;
        held_push(n, bi);
    } else {
        bind_release_port(n, bi);
    }
}

/* The remote-address index: sessions keyed by (binding, remote address),
 * for address-dependent filtering. Doubly linked, so that many sessions
 * with one key (a remote that opens many ports) cost nothing to unlink. */
static inline uint32_t *
aidx_head(struct nat *n, uint32_t bi, uint32_t rem_addr)
{
    return &n->sidx_addr[nat_hash5(n, 0xad, bi, 0, rem_addr, 0) & n->smask];
}

static void
aidx_link(struct nat *n, uint32_t i)
{
    struct sess *s = &n->sess[i];
    uint32_t *head = aidx_head(n, s->bind, s->rem_addr);
    s->aprev = NIL;
    s->anext = *head;
    if (*head != NIL)
        n->sess[*head].aprev = i;
    *head = i;
}

static void
aidx_unlink(struct nat *n, uint32_t i)
{
    struct sess *s = &n->sess[i];
    if (s->aprev != NIL)
        n->sess[s->aprev].anext = s->anext;
    else
        *aidx_head(n, s->bind, s->rem_addr) = s->anext;
    if (s->anext != NIL)
        n->sess[s->anext].aprev = s->aprev;
}

/*
 * Has binding @bi a live session with remote address @rem_addr (RFC 4787
 * REQ-8 address-dependent filtering)? One keyed-hash chain is walked:
 * O(1) expected whatever the binding's session count. Expired sessions met
 * on the way are ended (each once: amortised O(1)); that may end the
 * binding itself, which returns -1.
 */
int
tbl_bind_talked(struct nat *n, uint32_t bi, uint32_t rem_addr)
{
    uint32_t i = *aidx_head(n, bi, rem_addr);
    while (i != NIL) {
        struct sess *s = &n->sess[i];
        uint32_t next = s->anext;
        if (s->bind == bi && s->rem_addr == rem_addr) {
            if (!sess_expired(n, s))
                return 1;
            tbl_sess_end(n, i, NAT_END_EXPIRED);
            if (!(n->bind[bi].flags & BF_LIVE))
                return -1;
        }
        i = next;
    }
    return 0;
}

/*
 * Is binding @bi still live, that is, has it a session whose deadline has
 * not passed? Its newest sessions are looked at first; expired ones are
 * ended on the way (each once), so the walk is amortised O(1). A binding
 * whose sessions have all expired ends here, as expiry would have ended it.
 */
int
tbl_bind_alive(struct nat *n, uint32_t bi)
{
    for (;;) {
        uint32_t i = n->bind[bi].sess_head;
        if (i == NIL || !(n->bind[bi].flags & BF_LIVE))
            return 0;
        if (!sess_expired(n, &n->sess[i]))
            return 1;
        tbl_sess_end(n, i, NAT_END_EXPIRED);
    }
}

/* ---- sessions ------------------------------------------------------------ */

uint32_t
tbl_sess_new(struct nat *n, uint32_t bi, uint32_t rem_addr, uint16_t rem_port,
             enum tclass tc)
{
    uint32_t i = n->sess_free;
    if (i == NIL)
        return NIL;
    struct sess *s = &n->sess[i];
    struct bind *b = &n->bind[bi];
    n->sess_free = s->lnext;

    s->in_addr = b->in_addr;
    s->in_port = b->in_port;
    s->ext_addr = b->ext_addr;
    s->ext_port = b->ext_port;
    s->rem_addr = rem_addr;
    s->rem_port = rem_port;
    s->proto = b->proto;
    s->state = NAT_TCP_NONE;
    s->tclass = (uint8_t)tc;
    s->bind = bi;
    s->last = n->now32;

    uint32_t *head = &n->sidx_in[nat_hash5(n, s->proto, s->in_addr, s->in_port,
                                           rem_addr, rem_port) &
                                 n->smask];
    s->hnext_in = *head;
    *head = i;
    head = &n->sidx_out[nat_hash5(n, s->proto, s->ext_addr, s->ext_port,
                                  rem_addr, rem_port) &
                        n->smask];
    s->hnext_out = *head;
    *head = i;

    s->bprev = NIL;
    s->bnext = b->sess_head;
    if (b->sess_head != NIL)
        n->sess[b->sess_head].bprev = i;
    b->sess_head = i;
    aidx_link(n, i);

    sl_append(n, &n->lists[tc], i);
    n->host[b->host].nsess++;
    n->nsess++;
    n->nsess_proto[proto_idx(s->proto)]++;
    if (n->nsess > n->nsess_peak)
        n->nsess_peak = n->nsess;
    n->st.sessions_created++;
    tbl_event(n, NAT_EV_SESSION_CREATE, NAT_END_NONE, NAT_R_NONE, s->proto,
              s->in_addr, s->in_port, s->ext_addr, s->ext_port, rem_addr,
              rem_port);
    return i;
}

/* The session's timeout class changes (tbl_sess_touch()): move it to its
 * new list, by now if refreshed, else by its last packet. */
void
tbl_sess_reclass(struct nat *n, uint32_t i, enum tclass tc, int refresh)
{
    struct sess *s = &n->sess[i];
    sl_unlink(n, &n->lists[s->tclass], i);
    s->tclass = (uint8_t)tc;
    if (refresh)
        sl_append(n, &n->lists[tc], i);
    else /* keep its deadline: order it by its last packet */
        sl_requeue(n, &n->lists[tc], i);
}

void
tbl_sess_end(struct nat *n, uint32_t i, enum nat_end_cause cause)
{
    struct sess *s = &n->sess[i];
    uint32_t bi = s->bind;
    struct bind *b = &n->bind[bi];

    uint32_t *pp = &n->sidx_in[nat_hash5(n, s->proto, s->in_addr, s->in_port,
                                         s->rem_addr, s->rem_port) &
                               n->smask];
    while (*pp != i)
        pp = &n->sess[*pp].hnext_in;
    *pp = s->hnext_in;
    pp = &n->sidx_out[nat_hash5(n, s->proto, s->ext_addr, s->ext_port,
                                s->rem_addr, s->rem_port) &
                      n->smask];
    while (*pp != i)
        pp = &n->sess[*pp].hnext_out;
    *pp = s->hnext_out;

    if (s->bprev != NIL)
        n->sess[s->bprev].bnext = s->bnext;
    else
        b->sess_head = s->bnext;
    if (s->bnext != NIL)
        n->sess[s->bnext].bprev = s->bprev;
    aidx_unlink(n, i);

    sl_unlink(n, &n->lists[s->tclass], i);
    n->host[b->host].nsess--;
    n->nsess--;
    n->nsess_proto[proto_idx(s->proto)]--;
    n->st.sessions_ended++;
    tbl_event(n, NAT_EV_SESSION_DELETE, cause, NAT_R_NONE, s->proto, s->in_addr,
              s->in_port, s->ext_addr, s->ext_port, s->rem_addr, s->rem_port);

    s->tclass = TC_FREE;
    s->gen++;
    s->lnext = n->sess_free;
    n->sess_free = i;

    if (b->sess_head == NIL) /* its last session */
        bind_end(n, bi, cause, cause != NAT_END_FLUSHED);
}

/* The head @i of list @l joined at least a timeout @to ago: end it if its
 * last packet is that old too (returns 1), else requeue it (returns 0). */
static int
head_expire(struct nat *n, struct list *l, uint32_t i, uint32_t to)
{
    if (ms_since(n->now32, n->sess[i].last) >= to) {
        tbl_sess_end(n, i, NAT_END_EXPIRED);
        return 1;
    }
    sl_unlink(n, l, i); /* refreshed since it joined */
    sl_requeue(n, l, i);
    return 0;
}

/*
 * Expire idle sessions and finished port holds: at most @budget sessions
 * end, and at most 4 * @budget refreshed sessions move to their list's
 * tail. A list head that joined less than a timeout ago stops the scan:
 * everything behind it joined later.
 */
size_t
tbl_expire(struct nat *n, size_t budget)
{
    size_t done = 0, moved = 0;
    for (int c = 0; c < TC_MAX; c++) {
        struct list *l = &n->lists[c];
        uint32_t to = (uint32_t)n->timeout[c];
        while (done < budget && moved < 4 * budget) {
            uint32_t i = l->head;
            if (i == NIL || ms_since(n->now32, n->sess[i].queued) < to)
                break;
            if (head_expire(n, l, i, to))
                done++;
            else
                moved++;
        }
    }
    size_t holds = budget;
    while (holds-- > 0) {
        uint32_t bi = n->held.head;
        if (bi == NIL ||
            ms_since(n->now32, n->bind[bi].held_since) < n->cfg.port_hold_ms)
            break;
        held_release_oldest(n);
    }
    return done;
}

/*
 * Advance the tables' clock to @now_ms (never backwards), keeping the
 * AGE_LIMIT invariant of nat_internal.h whatever the expiry budget:
 *  - after an idle gap of AGE_LIMIT or more, every session and hold is
 *    past its deadline (all timeouts are below AGE_LIMIT), and its 32-bit
 *    stamps could no longer be compared: end them all;
 *  - otherwise every stamp is less than 2^31 old, so ages are exact; list
 *    heads that joined AGE_LIMIT or more ago are ended (or, refreshed,
 *    requeued) now. Lists are in join order, so this stops at the first
 *    younger head; each session is met at most once per AGE_LIMIT, which
 *    keeps the work amortised O(1) per session.
 * Returns the number of sessions ended.
 */
size_t
tbl_clock(struct nat *n, uint64_t now_ms)
{
    size_t done = 0;
    if (now_ms <= n->now)
        return 0;
    int gap = now_ms - n->last_call >= AGE_LIMIT;
    n->now = now_ms;
    n->now32 = (uint32_t)now_ms;
    n->last_call = now_ms;
    for (int c = 0; c < TC_MAX; c++) {
        struct list *l = &n->lists[c];
        uint32_t i;
        while ((i = l->head) != NIL &&
               (gap || ms_since(n->now32, n->sess[i].queued) >= AGE_LIMIT)) {
            if (gap) {
                tbl_sess_end(n, i, NAT_END_EXPIRED);
                done++;
            } else {
                done += (size_t)head_expire(n, l, i, (uint32_t)n->timeout[c]);
            }
        }
    }
    uint32_t bi;
    while ((bi = n->held.head) != NIL &&
           (gap || ms_since(n->now32, n->bind[bi].held_since) >= AGE_LIMIT))
        held_release_oldest(n);
    return done;
}

size_t
tbl_flush(struct nat *n)
{
    size_t done = 0;
    for (int c = 0; c < TC_MAX; c++) {
        while (n->lists[c].head != NIL) {
            tbl_sess_end(n, n->lists[c].head, NAT_END_FLUSHED);
            done++;
        }
    }
    while (n->held.head != NIL)
        held_release_oldest(n);
    return done;
}
