/* sig_restart: SA_RESTART and interrupted system calls, with SIGALRM from interval timers
 * (no second process is needed). Timers of 50-100 ms repeat, so the outcome does not
 * depend on whether the first expiry comes before or after the call has blocked.
 *   1. read from an empty pipe, handler without SA_RESTART: -1 EINTR;
 *   2. the same with SA_RESTART, the handler writing "x" into the pipe on its second
 *      call: the read is restarted after the first call and returns the byte;
 *   3. calls that are never restarted even with SA_RESTART (signal(7)): pause and
 *      nanosleep return -1 EINTR (nanosleep with the time left), alarm() drives pause;
 *   4. a signal that needs no handler restarts the call: SIGCHLD (ignored by default),
 *      blocked and pending, wakes a sigsuspend that unblocks it, is discarded, and the
 *      sigsuspend sleeps on until SIGALRM's handler ends it; the old mask comes back. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int pipe_fd[2];
static volatile int calls;
static volatile int write_on_call; /* the handler writes "x" on this call (0: never) */

static void alarm_handler(int sig)
{
    (void)sig;
    int n = ++calls;
    if (n == write_on_call)
        (void)!write(pipe_fd[1], "x", 1);
}

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = alarm_handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0) {
        perror("sigaction");
        _exit(11);
    }
}

static void timer_ms(int ms)
{
    struct itimerval it;
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    it.it_interval = it.it_value;
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) {
        perror("setitimer");
        _exit(12);
    }
}

static const char *err_name(int e)
{
    return e == 0 ? "0" : e == EINTR ? "EINTR" : e == EAGAIN ? "EAGAIN" : "other";
}

int main(void)
{
    if (pipe(pipe_fd) != 0) {
        perror("pipe");
        return 2;
    }
    char c = 0;

    /* 1. no SA_RESTART */
    install(0);
    calls = 0;
    write_on_call = 0;
    timer_ms(100);
    errno = 0;
    ssize_t r = read(pipe_fd[0], &c, 1);
    int e = errno;
    timer_ms(0);
    printf("read without SA_RESTART: returned %zd, errno %s\n", r, err_name(e));
    printf("read without SA_RESTART: handler ran: %s\n", calls >= 1 ? "yes" : "no");

    /* 2. SA_RESTART: the first interruption restarts the read, the second call's byte ends it. */
    install(SA_RESTART);
    calls = 0;
    write_on_call = 2;
    timer_ms(100);
    errno = 0;
    r = read(pipe_fd[0], &c, 1);
    e = errno;
    timer_ms(0);
    printf("read with SA_RESTART: returned %zd, errno %s, byte '%c'\n", r, err_name(e), r == 1 ? c : '?');
    printf("read with SA_RESTART: handler ran at least twice: %s\n", calls >= 2 ? "yes" : "no");

    /* 3. never restarted: pause (woken by alarm()), nanosleep (woken by a timer). */
    calls = 0;
    write_on_call = 0;
    alarm(1);
    errno = 0;
    int pr = pause();
    e = errno;
    printf("pause with SA_RESTART: returned %d, errno %s, handler ran %s\n", pr, err_name(e),
           calls >= 1 ? "yes" : "no");
    printf("alarm(0) after it fired returns %u\n", alarm(0));

    calls = 0;
    timer_ms(50);
    struct timespec req = {5, 0}, rem = {0, 0};
    errno = 0;
    int nr = nanosleep(&req, &rem);
    e = errno;
    timer_ms(0);
    printf("nanosleep(5 s) with SA_RESTART: returned %d, errno %s, time left between 4 and 5 s: %s\n", nr,
           err_name(e), rem.tv_sec == 4 || (rem.tv_sec == 5 && rem.tv_nsec == 0) ? "yes" : "no");

    /* 4. SIGCHLD at its default: queued only because it is blocked. */
    sigset_t chld, none, now, pending;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    raise(SIGCHLD);
    sigpending(&pending);
    printf("SIGCHLD blocked and pending: %s\n", sigismember(&pending, SIGCHLD) ? "yes" : "no");
    calls = 0;
    struct itimerval once = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &once, NULL);
    errno = 0;
    int sr = sigsuspend(&none);
    e = errno;
    sigpending(&pending);
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("sigsuspend woken by SIGCHLD: returned %d, errno %s, after SIGALRM's handler: %s\n", sr, err_name(e),
           calls == 1 ? "yes" : "no");
    printf("afterwards SIGCHLD pending: %s, blocked again: %s\n", sigismember(&pending, SIGCHLD) ? "yes" : "no",
           sigismember(&now, SIGCHLD) ? "yes" : "no");
    return 0;
}
