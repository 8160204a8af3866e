/* poll, ppoll, select, pselect6 (and i386's old select and _newselect): readiness of pipes,
 * eventfd, /dev/null, a regular file and stdin; timeouts and the time left written back;
 * sleeping until another process writes; signals (EINTR with a handler, SA_RESTART or not;
 * a restart after an ignored SIGCHLD keeps the end time); temporary signal masks; and the
 * errno of bad arguments (EINVAL, EFAULT, EBADF). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int handled;
static struct pollfd *volatile bad_pollfd = (struct pollfd *)8;
static void on_signal(int sig) { (void)sig; handled++; }

static void show_poll(const char *what, int r, struct pollfd *p, int n)
{
    printf("%s: %d", what, r);
    if (r < 0) printf(" %s", strerror(errno));
    for (int i = 0; i < n; i++) printf(" [%d]=%#x", i, (unsigned)(unsigned short)p[i].revents);
    printf("\n");
}

static void poll_pipes(void)
{
    int p[2];
    pipe(p);
    struct pollfd f[2] = {{p[0], POLLIN | POLLOUT, 0}, {p[1], POLLIN | POLLOUT, 0}};
    show_poll("empty pipe", poll(f, 2, 0), f, 2);
    write(p[1], "x", 1);
    show_poll("pipe with data", poll(f, 2, 0), f, 2);
    struct pollfd rd = {p[0], POLLIN, 0};
    show_poll("pipe with data, -1", poll(&rd, 1, -1), &rd, 1);
    close(p[1]);
    show_poll("data, writer gone", poll(&rd, 1, 0), &rd, 1);
    char c;
    read(p[0], &c, 1);
    rd.events = 0;
    show_poll("writer gone, events 0", poll(&rd, 1, 0), &rd, 1);
    close(p[0]);

    pipe(p);
    close(p[0]);
    struct pollfd wr = {p[1], POLLOUT, 0};
    show_poll("reader gone", poll(&wr, 1, 0), &wr, 1);
    close(p[1]);

    pipe2(p, O_NONBLOCK);
    char buf[4096] = {0};
    while (write(p[1], buf, sizeof buf) > 0) {
    }
    wr.fd = p[1];
    show_poll("full pipe", poll(&wr, 1, 0), &wr, 1);
    read(p[0], buf, sizeof buf);
    show_poll("one page read", poll(&wr, 1, 0), &wr, 1);
    close(p[0]);
    close(p[1]);
}

static void poll_others(void)
{
    int e = eventfd(0, 0);
    struct pollfd f = {e, POLLIN | POLLOUT, 0};
    show_poll("eventfd 0", poll(&f, 1, 0), &f, 1);
    uint64_t v = 0xfffffffffffffffeull;
    write(e, &v, 8);
    show_poll("eventfd max", poll(&f, 1, 0), &f, 1);
    close(e);

    int n = open("/dev/null", O_RDWR);
    f = (struct pollfd){n, POLLIN | POLLOUT | POLLPRI, 0};
    show_poll("/dev/null", poll(&f, 1, 0), &f, 1);
    close(n);
    char path[] = "/tmp/emu-poll-XXXXXX";
    int r = mkstemp(path);
    unlink(path);
    f = (struct pollfd){r, POLLIN | POLLOUT | POLLRDNORM, 0};
    show_poll("regular file", poll(&f, 1, 0), &f, 1);
    close(r);
    f = (struct pollfd){0, POLLIN, 0};
    show_poll("stdin", poll(&f, 1, 0), &f, 1);

    struct pollfd g[3] = {{-1, POLLIN, 7}, {99, POLLIN, 7}, {1, 0, 7}};
    show_poll("negative, closed, no events", poll(g, 3, 0), g, 3);
    struct pollfd none;
    show_poll("timeout 30 ms", poll(&none, 0, 30), NULL, 0);
    errno = 0;
    show_poll("bad pointer", poll(bad_pollfd, 1, 0), NULL, 0);
    struct rlimit rl = {16, 16}, old;
    getrlimit(RLIMIT_NOFILE, &old);
    setrlimit(RLIMIT_NOFILE, &rl);
    struct pollfd many[17];
    for (int i = 0; i < 17; i++) many[i] = (struct pollfd){-1, 0, 0};
    show_poll("nfds 16 = RLIMIT_NOFILE", poll(many, 16, 0), NULL, 0);
    show_poll("nfds 17 > RLIMIT_NOFILE", poll(many, 17, 0), NULL, 0);
    setrlimit(RLIMIT_NOFILE, &old);
}

/* A child writes after a while; the parent sleeps in poll (or select) until then. */
static void wakeups(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(20000);
        write(p[1], "y", 1);
        usleep(20000);
        close(p[1]);
        _exit(0);
    }
    struct pollfd f = {p[0], POLLIN, 0};
    show_poll("woken by a write", poll(&f, 1, 5000), &f, 1);
    char c;
    read(p[0], &c, 1);
    close(p[1]);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    int r = select(p[0] + 1, &rs, NULL, NULL, NULL);
    printf("select woken by the last close: %d set %d\n", r, FD_ISSET(p[0], &rs));
    waitpid(pid, NULL, 0);
    close(p[0]);
}

