/* vm_stack: the main thread's stack grows on demand. A recursion touches about 512 KiB of
 * stack page by page; the [stack] line of /proc/self/maps must have grown to cover the
 * deepest byte touched and keep its size after the recursion returned. Then, with a 1 MiB
 * RLIMIT_STACK, a deeper recursion ends in SIGSEGV (SEGV_MAPERR), handled on an alternate
 * signal stack, and the [stack] mapping stays within the limit. Only relations between
 * addresses and sizes are printed. */
/* ---- Helpers shared by the tests/guest/vm_*.c programs (each file carries its own copy,
 * so every program stays a single self-contained source). ----
 * Every program first reserves RES_PAGES pages PROT_NONE with mmap(NULL) and then works
 * with MAP_FIXED inside that reservation, so that no absolute address is ever printed:
 * show() prints the /proc/self/maps lines that intersect the reservation with their
 * addresses relative to its base ("+0010000-+0018000") and the rest of the line verbatim.
 * While the reservation has no holes, an address the kernel picks (mmap(NULL), mremap
 * MREMAP_MAYMOVE) is necessarily outside of it.
 * mprotect, munmap, mremap and mincore go through syscall(): libc wrappers may adjust the
 * arguments (musl rounds mprotect's range to pages, checks mremap's lengths) and these
 * programs test the kernel's checks. mmap stays the libc call (i386 has mmap2 only). */
#define _GNU_SOURCE
#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef PROT_GROWSDOWN
#define PROT_GROWSDOWN 0x01000000
#endif
#ifndef PROT_GROWSUP
#define PROT_GROWSUP 0x02000000
#endif

#define PAGE 4096UL
#define RES_PAGES 16384UL /* 64 MiB */

static char *R; /* base of the reservation */

static int sys_mprotect(void *addr, size_t len, int prot) { return (int)syscall(SYS_mprotect, addr, len, prot); }
static int sys_munmap(void *addr, size_t len) { return (int)syscall(SYS_munmap, addr, len); }
static int sys_mincore(void *addr, size_t len, unsigned char *vec) { return (int)syscall(SYS_mincore, addr, len, vec); }
static int sys_madvise(void *addr, size_t len, int advice) { return (int)syscall(SYS_madvise, addr, len, advice); }
static void *sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
    long r = syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
    return r == -1 ? MAP_FAILED : (void *)r;
}

static const char *en(int e)
{
    static char other[32];
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ENODEV: return "ENODEV";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: snprintf(other, sizeof other, "errno %d", e); return other;
    }
}

/* Page n of the reservation. */
static char *pg(long n) { return R + n * (long)PAGE; }

/* "0" or "-1 ENOMEM" for a call returning int; errno must be cleared first. */
static const char *rc_str(int rc)
{
    static char buf[64];
    if (rc == 0) return "0";
    snprintf(buf, sizeof buf, "%d %s", rc, en(errno));
    return buf;
}

/* A returned address: "MAP_FAILED ENOMEM", "+0010000" (inside the reservation) or
 * "outside" (somewhere the kernel chose). */
static const char *addr_str(void *p)
{
    static char buf[64];
    if (p == MAP_FAILED) {
        snprintf(buf, sizeof buf, "MAP_FAILED %s", en(errno));
        return buf;
    }
    uintptr_t a = (uintptr_t)p, r = (uintptr_t)R;
    if (a >= r && a < r + RES_PAGES * PAGE)
        snprintf(buf, sizeof buf, "+%07lx", (unsigned long)(a - r));
    else
        snprintf(buf, sizeof buf, "outside");
    return buf;
}

static void reserve(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    void *p = mmap(NULL, RES_PAGES * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        printf("reservation failed: %s\n", en(errno));
        exit(1);
    }
    R = p;
}

/* mmap with MAP_FIXED inside the reservation; exits if that fails. */
static char *fixed(long page, long npages, int prot)
{
    void *p = mmap(pg(page), npages * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p != pg(page)) {
        printf("MAP_FIXED at page %ld failed: %s\n", page, en(errno));
        exit(1);
    }
    return p;
}

