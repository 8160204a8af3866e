/* vm_fixed: MAP_FIXED over existing mappings replaces them (zero-filled, across several
 * mappings and holes, partially past a mapping's end); MAP_FIXED_NOREPLACE fails with
 * EEXIST on any overlap and maps into a free range; an address hint is taken when the range
 * is free (rounded up to a page when unaligned), not when it is taken or when it would sit in
 * the stack guard gap below a MAP_GROWSDOWN mapping; argument checks (zero, huge and
 * unaligned lengths and addresses, MAP_SHARED_VALIDATE with an unknown flag). Normalized
 * /proc/self/maps after each step. */
#include "vm_common.h"

static void *mm(void *addr, size_t len, int prot, int flags)
{
    errno = 0;
    return mmap(addr, len, prot, flags, -1, 0);
}

#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

int main(void)
{
    reserve();
    probe_init();
    show("the reservation");
    void *r;

    /* 1. MAP_FIXED over the middle of a touched mapping. */
    fixed(16, 8, RW);
    fill_pat(16, 8);
    r = mm(pg(18), 3 * PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED rw over pages 18-20: %s\n", addr_str(r));
    show("the new pages merge with the old ones");
    printf("nonzero bytes in pages 18-20: %zu, pattern errors in 16-17: %zu, 21-23: %zu\n",
           count_nonzero(pg(18), 3), check_pat(pg(16), 16, 2), check_pat(pg(21), 21, 3));
    fill_pat(16, 8);
    r = mm(pg(19), PAGE, PROT_READ, ANON | MAP_FIXED);
    printf("MAP_FIXED r-- over page 19: %s\n", addr_str(r));
    show("split by a read-only page");
    printf("read page 19: %s\n", probe_read(pg(19) + 1));
    printf("write page 19: %s\n", probe_write(pg(19) + 1, 1));

    /* 2. Past the mapping's end into the reservation. */
    r = mm(pg(22), 4 * PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED rw over pages 22-25: %s\n", addr_str(r));
    show("pages 22-25 rw");
    printf("nonzero bytes in pages 22-25: %zu\n", count_nonzero(pg(22), 4));

    /* 3. Over several mappings, a hole and the reservation at once. */
    errno = 0;
    printf("munmap pages 30-31: %s\n", rc_str(sys_munmap(pg(30), 2 * PAGE)));
    r = mm(pg(17), 16 * PAGE, PROT_READ, ANON | MAP_FIXED);
    printf("MAP_FIXED r-- over pages 17-32: %s\n", addr_str(r));
    show("one r-- mapping over everything");
    printf("nonzero bytes in pages 17-32: %zu, pattern errors in 16: %zu\n", count_nonzero(pg(17), 16),
           check_pat(pg(16), 16, 1));
    r = mm(pg(16), 17 * PAGE, PROT_NONE, ANON | MAP_FIXED);
    printf("MAP_FIXED PROT_NONE over pages 16-32: %s\n", addr_str(r));
    show("back to one reservation");

    /* 4. MAP_FIXED_NOREPLACE. */
    fixed(48, 4, RW);
    errno = 0;
    printf("munmap pages 52-55: %s\n", rc_str(sys_munmap(pg(52), 4 * PAGE)));
    r = mm(pg(48), 4 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over the rw mapping: %s\n", addr_str(r));
    r = mm(pg(51), 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over its last page and the hole: %s\n", addr_str(r));
    r = mm(pg(54), 4 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over the hole and the reservation: %s\n", addr_str(r));
    r = mm(pg(100), PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over the reservation: %s\n", addr_str(r));
    r = mm(pg(52) + 1, PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE unaligned, in the hole: %s\n", addr_str(r));
    r = mm(pg(52), 0, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE length 0: %s\n", addr_str(r));
    show("unchanged, hole at 52-55");
    r = mm(pg(53), 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE in the hole, pages 53-54: %s\n", addr_str(r));
    r = mm(pg(52), PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE in the hole, page 52: %s\n", addr_str(r));
    show("hole filled but page 55");
    r = mm(pg(55), PAGE, PROT_NONE, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE PROT_NONE in the hole, page 55: %s\n", addr_str(r));
    show("no hole left");
    printf("read page 53: %s\n", probe_read(pg(53)));

    /* 5. Hints (no MAP_FIXED). */
    errno = 0;
    printf("munmap pages 64-67: %s\n", rc_str(sys_munmap(pg(64), 4 * PAGE)));
    r = mm(pg(64), 4 * PAGE, RW, ANON);
    printf("hint page 64, the hole fits exactly: %s\n", addr_str(r));
    errno = 0;
    printf("munmap pages 72-74: %s\n", rc_str(sys_munmap(pg(72), 3 * PAGE)));
    r = mm(pg(72) + 1, 2 * PAGE, RW, ANON);
    printf("hint page 72 + 1 byte, 2 pages, into the 3-page hole 72-74: %s\n", addr_str(r));
    show("two mappings made from hints");
    for (long p = 72; p < 75; p++) /* plug what is left of the hole */
        mm(pg(p), PAGE, PROT_NONE, ANON | MAP_FIXED_NOREPLACE);
    show("rest of the hole at 72-74 plugged");
    /* No hole is left, so an address the kernel picks is outside the reservation. */
    r = mm(pg(16), PAGE, RW, ANON);
    printf("hint page 16 (taken): %s\n", addr_str(r));
    if (r != MAP_FAILED) munmap(r, PAGE);
    errno = 0;
    printf("munmap pages 80-81: %s\n", rc_str(sys_munmap(pg(80), 2 * PAGE)));
    r = mm(pg(80), 4 * PAGE, RW, ANON);
    printf("hint page 80, a 4-page mapping into a 2-page hole: %s\n", addr_str(r));
    if (r != MAP_FAILED) munmap(r, 4 * PAGE);
    plug(80, 2);
    /* The stack guard gap (stack_guard_gap, 256 pages by default) below a MAP_GROWSDOWN
     * mapping: a hint inside it is not taken, MAP_FIXED is. */
    r = mm(pg(400), 4 * PAGE, RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
    printf("MAP_GROWSDOWN at page 400: %s\n", addr_str(r));
    errno = 0;
    printf("munmap pages 392-399: %s\n", rc_str(sys_munmap(pg(392), 8 * PAGE)));
    r = mm(pg(396), 4 * PAGE, RW, ANON);
    printf("hint page 396, right below the MAP_GROWSDOWN mapping: %s\n", addr_str(r));
    if (r != MAP_FAILED && r != pg(396)) munmap(r, 4 * PAGE);
    r = mm(pg(392), 4 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE page 392, in the guard gap: %s\n", addr_str(r));
    show("below the MAP_GROWSDOWN mapping");
    plug(392, 12);

    /* 6. Argument checks. */
    r = mm(pg(16), 0, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED length 0: %s\n", addr_str(r));
    r = mm(pg(16) + 1, PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED unaligned: %s\n", addr_str(r));
    r = mm(pg(16), (size_t)0 - PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED length -PAGE: %s\n", addr_str(r));
    r = mm((void *)(0 - PAGE), PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED at -PAGE: %s\n", addr_str(r));
    r = mm((void *)(0 - 2 * PAGE), 4 * PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED at -2 pages, 4 pages (wraps): %s\n", addr_str(r));
    r = mm(NULL, (size_t)0 - PAGE, RW, ANON);
    printf("length -PAGE: %s\n", addr_str(r));
    r = mm(NULL, SIZE_MAX, RW, ANON);
    printf("length SIZE_MAX: %s\n", addr_str(r));
    r = mm(NULL, 0, RW, ANON);
    printf("length 0: %s\n", addr_str(r));
    r = mm(NULL, PAGE, RW, MAP_ANONYMOUS);
    printf("neither MAP_PRIVATE nor MAP_SHARED: %s\n", addr_str(r));
    r = mm(NULL, PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x40000000);
    printf("MAP_SHARED_VALIDATE with an unknown flag: %s\n", addr_str(r));
    r = mm(pg(16), PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED);
    printf("MAP_SHARED_VALIDATE|MAP_FIXED: %s\n", addr_str(r));
    show("unchanged by the failed calls");
    show("the end");
    return 0;
}
