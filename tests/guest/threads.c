/* threads: pthreads on clone(CLONE_VM|CLONE_THREAD|...): a mutex-protected counter, a
 * condition variable hand-off, a barrier, thread-local storage, a detached thread, join
 * values, and a futex shared with a child process through MAP_SHARED memory. */
#define _GNU_SOURCE
#define FUTEX_WAIT 0 /* linux/futex.h, which musl-gcc lacks */
#define FUTEX_WAKE 1
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 4
#define NINC 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int tls_value;
static pthread_barrier_t barrier;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, taken;
static volatile int detached_done;

static void *incr(void *arg)
{
    tls_value = (int)(long)arg;
    for (int i = 0; i < NINC; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
        if (i % 4096 == 0) sched_yield();
    }
    pthread_barrier_wait(&barrier);
    return (void *)(long)(tls_value * 10);
}

static void *consumer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!ready) pthread_cond_wait(&cv, &mu);
    taken = ready;
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *detached(void *arg)
{
    (void)arg;
    detached_done = 1;
    return NULL;
}

static long futex(int *uaddr, int op, int val)
{
    return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

int main(void)
{
    pthread_t t[NTHREADS];
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    tls_value = 99;
    for (long i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, incr, (void *)(i + 1));
    long sum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("counter %ld (expected %d), join values sum %ld, main's tls %d\n", counter, NTHREADS * NINC, sum, tls_value);

    pthread_t c;
    pthread_create(&c, NULL, consumer, NULL);
    usleep(10000);
    pthread_mutex_lock(&mu);
    ready = 42;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(c, NULL);
    printf("condvar hand-off: %d\n", taken);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t d;
    pthread_create(&d, &attr, detached, NULL);
    for (int i = 0; i < 1000 && !detached_done; i++) usleep(1000);
    printf("detached thread ran: %s\n", detached_done ? "yes" : "no");

    /* A futex in MAP_SHARED memory: the child waits, the parent wakes it. */
    int *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *word = 0;
    pid_t pid = fork();
    if (pid == 0) {
        while (*word == 0) futex(word, FUTEX_WAIT, 0);
        _exit(*word);
    }
    usleep(20000);
    *word = 7;
    long woken = 0;
    for (int i = 0; i < 100 && woken == 0; i++) {
        woken = futex(word, FUTEX_WAKE, 1);
        if (!woken) usleep(1000);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("shared futex: child exited %d\n", WEXITSTATUS(st));
    return 0;
}
