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
 *
 * With --workers N (N > 1) translation runs on N threads, each with its own
 * single-threaded libnat instance owning a slice of the external ports
 * (nat_steer_config()). The main thread reads the device and queues each
 * packet for the worker that nat_steer() names, on a lock-free
 * single-producer, single-consumer ring; the worker translates it and
 * writes it back to the device itself. Workers share nothing they write.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define BURST       32
#define PKT_MAX     65536
#define WORKERS_MAX 64
#define RING_SLOTS  1024 /* packets queued per worker: a power of two */
#define FRAG_ROUTES 256  /* fragmented datagrams followed at a time */

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
            "  --workers N      translate on N threads, 1 to %d (default 1)\n"
            "  --status SECS    status line every SECS seconds (default 10, "
            "0: off)\n"
            "\n%s",
            prog, WORKERS_MAX, common_options_help);
}

/* Attach to (or create) TUN device @name and bring it up; its MTU goes to
 * *@mtu. */
static int
tun_open(const struct opts *o, const char *name, size_t *mtu)
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
    if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
        fatal(o, "SIOCGIFMTU %s: %s", name, strerror(errno));
    *mtu = ifr.ifr_mtu > 0 && ifr.ifr_mtu < PKT_MAX ? (size_t)ifr.ifr_mtu
                                                    : PKT_MAX;
    close(s);
    return fd;
}

/* One device carries both directions: the source decides. A packet from an
 * inside address goes out; anything else (replies to the public addresses)
 * comes in. */
static enum nat_dir
packet_dir(const struct opts *o, const uint8_t *pkt, size_t len)
{
    uint32_t src = len >= 20 ? rd32(pkt + 12) : 0;
    return opts_is_inside(o, src) ? NAT_DIR_OUT : NAT_DIR_IN;
}

struct counters {
    uint64_t rx, tx, tx_err;
};

static void
send_packet(int fd, const uint8_t *buf, size_t len, struct counters *c)
{
    if (write(fd, buf, len) == (ssize_t)len)
        c->tx++;
    else
        c->tx_err++;
}

/*
 * Translate the @n packets of @io with @nat and write to @fd those that go
 * on, and for an outbound packet refused for lack of resources the ICMP
 * error that tells its sender (the kernel routes it to the inside host),
 * then the held fragments that are ready now. @scratch is PKT_MAX bytes;
 * @tag starts the verbose lines.
 */
static void
translate_and_send(const struct opts *o, const char *tag, struct nat *nat,
                   int fd, struct nat_pkt_io *io, size_t n, uint8_t *scratch,
                   struct counters *c)
{
    c->rx += n;
    if (o->verbose) {
        /* One at a time, to print each packet before and after; the lock
         * keeps the lines of different workers apart. */
        flockfile(stdout);
        for (size_t i = 0; i < n; i++) {
            size_t blen = io[i].len;
            memcpy(scratch, io[i].buf, blen);
            io[i].res = nat_translate(nat, io[i].dir, io[i].buf, &io[i].len,
                                      io[i].cap, mono_ms());
            print_packet_line(stdout, tag, io[i].dir, scratch, blen, io[i].buf,
                              io[i].len, io[i].res);
        }
        fflush(stdout);
        funlockfile(stdout);
    } else {
        nat_translate_burst(nat, io, n, mono_ms());
    }

    for (size_t i = 0; i < n; i++) {
        size_t elen;
        switch (io[i].res.verdict) {
        case NAT_OUT:
        case NAT_IN:
        case NAT_HAIRPIN:
        case NAT_PASS: /* not ours to translate: the kernel routes it */
            send_packet(fd, io[i].buf, io[i].len, c);
            break;
        case NAT_DROP: /* counted by libnat; a dropped packet is unchanged */
            if (io[i].dir == NAT_DIR_OUT &&
                (elen = icmp_for_drop(o, nat, io[i].res, io[i].buf, io[i].len,
                                      scratch, PKT_MAX, mono_ms())) > 0)
                send_packet(fd, scratch, elen, c);
            break;
        default: /* held */
            break;
        }
    }
    /* Fragments held until their first fragment came are ready now. */
    size_t flen;
    struct nat_result fres;
    while (nat_frag_collect(nat, scratch, PKT_MAX, &flen, &fres) == 1)
        send_packet(fd, scratch, flen, c);
}

