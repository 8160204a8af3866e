/* signalfd: its checks (flags, mask size, descriptors), the signalfd_siginfo of kill,
 * sigqueue and a POSIX timer, several records in one read, EAGAIN and short reads, a
 * changed mask, poll and epoll readiness, and a blocking read woken by another process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static void show(const char *what, const struct signalfd_siginfo *s)
{
    printf("%s: signo %u code %d pid ok %d uid ok %d int %d overrun %u\n", what, s->ssi_signo, s->ssi_code,
           s->ssi_pid == (uint32_t)getpid(), s->ssi_uid == getuid(), s->ssi_int, s->ssi_overrun);
}

int main(void)
{
    sigset_t mask;
    struct signalfd_siginfo rec[3];
    int r;

    printf("record size: %zu\n", sizeof(struct signalfd_siginfo));
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGRTMIN);
    sigaddset(&mask, SIGRTMIN + 3);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    errno = 0;
    printf("bad flags: %s\n", err(signalfd(-1, &mask, 1)));
    errno = 0;
    printf("mask size 4: %s\n", err(syscall(SYS_signalfd4, -1, &mask, 4, 0)));
    errno = 0;
    printf("bad mask pointer: %s\n", err(syscall(SYS_signalfd4, -1, (void *)8, 8, 0)));
    errno = 0;
    printf("bad fd: %s\n", err(signalfd(999, &mask, 0)));
    int p[2];
    pipe(p);
    errno = 0;
    printf("a pipe's fd: %s\n", err(signalfd(p[0], &mask, 0)));

    int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("create: %s, O_NONBLOCK %d, cloexec %d\n", err(fd), !!(fcntl(fd, F_GETFL) & O_NONBLOCK),
           fcntl(fd, F_GETFD));
    errno = 0;
    printf("read with nothing pending: %s\n", err(read(fd, rec, sizeof rec)));
    errno = 0;
    printf("short read: %s\n", err(read(fd, rec, sizeof rec[0] - 1)));
    struct pollfd pfd = {fd, POLLIN, 0};
    printf("poll empty: %d\n", poll(&pfd, 1, 0));

    kill(getpid(), SIGUSR1);
    r = poll(&pfd, 1, 0);
    printf("poll pending: %d revents %#x\n", r, pfd.revents);
    r = read(fd, rec, sizeof rec);
    printf("read: %d\n", r);
    show("kill", &rec[0]);

    union sigval v;
    v.sival_int = 7;
    sigqueue(getpid(), SIGRTMIN, v);
    v.sival_int = 8;
    sigqueue(getpid(), SIGRTMIN, v);
    r = read(fd, rec, sizeof rec);
    printf("read of two queued: %d bytes\n", r);
    show("sigqueue 1", &rec[0]);
    show("sigqueue 2", &rec[1]);

    /* A signal outside the mask is not read. */
    sigaddset(&mask, SIGUSR2);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    kill(getpid(), SIGUSR2);
    errno = 0;
    printf("SIGUSR2 not in the mask: %s\n", err(read(fd, rec, sizeof rec)));
    sigset_t m2;
    sigemptyset(&m2);
    sigaddset(&m2, SIGUSR2);
    printf("new mask returns the fd: %d\n", signalfd(fd, &m2, 0) == fd);
    r = read(fd, rec, sizeof rec);
    printf("read after the new mask: %d signo %u\n", r, rec[0].ssi_signo);

    /* A POSIX timer's signal. */
    sigemptyset(&m2);
    sigaddset(&m2, SIGRTMIN + 3);
    signalfd(fd, &m2, 0);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN + 3;
    sev.sigev_value.sival_int = 99;
    timer_t tid;
    timer_create(CLOCK_MONOTONIC, &sev, &tid);
    struct itimerspec its = {{0, 0}, {0, 2000000}};
    timer_settime(tid, 0, &its, NULL);
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    r = read(fd, rec, sizeof rec);
    printf("timer read: %d\n", r);
    printf("timer: signo ok %d code %d int %d overrun %u\n", rec[0].ssi_signo == (unsigned)SIGRTMIN + 3,
           rec[0].ssi_code, rec[0].ssi_int, rec[0].ssi_overrun);
    timer_delete(tid);

    /* A blocking read that another process's kill ends, and epoll. */
    sigemptyset(&m2);
    sigaddset(&m2, SIGUSR1);
    signalfd(fd, &m2, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 5};
    printf("epoll_ctl: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)));
    struct epoll_event out;
    printf("epoll empty: %d\n", epoll_wait(ep, &out, 1, 0));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        kill(getppid(), SIGUSR1);
        nanosleep(&ts, NULL);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    r = epoll_wait(ep, &out, 1, -1);
    printf("epoll_wait: %d data %u\n", r, out.data.u32);
    r = read(fd, rec, sizeof rec);
    printf("read: %d signo %u from the child %d\n", r, rec[0].ssi_signo, rec[0].ssi_pid == (uint32_t)child);
    r = read(fd, rec, sizeof rec);
    printf("blocking read: %d signo %u from the child %d\n", r, rec[0].ssi_signo, rec[0].ssi_pid == (uint32_t)child);
    waitpid(child, NULL, 0);
    return 0;
}
