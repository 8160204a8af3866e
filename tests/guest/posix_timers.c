/* POSIX timers: timer_create's checks (clocks, sigevents), SIGEV_NONE, SIGEV_SIGNAL one-shot
 * and periodic with overruns, SIGEV_THREAD_ID, TIMER_ABSTIME, timer_gettime/settime's old
 * value, timer_getoverrun, timer_delete, a CPU-time clock, and timers not inherited by fork.
 * Timer ids are kernel ids passed through the C library as timer_t (glibc and musl do so
 * for SIGEV_SIGNAL timers); only errno values and relations are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The kernel's struct sigevent (64 bytes), so SIGEV_THREAD_ID needs no libc support. */
struct ksigevent {
    union sigval value;
    int signo;
    int notify;
    int tid;
    char pad[64 - 2 * sizeof(int) - sizeof(union sigval) - sizeof(int)];
};

static int kcreate(clockid_t clk, int notify, int signo, int tid, int value, int *id)
{
    struct ksigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.value.sival_int = value;
    ev.signo = signo;
    ev.notify = notify;
    ev.tid = tid;
    errno = 0;
    return (int)syscall(SYS_timer_create, clk, &ev, id);
}

static timer_t T(int id) { return (timer_t)(intptr_t)id; }

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static void ms_sleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static volatile sig_atomic_t handled_code, handled_value;
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    handled_code = si->si_code;
    handled_value = si->si_value.sival_int;
}

