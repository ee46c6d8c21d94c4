/*
 * libnat: embeddable Network Address Translation on caller-owned packets.
 *
 * One public header. Every declaration carries its documentation; the man
 * pages (libnat(3) and the pages it lists) say the same at more length.
 *
 * Conventions used throughout:
 *  - All names start with nat_ or NAT_.
 *  - Functions that can fail return 0 or a positive count on success and a
 *    negative NAT_E* code on failure; nat_strerror() names the code. A NULL
 *    instance is NAT_EINVAL (NAT_ENOENT for lookups, 0 for counts).
 *  - IPv4 addresses and ports passed through the API are in host byte order
 *    (10.0.0.1 is 0x0a000001). Packet bytes are always network order.
 *  - Checksum values are the numeric value of the 16-bit field as read in
 *    network order (the bytes 0x12 0x34 are the value 0x1234).
 *  - Time is a caller-supplied monotonic counter in milliseconds. libnat never
 *    reads a clock, never does I/O, keeps no global state and never allocates
 *    while translating packets.
 */
#ifndef LIBNAT_H
#define LIBNAT_H

#include <stddef.h>
#include <stdint.h>

#include <libnat/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define NAT_EXTERN
#elif defined(BUILDING_LIBNAT) && defined(__GNUC__)
#define NAT_EXTERN __attribute__((visibility("default")))
#else
#define NAT_EXTERN
#endif

/* ------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------ */

/**
 * nat_version() - the version of the library actually linked, as a string
 * such as "0.1.0". Compare with NAT_VERSION_STRING from <libnat/version.h>
 * to detect a header/library mismatch.
 */
NAT_EXTERN const char *nat_version(void);

/**
 * nat_version_num() - the linked library's version as 0xMMmmpp, the same
 * encoding as NAT_VERSION_NUM.
 */
NAT_EXTERN uint32_t nat_version_num(void);

/* ------------------------------------------------------------------------
 * Errors and drop reasons
 * ------------------------------------------------------------------------ */

/** Negative error codes returned by API functions (never by errno). */
enum nat_error {
    NAT_OK = 0,       /**< success */
    NAT_EINVAL = -1,  /**< invalid argument or configuration field */
    NAT_ENOMEM = -2,  /**< allocation failed (create only) */
    NAT_ENOSPC = -3,  /**< fixed capacity or caller buffer exhausted */
    NAT_ENOENT = -4,  /**< no such rule, session or entry */
    NAT_EEXIST = -5,  /**< the rule or entry already exists */
    NAT_EBUSY = -6,   /**< the resource is in use by live sessions */
    NAT_EFORMAT = -7, /**< malformed or unsupported serialized data */
    NAT_ERANGE = -8,  /**< a value is outside the permitted range */
    NAT_ELIMIT = -9,  /**< rate limit reached (ICMP generation) */
};

/**
 * nat_strerror() - a static, human-readable description of a NAT_E* code.
 * Unknown codes give "unknown error". Never returns NULL.
 */
NAT_EXTERN const char *nat_strerror(int err);

/**
 * Why a packet was dropped (or, for NAT_R_NONE, that it was not). Parse
 * reasons come first; each malformation has its own code. The numeric values
 * are stable within a major version; NAT_R_MAX is the number of codes.
 */
enum nat_reason {
    NAT_R_NONE = 0, /**< not dropped */

    /* IPv4 header */
    NAT_R_IP_TRUNCATED,    /**< fewer than 20 bytes */
    NAT_R_IP_VERSION,      /**< version field is not 4 */
    NAT_R_IP_HDRLEN,       /**< IHL below 5 */
    NAT_R_IP_HDRLEN_TRUNC, /**< IHL runs past the buffer */
    NAT_R_IP_TOTLEN,       /**< total length shorter than the header */
    NAT_R_IP_TOTLEN_TRUNC, /**< total length runs past the buffer */
    NAT_R_IP_CHECKSUM,     /**< header checksum does not verify */
    NAT_R_IP_OPTIONS,      /**< malformed option list */
    NAT_R_IP_FRAG,         /**< fragment fields invalid (evil bit, >64 KiB) */
    NAT_R_IP_SRC,          /**< martian source address (RFC 1812 5.3.7) */