/* Puts PROT_NONE back over [page, page + npages) (plugs holes left by a step). */
static void plug(long page, long npages) { fixed(page, npages, PROT_NONE); }

static char maps_text[1 << 18];

static void read_maps(void)
{
    size_t n = 0;
    ssize_t r;
    int fd = open("/proc/self/maps", O_RDONLY);
    maps_text[0] = 0;
    if (fd < 0) {
        printf("open /proc/self/maps: %s\n", en(errno));
        return;
    }
    while (n < sizeof maps_text - 1 && (r = read(fd, maps_text + n, sizeof maps_text - 1 - n)) > 0)
        n += (size_t)r;
    maps_text[n] = 0;
    close(fd);
}

/* Prints the maps lines intersecting [base, base + len), addresses relative to base. */
static void show_range(const char *step, const char *base, unsigned long len)
{
    int count = 0;
    read_maps();
    printf("-- maps: %s\n", step);
    for (char *line = maps_text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        unsigned long long s, e;
        char *rest = strchr(line, ' ');
        if (rest && sscanf(line, "%llx-%llx", &s, &e) == 2) {
            unsigned long long b = (uintptr_t)base, end = b + len;
            if (e > b && s < end) {
                printf("   %c%07llx-%c%07llx%s\n", s < b ? '-' : '+', s < b ? b - s : s - b,
                       e < b ? '-' : '+', e < b ? b - e : e - b, rest);
                count++;
            }
        }
        if (!nl) break;
        *nl = '\n';
        line = nl + 1;
    }
    if (!count) printf("   (no lines)\n");
}

static void show(const char *step) { show_range(step, R, RES_PAGES * PAGE); }

/* Access probes: a SIGSEGV handler siglongjmps back and the probe reports the si_code. */
static sigjmp_buf probe_env;
static volatile int probe_code;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    probe_code = si->si_code;
    siglongjmp(probe_env, 1);
}

static void probe_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = probe_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
}

static const char *code_str(int code)
{
    return code == SEGV_MAPERR ? "SIGSEGV SEGV_MAPERR" : code == SEGV_ACCERR ? "SIGSEGV SEGV_ACCERR" : "SIGSEGV other";
}

/* "read 0x41" or "SIGSEGV SEGV_ACCERR". */
static const char *probe_read(const char *p)
{
    static char buf[64];
    if (sigsetjmp(probe_env, 1)) return code_str(probe_code);
    unsigned char v = *(const volatile unsigned char *)p;
    snprintf(buf, sizeof buf, "read 0x%02x", v);
    return buf;
}

/* Writes v; "wrote" or "SIGSEGV ...". */
static const char *probe_write(char *p, char v)
{
    if (sigsetjmp(probe_env, 1)) return code_str(probe_code);
    *(volatile char *)p = v;
    return "wrote";
}

/* Byte i of page n's pattern (page numbers relative to the reservation). */
static unsigned char pat(long page, size_t i) { return (unsigned char)(page * 7 + i * 13 + 1); }

static void fill_pat(long page, long npages)
{
    for (long p = page; p < page + npages; p++)
        for (size_t i = 0; i < PAGE; i++) pg(p)[i] = (char)pat(p, i);
}

/* Counts bytes of [at, at + npages) that differ from the pattern of pages [page, ...). */
static size_t check_pat(const char *at, long page, long npages)
{
    size_t bad = 0;
    for (long p = 0; p < npages; p++)
        for (size_t i = 0; i < PAGE; i++) bad += (unsigned char)at[p * PAGE + i] != pat(page + p, i);
    return bad;
}

static size_t count_nonzero(const char *at, long npages)
{
    size_t n = 0;
    for (size_t i = 0; i < npages * PAGE; i++) n += at[i] != 0;
    return n;
}
/* ---- end of the shared helpers ---- */

#include <sys/resource.h>

