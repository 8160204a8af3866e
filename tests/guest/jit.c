/* Code written at run time must run as written: W^X toggling with mprotect, a RWX page
 * rewritten in place, code moved to a fresh mapping at a reused address, and a JIT's two
 * views of one memfd page (written through the RW view, run through the RX view). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn_t)(void);

/* mov eax, imm32; ret */
static void emit_return(unsigned char *p, int value) {
    p[0] = 0xb8;
    memcpy(p + 1, &value, 4);
    p[5] = 0xc3;
}

int main(void) {
    size_t len = 4096;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    int sum = 0;
    for (int round = 1; round <= 5; ++round) {  /* W^X: write, make executable, call */
        mprotect(p, len, PROT_READ | PROT_WRITE);
        emit_return(p, round * 11);
        mprotect(p, len, PROT_READ | PROT_EXEC);
        int v = ((fn_t)p)();
        printf("w^x round %d: %d\n", round, v);
        sum += v;
    }
    munmap(p, len);

    unsigned char *q = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) return 1;
    for (int round = 1; round <= 5; ++round) {  /* one RWX page rewritten in place */
        emit_return(q, round * 7);
        int v = ((fn_t)q)();
        printf("rwx round %d: %d\n", round, v);
        sum += v;
    }
    void *addr = q;
    munmap(q, len);
    for (int round = 1; round <= 3; ++round) {  /* fresh mappings at the same address */
        unsigned char *r = mmap(addr, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        emit_return(r, round * 1000);
        int v = ((fn_t)r)();
        printf("remap round %d: %d\n", round, v);
        sum += v;
        munmap(r, len);
    }
    int fd = memfd_create("jit", 0);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0) return 1;
    unsigned char *rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *rx = mmap(NULL, len, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED || rx == MAP_FAILED) return 1;
    for (int round = 1; round <= 5; ++round) {  /* double mapping: no fault tells the CPU */
        emit_return(rw + 64 * (round & 1), round * 13);
        int v = ((fn_t)(rx + 64 * (round & 1)))();
        printf("dual-map round %d: %d\n", round, v);
        sum += v;
    }
    printf("sum %d\n", sum);
    return 0;
}
