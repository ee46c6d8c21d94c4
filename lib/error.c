/* Error codes and drop reasons as strings. */
#include "config.h"

#include "libnat.h"

const char *
nat_strerror(int err)
{
    switch (err) {
    case NAT_OK:
        return "success";
    case NAT_EINVAL:
        return "invalid argument";
    case NAT_ENOMEM:
        return "out of memory";
    case NAT_ENOSPC:
        return "no space left in fixed capacity";
    case NAT_ENOENT:
        return "no such entry";
    case NAT_EEXIST:
        return "entry already exists";
    case NAT_EBUSY:
        return "resource in use";
    case NAT_EFORMAT:
        return "malformed or unsupported data";
    case NAT_ERANGE:
        return "value out of range";
    case NAT_ELIMIT:
        return "rate limit reached";
    default:
        return "unknown error";
    }
}

static const char *const reason_names[NAT_R_MAX] = {
    [NAT_R_NONE] = "none",
    [NAT_R_IP_TRUNCATED] = "ip-truncated",
    [NAT_R_IP_VERSION] = "ip-version",
    [NAT_R_IP_HDRLEN] = "ip-hdrlen",
    [NAT_R_IP_HDRLEN_TRUNC] = "ip-hdrlen-truncated",
    [NAT_R_IP_TOTLEN] = "ip-totlen",
    [NAT_R_IP_TOTLEN_TRUNC] = "ip-totlen-truncated",
    [NAT_R_IP_CHECKSUM] = "ip-checksum",
    [NAT_R_IP_OPTIONS] = "ip-options",
    [NAT_R_IP_FRAG] = "ip-frag",
    [NAT_R_IP_SRC] = "ip-martian-source",
    [NAT_R_TCP_TRUNCATED] = "tcp-truncated",
    [NAT_R_TCP_DATAOFF] = "tcp-dataoff",
    [NAT_R_TCP_DATAOFF_TRUNC] = "tcp-dataoff-truncated",
    [NAT_R_TCP_FLAGS] = "tcp-flags",
    [NAT_R_UDP_TRUNCATED] = "udp-truncated",
    [NAT_R_UDP_LENGTH] = "udp-length",
    [NAT_R_PORT_ZERO] = "port-zero",
    [NAT_R_FRAG_TINY] = "frag-tiny",
    [NAT_R_ICMP_TRUNCATED] = "icmp-truncated",
    [NAT_R_ICMP_CHECKSUM] = "icmp-checksum",
    [NAT_R_ICMP_TYPE] = "icmp-type",
    [NAT_R_ICMP_INNER_TRUNCATED] = "icmp-inner-truncated",
    [NAT_R_ICMP_INNER_HEADER] = "icmp-inner-header",
    [NAT_R_ICMP_INNER_CHECKSUM] = "icmp-inner-checksum",
    [NAT_R_ICMP_INNER_PROTO] = "icmp-inner-proto",
    [NAT_R_ICMP_INNER_ERROR] = "icmp-inner-error",
    [NAT_R_ICMP_INNER_FRAG] = "icmp-inner-frag",
    [NAT_R_PROTO] = "proto",
    [NAT_R_NO_MAPPING] = "no-mapping",
    [NAT_R_FILTERED] = "filtered",
    [NAT_R_TCP_NOT_SYN] = "tcp-not-syn",
    [NAT_R_TCP_SYN_IN] = "tcp-syn-inbound",
    [NAT_R_NO_ADDRESS] = "no-address",
    [NAT_R_PORTS] = "ports-exhausted",
    [NAT_R_TABLE_FULL] = "table-full",
    [NAT_R_HOST_SESSIONS] = "host-sessions",
    [NAT_R_HOST_PORTS] = "host-ports",
    [NAT_R_ICMP_NO_SESSION] = "icmp-no-session",
    [NAT_R_FRAGMENT] = "fragment",
    [NAT_R_DIRECTION] = "direction",
    [NAT_R_BUFFER] = "buffer",
    [NAT_R_FRAG_STORE_FULL] = "frag-store-full",
    [NAT_R_FRAG_SRC_LIMIT] = "frag-source-limit",
    [NAT_R_FRAG_TOO_BIG] = "frag-too-big",
    [NAT_R_FRAG_TIMEOUT] = "frag-timeout",
    [NAT_R_FRAG_ORPHAN] = "frag-orphan",
};

const char *
nat_reason_str(enum nat_reason reason)
{
    if ((unsigned)reason >= NAT_R_MAX || reason_names[reason] == NULL)
        return "unknown";
    return reason_names[reason];
}
