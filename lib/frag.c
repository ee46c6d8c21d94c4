/*
 * Fragments (RFC 4787 REQ-14, 14a): translated one by one, never
 * reassembled.
 *
 * The first fragment carries the transport header, so it goes through the
 * normal pipeline (its transport checksum covers the whole datagram and is
 * adjusted incrementally there). Its outcome is recorded under the key
 * (source, destination, protocol, IP identifier, direction); later
 * fragments only need their IP addresses rewritten the same way.
 *
 * Fragments that arrive before their first fragment are copied into a fixed
 * store (slots sized at create) with a per-source quota and a timeout; when
 * the first fragment is translated they are translated too and queued for
 * nat_frag_collect(). Overlaps cannot hurt: nothing is reassembled.
 */
#include "config.h"

#include <string.h>

#include "bytes.h"
#include "cksum.h"
#include "nat_internal.h"
#include "packet.h"

static uint32_t
fhash(const struct nat *n, uint32_t src, uint32_t dst, uint16_t id,
      uint8_t proto, uint8_t dir)
{
    return nat_hash5(n, (uint8_t)(proto ^ (dir << 7)), src, id, dst, 0xf7a9) &
           n->fmask;
}

void
frag_init(struct nat *n)
{
    for (uint32_t i = 0; i < n->ftrack_cap; i++) {
        n->ftrack[i].used = 0;
        n->ftrack[i].hnext = i + 1 < n->ftrack_cap ? i + 1 : NIL;
    }
    n->ftrack_free = n->ftrack_cap ? 0 : NIL;
    memset(n->fidx, 0xff, sizeof(uint32_t) * (n->fmask + 1));
    n->fq_head = n->fq_tail = NIL;
    for (uint32_t i = 0; i < n->fheld_cap; i++) {
        n->fheld[i].state = FH_FREE;
        n->fheld[i].qnext = i + 1 < n->fheld_cap ? i + 1 : NIL;
    }
    n->fh_free = n->fheld_cap ? 0 : NIL;
    memset(n->fh_kidx, 0xff, sizeof(uint32_t) * (n->fh_mask + 1));
    memset(n->fh_sidx, 0xff, sizeof(uint32_t) * (n->fh_mask + 1));
    n->hq_head = n->hq_tail = NIL;
    n->ready_head = n->ready_tail = NIL;
}

/* ---- the held store: three doubly linked lists per slot ------------------ */

static uint32_t *
kidx_head(struct nat *n, uint32_t src, uint32_t dst, uint16_t id,
          uint8_t proto, uint8_t dir)
{
    return &n->fh_kidx[nat_hash5(n, (uint8_t)(proto ^ (dir << 7)), src, id,
                                 dst, 0x5eed) &
                       n->fh_mask];
}

static uint32_t *
sidx_head(struct nat *n, uint32_t src)
{
    return &n->fh_sidx[nat_hash5(n, 0xf5, src, 0, 0, 0) & n->fh_mask];
}

/* Link slot @i at the head of, or unlink it from, the list threaded
 * through its @prev/@next members (the key and source chains share it). */
#define FH_LINK(n, headp, i, prev, next)                                       \
    do {                                                                       \
        uint32_t *h_ = (headp);                                                \
        (n)->fheld[i].prev = NIL;                                              \
        (n)->fheld[i].next = *h_;                                              \
        if (*h_ != NIL)                                                        \
            (n)->fheld[*h_].prev = (i);                                        \
        *h_ = (i);                                                             \
    } while (0)
#define FH_UNLINK(n, headp, i, prev, next)                                     \
    do {                                                                       \
        struct frag_held *e_ = &(n)->fheld[i];                                 \
        if (e_->prev != NIL)                                                   \
            (n)->fheld[e_->prev].next = e_->next;                              \
        else                                                                   \
            *(headp) = e_->next;                                               \
        if (e_->next != NIL)                                                   \
            (n)->fheld[e_->next].prev = e_->prev;                              \
    } while (0)

/* A held fragment leaves the key and source chains and the arrival queue
 * (it stays in its slot: ready, or about to be freed). */