    /* TCP, UDP */
    NAT_R_TCP_TRUNCATED,     /**< TCP header shorter than 20 bytes */
    NAT_R_TCP_DATAOFF,       /**< data offset below 5 */
    NAT_R_TCP_DATAOFF_TRUNC, /**< data offset runs past the segment */
    NAT_R_TCP_FLAGS,         /**< impossible flags (SYN+FIN, SYN+RST, none) */
    NAT_R_UDP_TRUNCATED,     /**< UDP header shorter than 8 bytes */
    NAT_R_UDP_LENGTH,        /**< UDP length below 8 or past the datagram */
    NAT_R_PORT_ZERO,         /**< TCP or UDP port 0 */
    NAT_R_FRAG_TINY,         /**< first fragment too short for ports */

    /* ICMP */
    NAT_R_ICMP_TRUNCATED,       /**< ICMP header shorter than 8 bytes */
    NAT_R_ICMP_CHECKSUM,        /**< ICMP error checksum does not verify */
    NAT_R_ICMP_TYPE,            /**< ICMP type that is not translated */
    NAT_R_ICMP_INNER_TRUNCATED, /**< embedded packet too short */
    NAT_R_ICMP_INNER_HEADER,    /**< embedded IP header malformed */
    NAT_R_ICMP_INNER_CHECKSUM,  /**< embedded IP header checksum bad */
    NAT_R_ICMP_INNER_PROTO,     /**< embedded protocol not translatable */
    NAT_R_ICMP_INNER_ERROR,     /**< error about an ICMP error */
    NAT_R_ICMP_INNER_FRAG,      /**< embedded packet is a non-first fragment */

    /* Translation */
    NAT_R_PROTO,           /**< transport protocol not translatable */
    NAT_R_NO_MAPPING,      /**< inbound packet matches no binding */
    NAT_R_FILTERED,        /**< rejected by the filtering behaviour */
    NAT_R_TCP_NOT_SYN,     /**< TCP without session and not a SYN */
    NAT_R_TCP_SYN_IN,      /**< unsolicited inbound SYN (RFC 5382 REQ-4) */
    NAT_R_NO_ADDRESS,      /**< no external address configured */
    NAT_R_PORTS,           /**< no free external port */
    NAT_R_TABLE_FULL,      /**< session table full */
    NAT_R_HOST_SESSIONS,   /**< per-host session limit reached */
    NAT_R_HOST_PORTS,      /**< per-host external port limit reached */
    NAT_R_ICMP_NO_SESSION, /**< ICMP error quotes no known session */
    NAT_R_FRAGMENT,        /**< fragment that cannot be translated */
    NAT_R_DIRECTION,       /**< invalid direction argument */
    NAT_R_BUFFER,          /**< invalid buffer argument (NULL, cap < len) */

    /* Fragments (RFC 4787 REQ-14) */
    NAT_R_FRAG_STORE_FULL, /**< no room to hold an out-of-order fragment */
    NAT_R_FRAG_SRC_LIMIT,  /**< this source holds too many fragments */
    NAT_R_FRAG_TOO_BIG,    /**< fragment larger than a store slot */
    NAT_R_FRAG_TIMEOUT,    /**< held fragment's first fragment never came */
    NAT_R_FRAG_ORPHAN,     /**< its first fragment was dropped */

    NAT_R_MAX /**< number of reason codes */
};

/**
 * nat_reason_str() - a short static name for a drop reason, such as
 * "ip-checksum". Unknown values give "unknown". Never returns NULL.
 */
NAT_EXTERN const char *nat_reason_str(enum nat_reason reason);

/* ------------------------------------------------------------------------
 * Checksums (RFC 1071, RFC 1624)
 *
 * A "sum" (uint32_t) is an unfolded one's-complement accumulator; a
 * "checksum" (uint16_t) is the final complemented value found in a header.
 * ------------------------------------------------------------------------ */

/**
 * nat_csum_add() - add the bytes of @buf to the running sum @sum.
 *
 * @buf may have any alignment and any length. When a checksum covers several
 * pieces, every piece except the last must have an even length. Returns the
 * new partial sum; fold it with nat_csum_fold() or nat_csum_finish().
 */
