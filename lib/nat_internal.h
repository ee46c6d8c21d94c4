/*
 * Internal state of a NAT instance, shared by the engine's layers.
 *
 * Everything lives in one block sized at create (nat_memsize()); links
 * between entries are 32-bit slot numbers with NIL as "none" (half the size
 * of pointers), and the packet path never allocates.
 */
#ifndef NAT_INTERNAL_H
#define NAT_INTERNAL_H

#include <stdint.h>

#include "libnat.h"

#define NIL UINT32_MAX

#if defined(__GNUC__)
#define NAT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NAT_ALWAYS_INLINE inline
#endif

/* Timeout classes, one expiry list each (refresh = move to tail, so each
 * list is ordered by expiry time and expiry only ever looks at heads). */
enum tclass { TC_UDP = 0, TC_ICMP, TC_TCP_EST, TC_TCP_TRANS, TC_MAX };
#define TC_FREE 0xff /* tclass of a free session slot */

/*
 * Times inside tables are the low 32 bits of the caller's millisecond clock
 * and are compared with wrap-safe differences. That is exact only for ages
 * below 2^32 ms, so the tables keep an invariant: after every clock advance
 * no stamp is AGE_LIMIT (2^30 ms) or more behind the clock (tbl_clock()
 * ends or requeues what reaches it, and an idle gap of AGE_LIMIT ends
 * everything: every timeout is below AGE_LIMIT). Between two advances a
 * stamp's age is therefore below 2^31, whatever the expiry budget.
 */
#define AGE_LIMIT (1u << 30)
static inline uint32_t
ms_since(uint32_t now32, uint32_t then32)
{
    return now32 - then32;
}

/* Session: a binding plus one remote endpoint (RFC 6146 terms). The
 * addresses are IPv4 now; NAT64 will key inside hosts through `host`
 * (which holds the full address) and keep these as the v4 view. */
struct sess {
    uint32_t in_addr, ext_addr, rem_addr;
    uint16_t in_port, ext_port, rem_port;
    uint8_t proto;
    uint8_t state;  /* enum nat_tcp_state */
    uint8_t tclass; /* enum tclass, TC_FREE when the slot is free */
    uint8_t pad;
    uint32_t bind;
    uint32_t hnext_in, hnext_out; /* hash chains: inside / outside index */
    uint32_t lprev, lnext;        /* expiry list (free list when free) */
    uint32_t bprev, bnext;        /* sessions of the same binding */
    uint32_t aprev, anext; /* remote-address index: (binding, rem_addr) */
    uint32_t last;   /* low 32 bits of the caller ms of the last packet */
    uint32_t queued; /* when it joined its expiry list (lists stay sorted) */
    uint32_t gen;    /* bumped on free: ids of ended sessions never match */
};

enum bind_flags {
    BF_LIVE = 1,    /* in the indexes, has sessions */
    BF_HELD = 2,    /* released, port held down until held_until */
    BF_FORWARD = 4, /* created by a static forward: port owned by it */
};

/* Binding: inside endpoint <-> external endpoint. Under address(-and-port)
 * dependent mapping the remote address (and port) is part of its key. */
struct bind {
    uint32_t in_addr, ext_addr, rem_addr;
    uint16_t in_port, ext_port, rem_port;
    uint8_t proto;
    uint8_t flags;
    uint16_t pool; /* pool slot of ext_addr (max_pool <= 4096) */
    uint32_t host;
    uint32_t hnext_in, hnext_out; /* hash chains */
    uint32_t sess_head;           /* list of its sessions (NIL: none) */
    uint32_t lnext;               /* held queue / free list */
    uint32_t held_since;          /* low 32 bits of ms when the hold began */
};

/* An inside host: paired pooling (RFC 4787 REQ-2) and per-host limits. */
struct host {
    uint32_t addr;
    uint32_t pool;  /* the external address all its bindings use */
    uint32_t hnext; /* hash chain, or free list */
    uint32_t nsess;
    uint32_t nbind;
};

/* One external address: port occupancy per protocol. A set bit is a port
 * in use (by a live or held binding, or reserved by a forward); `full`
 * has one bit per 64-port word that has no free port left. */
#define PORT_WORDS 1024
struct pool_addr {
    uint32_t addr;
    uint32_t nbind; /* live + held bindings using it */
    uint8_t used;
    uint64_t bits[NAT_P_MAX][PORT_WORDS];
    uint64_t full[NAT_P_MAX][PORT_WORDS / 64];
};

struct prefix {
    uint32_t addr, mask;
};

struct one_to_one {
    uint32_t in_addr, ext_addr;
};
/* 1:1 rules are found by either address through two open-addressed
 * tables of rule index + 1 (0: empty), load <= 1/2, rebuilt on change. */

struct list {
    uint32_t head, tail;
};

