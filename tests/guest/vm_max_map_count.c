/* vm_max_map_count: at vm.max_map_count mappings, a change that would split a VMA fails
 * with ENOMEM (split_vma), an munmap that would split one into three too, while one that
 * only trims a VMA's end still works; below the limit they work again. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *res(int r) { return r == 0 ? "ok" : errno == ENOMEM ? "ENOMEM" : strerror(errno); }

int main(void) {
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long max = 0;
    if (!f || fscanf(f, "%ld", &max) != 1) max = 65530;
    if (f) fclose(f);
    const long page = sysconf(_SC_PAGESIZE);
    char *r = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return 1;
    /* Fill: single pages with alternating rights never merge. */
    static char *pages[70000];
    long n = 0;
    for (; n < 70000; ++n) {
        char *p = mmap(NULL, page, (n & 1) ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
        pages[n] = p;
    }
    printf("mmap stops with %s after filling to the limit: %s\n", res(-1), n > max / 2 ? "yes" : "no");
    printf("mprotect of a middle page: %s\n", res(mprotect(r + 2 * page, page, PROT_READ)));
    printf("mprotect of the first page: %s\n", res(mprotect(r, page, PROT_READ)));
    printf("munmap of a middle page: %s\n", res(munmap(r + 4 * page, page)));
    printf("munmap of the last page: %s\n", res(munmap(r + 7 * page, page)));
    printf("munmap of the first page: %s\n", res(munmap(r, page)));
    for (int i = 0; i < 4; ++i) munmap(pages[--n], page);
    printf("below the limit, mprotect of a middle page: %s\n", res(mprotect(r + 3 * page, page, PROT_READ)));
    printf("below the limit, munmap of a middle page: %s\n", res(munmap(r + 5 * page, page)));
    return 0;
}