/* ---- one thread ------------------------------------------------------------
 */

/* Read up to BURST packets, translate them as one burst, write back the
 * ones that go on. Returns the number read (0: nothing was waiting). */
static size_t
do_burst(const struct opts *o, struct nat *nat, int fd, struct counters *c)
{
    static uint8_t bufs[BURST][PKT_MAX];
    static uint8_t scratch[PKT_MAX];
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
        io[n].dir = packet_dir(o, bufs[n], (size_t)r);
        n++;
    }
    if (n > 0)
        translate_and_send(o, "tun", nat, fd, io, n, scratch, c);
    return n;
}

static void
run_single(const struct opts *o, struct nat *nat, const char *name, int fd,
           uint32_t status_secs)
{
    struct counters cnt = {0, 0, 0};

    fprintf(stderr, "%s: translating on %s, public %s (pid %ld)\n", o->prog,
            name, addr_str(o->pub[0]), (long)getpid());
    uint64_t next_status = mono_ms() + status_secs * 1000u;
    while (!stop_flag) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, 500);
        if (r < 0 && errno != EINTR)
            fatal(o, "poll: %s", strerror(errno));
        uint64_t now = mono_ms();
        if (r > 0) {
            /* Drain what is waiting, a burst at a time, but come back to
             * signals and timers now and then. */
            for (int i = 0; i < 64 && !stop_flag; i++)
                if (do_burst(o, nat, fd, &cnt) < BURST)
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
            print_status(stdout, o, nat);
            next_status = now + status_secs * 1000u;
        }
    }

    printf("%s: %llu packets read from %s, %llu written, %llu write "
           "errors\n",
           o->prog, (unsigned long long)cnt.rx, name,
           (unsigned long long)cnt.tx, (unsigned long long)cnt.tx_err);
    print_summary(stdout, nat);
    nat_destroy(nat);
}

/* ---- several workers
 * ---------------------------------------------------------
 *
 * The main thread is the dispatcher: it reads the device, picks each
 * packet's worker and copies the packet into that worker's ring. A worker
 * takes packets from its ring in bursts, translates them with its own
 * instance and writes them to the device (a write is one packet, so the
 * workers' writes never mix). When its ring is empty a worker sleeps on an
 * eventfd, which the dispatcher signals when it queues packets for it.
 */

struct slot {
    uint8_t *buf; /* team.slot_size bytes */
    size_t len;
    enum nat_dir dir;
};

/*
 * A bounded single-producer, single-consumer ring. head counts the packets
 * the dispatcher has queued, tail the ones the worker is done with; both
 * only grow (wrapping at 2^32) and each is written by one thread alone.
 * Slot i belongs to the dispatcher until it moves head past i (a release
 * store, which the worker's acquire load of head pairs with), then to the
 * worker until it moves tail past i (likewise). The two counters sit on
 * separate cache lines so that the threads do not contend for one.
 */
struct ring {
    alignas(64) _Atomic uint32_t head;
    alignas(64) _Atomic uint32_t tail;
    alignas(64) struct slot slot[RING_SLOTS];
};

/* Dispatcher: the slot to fill next, or NULL when the ring is full. */
static struct slot *
ring_free_slot(struct ring *r)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return head - tail < RING_SLOTS ? &r->slot[head % RING_SLOTS] : NULL;
}

/* Dispatcher: hand the slot filled after ring_free_slot() to the worker. */
static void
ring_push(struct ring *r)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

/* Worker: the number of packets queued, from slot *@first on. */
static uint32_t
ring_waiting(struct ring *r, uint32_t *first)
{
    *first = atomic_load_explicit(&r->tail, memory_order_relaxed);
    return atomic_load_explicit(&r->head, memory_order_acquire) - *first;
}

/* Worker: give the first @n queued slots back to the dispatcher. */
static void
ring_pop(struct ring *r, uint32_t n)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
}

struct team;