NAT_EXTERN uint32_t nat_csum_add(uint32_t sum, const void *buf, size_t len);

/**
 * nat_csum_fold() - fold a partial sum to 16 bits with end-around carry,
 * without complementing it.
 */
NAT_EXTERN uint16_t nat_csum_fold(uint32_t sum);

/**
 * nat_csum_finish() - fold and complement: the value to store in a checksum
 * field. For UDP pass the result through nat_csum_udp_final().
 */
NAT_EXTERN uint16_t nat_csum_finish(uint32_t sum);

/**
 * nat_csum() - the Internet checksum of @len bytes at @buf: a convenience
 * for nat_csum_finish(nat_csum_add(0, buf, len)). Over a region that
 * already contains a correct checksum field the result is 0.
 */
NAT_EXTERN uint16_t nat_csum(const void *buf, size_t len);

/**
 * nat_csum_pseudo4() - partial sum of the IPv4 pseudo-header (RFC 793,
 * RFC 768): source and destination address (host order), protocol and the
 * transport length in bytes. Add the transport bytes with nat_csum_add().
 */
NAT_EXTERN uint32_t nat_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto,
                                     uint16_t len);

/**
 * nat_csum_pseudo6() - partial sum of the IPv6 pseudo-header (RFC 8200
 * 8.1): 16-byte addresses in network order, upper-layer length, next header.
 */
NAT_EXTERN uint32_t nat_csum_pseudo6(const uint8_t src[16],
                                     const uint8_t dst[16], uint8_t next,
                                     uint32_t len);

/**
 * nat_csum_update16() - RFC 1624 eqn. 3 incremental update: the checksum
 * @csum of data in which one 16-bit word changed from @from to @to.
 */
NAT_EXTERN uint16_t nat_csum_update16(uint16_t csum, uint16_t from,
                                      uint16_t to);

/**
 * nat_csum_update32() - as nat_csum_update16() for a changed 32-bit field
 * (an IPv4 address) aligned on a 16-bit boundary of the checksummed data.
 */
NAT_EXTERN uint16_t nat_csum_update32(uint16_t csum, uint32_t from,
                                      uint32_t to);

/**
 * nat_csum_udp_update16() - incremental update of a UDP checksum: a zero
 * checksum means "no checksum" (RFC 768) and stays zero; a result of zero is
 * sent as 0xFFFF.
 */
NAT_EXTERN uint16_t nat_csum_udp_update16(uint16_t csum, uint16_t from,
                                          uint16_t to);

/** nat_csum_udp_update32() - nat_csum_udp_update16() for a 32-bit field. */
NAT_EXTERN uint16_t nat_csum_udp_update32(uint16_t csum, uint32_t from,
                                          uint32_t to);

/**
 * nat_csum_udp_final() - map a computed UDP checksum to its transmitted
 * form: 0 becomes 0xFFFF (RFC 768), anything else is unchanged.
 */
NAT_EXTERN uint16_t nat_csum_udp_final(uint16_t csum);

/* ------------------------------------------------------------------------
 * Instance and configuration
 * ------------------------------------------------------------------------ */

/** An opaque NAT instance. Single-threaded: use one per worker. */
struct nat;

/** Translated protocols, used to index per-protocol settings. */
enum nat_proto {
    NAT_P_TCP = 0,
    NAT_P_UDP = 1,
    NAT_P_ICMP = 2, /**< ICMP queries, identifier used as the port */
    NAT_P_MAX
};

/** Mapping behaviour (RFC 4787 section 4.1). */
enum nat_mapping {
    NAT_MAP_EI = 0, /**< endpoint-independent (REQ-1, the default) */
    NAT_MAP_AD,     /**< address-dependent */
    NAT_MAP_APD     /**< address-and-port-dependent */
};

/** Filtering behaviour (RFC 4787 section 5). */
enum nat_filtering {
    NAT_FILTER_EI = 0, /**< endpoint-independent */
    NAT_FILTER_AD,     /**< address-dependent (the default, REQ-8) */
    NAT_FILTER_APD     /**< address-and-port-dependent */
};

