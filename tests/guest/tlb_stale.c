/* tlb_stale [CASE N]: no translation survives a change of the page tables.
 * Each case maps N pages, writes and reads every one (so any TLB holds them all), changes
 * the mapping with one syscall, and at once accesses the first, middle and last page again:
 * the access must fault (SIGSEGV, caught) or see the new contents. N = 1, 16 and 64 take
 * each way emu invalidates: one page, a batch of 16 pages flushed one by one after the
 * syscall, and 64 pages, past Linux's 33-page ceiling, where the whole TLB is flushed.
 *   none      no change: the pages still read back (the baseline of the unit test)
 *   munmap    the pages fault
 *   remap     munmap, then a fresh MAP_FIXED mapping at the same place reads zero
 *   fixed     a MAP_FIXED mapping over the live pages reads zero
 *   prot_none mprotect(PROT_NONE): reads fault
 *   prot_read mprotect(PROT_READ): writes fault, reads see the old values
 *   dontneed  madvise(MADV_DONTNEED): the pages read zero
 *   mremap    moved elsewhere: the old place faults, the new one holds the values
 *   cow       read fresh pages (the zero page), write them (copy on write): they read back
 * Without arguments every case runs with every N. Prints one line per run; "ok" when the
 * kernel's rules held, else what survived, and exits 1. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL

static sigjmp_buf env;
static void on_segv(int sig) { siglongjmp(env, sig); }

/* Reads (or writes) one byte at p: the value read, or -1 when the access faulted. */
static int probe(volatile unsigned char *p, int write)
{
    if (sigsetjmp(env, 1)) return -1;
    if (write) {
        *p = 0x5a;
        return 0x5a;
    }
    return *p;
}

static unsigned char value_of(unsigned long i) { return (unsigned char)(i * 13 + 7); }

static int failures;
static int single; /* one case from the command line: its only invalidation is the change */
static volatile unsigned sink;

static void report(const char *c, unsigned long n, const char *what, unsigned long page, int got, int want)
{
    printf("%s %lu: %s of page %lu gave %d, want %d\n", c, n, what, page, got, want);
    failures++;
}

/* Runs case c on n pages; returns the number of rule violations. */
static int run(const char *c, unsigned long n)
{
    int before = failures;
    /* Room for the mapping and, after it, a place for mremap to move it to. */
    unsigned char *res = mmap(NULL, 2 * n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    volatile unsigned char *p = mmap(res, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    volatile unsigned char *moved = (volatile unsigned char *)res + n * PAGE;
    int cow = strcmp(c, "cow") == 0;
    for (unsigned long i = 0; i < n; i++) {
        if (!cow) p[i * PAGE] = value_of(i); /* cow leaves them the zero page, read-only */
        sink += p[i * PAGE];
    }

    /* After the change a read faults (want_fault), reads zero (want_zero) or the values. */
    int want_zero = 0, want_fault = 0, write_faults = 0;
    if (strcmp(c, "none") == 0) {
    } else if (strcmp(c, "munmap") == 0) {
        syscall(SYS_munmap, p, n * PAGE);
        want_fault = 1;
    } else if (strcmp(c, "remap") == 0) {
        syscall(SYS_munmap, p, n * PAGE);
        mmap((void *)p, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        want_zero = 1;
    } else if (strcmp(c, "fixed") == 0) {
        mmap((void *)p, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        want_zero = 1;
    } else if (strcmp(c, "prot_none") == 0) {
        syscall(SYS_mprotect, p, n * PAGE, PROT_NONE);
        want_fault = 1;
    } else if (strcmp(c, "prot_read") == 0) {
        syscall(SYS_mprotect, p, n * PAGE, PROT_READ);
        write_faults = 1;
    } else if (strcmp(c, "dontneed") == 0) {
        syscall(SYS_madvise, p, n * PAGE, MADV_DONTNEED);
        want_zero = 1;
    } else if (strcmp(c, "mremap") == 0) {
        syscall(SYS_mremap, p, n * PAGE, n * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, moved);
        want_fault = 1;
    } else if (cow) {
        for (unsigned long i = 0; i < n; i++) p[i * PAGE] = value_of(i);
    } else {
        fprintf(stderr, "tlb_stale: unknown case %s\n", c);
        exit(2);
    }
    const unsigned long pages[3] = {0, n / 2, n - 1};
    for (int k = 0; k < 3; k++) {
        unsigned long i = pages[k];
        if (k && i == pages[k - 1]) continue;
        int want = want_fault ? -1 : want_zero ? 0 : value_of(i);
        int got = probe(p + i * PAGE, 0);
        if (got != want) report(c, n, "a read", i, got, want);
        if (write_faults && (got = probe(p + i * PAGE, 1)) != -1) report(c, n, "a write", i, got, -1);
        if (strcmp(c, "mremap") == 0 && (got = probe(moved + i * PAGE, 0)) != value_of(i))
            report(c, n, "a read of the moved copy", i, got, value_of(i));
    }
    if (!single) munmap(res, 2 * n * PAGE); /* alone, a case leaves the rest to exit */
    if (failures == before) printf("%s %lu: ok\n", c, n);
    return failures - before;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    if (argc == 3) {
        single = 1;
        return run(argv[1], strtoul(argv[2], NULL, 10)) ? 1 : 0;
    }
    static const char *cases[] = {"none", "munmap", "remap", "fixed", "prot_none", "prot_read", "dontneed", "mremap", "cow"};
    static const unsigned long sizes[] = {1, 16, 64};
    for (unsigned c = 0; c < sizeof cases / sizeof *cases; c++)
        for (unsigned s = 0; s < 3; s++) run(cases[c], sizes[s]);
    return failures ? 1 : 0;
}
