/* vm_mprotect: mprotect splits and merges VMAs (shown through a normalized /proc/self/maps),
 * PROT_NONE / read-only / write-only / exec-only pages probed from a SIGSEGV handler,
 * argument checks (unaligned start, zero and unaligned lengths, bad prot bits,
 * PROT_GROWSDOWN/UP), holes (ENOMEM, with the part before the hole already changed), huge
 * lengths, VM_ACCOUNT and merging with a never-writable neighbour, MAP_GROWSDOWN. */
#include "vm_common.h"

/* mprotect with the errno text: "0" or "-1 EINVAL". */
static const char *mp(void *addr, size_t len, int prot)
{
    errno = 0;
    return rc_str(sys_mprotect(addr, len, prot));
}

int main(void)
{
    reserve();
    probe_init();
    show("the reservation");

    /* 1. Split and merge: 8 pages at +0x10000, touched. */
    fixed(16, 8, PROT_READ | PROT_WRITE);
    show("8 rw pages at page 16, untouched");
    fill_pat(16, 8);
    show("the same after writing them");
    printf("mprotect pages 18-19 PROT_READ: %s\n", mp(pg(18), 2 * PAGE, PROT_READ));
    show("split in three");
    printf("write page 18: %s\n", probe_write(pg(18), 1));
    printf("read page 18: %s\n", probe_read(pg(18) + 5));
    printf("mprotect pages 18-19 PROT_READ|PROT_WRITE: %s\n", mp(pg(18), 2 * PAGE, PROT_READ | PROT_WRITE));
    show("merged again");

    /* 2. PROT_NONE and a read-only neighbour, probed from a SIGSEGV handler. */
    printf("mprotect page 16 PROT_NONE: %s\n", mp(pg(16), PAGE, PROT_NONE));
    printf("mprotect page 17 PROT_READ: %s\n", mp(pg(17), PAGE, PROT_READ));
    show("---p, r--p, rw-p");
    printf("read page 16: %s\n", probe_read(pg(16)));
    printf("write page 16: %s\n", probe_write(pg(16), 1));
    printf("read page 17: %s\n", probe_read(pg(17) + 7));
    printf("write page 17: %s\n", probe_write(pg(17) + 7, 1));
    printf("read page 18: %s\n", probe_read(pg(18) + 9));
    printf("mprotect pages 16-17 PROT_READ|PROT_WRITE: %s\n", mp(pg(16), 2 * PAGE, PROT_READ | PROT_WRITE));
    show("one mapping again");
    printf("pattern errors in pages 16-23: %zu\n", check_pat(pg(16), 16, 8));

    /* 3. Write-only and exec-only pages (x86 can read both). */
    printf("mprotect page 19 PROT_WRITE: %s\n", mp(pg(19), PAGE, PROT_WRITE));
    printf("mprotect page 20 PROT_EXEC: %s\n", mp(pg(20), PAGE, PROT_EXEC));
    printf("mprotect page 21 PROT_READ|PROT_EXEC: %s\n", mp(pg(21), PAGE, PROT_READ | PROT_EXEC));
    show("-w-p, --xp, r-xp");
    printf("read page 19: %s\n", probe_read(pg(19) + 1));
    printf("write page 19: %s\n", probe_write(pg(19) + 1, (char)pat(19, 1)));
    printf("read page 20: %s\n", probe_read(pg(20) + 2));
    printf("write page 20: %s\n", probe_write(pg(20) + 2, 1));
    printf("mprotect pages 19-21 PROT_READ|PROT_WRITE: %s\n", mp(pg(19), 3 * PAGE, PROT_READ | PROT_WRITE));
    printf("pattern errors in pages 16-23: %zu\n", check_pat(pg(16), 16, 8));
    show("merged once more");

    /* 4. Argument checks. */
    printf("mprotect unaligned start: %s\n", mp(pg(16) + 1, PAGE, PROT_READ));
    printf("mprotect length 0: %s\n", mp(pg(16), 0, PROT_READ));
    printf("mprotect length 0, unaligned start: %s\n", mp(pg(16) + 1, 0, PROT_READ));
    printf("mprotect unaligned length 1: %s\n", mp(pg(23), 1, PROT_READ));
    printf("mprotect length PAGE+1 at page 21: %s\n", mp(pg(21), PAGE + 1, PROT_READ));
    show("pages 21-23 read-only via unaligned lengths");
    printf("mprotect PROT_SEM: %s\n", mp(pg(21), 3 * PAGE, PROT_READ | PROT_WRITE | 0x8));
    show("PROT_SEM is accepted and changes nothing visible");
    printf("mprotect prot 0x10: %s\n", mp(pg(16), PAGE, PROT_READ | 0x10));
    printf("mprotect prot 0x80000000: %s\n", mp(pg(16), PAGE, (int)0x80000000u));
    printf("mprotect PROT_GROWSDOWN on a plain mapping: %s\n", mp(pg(20), PAGE, PROT_READ | PROT_GROWSDOWN));
    printf("mprotect PROT_GROWSUP on a plain mapping: %s\n", mp(pg(20), PAGE, PROT_READ | PROT_GROWSUP));
    printf("mprotect PROT_GROWSDOWN|PROT_GROWSUP: %s\n",
           mp(pg(20), PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP));
    show("unchanged by the failed calls");
    plug(16, 8); /* each section starts from a whole reservation: differences do not carry over */

    /* 5. Holes: nothing changes when the range starts in a hole; when it starts in a
     * mapping, the mapped part before the hole is changed and the call fails. */
    errno = 0;
    printf("munmap pages 40-43: %s\n", rc_str(sys_munmap(pg(40), 4 * PAGE)));
    printf("mprotect inside the hole: %s\n", mp(pg(41), PAGE, PROT_READ));
    printf("mprotect from the hole into the reservation: %s\n", mp(pg(42), 4 * PAGE, PROT_READ));
    printf("mprotect hole, length 0: %s\n", mp(pg(41), 0, PROT_READ));
    printf("mprotect from the reservation into the hole: %s\n", mp(pg(38), 4 * PAGE, PROT_READ));
    show("pages 38-39 changed before the hole was found");
    printf("mprotect pages 38-39 back to PROT_NONE: %s\n", mp(pg(38), 2 * PAGE, PROT_NONE));
    show("pages 38-39 merge back into the reservation");
    plug(38, 2);
    fixed(48, 4, PROT_READ | PROT_WRITE);
    fill_pat(48, 4);
    errno = 0;
    printf("munmap pages 52-55: %s\n", rc_str(sys_munmap(pg(52), 4 * PAGE)));
    printf("mprotect pages 50-53 PROT_READ: %s\n", mp(pg(50), 4 * PAGE, PROT_READ));
    show("touched pages 48-51, 50-51 now read-only, hole 52-55");

    /* 6. Huge lengths. On x86-64 start + length wraps (ENOMEM at once); an i386 process
     * passes a 32-bit length the 64-bit kernel zero-extends, so nothing wraps there and
     * the change applies up to the hole. */
    printf("mprotect page 48, length -PAGE: %s\n", mp(pg(48), (size_t)0 - PAGE, PROT_READ | PROT_EXEC));
    show("after the length -PAGE");
    printf("mprotect page 48, length SIZE_MAX: %s\n", mp(pg(48), SIZE_MAX, PROT_EXEC));
    show("after the length SIZE_MAX");
    printf("mprotect page 48, length 1 GiB: %s\n", mp(pg(48), 1UL << 30, PROT_READ));
    show("after the length 1 GiB");
    printf("mprotect pages 48-51 PROT_READ|PROT_WRITE: %s\n", mp(pg(48), 4 * PAGE, PROT_READ | PROT_WRITE));
    printf("pattern errors in pages 48-51: %zu\n", check_pat(pg(48), 48, 4));
    plug(52, 4);
    plug(40, 4);
    show("holes plugged");

    /* 7. VM_ACCOUNT and merging with the never-writable reservation: a writable private
     * mapping made PROT_NONE merges back only if it was never faulted (no anon_vma). */
    fixed(64, 2, PROT_READ | PROT_WRITE);
    printf("mprotect untouched rw pages 64-65 PROT_NONE: %s\n", mp(pg(64), 2 * PAGE, PROT_NONE));
    show("untouched pages 64-65 after PROT_NONE");
    fixed(64, 2, PROT_READ | PROT_WRITE);
    pg(64)[0] = 1;
    printf("mprotect touched rw pages 64-65 PROT_NONE: %s\n", mp(pg(64), 2 * PAGE, PROT_NONE));
    show("touched pages 64-65 after PROT_NONE");
    printf("read page 64: %s\n", probe_read(pg(64)));
    printf("mprotect pages 64-65 PROT_READ: %s\n", mp(pg(64), 2 * PAGE, PROT_READ));
    printf("read page 64 again: %s\n", probe_read(pg(64)));
    printf("read page 65: %s\n", probe_read(pg(65)));
    plug(64, 2);
    show("pages 64-65 plugged with a fresh PROT_NONE mapping");
    printf("mprotect reservation page 80 PROT_READ|PROT_WRITE: %s\n", mp(pg(80), PAGE, PROT_READ | PROT_WRITE));
    show("page 80 writable");
    printf("mprotect page 80 PROT_NONE again: %s\n", mp(pg(80), PAGE, PROT_NONE));
    show("page 80 back to PROT_NONE without a fault");
    printf("mprotect reservation page 81 PROT_READ: %s\n", mp(pg(81), PAGE, PROT_READ));
    printf("read page 81: %s\n", probe_read(pg(81)));
    printf("mprotect page 81 PROT_NONE again: %s\n", mp(pg(81), PAGE, PROT_NONE));
    show("page 81 back to PROT_NONE after a read fault");
    plug(80, 2);

    /* 8. Adjacent separately created mappings with equal flags merge. */
    fixed(96, 2, PROT_READ);
    fixed(98, 2, PROT_READ);
    show("two adjacent r-- mappings");
    fixed(100, 2, PROT_READ | PROT_WRITE);
    printf("mprotect pages 100-101 PROT_READ: %s\n", mp(pg(100), 2 * PAGE, PROT_READ));
    show("a third one, made r-- by mprotect, never touched");
    plug(96, 6);

    /* 9. PROT_GROWSDOWN on a MAP_GROWSDOWN mapping extends the range down to its start. */
    void *gd = mmap(pg(200), 4 * PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
    printf("MAP_GROWSDOWN at page 200: %s\n", addr_str(gd));
    show("a MAP_GROWSDOWN mapping");
    printf("mprotect page 203 PROT_READ|PROT_GROWSDOWN: %s\n", mp(pg(203), PAGE, PROT_READ | PROT_GROWSDOWN));
    show("the whole MAP_GROWSDOWN mapping read-only");
    printf("mprotect page 202 PROT_READ|PROT_WRITE: %s\n", mp(pg(202), PAGE, PROT_READ | PROT_WRITE));
    show("split MAP_GROWSDOWN mapping");
    printf("mprotect page 202 PROT_NONE|PROT_GROWSDOWN: %s\n", mp(pg(202), PAGE, PROT_NONE | PROT_GROWSDOWN));
    show("after PROT_GROWSDOWN on the upper part");
    plug(200, 4);
    show("the end");
    return 0;
}
