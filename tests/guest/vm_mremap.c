/* vm_mremap: mremap grows in place into free space, shrinks (also a sub-range in the middle
 * of a mapping), fails to grow in place when blocked (ENOMEM) and moves with MREMAP_MAYMOVE
 * keeping the contents, moves to a chosen address with MREMAP_FIXED (and back, where the
 * pieces merge again), keeps the old range with MREMAP_DONTUNMAP (Linux >= 5.7; it reads as
 * zeros afterwards), duplicates a shared anonymous mapping with old_len 0; the EINVAL,
 * EFAULT and ENOMEM argument checks. Normalized /proc/self/maps after each step. */
#include "vm_common.h"

int main(void)
{
    reserve();
    probe_init();
    show("the reservation");
    void *r;

    /* 1. Grow in place into a hole, then shrink. */
    fixed(16, 4, PROT_READ | PROT_WRITE);
    fill_pat(16, 4);
    errno = 0;
    printf("munmap pages 20-23: %s\n", rc_str(sys_munmap(pg(20), 4 * PAGE)));
    show("4 touched rw pages, 4 free pages after them");
    r = mr(pg(16), 4 * PAGE, 8 * PAGE, 0, NULL);
    printf("mremap 4 -> 8 pages, no flags: %s\n", addr_str(r));
    show("grown in place");
    printf("pattern errors in pages 16-19: %zu, nonzero bytes in 20-23: %zu\n", check_pat(pg(16), 16, 4),
           count_nonzero(pg(20), 4));
    fill_pat(16, 8);
    r = mr(pg(16), 8 * PAGE, 2 * PAGE, 0, NULL);
    printf("mremap 8 -> 2 pages: %s\n", addr_str(r));
    show("shrunk");
    printf("read page 18: %s\n", probe_read(pg(18)));
    printf("pattern errors in pages 16-17: %zu\n", check_pat(pg(16), 16, 2));
    r = mr(pg(16), 2 * PAGE, 2 * PAGE + 100, 0, NULL);
    printf("mremap 2 pages -> 2 pages + 100 bytes (grows into the hole): %s\n", addr_str(r));
    r = mr(pg(16), 3 * PAGE, 3 * PAGE - 100, 0, NULL);
    printf("mremap 3 pages -> 3 pages - 100 bytes (same page count): %s\n", addr_str(r));
    show("3 pages");
    plug(19, 5);
    show("hole plugged");

    /* 2. Blocked by the reservation: ENOMEM in place, a move with MREMAP_MAYMOVE. */
    r = mr(pg(16), 3 * PAGE, 6 * PAGE, 0, NULL);
    printf("mremap 3 -> 6 pages, blocked, no flags: %s\n", addr_str(r));
    show("unchanged");
    r = mr(pg(16), 3 * PAGE, 6 * PAGE, MREMAP_MAYMOVE, NULL);
    printf("mremap 3 -> 6 pages, MREMAP_MAYMOVE: %s\n", addr_str(r));
    if (r != MAP_FAILED) {
        printf("pattern errors in the moved pages: %zu (16-17), %zu (18); nonzero bytes in the new pages: %zu\n",
               check_pat(r, 16, 2), check_pat((char *)r + 2 * PAGE, 18, 1) == 0 ? 0 : count_nonzero((char *)r + 2 * PAGE, 1),
               count_nonzero((char *)r + 3 * PAGE, 3));
        show_range("the moved mapping, relative to its new address", r, 6 * PAGE);
    }
    show("pages 16-18 are a hole now");
    printf("read page 16: %s\n", probe_read(pg(16)));
    if (r != MAP_FAILED) {
        errno = 0;
        printf("munmap the moved mapping: %s\n", rc_str(sys_munmap(r, 6 * PAGE)));
    }
    plug(16, 3);

    /* 3. MREMAP_FIXED to a chosen address, over the reservation, and back. */
    fixed(32, 6, PROT_READ | PROT_WRITE);
    fill_pat(32, 6);
    show("6 touched rw pages at page 32");
    r = mr(pg(33), 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg(48));
    printf("mremap pages 33-34 to page 48, MREMAP_FIXED: %s\n", addr_str(r));
    show("pages 33-34 moved to 48-49");
    printf("pattern errors at page 48: %zu\n", check_pat(pg(48), 33, 2));
    printf("read page 33: %s\n", probe_read(pg(33)));
    r = mr(pg(48), 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg(33));
    printf("mremap pages 48-49 back to page 33: %s\n", addr_str(r));
    show("moved back: the pieces merge");
    plug(48, 2);
    printf("pattern errors in pages 32-37: %zu\n", check_pat(pg(32), 32, 6));
    r = mr(pg(32), 6 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg(64));
    printf("mremap pages 32-37 to page 64, growing to 8 pages: %s\n", addr_str(r));
    show("moved to 64-71 and grown");
    printf("pattern errors in pages 64-69: %zu, nonzero bytes in 70-71: %zu\n", check_pat(pg(64), 32, 6),
           count_nonzero(pg(70), 2));
    r = mr(pg(64), 8 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg(36));
    printf("mremap pages 64-71 to page 36, shrinking to 3 pages: %s\n", addr_str(r));
    show("moved to 36-38 and shrunk");
    printf("pattern errors in pages 36-38: %zu\n", check_pat(pg(36), 32, 3));
    plug(32, 4);
    plug(64, 8);
    fill_pat(36, 3);
    show("holes plugged");

    /* 4. Sub-ranges: shrinking or growing a range that does not end at the mapping's end. */
    r = mr(pg(36), 2 * PAGE, 1 * PAGE, 0, NULL);
    printf("mremap pages 36-37 -> 1 page (page 37 is unmapped): %s\n", addr_str(r));
    show("hole at page 37");
    plug(37, 1);
    fixed(36, 3, PROT_READ | PROT_WRITE);
    fill_pat(36, 3);
    r = mr(pg(36), 1 * PAGE, 2 * PAGE, 0, NULL);
    printf("mremap page 36 -> 2 pages, not at the end of the mapping: %s\n", addr_str(r));
    r = mr(pg(36), 1 * PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL);
    printf("the same with MREMAP_MAYMOVE: %s\n", addr_str(r));
    show("page 36 moved away");
    if (r != MAP_FAILED) {
        printf("pattern errors in the moved page: %zu\n", check_pat(r, 36, 1));
        errno = 0;
        printf("munmap the moved pages: %s\n", rc_str(sys_munmap(r, 2 * PAGE)));
    }
    plug(36, 3);

    /* 5. MREMAP_DONTUNMAP: the old range stays mapped and reads as zeros. */
    fixed(80, 4, PROT_READ | PROT_WRITE);
    fill_pat(80, 4);
    r = mr(pg(80), 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, pg(96));
    printf("mremap pages 80-83 to page 96, MREMAP_DONTUNMAP: %s\n", addr_str(r));
    show("both ranges mapped");
    printf("pattern errors in pages 96-99: %zu, nonzero bytes in 80-83: %zu\n", check_pat(pg(96), 80, 4),
           count_nonzero(pg(80), 4));
    printf("write page 80: %s\n", probe_write(pg(80), 5));
    printf("read page 80: %s\n", probe_read(pg(80)));
    r = mr(pg(96), 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    printf("mremap pages 96-99, MREMAP_DONTUNMAP, kernel's choice: %s\n", addr_str(r));
    if (r != MAP_FAILED) {
        printf("pattern errors in the new range: %zu, nonzero bytes in 96-99: %zu\n", check_pat(r, 80, 4),
               count_nonzero(pg(96), 4));
        show_range("the new range, relative to its address", r, 4 * PAGE);
        errno = 0;
        printf("munmap the new range: %s\n", rc_str(sys_munmap(r, 4 * PAGE)));
    }
    show("after both MREMAP_DONTUNMAP moves");
    r = mr(pg(96), 4 * PAGE, 5 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    printf("MREMAP_DONTUNMAP with old_len != new_len: %s\n", addr_str(r));
    r = mr(pg(96), 4 * PAGE, 4 * PAGE, MREMAP_DONTUNMAP, NULL);
    printf("MREMAP_DONTUNMAP without MREMAP_MAYMOVE: %s\n", addr_str(r));
    plug(80, 4);
    plug(96, 4);

    /* 6. Argument checks. */
    fixed(128, 4, PROT_READ | PROT_WRITE);
    fixed(132, 2, PROT_READ);
    printf("unaligned old address: %s\n", addr_str(mr(pg(128) + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL)));
    printf("new_len 0: %s\n", addr_str(mr(pg(128), PAGE, 0, MREMAP_MAYMOVE, NULL)));
    printf("old_len 0 of a private mapping: %s\n", addr_str(mr(pg(128), 0, PAGE, MREMAP_MAYMOVE, NULL)));
    printf("flags 8: %s\n", addr_str(mr(pg(128), PAGE, PAGE, 8, NULL)));
    printf("MREMAP_FIXED without MREMAP_MAYMOVE: %s\n", addr_str(mr(pg(128), PAGE, PAGE, MREMAP_FIXED, pg(200))));
    printf("MREMAP_FIXED, unaligned new address: %s\n",
           addr_str(mr(pg(128), PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg(200) + 1)));
    printf("MREMAP_FIXED, new range overlapping the old one: %s\n",
           addr_str(mr(pg(128), 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg(129))));
    printf("MREMAP_FIXED, same address: %s\n",
           addr_str(mr(pg(128), 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg(128))));
    errno = 0;
    printf("munmap pages 140-143: %s\n", rc_str(sys_munmap(pg(140), 4 * PAGE)));
    printf("old address in a hole: %s\n", addr_str(mr(pg(140), PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL)));
    printf("old range running into a hole: %s\n", addr_str(mr(pg(139), 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL)));
    printf("old range across two mappings: %s\n", addr_str(mr(pg(131), 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL)));
    /* (A MREMAP_FIXED move of a range spanning two mappings is EFAULT before Linux 6.17 and
     * allowed since: not checked here.) */
    printf("old range past the mapping's end: %s\n", addr_str(mr(pg(132), 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, NULL)));
    printf("new_len -PAGE: %s\n", addr_str(mr(pg(128), PAGE, (size_t)0 - PAGE, 0, NULL)));
    printf("new_len -PAGE, MREMAP_MAYMOVE: %s\n", addr_str(mr(pg(128), PAGE, (size_t)0 - PAGE, MREMAP_MAYMOVE, NULL)));
    printf("old_len -PAGE: %s\n", addr_str(mr(pg(128), (size_t)0 - PAGE, PAGE, 0, NULL)));
    show("unchanged by the failed calls");
    /* Not growing: the old range is not looked up at all. */
    printf("same length, old address in a hole: %s\n", addr_str(mr(pg(141), PAGE, PAGE, 0, NULL)));
    printf("same length, across a mapping and a hole: %s\n", addr_str(mr(pg(139), 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL)));
    printf("shrinking across two mappings and a hole: %s\n", addr_str(mr(pg(130), 12 * PAGE, 1 * PAGE, 0, NULL)));
    plug(140, 4);
    show("pages 131-141 unmapped by the shrink");
    plug(128, 14);

    /* 7. The shared anonymous case (old_len 0) is in vm_shmem.c. */

    /* 8. Last (a new range past TASK_SIZE has crashed an emulator before). */
    fixed(128, 1, PROT_READ | PROT_WRITE);
    printf("MREMAP_FIXED to -PAGE: %s\n",
           addr_str(mr(pg(128), PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(0 - PAGE))));
    printf("MREMAP_FIXED to -2 pages, 4 pages: %s\n",
           addr_str(mr(pg(128), PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(0 - 2 * PAGE))));
    show("the end");
    return 0;
}
