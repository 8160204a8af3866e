/* vm_munmap: munmap punches holes into one mapping and across several (shown through a
 * normalized /proc/self/maps), the remaining parts keep their contents, a hole faults with
 * SEGV_MAPERR; argument checks: unaligned start (EINVAL), zero length (EINVAL), unaligned
 * length (rounded up), nothing mapped (0), addresses and lengths past TASK_SIZE (EINVAL);
 * a hole filled again with MAP_FIXED. */
#include "vm_common.h"

static const char *um(void *addr, size_t len)
{
    errno = 0;
    return rc_str(sys_munmap(addr, len));
}

int main(void)
{
    reserve();
    probe_init();
    show("the reservation");

    /* 1. Holes in one touched mapping. */
    fixed(16, 16, PROT_READ | PROT_WRITE);
    fill_pat(16, 16);
    show("16 rw pages at page 16");
    printf("munmap pages 20-21: %s\n", um(pg(20), 2 * PAGE));
    show("hole at pages 20-21");
    printf("read page 20: %s\n", probe_read(pg(20)));
    printf("write page 21: %s\n", probe_write(pg(21) + 100, 1));
    printf("read page 19: %s\n", probe_read(pg(19) + 3));
    printf("read page 22: %s\n", probe_read(pg(22) + 4));
    printf("pattern errors in pages 16-19: %zu, 22-31: %zu\n", check_pat(pg(16), 16, 4),
           check_pat(pg(22), 22, 10));
    printf("munmap page 26, length 1: %s\n", um(pg(26), 1));
    printf("munmap page 28, length PAGE+1: %s\n", um(pg(28), PAGE + 1));
    show("holes at 20-21, 26, 28-29");
    printf("read page 26: %s\n", probe_read(pg(26)));
    printf("read page 29: %s\n", probe_read(pg(29)));
    printf("read page 27: %s\n", probe_read(pg(27) + 5));

    /* 2. One call across mappings and holes, starting and ending inside mappings. */
    printf("munmap pages 18-30: %s\n", um(pg(18), 13 * PAGE));
    show("only pages 16-17 and 31 left");
    printf("pattern errors in pages 16-17: %zu, 31: %zu\n", check_pat(pg(16), 16, 2), check_pat(pg(31), 31, 1));
    printf("munmap of the hole 18-30 again: %s\n", um(pg(18), 13 * PAGE));
    plug(18, 13);
    show("hole plugged");

    /* 3. Mappings with different protections, cut in their middles. */
    fixed(64, 6, PROT_READ | PROT_WRITE);
    fill_pat(64, 6);
    errno = 0;
    printf("mprotect pages 66-67 PROT_READ: %s\n", rc_str(sys_mprotect(pg(66), 2 * PAGE, PROT_READ)));
    show("rw-p, r--p, rw-p");
    printf("munmap pages 65-68: %s\n", um(pg(65), 4 * PAGE));
    show("pages 64 and 69 left");
    printf("pattern errors in page 64: %zu, 69: %zu\n", check_pat(pg(64), 64, 1), check_pat(pg(69), 69, 1));
    printf("munmap from page 60 to 64 (reservation and the rw page): %s\n", um(pg(60), 5 * PAGE));
    show("pages 60-64 unmapped");
    plug(60, 9);
    show("plugged, page 69 left");

    /* 4. Argument checks. */
    printf("munmap unaligned start: %s\n", um(pg(69) + 1, PAGE));
    printf("munmap unaligned start, length 0: %s\n", um(pg(69) + 1, 0));
    printf("munmap length 0: %s\n", um(pg(69), 0));
    printf("munmap length 0 on the reservation: %s\n", um(pg(100), 0));
    printf("munmap page 0: %s\n", um((void *)0, PAGE));
    printf("munmap start -PAGE: %s\n", um((void *)(0 - PAGE), PAGE));
    printf("munmap start -PAGE, length 0: %s\n", um((void *)(0 - PAGE), 0));
    printf("munmap page 69, length -PAGE: %s\n", um(pg(69), (size_t)0 - PAGE));
    printf("munmap page 69, length SIZE_MAX: %s\n", um(pg(69), SIZE_MAX));
    printf("munmap page 69, length SIZE_MAX/2+1: %s\n", um(pg(69), SIZE_MAX / 2 + 1));
    show("unchanged by the failed calls");
    printf("read page 69: %s\n", probe_read(pg(69) + 6));

    /* 5. A hole refilled with MAP_FIXED between two pieces of a touched mapping. */
    fixed(128, 8, PROT_READ | PROT_WRITE);
    fill_pat(128, 8);
    printf("munmap pages 131-132: %s\n", um(pg(131), 2 * PAGE));
    show("touched mapping with a hole");
    fixed(131, 2, PROT_READ | PROT_WRITE);
    show("hole refilled with rw pages");
    printf("nonzero bytes in pages 131-132: %zu\n", count_nonzero(pg(131), 2));
    printf("pattern errors in pages 128-130: %zu, 133-135: %zu\n", check_pat(pg(128), 128, 3),
           check_pat(pg(133), 133, 3));
    fill_pat(131, 2);
    printf("munmap pages 128-131: %s\n", um(pg(128), 4 * PAGE));
    fixed(128, 4, PROT_READ | PROT_WRITE);
    pg(128)[0] = 1;
    show("pages 128-131 unmapped, mapped again and touched");

    /* 6. The whole reservation at once. */
    printf("munmap the reservation: %s\n", um(R, RES_PAGES * PAGE));
    show("nothing left");
    printf("read page 16: %s\n", probe_read(pg(16)));
    printf("munmap the reservation again: %s\n", um(R, RES_PAGES * PAGE));
    return 0;
}
