/* Built by `make installcheck` against the installed library, found with
 * pkg-config: the RFC 1071 example sums to ddf2, so its checksum is 220d. */
#include <libnat.h>
#include <stdio.h>

int
main(void)
{
    const unsigned char d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    unsigned c = nat_csum(d, sizeof(d));
    printf("libnat %s: checksum %04x\n", nat_version(), c);
    return c == 0x220d ? 0 : 1;
}