static void
held_unlink(struct nat *n, uint32_t i)
{
    struct frag_held *h = &n->fheld[i];
    FH_UNLINK(n, kidx_head(n, h->src, h->dst, h->id, h->proto, h->dir), i,
              kprev, knext);
    FH_UNLINK(n, sidx_head(n, h->src), i, sprev, snext);
    if (h->qprev != NIL)
        n->fheld[h->qprev].qnext = h->qnext;
    else
        n->hq_head = h->qnext;
    if (h->qnext != NIL)
        n->fheld[h->qnext].qprev = h->qprev;
    else
        n->hq_tail = h->qprev;
}

static uint32_t
track_find(const struct nat *n, uint32_t src, uint32_t dst, uint16_t id,
           uint8_t proto, uint8_t dir)
{
    for (uint32_t i = n->fidx[fhash(n, src, dst, id, proto, dir)]; i != NIL;
         i = n->ftrack[i].hnext) {
        const struct frag_track *t = &n->ftrack[i];
        if (t->src == src && t->dst == dst && t->id == id &&
            t->proto == proto && t->dir == dir)
            return i;
    }
    return NIL;
}

/* Remove the oldest tracked datagram (the queue head). */
static void
track_pop(struct nat *n)
{
    uint32_t i = n->fq_head;
    struct frag_track *t = &n->ftrack[i];
    uint32_t *pp = &n->fidx[fhash(n, t->src, t->dst, t->id, t->proto, t->dir)];
    while (*pp != i)
        pp = &n->ftrack[*pp].hnext;
    *pp = t->hnext;
    n->fq_head = t->qnext;
    if (n->fq_head == NIL)
        n->fq_tail = NIL;
    t->used = 0;
    t->hnext = n->ftrack_free;
    n->ftrack_free = i;
    n->nftrack--;
}

/* Return slot @i (already off the held lists) to the free list; @why is
 * the drop it counts as, or NAT_R_NONE. */
static void
held_free(struct nat *n, uint32_t i, enum nat_reason why)
{
    n->fheld[i].state = FH_FREE;
    n->fheld[i].qnext = n->fh_free;
    n->fh_free = i;
    n->nfheld--;
    if (why != NAT_R_NONE) {
        n->st.verdicts[NAT_DROP]++;
        n->st.drops[why]++;
    }
}

void
frag_expire(struct nat *n, size_t budget)
{
    while (budget-- > 0 && n->fq_head != NIL &&
           n->ftrack[n->fq_head].expires <= n->now)
        track_pop(n);
    /* One timeout for all: the arrival queue is in deadline order. */
    uint32_t i;
    while ((i = n->hq_head) != NIL && n->fheld[i].expires <= n->now) {
        held_unlink(n, i);
        held_free(n, i, NAT_R_FRAG_TIMEOUT);
    }
}

/* nat_flush(): tracked datagrams are forgotten; held fragments, ready or
 * not, are dropped and counted as drops, so the statistics still add up. */
void
frag_flush(struct nat *n)
{
    uint32_t i;
    while ((i = n->hq_head) != NIL) {
        held_unlink(n, i);
        held_free(n, i, NAT_R_FRAG_ORPHAN);
    }
    while ((i = n->ready_head) != NIL) {
        n->ready_head = n->fheld[i].qnext;
        held_free(n, i, NAT_R_FRAG_ORPHAN);
    }
    frag_init(n);
    n->nftrack = n->nfheld = 0;
}

static struct nat_result
result(enum nat_verdict v, enum nat_reason r)
{
    struct nat_result res = {v, r};
    return res;
}

/* Rewrite a non-first fragment's addresses as its first fragment's were. */
static void
apply(uint8_t *b, uint32_t new_src, uint32_t new_dst)
{
    ck_apply(b + 10, ck_put32(b + 12, new_src) + ck_put32(b + 16, new_dst));
}

/* Is a fragment with no known first fragment one we should wait for? */
static int
frag_is_ours(const struct nat *n, enum nat_dir dir, const struct nat_pkt *p)
{
    if (dir == NAT_DIR_OUT)
        return rules_is_inside(n, p->src) && !rules_is_excluded(n, p->src) &&
               !rules_is_excluded(n, p->dst);
    return rules_pool_find(n, p->dst) != NIL;
}

