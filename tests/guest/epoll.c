/* epoll: create/create1, the errno of every epoll_ctl rule (EBADF, EPERM, EINVAL, EEXIST,
 * ENOENT, ELOOP, EFAULT, EPOLLEXCLUSIVE's), level- and edge-triggered and one-shot items, the
 * order of the ready list, maxevents, hang-ups, the end of a watch at the last close, timeouts,
 * a wait woken by another process, signals and epoll_pwait/epoll_pwait2's masks, nested
 * epoll, and epoll with poll and select. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static volatile int handled;
static void on_signal(int sig) { (void)sig; handled++; }
static struct epoll_event *volatile bad_events = (struct epoll_event *)8;
static volatile int minus_one = -1;

static void result(const char *what, long r)
{
    if (r < 0) printf("%s: %ld %s\n", what, r, strerror(errno));
    else printf("%s: %ld\n", what, r);
    errno = 0;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void wait_show(const char *what, int ep, int max, int timeout)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, max, timeout);
    printf("%s: %d", what, n);
    if (n < 0) printf(" %s", strerror(errno));
    for (int i = 0; i < n; i++) printf(" {%#x %llu}", ev[i].events, (unsigned long long)ev[i].data.u64);
    printf("\n");
    errno = 0;
}

static void ctl_errors(void)
{
    int r0 = epoll_create(0);  /* musl's wrapper makes one anyway */
    result("epoll_create(0) >= 0 or error", r0 < 0 ? r0 : 0);
    if (r0 >= 0) close(r0);
    int ep = epoll_create(1);
    result("epoll_create1(1)", epoll_create1(1));
    int epc = epoll_create1(EPOLL_CLOEXEC);
    printf("EPOLL_CLOEXEC: %d\n", fcntl(epc, F_GETFD));
    int p[2];
    pipe(p);
    result("bad epfd", add(99, p[0], EPOLLIN, 0));
    result("bad fd", add(ep, 99, EPOLLIN, 0));
    char path[] = "/tmp/emu-epoll-XXXXXX";
    int reg = mkstemp(path);
    unlink(path);
    result("regular file", add(ep, reg, EPOLLIN, 0));
    int null = open("/dev/null", O_RDONLY);
    result("/dev/null", add(ep, null, EPOLLIN, 0));
    result("itself", add(ep, ep, EPOLLIN, 0));
    result("epfd not epoll", add(p[0], p[1], EPOLLIN, 0));
    result("add", add(ep, p[0], EPOLLIN, 1));
    result("add again", add(ep, p[0], EPOLLIN, 1));
    result("del missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    struct epoll_event ev = {.events = EPOLLOUT};
    result("mod missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
    result("op 9", epoll_ctl(ep, 9, p[1], &ev));
    result("add, bad event", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (struct epoll_event *)8));
    result("del, no event", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    result("exclusive|oneshot", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0));
    result("exclusive|rdhup", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 0));
    result("exclusive|et", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLET, 0));
    ev.events = EPOLLIN;
    result("mod of exclusive", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    result("mod to exclusive", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    int ep2 = epoll_create1(0);
    result("exclusive on an epoll", add(ep, ep2, EPOLLIN | EPOLLEXCLUSIVE, 0));
    result("ep2 in ep", add(ep, ep2, EPOLLIN, 2));
    result("ep in ep2 (loop)", add(ep2, ep, EPOLLIN, 3));
    int ep3 = epoll_create1(0);
    result("ep3 in ep2", add(ep2, ep3, EPOLLIN, 4));
    result("ep in ep3 (longer loop)", add(ep3, ep, EPOLLIN, 5));
    result("wait maxevents 0", epoll_wait(ep, &ev, 0, 0));
    result("wait maxevents -1", epoll_wait(ep, &ev, minus_one, 0));
    result("wait bad events", epoll_wait(ep, bad_events, 1, 0));
    result("wait on a pipe", epoll_wait(p[0], &ev, 1, 0));
    result("wait bad epfd", epoll_wait(99, &ev, 1, 0));
    char c;
    result("read an epoll fd", read(ep, &c, 1));
    result("lseek an epoll fd", lseek(ep, 5, SEEK_SET));
    close(ep);
    close(ep2);
    close(ep3);
    close(epc);
    close(p[0]);
    close(p[1]);
    close(reg);
    close(null);
}

static void triggers(void)
{
    int ep = epoll_create1(0);
    int lt[2], et[2], os[2];
    pipe(lt);
    pipe(et);
    pipe(os);
    add(ep, lt[0], EPOLLIN, 10);
    add(ep, et[0], EPOLLIN | EPOLLET, 20);
    add(ep, os[0], EPOLLIN | EPOLLONESHOT, 30);
    wait_show("nothing yet", ep, 8, 0);
    write(os[1], "o", 1);
    write(lt[1], "l", 1);
    write(et[1], "e", 1);
    wait_show("all three", ep, 8, 0);
    wait_show("level-triggered again", ep, 8, 0);
    write(et[1], "e", 1);
    write(os[1], "o", 1);
    wait_show("edge after a write, one-shot disabled", ep, 8, 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 31};
    epoll_ctl(ep, EPOLL_CTL_MOD, os[0], &ev);
    wait_show("one-shot re-armed", ep, 8, 0);
    wait_show("maxevents 1", ep, 1, 0);
    wait_show("maxevents 1 again", ep, 1, 0);
    char buf[8];
    read(lt[0], buf, sizeof buf);
    wait_show("level drained", ep, 8, 0);
    close(lt[1]);
    wait_show("writer gone", ep, 8, 0);
    ev.events = EPOLLOUT;
    ev.data.u64 = 40;
    epoll_ctl(ep, EPOLL_CTL_ADD, et[1], &ev);
    close(et[0]);
    wait_show("reader gone, last close of et[0]", ep, 8, 0);
    ev.events = EPOLLIN;
    ev.data.u64 = 32;
    epoll_ctl(ep, EPOLL_CTL_MOD, os[0], &ev);
    int d = dup(os[0]);
    close(os[0]);
    wait_show("os[0] closed, its dup open", ep, 8, 0);
    close(d);
    wait_show("last close", ep, 8, 0);
    close(lt[0]);
    close(et[1]);
    close(os[1]);

    /* A full pipe's write end, edge-triggered: ready again when a read makes room. */
    int p[2];
    pipe2(p, O_NONBLOCK);
    char page[4096] = {0};
    while (write(p[1], page, sizeof page) > 0) {
    }
    add(ep, p[1], EPOLLOUT | EPOLLET, 50);
    wait_show("full pipe", ep, 8, 0);
    read(p[0], page, sizeof page);
    wait_show("room again", ep, 8, 0);
    wait_show("edge consumed", ep, 8, 0);
    close(p[0]);
    close(p[1]);

    /* eventfd, edge-triggered on input: a read does not report input again. */
    int e = eventfd(0, EFD_NONBLOCK);
    add(ep, e, EPOLLIN | EPOLLET, 60);
    uint64_t v = 2;
    write(e, &v, 8);
    wait_show("eventfd written", ep, 8, 0);
    read(e, &v, 8);
    wait_show("eventfd read", ep, 8, 0);
    close(e);
    close(ep);
}

static void order(void)
{
    int ep = epoll_create1(0);
    int p[3][2];
    for (int i = 0; i < 3; i++) {
        pipe(p[i]);
        add(ep, p[i][0], EPOLLIN, 100 + i);
    }
    write(p[2][1], "x", 1);
    write(p[0][1], "x", 1);
    write(p[1][1], "x", 1);
    wait_show("ready order", ep, 8, 0);
    for (int i = 0; i < 4; i++) wait_show("one at a time", ep, 1, 0);
    for (int i = 0; i < 3; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    close(ep);
}

static void sleeping(void)
{
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 7);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wait_show("timeout 30 ms", ep, 8, 30);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("waited at least 30 ms: %d\n", ms >= 29);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(20000);
        write(p[1], "w", 1);
        _exit(0);
    }
    wait_show("woken by a child's write", ep, 8, -1);
    waitpid(pid, NULL, 0);
    char c;
    read(p[0], &c, 1);

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    wait_show("SIGALRM, SA_RESTART", ep, 8, -1);
    printf("handled %d\n", handled);

    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, empty, now;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    struct epoll_event ev[4];
    int n = epoll_pwait(ep, ev, 4, -1, &empty);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("epoll_pwait: %d %s handled %d blocked after %d\n", n, strerror(errno), handled, sigismember(&now, SIGUSR1));
    write(p[1], "r", 1);
    raise(SIGUSR1);
    n = epoll_pwait(ep, ev, 4, -1, &empty);
    sigpending(&now);
    printf("epoll_pwait ready: %d handled %d pending %d\n", n, handled, sigismember(&now, SIGUSR1));
    read(p[0], &c, 1);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    struct { int64_t tv_sec, tv_nsec; } ts = {0, 20000000};  /* __kernel_timespec on both ABIs */
    errno = 0;
    n = syscall(SYS_epoll_pwait2, ep, ev, 4, &ts, NULL, 8);
    printf("epoll_pwait2 20 ms: %d\n", n);
    ts.tv_nsec = 1000000000;
    errno = 0;
    n = syscall(SYS_epoll_pwait2, ep, ev, 4, &ts, NULL, 8);
    printf("epoll_pwait2 tv_nsec 1e9: %d %s\n", n, strerror(errno));
    uint64_t set = 0;
    errno = 0;
    n = syscall(SYS_epoll_pwait2, ep, ev, 4, NULL, &set, 4);
    printf("epoll_pwait2 sigsetsize 4: %d %s\n", n, strerror(errno));
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void nested(void)
{
    int outer = epoll_create1(0), inner = epoll_create1(0);
    int p[2];
    pipe(p);
    add(inner, p[0], EPOLLIN, 1);
    add(outer, inner, EPOLLIN, 2);
    struct pollfd pf = {inner, POLLIN | POLLOUT, 0};
    int r = poll(&pf, 1, 0);
    printf("poll inner, empty: %d %#x\n", r, pf.revents);
    wait_show("outer, empty", outer, 8, 0);
    write(p[1], "n", 1);
    r = poll(&pf, 1, 0);
    printf("poll inner, data: %d %#x\n", r, pf.revents);
    wait_show("outer, data", outer, 8, 0);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(outer, &rs);
    struct timeval tv = {0, 0};
    printf("select outer: %d\n", select(outer + 1, &rs, NULL, NULL, &tv));
    wait_show("inner", inner, 8, 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        usleep(20000);
        read(p[0], &c, 1);
        usleep(20000);
        write(p[1], "m", 1);
        _exit(0);
    }
    usleep(50000);
    wait_show("outer after the child read and wrote", outer, 8, -1);
    waitpid(pid, NULL, 0);
    close(inner);
    wait_show("outer after the inner's last close", outer, 8, 0);
    close(outer);
    close(p[0]);
    close(p[1]);
}

/* ep_loop_check's depth limit: a chain of eventpolls may be EP_MAX_NESTS (4) deep below the
 * one that waits, counting those above the one added to as well as those below. */
static void depth(void)
{
    int p[2], ep[7];
    pipe(p);
    for (int i = 0; i < 7; i++) ep[i] = epoll_create1(0);
    add(ep[0], p[0], EPOLLIN, 0);
    for (int i = 1; i < 7; i++) {
        char what[64];
        snprintf(what, sizeof what, "chain of %d epolls: add epoll %d", i + 1, i - 1);
        struct epoll_event ev = {EPOLLIN, {.u64 = i}};
        result(what, epoll_ctl(ep[i], EPOLL_CTL_ADD, ep[i - 1], &ev));
    }
    /* Adding to the middle of a chain counts the epolls above the target too. */
    int a = epoll_create1(0), b = epoll_create1(0), x = epoll_create1(0), y = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = 9}};
    result("b watches a", epoll_ctl(b, EPOLL_CTL_ADD, a, &ev));
    result("x watches b", epoll_ctl(x, EPOLL_CTL_ADD, b, &ev));
    result("y watches x", epoll_ctl(y, EPOLL_CTL_ADD, x, &ev));
    result("a watches ep[2] (2 epolls below it, 3 above a)", epoll_ctl(a, EPOLL_CTL_ADD, ep[2], &ev));
    result("a watches ep[1] (1 epoll below it, 3 above a)", epoll_ctl(a, EPOLL_CTL_ADD, ep[1], &ev));
    result("a watches ep[0] (none below it, 3 above a)", epoll_ctl(a, EPOLL_CTL_ADD, ep[0], &ev));
    for (int i = 0; i < 7; i++) close(ep[i]);
    close(a), close(b), close(x), close(y);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    ctl_errors();
    triggers();
    order();
    sleeping();
    nested();
    depth();
    return 0;
}