struct worker {
    struct ring ring; /* packets from the dispatcher */
    struct team *team;
    uint32_t id;
    struct nat *nat;   /* used by this worker's thread alone */
    uint8_t *slot_mem; /* the ring's packet buffers */
    uint8_t *scratch;  /* PKT_MAX bytes for translate_and_send() */
    int wake;          /* eventfd the worker sleeps on when idle */
    pthread_t thread;
    struct counters cnt;             /* the worker's own; read after it ends */
    alignas(64) atomic_int sleeping; /* see worker_sleep() */
    /* For the status line: written by the worker alone, with relaxed
     * atomic stores, so that the main thread may read them at any time. */
    alignas(64) _Atomic uint64_t verdicts[NAT_VERDICT_MAX];
    _Atomic uint32_t sessions, sessions_peak;
};

/* What the threads share. Fixed before the workers start, except for the
 * atomics. */
struct team {
    const struct opts *o;
    int fd;           /* the device */
    size_t slot_size; /* bytes per ring slot: the device's MTU */
    uint32_t n;       /* workers */
    struct worker *w;
    struct nat_steer steer;
    atomic_bool stop; /* the dispatcher has stopped: finish and exit */
    /* SIGUSR1: the worker whose turn it is to print its sessions; n when
     * no dump is under way. */
    alignas(64) _Atomic uint32_t dump_turn;
};

static void
wake(struct worker *w)
{
    uint64_t one = 1;
    if (write(w->wake, &one, sizeof(one)) < 0) {
        /* the counter is full, so the worker is awake anyway */
    }
}