/** Why an event fired or a session ended. */
enum nat_event_type {
    NAT_EV_BINDING_CREATE = 1, /**< external endpoint allocated */
    NAT_EV_BINDING_DELETE,     /**< external endpoint released */
    NAT_EV_SESSION_CREATE,     /**< session (binding + remote) created */
    NAT_EV_SESSION_DELETE,     /**< session ended; see nat_event.cause */
    NAT_EV_EXHAUSTED           /**< a limit was hit; see nat_event.reason */
};

/** How a session or binding ended. */
enum nat_end_cause {
    NAT_END_NONE = 0,
    NAT_END_EXPIRED, /**< idle timeout (including TCP transitory) */
    NAT_END_DELETED, /**< nat_session_delete() */
    NAT_END_FLUSHED  /**< nat_flush() or nat_destroy() */
};

/**
 * One NAT logging event (RFC 6888 REQ-12 hook). Addresses and ports are host
 * order; for binding events the remote endpoint is zero. For exhaustion
 * events of outbound packets the inside and remote endpoints are set; of
 * inbound packets also the external endpoint (the inside one is that of the
 * binding or forward the packet was for).
 */
struct nat_event {
    enum nat_event_type type;
    enum nat_reason reason;   /**< NAT_EV_EXHAUSTED: which limit */
    enum nat_end_cause cause; /**< *_DELETE: why */
    uint64_t now_ms;          /**< caller time of the call that caused it */
    uint8_t proto;            /**< IP protocol number (6, 17, 1) */
    uint32_t in_addr, ext_addr, rem_addr;
    uint16_t in_port, ext_port, rem_port;
};

/** Event callback. Must not call back into the same instance. */
typedef void (*nat_event_fn)(const struct nat_event *ev, void *arg);

/**
 * Instance configuration. Always start from nat_config_init(), which fills
 * RFC defaults; then change fields. Sizes are fixed at create time.
 */
struct nat_config {
    uint32_t max_sessions;   /**< session capacity (default 65536) */
    uint32_t max_bindings;   /**< binding capacity (0: = max_sessions) */
    uint32_t max_hosts;      /**< inside hosts tracked (0: = max_bindings) */
    uint32_t max_pool;       /**< external addresses (default 16) */
    uint32_t max_prefixes;   /**< inside, and excluded, prefixes (16 each) */
    uint32_t max_forwards;   /**< static port forwards (default 64) */
    uint32_t max_one_to_one; /**< 1:1 address mappings (default 64) */

    uint32_t host_max_sessions; /**< per inside host, 0 = unlimited */
    uint32_t host_max_ports;    /**< external ports per inside host, 0 = unl. */

    uint32_t timeout_udp_ms;       /**< RFC 4787 REQ-5: default 300 s */
    uint32_t timeout_tcp_est_ms;   /**< RFC 5382 REQ-5: default 7440 s */
    uint32_t timeout_tcp_trans_ms; /**< RFC 5382 REQ-5: default 240 s */
    uint32_t timeout_icmp_ms;      /**< RFC 5508 REQ-2: default 60 s */
    uint32_t port_hold_ms; /**< RFC 6888 REQ-8 reuse delay: default 120 s */

    uint16_t port_min, port_max;       /**< external port range (1024-65535) */
    uint16_t icmp_id_min, icmp_id_max; /**< ICMP identifiers (1-65535) */
    uint8_t mapping[NAT_P_MAX];        /**< enum nat_mapping per protocol */
    uint8_t filtering[NAT_P_MAX];      /**< enum nat_filtering per protocol */
    uint8_t port_preserve;  /**< try the inside port first (default 1) */
    uint8_t port_parity;    /**< keep port parity, RFC 4787 REQ-4 (0) */
    uint8_t port_class;     /**< ports <1024 map below 1024, REQ-3a (1) */
    uint8_t hairpin;        /**< RFC 4787 REQ-9 hairpinning (default 1) */
    uint32_t expire_budget; /**< expiry work earned per translated packet
                                 (4): spent when the clock moves, at most
                                 64 * expire_budget sessions in one call;
                                 0 leaves expiry to nat_expire() */

    uint32_t frag_entries;      /**< fragmented datagrams tracked (1024) */
    uint32_t frag_held;         /**< out-of-order fragments stored (64) */
    uint32_t frag_held_per_src; /**< of which per source address (16) */
    uint32_t frag_timeout_ms;   /**< fragment state lifetime (RFC 791: 15 s) */