/* A fragmented datagram whose first fragment was translated: later
 * fragments (no transport header) get the same addresses and verdict. */
struct frag_track {
    uint32_t src, dst;         /* as received */
    uint32_t new_src, new_dst; /* as sent */
    uint16_t id;
    uint8_t proto, dir, verdict, used;
    uint32_t hnext; /* hash chain, or free list */
    uint32_t qnext; /* creation-order queue (for expiry) */
    uint64_t expires;
};

/* An out-of-order fragment kept until its first fragment arrives. Held
 * fragments are on three doubly linked lists, so that every operation is
 * O(1) whatever an attacker sends: a chain of the datagram-key index
 * (first fragment: release them), a chain of the source index (per-source
 * quota), and the arrival queue (expiry: one timeout, so arrival order is
 * deadline order). A free slot is on the free list (qnext); a ready one
 * only on the ready queue (qnext). */
#define FRAG_SLOT 2048
enum { FH_FREE = 0, FH_HELD, FH_READY };
struct frag_held {
    uint32_t src, dst;
    uint16_t id, len;
    uint8_t proto, dir, state, verdict;
    uint32_t kprev, knext; /* datagram-key chain */
    uint32_t sprev, snext; /* source chain */
    uint32_t qprev, qnext; /* arrival queue / free list / ready queue */
    uint64_t expires;
    uint8_t data[FRAG_SLOT];
};

struct nat {
    struct nat_config cfg;
    void *alloc;   /* non-NULL when nat_create() allocated the block */
    uint64_t k[4]; /* hash keys derived from cfg.secret */
    uint64_t timeout[TC_MAX];

    /* sessions */
    struct sess *sess;
    uint32_t sess_cap, sess_free;
    uint32_t *sidx_in, *sidx_out; /* bucket heads */
    uint32_t *sidx_addr;          /* (binding, remote address) index */
    uint32_t smask;
    struct list lists[TC_MAX];
    uint32_t nsess, nsess_proto[NAT_P_MAX], nsess_peak;

    /* bindings */
    struct bind *bind;
    uint32_t bind_cap, bind_free;
    uint32_t *bidx_in, *bidx_out;
    uint32_t bmask;
    struct list held;
    uint32_t nbind, nheld;

    /* hosts */
    struct host *host;
    uint32_t host_cap, host_free;
    uint32_t *hidx;
    uint32_t hmask;
    uint32_t nhost;

    /* rules */
    struct pool_addr *pool;
    uint32_t pool_cap, npool;
    uint32_t *pool_hidx; /* open addressing: pool slot + 1, 0 = empty */
    uint32_t *pool_dense; /* the used slots in slot order (npool of them) */
    uint32_t pool_hmask;
    uint64_t ours_filter; /* bit per hash of each pool and 1:1 address */
    struct prefix *inside, *exclude;
    uint32_t prefix_cap, ninside, nexclude;
    struct nat_forward *fwd;
    uint32_t fwd_cap, nfwd;
    struct one_to_one *o2o;
    uint32_t o2o_cap, no2o;
    uint32_t *o2o_hin, *o2o_hext;
    uint32_t o2o_hmask;

    /* fragments */
    struct frag_track *ftrack;
    uint32_t ftrack_cap, ftrack_free, fmask, nftrack;
    uint32_t *fidx;
    uint32_t fq_head, fq_tail; /* tracked, oldest first */
    struct frag_held *fheld;
    uint32_t fheld_cap, nfheld;
    uint32_t *fh_kidx, *fh_sidx; /* held: key and source chain heads */
    uint32_t fh_mask;
    uint32_t fh_free;
    uint32_t hq_head, hq_tail; /* held, oldest first */
    uint32_t ready_head, ready_tail;

    /* ICMP generation token bucket, in thousandths of a token */
    uint64_t icmp_tokens, icmp_last;
    uint16_t icmp_id;

    uint32_t port_counter;  /* RFC 6056 algorithm 3 "next_ephemeral" */
    uint64_t now;           /* time of the current call */
    uint32_t now32;         /* its low 32 bits, the tables' clock */
    uint64_t last_call;     /* now of the previous call (idle detection) */
    uint64_t expire_last;   /* now of the last expiry pass */
    uint32_t expire_credit; /* expiry work earned, at most 64 * budget */
    struct nat_stats st;
};

/* ---- keyed hash ------------------------------------------------------------
 * A multiply-fold ("mum") hash keyed by four 64-bit words derived from the
 * caller's secret. Without the secret an attacker cannot predict bucket
 * collisions, which keeps lookups flat under crafted tuples. */
