/* vm_shmem: mremap with old_len 0 of a shared anonymous mapping makes a second mapping of
 * the same pages (needs shared anonymous memory: shmem). Split from vm_mremap.c. */
#include "vm_common.h"

int main(void)
{
    reserve();
    probe_init();
    void *r;
    /* 7. A shared anonymous mapping: old_len 0 makes a second mapping of the same pages. */
    char *s = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("shared anonymous mapping: %s\n", addr_str(s));
    if (s != MAP_FAILED) {
        strcpy(s + PAGE, "shared");
        r = mr(s, 0, 2 * PAGE, 0, NULL);
        printf("mremap old_len 0 without MREMAP_MAYMOVE: %s\n", addr_str(r));
        r = mr(s, 0, 2 * PAGE, MREMAP_MAYMOVE, NULL);
        printf("mremap old_len 0 with MREMAP_MAYMOVE: %s\n", addr_str(r));
        if (r != MAP_FAILED) {
            char *d = r;
            printf("the copy reads \"%s\"\n", d + PAGE);
            strcpy(d, "written through the copy");
            printf("the original reads \"%s\"\n", s);
            munmap(d, 2 * PAGE);
        }
        munmap(s, 2 * PAGE);
    }
    show("after the shared mapping");

    return 0;
}
