/* brk: program break growth and shrink through the raw brk system call and
 * through libc's sbrk/brk. Only offsets relative to the initial break are
 * printed. Results are collected in a static buffer and printed at the end so
 * that stdio cannot move the break while we test it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL

static char out[8192];
static size_t outlen;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
    va_end(ap);
    if (n > 0 && outlen + (size_t)n < sizeof out)
        outlen += (size_t)n;
}

static uintptr_t sys_brk(uintptr_t addr)
{
    return (uintptr_t)syscall(SYS_brk, addr);
}

static unsigned char pat(uintptr_t off) { return (unsigned char)(off * 131 + (off >> 9)); }

int main(void)
{
    uintptr_t base = sys_brk(0);
    uintptr_t cur = base;
    int bad = 0;

    /* 1. Grow in 200 steps of odd sizes; fill each new piece. */
    unsigned steps_ok = 0;
    for (unsigned i = 0; i < 200; i++) {
        uintptr_t inc = (i * 1237u) % 20000u + 1;
        uintptr_t r = sys_brk(cur + inc);
        if (r != cur + inc)
            break;
        for (uintptr_t a = cur; a < r; a++)
            *(unsigned char *)a = pat(a - base);
        cur = r;
        steps_ok++;
    }
    for (uintptr_t a = base; a < cur; a++)
        if (*(unsigned char *)a != pat(a - base))
            bad++;
    say("grow: %u/200 steps, %lu bytes, verify errors %d\n", steps_ok,
        (unsigned long)(cur - base), bad);

    /* 2. One large step of 8 MiB: new memory reads as zero, then is writable. */
    uintptr_t big = 8UL << 20;
    uintptr_t r = sys_brk(cur + big);
    int zero = 1, bad2 = 0;
    if (r == cur + big) {
        uintptr_t first = (cur + PAGE - 1) & ~(PAGE - 1); /* whole new pages */
        for (uintptr_t a = first; a < r; a += 512)
            if (*(unsigned char *)a != 0)
                zero = 0;
        for (uintptr_t a = cur; a < r; a += 64)
            *(unsigned char *)a = pat(a - base);
        for (uintptr_t a = cur; a < r; a += 64)
            if (*(unsigned char *)a != pat(a - base))
                bad2++;
        cur = r;
    }
    say("big: %s, new pages zero %s, verify errors %d\n",
        r == cur ? "ok" : "failed", zero ? "yes" : "no", bad2);

    /* 3. Shrink in steps down to base+12388; the low part must survive. */
    uintptr_t keep = base + 3 * PAGE + 100;
    unsigned shrinks = 0;
    while (cur > keep) {
        uintptr_t next = cur - (cur - keep > 300000 ? 300000 : cur - keep);
        if (sys_brk(next) != next)
            break;
        cur = next;
        shrinks++;
    }
    int bad3 = 0;
    for (uintptr_t a = base; a < keep; a++)
        if (*(unsigned char *)a != pat(a - base))
            bad3++;
    say("shrink: %u steps, at +%lu, low part errors %d\n", shrinks,
        (unsigned long)(cur - base), bad3);

    /* 4. Grow again: pages released by the shrink come back zeroed. */
    r = sys_brk(cur + 16 * PAGE);
    int zero2 = 1;
    if (r == cur + 16 * PAGE) {
        uintptr_t first = (keep + PAGE - 1) & ~(PAGE - 1);
        for (uintptr_t a = first; a < r; a++)
            if (*(unsigned char *)a != 0)
                zero2 = 0;
        cur = r;
    }
    say("regrow: %s, released pages zero %s\n", r == cur ? "ok" : "failed",
        zero2 ? "yes" : "no");

    /* 5. Requests the kernel refuses return the current break unchanged. */
    uintptr_t huge = ~(uintptr_t)0 & ~(PAGE - 1);
    say("raw brk(huge): %s\n", sys_brk(huge) == cur ? "unchanged" : "moved");
    say("raw brk(4096): %s\n", sys_brk(PAGE) == cur ? "unchanged" : "moved");
    say("raw brk(0): %s\n", sys_brk(0) == cur ? "current" : "other");

    /* 6. Back to the start. */
    r = sys_brk(base);
    say("restore: %s\n", r == base ? "ok" : "failed");

    /* 7. libc wrappers. musl's sbrk(n != 0) and brk() always fail with ENOMEM
     *    by design; glibc's work. Either way the result is deterministic. */
    errno = 0;
    void *old = sbrk(PAGE);
    if (old == (void *)-1) {
        say("libc sbrk(4096): failed, errno %s\n", errno == ENOMEM ? "ENOMEM" : "other");
    } else {
        int same = (uintptr_t)old == base;
        int moved = (uintptr_t)sbrk(0) == base + PAGE;
        memset(old, 0x5a, PAGE);
        say("libc sbrk(4096): ok, returned old break %s, moved %s\n",
            same ? "yes" : "no", moved ? "yes" : "no");
        errno = 0;
        int rc = brk(old);
        say("libc brk(old): %d, break restored %s\n", rc,
            (uintptr_t)sbrk(0) == base ? "yes" : "no");
    }
    errno = 0;
    int rc = brk((void *)huge);
    say("libc brk(huge): %d, errno %s\n", rc,
        errno == ENOMEM ? "ENOMEM" : errno == 0 ? "0" : "other");

    fwrite(out, 1, outlen, stdout);
    return 0;
}