/* Dispatcher: wake @w if it is asleep, after queueing packets for it. */
static void
wake_if_sleeping(struct worker *w)
{
    /* Pairs with the fence in worker_sleep(): either the worker sees the
     * new head before it sleeps, or this sees that it sleeps. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&w->sleeping, memory_order_relaxed))
        wake(w);
}

/* Worker: sleep until the dispatcher queues a packet, a dump is asked for,
 * or half a second passes. Returns 0 after that half second. */
static int
worker_sleep(struct worker *w)
{
    uint32_t first;
    int r = 1;
    atomic_store_explicit(&w->sleeping, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    if (ring_waiting(&w->ring, &first) == 0) {
        struct pollfd pfd = {w->wake, POLLIN, 0};
        r = poll(&pfd, 1, 500);
        if (r > 0) {
            uint64_t v; /* reset the eventfd; it cannot fail once readable */
            ssize_t got = read(w->wake, &v, sizeof(v));
            (void)got;
        }
    }
    atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
    return r != 0;
}

/* Worker: publish the counters the status line shows. */
static void
worker_publish(struct worker *w)
{
    struct nat_stats st;
    nat_stats_get(w->nat, &st);
    for (int v = 0; v < NAT_VERDICT_MAX; v++)
        atomic_store_explicit(&w->verdicts[v], st.verdicts[v],
                              memory_order_relaxed);
    atomic_store_explicit(&w->sessions, st.sessions, memory_order_relaxed);
    atomic_store_explicit(&w->sessions_peak, st.sessions_peak,
                          memory_order_relaxed);
}

/* Worker: print this worker's sessions (SIGUSR1), then pass the turn on.
 * Each worker prints its own table, so no instance is ever used by two
 * threads, and one after another, so the tables come out in order. */
static void
worker_dump(struct worker *w)
{
    struct team *t = w->team;
    flockfile(stdout);
    printf("worker %u:\n", w->id);
    print_sessions(stdout, w->nat, mono_ms());
    fflush(stdout);
    funlockfile(stdout);
    atomic_store_explicit(&t->dump_turn, w->id + 1, memory_order_release);
    if (w->id + 1 < t->n)
        wake(&t->w[w->id + 1]);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct team *t = w->team;
    struct nat_pkt_io io[BURST];
    char tag[16];

    snprintf(tag, sizeof(tag), "w%u", w->id);
    for (;;) {
        if (atomic_load_explicit(&t->dump_turn, memory_order_acquire) == w->id)
            worker_dump(w);
        int stopping = atomic_load_explicit(&t->stop, memory_order_acquire);
        uint32_t first, n = ring_waiting(&w->ring, &first);
        if (n == 0) {
            if (stopping)
                break; /* and everything queued before has been sent */
            if (!worker_sleep(w)) {
                nat_expire(w->nat, mono_ms(), 4096); /* idle: catch up */
                worker_publish(w);
            }
            continue;
        }
        /* Translate in place, in the ring, and only then hand the slots
         * back. */
        if (n > BURST)
            n = BURST;
        for (uint32_t i = 0; i < n; i++) {
            struct slot *s = &w->ring.slot[(first + i) % RING_SLOTS];
            io[i].buf = s->buf;
            io[i].len = s->len;
            io[i].cap = t->slot_size;
            io[i].dir = s->dir;
        }
        translate_and_send(t->o, tag, w->nat, t->fd, io, n, w->scratch,
                           &w->cnt);
        ring_pop(&w->ring, n);
        worker_publish(w);
    }
    return NULL;
}

/* ---- the dispatcher ---------------------------------------------------------
 */

/* The worker that the first fragment of a fragmented datagram went to. */
struct frag_route {
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint8_t worker;
};

/* The dispatcher's state: the main thread's alone. */
struct dispatcher {
    struct team *t;
    uint8_t buf[PKT_MAX];
    uint64_t rx, too_big;
    uint64_t ring_full[WORKERS_MAX]; /* packets dropped per full ring */
    struct frag_route frags[FRAG_ROUTES];
};

/* The route entry for the datagram of fragment @p (RFC 791: source,
 * destination, protocol and identification name it). */
static struct frag_route *
frag_route(struct dispatcher *d, const uint8_t *p)
{
    uint32_t h =
        rd32(p + 12) ^ rd32(p + 16) * 31u ^ (uint32_t)rd16(p + 4) << 8 ^ p[9];
    return &d->frags[(h * 2654435761u) >> 24]; /* FRAG_ROUTES: 256 */
}

static int
frag_route_is(const struct frag_route *f, const uint8_t *p)
{
    return f->src == rd32(p + 12) && f->dst == rd32(p + 16) &&
           f->id == rd16(p + 4) && f->proto == p[9];
}

static int
icmp_is_error(uint8_t type)
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* Is forward @f's inside endpoint @addr:@port (protocol @proto)? */
static int
forward_target_is(const struct nat_forward *f, uint8_t proto, uint32_t addr,
                  uint16_t port)
{
    return f->proto == proto && f->in_addr == addr && port >= f->in_port &&
           port - f->in_port <= f->ext_port_last - f->ext_port;
}

/* Is outbound packet @p sent from the inside end of a forward, or an ICMP
 * error about a packet that was sent to one? */
static int
from_forward_target(const struct opts *o, const uint8_t *p, size_t len)
{
    size_t ihl = (size_t)(p[0] & 15) * 4;
    uint8_t proto = p[9];
    uint32_t addr;
    uint16_t port;

    if ((proto == 6 || proto == 17) && len >= ihl + 4) {
        addr = rd32(p + 12); /* its source */
        port = rd16(p + ihl);
    } else if (proto == 1 && len >= ihl + 8 + 20 && icmp_is_error(p[ihl])) {
        const uint8_t *q = p + ihl + 8; /* the quoted packet */
        size_t qihl = (size_t)(q[0] & 15) * 4;
        if (len < ihl + 8 + qihl + 4)
            return 0;
        proto = q[9];
        addr = rd32(q + 16); /* its destination */
        port = rd16(q + qihl + 2);
    } else {
        return 0;
    }
    for (int i = 0; i < o->nfwd; i++) {
        struct nat_forward f = opts_forward(o, i);
        if (forward_target_is(&f, proto, addr, port))
            return 1;
    }
    return 0;
}

/*
 * The worker for a packet: the one nat_steer() names, with two refinements
 * for what a stateless function of one packet cannot know (nat-tun(8),
 * WORKERS):
 *  - a forward target's packets from its forwarded port go to worker 0,
 *    which holds the other half of the forwarded connection (forwarded
 *    ports lie outside every slice, so nat_steer() sends inbound traffic to
 *    them to worker 0);
 *  - the later fragments of a datagram follow its first fragment, the only
 *    one that carries ports; a fragment that comes before the first one
 *    goes where nat_steer() says.
 */
static uint32_t
pick_worker(struct dispatcher *d, enum nat_dir dir, const uint8_t *p,
            size_t len)
{
    uint32_t w = nat_steer(&d->t->steer, dir, p, len);
    if (len < 20 || p[0] >> 4 != 4 || (p[0] & 15) < 5)
        return w; /* malformed: worker 0 will say why */
    uint16_t frag = rd16(p + 6);
    struct frag_route *f = frag_route(d, p);
    if ((frag & 0x1fff) != 0) /* a later fragment */
        return frag_route_is(f, p) ? f->worker : w;

    if (dir == NAT_DIR_OUT && d->t->o->nfwd > 0 &&
        from_forward_target(d->t->o, p, len))
        w = 0;
    if (frag & 0x2000) { /* more fragments follow: remember where */
        f->src = rd32(p + 12);
        f->dst = rd32(p + 16);
        f->id = rd16(p + 4);
        f->proto = p[9];
        f->worker = (uint8_t)w;
    }
    return w;
}

/* Read up to BURST packets and queue each for its worker; a packet whose
 * worker's ring is full is dropped and counted. Returns the number read. */
static size_t
dispatch_burst(struct dispatcher *d)
{
    struct team *t = d->t;
    uint64_t queued = 0; /* bit w: packets were queued for worker w */
    size_t n;

    for (n = 0; n < BURST; n++) {
        ssize_t r = read(t->fd, d->buf, PKT_MAX);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            fatal(t->o, "read: %s", strerror(errno));
        }
        if (r == 0)
            break;
        size_t len = (size_t)r;
        if (len > t->slot_size) { /* the MTU was raised after we started */
            d->too_big++;
            continue;
        }
        enum nat_dir dir = packet_dir(t->o, d->buf, len);
        uint32_t w = pick_worker(d, dir, d->buf, len);
        struct slot *s = ring_free_slot(&t->w[w].ring);
        if (s == NULL) {
            d->ring_full[w]++;
            continue;
        }
        memcpy(s->buf, d->buf, len);
        s->len = len;
        s->dir = dir;
        ring_push(&t->w[w].ring);
        queued |= 1ull << w;
    }
    d->rx += n;
    for (uint32_t w = 0; w < t->n; w++)
        if (queued & 1ull << w)
            wake_if_sleeping(&t->w[w]);
    return n;
}

/* The longest run of ports in [@lo, @hi] that no forward uses: the range
 * the workers slice. Forwarded ports then lie outside every slice, and
 * nat_steer() sends what arrives for them to worker 0, as libnat wants. */
static int
unforwarded_range(const struct opts *o, uint32_t lo, uint32_t hi, uint16_t *min,
                  uint16_t *max)
{
    uint32_t best = 0, best_len = 0;
    /* A run starts at lo or right above a forward ... */
    for (int i = -1; i < o->nfwd; i++) {
        uint32_t s = i < 0 ? lo : opts_forward(o, i).ext_port_last + 1u;
        int forwarded = 0;
        for (int j = 0; j < o->nfwd; j++) {
            struct nat_forward f = opts_forward(o, j);
            forwarded |= s >= f.ext_port && s <= f.ext_port_last;
        }
        if (s < lo || s > hi || forwarded)
            continue;
        /* ... and ends right below the next forward, or at hi. */
        uint32_t e = hi;
        for (int j = 0; j < o->nfwd; j++) {
            uint32_t f = opts_forward(o, j).ext_port;
            if (f > s && f - 1 < e)
                e = f - 1;
        }
        if (e - s + 1 > best_len) {
            best = s;
            best_len = e - s + 1;
        }
    }
    *min = (uint16_t)best;
    *max = (uint16_t)(best + best_len - 1);
    return best_len > 0 ? 0 : -1;
}

/* The status line: what the workers last published, summed. */
static void
print_team_status(const struct team *t, const struct dispatcher *d)
{
    struct nat_stats sum;
    uint64_t full = 0;
    memset(&sum, 0, sizeof(sum));
    for (uint32_t i = 0; i < t->n; i++) {
        struct worker *w = &t->w[i];
        for (int v = 0; v < NAT_VERDICT_MAX; v++)
            sum.verdicts[v] +=
                atomic_load_explicit(&w->verdicts[v], memory_order_relaxed);
        sum.sessions +=
            atomic_load_explicit(&w->sessions, memory_order_relaxed);
        sum.sessions_peak +=
            atomic_load_explicit(&w->sessions_peak, memory_order_relaxed);
        full += d->ring_full[i];
    }
    print_status_stats(stdout, t->o, &sum);
    if (full != 0)
        printf("%s: %llu packets dropped on full worker queues\n", t->o->prog,
               (unsigned long long)full);
    fflush(stdout);
}

/* The workers' instances, one per slice of the ports, each with every
 * rule of the options. */
static void
team_create(struct team *t, const struct opts *o, uint32_t nworkers)
{
    struct nat_config cfg;
    uint16_t lo, hi;

    t->o = o;
    t->n = nworkers;
    atomic_init(&t->stop, 0);
    atomic_init(&t->dump_turn, nworkers);

    /* Slice the ports no forward uses, keyed by the instances' secret. */
    opts_config(o, &cfg, 1);
    if (unforwarded_range(o, cfg.port_min, cfg.port_max, &lo, &hi) < 0)
        usage_error(o, "the forwards leave no external ports to share");
    int rc = nat_steer_init(&t->steer, nworkers, lo, hi, cfg.secret);
    if (rc < 0)
        usage_error(o,
                    "%u workers cannot share the %u ports %u-%u (at least "
                    "64 each): %s",
                    nworkers, hi - lo + 1u, lo, hi, nat_strerror(rc));

    /* struct worker is aligned to cache lines: calloc() would not do. */
    t->w = aligned_alloc(alignof(struct worker), nworkers * sizeof(*t->w));
    if (t->w == NULL)
        fatal(o, "out of memory");
    memset(t->w, 0, nworkers * sizeof(*t->w));
    for (uint32_t i = 0; i < nworkers; i++) {
        struct worker *w = &t->w[i];
        struct nat_config wc = cfg;
        w->team = t;
        w->id = i;
        nat_steer_config(&t->steer, i, &wc);
        /* Hairpinning needs the state of two inside hosts, which may be
         * on different workers; so no instance hairpins. A packet for a
         * public address leaves translated like any outbound one, the
         * kernel routes it straight back into the device, and it comes
         * in, to the worker that owns its destination port. */
        wc.hairpin = 0;
        w->nat = nat_from_config(o, &wc);
    }
}

/* Run the dispatcher on the device @fd (of MTU @mtu) and @t's workers
 * until SIGINT or SIGTERM. */
static void
team_run(struct team *t, const char *name, int fd, size_t mtu,
         uint32_t status_secs)
{
    const struct opts *o = t->o;
    struct dispatcher *d = calloc(1, sizeof(*d));
    if (d == NULL)
        fatal(o, "out of memory");
    d->t = t;
    t->fd = fd;
    t->slot_size = mtu;
    for (uint32_t i = 0; i < t->n; i++) {
        struct worker *w = &t->w[i];
        w->slot_mem = malloc(RING_SLOTS * mtu);
        w->scratch = malloc(PKT_MAX);
        w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->slot_mem == NULL || w->scratch == NULL || w->wake < 0)
            fatal(o, "worker %u: %s", i, strerror(errno));
        for (uint32_t s = 0; s < RING_SLOTS; s++)
            w->ring.slot[s].buf = w->slot_mem + s * mtu;
    }

    fprintf(stderr,
            "%s: translating on %s with %u workers, public %s (pid %ld)\n",
            o->prog, name, t->n, addr_str(o->pub[0]), (long)getpid());
    for (uint32_t i = 0; i < t->n; i++)
        fprintf(stderr,
                "%s: worker %u: external ports and ICMP identifiers "
                "%u-%u\n",
                o->prog, i, t->steer.port_min + i * t->steer.span,
                t->steer.port_min + (i + 1) * t->steer.span - 1);

    /* Signals are for the main thread: the workers never see them. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (uint32_t i = 0; i < t->n; i++) {
        int rc = pthread_create(&t->w[i].thread, NULL, worker_main, &t->w[i]);
        if (rc != 0)
            fatal(o, "pthread_create: %s", strerror(rc));
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    uint64_t next_status = mono_ms() + status_secs * 1000u;
    while (!stop_flag) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, 500);
        if (r < 0 && errno != EINTR)
            fatal(o, "poll: %s", strerror(errno));
        if (r > 0)
            for (int i = 0; i < 64 && !stop_flag; i++)
                if (dispatch_burst(d) < BURST)
                    break;
        if (dump_flag &&
            atomic_load_explicit(&t->dump_turn, memory_order_acquire) == t->n) {
            dump_flag = 0; /* worker 0 starts, each wakes the next */
            atomic_store_explicit(&t->dump_turn, 0, memory_order_release);
            wake(&t->w[0]);
        }
        uint64_t now = mono_ms();
        if (status_secs && now >= next_status) {
            print_team_status(t, d);
            next_status = now + status_secs * 1000u;
        }
    }

    /* Stop: the workers finish what is queued and exit. */
    atomic_store_explicit(&t->stop, 1, memory_order_release);
    for (uint32_t i = 0; i < t->n; i++)
        wake(&t->w[i]);
    for (uint32_t i = 0; i < t->n; i++)
        pthread_join(t->w[i].thread, NULL);

    struct nat_stats sum, st;
    struct counters all = {0, 0, 0};
    memset(&sum, 0, sizeof(sum));
    printf("%s: %llu packets read from %s", o->prog, (unsigned long long)d->rx,
           name);
    if (d->too_big)
        printf(", %llu larger than the ring slots (MTU %zu)",
               (unsigned long long)d->too_big, mtu);
    printf("\n");
    for (uint32_t i = 0; i < t->n; i++) {
        struct worker *w = &t->w[i];
        nat_stats_get(w->nat, &st);
        stats_add(&sum, &st);
        all.tx += w->cnt.tx;
        all.tx_err += w->cnt.tx_err;
        printf("%s: worker %u: %llu packets, %llu dropped on a full queue, "
               "%u sessions\n",
               o->prog, i, (unsigned long long)w->cnt.rx,
               (unsigned long long)d->ring_full[i], st.sessions);
    }
    printf("%s: %llu packets written, %llu write errors\n", o->prog,
           (unsigned long long)all.tx, (unsigned long long)all.tx_err);
    print_summary_stats(stdout, &sum);

    for (uint32_t i = 0; i < t->n; i++) {
        nat_destroy(t->w[i].nat);
        free(t->w[i].slot_mem);
        free(t->w[i].scratch);
        close(t->w[i].wake);
    }
    free(t->w);
    free(d);
}

