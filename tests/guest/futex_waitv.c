/* futex_waitv (syscall 449): waits on several futex words at once.
 *   EINVAL for flags, no waiters, more than 128, a null array, a clock other than
 *   CLOCK_MONOTONIC or CLOCK_REALTIME with a timeout, a bad timespec, a waiter without
 *   FUTEX2_SIZE_U32, with unknown flags, a reserved field set, a value above 32 bits or a
 *   misaligned word; EFAULT for the array, the timeout or a word; EAGAIN when a word does not
 *   hold its value (a later one too); ETIMEDOUT at an absolute expiry on either clock; a wake of
 *   one word returns its index (private futexes between threads, shared ones between
 *   processes through a MAP_SHARED page); a signal without SA_RESTART ends it with EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE 128
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

struct waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

/* The kernel's 64-bit timespec, on both ABIs. */
struct kts {
    int64_t tv_sec;
    int64_t tv_nsec;
};

static long waitv(void *w, unsigned nr, unsigned flags, void *timeout, int clk)
{
    return syscall(SYS_futex_waitv, w, nr, flags, timeout, clk);
}

#define SHOW(what, call)                       \
    do {                                       \
        errno = 0;                             \
        long r_ = (call);                      \
        printf("%-52s %s\n", what, err(r_));   \
        fflush(stdout);                        \
    } while (0)

static uint32_t words[4];

static void set(struct waitv *w, uint32_t *word, uint64_t val, uint32_t flags)
{
    memset(w, 0, sizeof *w);
    w->val = val;
    w->uaddr = (uintptr_t)word;
    w->flags = flags;
}

static struct kts abs_in(clockid_t clk, long ms)
{
    struct timespec now;
    clock_gettime(clk, &now);
    struct kts t = {now.tv_sec, now.tv_nsec + ms * 1000000L};
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

static void errors(void)
{
    const uint32_t P = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
    struct waitv w[130];
    for (int i = 0; i < 130; ++i) set(&w[i], &words[i % 4], 0, P);
    struct kts past = {0, 0};
    SHOW("flags 1", waitv(w, 1, 1, NULL, 0));
    SHOW("no waiters", waitv(w, 0, 0, NULL, 0));
    SHOW("129 waiters", waitv(w, 129, 0, NULL, 0));
    SHOW("null array", waitv(NULL, 1, 0, NULL, 0));
    SHOW("CLOCK_BOOTTIME timeout", waitv(w, 1, 0, &past, CLOCK_BOOTTIME));
    w[0].val = 1;  /* a mismatch ends the calls that get past their checks */
    SHOW("CLOCK_BOOTTIME without a timeout (value differs)", waitv(w, 1, 0, NULL, CLOCK_BOOTTIME));
    struct kts bad = {0, 1000000000};
    SHOW("tv_nsec 1000000000", waitv(w, 1, 0, &bad, CLOCK_MONOTONIC));
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    SHOW("tv_sec -1", waitv(w, 1, 0, &bad, CLOCK_MONOTONIC));
    SHOW("timeout at a bad address", waitv(w, 1, 0, (void *)16, CLOCK_MONOTONIC));
    SHOW("array at a bad address", waitv((void *)16, 1, 0, NULL, 0));
    w[0].val = 0;
    w[1].flags = FUTEX2_PRIVATE;
    SHOW("second waiter without FUTEX2_SIZE_U32", waitv(w, 2, 0, NULL, 0));
    w[1].flags = FUTEX2_SIZE_U32 | 0x10;
    SHOW("second waiter with flag 0x10", waitv(w, 2, 0, NULL, 0));
    w[1].flags = 0x03 | FUTEX2_PRIVATE;
    SHOW("second waiter FUTEX2_SIZE_U64", waitv(w, 2, 0, NULL, 0));
    w[1].flags = P;
    w[1].reserved = 1;
    SHOW("second waiter's reserved field 1", waitv(w, 2, 0, NULL, 0));
    w[1].reserved = 0;
    w[1].val = 1ull << 32;
    SHOW("second waiter's value 1 << 32", waitv(w, 2, 0, NULL, 0));
    w[1].val = 0;
    w[1].uaddr = (uintptr_t)words + 1;
    SHOW("second waiter's word misaligned", waitv(w, 2, 0, NULL, 0));
    w[1].uaddr = 4096;
    SHOW("second waiter's word unmapped", waitv(w, 2, 0, NULL, 0));
    w[1].uaddr = (uintptr_t)&words[1];
    words[2] = 5;
    SHOW("third word holds 5, not 0", waitv(w, 3, 0, NULL, 0));
    words[2] = 0;
    w[0].val = 1;
    SHOW("first word holds 0, not 1", waitv(w, 3, 0, NULL, 0));
    w[0].val = 0;

    struct kts t = abs_in(CLOCK_MONOTONIC, 30);
    SHOW("3 words, CLOCK_MONOTONIC expiry in 30 ms", waitv(w, 3, 0, &t, CLOCK_MONOTONIC));
    t = abs_in(CLOCK_REALTIME, 30);
    SHOW("128 waiters, CLOCK_REALTIME expiry in 30 ms", waitv(w, 128, 0, &t, CLOCK_REALTIME));
    SHOW("CLOCK_REALTIME expiry at 0", waitv(w, 1, 0, &past, CLOCK_REALTIME));
}

static volatile long waiter_result = -100;
static volatile int waiter_errno;

static void *waiter(void *arg)
{
    (void)arg;
    struct waitv w[3];
    for (int i = 0; i < 3; ++i) set(&w[i], &words[i], 0, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
    errno = 0;
    waiter_result = waitv(w, 3, 0, NULL, 0);
    waiter_errno = errno;
    return NULL;
}

static void wakes(void)
{
    memset(words, 0, sizeof words);
    pthread_t th;
    pthread_create(&th, NULL, waiter, NULL);
    long n = 0;
    for (int i = 0; i < 100000 && n == 0; ++i) {
        n = syscall(SYS_futex, &words[1], FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
        if (n == 0) usleep(1000);
    }
    pthread_join(th, NULL);
    printf("FUTEX_WAKE of the second word: woke %ld, futex_waitv returned %ld\n", n, waiter_result);
    printf("a wake of a word nobody waits on: %ld\n",
           syscall(SYS_futex, &words[1], FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));

    /* Shared words between processes: the child waits, the parent wakes the third. */
    uint32_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct waitv w[3];
        for (int i = 0; i < 3; ++i) set(&w[i], &shared[i], 0, FUTEX2_SIZE_U32);
        errno = 0;
        long r = waitv(w, 3, 0, NULL, 0);
        printf("child: futex_waitv on shared words returned %s\n", err(r));
        fflush(stdout);
        _exit(0);
    }
    n = 0;
    for (int i = 0; i < 100000 && n == 0; ++i) {
        n = syscall(SYS_futex, &shared[2], FUTEX_WAKE, 1, NULL, NULL, 0);
        if (n == 0) usleep(1000);
    }
    waitpid(pid, NULL, 0);
    printf("parent: FUTEX_WAKE of the third shared word woke %ld\n", n);
}

static void on_alarm(int sig) { (void)sig; }

static void interrupted(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct waitv w;
    set(&w, &words[0], 0, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
    SHOW("a SIGALRM handler without SA_RESTART", waitv(&w, 1, 0, NULL, 0));
}

int main(void)
{
    errors();
    wakes();
    interrupted();
    return 0;
}
