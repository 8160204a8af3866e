// A read of an empty stdin pipe (the console) sleeps in the guest: another process runs
// meanwhile and its signal ends the read with EINTR; an SA_RESTART handler runs and the
// read goes on; O_NONBLOCK gives EAGAIN; poll and select time out. Run with stdin an
// empty pipe whose writer stays open (oracle-run --stdin-pipe).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_alrm;
static void on_usr1(int s) { (void)s, ++got_usr1; }
static void on_usr2(int s) { (void)s, ++got_usr2; }
static void on_alrm(int s) { (void)s, ++got_alrm; }

static void handle(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(sig, &sa, 0);
}

// A child that sleeps, then sends sig to its parent (which is blocked in a read by then).
static pid_t signal_parent_later(int sig) {
    pid_t p = fork();
    if (p == 0) {
        usleep(100000);
        kill(getppid(), sig);
        _exit(0);
    }
    return p;
}

static void reap(pid_t p) {
    int st;
    waitpid(p, &st, 0);
    printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void) {
    char b[16];
    setvbuf(stdout, 0, _IONBF, 0);
    handle(SIGUSR1, on_usr1, 0);
    handle(SIGUSR2, on_usr2, SA_RESTART);
    handle(SIGALRM, on_alrm, 0);
    alarm(30);  // only if the reads never end (natively they always do)

    pid_t c = signal_parent_later(SIGUSR1);
    ssize_t n = read(0, b, sizeof b);
    printf("read: %zd %s, usr1 %d\n", n, n < 0 ? strerror(errno) : "", (int)got_usr1);
    reap(c);

    // SA_RESTART: the handler runs and the read sleeps again until the alarm (no SA_RESTART).
    c = signal_parent_later(SIGUSR2);
    alarm(1);
    n = read(0, b, sizeof b);
    printf("restarted read: %zd %s, usr2 %d alrm %d\n", n, n < 0 ? strerror(errno) : "", (int)got_usr2,
           (int)got_alrm);
    reap(c);

    struct pollfd p = {0, POLLIN, 0};
    printf("poll: %d revents %#x\n", poll(&p, 1, 50), p.revents);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(0, &r);
    struct timeval tv = {0, 50000};
    printf("select: %d\n", select(1, &r, 0, 0, &tv));

    int fl = fcntl(0, F_GETFL);
    fcntl(0, F_SETFL, fl | O_NONBLOCK);
    n = read(0, b, sizeof b);
    printf("nonblocking read: %zd %s\n", n, n < 0 ? strerror(errno) : "");
    fcntl(0, F_SETFL, fl);
    return 0;
}
