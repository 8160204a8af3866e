/* vm_mlock: VmLck through MAP_LOCKED, munlock and mlock of parts, munmap of a locked part,
 * mlockall(MCL_FUTURE) and munlockall. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static void show(const char *when) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmLck", 5)) printf("%-36s %s", when, line);
    fclose(f);
}
int main(void) {
    show("start");
    char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    show("after mmap MAP_LOCKED 64K");
    munlock(p, 4 * 4096);
    show("after munlock 16K");
    mlock(p, 8 * 4096);
    show("after mlock 32K");
    munmap(p + 8 * 4096, 8 * 4096);
    show("after munmap 32K of it");
    char *q = mmap(NULL, 4 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mlockall(MCL_FUTURE);
    char *r = mmap(NULL, 4 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("after mlockall(MCL_FUTURE) + mmap 16K");
    munlockall();
    show("after munlockall");
    (void)q; (void)r;
    return 0;
}