    uint32_t icmp_rate;  /**< nat_icmp_error() per second (100; 0: never) */
    uint32_t icmp_burst; /**< token bucket depth for icmp_rate (20) */

    uint8_t secret[16];    /**< keys hashing and port choice: fill it from
                                a random source (getrandom(2)) */
    nat_event_fn event_cb; /**< optional event callback */
    void *event_arg;       /**< passed to event_cb */
};

/** nat_config_init() - fill @cfg with the RFC defaults documented above. */
NAT_EXTERN void nat_config_init(struct nat_config *cfg);

/**
 * nat_config_check() - validate @cfg. Returns 0, or NAT_EINVAL/NAT_ERANGE
 * and stores the name of the first bad field in *@field (if non-NULL).
 */
NAT_EXTERN int nat_config_check(const struct nat_config *cfg,
                                const char **field);

/**
 * nat_memsize() - bytes of memory an instance with @cfg needs, for
 * nat_create_in(). Returns 0 when @cfg is invalid or the size overflows.
 */
NAT_EXTERN size_t nat_memsize(const struct nat_config *cfg);

/**
 * nat_create() - allocate and initialise an instance. Returns 0 and stores
 * it in *@out, or a negative NAT_E* code. This is the only allocation.
 */
NAT_EXTERN int nat_create(const struct nat_config *cfg, struct nat **out);

/**
 * nat_create_in() - build an instance inside caller memory @mem of @size
 * bytes (at least nat_memsize(), aligned to 16 bytes). libnat never frees it.
 */
NAT_EXTERN int nat_create_in(const struct nat_config *cfg, void *mem,
                             size_t size, struct nat **out);

/**
 * nat_destroy() - end all sessions (NAT_END_FLUSHED events fire) and, for
 * nat_create() instances, free the memory. NULL is allowed.
 */
NAT_EXTERN void nat_destroy(struct nat *nat);

/* ------------------------------------------------------------------------
 * Rules (changeable at runtime; addresses host order)
 * ------------------------------------------------------------------------ */

/** nat_pool_add() - add an external address to the pool. */
NAT_EXTERN int nat_pool_add(struct nat *nat, uint32_t addr);
/** nat_pool_del() - remove an address; NAT_EBUSY while bindings use it. */
NAT_EXTERN int nat_pool_del(struct nat *nat, uint32_t addr);

/** nat_inside_add() - translate packets from @prefix/@len going out. */
NAT_EXTERN int nat_inside_add(struct nat *nat, uint32_t prefix, uint8_t len);
/** nat_inside_del() - remove an inside prefix. */
NAT_EXTERN int nat_inside_del(struct nat *nat, uint32_t prefix, uint8_t len);

/**
 * nat_exclude_add() - never translate packets to or from @prefix/@len
 * (they pass untouched, e.g. routed internal networks).
 */
NAT_EXTERN int nat_exclude_add(struct nat *nat, uint32_t prefix, uint8_t len);
/** nat_exclude_del() - remove an exclusion. */
NAT_EXTERN int nat_exclude_del(struct nat *nat, uint32_t prefix, uint8_t len);

/**
 * A static port forward (DNAT): packets to ext_addr:ext_port..ext_port_last
 * go to in_addr:in_port + (port - ext_port). ext_addr must be in the pool.
 */
struct nat_forward {
    uint8_t proto; /**< 6 (TCP) or 17 (UDP) */
    uint32_t ext_addr;
    uint16_t ext_port, ext_port_last; /**< last 0: single port */
    uint32_t in_addr;
    uint16_t in_port;
};

/** nat_forward_add() - add a forward; NAT_EBUSY if a live binding holds one
 * of its ports, NAT_EEXIST if it overlaps another forward. */
NAT_EXTERN int nat_forward_add(struct nat *nat, const struct nat_forward *fw);
/** nat_forward_del() - remove the forward with the same external range. */
NAT_EXTERN int nat_forward_del(struct nat *nat, const struct nat_forward *fw);