struct nat_result
frag_nonfirst(struct nat *n, enum nat_dir dir, uint8_t *b, size_t len,
              const struct nat_pkt *p)
{
    /* RFC 6888 REQ-6: excluded traffic is never translated. */
    if (n->nexclude &&
        (rules_is_excluded(n, p->src) || rules_is_excluded(n, p->dst)))
        return result(NAT_PASS, NAT_R_NONE);

    uint32_t t = n->ftrack_cap ? track_find(n, p->src, p->dst, p->ip_id,
                                            p->proto, (uint8_t)dir)
                               : NIL;
    if (t != NIL) {
        const struct frag_track *ft = &n->ftrack[t];
        apply(b, ft->new_src, ft->new_dst);
        return result((enum nat_verdict)ft->verdict, NAT_R_NONE);
    }

    /* Basic NAT needs no state: rewrite the address directly, unless the
     * datagram is hairpinned (to one of our own addresses), where only its
     * first fragment can tell where it goes: then wait for it. */
    const struct one_to_one *o = dir == NAT_DIR_OUT
                                     ? rules_o2o_by_in(n, p->src)
                                     : rules_o2o_by_ext(n, p->dst);
    int hairpin = dir == NAT_DIR_OUT && n->cfg.hairpin &&
                  (rules_pool_find(n, p->dst) != NIL ||
                   rules_o2o_by_ext(n, p->dst) != NULL);
    if (o != NULL && !hairpin) {
        if (dir == NAT_DIR_OUT)
            apply(b, o->ext_addr, p->dst);
        else
            apply(b, p->src, o->in_addr);
        return result(dir == NAT_DIR_OUT ? NAT_OUT : NAT_IN, NAT_R_NONE);
    }
    if (o == NULL && !frag_is_ours(n, dir, p))
        return result(NAT_PASS, NAT_R_NONE);

    /* RFC 4787 REQ-14: out of order; hold it, bounded. */
    if (len > FRAG_SLOT)
        return result(NAT_DROP, NAT_R_FRAG_TOO_BIG);
    /* Per-source quota: count this source's held fragments on its chain,
     * stopping at the quota (so at most quota + collisions steps). */
    if (n->cfg.frag_held_per_src) {
        uint32_t same_src = 0;
        for (uint32_t i = *sidx_head(n, p->src);
             i != NIL && same_src < n->cfg.frag_held_per_src;
             i = n->fheld[i].snext)
            same_src += n->fheld[i].src == p->src;
        if (same_src >= n->cfg.frag_held_per_src)
            return result(NAT_DROP, NAT_R_FRAG_SRC_LIMIT);
    }
    uint32_t free_slot = n->fh_free;
    if (free_slot == NIL)
        return result(NAT_DROP, NAT_R_FRAG_STORE_FULL);
    n->fh_free = n->fheld[free_slot].qnext;
    struct frag_held *h = &n->fheld[free_slot];
    h->src = p->src;
    h->dst = p->dst;
    h->id = p->ip_id;
    h->proto = p->proto;
    h->dir = (uint8_t)dir;
    h->len = (uint16_t)len;
    h->state = FH_HELD;
    h->expires = n->now + n->cfg.frag_timeout_ms;
    memcpy(h->data, b, len);
    FH_LINK(n, kidx_head(n, h->src, h->dst, h->id, h->proto, h->dir),
            free_slot, kprev, knext);
    FH_LINK(n, sidx_head(n, h->src), free_slot, sprev, snext);
    h->qnext = NIL;
    h->qprev = n->hq_tail;
    if (n->hq_tail != NIL)
        n->fheld[n->hq_tail].qnext = free_slot;
    else
        n->hq_head = free_slot;
    n->hq_tail = free_slot;
    n->nfheld++;
    return result(NAT_HELD, NAT_R_NONE);
}