struct stack_line {
    int found;
    unsigned long long start, end;
    char perms[8];
    int name_column; /* where "[stack]" starts in the line */
};

static struct stack_line find_stack(void)
{
    struct stack_line st;
    memset(&st, 0, sizeof st);
    read_maps();
    for (char *line = maps_text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *name = strstr(line, "[stack]");
        if (name && sscanf(line, "%llx-%llx %7s", &st.start, &st.end, st.perms) == 3) {
            st.found = 1;
            st.name_column = (int)(name - line);
        }
        if (!nl) break;
        *nl = '\n';
        line = nl + 1;
    }
    return st;
}

static volatile uintptr_t deepest;

/* Recursion with a 4 KiB frame that is written at both ends (so every page is touched in
 * order) and still used after the call returns (so it is no tail call). */
static int __attribute__((noinline)) dive(int depth)
{
    volatile char frame[4000];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    if ((uintptr_t)frame < deepest) deepest = (uintptr_t)frame;
    if (depth == 0) return frame[0];
    return dive(depth - 1) + frame[sizeof frame - 1];
}

static sigjmp_buf overflow_env;
static volatile int overflow_sig, overflow_code;

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    overflow_sig = sig;
    overflow_code = si->si_code;
    siglongjmp(overflow_env, 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    volatile char here = 0;
    struct stack_line before = find_stack();
    printf("[stack] found: %s, perms %s, name column %d\n", before.found ? "yes" : "no", before.perms,
           before.name_column);
    if (!before.found) return 1;
    printf("a local variable inside [stack]: %s\n",
           (uintptr_t)&here >= before.start && (uintptr_t)&here < before.end ? "yes" : "no");

    deepest = (uintptr_t)&here;
    int r = dive(128); /* 128 frames of 4 KB: about 512 KiB */
    struct stack_line after = find_stack();
    printf("recursion result %d\n", r);
    printf("touched at least 500 KiB below the first local: %s\n",
           (uintptr_t)&here - deepest >= 500 * 1024 ? "yes" : "no");
    printf("grew %s\n", after.end - after.start > before.end - before.start ? "yes" : "no");
    printf("same top: %s\n", after.end == before.end ? "yes" : "no");
    printf("covers the deepest byte touched: %s\n", deepest >= after.start && deepest < after.end ? "yes" : "no");
    printf("grown by at most 16 pages beyond it: %s\n", deepest - after.start < 16 * PAGE ? "yes" : "no");
    printf("perms %s\n", after.perms);
    struct stack_line again = find_stack();
    printf("still the same size after returning: %s\n",
           again.start == after.start && again.end == after.end ? "yes" : "no");

    /* Stack overflow under a 1 MiB limit. */
    struct rlimit rl;
    getrlimit(RLIMIT_STACK, &rl);
    rl.rlim_cur = 1 << 20;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur) rl.rlim_cur = rl.rlim_max;
    printf("setrlimit RLIMIT_STACK 1 MiB: %d\n", setrlimit(RLIMIT_STACK, &rl));
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    deepest = (uintptr_t)&here;
    if (sigsetjmp(overflow_env, 1) == 0) {
        r = dive(512); /* about 2 MiB */
        printf("2 MiB recursion returned %d (no overflow)\n", r);
    } else {
        printf("overflow: signal %s, %s\n", overflow_sig == SIGSEGV ? "SIGSEGV" : "other",
               overflow_code == SEGV_MAPERR ? "SEGV_MAPERR" : overflow_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
    }
    struct stack_line limited = find_stack();
    printf("[stack] within 1 MiB: %s\n", limited.end - limited.start <= (1 << 20) ? "yes" : "no");
    printf("[stack] at least 900 KiB: %s\n", limited.end - limited.start >= 900 * 1024 ? "yes" : "no");
    printf("deepest touched byte within 1 MiB of the top: %s\n", limited.end - deepest <= (1 << 20) ? "yes" : "no");
    return 0;
}