/**
 * nat_one_to_one_add() - basic NAT (RFC 3022): @in_addr is always seen
 * outside as @ext_addr with ports unchanged, and everything arriving for
 * @ext_addr goes to @in_addr. Stateless; @ext_addr must not be in the pool.
 */
NAT_EXTERN int nat_one_to_one_add(struct nat *nat, uint32_t in_addr,
                                  uint32_t ext_addr);
/** nat_one_to_one_del() - remove the mapping for @in_addr. */
NAT_EXTERN int nat_one_to_one_del(struct nat *nat, uint32_t in_addr);

/* ------------------------------------------------------------------------
 * Translation
 * ------------------------------------------------------------------------ */

/** Which side a packet arrived on. */
enum nat_dir {
    NAT_DIR_OUT = 0, /**< from the inside network, going out */
    NAT_DIR_IN = 1   /**< from the outside network, coming in */
};

/** What to do with a packet after nat_translate(). */
enum nat_verdict {
    NAT_DROP = 0, /**< drop it; nat_result.reason says why */
    NAT_OUT,      /**< translated; send it to the outside */
    NAT_IN,       /**< translated; send it to the inside */
    NAT_HAIRPIN,  /**< translated twice; send it back inside (REQ-9) */
    NAT_PASS,     /**< not subject to NAT; forward it unchanged */
    NAT_HELD,     /**< kept by libnat (fragments); nothing to send now */
    NAT_VERDICT_MAX
};

/** A verdict and, for NAT_DROP, its reason. */
struct nat_result {
    enum nat_verdict verdict;
    enum nat_reason reason;
};

/**
 * nat_translate() - translate the IPv4 packet in @buf in place.
 *
 * @len is the packet length, @cap the buffer's capacity (>= @len; libnat
 * never writes past it), @now_ms the caller's monotonic clock. On NAT_OUT,
 * NAT_IN and NAT_HAIRPIN the packet has been rewritten and every checksum
 * is valid (incremental updates; a bad checksum stays bad). *@len may change
 * only where a protocol demands it (never for NAT44). Never fails with
 * undefined behaviour: bad input is NAT_DROP with a reason.
 */
NAT_EXTERN struct nat_result nat_translate(struct nat *nat, enum nat_dir dir,
                                           uint8_t *buf, size_t *len,
                                           size_t cap, uint64_t now_ms);

/** One packet of a burst. */
struct nat_pkt_io {
    uint8_t *buf;
    size_t len;
    size_t cap;
    enum nat_dir dir;
    struct nat_result res; /**< filled by nat_translate_burst() */
};

/**
 * nat_translate_burst() - nat_translate() over @n packets, all at @now_ms,
 * with the same results, but faster: the hash buckets and sessions of each
 * group of 32 packets are prefetched before any is translated. Expiry
 * credit for all @n packets is earned and spent once, at the start.
 * Results are in each element's res; the return value is the number of
 * packets not dropped (0 when @nat is NULL).
 */
NAT_EXTERN size_t nat_translate_burst(struct nat *nat, struct nat_pkt_io *pkts,
                                      size_t n, uint64_t now_ms);

/**
 * nat_expire() - expire up to @budget idle sessions and held ports at
 * @now_ms (for idle periods; translation already expires a few per call).
 * Returns the number of sessions ended.
 */
NAT_EXTERN size_t nat_expire(struct nat *nat, uint64_t now_ms, size_t budget);

/**
 * nat_frag_collect() - take one fragment that libnat held (verdict
 * NAT_HELD: it arrived before its first fragment) and has since translated.
 * Copies it into @buf of @cap bytes, stores its length in *@len and its
 * verdict (NAT_OUT, NAT_IN or NAT_HAIRPIN) in *@res. Returns 1 when a
 * fragment was copied, 0 when none is waiting, NAT_ENOSPC when @cap is too
 * small (the fragment stays queued), NAT_EINVAL when a pointer is NULL.
 * Call it after each nat_translate() that translated a first fragment, or
 * simply after every burst. Held fragments whose first fragment was not
 * translated are dropped (NAT_R_FRAG_ORPHAN), never returned here.
 */
NAT_EXTERN int nat_frag_collect(struct nat *nat, uint8_t *buf, size_t cap,
                                size_t *len, struct nat_result *res);

