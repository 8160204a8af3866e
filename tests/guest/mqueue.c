/* POSIX message queues: priorities (highest first, FIFO within one), the QSIZE line read()
 * gives, poll, O_NONBLOCK and mq_setattr, the close-on-exec descriptor, the errno of each
 * failing call in Linux's order, mq_notify with SIGEV_SIGNAL and SIGEV_NONE (once, only into
 * an empty queue, EBUSY for another process, cancelled by the owner's close), SIGEV_THREAD's
 * socket checks, a receive and a send that sleep until another process acts, timeouts,
 * RLIMIT_MSGQUEUE and /proc/sys/fs/mqueue. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case EMSGSIZE: return "EMSGSIZE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOENT: return "ENOENT";
    case ENOTSOCK: return "ENOTSOCK";
    case EACCES: return "EACCES";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EINTR: return "EINTR";
    default: return "other";
    }
}

#define SHOW(label, expr)                                                        \
    do {                                                                         \
        errno = 0;                                                               \
        long r_ = (long)(expr);                                                  \
        printf("%-34s %ld %s\n", label, r_ < 0 ? -1L : r_, ename(r_ < 0 ? errno : 0)); \
    } while (0)

static char name[64], name2[64];

/* The QSIZE line with the notifying pid shown as self/none/other. */
static void show_line(mqd_t q, const char *when)
{
    char buf[128] = {0};
    lseek(q, 0, SEEK_SET);
    ssize_t n = read(q, buf, sizeof buf - 1);
    unsigned long qsize;
    int notify, signo, pid;
    if (n <= 0 || sscanf(buf, "QSIZE:%lu NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qsize, &notify, &signo, &pid) != 4) {
        printf("%s: bad line (%zd)\n", when, n);
        return;
    }
    printf("%s: len %zd QSIZE %lu NOTIFY %d SIGNO %d PID %s\n", when, n, qsize, notify, signo,
           pid == 0 ? "none" : pid == getpid() ? "self" : "other");
}

static void show_poll(mqd_t q, const char *when)
{
    struct pollfd p = {q, POLLIN | POLLOUT, 0};
    int r = poll(&p, 1, 0);
    printf("poll %s: %d%s%s\n", when, r, (p.revents & POLLIN) ? " IN" : "", (p.revents & POLLOUT) ? " OUT" : "");
}

static void priorities(void)
{
    struct mq_attr attr = {0, 4, 16, 0};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    printf("open: %s cloexec %d\n", q >= 0 ? "ok" : ename(errno), fcntl(q, F_GETFD));
    struct stat st;
    fstat(q, &st);
    printf("fstat: reg %d mode %o size %lld\n", S_ISREG(st.st_mode), (unsigned)(st.st_mode & 07777),
           (long long)st.st_size);
    show_poll(q, "empty");
    show_line(q, "empty");
    const char *text[] = {"one", "five-a", "five-b", "zero", "three"};
    unsigned prio[] = {1, 5, 5, 0, 3};
    for (int i = 0; i < 4; i++) SHOW("send", mq_send(q, text[i], strlen(text[i]), prio[i]));
    show_poll(q, "full");
    show_line(q, "four");
    struct mq_attr got;
    mq_getattr(q, &got);
    printf("attr: flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_flags, got.mq_maxmsg, got.mq_msgsize,
           got.mq_curmsgs);
    struct mq_attr nb = {O_NONBLOCK, 0, 0, 0}, old;
    SHOW("setattr nonblock", mq_setattr(q, &nb, &old));
    printf("old flags %ld\n", old.mq_flags);
    SHOW("send full nonblock", mq_send(q, "x", 1, 0));
    SHOW("fcntl sees O_NONBLOCK", (fcntl(q, F_GETFL) & O_NONBLOCK) != 0);
    struct mq_attr bad = {O_RDWR | 1, 0, 0, 0};
    SHOW("setattr bad flags", mq_setattr(q, &bad, NULL));
    char buf[32];
    SHOW("receive short buffer", mq_receive(q, buf, 15, NULL));
    SHOW("send too long", mq_send(q, "0123456789abcdefg", 17, 0));
    SHOW("send prio 32768", mq_send(q, "x", 1, 32768));
    struct timespec bad_ts = {0, 1000000000};
    SHOW("send bad timeout", mq_timedsend(q, "x", 1, 0, &bad_ts));
    for (int i = 0; i < 5; i++) {
        unsigned p = 99;
        if (i == 2) SHOW("send into room", mq_send(q, text[4], strlen(text[4]), prio[4]));
        memset(buf, 0, sizeof buf);
        ssize_t n = mq_receive(q, buf, sizeof buf, &p);
        printf("receive: %zd prio %u '%s'\n", n, p, n > 0 ? buf : ename(errno));
    }
    SHOW("receive empty nonblock", mq_receive(q, buf, sizeof buf, NULL));
    show_line(q, "drained");
    SHOW("close", mq_close(q));
    mq_unlink(name);
}

static void errors(void)
{
    SHOW("open missing", mq_open(name2, O_RDWR));
    char longname[300];
    longname[0] = '/';
    memset(longname + 1, 'n', 260);
    longname[261] = 0;
    SHOW("open long name", mq_open(longname, O_RDWR | O_CREAT, 0600, NULL));
    SHOW("open slash inside", mq_open("/a/b", O_RDWR | O_CREAT, 0600, NULL));
    struct mq_attr zero = {0, 0, 16, 0}, huge = {0, 100000, 16, 0}, bigmsg = {0, 4, 20000000, 0};
    SHOW("open maxmsg 0", mq_open(name2, O_RDWR | O_CREAT, 0600, &zero));
    SHOW("open maxmsg 100000", mq_open(name2, O_RDWR | O_CREAT, 0600, &huge));
    SHOW("open msgsize 20M", mq_open(name2, O_RDWR | O_CREAT, 0600, &bigmsg));
    SHOW("open bad attr pointer", syscall(SYS_mq_open, name2 + 1, O_RDWR | O_CREAT, 0600, (void *)8));
    mqd_t q = mq_open(name2, O_WRONLY | O_CREAT, 0644, NULL);
    struct mq_attr got;
    mq_getattr(q, &got);
    printf("default attr: maxmsg %ld msgsize %ld\n", got.mq_maxmsg, got.mq_msgsize);
    SHOW("open again excl", mq_open(name2, O_RDWR | O_CREAT | O_EXCL, 0600, NULL));
    SHOW("open accmode 3", mq_open(name2, O_RDWR | O_WRONLY));
    char buf[8192];
    SHOW("receive on write-only", mq_receive(q, buf, sizeof buf, NULL));
    mqd_t r = mq_open(name2, O_RDONLY);
    SHOW("send on read-only", mq_send(r, "x", 1, 0));
    struct timespec past = {1, 0};
    SHOW("timedreceive past", mq_timedreceive(r, buf, sizeof buf, NULL, &past));
    struct timespec soon;
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_nsec += 30000000;
    if (soon.tv_nsec >= 1000000000) {
        soon.tv_sec++;
        soon.tv_nsec -= 1000000000;
    }
    SHOW("timedreceive 30ms", mq_timedreceive(r, buf, sizeof buf, NULL, &soon));
    SHOW("timedsend past into room", mq_timedsend(q, "x", 1, 0, &past));
    int p[2];
    pipe(p);
    SHOW("send on a pipe", mq_send(p[1], "x", 1, 0));
    SHOW("getattr on a pipe", mq_getattr(p[0], &got));
    SHOW("notify on a pipe", mq_notify(p[0], NULL));
    SHOW("send on a closed fd", mq_send(1000, "x", 1, 0));
    SHOW("unlink", mq_unlink(name2));
    SHOW("unlink again", mq_unlink(name2));
    SHOW("send after unlink", mq_send(q, "y", 1, 0));
    SHOW("receive after unlink", mq_receive(r, buf, sizeof buf, NULL));
    mq_close(q);
    mq_close(r);
    close(p[0]);
    close(p[1]);

    struct rlimit old, none;
    getrlimit(RLIMIT_MSGQUEUE, &old);
    none = old;
    none.rlim_cur = 0;
    setrlimit(RLIMIT_MSGQUEUE, &none);
    SHOW("open over RLIMIT_MSGQUEUE", mq_open(name2, O_RDWR | O_CREAT, 0600, NULL));
    SHOW("its name was not made", mq_open(name2, O_RDWR));
    setrlimit(RLIMIT_MSGQUEUE, &old);
}

static void notify(void)
{
    struct mq_attr attr = {0, 4, 16, 0};
    mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
    printf("open for notify: %s\n", q >= 0 ? "ok" : ename(errno));
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);

    struct sigevent bad = {0};
    bad.sigev_notify = 77;
    SHOW("notify bad kind", mq_notify(q, &bad));
    bad.sigev_notify = SIGEV_SIGNAL;
    bad.sigev_signo = 65;
    SHOW("notify signal 65", mq_notify(q, &bad));

    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 4242;
    SHOW("notify SIGUSR1", mq_notify(q, &ev));
    SHOW("notify again", mq_notify(q, &ev));
    show_line(q, "registered");
    pid_t pid = fork();
    if (pid == 0) {
        errno = 0;
        int r = mq_notify(q, &ev);
        _exit(r == -1 && errno == EBUSY ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child sees EBUSY: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    SHOW("send", mq_send(q, "a", 1, 0));
    siginfo_t si;
    struct timespec zero = {0, 0};
    int sig = sigtimedwait(&usr1, &si, &zero);
    printf("signal %d code %d value %d pid self %d\n", sig, si.si_code, si.si_value.sival_int, si.si_pid == getpid());
    show_line(q, "after notify");
    SHOW("send into non-empty", mq_send(q, "b", 1, 0));
    SHOW("re-register", mq_notify(q, &ev));
    SHOW("send (not empty: no signal)", mq_send(q, "c", 1, 0));
    sig = sigtimedwait(&usr1, &si, &zero);
    printf("signal: %d\n", sig);
    char buf[16];
    for (int i = 0; i < 3; i++) SHOW("drain", mq_receive(q, buf, sizeof buf, NULL));
    mqd_t dup = mq_open(name, O_RDWR);
    close(dup);  /* the owner's close cancels the registration */
    show_line(q, "after owner's close");

    ev.sigev_notify = SIGEV_NONE;
    SHOW("notify none", mq_notify(q, &ev));
    show_line(q, "none registered");
    SHOW("send", mq_send(q, "d", 1, 0));
    show_line(q, "none consumed");
    SHOW("unregister when not owner", mq_notify(q, NULL));
    SHOW("notify SIGEV_NONE again", mq_notify(q, &ev));
    SHOW("unregister", mq_notify(q, NULL));
    show_line(q, "unregistered");

    /* SIGEV_THREAD's socket, checked as the raw call gives it (no library thread). */
    char cookie[32] = {0};
    int p[2], s[2];
    pipe(p);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
    struct sigevent th = {0};
    th.sigev_notify = SIGEV_THREAD;
    th.sigev_value.sival_ptr = cookie;
    th.sigev_signo = 999;
    SHOW("thread: no fd", syscall(SYS_mq_notify, q, &th));
    th.sigev_signo = p[0];
    SHOW("thread: a pipe", syscall(SYS_mq_notify, q, &th));
    th.sigev_signo = s[0];
    SHOW("thread: an AF_UNIX socket", syscall(SYS_mq_notify, q, &th));
    th.sigev_value.sival_ptr = (void *)8;
    SHOW("thread: bad cookie", syscall(SYS_mq_notify, q, &th));
    close(p[0]);
    close(p[1]);
    close(s[0]);
    close(s[1]);
    mq_close(q);
    mq_unlink(name);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
}

static void sleepers(void)
{
    struct mq_attr attr = {0, 1, 16, 0};
    mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
    printf("open for sleepers: %s\n", q >= 0 ? "ok" : ename(errno));
    pid_t pid = fork();
    if (pid == 0) {
        usleep(20000);
        mq_send(q, "from child", 10, 7);
        mq_send(q, "second", 6, 2); /* the queue holds one: the second waits */
        mq_send(q, "third", 5, 9);
        _exit(0);
    }
    char buf[16];
    unsigned p;
    for (int i = 0; i < 3; i++) {
        memset(buf, 0, sizeof buf);
        ssize_t n = mq_receive(q, buf, sizeof buf, &p);
        printf("slept receive: %zd prio %u '%s'\n", n, p, buf);
        if (i == 0) usleep(20000);
    }
    waitpid(pid, NULL, 0);
    mq_close(q);
    mq_unlink(name);
}

static void sysctls(void)
{
    const char *files[] = {"msg_max", "msgsize_max", "queues_max", "msg_default", "msgsize_default"};
    for (int i = 0; i < 5; i++) {
        char path[64], buf[32] = {0};
        snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", files[i]);
        int fd = open(path, O_RDONLY);
        read(fd, buf, sizeof buf - 1);
        close(fd);
        printf("%s = %s", files[i], buf);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    snprintf(name, sizeof name, "/%s.%d", base, getpid());
    snprintf(name2, sizeof name2, "/%s.%d.b", base, getpid());
    umask(022);
    priorities();
    errors();
    notify();
    sleepers();
    sysctls();
    mq_unlink(name);
    mq_unlink(name2);
    return 0;
}
