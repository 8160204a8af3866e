/* pidfd_open, pidfd_send_signal, pidfd_getfd, waitid(P_PIDFD), poll on a pidfd and
 * CLONE_PIDFD (clone and clone3), with the errno Linux gives for bad arguments. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* One number on both ABIs since Linux 5.1's unified table. */
#define NR_pidfd_send_signal 424
#define NR_pidfd_open 434
#define NR_clone3 435
#define NR_pidfd_getfd 438
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define PIDFD_NONBLOCK_ O_NONBLOCK
#define PIDFD_THREAD_ O_EXCL
#define CLONE_PIDFD_ 0x00001000
#define CLONE_DETACHED_ 0x00400000
#define CLONE_PARENT_SETTID_ 0x00100000

static long pidfd_open(long pid, long flags) { return syscall(NR_pidfd_open, pid, flags); }
static long pidfd_send(long fd, long sig, void *info, long flags) { return syscall(NR_pidfd_send_signal, fd, sig, info, flags); }
static long pidfd_getfd(long fd, long target, long flags) { return syscall(NR_pidfd_getfd, fd, target, flags); }

/* A call's result as the test prints it: ok, a value, or the errno name. */
static const char *res(long r) {
    static char buf[8][32];
    static int i;
    char *b = buf[i++ % 8];
    if (r >= 0) snprintf(b, 32, "ok");
    else snprintf(b, 32, "%s", errno == EINVAL ? "EINVAL" : errno == ESRCH ? "ESRCH" : errno == EBADF ? "EBADF"
                                 : errno == EPERM ? "EPERM" : errno == EFAULT ? "EFAULT" : errno == EAGAIN ? "EAGAIN"
                                 : errno == ECHILD ? "ECHILD" : errno == ENOENT ? "ENOENT" : strerror(errno));
    return b;
}

static int poll_now(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, 0);
    return n > 0 ? p.revents : n;
}

