/* vm_fixed: MAP_FIXED over existing mappings replaces them (zero-filled, across several
 * mappings and holes, partially past a mapping's end); MAP_FIXED_NOREPLACE fails with
 * EEXIST on any overlap and maps into a free range; an address hint is taken when the range
 * is free (rounded up to a page when unaligned), not when it is taken or when it would sit in
 * the stack guard gap below a MAP_GROWSDOWN mapping; argument checks (zero, huge and
 * unaligned lengths and addresses, MAP_SHARED_VALIDATE with an unknown flag). Normalized
 * /proc/self/maps after each step. */
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

static void *mm(void *addr, size_t len, int prot, int flags)
{
    errno = 0;
    return mmap(addr, len, prot, flags, -1, 0);
}

#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

int main(void)
{
    reserve();
    probe_init();
    show("the reservation");
    void *r;

    /* 1. MAP_FIXED over the middle of a touched mapping. */
    fixed(16, 8, RW);
    fill_pat(16, 8);
    r = mm(pg(18), 3 * PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED rw over pages 18-20: %s\n", addr_str(r));
    show("the new pages merge with the old ones");
    printf("nonzero bytes in pages 18-20: %zu, pattern errors in 16-17: %zu, 21-23: %zu\n",
           count_nonzero(pg(18), 3), check_pat(pg(16), 16, 2), check_pat(pg(21), 21, 3));
    fill_pat(16, 8);
    r = mm(pg(19), PAGE, PROT_READ, ANON | MAP_FIXED);
    printf("MAP_FIXED r-- over page 19: %s\n", addr_str(r));
    show("split by a read-only page");
    printf("read page 19: %s\n", probe_read(pg(19) + 1));
    printf("write page 19: %s\n", probe_write(pg(19) + 1, 1));

    /* 2. Past the mapping's end into the reservation. */
    r = mm(pg(22), 4 * PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED rw over pages 22-25: %s\n", addr_str(r));
    show("pages 22-25 rw");
    printf("nonzero bytes in pages 22-25: %zu\n", count_nonzero(pg(22), 4));

    /* 3. Over several mappings, a hole and the reservation at once. */
    errno = 0;
    printf("munmap pages 30-31: %s\n", rc_str(sys_munmap(pg(30), 2 * PAGE)));
    r = mm(pg(17), 16 * PAGE, PROT_READ, ANON | MAP_FIXED);
    printf("MAP_FIXED r-- over pages 17-32: %s\n", addr_str(r));
    show("one r-- mapping over everything");
    printf("nonzero bytes in pages 17-32: %zu, pattern errors in 16: %zu\n", count_nonzero(pg(17), 16),
           check_pat(pg(16), 16, 1));
    r = mm(pg(16), 17 * PAGE, PROT_NONE, ANON | MAP_FIXED);
    printf("MAP_FIXED PROT_NONE over pages 16-32: %s\n", addr_str(r));
    show("back to one reservation");

    /* 4. MAP_FIXED_NOREPLACE. */
    fixed(48, 4, RW);
    errno = 0;
    printf("munmap pages 52-55: %s\n", rc_str(sys_munmap(pg(52), 4 * PAGE)));
    r = mm(pg(48), 4 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over the rw mapping: %s\n", addr_str(r));
    r = mm(pg(51), 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over its last page and the hole: %s\n", addr_str(r));
    r = mm(pg(54), 4 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over the hole and the reservation: %s\n", addr_str(r));
    r = mm(pg(100), PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE over the reservation: %s\n", addr_str(r));
    r = mm(pg(52) + 1, PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE unaligned, in the hole: %s\n", addr_str(r));
    r = mm(pg(52), 0, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE length 0: %s\n", addr_str(r));
    show("unchanged, hole at 52-55");
    r = mm(pg(53), 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE in the hole, pages 53-54: %s\n", addr_str(r));
    r = mm(pg(52), PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE in the hole, page 52: %s\n", addr_str(r));
    show("hole filled but page 55");
    r = mm(pg(55), PAGE, PROT_NONE, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE PROT_NONE in the hole, page 55: %s\n", addr_str(r));
    show("no hole left");
    printf("read page 53: %s\n", probe_read(pg(53)));

    /* 5. Hints (no MAP_FIXED). */
    errno = 0;
    printf("munmap pages 64-67: %s\n", rc_str(sys_munmap(pg(64), 4 * PAGE)));
    r = mm(pg(64), 4 * PAGE, RW, ANON);
    printf("hint page 64, the hole fits exactly: %s\n", addr_str(r));
    errno = 0;
    printf("munmap pages 72-74: %s\n", rc_str(sys_munmap(pg(72), 3 * PAGE)));
    r = mm(pg(72) + 1, 2 * PAGE, RW, ANON);
    printf("hint page 72 + 1 byte, 2 pages, into the 3-page hole 72-74: %s\n", addr_str(r));
    show("two mappings made from hints");
    for (long p = 72; p < 75; p++) /* plug what is left of the hole */
        mm(pg(p), PAGE, PROT_NONE, ANON | MAP_FIXED_NOREPLACE);
    show("rest of the hole at 72-74 plugged");
    /* No hole is left, so an address the kernel picks is outside the reservation. */
    r = mm(pg(16), PAGE, RW, ANON);
    printf("hint page 16 (taken): %s\n", addr_str(r));
    if (r != MAP_FAILED) munmap(r, PAGE);
    errno = 0;
    printf("munmap pages 80-81: %s\n", rc_str(sys_munmap(pg(80), 2 * PAGE)));
    r = mm(pg(80), 4 * PAGE, RW, ANON);
    printf("hint page 80, a 4-page mapping into a 2-page hole: %s\n", addr_str(r));
    if (r != MAP_FAILED) munmap(r, 4 * PAGE);
    plug(80, 2);
    /* The stack guard gap (stack_guard_gap, 256 pages by default) below a MAP_GROWSDOWN
     * mapping: a hint inside it is not taken, MAP_FIXED is. */
    r = mm(pg(400), 4 * PAGE, RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
    printf("MAP_GROWSDOWN at page 400: %s\n", addr_str(r));
    errno = 0;
    printf("munmap pages 392-399: %s\n", rc_str(sys_munmap(pg(392), 8 * PAGE)));
    r = mm(pg(396), 4 * PAGE, RW, ANON);
    printf("hint page 396, right below the MAP_GROWSDOWN mapping: %s\n", addr_str(r));
    if (r != MAP_FAILED && r != pg(396)) munmap(r, 4 * PAGE);
    r = mm(pg(392), 4 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE);
    printf("MAP_FIXED_NOREPLACE page 392, in the guard gap: %s\n", addr_str(r));
    show("below the MAP_GROWSDOWN mapping");
    plug(392, 12);

    /* 6. Argument checks. */
    r = mm(pg(16), 0, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED length 0: %s\n", addr_str(r));
    r = mm(pg(16) + 1, PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED unaligned: %s\n", addr_str(r));
    r = mm(pg(16), (size_t)0 - PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED length -PAGE: %s\n", addr_str(r));
    r = mm((void *)(0 - PAGE), PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED at -PAGE: %s\n", addr_str(r));
    r = mm((void *)(0 - 2 * PAGE), 4 * PAGE, RW, ANON | MAP_FIXED);
    printf("MAP_FIXED at -2 pages, 4 pages (wraps): %s\n", addr_str(r));
    r = mm(NULL, (size_t)0 - PAGE, RW, ANON);
    printf("length -PAGE: %s\n", addr_str(r));
    r = mm(NULL, SIZE_MAX, RW, ANON);
    printf("length SIZE_MAX: %s\n", addr_str(r));
    r = mm(NULL, 0, RW, ANON);
    printf("length 0: %s\n", addr_str(r));
    r = mm(NULL, PAGE, RW, MAP_ANONYMOUS);
    printf("neither MAP_PRIVATE nor MAP_SHARED: %s\n", addr_str(r));
    r = mm(NULL, PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x40000000);
    printf("MAP_SHARED_VALIDATE with an unknown flag: %s\n", addr_str(r));
    r = mm(pg(16), PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED);
    printf("MAP_SHARED_VALIDATE|MAP_FIXED: %s\n", addr_str(r));
    show("unchanged by the failed calls");
    show("the end");
    return 0;
}
