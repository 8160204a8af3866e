/* vm_mincore: residency of anonymous pages as mincore reports it: untouched pages are not
 * resident, written pages are, pages only read map the shared zero page (Linux reports them
 * resident), PROT_NONE keeps pages resident, MADV_DONTNEED drops them; a static variable, the
 * stack, an untouched bss page, a shared anonymous mapping; errors: unaligned start (EINVAL),
 * unmapped ranges (ENOMEM, with the entries before the hole already written), an unwritable
 * vector (EFAULT), huge lengths. Every mapping here is far smaller than a huge page. */
#include "vm_common.h"

static unsigned char vec[64];
static char bss_block[1 << 20];
static volatile int data_word = 1;

/* mincore into vec (pre-filled with 0xee); prints the call's result and n entries. */
static void mc(const char *what, void *addr, size_t len, int n)
{
    memset(vec, 0xee, sizeof vec);
    errno = 0;
    int rc = sys_mincore(addr, len, vec);
    printf("%s: %s [", what, rc_str(rc));
    for (int i = 0; i < n; i++) printf(i ? " %02x" : "%02x", vec[i]);
    printf("]\n");
}

int main(void)
{
    reserve();
    probe_init();

    fixed(16, 8, PROT_READ | PROT_WRITE);
    mc("8 untouched rw pages", pg(16), 8 * PAGE, 9);
    pg(16)[0] = 1;
    pg(18)[100] = 1;
    printf("read page 20: %s\n", probe_read(pg(20) + 5));
    printf("read page 21: %s\n", probe_read(pg(21)));
    pg(21)[1] = 2;
    mc("pages 16, 18 written, 20 read, 21 read then written", pg(16), 8 * PAGE, 9);
    mc("length 1 at page 18", pg(18), 1, 2);
    mc("length PAGE+1 at page 17", pg(17), PAGE + 1, 3);
    mc("length 0", pg(16), 0, 1);
    mc("unaligned start", pg(16) + 1, PAGE, 1);
    errno = 0;
    printf("mprotect pages 16-23 PROT_NONE: %s\n", rc_str(sys_mprotect(pg(16), 8 * PAGE, PROT_NONE)));
    mc("after PROT_NONE", pg(16), 8 * PAGE, 8);
    errno = 0;
    printf("mprotect pages 16-23 PROT_READ|PROT_WRITE: %s\n",
           rc_str(sys_mprotect(pg(16), 8 * PAGE, PROT_READ | PROT_WRITE)));
    errno = 0;
    printf("madvise pages 16-19 MADV_DONTNEED: %s\n", rc_str(sys_madvise(pg(16), 4 * PAGE, MADV_DONTNEED)));
    mc("after MADV_DONTNEED of 16-19", pg(16), 8 * PAGE, 8);
    printf("read page 16 after MADV_DONTNEED: %s\n", probe_read(pg(16)));
    mc("after reading page 16", pg(16), 2 * PAGE, 2);

    /* Holes. */
    errno = 0;
    printf("munmap page 22: %s\n", rc_str(sys_munmap(pg(22), PAGE)));
    mc("the hole", pg(22), PAGE, 1);
    mc("pages 16-23 across the hole", pg(16), 8 * PAGE, 8);
    mc("from the hole on", pg(22), 2 * PAGE, 2);
    mc("the untouched reservation", pg(100), 4 * PAGE, 5);
    mc("reservation page 15 and pages 16-17", pg(15), 3 * PAGE, 3);

    /* The vector must be writable. */
    memset(vec, 0, sizeof vec);
    errno = 0;
    int rc = sys_mincore(pg(16), PAGE, (unsigned char *)pg(100));
    printf("vector in a PROT_NONE page: %s\n", rc_str(rc));
    errno = 0;
    printf("mprotect page 23 PROT_READ: %s\n", rc_str(sys_mprotect(pg(23), PAGE, PROT_READ)));
    errno = 0;
    rc = sys_mincore(pg(16), PAGE, (unsigned char *)pg(23));
    printf("vector in a read-only page: %s\n", rc_str(rc));
    errno = 0;
    rc = sys_mincore(pg(16), PAGE, (unsigned char *)pg(22));
    printf("vector in the hole: %s\n", rc_str(rc));

    /* Huge lengths: ENOMEM (64-bit: past TASK_SIZE at once; i386: at the hole, after the
     * entries of pages 16-21 were written). */
    mc("length -PAGE at page 16", pg(16), (size_t)0 - PAGE, 8);
    mc("length SIZE_MAX/2 at page 16", pg(16), SIZE_MAX / 2, 8);
    mc("start -PAGE", (void *)(0 - PAGE), PAGE, 1);

    /* Other memory of the program. */
    data_word = 2;
    mc("a written static variable", (void *)((uintptr_t)&data_word & ~(PAGE - 1)), 1, 1);
    volatile char local = 1;
    mc("the current stack page", (void *)((uintptr_t)&local & ~(PAGE - 1)), 1, 1);
    uintptr_t mid = ((uintptr_t)bss_block + sizeof bss_block / 2) & ~(PAGE - 1);
    mc("an untouched bss page", (void *)mid, 2 * PAGE, 2);
    ((volatile char *)mid)[0] = 1;
    mc("the same bss page written", (void *)mid, 2 * PAGE, 2);

    /* Shared anonymous memory. */
    char *s = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("shared anonymous mapping: %s\n", addr_str(s));
    if (s != MAP_FAILED) {
        mc("4 untouched shared pages", s, 4 * PAGE, 4);
        s[PAGE] = 1;
        printf("read shared page 2: %s\n", probe_read(s + 2 * PAGE));
        mc("shared page 1 written, 2 read", s, 4 * PAGE, 4);
        munmap(s, 4 * PAGE);
    }
    return 0;
}
