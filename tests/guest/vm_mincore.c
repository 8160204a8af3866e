/* vm_mincore: residency of anonymous pages as mincore reports it: untouched pages are not
 * resident, written pages are, pages only read map the shared zero page (Linux reports them
 * resident), PROT_NONE keeps pages resident, MADV_DONTNEED drops them; a static variable, the
 * stack, an untouched bss page, a shared anonymous mapping; errors: unaligned start (EINVAL),
 * unmapped ranges (ENOMEM, with the entries before the hole already written), an unwritable
 * vector (EFAULT), huge lengths. Every mapping here is far smaller than a huge page. */
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