/* ------------------------------------------------------------------------
 * ICMP generation (RFC 5508 REQ-8, RFC 6888 REQ-11, RFC 1812 4.3.2)
 * ------------------------------------------------------------------------ */

/**
 * nat_icmp_error() - write into @out an ICMP error of @type/@code about the
 * IPv4 packet @pkt (@len bytes, as received: call it before or instead of
 * forwarding, never on a translated copy), from address @src (the NAT's
 * address facing the sender) to the packet's source. @mtu is the next-hop
 * MTU for "fragmentation needed" (type 3 code 4), else 0. The quote is the
 * offending packet's header and as much data as keeps the error within 576
 * bytes. Rate-limited per instance by cfg.icmp_rate/icmp_burst.
 *
 * Returns the error's length, or NAT_EINVAL when no error may be sent about
 * @pkt (it is malformed, an ICMP error, a non-first fragment, or from or to
 * a broadcast/multicast address: RFC 1122 3.2.2), NAT_ENOSPC when @cap is
 * too small, NAT_ELIMIT when the rate limit is reached.
 */
NAT_EXTERN int nat_icmp_error(struct nat *nat, const uint8_t *pkt, size_t len,
                              uint8_t type, uint8_t code, uint32_t src,
                              uint16_t mtu, uint8_t *out, size_t cap,
                              uint64_t now_ms);

/**
 * nat_icmp_for_reason() - the ICMP error to send for a packet dropped with
 * @reason: destination unreachable, code 13 "communication administratively
 * prohibited", when no session could be created for lack of resources or by
 * quota (RFC 5508 REQ-8, RFC 6888 REQ-11b). Returns 1 and fills @type and
 * @code, or 0 when the drop deserves no answer (malformed or unsolicited
 * packets are dropped silently: RFC 5382 REQ-4a, RFC 5508 REQ-3/4).
 */
NAT_EXTERN int nat_icmp_for_reason(enum nat_reason reason, uint8_t *type,
                                   uint8_t *code);

/* ------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------ */

/** TCP states tracked for timeouts (RFC 7857 section 2). */
enum nat_tcp_state {
    NAT_TCP_NONE = 0,    /**< not TCP */
    NAT_TCP_SYN_OUT,     /**< SYN seen from inside only */
    NAT_TCP_SYN_IN,      /**< SYN seen from outside only */
    NAT_TCP_ESTABLISHED, /**< SYN seen both ways */
    NAT_TCP_FIN_OUT,     /**< FIN from inside */
    NAT_TCP_FIN_IN,      /**< FIN from outside */
    NAT_TCP_CLOSING,     /**< FIN both ways: transitory */
    NAT_TCP_RST          /**< RST seen: transitory (RFC 7857 2.2) */
};

/** A session as seen through the API (host order). */
struct nat_session {
    uint64_t id;       /**< stable handle for nat_session_delete() */
    uint8_t proto;     /**< 6, 17 or 1 */
    uint8_t tcp_state; /**< enum nat_tcp_state */
    uint32_t in_addr, ext_addr, rem_addr;
    uint16_t in_port, ext_port, rem_port; /**< ICMP: identifier; rem 0 */
    uint64_t last_ms;                     /**< last packet */
    uint64_t expires_ms; /**< earliest it can end if idle from now on */
};

/**
 * nat_session_lookup() - find the session for a 5-tuple seen from @side:
 * NAT_DIR_OUT looks up (inside addr:port, remote addr:port), NAT_DIR_IN
 * (external addr:port, remote addr:port). Returns 0 and fills @out, or
 * NAT_ENOENT.
 */
NAT_EXTERN int nat_session_lookup(struct nat *nat, enum nat_dir side,
                                  uint8_t proto, uint32_t addr, uint16_t port,
                                  uint32_t rem_addr, uint16_t rem_port,
                                  struct nat_session *out);

/**
 * nat_session_next() - iterate: start with *@cursor = 0; each call fills
 * @out and returns 1, or returns 0 at the end. Deleting sessions while
 * iterating is safe.
 */
NAT_EXTERN int nat_session_next(struct nat *nat, uint64_t *cursor,
                                struct nat_session *out);

