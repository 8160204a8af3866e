/* mmap: anonymous mmap/munmap/mprotect round trips. No addresses are printed,
 * only whether each step behaved as Linux specifies. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

static const char *err_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    default: return "other";
    }
}

static char *map_anon(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : (char *)p;
}

static unsigned char pat(size_t i, unsigned seed) { return (unsigned char)(i * 29 + seed + (i >> 12)); }

int main(void)
{
    /* 1. Various sizes: zero-filled, writable, unmappable. */
    static const size_t sizes[] = {1, 100, 4095, 4096, 4097, 65536, 1 << 20, (16 << 20) + 123};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        char *p = map_anon(len);
        if (!p) {
            printf("size %zu: mmap failed (%s)\n", len, err_name(errno));
            continue;
        }
        int aligned = ((uintptr_t)p & (PAGE - 1)) == 0;
        size_t nonzero = 0, bad = 0;
        size_t full = (len + PAGE - 1) & ~(PAGE - 1); /* the whole last page is usable */
        for (size_t i = 0; i < full; i += 97)
            nonzero += p[i] != 0;
        for (size_t i = 0; i < full; i++)
            p[i] = (char)pat(i, (unsigned)s);
        for (size_t i = 0; i < full; i++)
            bad += (unsigned char)p[i] != pat(i, (unsigned)s);
        int rc = munmap(p, len);
        printf("size %zu: aligned %s, nonzero %zu, verify errors %zu, munmap %d\n",
               len, aligned ? "yes" : "no", nonzero, bad, rc);
    }

    /* 2. MAP_FIXED over the middle of an existing 16-page mapping. */
    char *m = map_anon(16 * PAGE);
    if (!m) {
        printf("16-page mmap failed\n");
        return 1;
    }
    memset(m, 'A', 16 * PAGE);
    char *want = m + 4 * PAGE;
    char *f = mmap(want, 4 * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED: %s\n", f == MAP_FAILED ? "failed" : f == want ? "at requested address" : "elsewhere");
    size_t zeros = 0, as = 0;
    for (size_t i = 0; i < 16 * PAGE; i++) {
        if (m[i] == 0) zeros++;
        if (m[i] == 'A') as++;
    }
    printf("after MAP_FIXED: %zu zero bytes, %zu 'A' bytes (expect %lu and %lu)\n",
           zeros, as, 4 * PAGE, 12 * PAGE);
    memset(want, 'B', 4 * PAGE);

    /* 3. munmap of a middle part (pages 8..11), then use the remaining parts. */
    int rc = munmap(m + 8 * PAGE, 4 * PAGE);
    printf("munmap middle: %d\n", rc);
    size_t bad = 0;
    for (size_t i = 0; i < 8 * PAGE; i++)
        bad += m[i] != (i < 4 * PAGE ? 'A' : 'B');
    for (size_t i = 12 * PAGE; i < 16 * PAGE; i++)
        bad += m[i] != 'A';
    memset(m, 'C', PAGE);
    memset(m + 15 * PAGE, 'D', PAGE);
    bad += m[0] != 'C' || m[16 * PAGE - 1] != 'D';
    printf("remaining parts: verify errors %zu\n", bad);
    errno = 0;
    rc = mprotect(m + 8 * PAGE, PAGE, PROT_READ);
    printf("mprotect of the hole: %d %s\n", rc, err_name(errno));
    errno = 0;
    rc = mprotect(m + 6 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE);
    printf("mprotect across the hole: %d %s\n", rc, err_name(errno));

    /* 4. mprotect read-only, read it, back to read-write, write it. */
    rc = mprotect(m, 2 * PAGE, PROT_READ);
    volatile char c0 = m[0], c1 = m[2 * PAGE - 1];
    printf("mprotect PROT_READ: %d, read '%c' '%c'\n", rc, c0, c1);
    rc = mprotect(m, 2 * PAGE, PROT_READ | PROT_WRITE);
    m[0] = 'E';
    printf("mprotect PROT_READ|PROT_WRITE: %d, wrote '%c'\n", rc, m[0]);
    rc = munmap(m, 8 * PAGE);
    int rc2 = munmap(m + 12 * PAGE, 4 * PAGE);
    int rc3 = munmap(m, 16 * PAGE); /* unmapping nothing is fine */
    printf("munmap rest: %d %d, again over everything: %d\n", rc, rc2, rc3);

    /* 5. Errors. */
    char *p = map_anon(2 * PAGE);
    errno = 0;
    rc = munmap(p + 1, PAGE);
    printf("munmap unaligned: %d %s\n", rc, err_name(errno));
    errno = 0;
    rc = munmap(p, 0);
    printf("munmap length 0: %d %s\n", rc, err_name(errno));
    munmap(p, 2 * PAGE);
    errno = 0;
    void *z = mmap(NULL, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap length 0: %s %s\n", z == MAP_FAILED ? "MAP_FAILED" : "mapped", err_name(errno));
    errno = 0;
    z = mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0); /* neither PRIVATE nor SHARED */
    printf("mmap without MAP_PRIVATE/MAP_SHARED: %s %s\n", z == MAP_FAILED ? "MAP_FAILED" : "mapped",
           err_name(errno));
    errno = 0;
    z = mmap((void *)(PAGE + 1), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mmap MAP_FIXED unaligned: %s %s\n", z == MAP_FAILED ? "MAP_FAILED" : "mapped",
           err_name(errno));
    return 0;
}
