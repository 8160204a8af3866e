/* futex_edges: the errors futex(2) gives for bad arguments, as Linux checks them: alignment,
 * addresses outside the user range or unmapped (private and shared), value mismatches,
 * negative counts, bad timeouts, clocks and unknown commands. Prints errno names only. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h>'s numbers (musl has no kernel headers). */
enum { FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
       FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256 };
enum { FUTEX_OP_ADD = 1, FUTEX_OP_CMP_EQ = 0 };
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

static const char *name(long r) {
    if (r >= 0) return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case ENOSYS: return "ENOSYS";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPERM: return "EPERM";
    default: return strerror(errno);
    }
}

static long fx(void *uaddr, int op, uint32_t val, const void *timeout, void *uaddr2, uint32_t val3) {
    errno = 0;
    return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

#define SHOW(what, call)                                                     \
    do {                                                                     \
        long r_ = (call);                                                    \
        printf("%-44s %ld %s\n", what, r_ < 0 ? -1L : r_, name(r_));         \
    } while (0)

int main(void) {
    static uint32_t word[4] __attribute__((aligned(16)));
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096); /* page + 4096 is now unmapped */
    void *hole = page + 4096;
    void *kernel = (void *)(uintptr_t)(sizeof(void *) == 8 ? 0xffff880000000000ull : 0xc0000000u);
    char *unaligned = (char *)word + 1;
    struct timespec zero = {0, 0}, bad_ns = {0, 1000000000}, neg = {-1, 0};
    const int P = FUTEX_PRIVATE_FLAG;

    word[0] = 5;
    SHOW("WAKE private", fx(word, FUTEX_WAKE | P, 1, NULL, NULL, 0));
    SHOW("WAKE shared", fx(word, FUTEX_WAKE, 1, NULL, NULL, 0));
    SHOW("WAKE unaligned", fx(unaligned, FUTEX_WAKE | P, 1, NULL, NULL, 0));
    SHOW("WAKE private, kernel address", fx(kernel, FUTEX_WAKE | P, 1, NULL, NULL, 0));
    SHOW("WAKE private, unmapped", fx(hole, FUTEX_WAKE | P, 1, NULL, NULL, 0));
    SHOW("WAKE shared, unmapped", fx(hole, FUTEX_WAKE, 1, NULL, NULL, 0));
    SHOW("WAKE shared, kernel address", fx(kernel, FUTEX_WAKE, 1, NULL, NULL, 0));
    SHOW("WAKE nr -1", fx(word, FUTEX_WAKE | P, (uint32_t)-1, NULL, NULL, 0));
    SHOW("WAKE_BITSET bitset 0", fx(word, FUTEX_WAKE_BITSET | P, 1, NULL, NULL, 0));
    SHOW("WAIT value differs", fx(word, FUTEX_WAIT | P, 4, NULL, NULL, 0));
    SHOW("WAIT unmapped", fx(hole, FUTEX_WAIT | P, 0, NULL, NULL, 0));
    SHOW("WAIT kernel address", fx(kernel, FUTEX_WAIT | P, 0, NULL, NULL, 0));
    SHOW("WAIT unaligned", fx(unaligned, FUTEX_WAIT | P, 0, NULL, NULL, 0));
    SHOW("WAIT timeout 0", fx(word, FUTEX_WAIT | P, 5, &zero, NULL, 0));
    SHOW("WAIT timeout nsec 1e9", fx(word, FUTEX_WAIT | P, 5, &bad_ns, NULL, 0));
    SHOW("WAIT timeout negative", fx(word, FUTEX_WAIT | P, 5, &neg, NULL, 0));
    SHOW("WAIT timeout unmapped", fx(word, FUTEX_WAIT | P, 5, hole, NULL, 0));
    SHOW("WAIT timeout unmapped, value differs", fx(word, FUTEX_WAIT | P, 4, hole, NULL, 0));
    SHOW("WAIT CLOCK_REALTIME", fx(word, FUTEX_WAIT | P | FUTEX_CLOCK_REALTIME, 4, NULL, NULL, 0));
    SHOW("WAIT_BITSET CLOCK_REALTIME value differs",
         fx(word, FUTEX_WAIT_BITSET | P | FUTEX_CLOCK_REALTIME, 4, NULL, NULL, ~0u));
    SHOW("WAIT_BITSET bitset 0", fx(word, FUTEX_WAIT_BITSET | P, 5, NULL, NULL, 0));
    SHOW("WAIT_BITSET absolute past", fx(word, FUTEX_WAIT_BITSET | P, 5, &zero, NULL, ~0u));
    SHOW("WAKE CLOCK_REALTIME", fx(word, FUTEX_WAKE | P | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
    SHOW("REQUEUE", fx(word, FUTEX_REQUEUE | P, 1, (void *)1, word + 1, 0));
    SHOW("CMP_REQUEUE match", fx(word, FUTEX_CMP_REQUEUE | P, 1, (void *)1, word + 1, 5));
    SHOW("CMP_REQUEUE value differs", fx(word, FUTEX_CMP_REQUEUE | P, 1, (void *)1, word + 1, 6));
    SHOW("CMP_REQUEUE nr_wake -1", fx(word, FUTEX_CMP_REQUEUE | P, (uint32_t)-1, (void *)1, word + 1, 5));
    SHOW("CMP_REQUEUE nr_requeue -1", fx(word, FUTEX_CMP_REQUEUE | P, 1, (void *)(uintptr_t)-1, word + 1, 5));
    SHOW("CMP_REQUEUE uaddr unmapped", fx(hole, FUTEX_CMP_REQUEUE | P, 1, (void *)1, word + 1, 5));
    SHOW("CMP_REQUEUE uaddr2 unmapped, private", fx(word, FUTEX_CMP_REQUEUE | P, 1, (void *)1, hole, 5));
    SHOW("CMP_REQUEUE uaddr2 unmapped, shared", fx(word, FUTEX_CMP_REQUEUE, 1, (void *)1, hole, 5));
    SHOW("CMP_REQUEUE uaddr2 unaligned", fx(word, FUTEX_CMP_REQUEUE | P, 1, (void *)1, unaligned, 5));
    SHOW("CMP_REQUEUE uaddr2 kernel", fx(word, FUTEX_CMP_REQUEUE | P, 1, (void *)1, kernel, 5));
    SHOW("CMP_REQUEUE same futex", fx(word, FUTEX_CMP_REQUEUE | P, 1, (void *)1, word, 5));
    SHOW("WAKE_OP", fx(word, FUTEX_WAKE_OP | P, 1, (void *)1, word + 1, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
    printf("%-44s %u\n", "WAKE_OP second word after", word[1]);
    SHOW("WAKE_OP bad op", fx(word, FUTEX_WAKE_OP | P, 1, (void *)1, word + 1, 7u << 28));
    SHOW("WAKE_OP bad cmp", fx(word, FUTEX_WAKE_OP | P, 1, (void *)1, word + 1, 7u << 24));
    SHOW("WAKE_OP uaddr2 unmapped", fx(word, FUTEX_WAKE_OP | P, 1, (void *)1, hole, 0));
    SHOW("WAKE_OP uaddr2 read-only", fx(word, FUTEX_WAKE_OP | P, 1, (void *)1, (void *)"rodata!", 0));
    SHOW("unknown command 99", fx(word, 99 | P, 1, NULL, NULL, 0));
    SHOW("unknown command 14", fx(word, 14 | P, 1, NULL, NULL, 0));
    return 0;
}
