/* Version of the linked library (see <libnat/version.h> for the header's). */
#include "config.h"

#include "libnat.h"

const char *
nat_version(void)
{
    return NAT_VERSION_STRING;
}

uint32_t
nat_version_num(void)
{
    return NAT_VERSION_NUM;
}
