/*
 * Fuzz target: the checksum helpers against a naive RFC 1071 reference.
 *
 * Input: [align][split][nupd] then nupd x [op][offset][value:4], then the
 * data. Checks nat_csum/nat_csum_add (any alignment, split sums),
 * nat_csum_fold, the pseudo-header sums, and a chain of RFC 1624
 * incremental updates (16- and 32-bit, plain and UDP) against a full
 * recomputation after every step.
 */
#include "config.h"

#include "fuzz.h"
#include "libnat.h"

#define MAX_UPD 32

struct upd {
    uint8_t op, off;
    uint32_t val;
};

static int
all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* RFC 1624 eqn. 3 agrees with a full recomputation except that data of
 * all zeros sums to -0: the incremental result is then +0. */
static void
assert_same(uint16_t inc, uint16_t full, const uint8_t *d, size_t n)
{
    if (inc != full)
        FZ_ASSERT(inc == 0 && full == 0xffff && all_zero(d, n));
}

static uint16_t
udp_form(uint16_t c)
{
    return c == 0 ? 0xffff : c;
}

static void
check_sums(const uint8_t *data, size_t n, uint8_t align, uint8_t split)
{
    /* nat_csum at every alignment: the data starts (align & 7) bytes into
     * its heap block and ends exactly at the block's end, so ASan sees any
     * read past it. */
    uint8_t *buf = malloc(n + (align & 7));
    FZ_ASSERT(buf != NULL || n + (align & 7) == 0);
    uint8_t *d = buf + (align & 7);
    if (n)
        memcpy(d, data, n);
    uint8_t *exact = fz_exact_dup(data, n);

    uint32_t ref = ref_sum(data, n, 0);
    uint16_t want = (uint16_t)~ref_fold(ref);
    FZ_ASSERT(nat_csum(d, n) == want);
    FZ_ASSERT(nat_csum(exact, n) == want);
    FZ_ASSERT(nat_csum_fold(nat_csum_add(0, exact, n)) == ref_fold(ref));

    /* Split at an even point: the running sum carries over. */
    size_t s = n ? ((size_t)split * n / 256) & ~(size_t)1 : 0;
    uint32_t part = nat_csum_add(0, d, s);
    FZ_ASSERT(nat_csum_finish(nat_csum_add(part, d + s, n - s)) == want);
    /* A large starting sum (several folds) is still folded correctly. */
    uint32_t big = 0xffff0000u | split;
    FZ_ASSERT(nat_csum_fold(nat_csum_add(big, exact, n)) ==
              ref_fold(ref_fold(big) + ref_fold(ref)));
    free(exact);
    free(buf);

    if (n >= 12) {
        uint32_t a = fz_ld32(data), b = fz_ld32(data + 4);
        uint16_t len = fz_ld16(data + 8);
        uint8_t ph[12];
        fz_st32(ph, a);
        fz_st32(ph + 4, b);
        ph[8] = 0;
        ph[9] = data[10];
        fz_st16(ph + 10, len);
        FZ_ASSERT(nat_csum_fold(nat_csum_pseudo4(a, b, data[10], len)) ==
                  ref_fold(ref_sum(ph, 12, 0)));
    }
    if (n >= 36) {
        uint8_t ph[40];
        memcpy(ph, data, 32);
        uint32_t len = fz_ld32(data + 32);
        fz_st32(ph + 32, len);
        ph[36] = ph[37] = ph[38] = 0;
        ph[39] = data[35];
        FZ_ASSERT(nat_csum_fold(nat_csum_pseudo6(data, data + 16, data[35],
                                                 len)) ==
                  ref_fold(ref_sum(ph, 40, 0)));
    }
}

static void
check_updates(const uint8_t *data, size_t n, const struct upd *u, size_t nu)
{
    if (n < 4)
        return;
    uint8_t *d = malloc(n);
    FZ_ASSERT(d != NULL);
    memcpy(d, data, n);

    uint16_t c = ref_csum(d, n);   /* plain checksum, kept incrementally */
    uint16_t cu = udp_form(c);     /* the same as a UDP field */
    uint16_t cz = 0;               /* a UDP field sent without checksum */
    for (size_t i = 0; i < nu; i++) {
        int wide = u[i].op & 1;
        size_t w = wide ? 4 : 2;
        size_t off = ((size_t)u[i].off * (n - w + 1) / 256) & ~(size_t)1;
        if (off + w > n)
            continue;
        if (wide) {
            uint32_t from = fz_ld32(d + off), to = u[i].val;
            fz_st32(d + off, to);
            c = nat_csum_update32(c, from, to);
            cu = nat_csum_udp_update32(cu, from, to);
            cz = nat_csum_udp_update32(cz, from, to);
        } else {
            uint16_t from = fz_ld16(d + off), to = (uint16_t)u[i].val;
            fz_st16(d + off, to);
            c = nat_csum_update16(c, from, to);
            cu = nat_csum_udp_update16(cu, from, to);
            cz = nat_csum_udp_update16(cz, from, to);
        }
        uint16_t full = ref_csum(d, n);
        assert_same(c, full, d, n);
        FZ_ASSERT(cu == udp_form(full));
        FZ_ASSERT(cz == 0);
        /* The stored field verifies: sum over data + field is -0. */
        FZ_ASSERT(ref_fold(ref_sum(d, n & ~(size_t)1, 0) +
                           ((n & 1) ? (uint32_t)d[n - 1] << 8 : 0) + cu) ==
                  0xffff);
    }
    FZ_ASSERT(nat_csum_udp_final(0) == 0xffff);
    FZ_ASSERT(nat_csum_udp_final(c | 1) == (c | 1));
    free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t align = fz_u8(&f), split = fz_u8(&f);
    size_t nu = fz_u8(&f) % (MAX_UPD + 1);
    struct upd u[MAX_UPD];
    for (size_t i = 0; i < nu; i++) {
        u[i].op = fz_u8(&f);
        u[i].off = fz_u8(&f);
        u[i].val = fz_u32(&f);
    }
    if (f.n > 65536)
        return 0;
    check_sums(f.p, f.n, align, split);
    check_updates(f.p, f.n, u, nu);
    return 0;
}