#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 u128;
static inline uint64_t
mum(uint64_t a, uint64_t b)
{
    u128 r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
#else
static inline uint64_t
mum(uint64_t a, uint64_t b)
{
    uint64_t ha = a >> 32, la = (uint32_t)a, hb = b >> 32, lb = (uint32_t)b;
    uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
    uint64_t t = rl + (rm0 << 32), c = t < rl;
    uint64_t lo = t + (rm1 << 32);
    c += lo < t;
    uint64_t hi = rh + (rm0 >> 32) + (rm1 >> 32) + c;
    return hi ^ lo;
}
#endif

static inline uint32_t
nat_hash5(const struct nat *n, uint8_t proto, uint32_t a1, uint16_t p1,
          uint32_t a2, uint16_t p2)
{
    uint64_t a = ((uint64_t)a1 << 32 | a2) ^ n->k[0];
    uint64_t b = ((uint64_t)p1 << 32 | (uint64_t)p2 << 16 | proto) ^ n->k[1];
    return (uint32_t)mum(mum(a, b) ^ n->k[2], n->k[3]);
}

/* ---- table.c ------------------------------------------------------------- */
void tbl_init(struct nat *n);
size_t tbl_clock(struct nat *n, uint64_t now_ms);
uint32_t tbl_bind_find_in(const struct nat *n, uint8_t proto, uint32_t in_addr,
                          uint16_t in_port, uint32_t rem_addr,
                          uint16_t rem_port);
uint32_t tbl_bind_find_out(const struct nat *n, uint8_t proto,
                           uint32_t ext_addr, uint16_t ext_port);
uint32_t tbl_host_find(const struct nat *n, uint32_t addr);
uint32_t tbl_host_get(struct nat *n, uint32_t addr);
void tbl_host_put(struct nat *n, uint32_t h);
uint32_t tbl_bind_new(struct nat *n);
void tbl_bind_link(struct nat *n, uint32_t b);
uint32_t tbl_sess_new(struct nat *n, uint32_t b, uint32_t rem_addr,
                      uint16_t rem_port, enum tclass tc);
void tbl_sess_reclass(struct nat *n, uint32_t s, enum tclass tc, int refresh);
void tbl_sess_end(struct nat *n, uint32_t s, enum nat_end_cause cause);
size_t tbl_expire(struct nat *n, size_t budget);
size_t tbl_flush(struct nat *n);
int tbl_bind_talked(struct nat *n, uint32_t b, uint32_t rem_addr);
int tbl_bind_alive(struct nat *n, uint32_t b);
void tbl_event(struct nat *n, enum nat_event_type type, enum nat_end_cause c,
               enum nat_reason r, uint8_t proto, uint32_t in_addr,
               uint16_t in_port, uint32_t ext_addr, uint16_t ext_port,
               uint32_t rem_addr, uint16_t rem_port);

/* ---- ports.c ------------------------------------------------------------- */
int port_alloc(struct nat *n, uint32_t pool, uint8_t proto, uint32_t in_addr,
               uint16_t in_port, uint32_t rem_addr, uint16_t rem_port);
void port_set(struct nat *n, uint32_t pool, uint8_t proto, uint16_t port);
void port_clear(struct nat *n, uint32_t pool, uint8_t proto, uint16_t port);

/* ---- rules.c ------------------------------------------------------------- */
int rules_is_inside(const struct nat *n, uint32_t addr);
int rules_is_excluded(const struct nat *n, uint32_t addr);
const struct nat_forward *rules_forward_in(const struct nat *n, uint8_t proto,
                                           uint32_t ext_addr,
                                           uint16_t ext_port);
const struct nat_forward *rules_forward_out(const struct nat *n, uint8_t proto,
                                            uint32_t in_addr, uint16_t in_port,
                                            uint16_t *ext_port);
const struct one_to_one *rules_o2o_by_in(const struct nat *n, uint32_t addr);
const struct one_to_one *rules_o2o_by_ext(const struct nat *n, uint32_t addr);
uint32_t rules_pool_for_host(const struct nat *n, uint32_t in_addr);
void rules_pool_rehash(struct nat *n);
void rules_o2o_rehash(struct nat *n);
void rules_filter_rebuild(struct nat *n);

/* ---- pool lookups (inline: the packet path) ------------------------------ */

static inline int
proto_idx(uint8_t proto)
{
    return proto == 6 ? NAT_P_TCP : proto == 17 ? NAT_P_UDP : NAT_P_ICMP;
}

/* Is @port of pool slot @pool in use (by a live or held binding, or
 * reserved by a forward)? */
static inline int
port_is_set(const struct nat *n, uint32_t pool, uint8_t proto, uint16_t port)
{
    const uint64_t *bits = n->pool[pool].bits[proto_idx(proto)];
    return (bits[port >> 6] >> (port & 63)) & 1;
}

static inline uint32_t
rules_pool_slot(const struct nat *n, uint32_t addr)
{
    return nat_hash5(n, 0xfe, addr, 0, 0, 0) & n->pool_hmask;
}

/* The pool slot of external address @addr, or NIL (open addressing). */
static inline uint32_t
rules_pool_find(const struct nat *n, uint32_t addr)
{
    for (uint32_t h = rules_pool_slot(n, addr);; h = (h + 1) & n->pool_hmask) {
        uint32_t e = n->pool_hidx[h];
        if (e == 0)
            return NIL;
        if (n->pool[e - 1].addr == addr)
            return e - 1;
    }
}

/* ---- session lookups (inline: the packet path) --------------------------- */

/* Has session @s passed its deadline (RFC 4787 REQ-5, RFC 5382 REQ-5)? */
static inline int
sess_expired(const struct nat *n, const struct sess *s)
{
    return ms_since(n->now32, s->last) >= n->timeout[s->tclass];
}

static inline uint32_t
tbl_sess_find_in_h(const struct nat *n, uint32_t h, uint8_t proto,
                   uint32_t in_addr, uint16_t in_port, uint32_t rem_addr,
                   uint16_t rem_port)
{
    for (uint32_t i = n->sidx_in[h & n->smask]; i != NIL;
         i = n->sess[i].hnext_in) {
        const struct sess *s = &n->sess[i];
        if (s->in_addr == in_addr && s->rem_addr == rem_addr &&
            s->in_port == in_port && s->rem_port == rem_port &&
            s->proto == proto)
            return i;
    }
    return NIL;
}

static inline uint32_t
tbl_sess_find_out_h(const struct nat *n, uint32_t h, uint8_t proto,
                    uint32_t ext_addr, uint16_t ext_port, uint32_t rem_addr,
                    uint16_t rem_port)
{
    for (uint32_t i = n->sidx_out[h & n->smask]; i != NIL;
         i = n->sess[i].hnext_out) {
        const struct sess *s = &n->sess[i];
        if (s->ext_addr == ext_addr && s->rem_addr == rem_addr &&
            s->ext_port == ext_port && s->rem_port == rem_port &&
            s->proto == proto)
            return i;
    }
    return NIL;
}

/* Lookups that see the table as it is (expired sessions included): the
 * inspection API. The packet path uses tbl_sess_live() on the result. */
static inline uint32_t
tbl_sess_find_in(const struct nat *n, uint8_t proto, uint32_t in_addr,
                 uint16_t in_port, uint32_t rem_addr, uint16_t rem_port)
{
    return tbl_sess_find_in_h(
        n, nat_hash5(n, proto, in_addr, in_port, rem_addr, rem_port), proto,
        in_addr, in_port, rem_addr, rem_port);
}

static inline uint32_t
tbl_sess_find_out(const struct nat *n, uint8_t proto, uint32_t ext_addr,
                  uint16_t ext_port, uint32_t rem_addr, uint16_t rem_port)
{
    return tbl_sess_find_out_h(
        n, nat_hash5(n, proto, ext_addr, ext_port, rem_addr, rem_port), proto,
        ext_addr, ext_port, rem_addr, rem_port);
}

/* A lookup hit on a session whose deadline has passed is an expiry: end
 * it, and report a miss. Expiry is lazy and budgeted; this makes every
 * timeout exact whatever the budget. */
static inline uint32_t
tbl_sess_live(struct nat *n, uint32_t i)
{
    if (i != NIL && sess_expired(n, &n->sess[i])) {
        tbl_sess_end(n, i, NAT_END_EXPIRED);
        return NIL;
    }
    return i;
}

/*
 * A packet used the session: refresh it. Lists are ordered by the time a
 * session joined them, not by last use, so a refresh is a single store;
 * tbl_expire() moves a refreshed session to the tail when it reaches the
 * head. Only a change of timeout class moves it now (tbl_sess_reclass()).
 */
static inline void
tbl_sess_touch(struct nat *n, uint32_t i, enum tclass tc, int refresh)
{
    struct sess *s = &n->sess[i];
    if (refresh)
        s->last = n->now32;
    if (s->tclass != tc)
        tbl_sess_reclass(n, i, tc, refresh);
}

/* ---- tcp_state.c --------------------------------------------------------- */
/* Advance @s's TCP state for a segment with flags @fl going out (1) or in
 * (0); returns the timeout class of the new state. */
enum tclass nat_tcp_track(struct sess *s, uint8_t fl, int out);

/* ---- frag.c -------------------------------------------------------------- */
struct nat_pkt;
void frag_init(struct nat *n);
void frag_expire(struct nat *n, size_t budget);
void frag_flush(struct nat *n);
struct nat_result frag_nonfirst(struct nat *n, enum nat_dir dir, uint8_t *b,
                                size_t len, const struct nat_pkt *p);
void frag_first_done(struct nat *n, enum nat_dir dir, uint32_t osrc,
                     uint32_t odst, const uint8_t *b, const struct nat_pkt *p,
                     struct nat_result r);

#endif
