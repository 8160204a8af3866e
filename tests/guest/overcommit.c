/* Overcommit under the default heuristic (vm.overcommit_memory 0, mm/util.c): a private
 * writable mapping larger than RAM + swap is refused with ENOMEM at mmap, and so is making
 * one writable (mprotect), growing one (mremap) or the break (brk) by that much; the same size
 * read-only, PROT_NONE or MAP_NORESERVE is accepted. 1 TiB exceeds RAM + swap natively and
 * under emu (64-bit builds only). "meminfo" (emu only: the host's Committed_AS moves with
 * other processes) prints how /proc/meminfo's Committed_AS follows a 64 MiB mapping. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const size_t HUGE_LEN = (size_t)1 << 40;

static void report(const char* what, int failed) {
    printf("%-28s %s\n", what, failed ? strerror(errno) : "ok");
}

static void* map(size_t len, int prot, int flags) {
    errno = 0;
    return mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static long committed_kb(void) {
    FILE* f = fopen("/proc/meminfo", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Committed_AS: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static int meminfo(void) {
    const long before = committed_kb();
    char* p = map(64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    const long mapped = committed_kb();
    mprotect(p, 32 << 20, PROT_READ);  /* never written: half the commitment goes back */
    const long halved = committed_kb();
    munmap(p, 64 << 20);
    const long after = committed_kb();
    char* q = map(64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
    const long noreserve = committed_kb();
    munmap(q, 64 << 20);
    printf("mapped +%ld kB, mprotect read-only -%ld kB, munmap back to start: %s, noreserve +%ld kB\n",
           mapped - before, mapped - halved, after == before ? "yes" : "no", noreserve - after);
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "meminfo") == 0) return meminfo();
    void* p = map(HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    report("private read-write", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);

    p = map(HUGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
    report("private MAP_NORESERVE", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);

    p = map(HUGE_LEN, PROT_NONE, MAP_PRIVATE);
    report("private PROT_NONE", p == MAP_FAILED);
    if (p != MAP_FAILED) munmap(p, HUGE_LEN);

    p = map(HUGE_LEN, PROT_READ, MAP_PRIVATE);
    report("private read-only", p == MAP_FAILED);
    if (p != MAP_FAILED) {
        errno = 0;
        report("mprotect all read-write", mprotect(p, HUGE_LEN, PROT_READ | PROT_WRITE) != 0);
        errno = 0;
        report("mprotect 1 MiB read-write", mprotect(p, 1 << 20, PROT_READ | PROT_WRITE) != 0);
        munmap(p, HUGE_LEN);
    }

    char* small = map(1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    small[0] = 1;
    errno = 0;
    void* grown = mremap(small, 1 << 20, HUGE_LEN, MREMAP_MAYMOVE);
    report("mremap grow to 1 TiB", grown == MAP_FAILED);
    munmap(grown == MAP_FAILED ? small : grown, grown == MAP_FAILED ? 1 << 20 : HUGE_LEN);

    /* brk(2) itself: libc wrappers differ (musl's brk always fails). */
    const unsigned long cur = (unsigned long)syscall(SYS_brk, 0);
    const unsigned long got = (unsigned long)syscall(SYS_brk, cur + HUGE_LEN);
    printf("%-28s %s\n", "brk grow by 1 TiB", got == cur ? "refused" : "granted");
    const unsigned long small_brk = (unsigned long)syscall(SYS_brk, cur + (1 << 20));
    printf("%-28s %s\n", "brk grow by 1 MiB", small_brk == cur + (1 << 20) ? "granted" : "refused");
    return 0;
}