/** nat_session_delete() - end the session with @id (NAT_END_DELETED).
 * Returns 0 or NAT_ENOENT. */
NAT_EXTERN int nat_session_delete(struct nat *nat, uint64_t id,
                                  uint64_t now_ms);

/** nat_flush() - end every session and binding (NAT_END_FLUSHED); held
 * ports are released too. Returns the number of sessions ended. */
NAT_EXTERN size_t nat_flush(struct nat *nat, uint64_t now_ms);

/**
 * nat_session_count() - live sessions of IP protocol @proto (6, 17, 1), or
 * of all protocols when @proto is 0.
 */
NAT_EXTERN size_t nat_session_count(const struct nat *nat, uint8_t proto);

/* ------------------------------------------------------------------------
 * Scale-out: N instances, one per worker, owning disjoint port ranges
 * ------------------------------------------------------------------------ */

/**
 * Steering state shared (read-only) by the dispatcher and the workers.
 * Worker w owns external ports [port_min + w * span, ...) where span is
 * (port_max - port_min + 1) / workers; each worker's instance gets that
 * slice from nat_steer_config().
 */
struct nat_steer {
    uint32_t workers;
    uint16_t port_min, port_max;
    uint32_t span;
    uint64_t key[2];
};

/**
 * nat_steer_init() - prepare steering of @workers workers (1..1024) over the
 * external port range [@port_min, @port_max] (at least 64 ports per
 * worker), keyed by @secret (16 bytes). Returns 0 or NAT_EINVAL/NAT_ERANGE.
 */
NAT_EXTERN int nat_steer_init(struct nat_steer *st, uint32_t workers,
                              uint16_t port_min, uint16_t port_max,
                              const uint8_t secret[16]);

/**
 * nat_steer_config() - set @cfg's external port range to worker @worker's
 * slice. Because every inside host is steered to one worker (below), paired
 * pooling, endpoint-independent mapping and per-host limits stay exact.
 * ICMP identifiers are sliced the same way. Low-port class preservation
 * (port_class) is turned off, since ports below 1024 are not sliced.
 * Returns 0 or NAT_EINVAL.
 */
NAT_EXTERN int nat_steer_config(const struct nat_steer *st, uint32_t worker,
                                struct nat_config *cfg);

/**
 * nat_steer() - the worker that owns the IPv4 packet @pkt of @len bytes
 * arriving from @dir: outbound by a keyed hash of the inside source
 * address; inbound by the destination port (TCP, UDP) or identifier (ICMP
 * queries), or for ICMP errors by the port of the quoted packet. Packets
 * that carry no port (fragments, other protocols, ports outside every
 * slice) go to worker 0, which should also hold static forwards (and so
 * get the outbound packets of a forward's inside endpoint from its
 * forwarded ports: steering knows the slices, not the rules; see
 * nat_config_init(3)). Never fails: malformed packets go to worker 0,
 * which drops them with a reason.
 */
NAT_EXTERN uint32_t nat_steer(const struct nat_steer *st, enum nat_dir dir,
                              const uint8_t *pkt, size_t len);

/* ------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------ */

/** Counters since create. */
struct nat_stats {
    uint64_t verdicts[NAT_VERDICT_MAX]; /**< packets per verdict */
    uint64_t drops[NAT_R_MAX];          /**< drops per reason */
    uint64_t sessions_created, sessions_ended;
    uint64_t bindings_created, bindings_ended;
    uint32_t sessions, bindings, hosts; /**< live now */
    uint32_t sessions_peak;
    uint32_t ports_held;              /**< in the reuse hold-down */
    uint32_t frags_tracked;           /**< fragmented datagrams tracked */
    uint32_t frags_held;              /**< fragments waiting for a first */
    uint64_t icmp_sent, icmp_limited; /**< nat_icmp_error() outcomes */
};

/** nat_stats_get() - copy the counters into @st. */
NAT_EXTERN void nat_stats_get(const struct nat *nat, struct nat_stats *st);

/** nat_verdict_str() - "drop", "out", "in", "hairpin", "pass" or "held". */
NAT_EXTERN const char *nat_verdict_str(enum nat_verdict v);

#ifdef __cplusplus
}
#endif

#endif /* LIBNAT_H */