static void signals(void)
{
    int p[2];
    pipe(p);
    struct pollfd f = {p[0], POLLIN, 0};
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    show_poll("poll, SIGALRM handler", poll(&f, 1, -1), &f, 1);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    show_poll("poll, SA_RESTART handler", poll(&f, 1, 5000), &f, 1);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    int r = select(p[0] + 1, &rs, NULL, NULL, NULL);
    printf("select, SA_RESTART handler: %d %s\n", r, strerror(errno));
    printf("handled %d\n", handled);

    /* A stop and a continue end the sleep without a handler: poll restarts (restart_syscall)
     * with the end time it had, and select and ppoll restart with the time left. */
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++) {
            usleep(15000);
            kill(parent, SIGSTOP);
            usleep(5000);
            kill(parent, SIGCONT);
            usleep(60000);
        }
        _exit(0);
    }
    show_poll("poll 60 ms through a stop", poll(&f, 1, 60), &f, 1);
    struct timeval tv = {0, 60000};
    r = select(p[0] + 1, &rs, NULL, NULL, &tv);
    printf("select 60 ms through a stop: %d left %ld.%06ld\n", r, (long)tv.tv_sec, (long)tv.tv_usec);
    struct timespec ts = {0, 60000000};
    r = syscall(SYS_ppoll, &f, 1, &ts, NULL, 8);
    printf("ppoll 60 ms through a stop: %d left %ld.%09ld\n", r, (long)ts.tv_sec, (long)ts.tv_nsec);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
}

static void masks(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, empty, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, NULL);
    handled = 0;
    raise(SIGUSR1);

    /* Ready at once: the temporary mask goes without delivering the signal. */
    struct pollfd f = {1, POLLOUT, 0};
    struct timespec ts = {1, 0};
    int r = ppoll(&f, 1, &ts, &empty);
    sigpending(&now);
    printf("ppoll ready: %d handled %d pending %d\n", r, handled, sigismember(&now, SIGUSR1));

    /* Nothing ready: the signal interrupts and its handler runs under the temporary mask. */
    int p[2];
    pipe(p);
    f = (struct pollfd){p[0], POLLIN, 0};
    errno = 0;
    r = ppoll(&f, 1, NULL, &empty);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("ppoll interrupted: %d %s handled %d blocked after %d\n", r, strerror(errno), handled,
           sigismember(&now, SIGUSR1));

    raise(SIGUSR1);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timespec t5 = {5, 0};
    errno = 0;
    r = pselect(p[0] + 1, &rs, NULL, NULL, &t5, &empty);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("pselect interrupted: %d %s handled %d blocked after %d\n", r, strerror(errno), handled,
           sigismember(&now, SIGUSR1));

    /* The raw calls: a sigset size other than 8, an invalid timespec. */
    uint64_t set = 0;
    errno = 0;
    r = syscall(SYS_ppoll, &f, 1, NULL, &set, 4);
    printf("ppoll sigsetsize 4: %d %s\n", r, strerror(errno));
    struct timespec bad = {0, 1000000000};
    errno = 0;
    r = ppoll(&f, 1, &bad, NULL);
    printf("ppoll tv_nsec 1e9: %d %s\n", r, strerror(errno));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    close(p[0]);
    close(p[1]);
}