static void open_flags_and_errors(void) {
    long fd = pidfd_open(getpid(), 0);
    printf("pidfd_open(self): %s cloexec=%d accmode_rdwr=%d nonblock=%d\n", res(fd), fcntl(fd, F_GETFD) & FD_CLOEXEC,
           (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
    long nb = pidfd_open(getpid(), PIDFD_NONBLOCK_);
    printf("pidfd_open(self, PIDFD_NONBLOCK): %s nonblock=%d\n", res(nb), !!(fcntl(nb, F_GETFL) & O_NONBLOCK));
    char buf[8];
    printf("read a pidfd: %s\n", res(read(fd, buf, sizeof buf)));
    printf("poll a live process: %d\n", poll_now(fd));
    printf("pidfd_open flags 1: %s\n", res(pidfd_open(getpid(), 1)));
    printf("pidfd_open pid 0: %s\n", res(pidfd_open(0, 0)));
    printf("pidfd_open pid -1: %s\n", res(pidfd_open(-1, 0)));
    printf("pidfd_open no such pid: %s\n", res(pidfd_open(4000000, 0)));
    printf("send signal 0 to self: %s\n", res(pidfd_send(fd, 0, NULL, 0)));
    printf("send flags 8: %s\n", res(pidfd_send(fd, 0, NULL, 8)));
    printf("send flags 3 (two scopes): %s\n", res(pidfd_send(fd, 0, NULL, 3)));
    printf("send signal 100: %s\n", res(pidfd_send(fd, 100, NULL, 0)));
    printf("send through fd -1: %s\n", res(pidfd_send(-1, 0, NULL, 0)));
    printf("send through stdin: %s\n", res(pidfd_send(0, 0, NULL, 0)));
    printf("send with a bad siginfo pointer: %s\n", res(pidfd_send(fd, SIGUSR1, (void *)16, 0)));
    printf("getfd flags 1: %s\n", res(pidfd_getfd(fd, 0, 1)));
    printf("getfd through stdin: %s\n", res(pidfd_getfd(0, 0, 0)));
    printf("getfd of a closed fd: %s\n", res(pidfd_getfd(fd, 999, 0)));
    long own = pidfd_getfd(fd, 1, 0);
    printf("getfd of its own stdout: %s cloexec=%d\n", res(own), fcntl(own, F_GETFD) & FD_CLOEXEC);
    close(own);
    close(nb);

    /* A siginfo sent to itself: kept as given; a mismatched signo is EINVAL. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR2;
    si.si_code = SI_QUEUE;
    printf("send with signo mismatch: %s\n", res(pidfd_send(fd, SIGUSR1, &si, 0)));
    si.si_signo = SIGUSR1;
    si.si_value.sival_int = 1234;
    printf("send SI_QUEUE info to self: %s\n", res(pidfd_send(fd, SIGUSR1, &si, 0)));
    siginfo_t got;
    int sig = sigwaitinfo(&set, &got);
    printf("  received sig=%d code=%d value=%d\n", sig, got.si_code, got.si_value.sival_int);
    printf("send without info to self: %s\n", res(pidfd_send(fd, SIGUSR1, NULL, 0)));
    sig = sigwaitinfo(&set, &got);
    printf("  received sig=%d code=%d pid_ok=%d\n", sig, got.si_code, got.si_pid == getpid());
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    close(fd);
}

/* A thread's tid: EINVAL without PIDFD_THREAD, a pidfd with it. */
static int thread_tid;
static pthread_barrier_t barrier;
static void *thread_main(void *arg) {
    (void)arg;
    thread_tid = (int)syscall(SYS_gettid);
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    return NULL;
}
static void thread_pidfds(void) {
    pthread_t th;
    pthread_barrier_init(&barrier, NULL, 2);
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_barrier_wait(&barrier);
    printf("pidfd_open(a thread): %s\n", res(pidfd_open(thread_tid, 0)));
    long fd = pidfd_open(thread_tid, PIDFD_THREAD_);
    printf("pidfd_open(a thread, PIDFD_THREAD): %s\n", res(fd));
    printf("  poll while it runs: %d\n", poll_now(fd));
    pthread_barrier_wait(&barrier);
    pthread_join(th, NULL);
    struct pollfd p = {(int)fd, POLLIN, 0};
    int n = poll(&p, 1, 5000);
    printf("  poll after it ended: %d in=%d\n", n, !!(p.revents & POLLIN));
    close(fd);
}

/* A child through its life, seen through a pidfd. */
static void child_life(void) {
    int go[2], data[2];
    pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        pipe(data);
        write(data[1], "from child", 10);
        dup2(data[0], 42);
        char c;
        read(go[0], &c, 1);
        pause();
        _exit(0);
    }
    long fd = pidfd_open(pid, 0), nb = pidfd_open(pid, PIDFD_NONBLOCK_);
    printf("child pidfd: %s, poll while it runs: %d\n", res(fd), poll_now(fd));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    long w0 = waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG);
    printf("waitid WNOHANG: %s pid=%d\n", res(w0), si.si_pid);
    printf("waitid on a non-blocking pidfd: %s\n", res(waitid(P_PIDFD, nb, &si, WEXITED)));
    printf("waitid on stdin as a pidfd: %s\n", res(waitid(P_PIDFD, 0, &si, WEXITED)));
    printf("waitid on pidfd -1: %s\n", res(waitid(P_PIDFD, -1, &si, WEXITED)));
    write(go[1], "x", 1);
    long got = -1;
    for (int tries = 0; tries < 5000 && got < 0; ++tries) {  /* until the child has made fd 42 */
        got = pidfd_getfd(fd, 42, 0);
        if (got < 0) usleep(1000);
    }
    char buf[16] = {0};
    read(got, buf, 10);
    printf("getfd of the child's fd 42: cloexec=%d read [%s]\n", fcntl(got, F_GETFD) & FD_CLOEXEC, buf);
    memset(&si, 0, sizeof si);
    si.si_signo = SIGTERM;
    si.si_code = SI_USER;
    printf("send SI_USER info to another process: %s\n", res(pidfd_send(fd, SIGTERM, &si, 0)));
    printf("send SIGTERM: %s\n", res(pidfd_send(fd, SIGTERM, NULL, 0)));
    struct pollfd p = {(int)fd, POLLIN, 0};
    int n = poll(&p, 1, 10000);
    printf("poll after the kill: %d revents in=%d hup=%d\n", n, !!(p.revents & POLLIN), !!(p.revents & POLLHUP));
    printf("send signal 0 to the zombie: %s\n", res(pidfd_send(fd, 0, NULL, 0)));
    printf("getfd of the zombie: %s\n", res(pidfd_getfd(fd, 42, 0)));
    memset(&si, 0, sizeof si);
    long w = waitid(P_PIDFD, fd, &si, WEXITED);
    printf("waitid P_PIDFD: %s pid_ok=%d code=%d status=%d\n", res(w), si.si_pid == pid, si.si_code, si.si_status);
    printf("poll after reaping: in=%d hup=%d\n", !!(poll_now(fd) & POLLIN), !!(poll_now(fd) & POLLHUP));
    printf("send after reaping: %s\n", res(pidfd_send(fd, 0, NULL, 0)));
    printf("getfd after reaping: %s\n", res(pidfd_getfd(fd, 42, 0)));
    printf("waitid after reaping: %s\n", res(waitid(P_PIDFD, fd, &si, WEXITED)));
    printf("pidfd_open after reaping: %s\n", res(pidfd_open(pid, 0)));
    close(fd);
    close(nb);
    close(got);
    close(go[0]);
    close(go[1]);
}

/* struct clone_args, version 0 (64 bytes). */
struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void clone_pidfd(void) {
    int pfd = -1;
    struct clone_args_v0 ca = {0};
    ca.flags = CLONE_PIDFD_;
    ca.pidfd = (uintptr_t)&pfd;
    ca.exit_signal = SIGCHLD;
    long pid = syscall(NR_clone3, &ca, sizeof ca);
    if (pid == 0) _exit(7);
    printf("clone3 CLONE_PIDFD: %s pidfd cloexec=%d\n", res(pid), fcntl(pfd, F_GETFD) & FD_CLOEXEC);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    long w = waitid(P_PIDFD, pfd, &si, WEXITED);
    printf("  waitid P_PIDFD: %s pid_ok=%d status=%d\n", res(w), si.si_pid == pid, si.si_status);
    close(pfd);
    ca.flags = CLONE_PIDFD_ | CLONE_DETACHED_;
    printf("clone3 CLONE_PIDFD|CLONE_DETACHED: %s\n", res(syscall(NR_clone3, &ca, sizeof ca)));
    ca.flags = CLONE_PIDFD_;
    ca.pidfd = 16;
    printf("clone3 CLONE_PIDFD to a bad address: %s\n", res(syscall(NR_clone3, &ca, sizeof ca)));
    printf("  no child was made: %s\n", res(waitpid(-1, NULL, WNOHANG)));

    pfd = -1;  /* clone's parent_tid argument takes the pidfd */
    pid = syscall(SYS_clone, CLONE_PIDFD_ | SIGCHLD, 0, &pfd, 0, 0);
    if (pid == 0) _exit(9);
    memset(&si, 0, sizeof si);
    w = waitid(P_PIDFD, pfd, &si, WEXITED);
    printf("clone CLONE_PIDFD: %s pidfd>2=%d waitid: %s status=%d\n", res(pid), pfd > 2, res(w), si.si_status);
    close(pfd);
    printf("clone CLONE_PIDFD|CLONE_PARENT_SETTID: %s\n",
           res(syscall(SYS_clone, CLONE_PIDFD_ | CLONE_PARENT_SETTID_ | SIGCHLD, 0, &pfd, 0, 0)));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    open_flags_and_errors();
    thread_pidfds();
    child_life();
    clone_pidfd();
    return 0;
}
