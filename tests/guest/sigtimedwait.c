/* rt_sigtimedwait through sigwaitinfo and sigtimedwait: a zero timeout, bad timespecs and
 * sigset sizes, the siginfo of kill, tgkill and sigqueue, real-time signals in order, a wait
 * ended by another process's signal, EINTR from a signal outside the set, and a timeout. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig, got_usr1 = 1; }

static pid_t signal_later(int sig, int ms)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = {0, ms * 1000000L};
        nanosleep(&ts, NULL);
        kill(getppid(), sig);
        _exit(0);
    }
    return pid;
}

int main(void)
{
    sigset_t set, all;
    siginfo_t si;
    struct timespec zero = {0, 0}, bad = {0, 1000000000}, neg = {-1, 0};
    int r;

    sigemptyset(&all);
    sigaddset(&all, SIGUSR1);
    sigaddset(&all, SIGUSR2);
    sigaddset(&all, SIGRTMIN);
    sigaddset(&all, SIGRTMIN + 1);
    sigaddset(&all, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &all, NULL);

    errno = 0;
    printf("zero timeout, nothing pending: %s\n", err(sigtimedwait(&all, &si, &zero)));
    errno = 0;
    printf("tv_nsec 1e9: %s\n", err(sigtimedwait(&all, &si, &bad)));
    errno = 0;
    printf("tv_sec -1: %s\n", err(sigtimedwait(&all, &si, &neg)));
    errno = 0;
    printf("sigsetsize 4: %s\n", err(syscall(SYS_rt_sigtimedwait, &all, NULL, NULL, 4)));
    errno = 0;
    printf("bad set pointer: %s\n", err(syscall(SYS_rt_sigtimedwait, (void *)8, NULL, NULL, 8)));
    errno = 0;
    printf("bad timeout pointer: %s\n", err(syscall(SYS_rt_sigtimedwait, &all, NULL, (void *)8, 8)));

    kill(getpid(), SIGUSR1);
    r = sigtimedwait(&all, &si, &zero);
    printf("kill: sig %d code %d pid ok %d uid ok %d\n", r, si.si_code, si.si_pid == getpid(), si.si_uid == getuid());
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
    r = sigwaitinfo(&all, &si);
    printf("tgkill: sig %d code %d\n", r, si.si_code);
    errno = 0;
    kill(getpid(), SIGUSR1);
    printf("info pointer NULL: %d\n", (int)syscall(SYS_rt_sigtimedwait, &all, NULL, NULL, 8));

    /* Real-time signals queue, each with its value; the lowest number comes first. */
    union sigval v;
    v.sival_int = 1;
    sigqueue(getpid(), SIGRTMIN + 2, v);
    v.sival_int = 2;
    sigqueue(getpid(), SIGRTMIN + 1, v);
    v.sival_int = 3;
    sigqueue(getpid(), SIGRTMIN + 1, v);
    for (int i = 0; i < 3; i++) {
        r = sigwaitinfo(&all, &si);
        printf("queued: SIGRTMIN+%d code %d value %d\n", r - SIGRTMIN, si.si_code, si.si_value.sival_int);
    }

    /* Only the set is taken: a pending signal outside it stays pending. */
    kill(getpid(), SIGUSR2);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    errno = 0;
    printf("other signal pending: %s\n", err(sigtimedwait(&set, &si, &zero)));
    sigset_t pend;
    sigpending(&pend);
    printf("SIGUSR2 still pending: %d\n", sigismember(&pend, SIGUSR2));
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigwaitinfo(&set, &si);

    /* A wait that another process's signal ends. */
    pid_t child = signal_later(SIGUSR2, 20);
    struct timespec ten = {10, 0};
    r = sigtimedwait(&set, &si, &ten);
    printf("woken: sig %d from the child %d\n", r, si.si_pid == child);
    waitpid(child, NULL, 0);

    /* A signal outside the set with a handler: EINTR after the handler ran. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    child = signal_later(SIGUSR1, 20);
    errno = 0;
    r = sigtimedwait(&set, &si, &ten);
    printf("interrupted: %s handler ran %d\n", err(r), got_usr1);
    waitpid(child, NULL, 0);

    /* The timeout passes. */
    struct timespec short_ts = {0, 10000000};
    errno = 0;
    printf("timeout: %s\n", err(sigtimedwait(&set, &si, &short_ts)));
    /* The mask is what it was before the waits. */
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("mask kept: USR2 %d RTMIN %d USR1 %d\n", sigismember(&now, SIGUSR2), sigismember(&now, SIGRTMIN),
           sigismember(&now, SIGUSR1));
    return 0;
}