static void selects(void)
{
    int p[2];
    pipe(p);
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(p[0], &rs);
    FD_SET(p[1], &ws);
    struct timeval tv = {0, 30000};
    int r = select(p[1] + 1, &rs, NULL, NULL, &tv);
    printf("select timeout: %d left %ld.%06ld\n", r, (long)tv.tv_sec, (long)tv.tv_usec);
    FD_SET(p[0], &rs);
    tv = (struct timeval){5, 0};
    r = select(p[1] + 1, &rs, &ws, NULL, &tv);
    printf("select writable: %d r %d w %d left<=5 %d\n", r, FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws),
           tv.tv_sec <= 5 && tv.tv_sec >= 4);
    write(p[1], "z", 1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_SET(p[1], &ws);
    fd_set es;
    FD_ZERO(&es);
    FD_SET(p[0], &es);
    r = select(p[1] + 1, &rs, &ws, &es, NULL);
    printf("select both: %d r %d w %d e %d\n", r, FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws), FD_ISSET(p[0], &es));
    tv = (struct timeval){0, 2000000};
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = select(p[0] + 1, &rs, NULL, NULL, &tv);
    printf("select tv_usec 2e6: %d\n", r);

    FD_ZERO(&rs);
    FD_SET(40, &rs);
    errno = 0;
    r = select(41, &rs, NULL, NULL, NULL);
    printf("select closed fd: %d %s\n", r, strerror(errno));
    errno = 0;
    r = select(-1, NULL, NULL, NULL, NULL);
    printf("select n -1: %d %s\n", r, strerror(errno));
    tv = (struct timeval){0, -1};
    errno = 0;
    r = select(0, NULL, NULL, NULL, &tv);
    printf("select tv_usec -1: %d %s\n", r, strerror(errno));
    tv = (struct timeval){-1, 0};
    errno = 0;
    r = select(0, NULL, NULL, NULL, &tv);
    printf("select tv_sec -1: %d %s\n", r, strerror(errno));
    errno = 0;
    r = select(p[0] + 1, (fd_set *)8, NULL, NULL, NULL);
    printf("select bad set: %d %s\n", r, strerror(errno));
    tv = (struct timeval){0, 0};
    r = select(p[1] + 1, NULL, &ws, NULL, &tv);
    printf("select zero timeout: %d left %ld.%06ld\n", r, (long)tv.tv_sec, (long)tv.tv_usec);
    struct timespec ts = {0, 20000000};
    FD_ZERO(&rs);
    FD_SET(1, &rs);
    FD_ZERO(&ws);
    r = pselect(1, &rs, &ws, NULL, &ts, NULL);
    printf("pselect n 1, stdin not asked: %d\n", r);

#ifdef __i386__
    /* i386's old select takes its arguments in memory; _newselect writes back 32-bit fields. */
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv32 = {3, 0};
    uint32_t args[5] = {(uint32_t)(p[0] + 1), (uint32_t)(uintptr_t)&rs, 0, 0, (uint32_t)(uintptr_t)&tv32};
    r = syscall(SYS_select, args);
    printf("old select: %d r %d left<=3 %d\n", r, FD_ISSET(p[0], &rs), tv32.tv_sec <= 3 && tv32.tv_sec >= 2);
    errno = 0;
    r = syscall(SYS_select, (void *)8);
    printf("old select bad args: %d %s\n", r, strerror(errno));
    char c;
    read(p[0], &c, 1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    tv32 = (struct timeval){0, 20000};
    r = syscall(SYS__newselect, p[0] + 1, &rs, NULL, NULL, &tv32);
    printf("_newselect timeout: %d left %ld.%06ld\n", r, (long)tv32.tv_sec, (long)tv32.tv_usec);
#else
    printf("old select: 1 r 1 left<=3 1\nold select bad args: -1 Bad address\n_newselect timeout: 0 left 0.000000\n");
#endif
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    poll_pipes();
    poll_others();
    wakeups();
    signals();
    masks();
    selects();
    return 0;
}