static void
track_add(struct nat *n, enum nat_dir dir, uint32_t osrc, uint32_t odst,
          const uint8_t *b, const struct nat_pkt *p, enum nat_verdict v)
{
    if (n->ftrack_cap == 0) /* tracking disabled: later fragments wait */
        return;
    uint32_t i = track_find(n, osrc, odst, p->ip_id, p->proto, (uint8_t)dir);
    if (i == NIL) {
        /* Full: the oldest datagram's later fragments will be held
         * instead (fragment state is not a session: it may be recycled). */
        if (n->ftrack_free == NIL)
            track_pop(n);
        if (n->ftrack_free == NIL)
            return;
        i = n->ftrack_free;
        n->ftrack_free = n->ftrack[i].hnext;
        struct frag_track *t = &n->ftrack[i];
        t->src = osrc;
        t->dst = odst;
        t->id = p->ip_id;
        t->proto = p->proto;
        t->dir = (uint8_t)dir;
        t->used = 1;
        uint32_t *head =
            &n->fidx[fhash(n, osrc, odst, p->ip_id, p->proto, (uint8_t)dir)];
        t->hnext = *head;
        *head = i;
        t->qnext = NIL;
        if (n->fq_tail != NIL)
            n->ftrack[n->fq_tail].qnext = i;
        else
            n->fq_head = i;
        n->fq_tail = i;
        t->expires = n->now + n->cfg.frag_timeout_ms;
        n->nftrack++;
    }
    struct frag_track *t = &n->ftrack[i];
    t->new_src = ld32(b + 12);
    t->new_dst = ld32(b + 16);
    t->verdict = (uint8_t)v;
}

/*
 * The first fragment of (osrc, odst, id, proto) went through the pipeline
 * with result @r. Record it, and release or discard the fragments that
 * were waiting for it.
 */
void
frag_first_done(struct nat *n, enum nat_dir dir, uint32_t osrc, uint32_t odst,
                const uint8_t *b, const struct nat_pkt *p, struct nat_result r)
{
    int translated =
        r.verdict == NAT_OUT || r.verdict == NAT_IN || r.verdict == NAT_HAIRPIN;
    if (translated)
        track_add(n, dir, osrc, odst, b, p, r.verdict);
    if (n->nfheld == 0)
        return;
    /* Only this datagram's key chain: its own fragments and collisions.
     * The chain is newest first; prepending to @run restores arrival
     * order, in which they join the ready queue. */
    uint32_t run = NIL, run_tail = NIL;
    uint32_t i =
        *kidx_head(n, osrc, odst, p->ip_id, p->proto, (uint8_t)dir);
    while (i != NIL) {
        struct frag_held *h = &n->fheld[i];
        uint32_t next = h->knext;
        if (h->src != osrc || h->dst != odst || h->id != p->ip_id ||
            h->proto != p->proto || h->dir != dir) {
            i = next;
            continue;
        }
        held_unlink(n, i);
        /* Dropped, or (after a rule change while it waited) passed: the
         * collector could not tell which way to send it. */
        if (!translated) {
            held_free(n, i, NAT_R_FRAG_ORPHAN);
            i = next;
            continue;
        }
        apply(h->data, ld32(b + 12), ld32(b + 16));
        h->state = FH_READY;
        h->verdict = (uint8_t)r.verdict;
        h->qnext = run;
        if (run == NIL)
            run_tail = i;
        run = i;
        i = next;
    }
    if (run == NIL)
        return;
    if (n->ready_tail != NIL)
        n->fheld[n->ready_tail].qnext = run;
    else
        n->ready_head = run;
    n->ready_tail = run_tail;
}

int
nat_frag_collect(struct nat *n, uint8_t *buf, size_t cap, size_t *len,
                 struct nat_result *res)
{
    if (n == NULL)
        return NAT_EINVAL;
    uint32_t i = n->ready_head;
    if (i == NIL)
        return 0;
    struct frag_held *h = &n->fheld[i];
    if (buf == NULL || len == NULL || res == NULL)
        return NAT_EINVAL;
    if (cap < h->len)
        return NAT_ENOSPC;
    memcpy(buf, h->data, h->len);
    *len = h->len;
    res->verdict = (enum nat_verdict)h->verdict;
    res->reason = NAT_R_NONE;
    n->st.verdicts[h->verdict]++;
    n->ready_head = h->qnext;
    if (n->ready_head == NIL)
        n->ready_tail = NIL;
    held_free(n, i, NAT_R_NONE);
    return 1;
}
