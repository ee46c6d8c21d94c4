/*
 * libnat: embeddable Network Address Translation on caller-owned packets.
 *
 * One public header. Every declaration carries its documentation; the man
 * pages (libnat(3) and the pages it lists) say the same at more length.
 *
 * Conventions used throughout:
 *  - All names start with nat_ or NAT_.
 *  - Functions that can fail return 0 or a positive count on success and a
 *    negative NAT_E* code on failure; nat_strerror() names the code.
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
    NAT_OK = 0,        /**< success */
    NAT_EINVAL = -1,   /**< invalid argument or configuration field */
    NAT_ENOMEM = -2,   /**< allocation failed (create only) */
    NAT_ENOSPC = -3,   /**< fixed capacity or caller buffer exhausted */
    NAT_ENOENT = -4,   /**< no such rule, session or entry */
    NAT_EEXIST = -5,   /**< the rule or entry already exists */
    NAT_EBUSY = -6,    /**< the resource is in use by live sessions */
    NAT_EFORMAT = -7,  /**< malformed or unsupported serialized data */
    NAT_ERANGE = -8,   /**< a value is outside the permitted range */
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
    NAT_R_PROTO,          /**< transport protocol not translatable */
    NAT_R_NO_MAPPING,     /**< inbound packet matches no binding */
    NAT_R_FILTERED,       /**< rejected by the filtering behaviour */
    NAT_R_TCP_NOT_SYN,    /**< TCP without session and not a SYN */
    NAT_R_TCP_SYN_IN,     /**< unsolicited inbound SYN (RFC 5382 REQ-4) */
    NAT_R_NO_ADDRESS,     /**< no external address configured */
    NAT_R_PORTS,          /**< no free external port */
    NAT_R_TABLE_FULL,     /**< session table full */
    NAT_R_HOST_SESSIONS,  /**< per-host session limit reached */
    NAT_R_HOST_PORTS,     /**< per-host external port limit reached */
    NAT_R_ICMP_NO_SESSION,/**< ICMP error quotes no known session */
    NAT_R_FRAGMENT,       /**< fragment that cannot be translated */
    NAT_R_DIRECTION,      /**< invalid direction argument */
    NAT_R_BUFFER,         /**< invalid buffer argument (NULL, cap < len) */

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

/* @ENGINE@ */

#ifdef __cplusplus
}
#endif

#endif /* LIBNAT_H */