enum { OPT_TUN = 1, OPT_STATUS, OPT_WORKERS };

/* The program's own options. */
struct tun_args {
    struct opts o;
    const char *tun;
    uint32_t status_secs, nworkers;
};

static void
tun_option(void *ctx, int c, const char *arg)
{
    struct tun_args *t = ctx;
    switch (c) {
    case OPT_TUN:
        t->tun = arg;
        break;
    case OPT_STATUS:
        t->status_secs = opts_status_secs(&t->o, arg);
        break;
    case OPT_WORKERS:
        if (parse_u32(arg, 1, WORKERS_MAX, &t->nworkers) < 0)
            usage_error(&t->o, "bad --workers '%s' (1 to %d)", arg,
                        WORKERS_MAX);
        break;
    }
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"tun", required_argument, NULL, OPT_TUN},
        {"status", required_argument, NULL, OPT_STATUS},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {NULL, 0, NULL, 0},
    };
    static struct tun_args args = {.status_secs = 10, .nworkers = 1};
    struct opts *o = &args.o;

    opts_init(o, argv[0]);
    opts_parse(o, argc, argv, "", longopts, tun_option, &args, usage);
    if (args.tun == NULL)
        usage_error(o, "--tun is required");
    opts_require(o);

    /* The instances first, so that a bad rule is a usage error. */
    static struct team team;
    struct nat *nat = NULL;
    if (args.nworkers == 1)
        nat = nat_from_opts(o, 1);
    else
        team_create(&team, o, args.nworkers);
    size_t mtu;
    int fd = tun_open(o, args.tun, &mtu);

    install_signals();
    signal(SIGPIPE, SIG_IGN);

    if (args.nworkers == 1)
        run_single(o, nat, args.tun, fd, args.status_secs);
    else
        team_run(&team, args.tun, fd, mtu, args.status_secs);
    close(fd);
    return 0;
}