int main(void)
{
    int id, r;
    sigset_t set;
    siginfo_t si;
    struct itimerspec its, old;

    /* timer_create's checks. */
    printf("bad clock 10: %s\n", err(kcreate(10, SIGEV_SIGNAL, SIGUSR1, 0, 0, &id)));
    printf("bad clock 99: %s\n", err(kcreate(99, SIGEV_SIGNAL, SIGUSR1, 0, 0, &id)));
    printf("CLOCK_MONOTONIC_RAW: %s\n", err(kcreate(CLOCK_MONOTONIC_RAW, SIGEV_SIGNAL, SIGUSR1, 0, 0, &id)));
    printf("CLOCK_REALTIME_COARSE: %s\n", err(kcreate(CLOCK_REALTIME_COARSE, SIGEV_SIGNAL, SIGUSR1, 0, 0, &id)));
    printf("notify 99: %s\n", err(kcreate(CLOCK_MONOTONIC, 99, SIGUSR1, 0, 0, &id)));
    printf("signo 0: %s\n", err(kcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL, 0, 0, 0, &id)));
    printf("signo 65: %s\n", err(kcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL, 65, 0, 0, &id)));
    printf("SIGEV_NONE signo 0: %s\n", err(r = kcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id)));
    if (r == 0) timer_delete(T(id));
    printf("thread id of nobody: %s\n", err(kcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL | 4, SIGUSR1, 999999, 0, &id)));
    printf("thread id of the parent: %s\n", err(kcreate(CLOCK_MONOTONIC, 4, SIGUSR1, getppid(), 0, &id)));
    errno = 0;
    printf("bad id pointer: %s\n", err(syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, (void *)8)));
    errno = 0;
    printf("bad sigevent pointer: %s\n", err(syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)8, &id)));
    errno = 0;
    printf("delete of no timer: %s\n", err(syscall(SYS_timer_delete, 4242)));
    errno = 0;
    printf("getoverrun of no timer: %s\n", err(syscall(SYS_timer_getoverrun, 4242)));
    errno = 0;
    printf("delete of a negative id: %s\n", err(syscall(SYS_timer_delete, -1)));

    /* SIGEV_NONE: never signals; gettime shows the time left, then 0 once expired. */
    kcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id);
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = 10;
    its.it_interval.tv_nsec = 500000000;
    timer_settime(T(id), 0, &its, NULL);
    timer_gettime(T(id), &old);
    printf("SIGEV_NONE armed: left in (9,10]s %d, interval %ld.%09ld\n",
           old.it_value.tv_sec == 9 || (old.it_value.tv_sec == 10 && old.it_value.tv_nsec == 0),
           (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);
    its.it_value.tv_sec = 0;
    its.it_value.tv_nsec = 1000;
    its.it_interval.tv_nsec = 0;
    r = timer_settime(T(id), 0, &its, &old);
    printf("settime old: %d left in (9,10]s %d\n", r, old.it_value.tv_sec == 9 || old.it_value.tv_sec == 10);
    ms_sleep(2);
    timer_gettime(T(id), &old);
    printf("SIGEV_NONE expired one-shot: %ld.%09ld\n", (long)old.it_value.tv_sec, old.it_value.tv_nsec);
    printf("SIGEV_NONE overrun: %d\n", timer_getoverrun(T(id)));
    timer_delete(T(id));
    errno = 0;
    printf("gettime after delete: %s\n", err(timer_gettime(T(id), &old)));

    /* Settime's checks. */
    kcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN, 0, 7, &id);
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 1000000000;
    errno = 0;
    printf("settime nsec 1e9: %s\n", err(timer_settime(T(id), 0, &its, NULL)));
    its.it_value.tv_nsec = 0;
    its.it_value.tv_sec = -1;
    errno = 0;
    printf("settime sec -1: %s\n", err(timer_settime(T(id), 0, &its, NULL)));
    its.it_value.tv_sec = 0;
    its.it_interval.tv_nsec = -1;
    errno = 0;
    printf("settime interval nsec -1: %s\n", err(timer_settime(T(id), 0, &its, NULL)));
    timer_gettime(T(id), &old);
    printf("disarmed: %ld.%09ld %ld.%09ld\n", (long)old.it_value.tv_sec, old.it_value.tv_nsec,
           (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);

    /* A one-shot SIGEV_SIGNAL timer, its signal taken by sigwaitinfo. */
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGRTMIN + 1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 2000000;
    timer_settime(T(id), 0, &its, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    r = sigwaitinfo(&set, &si);
    printf("one-shot: sig %d code %d value %d overrun %d timerid ok %d\n", r - SIGRTMIN, si.si_code,
           si.si_value.sival_int, si.si_overrun, si.si_timerid == id);
    timer_gettime(T(id), &old);
    printf("after expiry: %ld.%09ld\n", (long)old.it_value.tv_sec, old.it_value.tv_nsec);

    /* Periodic: the signal stays queued while blocked; the periods missed meanwhile are
     * the overrun, in the siginfo and timer_getoverrun alike. */
    its.it_value.tv_nsec = 1000000;
    its.it_interval.tv_nsec = 1000000;
    timer_settime(T(id), 0, &its, NULL);
    ms_sleep(30);
    timer_gettime(T(id), &old);
    printf("pending periodic: left > 0 %d, <= 1ms %d\n", old.it_value.tv_sec == 0 && old.it_value.tv_nsec > 0,
           old.it_value.tv_nsec <= 1000000);
    r = sigwaitinfo(&set, &si);
    int ovr = timer_getoverrun(T(id));
    printf("periodic: code %d overrun > 10 %d, getoverrun matches %d\n", si.si_code, si.si_overrun > 10,
           ovr == si.si_overrun);
    r = sigwaitinfo(&set, &si);
    printf("periodic again: sig ok %d code %d\n", r == SIGRTMIN, si.si_code);
    memset(&its, 0, sizeof its);
    timer_settime(T(id), 0, &its, NULL);
    printf("getoverrun after disarm: %d\n", timer_getoverrun(T(id)));
    timer_delete(T(id));

    /* TIMER_ABSTIME on CLOCK_MONOTONIC and on CLOCK_REALTIME; a time in the past fires at once. */
    int clocks[2] = {CLOCK_MONOTONIC, CLOCK_REALTIME};
    for (int i = 0; i < 2; i++) {
        kcreate(clocks[i], SIGEV_SIGNAL, SIGRTMIN + 1, 0, 100 + i, &id);
        struct timespec now;
        clock_gettime(clocks[i], &now);
        memset(&its, 0, sizeof its);
        its.it_value = now;
        its.it_value.tv_nsec += 3000000;
        if (its.it_value.tv_nsec >= 1000000000) its.it_value.tv_sec++, its.it_value.tv_nsec -= 1000000000;
        timer_settime(T(id), TIMER_ABSTIME, &its, NULL);
        sigemptyset(&set);
        sigaddset(&set, SIGRTMIN + 1);
        r = sigwaitinfo(&set, &si);
        printf("abstime clock %d: value %d\n", clocks[i], si.si_value.sival_int);
        its.it_value.tv_sec = 1;
        its.it_value.tv_nsec = 0;
        timer_settime(T(id), TIMER_ABSTIME, &its, NULL);
        r = sigwaitinfo(&set, &si);
        printf("abstime in the past: value %d\n", si.si_value.sival_int);
        timer_delete(T(id));
    }

    /* SIGEV_THREAD_ID to ourselves, to a handler. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    r = kcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL | 4, SIGUSR1, (int)syscall(SYS_gettid), 55, &id);
    printf("thread id timer: %s\n", err(r));
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 2000000;
    timer_settime(T(id), 0, &its, NULL);
    while (!handled_code) pause();
    printf("handler: code %d value %d\n", handled_code, handled_value);
    timer_delete(T(id));

    /* No sigevent: SIGALRM with the timer id as its value. */
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    errno = 0;
    r = (int)syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &id);
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 1000000;
    timer_settime(T(id), 0, &its, NULL);
    r = sigwaitinfo(&set, &si);
    printf("default sigevent: sig %s code %d value is id %d\n", r == SIGALRM ? "SIGALRM" : "?", si.si_code,
           si.si_value.sival_int == id);
    timer_delete(T(id));

    /* A CPU-time clock: it fires once the process has run long enough. */
    kcreate(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR2, 0, 0, &id);
    its.it_value.tv_nsec = 20000000;
    timer_settime(T(id), 0, &its, NULL);
    sigset_t pend;
    volatile unsigned long spin = 0;
    do {
        for (int i = 0; i < 100000; i++) spin++;
        sigpending(&pend);
    } while (!sigismember(&pend, SIGUSR2));
    printf("cpu-time timer fired\n");
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigwaitinfo(&set, &si);
    timer_delete(T(id));
    printf("thread cpu clock timer: %s\n", err(r = kcreate(CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 0, 0, &id)));
    if (r == 0) timer_delete(T(id));

    /* fork: the child has none of the parent's timers. */
    kcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        errno = 0;
        printf("child gettime of the parent's timer: %s\n", err(timer_gettime(T(id), &old)));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent still has it: %s\n", err(timer_gettime(T(id), &old)));
    return 0;
}
